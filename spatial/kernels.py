"""Compiled per-row loops of the interest manager (numba, one core, no threads).

Numpy does the manager's whole-array work (moves, grid builds, wide sorts).
What is left is work per observer row on a few dozen entries, where numpy's
fixed cost per call and its extra passes over memory dominate: measured on
the 10k-avatar, 1k-observer bench, the band pass cost 0.55 ms in numpy and
0.08 ms here. These loops do exactly what the vectorised code they replace
did: distances are computed with the operations of
:func:`spatial.hashgrid.distances_to`, in the same order and in float32, so
they are bit-identical (``tests/spatial/test_kernels.py`` checks this).

Every function is compiled when this module is imported (explicit
signatures), and the machine code is cached next to the module, so only the
first import on a machine pays the compile.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba
import numpy as np

# A sort key packs a float32 distance's bits, a slot and two flag bits:
# ``bits << 32 | slot << 8 | flags`` (bit 0 visible, bit 1 in X).
SLOT_BITS = 24
SLOT_MASK = (1 << SLOT_BITS) - 1

_F = TypeVar("_F", bound=Callable[..., Any])


def _compiled(signature: str) -> Callable[[_F], _F]:
    """numba's ``njit`` for one signature, cached on disk; keeps the Python type."""

    def wrap(fn: _F) -> _F:
        jit = numba.njit(signature, cache=True, nogil=True, boundscheck=False, error_model="numpy")
        return cast(_F, jit(fn))

    return wrap


@numba.njit(cache=True, nogil=True, inline="always")
def _distance(pos: Any, e: Any, x0: Any, z0: Any) -> Any:
    """Float32 distance from ``(x0, z0)`` to entity ``e``: the operations of
    :func:`spatial.hashgrid.distances_to`, in the same order."""
    dx = pos[e, 0] - x0
    dz = pos[e, 1] - z0
    dx = dx * dx
    dz = dz * dz
    return np.sqrt(dx + dz)


@numba.njit(cache=True, nogil=True, inline="always")
def _separates(reach: float, low: float, after: float, upto: float, radius: float) -> bool:
    """Whether a row's X is still its core plus the nearest band entries.

    ``reach``: farthest a core entry can be now (-inf: no core); ``low``:
    nearest a spare or unlisted entity can be; ``after``/``upto``: this
    tick's first band distance beyond X's ranks and the last one within
    them. Core entries stay in X if they stay in range and no band entry X
    has no room for, and no spare or unlisted entity, can be closer; spare
    and unlisted entities stay out of X if they are out of range or the core
    and the band's X entries are all closer.
    """
    core_ok = reach <= radius and after >= reach and low > reach
    out_ok = low > radius or (upto < low and reach < low)
    return core_ok and out_ok


@numba.njit(cache=True, nogil=True, inline="always")
def _hysteresis(
    n: int, n_x: int, room: int, was_vis: Any, was_inx: Any, dist: Any, outer: Any, now: Any
) -> None:
    """V_t of ``spatial.interest``'s docstring into ``now[:n]``, for entries
    sorted nearest first of which X is the first ``n_x``: A (in X, and in X
    or visible before) stays; then the nearest of B (visible before, out of
    X, within ``outer``), then of C (new in X), while ``room`` places last.
    """
    na = 0
    for j in range(n_x):
        if was_vis[j] or was_inx[j]:
            na += 1
    free = room - na
    for j in range(n):
        if j < n_x:
            now[j] = was_vis[j] or was_inx[j]
        elif was_vis[j] and dist[j] <= outer and free > 0:
            now[j] = True
            free -= 1
        else:
            now[j] = False
    for j in range(n_x):
        if free <= 0:
            break
        if not now[j]:
            now[j] = True
            free -= 1


_BAND_SIG = (
    "Tuple((int64, int64))("
    "float32[:, ::1], int64[::1], float32[::1], float32[::1], float64[::1],"  # pos..delta
    "int32[:, ::1], boolean[:, ::1], boolean[:, ::1], int64[::1],"  # vent, vmask, xmask, ncore
    "float64[::1], float64[::1], float64[::1], float64[::1], float64[::1],"  # cmax..qfar
    "int32[:, ::1], float32[::1], float32[::1], float64[::1], float64,"  # spare, anchors, dsum
    "int64, int64, int64, int64, float32, float32, float64,"  # k bw pc ps radius outer eps
    "boolean[::1], int64[::1], int64[::1], boolean[::1])"  # holds, events
)


