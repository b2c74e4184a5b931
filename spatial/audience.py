"""Interest with event instances (layers) and a stage spotlight.

:class:`AudienceInterest` is :class:`spatial.interest.InterestManager` plus
three optional per-slot arrays given to :meth:`AudienceInterest.update`:

* ``layer`` (int16): an observer sees its usual k-nearest (with the
  manager's hysteresis) only among active slots **of its own layer**;
* ``spotlight`` (bool): the slot is on a stage;
* ``audience`` (bool): the observer attends the event and, besides its
  k-nearest, sees every active spotlit slot of any layer except itself.

Semantics (one ``update`` is one tick). For an active observer ``o`` let
``N_t(o)`` be what an :class:`~spatial.interest.InterestManager` fed only the
slots ``active & (layer == layer[o])`` would show it (so ``len(N_t) <= k``;
an observer whose layer changed, or that was absent or inactive last tick,
starts empty in its layer, as an absent observer does in the manager), and
``S_t`` the active spotlit slots. What ``o`` sees is

    ``U_t(o) = N_t(o) | (S_t - {o} if audience[o] else {})``

each slot listed once; an inactive observer sees nothing. ``entered`` and
``left`` are ``U_t - U_{t-1}`` and ``U_{t-1} - U_t`` for an observer of both
ticks (``U_{t-1}`` empty for one absent last tick), whatever changed in
between: a layer, a spotlight or an audience flag, activity, or the mode of
the call. A missing array means: layer 0 for all, nobody spotlit, nobody in
an audience. With all three missing the call is exactly
``InterestManager.update`` of one manager (layer 0), delegated with no work
added; the first such call after a tick that used layers or the spotlight
makes one consistent transition tick (through the layered path, with the
defaults) and delegates from the next.

How: one :class:`~spatial.interest.InterestManager` per layer that has active
observers this tick (made on demand, dropped on the first tick without any:
semantically the same as keeping it, since an absent observer starts empty),
each run on ``active & (layer == L)``; then one compiled pass
(:func:`_merge`) writes the union and its diff. A row that stayed with its
manager and whose spotlight part cannot have changed (same audience flag,
and for an audience member no slot joined or left the stage) takes the
manager's own entered/left less the spotlit slots; any other row (a layer or
audience change, a stage change, a return) compares its near sets with the
previous tick's and the stage with the previous stage. The stage is one list
shared by every audience member: per row it costs a copy into the output.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np
from numpy.typing import NDArray

from spatial.interest import InterestDiff, InterestManager, InterestStats, _InterestBase
from spatial.kernels import _compiled

__all__ = ["AudienceInterest", "AudienceStats"]

I64 = NDArray[np.int64]
I32 = NDArray[np.int32]
Bools = NDArray[np.bool_]

_WORK = ("rebased", "reanchored", "rebuilt", "band_ns", "lists_ns", "output_ns", "total_ns")


@dataclass
class AudienceStats(InterestStats):
    """:class:`~spatial.interest.InterestStats` summed over every layer's manager.

    ``ticks`` counts :meth:`AudienceInterest.update` calls and ``rows`` the
    observer rows they returned (not per layer); the work counters and phase
    times are the managers' sums, including managers since dropped.
    ``merge_ns`` is the time of the union and diff step (also counted in
    ``output_ns``); ``total_ns`` adds the layered path's own time (splitting
    by layer, merging) to the managers' totals. ``layers`` is how many
    managers live now, ``managers_made`` how many were ever made.
    """

    merge_ns: int = 0
    layers: int = 0
    managers_made: int = 0


def _no_clock() -> int:
    return 0


class AudienceInterest(_InterestBase):
    """InterestManager plus event instances (layers) and a stage spotlight.

    ``AudienceInterest(capacity, radius=20.0, k=64, margin=2.0, clock=None,
    **tuning)``: the parameters of :class:`~spatial.interest.InterestManager`,
    given to every layer's manager. See the module docstring for what
    :meth:`update` returns.

    The arrays of a returned diff are read on the next update (they are the
    previous tick's sets): read them, do not write into them.
    """

    def __init__(
        self,
        capacity: int,
        radius: float = 20.0,
        k: int = 64,
        margin: float = 2.0,
        clock: Callable[[], int] | None = None,
        **tuning: Any,
    ) -> None:
        super().__init__(capacity, radius, k, margin)
        self._args = (float(radius), int(k), float(margin))
        self._clock_arg = clock
        self._clock: Callable[[], int] = clock if clock is not None else _no_clock
        self._tuning = dict(tuning)
        self._grow_slots(capacity)
        self._managers: dict[int, InterestManager] = {}
        self._tokens: dict[int, int] = {}  # layer -> number of its manager (never reused)
        self._made = 0
        self._dropped = InterestStats()  # work of managers since dropped
        self._ticks = 0
        self._rows = 0
        self._merge_ns = 0
        self._own_ns = 0
        # the plain manager (layer 0) is made now: it checks the tuning, and the
        # plain path must not pay for making it
        self._m0: InterestManager | None = None
        self._manager(0)
        # whether the last tick's sets are exactly the layer-0 manager's (the
        # plain path may delegate); true too when there is no state at all
        self._plain = True
        # the previous tick: after a plain tick, its diff; after a layered
        # tick, its near sets (CSR by row), observers, audience flags, spotlit
        self._pdiff: InterestDiff | None = None
        self._pdiff_token = -1
        self._pnear = np.zeros(0, dtype=np.int32)
        self._pstart = np.zeros(0, dtype=np.int64)
        self._pend = np.zeros(0, dtype=np.int64)
        self._pobs = np.zeros(0, dtype=np.int32)
        self._paud = np.zeros(0, dtype=np.bool_)
        self._ptoken = np.zeros(0, dtype=np.int64)  # per row: manager that held it, or -1
        self._pspot = np.zeros(int(capacity), dtype=np.bool_)
        # scratch: slot -> previous row (-1), and the merge's per-row marks
        self._row_of = np.full(int(capacity), -1, dtype=np.int64)
        self._mark_now = np.full(int(capacity), -1, dtype=np.int64)
        self._mark_prev = np.full(int(capacity), -1, dtype=np.int64)
        self._stamp = 0

    # ------------------------------------------------------------------ public

    @property
    def stats(self) -> AudienceStats:
        """Counters and phase times since creation, summed over layers (a snapshot)."""
        s = AudienceStats()
        for name in _WORK:
            total = getattr(self._dropped, name)
            for m in self._managers.values():
                total += getattr(m.stats, name)
            setattr(s, name, total)
        s.ticks = self._ticks
        s.rows = self._rows
        s.output_ns += self._merge_ns
        s.total_ns += self._own_ns
        s.merge_ns = self._merge_ns
        s.layers = len(self._managers)
        s.managers_made = self._made
        return s

    @property
    def layers(self) -> tuple[int, ...]:
        """Layers that have a manager now (those with active observers last tick)."""
        return tuple(sorted(self._managers))

    def grow(self, capacity: int) -> None:
        """Accept arrays of ``capacity`` rows from now on; all state is kept.

        ``capacity`` must not be smaller than the current one.
        """
        for m in self._managers.values():
            m.grow(capacity)
        extra = self._grow_slots(capacity)
        if extra == 0:
            return
        self._pspot = np.concatenate((self._pspot, np.zeros(extra, dtype=np.bool_)))
        self._row_of = np.concatenate((self._row_of, np.full(extra, -1, dtype=np.int64)))
        self._mark_now = np.concatenate((self._mark_now, np.full(extra, -1, dtype=np.int64)))
        self._mark_prev = np.concatenate((self._mark_prev, np.full(extra, -1, dtype=np.int64)))

    def update(
        self,
        positions: NDArray[np.float32],
        active: NDArray[np.bool_],
        observers: NDArray[np.int32],
        *,
        layer: NDArray[np.int16] | None = None,
        spotlight: NDArray[np.bool_] | None = None,
        audience: NDArray[np.bool_] | None = None,
    ) -> InterestDiff:
        """Advance one tick; return what each observer sees and what changed.

        ``positions``, ``active``, ``observers`` as for
        :meth:`InterestManager.update <spatial.interest.InterestManager.update>`;
        ``layer`` (int16, or any integers that fit), ``spotlight`` and
        ``audience`` (bool) have one entry per slot (only the entries of
        active slots matter). Row ``i`` of the result is ``observers[i]``.
        Raises ``ValueError`` on bad input, before any state changes.
        """
        if layer is None and spotlight is None and audience is None and self._plain:
            m = self._m0
            if m is None:
                m = self._manager(0)
            diff = m.update(positions, active, observers)
            self._pdiff = diff
            self._pdiff_token = self._tokens[0]
            self._ticks += 1
            self._rows += diff.observers.size
            return diff
        return self._update_layered(positions, active, observers, layer, spotlight, audience)

    # ------------------------------------------------------------------ layered tick

    def _manager(self, layer: int) -> InterestManager:
        radius, k, margin = self._args
        m = InterestManager(self._capacity, radius, k, margin, self._clock_arg, **self._tuning)
        self._managers[layer] = m
        self._tokens[layer] = self._made
        if layer == 0:
            self._m0 = m
        self._made += 1
        return m

    def _slot_array(self, a: NDArray[Any] | None, name: str, dtype: type) -> NDArray[Any] | None:
        if a is None:
            return None
        a = np.asarray(a)
        if a.shape != (self._capacity,):
            raise ValueError(f"{name} must have shape ({self._capacity},), got {a.shape}")
        if dtype is np.int16 and a.dtype != np.int16:
            if a.dtype.kind not in "iub":
                raise ValueError(f"{name} must be integers, got {a.dtype}")
            if a.size and (int(a.min()) < -(1 << 15) or int(a.max()) >= 1 << 15):
                raise ValueError(f"{name} values must fit int16")
        elif dtype is np.bool_ and a.dtype != np.bool_:
            raise ValueError(f"{name} must be bool, got {a.dtype}")
        return np.ascontiguousarray(a, dtype=dtype)

    def _update_layered(
        self,
        positions: NDArray[np.float32],
        active: NDArray[np.bool_],
        observers: NDArray[np.int32],
        layer: NDArray[np.int16] | None,
        spotlight: NDArray[np.bool_] | None,
        audience: NDArray[np.bool_] | None,
    ) -> InterestDiff:
        clock = self._clock
        t0 = clock()
        positions, active, observers = self._check(positions, active, observers)
        lay = self._slot_array(layer, "layer", np.int16)
        spot = self._slot_array(spotlight, "spotlight", np.bool_)
        aud = self._slot_array(audience, "audience", np.bool_)
        cap = self._capacity
        n = observers.size

        oact = active.take(observers)
        olay = lay.take(observers) if lay is not None else np.zeros(n, dtype=np.int16)
        aud_now = aud.take(observers) & oact if aud is not None else np.zeros(n, dtype=np.bool_)
        spot_now = active & spot if spot is not None else np.zeros(cap, dtype=np.bool_)

        # the previous tick, by row of this one
        pnear, pstart, pend, pobs, paud, ptoken, pspot = self._previous()
        row_of = self._row_of
        row_of[pobs] = np.arange(pobs.size, dtype=np.int64)
        prow = row_of.take(observers)
        row_of[pobs] = -1
        had = prow >= 0
        prow_ok = np.where(had, prow, 0)
        if pobs.size:
            ps = np.where(had, pstart.take(prow_ok), 0)
            pe = np.where(had, pend.take(prow_ok), 0)
            aud_prev = had & paud.take(prow_ok)
            tok_prev = np.where(had, ptoken.take(prow_ok), -1)
        else:
            ps = np.zeros(n, dtype=np.int64)
            pe = ps
            aud_prev = np.zeros(n, dtype=np.bool_)
            tok_prev = np.full(n, -1, dtype=np.int64)
        t1 = clock()

        # near sets: one manager per layer with active observers
        live_rows = np.flatnonzero(oact)
        used = np.unique(olay.take(live_rows)).tolist() if live_rows.size else []
        ns = np.zeros(n, dtype=np.int64)
        ne = np.zeros(n, dtype=np.int64)
        es = np.zeros(n, dtype=np.int64)
        ee = np.zeros(n, dtype=np.int64)
        ls = np.zeros(n, dtype=np.int64)
        le = np.zeros(n, dtype=np.int64)
        token = np.full(n, -1, dtype=np.int64)
        parts: list[I32] = []
        e_parts: list[I32] = []
        l_parts: list[I32] = []
        off = e_off = l_off = 0
        t_managers = 0
        for layer_id in used:
            if lay is None:
                rows = live_rows
                act_l = active
            else:
                rows = live_rows[olay.take(live_rows) == layer_id]
                act_l = active & (lay == layer_id)
            m = self._managers.get(layer_id)
            if m is None:
                m = self._manager(layer_id)
            ta = clock()
            d = m.update(positions, act_l, observers.take(rows))
            t_managers += clock() - ta
            token[rows] = self._tokens[layer_id]
            off = _place(d.visible_ptr, d.visible, rows, off, ns, ne, parts)
            e_off = _place(d.entered_ptr, d.entered, rows, e_off, es, ee, e_parts)
            l_off = _place(d.left_ptr, d.left, rows, l_off, ls, le, l_parts)
        for layer_id in [x for x in self._managers if x not in used]:
            self._drop(layer_id)
        near, m_ent, m_left = _cat32(parts), _cat32(e_parts), _cat32(l_parts)

        # the union and its diff
        s_list = np.flatnonzero(spot_now).astype(np.int32)
        s_new = np.flatnonzero(spot_now & ~pspot).astype(np.int32)
        s_gone = np.flatnonzero(pspot & ~spot_now).astype(np.int32)
        sp_list = np.flatnonzero(pspot).astype(np.int32)
        # rows whose near diff is the manager's own (same manager as last tick, or
        # nothing near before) and whose spotlight part cannot have changed
        fast = had & ((tok_prev == token) | (pe == ps)) & (aud_now == aud_prev)
        if s_new.size or s_gone.size:
            fast &= ~aud_now
        t2 = clock()
        stamp = self._stamp
        self._stamp += n
        vptr, vis, eptr, ent, lptr, lft = _merge(
            observers, aud_now, near, ns, ne, m_ent, es, ee, m_left, ls, le, fast,
            aud_prev, pnear, ps, pe, spot_now, pspot, s_list, s_new, s_gone, sp_list,
            self._mark_now, self._mark_prev, stamp,
        )  # fmt: skip
        t3 = clock()

        # this tick becomes the previous one
        self._pdiff = None
        self._pnear, self._pstart, self._pend = near, ns, ne
        self._pobs = observers.copy()
        self._paud = aud_now
        self._ptoken = token
        self._pspot = spot_now
        # plain when only the layer-0 manager holds state and nobody got extras
        extra = aud_now & ((s_list.size - spot_now.take(observers)) > 0)
        self._plain = set(self._managers) <= {0} and not bool(extra.any())
        self._ticks += 1
        self._rows += n
        self._merge_ns += t3 - t2
        self._own_ns += (t1 - t0) + (t3 - t1 - t_managers) + (clock() - t3)
        return InterestDiff(observers.copy(), vptr, vis, eptr, ent, lptr, lft)

    def _previous(self) -> tuple[I32, I64, I64, I32, Bools, I64, Bools]:
        """The previous tick's near sets ``(near, start, end)`` by row, its
        observers, and per row audience flags and the manager token; then its
        spotlit slots."""
        d = self._pdiff
        if d is None:
            return (
                self._pnear, self._pstart, self._pend, self._pobs,
                self._paud, self._ptoken, self._pspot,
            )  # fmt: skip
        # a plain tick: the layer-0 manager's sets, nobody in an audience
        ptr = d.visible_ptr
        m = d.observers.size
        none = np.zeros(m, dtype=np.bool_)
        tokens = np.full(m, self._pdiff_token, dtype=np.int64)
        nospot = np.zeros(self._capacity, dtype=np.bool_)
        return d.visible, ptr[:-1], ptr[1:], d.observers, none, tokens, nospot

    def _drop(self, layer_id: int) -> None:
        m = self._managers.pop(layer_id)
        del self._tokens[layer_id]
        st = m.stats
        for name in _WORK:
            setattr(self._dropped, name, getattr(self._dropped, name) + getattr(st, name))
        if m is self._m0:
            self._m0 = None


def _place(
    ptr: I64, values: I32, rows: I64, off: int, start: I64, end: I64, parts: list[I32]
) -> int:
    """Point ``rows`` of a layer's CSR into the concatenation of ``parts``."""
    start[rows] = ptr[:-1] + off
    end[rows] = ptr[1:] + off
    parts.append(values)
    return off + values.size


def _cat32(parts: list[I32]) -> I32:
    if len(parts) == 1:
        return parts[0]
    if not parts:
        return np.zeros(0, dtype=np.int32)
    out: I32 = np.concatenate(parts).astype(np.int32, copy=False)
    return out


@numba.njit(cache=True, nogil=True, inline="always")
def _row_diff(
    o: Any,
    a: Any,
    ap: Any,
    near: Any,
    n0: Any,
    n1: Any,
    pnear: Any,
    p0: Any,
    p1: Any,
    spot: Any,
    spot_prev: Any,
    s_list: Any,
    s_new: Any,
    s_gone: Any,
    sp_list: Any,
    mark_now: Any,
    mark_prev: Any,
    st: Any,
    ent: Any,
    nent: Any,
    lft: Any,
    nleft: Any,
) -> Any:
    """``U - P`` and ``P - U`` of one row from its sets (see :func:`_merge`)."""
    for j in range(n0, n1):
        mark_now[near[j]] = st
    for j in range(p0, p1):
        mark_prev[pnear[j]] = st
    # entered: near entries not listed before (the spotlit ones come with S')
    for j in range(n0, n1):
        e = near[j]
        if a and spot[e]:
            continue
        if mark_prev[e] != st and not (ap and spot_prev[e]):
            ent[nent] = e
            nent += 1
    if a:
        src = s_new if ap else s_list
        for j in range(src.size):
            e = src[j]
            if e != o and mark_prev[e] != st:
                ent[nent] = e
                nent += 1
    # left: near entries of before not listed now (the spotlit ones come with Sp')
    for j in range(p0, p1):
        e = pnear[j]
        if ap and spot_prev[e]:
            continue
        if mark_now[e] != st and not (a and spot[e]):
            lft[nleft] = e
            nleft += 1
    if ap:
        src = s_gone if a else sp_list
        for j in range(src.size):
            e = src[j]
            if e != o and mark_now[e] != st:
                lft[nleft] = e
                nleft += 1
    return nent, nleft


_MERGE_SIG = (
    "Tuple((int64[::1], int32[::1], int64[::1], int32[::1], int64[::1], int32[::1]))("
    "int32[::1], boolean[::1], int32[::1], int64[::1], int64[::1],"
    " int32[::1], int64[::1], int64[::1], int32[::1], int64[::1], int64[::1], boolean[::1],"
    " boolean[::1], int32[::1], int64[::1], int64[::1],"
    " boolean[::1], boolean[::1], int32[::1], int32[::1], int32[::1], int32[::1],"
    " int64[::1], int64[::1], int64)"
)


@_compiled(_MERGE_SIG)
def _merge(
    observers: Any,
    aud: Any,
    near: Any,
    ns: Any,
    ne: Any,
    m_ent: Any,
    es: Any,
    ee: Any,
    m_left: Any,
    ls: Any,
    le: Any,
    fast: Any,
    aud_prev: Any,
    pnear: Any,
    ps: Any,
    pe: Any,
    spot: Any,
    spot_prev: Any,
    s_list: Any,
    s_new: Any,
    s_gone: Any,
    sp_list: Any,
    mark_now: Any,
    mark_prev: Any,
    stamp0: int,
) -> Any:
    """Per row ``i`` (observer ``o``): ``U = N | S'`` and its diff against
    ``P = Np | Sp'``, as CSR ``(vptr, visible, eptr, entered, lptr, left)``.

    ``N`` is ``near[ns[i]:ne[i]]``, ``Np`` is ``pnear[ps[i]:pe[i]]``; ``S'``
    is the spotlit slots ``s_list`` (``spot`` per slot) less ``o`` when
    ``aud[i]``, else empty; ``Sp'`` the same for the previous tick
    (``sp_list``, ``spot_prev``, ``aud_prev``). ``s_new``/``s_gone`` are the
    slots spotlit now and not before, and before and not now.

    A ``fast`` row has ``N - Np`` and ``Np - N`` from its manager
    (``m_ent[es[i]:ee[i]]``, ``m_left[ls[i]:le[i]]``) and an unchanged
    ``S'``: its diff is the manager's less the spotlit slots. Other rows
    compare ``N`` and ``Np`` through ``mark_*``, per-slot scratch stamps: row
    ``i`` stamps ``stamp0 + i`` (unique across calls), so they are never
    cleared.
    """
    n = observers.size
    nspot = s_list.size
    bound = near.size
    lbound = m_left.size
    for i in range(n):
        if aud[i]:
            bound += nspot
        if not fast[i]:
            lbound += pe[i] - ps[i]
            if aud_prev[i]:
                lbound += sp_list.size
    vis = np.empty(bound, np.int32)
    ent = np.empty(bound, np.int32)  # entered is a subset of U
    lft = np.empty(lbound, np.int32)  # left is a subset of P
    vptr = np.zeros(n + 1, np.int64)
    eptr = np.zeros(n + 1, np.int64)
    lptr = np.zeros(n + 1, np.int64)
    p = 0
    nent = 0
    nleft = 0
    for i in range(n):
        o = observers[i]
        a = aud[i]
        # U: the near entries (those also spotlit come with the stage), the stage
        if a:
            for j in range(ns[i], ne[i]):
                e = near[j]
                if not spot[e]:
                    vis[p] = e
                    p += 1
            if spot[o]:
                for j in range(nspot):
                    e = s_list[j]
                    if e != o:
                        vis[p] = e
                        p += 1
            else:
                vis[p : p + nspot] = s_list
                p += nspot
        else:
            c = ne[i] - ns[i]
            vis[p : p + c] = near[ns[i] : ne[i]]
            p += c
        vptr[i + 1] = p
        if fast[i]:
            # S' unchanged (and equal to Sp'): the manager's diff less the stage
            for j in range(es[i], ee[i]):
                e = m_ent[j]
                if not (a and spot[e]):
                    ent[nent] = e
                    nent += 1
            for j in range(ls[i], le[i]):
                e = m_left[j]
                if not (a and spot[e]):
                    lft[nleft] = e
                    nleft += 1
        else:
            nent, nleft = _row_diff(
                o, a, aud_prev[i], near, ns[i], ne[i], pnear, ps[i], pe[i],
                spot, spot_prev, s_list, s_new, s_gone, sp_list,
                mark_now, mark_prev, stamp0 + i, ent, nent, lft, nleft,
            )  # fmt: skip
        eptr[i + 1] = nent
        lptr[i + 1] = nleft
    return vptr, vis[:p], eptr, ent[:nent].copy(), lptr, lft[:nleft].copy()
