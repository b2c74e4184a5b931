"""Interest management: which entities each observer sees, as per-tick diffs.

Semantics (one :meth:`InterestManager.update` call is one tick). For an
observer ``o`` let ``d(e)`` be the float32 distance from ``o`` to entity ``e``
(:func:`spatial.hashgrid.pair_distances`); candidates are active slots other
than ``o``.

* ``X_t`` ("in range"): the ``k`` nearest candidates with ``d <= radius``
  (ties broken by lower slot).
* ``V_t`` (visible), built from the previous update's ``V_{t-1}``/``X_{t-1}``:

  - ``A = X_t & (X_{t-1} | V_{t-1})`` - settled members, always visible;
  - ``B = V_{t-1} - X_t`` with ``d <= radius + margin`` - incumbents that left
    the range or were crowded out, held by hysteresis;
  - ``C = X_t - A`` - first-tick newcomers.

  ``V_t`` is ``A``, then the nearest of ``B``, then the nearest of ``C``, up to
  ``k`` in all.

Guarantees: ``len(V_t) <= k``; never the observer itself; only active slots
within ``radius + margin``; when ``V_t`` is not full it contains all of
``X_t``; an entity in range on two consecutive ticks is visible on the second
(so everything in conversation range shows within one tick); an entity that
pokes into range for a single tick while the set is full causes no enter/leave
pair. An observer absent from the previous update starts empty. A slot that
becomes inactive is reported in ``left`` by every observer that saw it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from spatial import kernels
from spatial.hashgrid import HashGrid

__all__ = ["InterestDiff", "InterestManager", "InterestStats"]


@dataclass(frozen=True)
class InterestDiff:
    """Result of one :meth:`InterestManager.update`, in CSR form.

    Row ``i`` belongs to ``observers[i]``: ``visible[visible_ptr[i]:visible_ptr[i+1]]``
    are the entity slots it sees now (at most ``k``, never itself), ``entered``
    the ones that became visible in this update and ``left`` the ones that
    stopped being visible (including slots that went inactive). Within a row the
    order of slots is unspecified.
    """

    observers: NDArray[np.int32]
    visible_ptr: NDArray[np.int64]
    visible: NDArray[np.int32]
    entered_ptr: NDArray[np.int64]
    entered: NDArray[np.int32]
    left_ptr: NDArray[np.int64]
    left: NDArray[np.int32]

    def row(self, i: int) -> tuple[NDArray[np.int32], NDArray[np.int32], NDArray[np.int32]]:
        """``(visible, entered, left)`` of observer row ``i`` (views, no copy)."""
        return (
            self.visible[self.visible_ptr[i] : self.visible_ptr[i + 1]],
            self.entered[self.entered_ptr[i] : self.entered_ptr[i + 1]],
            self.left[self.left_ptr[i] : self.left_ptr[i + 1]],
        )


@dataclass
class InterestStats:
    """Work done by :meth:`InterestManager.update`, summed since the manager was made.

    Rows are observer rows; per tick each is either checked on its band alone,
    re-based (band plus a probe of its outer core and inner spare),
    re-anchored (its list re-sorted) or rebuilt (a fresh grid query). Times
    are in nanoseconds of the ``clock`` given to the manager (all zero without
    one): ``band_ns`` for band checks and re-bases, ``lists_ns`` for
    re-anchors and rebuilds (queries included), ``output_ns`` for the
    visible/entered/left arrays, ``total_ns`` for whole updates.
    """

    ticks: int = 0
    rows: int = 0
    rebased: int = 0
    reanchored: int = 0
    rebuilt: int = 0
    band_ns: int = 0
    lists_ns: int = 0
    output_ns: int = 0
    total_ns: int = 0

    def copy(self) -> InterestStats:
        return replace(self)


# ----------------------------------------------------------------------------
# How the fast path works (the semantics above do not depend on any of this).
#
# Per-tick work follows the k-th boundary, not the crowd. Each observer row
# keeps a candidate list, sorted by distance when it was last "anchored", in
# three column groups (band and core side by side, so every row's visible set
# is one boolean mask over one matrix):
#
#   [ band (``band`` columns) | core (``k``, outermost first) ]  [ spare (``spare``) ]
#
# The core holds the nearest entries, all in X and visible; the band holds the
# ranks around the k-th (``inner`` of them inside it); the spare the next
# ranks out; entities not listed are known to be at least ``qfar`` away.
#
# Each tick a row measures its band only, and keeps it sorted by distance in
# place (a key packs distance bits and slot; the band was sorted last tick, so
# an insertion sort has little to do). X is then the core
# plus the nearest band entries - provided the band still separates core
# from spare. That is checked with the band's exact distances and a bound on
# everything else: a distance moves by at most the observer's displacement
# plus the entity's, and an entity's is at most ``D``, the running sum of each
# tick's largest step of any entity that did not jump (``kernels._separates``).
# Hysteresis then runs on the band's flags.
#
# A row whose check fails gets, in order of cost:
#   1. a re-base: its outer core and inner spare (``_PROBE`` columns each) are
#      measured exactly, the rest bounded from their anchored distances; if
#      the band still separates them, only the baseline moves;
#   2. a re-anchor: the whole list is re-measured, sorted (the key also
#      carries each entry's flags) and split again;
#   3. a rebuild: as 2, but with a fresh grid query in place of the spare,
#      when the list may have gone stale (``qfar`` no longer clears the k-th),
#      for new rows, and for rows near a "jumper" (an entity that stepped more
#      than ``jump`` metres, joined or left). The query grid is reused for
#      ``grid_ticks`` ticks, widened by ``D``.
# Re-anchors and rebuilds share one evaluation per tick. An evaluation proves
# itself (the k-th found must lie inside the listed radius) and falls back to
# a wide query in the same tick when it cannot. Flagged entries that do not
# fit a row's band are kept aside ("overflow") and the row re-anchors on the
# next tick. So results never depend on the tuning; only the work does.
#
# The per-row loops (band check and re-base, list keys and evaluation, grid
# query, move, planning, output) are compiled by numba in ``spatial.kernels``;
# numpy does the rest, including the one wide sort of all evaluated lists.
# ----------------------------------------------------------------------------

_VIS = 1  # flag bit: visible (bit 1 is: in X)
_MAX_CAPACITY = kernels.SLOT_MASK - 1  # one index above the last slot is the sentinel
_EPS = 1e-3
_FULL_REBUILD_SHARE = 0.25  # this many jumpers per row: rebuild every row
_PROBE = 48  # core and spare entries measured when re-basing a row
_STALE = 1.0  # rebuild a due row whose list clears the k-th by less (metres)
_BAD_INPUT = {
    1: "observer slot out of range",
    2: "observers must be unique",
    3: "positions of active slots must be finite",
}

IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]
FloatArray = NDArray[np.float32]
F64Array = NDArray[np.float64]


class _InterestBase:
    """What the manager and its reference share: parameters, capacity, input checks."""

    def __init__(self, capacity: int, radius: float, k: int, margin: float) -> None:
        if capacity < 0:
            raise ValueError("capacity must be >= 0")
        if not radius > 0.0:
            raise ValueError("radius must be positive")
        if k < 1:
            raise ValueError("k must be >= 1")
        if not margin >= 0.0:
            raise ValueError("margin must be >= 0")
        self._radius = np.float32(radius)
        self._outer = np.float32(radius + margin)
        self._k = int(k)
        self._capacity = 0
        self._seen = np.zeros(0, dtype=np.bool_)  # scratch for the input check, all False

    @property
    def capacity(self) -> int:
        """Number of slots the arrays passed to ``update`` must have."""
        return self._capacity

    @property
    def radius(self) -> float:
        """Entry radius in metres."""
        return float(self._radius)

    @property
    def k(self) -> int:
        """Maximum number of visible entities per observer."""
        return self._k

    def _grow_slots(self, capacity: int) -> int:
        """Take the new capacity (never smaller); return how many slots it adds."""
        old = self._capacity
        if capacity < old:
            raise ValueError("capacity can only grow")
        extra = int(capacity) - old
        self._seen = np.zeros(int(capacity), dtype=np.bool_)
        self._capacity = int(capacity)
        return extra

    def _check(
        self,
        positions: NDArray[np.float32],
        active: NDArray[np.bool_],
        observers: NDArray[np.int32],
    ) -> tuple[NDArray[np.float32], NDArray[np.bool_], NDArray[np.int32]]:
        """Validated, contiguous ``update`` arguments; ``ValueError`` on bad input."""
        cap = self._capacity
        positions = np.ascontiguousarray(positions, dtype=np.float32)
        active = np.ascontiguousarray(active, dtype=np.bool_)
        observers = np.ascontiguousarray(observers, dtype=np.int32).reshape(-1)
        if positions.shape != (cap, 2):
            raise ValueError(f"positions must have shape ({cap}, 2), got {positions.shape}")
        if active.shape != (cap,):
            raise ValueError(f"active must have shape ({cap},), got {active.shape}")
        code = kernels.check_inputs(positions, active, observers, self._seen)
        if code:
            raise ValueError(_BAD_INPUT[code])
        return positions, active, observers


class InterestManager(_InterestBase):
    """Per-observer visible sets with hysteresis; see the module docstring.

    ``InterestManager(capacity, radius=20.0, k=64, margin=2.0, clock=None, **tuning)``.
    Call :meth:`update` once per tick with the full position and activity
    arrays (``capacity`` rows) and the observer slots; it returns an
    :class:`InterestDiff`. Call :meth:`grow` before passing larger arrays.
    ``clock`` (e.g. ``time.perf_counter_ns``) times the phases in
    :attr:`stats`; the spatial layer keeps no clock of its own.

    Tuning (performance only; results are identical for any values):
    ``band`` (32) - list ranks measured every tick around the k-th;
    ``inner`` (16) - how many of them lie inside the k-th; ``spare`` (160) -
    further list ranks kept for re-anchoring; ``skin`` (3.0 m) - how far beyond
    the k-th distance a rebuilt list reaches; ``jump`` (0.25 m) - a step longer
    than this makes an entity a jumper; ``grid_ticks`` (8) - ticks a query grid
    is reused; ``cell`` (4.0 m) - grid cell size.
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
        self._clock: Callable[[], int] = clock if clock is not None else _no_clock
        opts: dict[str, Any] = {
            "band": 32,
            "inner": 16,
            "spare": 160,
            "skin": 3.0,
            "jump": 0.25,
            "grid_ticks": 8,
            "cell": 4.0,
        }
        unknown = set(tuning) - set(opts)
        if unknown:
            raise TypeError(f"unknown tuning options: {sorted(unknown)}")
        opts.update(tuning)
        band, inner, spare = int(opts["band"]), int(opts["inner"]), int(opts["spare"])
        if band < 1 or not 0 <= inner < band or spare < 0:
            raise ValueError("need band >= 1, 0 <= inner < band and spare >= 0")
        if not float(opts["skin"]) > 0.0 or not float(opts["jump"]) > 0.0:
            raise ValueError("skin and jump must be positive")
        if int(opts["grid_ticks"]) < 1 or not float(opts["cell"]) > 0.0:
            raise ValueError("grid_ticks must be >= 1 and cell > 0")
        self._bw = band
        self._inner = inner
        self._nspare = spare
        self._skin = float(opts["skin"])
        self._jump = float(opts["jump"])
        self._grid_ticks = int(opts["grid_ticks"])
        self._cell = float(opts["cell"])
        self._tick = 0
        self._dsum = 0.0  # running sum of the largest non-jumper step per tick
        # per slot (plus one sentinel at index capacity, always infinitely far)
        self._pos = np.full((1, 2), np.inf, dtype=np.float32)  # x, z per slot
        self._prev = self._pos
        self._act = np.zeros(0, dtype=np.bool_)
        # per row, in the order of the last update's observers
        w = band + self._k
        self._obs = np.zeros(0, dtype=np.int32)
        self._vent = np.zeros((0, w), dtype=np.int32)
        self._vmask = np.zeros((0, w), dtype=np.bool_)
        self._xmask = np.zeros((0, band), dtype=np.bool_)
        self._spare = np.zeros((0, spare), dtype=np.int32)
        self._ncore = np.zeros(0, dtype=np.int64)
        self._anc_x = np.zeros(0, dtype=np.float32)
        self._anc_z = np.zeros(0, dtype=np.float32)
        self._anc_d = np.zeros(0, dtype=np.float64)
        self._cmax = np.zeros(0, dtype=np.float64)
        self._cin = np.zeros(0, dtype=np.float64)
        self._sout = np.zeros(0, dtype=np.float64)
        self._dout = np.zeros(0, dtype=np.float64)
        self._dirty = np.zeros(0, dtype=np.bool_)
        self._qfar = np.zeros(0, dtype=np.float64)
        self._kth = np.zeros(0, dtype=np.float64)
        self._fresh = np.zeros(0, dtype=np.bool_)
        # flagged entries that did not fit a row's band (the row re-anchors next
        # tick), keyed by observer slot so they survive re-ordered observers
        self._ov_obs = np.zeros(0, dtype=np.int64)
        self._ov_ent = np.zeros(0, dtype=np.int64)
        self._ov_flag = np.zeros(0, dtype=np.int64)
        # query grid (built lazily, reused while no jumper invalidates it)
        self._grid: HashGrid | None = None
        self._grid_d = 0.0
        self._grid_tick = 0
        self._stats = InterestStats()
        self._row_of = np.zeros(0, dtype=np.int64)  # scratch: slot -> row, else -1
        self.grow(capacity)

    # ------------------------------------------------------------------ public

    @property
    def stats(self) -> InterestStats:
        """Counters and phase times since creation (a live object; ``copy()`` it)."""
        return self._stats

    def grow(self, capacity: int) -> None:
        """Accept arrays of ``capacity`` rows from now on; all state is kept.

        ``capacity`` must not be smaller than the current one.
        """
        if capacity > _MAX_CAPACITY:
            raise ValueError(f"capacity must be <= {_MAX_CAPACITY}")
        old = self._capacity
        extra = self._grow_slots(capacity)
        if extra == 0:
            return
        self._row_of = np.concatenate((self._row_of, np.full(extra, -1, dtype=np.int64)))
        inf = np.full((extra, 2), np.inf, dtype=np.float32)
        # the sentinel moves from index ``old`` to ``capacity``
        self._pos = np.concatenate((self._pos[:old], inf, self._pos[old:]))
        self._act = np.concatenate((self._act, np.zeros(extra, dtype=np.bool_)))
        self._vent[self._vent == old] = capacity
        self._spare[self._spare == old] = capacity
        self._grid = None

    def update(
        self,
        positions: NDArray[np.float32],
        active: NDArray[np.bool_],
        observers: NDArray[np.int32],
    ) -> InterestDiff:
        """Advance one tick and return what each observer sees and what changed.

        ``positions``: ``(capacity, 2)`` float32 x,z in metres (rows of inactive
        slots are ignored; active rows must be finite). ``active``:
        ``(capacity,)`` bool. ``observers``: unique int32 slots; an inactive
        observer sees nothing. Raises ``ValueError`` on bad input, before any
        state changes.
        """
        positions, active, observers = self._check(positions, active, observers)
        with np.errstate(invalid="ignore", over="ignore"):
            return self._update(positions, active, observers)

    # ------------------------------------------------------------------ tick

    def _update(
        self,
        positions: NDArray[np.float32],
        active: NDArray[np.bool_],
        observers: NDArray[np.int32],
    ) -> InterestDiff:
        clock = self._clock
        t_start = clock()
        st = self._stats
        self._tick += 1
        jumpers_old, jumpers_new = self._move(positions, active)
        self._map_rows(observers)
        n = observers.size
        ox, oz, oact, delta, due, rebuild, steady, gone = kernels.plan(
            self._pos, observers, active, self._anc_x, self._anc_z, self._anc_d,
            self._dsum, self._dirty, self._fresh,
        )  # fmt: skip
        events = _Events()

        ov_row, ov_ent, ov_flag = self._overflow_rows()
        # inactive observers: everything they saw leaves, and they start afresh
        if gone.size:
            events.left(*self._visible_pairs(gone))
            self._reset_rows(gone)
        if ov_row.size:
            off = ~oact.take(ov_row)
            gvis = off & ((ov_flag & _VIS) > 0)
            events.left(ov_row[gvis], ov_ent[gvis])
            ov_row, ov_ent, ov_flag = ov_row[~off], ov_ent[~off], ov_flag[~off]
        ov = (ov_row, ov_ent, ov_flag)

        affected = self._near_jumpers(jumpers_old, jumpers_new, ox, oz, oact, delta)
        if affected is not None:
            affected &= oact
            rebuild |= affected
            due |= affected
            steady = steady[~affected.take(steady)]

        # the other rows measure their band only, unless the band proves too narrow
        t_band = clock()
        if steady.size:
            failed = self._band_tick(steady, ox, oz, delta, events)
            due[failed] = True
        t_lists = clock()
        # lists whose bound on unlisted entities no longer clears the k-th: rebuild
        stale = (self._qfar - self._kth - 2.0 * delta) < _STALE
        rebuild |= due & stale

        # one evaluation for re-anchored and rebuilt rows (a rebuilt row's query
        # takes the place of its spare); rows it cannot prove exact get a wide query
        rows = np.flatnonzero(due | rebuild)
        new_ov: list[tuple[IntArray, IntArray, IntArray]] = []
        if rows.size:
            qf = self._qfar.take(rows) - delta.take(rows)
            rb = np.flatnonzero(rebuild.take(rows))
            tail = self._spare.take(rows, axis=0)
            if rb.size:
                cand, qq = self._query(rows.take(rb), ox, oz, delta, wide=False)
                qf[rb] = qq
                w = max(tail.shape[1], cand.shape[1])
                if w > tail.shape[1]:
                    grow = np.full((rows.size, w - tail.shape[1]), self._capacity, np.int32)
                    tail = np.concatenate((tail, grow), axis=1)
                tail[rb] = self._capacity
                tail[rb, : cand.shape[1]] = cand
            retry = self._evaluate(rows, ox, oz, qf, ov, tail, events, new_ov)
            if retry.size:
                cand, qq = self._query(retry, ox, oz, delta, wide=True)
                again = self._evaluate(retry, ox, oz, qq, ov, cand, events, new_ov)
                if again.size:  # pragma: no cover - the wide query covers R + margin
                    raise AssertionError("interest rebuild could not prove the k nearest")
        obs = self._obs
        self._ov_obs = _cat([obs.take(r).astype(np.int64) for r, _, _ in new_ov])
        self._ov_ent = _cat([e for _, e, _ in new_ov])
        self._ov_flag = _cat([f for _, _, f in new_ov])
        t_out = clock()

        vptr, visible = self._visible_csr()
        eptr, entered, lptr, left = events.csr(n)
        t_end = clock()
        st.ticks += 1
        st.rows += n
        st.rebuilt += int(rebuild.sum())
        st.reanchored += int(rows.size) - int(rebuild.sum())
        st.band_ns += t_lists - t_band
        st.lists_ns += t_out - t_lists
        st.output_ns += t_end - t_out
        st.total_ns += t_end - t_start
        return InterestDiff(observers.copy(), vptr, visible, eptr, entered, lptr, left)

    # ------------------------------------------------------------------ motion

    def _move(
        self, positions: NDArray[np.float32], active: NDArray[np.bool_]
    ) -> tuple[IntArray, IntArray]:
        """Take this tick's positions; return the jumpers' slots.

        Returns ``(old, new)``: slots whose previous position (``old``, kept in
        ``_prev``) or current position (``new``) is a jump's end.
        """
        jump2 = np.float32(self._jump * self._jump)
        pos, step2, old, new = kernels.move(positions, active, self._pos, self._act, jump2)
        self._dsum += float(step2) ** 0.5
        self._prev = self._pos
        self._pos = pos
        self._act = active.copy()
        if old.size or new.size:
            self._grid = None
        return old, new

    def _near_jumpers(
        self,
        old: IntArray,
        new: IntArray,
        ox: FloatArray,
        oz: FloatArray,
        oact: BoolArray,
        delta: F64Array,
    ) -> BoolArray | None:
        """Rows a jumper may concern (its old or new position is within reach)."""
        n = ox.size
        npts = old.size + new.size
        if not npts or not n:
            return None
        if npts > max(64.0, _FULL_REBUILD_SHARE * n):
            return np.ones(n, dtype=np.bool_)
        pts = np.concatenate((self._prev.take(old, axis=0), self._pos.take(new, axis=0)))
        # a listed entity is within max(outer, qfar) + its last step + delta of
        # the observer; an unlisted one must stay beyond qfar - delta
        reach = np.maximum(self._qfar, float(self._outer)) + np.maximum(delta, 0.0)
        reach += self._jump + 0.01
        reach = np.where(oact & np.isfinite(reach), reach, 0.0)
        grid = HashGrid(pts, np.arange(pts.shape[0], dtype=np.int32), float(self._outer) + 1.0)
        qi, _, _ = grid.pairs_within(np.column_stack((ox, oz)), reach.astype(np.float32))
        near: BoolArray = np.bincount(qi, minlength=n) > 0
        return near

    # ------------------------------------------------------------------ rows

    def _map_rows(self, observers: NDArray[np.int32]) -> None:
        """Re-order row state to ``observers``; new observers get fresh rows."""
        if np.array_equal(observers, self._obs):
            return
        src = self._row_of_slots(observers.astype(np.int64))
        old = src >= 0
        take = np.where(old, src, 0)
        n = observers.size

        def pick(a: NDArray[Any], fill: Any) -> NDArray[Any]:
            if a.shape[0] == 0:
                return np.full((n, *a.shape[1:]), fill, dtype=a.dtype)
            out = a.take(take, axis=0)
            out[~old] = fill
            return out

        cap = self._capacity
        self._vent = pick(self._vent, cap)
        self._vmask = pick(self._vmask, False)
        self._xmask = pick(self._xmask, False)
        self._spare = pick(self._spare, cap)
        self._ncore = pick(self._ncore, 0)
        self._anc_x = pick(self._anc_x, 0.0)
        self._anc_z = pick(self._anc_z, 0.0)
        self._anc_d = pick(self._anc_d, 0.0)
        self._cmax = pick(self._cmax, 0.0)
        self._cin = pick(self._cin, 0.0)
        self._sout = pick(self._sout, 0.0)
        self._dout = pick(self._dout, 0.0)
        self._dirty = pick(self._dirty, True)
        self._qfar = pick(self._qfar, 0.0)
        self._kth = pick(self._kth, -1.0)
        self._fresh = pick(self._fresh, True)
        self._obs = observers.copy()

    def _row_of_slots(self, slots: IntArray) -> IntArray:
        """Rows of observer slots under the current ordering (-1 when absent)."""
        row_of = self._row_of
        row_of[self._obs] = np.arange(self._obs.size, dtype=np.int64)
        out: IntArray = row_of.take(slots)
        row_of[self._obs] = -1
        return out

    def _overflow_rows(self) -> tuple[IntArray, IntArray, IntArray]:
        """Last tick's overflow entries as (row, slot, flags); absent observers dropped."""
        if not self._ov_obs.size:
            e = np.zeros(0, dtype=np.int64)
            return e, e, e
        r = self._row_of_slots(self._ov_obs)
        keep = r >= 0
        return r[keep], self._ov_ent[keep], self._ov_flag[keep]

    def _reset_rows(self, rows: IntArray) -> None:
        self._vent[rows] = self._capacity
        self._vmask[rows] = False
        self._xmask[rows] = False
        self._spare[rows] = self._capacity
        self._ncore[rows] = 0
        self._dirty[rows] = True
        self._qfar[rows] = 0.0
        self._kth[rows] = -1.0
        self._fresh[rows] = True

    def _visible_pairs(self, rows: IntArray) -> tuple[IntArray, IntArray]:
        mask = self._vmask.take(rows, axis=0)
        w = mask.shape[1]
        flat = np.flatnonzero(mask)
        ent = self._vent.take(rows, axis=0).reshape(-1).take(flat).astype(np.int64)
        return rows.take(flat // w), ent

    def _visible_csr(self) -> tuple[IntArray, NDArray[np.int32]]:
        n = self._obs.size
        ptr, vis = kernels.masked_rows(self._vent, self._vmask)
        if self._ov_obs.size:
            # visible overflow entries go at the end of their rows (one pass)
            ov_vis = (self._ov_flag & _VIS) > 0
            ovr = self._row_of_slots(self._ov_obs[ov_vis])
            order = np.argsort(ovr, kind="stable")
            ovr = ovr.take(order)
            vis = np.insert(vis, ptr.take(ovr + 1), self._ov_ent[ov_vis].take(order))
            extra = np.zeros(n + 1, dtype=np.int64)
            np.cumsum(np.bincount(ovr, minlength=n), out=extra[1:])
            ptr += extra
        return ptr, vis

    # ------------------------------------------------------------------ band

    def _band_tick(
        self, rows: IntArray, ox: FloatArray, oz: FloatArray, delta: F64Array, events: _Events
    ) -> IntArray:
        """Measure the band of ``rows``; return the rows that need a re-anchor.

        While the band still separates core from spare (checked with this
        tick's exact band distances), X is the core plus the nearest band
        entries, and hysteresis runs on the band alone. A row whose band no
        longer separates gets a second chance without re-sorting: its outer
        core and inner spare are measured exactly now (the rest by the bound)
        and, if they are still on their sides of the band, the row is
        re-based. The loop is compiled (:func:`spatial.kernels.band_tick`); it
        keeps each band sorted by distance in place.
        """
        bw, k = self._bw, self._k
        m = rows.size
        holds = np.zeros(m, dtype=np.bool_)
        ev_row = np.empty(m * bw, dtype=np.int64)
        ev_ent = np.empty(m * bw, dtype=np.int64)
        ev_now = np.empty(m * bw, dtype=np.bool_)
        radius = float(self._radius)
        nev, rebased = kernels.band_tick(
            self._pos,
            rows,
            ox,
            oz,
            delta,
            self._vent,
            self._vmask,
            self._xmask,
            self._ncore,
            self._cmax,
            self._cin,
            self._sout,
            self._dout,
            self._qfar,
            self._spare,
            self._anc_x,
            self._anc_z,
            self._anc_d,
            self._dsum,
            k,
            bw,
            min(_PROBE, k),
            min(_PROBE, self._nspare),
            self._radius,
            self._outer,
            _EPS + 1e-6 * radius,
            holds,
            ev_row,
            ev_ent,
            ev_now,
        )
        self._stats.rebased += rebased
        if nev:
            now = ev_now[:nev]
            events.entered(ev_row[:nev][now], ev_ent[:nev][now])
            events.left(ev_row[:nev][~now], ev_ent[:nev][~now])
        failed: IntArray = rows[~holds]
        return failed

    # ------------------------------------------------------------------ lists

    def _query(
        self, rows: IntArray, ox: FloatArray, oz: FloatArray, delta: F64Array, wide: bool
    ) -> tuple[NDArray[np.int32], F64Array]:
        """Fresh candidates for ``rows``: ``(cand (m, w) padded, complete radius)``.

        Every active entity within the returned radius of the observer is in
        its row of ``cand`` (the observer itself is not).
        """
        cap = self._capacity
        m = rows.size
        grid = self._grid_now()
        qx = ox.take(rows)
        qz = oz.take(rows)
        outer_all = float(self._outer) + self._skin
        if wide:
            qq = np.full(m, outer_all, dtype=np.float64)
        else:
            kth = self._kth.take(rows)
            unknown = kth < 0.0
            if unknown.any():
                # no k-th distance yet: guess one from the local density
                rho = grid.density(np.column_stack((qx[unknown], qz[unknown])), 8.0)
                need = self._k + self._bw - self._inner
                guess = np.sqrt(need / (np.pi * np.maximum(rho, 1e-9)))
                kth = kth.copy()
                kth[unknown] = guess
            qq = np.minimum(kth + 2.0 * delta.take(rows) + self._skin, outer_all)
        slack = self._dsum - self._grid_d
        reach = (qq + slack + 0.01).astype(np.float32)
        me = self._obs.take(rows).astype(np.int64)
        cand = grid.ids_within(np.column_stack((qx, qz)), reach, self._pos, qq, me, cap)
        return cand, qq

    def _grid_now(self) -> HashGrid:
        """The query grid, rebuilt when stale (positions at build are widened by D)."""
        if self._grid is None or self._tick - self._grid_tick >= self._grid_ticks:
            act = np.flatnonzero(self._act).astype(np.int32)
            xz = self._pos.take(act, axis=0)
            self._grid = HashGrid(xz, act, self._cell)
            self._grid_d = self._dsum
            self._grid_tick = self._tick
        return self._grid

    def _evaluate(
        self,
        rows: IntArray,
        ox: FloatArray,
        oz: FloatArray,
        qfar: F64Array,
        ov: tuple[IntArray, IntArray, IntArray],
        tail: NDArray[np.int32],
        events: _Events,
        new_ov: list[tuple[IntArray, IntArray, IntArray]],
    ) -> IntArray:
        """Rank band, core and ``tail`` (spare or fresh query) per row and store
        every row this proves exact, with its events and overflow; return the
        rows it could not prove.

        ``qfar``: every active entity not among the candidates is at least this
        far. Keys are made and evaluated by compiled loops
        (:func:`spatial.kernels.list_keys`, :func:`spatial.kernels.list_eval`);
        numpy sorts them, all rows at once.
        """
        cap = self._capacity
        k, bw, ns = self._k, self._bw, self._nspare
        m = rows.size
        ov_row, ov_ent, ov_flag = ov
        ocand = np.zeros((m, 0), dtype=np.int64)
        oflag = ocand
        if ov_row.size:
            local = np.minimum(np.searchsorted(rows, ov_row), m - 1)
            mine = rows.take(local) == ov_row
            if mine.any():
                ocand, oflag = _pad(local[mine], (ov_ent[mine], ov_flag[mine]), m, (cap, 0))
        tail = np.ascontiguousarray(tail, dtype=np.int32)
        width = bw + k + tail.shape[1] + ocand.shape[1]
        key = np.empty((m, width), dtype=np.int64)
        kernels.list_keys(
            self._pos, rows, ox, oz, self._vent, self._vmask, self._xmask,
            tail, ocand, oflag, cap, key,
        )  # fmt: skip
        key.sort(axis=1)
        ok = np.empty(m, dtype=np.bool_)
        ev_row = np.empty(2 * m * width, dtype=np.int64)
        ev_ent = np.empty(2 * m * width, dtype=np.int64)
        ev_flag = np.empty(2 * m * width, dtype=np.int64)
        ev_changed = np.empty(2 * m * width, dtype=np.bool_)
        counts = np.zeros(1, dtype=np.int64)
        nev = kernels.list_eval(
            key, rows, np.ascontiguousarray(qfar, dtype=np.float64), ox, oz, self._dsum,
            k, bw, self._inner, ns, min(_PROBE, k), min(_PROBE, ns),
            self._radius, self._outer, cap,
            self._vent, self._vmask, self._xmask, self._spare, self._ncore,
            self._cmax, self._cin, self._sout, self._dout, self._dirty, self._qfar, self._kth,
            self._anc_x, self._anc_z, self._anc_d, self._fresh,
            ok, ev_row, ev_ent, ev_flag, ev_changed, counts,
        )  # fmt: skip
        if nev:
            ch = ev_changed[:nev]
            er, ee, ef = ev_row[:nev], ev_ent[:nev], ev_flag[:nev]
            if counts[0] < nev:
                now = ch & (ef > 0)
                events.entered(er[now], ee[now])
                gone = ch & (ef == 0)
                events.left(er[gone], ee[gone])
            if counts[0]:
                out = ~ch
                new_ov.append((er[out], ee[out], ef[out]))
        unproven: IntArray = rows[~ok]
        return unproven


class _Events:
    """Entered/left (row, slot) pairs collected over one tick."""

    __slots__ = ("_ee", "_er", "_le", "_lr")

    def __init__(self) -> None:
        self._er: list[IntArray] = []
        self._ee: list[IntArray] = []
        self._lr: list[IntArray] = []
        self._le: list[IntArray] = []

    def entered(self, rows: IntArray, slots: IntArray) -> None:
        self._er.append(rows)
        self._ee.append(slots)

    def left(self, rows: IntArray, slots: IntArray) -> None:
        self._lr.append(rows)
        self._le.append(slots)

    def csr(self, n: int) -> tuple[IntArray, NDArray[np.int32], IntArray, NDArray[np.int32]]:
        eptr, entered = kernels.group_rows(_cat(self._er), _cat(self._ee), n)
        lptr, left = kernels.group_rows(_cat(self._lr), _cat(self._le), n)
        return eptr, entered, lptr, left


def _no_clock() -> int:
    return 0


def _pad(
    row: IntArray, cols: tuple[IntArray, ...], m: int, fill: tuple[int, ...]
) -> tuple[IntArray, ...]:
    """Scatter items of ``row`` into padded ``(m, w)`` matrices, one per column."""
    if row.size > 1 and bool((row[1:] < row[:-1]).any()):
        order = np.argsort(row, kind="stable")
        row = row.take(order)
        cols = tuple(c.take(order) for c in cols)
    counts = np.bincount(row, minlength=m)
    w = max(int(counts.max(initial=0)), 1)
    start = np.zeros(m, dtype=np.int64)
    np.cumsum(counts[:-1], out=start[1:])
    col = np.arange(row.size, dtype=np.int64) - start.take(row)
    out = []
    for values, f in zip(cols, fill, strict=True):
        mat = np.full((m, w), f, dtype=np.int64)
        mat[row, col] = values
        out.append(mat)
    return tuple(out)


def _cat(parts: list[IntArray]) -> IntArray:
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)