@_compiled(_BAND_SIG)
def band_tick(
    pos: Any,
    rows: Any,
    ox: Any,
    oz: Any,
    delta: Any,
    vent: Any,
    vmask: Any,
    xmask: Any,
    ncore: Any,
    cmax: Any,
    cin: Any,
    sout: Any,
    dout: Any,
    qfar: Any,
    spare: Any,
    anc_x: Any,
    anc_z: Any,
    anc_d: Any,
    dsum: float,
    k: int,
    bw: int,
    pc: int,
    ps: int,
    radius: Any,
    outer: Any,
    eps: float,
    holds: Any,
    ev_row: Any,
    ev_ent: Any,
    ev_now: Any,
) -> tuple[int, int]:
    """Measure the band of ``rows`` and run hysteresis where it still separates.

    The band columns of ``vent``/``vmask``/``xmask`` are kept sorted by
    (distance, slot) in place, so the next tick's sort has little to do.
    Rows whose band no longer separates core from spare get the re-base
    probe (the fast-path comment in ``spatial.interest``); ``holds[i]`` says whether row
    ``rows[i]`` was settled (its anchor bounds are updated when re-based).
    Flag changes go to ``ev_*`` as (row, slot, now visible). Returns
    ``(events, rebased rows)``.
    """
    radius64 = np.float64(radius)
    dd = np.empty(bw, np.float32)
    dbits = dd.view(np.uint32)
    key = np.empty(bw, np.int64)
    now = np.empty(bw, np.bool_)
    nev = 0
    nreb = 0
    for i in range(rows.size):
        r = rows[i]
        x0 = ox[r]
        z0 = oz[r]
        ve = vent[r]
        vm = vmask[r]
        xm = xmask[r]
        # keys (distance bits, slot, flags), insertion-sorted: the band is
        # still sorted from the last tick, so few entries move
        for j in range(bw):
            e = ve[j]
            dd[j] = _distance(pos, e, x0, z0)
        for j in range(bw):
            kj = (np.int64(dbits[j]) << 32) | (np.int64(ve[j]) << 8)
            key[j] = kj | np.int64(vm[j]) | (np.int64(xm[j]) << 1)
        for j in range(1, bw):
            kj = key[j]
            q = j - 1
            while q >= 0 and key[q] > kj:
                key[q + 1] = key[q]
                q -= 1
            key[q + 1] = kj
        for j in range(bw):
            kj = key[j]
            dbits[j] = np.uint32(kj >> 32)
            ve[j] = np.int32((kj >> 8) & SLOT_MASK)
            vm[j] = (kj & 1) != 0
            xm[j] = (kj & 2) != 0
        # X takes the band's first ``room`` ranks that are in range
        room = k - ncore[r]
        n_x = 0
        while n_x < min(room, bw) and dd[n_x] <= radius:
            n_x += 1
        settled = True  # X as before and V was X: hysteresis changes nothing
        for j in range(bw):
            settled &= (vm[j] == (j < n_x)) & (xm[j] == (j < n_x))
        dl = delta[r]
        after = np.inf if room >= bw else np.float64(dd[max(room, 0)])
        if room <= 0:
            upto = -np.inf
        elif room > bw:
            upto = np.inf
        else:
            upto = np.float64(dd[room - 1])
        ok = _separates(cmax[r] + dl + eps, dout[r] - dl - eps, after, upto, radius64)
        if not ok:
            # re-base: measure the outer core and the inner spare exactly now
            cin2 = cin[r] + dl
            cmax2 = -np.inf
            nc = min(pc, ncore[r])
            for j in range(nc):
                e = ve[bw + j]
                dc = np.float64(_distance(pos, e, x0, z0))
                if dc > cmax2:
                    cmax2 = dc
            cmax2 = max(cmax2, cin2)
            qf2 = qfar[r] - dl
            sout2 = sout[r] - dl
            dout2 = min(sout2, qf2)
            sp = spare[r]
            for j in range(ps):
                e = sp[j]
                ds = np.float64(_distance(pos, e, x0, z0))
                if ds < dout2:
                    dout2 = ds
            if _separates(cmax2 + eps, dout2 - eps, after, upto, radius64):
                ok = True
                nreb += 1
                cmax[r] = cmax2
                cin[r] = cin2
                sout[r] = sout2
                dout[r] = dout2
                qfar[r] = qf2
                anc_x[r] = x0
                anc_z[r] = z0
                anc_d[r] = dsum
        holds[i] = ok
        if not ok or settled:
            continue
        _hysteresis(bw, n_x, room, vm, xm, dd, outer, now)
        for q in range(bw):
            if now[q] != vm[q]:
                ev_row[nev] = r
                ev_ent[nev] = ve[q]
                ev_now[nev] = now[q]
                nev += 1
            vm[q] = now[q]
            xm[q] = q < n_x
    return nev, nreb


