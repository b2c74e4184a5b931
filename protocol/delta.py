"""Delta state frames: distance-rated, change-only, int8 deltas (protocol v4).

`DeltaFrameEncoder` builds, like `protocol.frames.StateFrameEncoder`, one
frame per observer per tick, but sends less:

* **Rate by distance.** An entity within ``near_m`` of the observer (or
  flagged ``full_rate``: the stage speaker) is *due* every tick; beyond, every
  2, 4 or 8 ticks for distances up to 2x, 4x and beyond 4x ``near_m``. The
  period is ``1 << shift``; an entity is due on ticks where
  ``(tick + (id & 7)) % period == 0``, so a view's far entities spread over
  the ticks.
* **Only changes.** A due entity whose quantised position and yaw equal what
  this observer last received is left out. An entity that just entered the
  view counts as received at its ``enter`` position.
* **Deltas.** A changed entity whose previous position came from a frame and
  moved at most 127 cm (x and z) is sent as an int8 centimetre delta,
  otherwise as absolute int16 centimetres.
* **Rate changes** are announced (``ri``/``rs``) so the client can
  interpolate each entity over its own update interval.
* A frame with nothing in it is not sent (`encode` returns None for it),
  except a heartbeat ``{"t": "f", "k": tick}`` when nothing was written to
  the observer for ``heartbeat`` ticks (the client's clock follows ``k``).

What each observer last received is kept per (observer, visible entity) pair
in numpy arrays and updated in one compiled pass per tick. It is committed
with :meth:`DeltaFrameEncoder.commit` only for the frames that were written:
the connection is reliable and ordered, so a skipped frame simply leaves the
state alone and a later frame carries the change. Every `encode` must be
followed by one `commit` before the next `encode`.

The wire format is documented in `protocol.frames`; frames are byte-for-byte
what ``msgpack.packb(frame, use_bin_type=True)`` gives for the same map.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise
from typing import Any, TypeVar, cast

import numba
import numpy as np
from numpy.typing import NDArray

from protocol.frames import quantise_positions, quantise_yaw

__all__ = ["MAX_SHIFT", "DeltaFrameEncoder"]

MAX_SHIFT = 3
"""The slowest rate: every ``1 << MAX_SHIFT`` = 8 ticks."""

_F = TypeVar("_F", bound=Callable[..., Any])


def _compiled(signature: str) -> Callable[[_F], _F]:
    def wrap(fn: _F) -> _F:
        jit = numba.njit(signature, cache=True, nogil=True, boundscheck=False, error_model="numpy")
        return cast(_F, jit(fn))

    return wrap


@numba.njit(cache=True, nogil=True, inline="always")
def _put_key(out: Any, w: Any, a: Any, b: Any) -> Any:
    """A one- or two-letter fixstr key (``b`` 0: one letter)."""
    if b == 0:
        out[w] = 0xA1
        out[w + 1] = a
        return w + 2
    out[w] = 0xA2
    out[w + 1] = a
    out[w + 2] = b
    return w + 3


@numba.njit(cache=True, nogil=True, inline="always")
def _put_bin(out: Any, w: Any, n: Any) -> Any:
    """The minimal msgpack bin header for ``n`` bytes."""
    if n <= 0xFF:
        out[w] = 0xC4
        out[w + 1] = n
        return w + 2
    if n <= 0xFFFF:
        out[w] = 0xC5
        out[w + 1] = (n >> 8) & 0xFF
        out[w + 2] = n & 0xFF
        return w + 3
    out[w] = 0xC6
    out[w + 1] = (n >> 24) & 0xFF
    out[w + 2] = (n >> 16) & 0xFF
    out[w + 3] = (n >> 8) & 0xFF
    out[w + 4] = n & 0xFF
    return w + 5


@numba.njit(cache=True, nogil=True, inline="always")
def _put_uint(out: Any, w: Any, v: Any) -> Any:
    """The minimal msgpack encoding of ``0 <= v < 2**32``."""
    if v < 0x80:
        out[w] = v
        return w + 1
    if v <= 0xFF:
        out[w] = 0xCC
        out[w + 1] = v
        return w + 2
    if v <= 0xFFFF:
        out[w] = 0xCD
        out[w + 1] = (v >> 8) & 0xFF
        out[w + 2] = v & 0xFF
        return w + 3
    out[w] = 0xCE
    out[w + 1] = (v >> 24) & 0xFF
    out[w + 2] = (v >> 16) & 0xFF
    out[w + 3] = (v >> 8) & 0xFF
    out[w + 4] = v & 0xFF
    return w + 5


@numba.njit(cache=True, nogil=True, inline="always")
def _put_u32(out: Any, w: Any, v: Any) -> Any:
    out[w] = v & 0xFF
    out[w + 1] = (v >> 8) & 0xFF
    out[w + 2] = (v >> 16) & 0xFF
    out[w + 3] = (v >> 24) & 0xFF
    return w + 4


@numba.njit(cache=True, nogil=True, inline="always")
def _put_u16(out: Any, w: Any, v: Any) -> Any:
    out[w] = v & 0xFF
    out[w + 1] = (v >> 8) & 0xFF
    return w + 2


_KIND_ABS = 1
_KIND_DELTA = 2
_RATE_FLAG = 4


@_compiled(
    "int64(int64, int64, int64, float64, int32[:], int64[:], int32[:], uint32[:], int16[:],"
    " int16[:], uint16[:], float32[:, :], uint8[:], int32[:], int64[:], int32[:], int16[:],"
    " int16[:], uint16[:], uint8[:], uint8[:], int64[:], int32[:], uint8[:], uint8[:],"
    " int64[:], int16[:], int16[:], uint16[:], uint8[:], uint8[:], int16[:], int16[:],"
    " uint16[:], uint8[:], uint8[:], int64[:])"
)
def _encode_rows(
    tick: Any,
    wire_tick: Any,
    heartbeat: Any,
    near2: Any,
    obs: Any,
    ptr: Any,
    vis: Any,
    ids: Any,
    qx: Any,
    qz: Any,
    qr: Any,
    pos: Any,
    full: Any,
    prev_row: Any,
    prev_ptr: Any,
    prev_vis: Any,
    px: Any,
    pz: Any,
    pr_: Any,
    ps: Any,
    pb: Any,
    prev_last: Any,
    lookup: Any,
    kinds: Any,
    out: Any,
    off: Any,
    ox_: Any,
    oz_: Any,
    or_: Any,
    os_: Any,
    ob_: Any,
    nx: Any,
    nz: Any,
    nr_: Any,
    ns: Any,
    nb: Any,
    row_last: Any,
) -> Any:
    """Every observer row's frame into ``out`` (``off``: n + 1 offsets; an empty
    slice: nothing to send), and each pair's state if its frame is not written
    (``o*``) or is (``n*``): quantised x, z, yaw, rate shift, based (the client
    holds a position from a frame). ``row_last``: the row's last written tick
    before this one."""
    n = obs.shape[0]
    w = 0
    off[0] = 0
    for j in range(n):
        o = obs[j]
        prow = prev_row[o]
        if prow >= 0:
            for q in range(prev_ptr[prow], prev_ptr[prow + 1]):
                lookup[prev_vis[q]] = q
            last = prev_last[prow]
        else:
            last = tick - heartbeat
        row_last[j] = last
        x0 = np.float64(pos[o, 0])
        z0 = np.float64(pos[o, 1])
        na = 0
        nd = 0
        nrate = 0
        s = ptr[j]
        t_end = ptr[j + 1]
        for q in range(s, t_end):
            e = vis[q]
            m = lookup[e] if prow >= 0 else -1
            cx = qx[e]
            cz = qz[e]
            cr = qr[e]
            if m >= 0:
                lx = px[m]
                lz = pz[m]
                lr = pr_[m]
                ls = ps[m]
                lb = pb[m]
            else:  # entered this tick: the enter message carried the position
                lx = cx
                lz = cz
                lr = cr
                ls = 0
                lb = 0
            ox_[q] = lx
            oz_[q] = lz
            or_[q] = lr
            os_[q] = ls
            ob_[q] = lb
            shift = 0
            if full[e] == 0:
                dx = np.float64(pos[e, 0]) - x0
                dz = np.float64(pos[e, 1]) - z0
                d2 = dx * dx + dz * dz
                if d2 > near2:
                    shift = 1
                    if d2 > 4.0 * near2:
                        shift = 2
                        if d2 > 16.0 * near2:
                            shift = 3
            kind = 0
            if ((tick + (ids[e] & 7)) & ((1 << shift) - 1)) == 0 and (
                cx != lx or cz != lz or cr != lr
            ):
                ddx = np.int32(cx) - np.int32(lx)
                ddz = np.int32(cz) - np.int32(lz)
                if lb != 0 and -128 <= ddx <= 127 and -128 <= ddz <= 127:
                    kind = _KIND_DELTA
                    nd += 1
                else:
                    kind = _KIND_ABS
                    na += 1
                nx[q] = cx
                nz[q] = cz
                nr_[q] = cr
                nb[q] = 1
            else:
                nx[q] = lx
                nz[q] = lz
                nr_[q] = lr
                nb[q] = lb
            ns[q] = shift
            if shift != ls:
                kind |= _RATE_FLAG
                nrate += 1
            kinds[q] = kind
        if prow >= 0:
            for q in range(prev_ptr[prow], prev_ptr[prow + 1]):
                lookup[prev_vis[q]] = -1
        ne = na + nd
        if ne + nrate == 0 and tick - last < heartbeat:
            off[j + 1] = w
            continue
        keys = 2
        if ne:
            keys += 2
        if na:
            keys += 1
        if nd:
            keys += 1
        if nrate:
            keys += 2
        out[w] = 0x80 | keys
        w = _put_key(out, w + 1, 0x74, 0)  # "t"
        w = _put_key(out, w, 0x66, 0)  # the value "f" (same bytes as a key)
        w = _put_key(out, w, 0x6B, 0)  # "k"
        w = _put_uint(out, w, wire_tick)
        # the layout first (bin headers), then one pass over the row fills it
        wi = wp = wd = wr = wri = wrs = 0
        if ne:
            w = _put_key(out, w, 0x69, 0)  # "i": absolute entries, then delta entries
            w = _put_bin(out, w, 4 * ne)
            wi = w
            w += 4 * ne
        if na:
            w = _put_key(out, w, 0x70, 0)  # "p"
            w = _put_bin(out, w, 4 * na)
            wp = w
            w += 4 * na
        if nd:
            w = _put_key(out, w, 0x64, 0)  # "d"
            w = _put_bin(out, w, 2 * nd)
            wd = w
            w += 2 * nd
        if ne:
            w = _put_key(out, w, 0x72, 0)  # "r"
            w = _put_bin(out, w, 2 * ne)
            wr = w
            w += 2 * ne
        if nrate:
            w = _put_key(out, w, 0x72, 0x69)  # "ri"
            w = _put_bin(out, w, 4 * nrate)
            wri = w
            w += 4 * nrate
            w = _put_key(out, w, 0x72, 0x73)  # "rs"
            w = _put_bin(out, w, nrate)
            wrs = w
            w += nrate
        ia = wi  # next absolute id, its yaw
        ra = wr
        idl = wi + 4 * na  # next delta id, its yaw
        rd = wr + 2 * na
        for q in range(s, t_end):
            kind = kinds[q]
            if kind == 0:
                continue
            k = kind & 3
            if k == _KIND_ABS:
                _put_u32(out, ia, ids[vis[q]])
                ia += 4
                _put_u16(out, wp, np.uint16(nx[q]))
                _put_u16(out, wp + 2, np.uint16(nz[q]))
                wp += 4
                _put_u16(out, ra, nr_[q])
                ra += 2
            elif k == _KIND_DELTA:
                _put_u32(out, idl, ids[vis[q]])
                idl += 4
                out[wd] = np.uint8((np.int32(nx[q]) - np.int32(ox_[q])) & 0xFF)
                out[wd + 1] = np.uint8((np.int32(nz[q]) - np.int32(oz_[q])) & 0xFF)
                wd += 2
                _put_u16(out, rd, nr_[q])
                rd += 2
            if kind & _RATE_FLAG:
                _put_u32(out, wri, ids[vis[q]])
                wri += 4
                out[wrs] = ns[q]
                wrs += 1
        off[j + 1] = w
    return w


@_compiled(
    "void(int64[:], int64[:], int16[:], int16[:], uint16[:], uint8[:], uint8[:],"
    " int16[:], int16[:], uint16[:], uint8[:], uint8[:])"
)
def _restore_rows(
    rows: Any,
    ptr: Any,
    ox_: Any,
    oz_: Any,
    or_: Any,
    os_: Any,
    ob_: Any,
    nx: Any,
    nz: Any,
    nr_: Any,
    ns: Any,
    nb: Any,
) -> None:
    """The state of ``rows`` back to what it was (their frames were not written)."""
    for j in rows:
        for q in range(ptr[j], ptr[j + 1]):
            nx[q] = ox_[q]
            nz[q] = oz_[q]
            nr_[q] = or_[q]
            ns[q] = os_[q]
            nb[q] = ob_[q]


def _frame_bound(count: int) -> int:
    """Most bytes one frame of ``count`` entries can take."""
    return 48 + 15 * count


class DeltaFrameEncoder:
    """Builds the delta frames of one tick and keeps what each observer received.

    ``enc.encode(tick, entity_ids, positions, yaw, observers, visible_ptr,
    visible, full_rate=None)`` returns, per observer row of the CSR, the frame
    bytes or None (nothing to send this tick); then ``enc.commit(written)``
    with one bool per row says which of them were written. ``observers`` are
    the rows' observer slots (their positions set the distances);
    ``full_rate`` (bool per slot, e.g. the stage spotlight) keeps an entity at
    every tick for everyone. ``near_m`` is the full-rate distance;
    ``heartbeat`` the most ticks between two frames to one observer.

    An observer slot absent from one tick starts afresh when it is back (its
    entities count as just entered), which matches how slots are reused.
    """

    def __init__(self, near_m: float = 6.0, heartbeat: int = 20) -> None:
        if not near_m >= 0:
            raise ValueError("near_m must be >= 0")
        if heartbeat < 1:
            raise ValueError("heartbeat must be >= 1")
        self.near_m = float(near_m)
        self.heartbeat = int(heartbeat)
        self._capacity = 0
        self._prev_row = np.full(0, -1, dtype=np.int32)
        self._lookup = np.full(0, -1, dtype=np.int32)
        self._out = np.empty(0, dtype=np.uint8)
        self._pending: tuple[Any, ...] | None = None
        self.reset()

    def reset(self) -> None:
        """Forget everything (every observer starts afresh)."""
        self._prev_row[:] = -1
        self._prev_ptr = np.zeros(1, dtype=np.int64)
        self._prev_vis = np.zeros(0, dtype=np.int32)
        self._state = _state(0)  # per pair: x, z, yaw, shift, based
        self._prev_last = np.zeros(0, dtype=np.int64)
        self._prev_obs = np.zeros(0, dtype=np.int32)
        self._pending = None

    def _grow(self, capacity: int) -> None:
        if capacity <= self._capacity:
            return
        prev_row = np.full(capacity, -1, dtype=np.int32)
        prev_row[: self._capacity] = self._prev_row
        self._prev_row = prev_row
        self._lookup = np.full(capacity, -1, dtype=np.int32)
        self._capacity = capacity

    def encode(
        self,
        tick: int,
        entity_ids: NDArray[np.uint32],
        positions: NDArray[np.float32],
        yaw: NDArray[np.float32],
        observers: NDArray[np.int32],
        visible_ptr: NDArray[np.int64],
        visible: NDArray[np.int32],
        full_rate: NDArray[np.bool_] | None = None,
    ) -> list[bytes | None]:
        """One frame (or None) per observer row, in row order; see the class.

        Raises ``ValueError`` for a negative tick, a malformed CSR or a second
        `encode` without a `commit` in between.
        """
        if self._pending is not None:
            raise ValueError("commit() the previous frames first")
        if tick < 0:
            raise ValueError("tick must be >= 0")
        ptr = np.ascontiguousarray(visible_ptr, dtype=np.int64)
        vis = np.ascontiguousarray(visible, dtype=np.int32)
        obs = np.ascontiguousarray(observers, dtype=np.int32)
        if ptr.ndim != 1 or ptr.size != obs.size + 1 or ptr[0] != 0 or ptr[-1] != vis.size:
            raise ValueError(
                "visible_ptr must start at 0, end at len(visible), one row per observer"
            )
        if obs.size and int(np.diff(ptr).min()) < 0:
            raise ValueError("visible_ptr must be non-decreasing")
        capacity = int(np.asarray(entity_ids).shape[0])
        self._grow(capacity)
        pos = np.ascontiguousarray(positions, dtype=np.float32).reshape(capacity, 2)
        q = quantise_positions(pos)
        qx = np.ascontiguousarray(q[:, 0])
        qz = np.ascontiguousarray(q[:, 1])
        qr = quantise_yaw(np.asarray(yaw))
        ids = np.ascontiguousarray(entity_ids, dtype=np.uint32)
        if full_rate is None:
            full = np.zeros(capacity, dtype=np.uint8)
        else:
            full = np.ascontiguousarray(full_rate, dtype=np.uint8)
        n = obs.size
        m = vis.size
        bound = _frame_bound(0) * n + 15 * m
        if self._out.size < bound:
            self._out = np.empty(2 * bound, dtype=np.uint8)
        off = np.empty(n + 1, dtype=np.int64)
        kinds = np.empty(m, dtype=np.uint8)
        old = _state(m, np.empty)  # the kernel writes every entry
        new = _state(m, np.empty)
        row_last = np.empty(n, dtype=np.int64)
        total = _encode_rows(
            int(tick),
            int(tick) & 0xFFFFFFFF,
            self.heartbeat,
            self.near_m * self.near_m,
            obs,
            ptr,
            vis,
            ids,
            qx,
            qz,
            qr,
            pos,
            full,
            self._prev_row,
            self._prev_ptr,
            self._prev_vis,
            *self._state,
            self._prev_last,
            self._lookup,
            kinds,
            self._out,
            off,
            *old,
            *new,
            row_last,
        )
        blob = self._out[:total].tobytes()
        bounds = off.tolist()
        frames: list[bytes | None] = [blob[a:b] if b > a else None for a, b in pairwise(bounds)]
        sent = np.diff(off) > 0
        self._pending = (int(tick), obs.copy(), ptr.copy(), vis.copy(), old, new, row_last, sent)
        return frames

    def commit(self, written: NDArray[np.bool_] | list[bool]) -> None:
        """Record which of the last `encode`'s frames were written (one bool per
        row; rows whose frame was None are ignored). Only written frames
        update what the observer is known to have."""
        if self._pending is None:
            raise ValueError("nothing to commit")
        tick, obs, ptr, vis, old, new, row_last, sent = self._pending
        self._pending = None
        ok = np.asarray(written, dtype=np.bool_)
        if ok.shape != (obs.size,):
            raise ValueError("one written flag per observer row")
        ok &= sent
        # rows without a frame changed nothing; rows whose frame was skipped go back
        failed = np.flatnonzero(sent & ~ok).astype(np.int64)
        if failed.size:
            _restore_rows(failed, ptr, *old, *new)
        self._state = new
        self._prev_last = np.where(ok, tick, row_last).astype(np.int64)
        self._prev_ptr = ptr
        self._prev_vis = vis
        self._prev_row[self._prev_obs] = -1
        self._prev_row[obs] = np.arange(obs.size, dtype=np.int32)
        self._prev_obs = obs


_State = tuple[
    NDArray[np.int16], NDArray[np.int16], NDArray[np.uint16], NDArray[np.uint8], NDArray[np.uint8]
]


def _state(m: int, make: Callable[..., Any] = np.zeros) -> _State:
    """Per-pair state columns: quantised x, z, yaw; rate shift; based (0/1)."""
    return (
        make(m, dtype=np.int16),
        make(m, dtype=np.int16),
        make(m, dtype=np.uint16),
        make(m, dtype=np.uint8),
        make(m, dtype=np.uint8),
    )