_KEYS_SIG = (
    "void(float32[:, ::1], int64[::1], float32[::1], float32[::1],"  # pos rows ox oz
    "int32[:, ::1], boolean[:, ::1], boolean[:, ::1],"  # vent, vmask, xmask
    "int32[:, ::1], int64[:, ::1], int64[:, ::1], int64, int64[:, ::1])"  # tail, ov, cap, out
)


@_compiled(_KEYS_SIG)
def list_keys(
    pos: Any,
    rows: Any,
    ox: Any,
    oz: Any,
    vent: Any,
    vmask: Any,
    xmask: Any,
    tail: Any,
    ov_ent: Any,
    ov_flag: Any,
    cap: int,
    keys: Any,
) -> None:
    """Sort keys of every listed candidate of ``rows`` (row ``i`` of ``keys``).

    A key packs the float32 distance bits, the slot and the entry's old flags
    (bit 0 visible, bit 1 in X): ``bits << 32 | slot << 8 | flags``. The
    candidates are the band and core of ``vent``, then ``tail`` (spare or a
    fresh query), then the overflow entries ``ov_*``; ``cap`` pads.
    """
    wv = vent.shape[1]
    bw = xmask.shape[1]
    wt = tail.shape[1]
    wo = ov_ent.shape[1]
    dbits = np.empty(1, np.float32)
    ubits = dbits.view(np.uint32)
    for i in range(rows.size):
        r = rows[i]
        x0 = ox[r]
        z0 = oz[r]
        out = keys[i]
        for j in range(wv + wt + wo):
            if j < wv:
                e = np.int64(vent[r, j])
                vis = vmask[r, j]
                inx = xmask[r, j] if j < bw else vis
                flags = np.int64(vis) | (np.int64(inx) << 1)
            elif j < wv + wt:
                e = np.int64(tail[i, j - wv])
                flags = np.int64(0)
            else:
                e = ov_ent[i, j - wv - wt]
                flags = ov_flag[i, j - wv - wt]
            dbits[0] = _distance(pos, e, x0, z0)
            out[j] = (np.int64(ubits[0]) << 32) | (e << 8) | flags
        for j in range(wv + wt + wo, out.size):
            out[j] = (np.int64(0x7F800000) << 32) | (np.int64(cap) << 8)


_EVAL_SIG = (
    "int64(int64[:, ::1], int64[::1], float64[::1], float32[::1], float32[::1], float64,"
    "int64, int64, int64, int64, int64, int64, float32, float32, int64,"  # k..cap
    "int32[:, ::1], boolean[:, ::1], boolean[:, ::1], int32[:, ::1],"  # vent vmask xmask spare
    "int64[::1], float64[::1], float64[::1], float64[::1], float64[::1],"  # ncore..dout
    "boolean[::1], float64[::1], float64[::1],"  # dirty qfar kth
    "float32[::1], float32[::1], float64[::1], boolean[::1],"  # anc_x anc_z anc_d fresh
    "boolean[::1], int64[::1], int64[::1], int64[::1], boolean[::1], int64[::1])"  # out
)


@_compiled(_EVAL_SIG)
def list_eval(
    keys: Any,
    rows: Any,
    qfar_in: Any,
    ox: Any,
    oz: Any,
    dsum: float,
    k: int,
    bw: int,
    inner: int,
    ns: int,
    pc: int,
    ps: int,
    radius: Any,
    outer: Any,
    cap: int,
    vent: Any,
    vmask: Any,
    xmask: Any,
    spare: Any,
    ncore: Any,
    cmax: Any,
    cin: Any,
    sout: Any,
    dout: Any,
    dirty: Any,
    qfar: Any,
    kth: Any,
    anc_x: Any,
    anc_z: Any,
    anc_d: Any,
    fresh: Any,
    ok: Any,
    ev_row: Any,
    ev_ent: Any,
    ev_flag: Any,
    ev_changed: Any,
    counts: Any,
) -> int:
    """Evaluate sorted candidate ``keys`` (from :func:`list_keys`) row by row
    and store each row it proves exact.

    Row ``i`` of ``keys`` belongs to row ``rows[i]`` of the state arrays;
    ``qfar_in[i]`` bounds every unlisted entity. It re-anchors (see the
    fast-path comment in ``spatial.interest``): merges an entry listed twice
    (flags or-ed), finds X (the first ``k`` within ``radius``), proves it
    exact against ``qfar_in`` (``ok[i]``; an unproven row is left untouched),
    runs hysteresis over the whole list, splits it into band, core (outermost
    first) and spare with the anchor bounds, and re-anchors the row at
    ``(ox, oz)`` and ``dsum``. Events go to ``ev_*``: entries whose
    visibility changed (``ev_changed``, ``ev_flag`` = now visible) and flagged
    entries beyond the band (overflow, ``ev_flag`` = visible | in X << 1).
    Returns the number of events; ``counts[0]`` is how many are overflow.
    """
    width = keys.shape[1]
    dist = np.empty(width, np.float32)
    dbits = dist.view(np.uint32)
    slot = np.empty(width, np.int64)
    now = np.empty(width, np.bool_)
    was_vis = np.empty(width, np.bool_)
    was_inx = np.empty(width, np.bool_)
    radius64 = np.float64(radius)
    nev = 0
    nov = 0
    sentinel_hi = (np.int64(0x7F800000) << 24) | np.int64(cap)
    for i in range(rows.size):
        r = rows[i]
        kr = keys[i]
        # unique entries in (distance, slot) order; a repeated entry or-s its flags
        u = 0
        for j in range(width):
            hi_bits = kr[j] >> 8
            if hi_bits == sentinel_hi:
                break
            if u > 0 and (kr[j - 1] >> 8) == hi_bits:
                was_vis[u - 1] |= (kr[j] & 1) != 0
                was_inx[u - 1] |= (kr[j] & 2) != 0
                continue
            dbits[u] = np.uint32(kr[j] >> 32)
            slot[u] = hi_bits & SLOT_MASK
            was_vis[u] = (kr[j] & 1) != 0
            was_inx[u] = (kr[j] & 2) != 0
            u += 1
        # X: the first k within range; exact only if no unlisted entity could
        # be among the k nearest in range
        n_x = 0
        while n_x < min(k, u) and dist[n_x] <= radius:
            n_x += 1
        dk1 = np.float64(dist[k - 1]) if n_x >= k else np.inf
        ok[i] = qfar_in[i] > radius64 or dk1 < qfar_in[i]
        if not ok[i]:
            continue
        _hysteresis(u, n_x, k, was_vis, was_inx, dist, outer, now)
        last = -1
        first_out = u
        for j in range(u):
            if now[j] != was_vis[j]:
                ev_row[nev] = r
                ev_ent[nev] = slot[j]
                ev_flag[nev] = now[j]
                ev_changed[nev] = True
                nev += 1
            if now[j] or j < n_x:
                last = j
            if first_out == u and not (now[j] and j < n_x):
                first_out = j
        # split: core (settled members), band (around the k-th and every
        # flagged entry), spare (the next ranks)
        lo = max(max(n_x - inner, 0), last - bw + 1)
        lo = min(lo, first_out)
        hi = lo + bw
        dirty[r] = last >= hi
        for j in range(hi, last + 1):
            if now[j] or j < n_x:
                ev_row[nev] = r
                ev_ent[nev] = slot[j]
                ev_flag[nev] = np.int64(now[j]) | (np.int64(j < n_x) << 1)
                ev_changed[nev] = False
                nev += 1
                nov += 1
        for j in range(bw):
            rank = lo + j
            if rank < u:
                vent[r, j] = slot[rank]
                vmask[r, j] = now[rank]
                xmask[r, j] = rank < n_x
            else:
                vent[r, j] = cap
                vmask[r, j] = False
                xmask[r, j] = False
        for j in range(k):
            if j < lo:
                vent[r, bw + j] = slot[lo - 1 - j]
                vmask[r, bw + j] = True
            else:
                vent[r, bw + j] = cap
                vmask[r, bw + j] = False
        for j in range(ns):
            rank = hi + j
            spare[r, j] = slot[rank] if rank < u else cap
        # bounds, from the anchored distances (inf past the list)
        q = qfar_in[i]
        if hi + ns < u:
            q = min(q, np.float64(dist[hi + ns]))
        qfar[r] = q
        dout[r] = min(np.float64(dist[hi]), q) if hi < u else q
        cmax[r] = np.float64(dist[lo - 1]) if lo > 0 else -np.inf
        cin[r] = np.float64(dist[lo - 1 - pc]) if lo > pc else -np.inf
        if ps >= ns:
            sout[r] = q
        else:
            sout[r] = min(np.float64(dist[hi + ps]), q) if hi + ps < u else q
        kth[r] = min(dk1, radius64)
        ncore[r] = lo
        anc_x[r] = ox[r]
        anc_z[r] = oz[r]
        anc_d[r] = dsum
        fresh[r] = False
    counts[0] = nov
    return nev


_COVER_SIG = (
    "Tuple((int64[::1], int64[::1], int64[::1], int64[::1]))("
    "float32[::1], float32[::1], float64[::1], float64, float64, float64, int64, int64)"
)


@_compiled(_COVER_SIG)
def grid_cover(
    qx: Any,
    qz: Any,
    reach: Any,
    origin_x: float,
    origin_z: float,
    cell: float,
    width: int,
    height: int,
) -> Any:
    """Cell ranges of a grid covering each query's square of half-side
    ``reach``: ``(x_lo, x_hi, z_lo, nrows)``; ``nrows`` is 0 for a square that
    misses the grid (one beyond its far edge would otherwise clip onto the
    last column or row). Every point whose float32 distance is within
    ``reach`` is covered."""
    nq = qx.size
    inv = 1.0 / cell
    x_lo = np.zeros(nq, np.int64)
    x_hi = np.zeros(nq, np.int64)
    z_lo = np.zeros(nq, np.int64)
    nrows = np.zeros(nq, np.int64)
    for q in range(nq):
        x = np.float64(qx[q])
        z = np.float64(qz[q])
        # widened a hair: float32 distances round (and underflow near 0), so a
        # point just outside the exact square can still measure within reach
        r = reach[q] * (1.0 + 1e-6) + 1e-6
        x0 = min(max(np.floor((x - r - origin_x) * inv), 0), width - 1)
        x1 = min(max(np.floor((x + r - origin_x) * inv), -1), width - 1)
        z0 = min(max(np.floor((z - r - origin_z) * inv), 0), height - 1)
        z1 = min(max(np.floor((z + r - origin_z) * inv), -1), height - 1)
        outside = x + r < origin_x or z + r < origin_z
        outside = outside or (x - r - origin_x) * inv >= width
        outside = outside or (z - r - origin_z) * inv >= height
        x_lo[q] = np.int64(x0)
        x_hi[q] = np.int64(x1)
        z_lo[q] = np.int64(z0)
        if not (outside or x1 < x0 or z1 < z0):
            nrows[q] = np.int64(z1) - np.int64(z0) + 1
    return x_lo, x_hi, z_lo, nrows


@numba.njit(cache=True, nogil=True, inline="always")
def _cell_run(cell_start: Any, keys: Any, dense: bool, key_lo: int, key_hi: int) -> Any:
    """``(start, end)`` of the sorted points in cells ``key_lo..key_hi`` of a grid row."""
    if dense:
        return cell_start[key_lo], cell_start[key_hi + 1]
    return np.searchsorted(keys, key_lo, side="left"), np.searchsorted(keys, key_hi, side="right")


_GRID_SIG = (
    "int32[:, ::1](int64[::1], int64[::1], boolean, float64, float64, float64, int64, int64,"
    "int32[::1], float32[:, ::1], float32[::1], float32[::1], float64[::1],"
    "float64[::1], int64[::1], int32)"
)


@_compiled(_GRID_SIG)
def grid_within(
    cell_start: Any,
    keys: Any,
    dense: bool,
    origin_x: float,
    origin_z: float,
    cell: float,
    width: int,
    height: int,
    ids: Any,
    pos: Any,
    qx: Any,
    qz: Any,
    reach: Any,
    within: Any,
    exclude: Any,
    fill: int,
) -> Any:
    """Per query, the ids in the cells its square of half-side ``reach``
    overlaps (:func:`grid_cover`) that are within ``within`` now.

    Cells are a :class:`~spatial.hashgrid.HashGrid`'s (``cell_start`` when
    ``dense``, else its sorted ``keys``); distances use the current positions
    ``pos`` of each id. Row ``q`` of the result lists the ids with distance
    ``<= within[q]`` other than ``exclude[q]``, padded with ``fill``.
    """
    x_lo, x_hi, z_lo, nrows = grid_cover(qx, qz, reach, origin_x, origin_z, cell, width, height)
    nq = qx.size
    room = np.zeros(nq, np.int64)
    for q in range(nq):
        for row in range(nrows[q]):
            base = (z_lo[q] + row) * width
            start, end = _cell_run(cell_start, keys, dense, base + x_lo[q], base + x_hi[q])
            room[q] += end - start
    out = np.full((nq, max(room.max(), 1) if nq else 1), fill, np.int32)
    wmax = 1
    for q in range(nq):
        x0 = qx[q]
        z0 = qz[q]
        n = 0
        for row in range(nrows[q]):
            base = (z_lo[q] + row) * width
            start, end = _cell_run(cell_start, keys, dense, base + x_lo[q], base + x_hi[q])
            for p in range(start, end):
                e = ids[p]
                if _distance(pos, e, x0, z0) <= within[q] and e != exclude[q]:
                    out[q, n] = e
                    n += 1
        wmax = max(wmax, n)
    return out[:, :wmax].copy()


@_compiled("Tuple((int64[::1], int32[::1]))(int32[:, ::1], boolean[:, ::1])")
def masked_rows(ent: Any, mask: Any) -> tuple[Any, Any]:
    """CSR of the entries of ``ent`` where ``mask`` is set, row by row: ``(ptr, values)``."""
    n, w = ent.shape
    ptr = np.zeros(n + 1, np.int64)
    for i in range(n):
        c = 0
        for j in range(w):
            c += mask[i, j]
        ptr[i + 1] = ptr[i] + c
    out = np.empty(ptr[n], np.int32)
    p = 0
    for i in range(n):
        for j in range(w):
            if mask[i, j]:
                out[p] = ent[i, j]
                p += 1
    return ptr, out


_MOVE_SIG = (
    "Tuple((float32[:, ::1], float32, int64[::1], int64[::1]))("
    "float32[:, ::1], boolean[::1], float32[:, ::1], boolean[::1], float32)"
)


@_compiled(_MOVE_SIG)
def move(positions: Any, active: Any, prev: Any, was: Any, jump2: Any) -> Any:
    """One tick's positions with a far sentinel, and who jumped.

    Returns ``(pos, step2, old, new)``: ``pos`` has one more row than
    ``positions`` (inactive slots and the sentinel are at infinity);
    ``step2`` is the largest squared step of a slot active on both ticks that
    moved at most ``sqrt(jump2)``; every other slot "jumped": ``old`` are those
    of them active before, ``new`` those active now.
    """
    cap = active.size
    pos = np.full((cap + 1, 2), np.inf, np.float32)
    step2 = np.float32(0.0)
    nold = 0
    nnew = 0
    moved = np.zeros(cap, np.bool_)
    for i in range(cap):
        if active[i]:
            pos[i, 0] = positions[i, 0]
            pos[i, 1] = positions[i, 1]
        dx = pos[i, 0] - prev[i, 0]
        dz = pos[i, 1] - prev[i, 1]
        dx = dx * dx
        dz = dz * dz
        s = dx + dz
        if s <= jump2:
            step2 = max(step2, s)
        else:  # a jump, a join, a leave or nan (inactive on either tick)
            moved[i] = True
            nold += was[i]
            nnew += active[i]
    old = np.empty(nold, np.int64)
    new = np.empty(nnew, np.int64)
    a = 0
    b = 0
    for i in range(cap):
        if moved[i]:
            if was[i]:
                old[a] = i
                a += 1
            if active[i]:
                new[b] = i
                b += 1
    return pos, step2, old, new


@_compiled("Tuple((int64[::1], int32[::1]))(int64[::1], int64[::1], int64)")
def group_rows(row: Any, ent: Any, n: int) -> tuple[Any, Any]:
    """CSR over ``n`` rows of the items ``(row[i], ent[i])``, in item order within a row."""
    ptr = np.zeros(n + 1, np.int64)
    for i in range(row.size):
        ptr[row[i] + 1] += 1
    for r in range(n):
        ptr[r + 1] += ptr[r]
    fill = ptr[:n].copy()
    out = np.empty(row.size, np.int32)
    for i in range(row.size):
        r = row[i]
        out[fill[r]] = ent[i]
        fill[r] += 1
    return ptr, out


@_compiled("int64(float32[:, ::1], boolean[::1], int32[::1], boolean[::1])")
def check_inputs(positions: Any, active: Any, observers: Any, seen: Any) -> int:
    """0 when the inputs are sound, else what is wrong first: 1 an observer slot
    out of range, 2 an observer listed twice, 3 an active slot not finite.
    ``seen`` is all False scratch of one entry per slot, left all False.
    """
    cap = active.size
    for i in range(observers.size):
        if observers[i] < 0 or observers[i] >= cap:
            return 1
    bad = 0
    n = 0
    for i in range(observers.size):
        if seen[observers[i]]:
            bad = 2
            break
        seen[observers[i]] = True
        n += 1
    for i in range(n):
        seen[observers[i]] = False
    if bad:
        return bad
    for i in range(cap):
        if active[i] and not (np.isfinite(positions[i, 0]) and np.isfinite(positions[i, 1])):
            return 3
    return 0


_PLAN_SIG = (
    "Tuple((float32[::1], float32[::1], boolean[::1], float64[::1], boolean[::1], boolean[::1],"
    " int64[::1], int64[::1]))("
    "float32[:, ::1], int32[::1], boolean[::1], float32[::1], float32[::1], float64[::1],"
    " float64, boolean[::1], boolean[::1])"
)


@_compiled(_PLAN_SIG)
def plan(
    pos: Any,
    observers: Any,
    active: Any,
    anc_x: Any,
    anc_z: Any,
    anc_d: Any,
    dsum: float,
    dirty: Any,
    fresh: Any,
) -> Any:
    """Per observer row, what this tick must do before any jumper is known.

    Returns ``(ox, oz, oact, delta, due, rebuild, steady, gone)``: the
    observer's position and activity; ``delta``, how far any listed distance
    can have moved since the row's anchor (observer displacement plus the
    growth of ``dsum``; inf for a row never anchored); ``due``, active rows
    that must be re-anchored (dirty, or no finite bound); ``rebuild``, the due
    rows that are fresh; ``steady``, the active rows that are not due;
    ``gone``, inactive rows that had state.
    """
    n = observers.size
    ox = np.empty(n, np.float32)
    oz = np.empty(n, np.float32)
    oact = np.empty(n, np.bool_)
    delta = np.empty(n, np.float64)
    due = np.zeros(n, np.bool_)
    rebuild = np.zeros(n, np.bool_)
    nsteady = 0
    ngone = 0
    for i in range(n):
        o = observers[i]
        ox[i] = pos[o, 0]
        oz[i] = pos[o, 1]
        oact[i] = active[o]
        d = np.float64(np.hypot(ox[i] - anc_x[i], oz[i] - anc_z[i]))
        delta[i] = d + dsum - anc_d[i]
        if oact[i]:
            due[i] = dirty[i] or not np.isfinite(delta[i])
            rebuild[i] = due[i] and fresh[i]
            nsteady += not due[i]
        else:
            ngone += not fresh[i]
    steady = np.empty(nsteady, np.int64)
    gone = np.empty(ngone, np.int64)
    a = 0
    b = 0
    for i in range(n):
        if oact[i] and not due[i]:
            steady[a] = i
            a += 1
        elif not oact[i] and not fresh[i]:
            gone[b] = i
            b += 1
    return ox, oz, oact, delta, due, rebuild, steady, gone
