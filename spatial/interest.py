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

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from spatial.hashgrid import HashGrid, expand_runs

__all__ = ["InterestDiff", "InterestManager"]


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


# ----------------------------------------------------------------------------
# How the fast path works (the semantics above do not depend on any of this).
#
# Verlet lists. Every observer row keeps a candidate list built from a grid
# query of radius ``q + skin`` around it, where ``q`` (the row's "complete
# radius") is a bit more than its current k-th in-range distance, capped at R.
# Every entity's walked path length is accumulated; while neither the observer
# nor an entity has walked more than ``skin / 2`` since the list was built, an
# entity missing from the list is farther than ``q`` - so the list holds every
# entity that can be among the k nearest. Lists are rebuilt after
# ``rebuild_ticks`` ticks (staggered across rows), when the observer itself
# moved too far, or when a tick's k-th distance exceeds ``q`` (for example after
# departures). Entities that walked too far (teleports, joins) are "loose": they
# are paired with the rows they may have entered by a small grid of their own.
#
# Per-pair state (was visible / was in range) lives in a flag byte next to each
# list entry, so hysteresis needs no lookups; pairs that are visible but not in
# the row's list (possible after a rebuild or through a loose entity) are kept
# in a small "extras" table.
#
# Selecting the k nearest per row counts each row's distances below / inside /
# above a narrow window around last tick's k-th distance: everything below is
# in, and only the few items inside the window are sorted. Rows whose k-th
# distance jumped out of the window get a coarse histogram over [0, R] instead.
# The lists are evaluated in chunks of row blocks so temporaries stay in cache.
#
# Results never depend on the tuning: every shortcut is either exact or
# verified each tick (and repaired by a full-radius rebuild when it fails).
# ----------------------------------------------------------------------------

_FLAG_VIS = np.uint8(1)
_FLAG_INX = np.uint8(2)
_LOOSE_BUMP_FACTOR = 4.0
_SCRATCH_BYTES = 1 << 24

IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]
FloatArray = NDArray[np.float32]


def _rank_in_row(row: IntArray, d: FloatArray, ent: NDArray[np.int32]) -> tuple[IntArray, IntArray]:
    """Order of items by (row, d, ent) and each item's rank within its row.

    Returns ``(order, rank_sorted)``: ``order`` sorts the items, ``rank_sorted[i]``
    is the rank of item ``order[i]``. Distances must be >= 0 (their float32 bit
    patterns then sort like the values, so one int64 argsort does the work;
    exact distance ties fall back to a lexsort that also orders by slot).
    """
    n = row.size
    if n == 0:
        e = np.empty(0, dtype=np.int64)
        return e, e
    key = row << 32
    key |= np.ascontiguousarray(d, dtype=np.float32).view(np.uint32)
    order = np.argsort(key)
    skey = key.take(order)
    if (skey[1:] == skey[:-1]).any():
        order = np.lexsort((ent, d, row))
    srow = row.take(order)
    first = np.ones(n, dtype=np.bool_)
    np.not_equal(srow[1:], srow[:-1], out=first[1:])
    start = np.flatnonzero(first)
    rank = np.arange(n, dtype=np.int64) - np.repeat(start, np.diff(np.append(start, n)))
    return order, rank


def _sparse_csr(
    row: IntArray, ent: NDArray[np.int32], n: int
) -> tuple[IntArray, NDArray[np.int32]]:
    """CSR over ``n`` rows from a (small) unordered list of (row, ent) items."""
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(row, minlength=n), out=ptr[1:])
    out: NDArray[np.int32] = ent.take(np.argsort(row, kind="stable")).astype(np.int32)
    return ptr, out


def _cat_i64(parts: list[IntArray]) -> IntArray:
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def _cat_i32(parts: list[NDArray[np.int32]]) -> NDArray[np.int32]:
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int32)


def _hist_pass(
    crow: IntArray,
    d: FloatArray,
    lo: FloatArray,
    inv_w: float,
    nbins: int,
    k: int,
    nrows: int,
) -> tuple[BoolArray, BoolArray, IntArray, BoolArray]:
    """One histogram pass of the per-row k-th selection.

    ``crow`` are compact row ids (< ``nrows``) of items with distances ``d``;
    row ``r``'s window starts at ``lo[r]`` with ``nbins`` bins of ``1/inv_w``.
    Returns ``(surely_in, boundary, need, ok)``: items certainly among the k
    smallest, items in the bin where the k-th falls, how many boundary items
    each row still needs, and which rows' k-th fell inside the window.
    """
    width = nbins + 2
    b = (d - lo.take(crow)) * np.float32(inv_w)
    np.floor(b, out=b)
    np.clip(b, -1, nbins, out=b)
    bi = b.astype(np.int64)
    bi += 1
    key = crow * width
    key += bi
    cum = np.bincount(key, minlength=nrows * width).reshape(nrows, width)
    np.cumsum(cum, axis=1, out=cum)
    reach = cum >= k
    bstar = reach.argmax(axis=1)
    ok = reach[:, -1] & (bstar > 0) & (bstar <= nbins)
    below = cum[np.arange(nrows), np.maximum(bstar - 1, 0)]
    below[bstar == 0] = 0
    item_b = bstar.take(crow)
    item_ok = ok.take(crow)
    surely = item_ok & (bi < item_b)
    boundary = item_ok & (bi == item_b)
    return surely, boundary, k - below, ok


class InterestManager:
    """Per-observer visible sets with hysteresis; see the module docstring.

    ``InterestManager(capacity, radius=20.0, k=64, margin=2.0, **tuning)``.
    Call :meth:`update` once per tick with the full position and activity
    arrays (``capacity`` rows) and the observer slots; it returns an
    :class:`InterestDiff`. Call :meth:`grow` before passing larger arrays.

    Tuning (performance only; results are identical for any values):
    ``rebuild_ticks`` (6) - a row's candidate list is rebuilt at least this
    often; ``skin`` (1.0 m) - list slack, should exceed twice the distance an
    avatar walks in ``rebuild_ticks`` ticks; ``slack`` (0.25 m) - extra list
    radius for the k-th distance to grow between rebuilds; ``window`` (0.2 m) -
    half-width of the band around last tick's k-th distance that is sorted;
    ``chunk`` (65536) - list entries evaluated per vectorised pass.
    """

    def __init__(
        self,
        capacity: int,
        radius: float = 20.0,
        k: int = 64,
        margin: float = 2.0,
        **tuning: Any,
    ) -> None:
        if capacity < 0:
            raise ValueError("capacity must be >= 0")
        if not radius > 0.0:
            raise ValueError("radius must be positive")
        if k < 1:
            raise ValueError("k must be >= 1")
        if not margin >= 0.0:
            raise ValueError("margin must be >= 0")
        opts: dict[str, Any] = {
            "rebuild_ticks": 6,
            "skin": 1.0,
            "slack": 0.25,
            "window": 0.2,
            "chunk": 65536,
        }
        unknown = set(tuning) - set(opts)
        if unknown:
            raise TypeError(f"unknown tuning options: {sorted(unknown)}")
        opts.update(tuning)
        if int(opts["rebuild_ticks"]) < 1 or not float(opts["skin"]) > 0.0:
            raise ValueError("rebuild_ticks must be >= 1 and skin > 0")
        if not float(opts["slack"]) >= 0.0 or not float(opts["window"]) >= 0.0:
            raise ValueError("slack and window must be >= 0")
        self._radius = np.float32(radius)
        self._outer = np.float32(radius + margin)
        self._k = int(k)
        self._ticks = int(opts["rebuild_ticks"])
        self._skin = float(opts["skin"])
        self._half = self._skin / 2.0
        self._slack = float(opts["slack"])
        self._window = float(opts["window"])
        self._chunk = max(1, int(opts["chunk"]))
        self._coarse_bins = 64
        self._tick = 0
        self._capacity = 0
        # per slot
        self._path = np.zeros(0, dtype=np.float64)  # walked path length (+ bumps)
        self._path_hist = np.zeros((self._ticks, 0), dtype=np.float64)  # ring of _path
        self._prev_pos = np.zeros((0, 2), dtype=np.float32)
        self._prev_act = np.zeros(0, dtype=np.bool_)
        self._has_row = np.zeros(0, dtype=np.bool_)
        self._built = np.zeros(0, dtype=np.int64)
        self._expire = np.zeros(0, dtype=np.int64)
        self._q = np.zeros(0, dtype=np.float32)  # complete radius of the row's list
        self._kth = np.zeros(0, dtype=np.float32)  # last k-th in-range distance (or R)
        self._row_of = np.zeros(0, dtype=np.int64)  # scratch: slot -> row, else -1
        self._local = np.zeros(0, dtype=np.int64)  # scratch: slot -> rebuilt row, else -1
        self._scratch = np.zeros(0, dtype=np.uint8)  # scratch: (row, entity) flag table
        # candidate lists, one contiguous block per row
        self._blk_slot = np.zeros(0, dtype=np.int32)
        self._blk_len = np.zeros(0, dtype=np.int64)
        self._ent = np.zeros(0, dtype=np.int32)
        self._flag = np.zeros(0, dtype=np.uint8)
        # flagged pairs that are not in their row's list
        self._x_slot = np.zeros(0, dtype=np.int32)
        self._x_ent = np.zeros(0, dtype=np.int32)
        self._x_flag = np.zeros(0, dtype=np.uint8)
        self.grow(capacity)

    # ------------------------------------------------------------------ public

    @property
    def capacity(self) -> int:
        """Number of slots the arrays passed to :meth:`update` must have."""
        return self._capacity

    @property
    def radius(self) -> float:
        """Entry radius in metres."""
        return float(self._radius)

    @property
    def k(self) -> int:
        """Maximum number of visible entities per observer."""
        return self._k

    def grow(self, capacity: int) -> None:
        """Accept arrays of ``capacity`` rows from now on; all state is kept.

        ``capacity`` must not be smaller than the current one.
        """
        old = self._capacity
        if capacity < old:
            raise ValueError("capacity can only grow")
        extra = int(capacity) - old
        if extra == 0:
            return

        def ext(a: NDArray[Any], fill: Any) -> NDArray[Any]:
            pad = np.full((extra, *a.shape[1:]), fill, dtype=a.dtype)
            return np.concatenate((a, pad))

        self._path = ext(self._path, 0.0)
        hist = np.zeros((self._ticks, capacity), dtype=np.float64)
        hist[:, :old] = self._path_hist
        self._path_hist = hist
        self._prev_pos = ext(self._prev_pos, 0.0)
        self._prev_act = ext(self._prev_act, False)
        self._has_row = ext(self._has_row, False)
        self._built = ext(self._built, 0)
        self._expire = ext(self._expire, 0)
        self._q = ext(self._q, 0.0)
        self._kth = ext(self._kth, self._radius)
        self._row_of = ext(self._row_of, -1)
        self._local = ext(self._local, -1)
        self._capacity = int(capacity)

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

    # ------------------------------------------------------------------ internals

    def _check(
        self,
        positions: NDArray[np.float32],
        active: NDArray[np.bool_],
        observers: NDArray[np.int32],
    ) -> tuple[NDArray[np.float32], NDArray[np.bool_], NDArray[np.int32]]:
        cap = self._capacity
        positions = np.ascontiguousarray(positions, dtype=np.float32)
        active = np.ascontiguousarray(active, dtype=np.bool_)
        observers = np.ascontiguousarray(observers, dtype=np.int32).reshape(-1)
        if positions.shape != (cap, 2):
            raise ValueError(f"positions must have shape ({cap}, 2), got {positions.shape}")
        if active.shape != (cap,):
            raise ValueError(f"active must have shape ({cap},), got {active.shape}")
        n = observers.size
        if n:
            if int(observers.min()) < 0 or int(observers.max()) >= cap:
                raise ValueError("observer slot out of range")
            row_of = self._row_of
            row_of[observers] = np.arange(n, dtype=np.int64)
            dup = not np.array_equal(row_of.take(observers), np.arange(n, dtype=np.int64))
            row_of[observers] = -1
            if dup:
                raise ValueError("observers must be unique")
        with np.errstate(invalid="ignore"):
            finite = np.isfinite(positions[:, 0]) & np.isfinite(positions[:, 1])
        if not finite[active].all():
            raise ValueError("positions of active slots must be finite")
        return positions, active, observers

    def _entry_slots(self) -> NDArray[np.int32]:
        slots: NDArray[np.int32] = np.repeat(self._blk_slot, self._blk_len)
        return slots

    def _drop_blocks(self, drop_slot: BoolArray) -> None:
        """Remove the list blocks (and extras) of slots where ``drop_slot`` is set."""
        if self._blk_slot.size:
            gone = drop_slot.take(self._blk_slot)
            if gone.any():
                keep_e = np.repeat(~gone, self._blk_len)
                idx = np.flatnonzero(keep_e)
                self._ent = self._ent.take(idx)
                self._flag = self._flag.take(idx)
                self._blk_slot = self._blk_slot[~gone]
                self._blk_len = self._blk_len[~gone]
        if self._x_slot.size:
            keep = ~drop_slot.take(self._x_slot)
            if not keep.all():
                self._x_slot = self._x_slot[keep]
                self._x_ent = self._x_ent[keep]
                self._x_flag = self._x_flag[keep]

    def _rebuild(
        self,
        slots: NDArray[np.int32],
        guess: FloatArray,
        positions: NDArray[np.float32],
        grid: HashGrid,
        tick: int,
        fresh_expiry: BoolArray,
    ) -> None:
        """Rebuild the candidate lists of ``slots`` (current observers, active).

        ``guess`` is each row's complete radius to try (<= R); rows where fewer
        than k entities lie within ``guess - skin`` retry with R. Flags of the
        rows' old pairs move to the new list, or to the extras when absent.
        """
        skin = np.float32(self._skin)
        nr = slots.size
        cap = self._capacity
        g = np.minimum(guess, self._radius).astype(np.float32)
        qi, ent, d = grid.pairs_within(positions.take(slots, axis=0), g + skin)
        keep = np.flatnonzero(ent != slots.take(qi))
        qi, ent, d = qi.take(keep), ent.take(keep), d.take(keep)
        short = g < self._radius
        if short.any():
            inner = d <= (g - skin).take(qi)
            cnt = np.bincount(qi[inner], minlength=nr)
            retry = short & (cnt < self._k)
            if retry.any():
                g[retry] = self._radius
                ridx = np.flatnonzero(retry)
                rslots = slots.take(ridx)
                qi2, ent2, _ = grid.pairs_within(
                    positions.take(rslots, axis=0), self._radius + skin
                )
                keep2 = np.flatnonzero(ent2 != rslots.take(qi2))
                stay = np.flatnonzero(~retry.take(qi))
                qi = np.concatenate((qi.take(stay), ridx.take(qi2.take(keep2))))
                ent = np.concatenate((ent.take(stay), ent2.take(keep2)))
                # group by row again (the retried rows were appended)
                order = np.argsort(qi, kind="stable")
                qi, ent = qi.take(order), ent.take(order)
        new_flag = np.zeros(ent.size, dtype=np.uint8)

        # old flagged pairs of these rows: from their old list blocks and the extras
        is_row = np.zeros(cap, dtype=np.bool_)
        is_row[slots] = True
        bsel = np.flatnonzero(is_row.take(self._blk_slot))
        starts = np.cumsum(self._blk_len) - self._blk_len
        run, eidx = expand_runs(starts.take(bsel), self._blk_len.take(bsel))
        e_flag = self._flag.take(eidx)
        flagged = np.flatnonzero(e_flag)
        old_x = np.flatnonzero(is_row.take(self._x_slot))
        o_slot = np.concatenate(
            (self._blk_slot.take(bsel).take(run.take(flagged)), self._x_slot.take(old_x))
        )
        o_ent = np.concatenate((self._ent.take(eidx.take(flagged)), self._x_ent.take(old_x)))
        o_flag = np.concatenate((e_flag.take(flagged), self._x_flag.take(old_x)))
        self._drop_blocks(is_row)
        if o_slot.size:
            # carry flags over with a dense (row, entity) scratch table, in row chunks
            local = self._local
            local[slots] = np.arange(nr, dtype=np.int64)
            o_lr = local.take(o_slot)
            local[slots] = -1
            per = max(1, _SCRATCH_BYTES // max(cap, 1))
            if self._scratch.size < min(nr, per) * cap:
                self._scratch = np.zeros(min(nr, per) * cap, dtype=np.uint8)
            scratch = self._scratch
            unmatched = np.zeros(o_slot.size, dtype=np.bool_)
            for c0 in range(0, nr, per):  # one pass unless rows x capacity is huge
                if nr <= per:
                    osel = np.arange(o_slot.size)
                    nlo, nhi = 0, qi.size
                else:
                    osel = np.flatnonzero((o_lr >= c0) & (o_lr < c0 + per))
                    nlo, nhi = np.searchsorted(qi, [c0, c0 + per]).tolist()
                okey = (o_lr.take(osel) - c0) * cap + o_ent.take(osel)
                nkey = (qi[nlo:nhi] - c0) * cap + ent[nlo:nhi]
                scratch[okey] = o_flag.take(osel)
                new_flag[nlo:nhi] = scratch.take(nkey)
                scratch[nkey] = 0
                unmatched[osel] = scratch.take(okey) != 0
                scratch[okey] = 0
            rest = np.flatnonzero(unmatched)
            if rest.size:
                self._x_slot = np.concatenate((self._x_slot, o_slot.take(rest)))
                self._x_ent = np.concatenate((self._x_ent, o_ent.take(rest)))
                self._x_flag = np.concatenate((self._x_flag, o_flag.take(rest)))
        # append the new blocks
        if qi.size:
            first = np.ones(qi.size, dtype=np.bool_)
            np.not_equal(qi[1:], qi[:-1], out=first[1:])
            starts = np.flatnonzero(first)
            lens = np.diff(np.append(starts, qi.size))
            self._blk_slot = np.concatenate((self._blk_slot, slots.take(qi.take(starts))))
            self._blk_len = np.concatenate((self._blk_len, lens))
            self._ent = np.concatenate((self._ent, ent))
            self._flag = np.concatenate((self._flag, new_flag))
        self._q[slots] = g
        self._built[slots] = tick
        expiry = np.full(nr, tick + self._ticks, dtype=np.int64)
        if fresh_expiry.any():
            # spread first rebuilds over the period so later ones stay staggered
            f = slots[fresh_expiry].astype(np.int64)
            expiry[fresh_expiry] = tick + 1 + ((f * 2654435761) >> 8) % self._ticks
        self._expire[slots] = expiry
        self._has_row[slots] = True

    def _grid(
        self, positions: NDArray[np.float32], active: NDArray[np.bool_], cell: float
    ) -> HashGrid:
        act = np.flatnonzero(active).astype(np.int32)
        return HashGrid(positions.take(act, axis=0), act, cell)

    def _loose_pairs(
        self,
        positions: NDArray[np.float32],
        active: NDArray[np.bool_],
        kept: NDArray[np.int32],
        tick: int,
    ) -> tuple[NDArray[np.int32], NDArray[np.int32]]:
        """New (slot, entity) pairs within R for rows in ``kept`` whose lists may
        miss an entity that walked more than skin/2 since the list was built.

        Pairs already present in a row's list or extras are left out.
        """
        none = np.zeros(0, dtype=np.int32)
        if kept.size == 0:
            return none, none
        h = self._ticks
        oldest = self._path_hist[(tick + 1) % h]
        cand = np.flatnonzero(active & (self._path - oldest > self._half))
        if cand.size == 0:
            return none, none
        path_c = self._path.take(cand)
        built = self._built.take(kept)
        out_s: list[NDArray[np.int32]] = []
        out_e: list[NDArray[np.int32]] = []
        for b in np.unique(built).tolist():  # at most rebuild_ticks cohorts
            loose = cand[path_c - self._path_hist[b % h].take(cand) > self._half]
            if loose.size == 0:
                continue
            rows = kept[built == b]
            grid = HashGrid(
                positions.take(loose, axis=0), loose.astype(np.int32), float(self._radius)
            )
            qi, ent, _ = grid.pairs_within(positions.take(rows, axis=0), self._radius)
            s = rows.take(qi)
            keep = ent != s
            out_s.append(s[keep])
            out_e.append(ent[keep])
        if not out_s:
            return none, none
        p_slot = np.concatenate(out_s)
        p_ent = np.concatenate(out_e)
        if p_slot.size == 0:
            return none, none
        # leave out pairs the row already holds (its list or its extras)
        is_cand = np.zeros(self._capacity, dtype=np.bool_)
        is_cand[cand] = True
        hold_e = np.flatnonzero(is_cand.take(self._ent))
        hold_x = np.flatnonzero(is_cand.take(self._x_ent))
        e_slot = self._entry_slots()
        held = np.concatenate(
            (
                (e_slot.take(hold_e).astype(np.int64) << 32) | self._ent.take(hold_e),
                (self._x_slot.take(hold_x).astype(np.int64) << 32) | self._x_ent.take(hold_x),
            )
        )
        if held.size:
            held.sort()
            p_key = (p_slot.astype(np.int64) << 32) | p_ent
            at = np.minimum(np.searchsorted(held, p_key), held.size - 1)
            fresh = held.take(at) != p_key
            p_slot, p_ent = p_slot[fresh], p_ent[fresh]
        return p_slot, p_ent

    def _update(
        self,
        positions: NDArray[np.float32],
        active: NDArray[np.bool_],
        observers: NDArray[np.int32],
    ) -> InterestDiff:
        tick = self._tick + 1
        self._tick = tick
        h = self._ticks
        radius = self._radius

        # --- walked path per slot (joins count as a long walk)
        both = active & self._prev_act
        step = positions - self._prev_pos
        step *= step
        dist = np.sqrt(step[:, 0] + step[:, 1])
        dist[~both] = 0.0
        dist[active & ~self._prev_act] = _LOOSE_BUMP_FACTOR * self._half + 1.0
        self._path += dist
        self._path_hist[tick % h] = self._path
        self._prev_pos[:] = positions
        self._prev_act[:] = active

        # --- rows: drop those of slots that stopped observing
        n = observers.size
        row_of = self._row_of
        row_of[observers] = np.arange(n, dtype=np.int64)
        not_observing = row_of < 0
        self._has_row &= ~not_observing
        self._drop_blocks(not_observing)

        obs_act = active.take(observers)
        has = self._has_row.take(observers)
        built = self._built.take(observers)
        walked = self._path.take(observers) - self._path_hist[built % h, observers]
        rebuild = obs_act & (~has | (self._expire.take(observers) <= tick) | (walked > self._half))
        grid: HashGrid | None = None
        rb = np.flatnonzero(rebuild)
        if rb.size:
            rslots = observers.take(rb)
            fresh = ~has.take(rb)
            guess = self._kth.take(rslots) + np.float32(self._skin + self._slack)
            grid = self._grid(positions, active, self._cell_for(guess))
            if fresh.any():
                # no k-th distance known yet: estimate it from the local density
                # (a wrong guess only costs a retry at full radius)
                fs = rslots[fresh]
                rho = grid.density(positions.take(fs, axis=0), 2.0 * grid.cell)
                est = np.sqrt(self._k / (np.pi * np.maximum(rho, 1e-9))) * 1.25
                guess[fresh] = (est + self._skin + self._slack).astype(np.float32)
            self._rebuild(rslots, guess, positions, grid, tick, fresh)
        kept = observers[obs_act & ~rebuild]
        p_slot, p_ent = self._loose_pairs(positions, active, kept, tick)

        diff, failed = self._select(positions, active, observers, obs_act, p_slot, p_ent, n)
        if failed.size:
            # a row's k-th distance moved beyond its list's complete radius (e.g. after
            # departures): rebuild those rows at full radius, which cannot fail again
            fslots = observers.take(failed)
            if grid is None:
                grid = self._grid(positions, active, self._cell_for(np.array([radius])))
            self._rebuild(
                fslots,
                np.full(fslots.size, radius, dtype=np.float32),
                positions,
                grid,
                tick,
                np.zeros(fslots.size, dtype=np.bool_),
            )
            is_f = np.zeros(self._capacity, dtype=np.bool_)
            is_f[fslots] = True
            keep_p = ~is_f.take(p_slot)
            diff, failed = self._select(
                positions, active, observers, obs_act, p_slot[keep_p], p_ent[keep_p], n
            )
            if failed.size:  # pragma: no cover - a full-radius list is always complete
                raise RuntimeError("interest manager: list incomplete after a full rebuild")

        # rows of inactive observers are closed (their sets were reported as left)
        closed = observers[~obs_act]
        if closed.size:
            is_c = np.zeros(self._capacity, dtype=np.bool_)
            is_c[closed] = True
            self._drop_blocks(is_c)
            self._has_row[closed] = False
        row_of[observers] = -1
        return diff

    def _cell_for(self, radii: FloatArray) -> float:
        r = float(np.median(radii)) + self._skin
        return max(0.5, min(r, float(self._outer) + self._skin) / 2.0)

    def _select(
        self,
        positions: NDArray[np.float32],
        active: NDArray[np.bool_],
        observers: NDArray[np.int32],
        obs_act: BoolArray,
        p_slot: NDArray[np.int32],
        p_ent: NDArray[np.int32],
        n: int,
    ) -> tuple[InterestDiff, IntArray]:
        """Evaluate every candidate pair, pick the visible sets and build the diff.

        List blocks are processed in chunks of about ``chunk`` entries so every
        temporary stays in cache (one pass over a million-entry array costs
        several times more than the same pass over 30k-entry pieces). Rows that
        also have extras or new loose pairs are evaluated together in one more
        chunk. Returns the diff and the rows (positions) whose list was found
        incomplete; state is written back only when there are none.
        """
        cpos = positions.view(np.complex64).reshape(-1)
        row_of = self._row_of
        blk_slot, blk_len = self._blk_slot, self._blk_len
        nblk = blk_slot.size
        ends = np.cumsum(blk_len)
        starts = ends - blk_len
        total = int(ends[-1]) if nblk else 0
        s_slot = np.concatenate((self._x_slot, p_slot))
        s_ent = np.concatenate((self._x_ent, p_ent))
        s_flag = np.concatenate((self._x_flag, np.zeros(p_ent.size, dtype=np.uint8)))
        special = np.zeros(nblk, dtype=np.bool_)
        if s_slot.size:
            is_s = np.zeros(self._capacity, dtype=np.bool_)
            is_s[s_slot] = True
            special = is_s.take(blk_slot)

        flag_parts: list[NDArray[np.uint8]] = []
        vis_rows: list[IntArray] = []
        vis_counts: list[IntArray] = []
        vis_ents: list[NDArray[np.int32]] = []
        ev_rows: list[IntArray] = []
        ev_ents: list[NDArray[np.int32]] = []
        lv_rows: list[IntArray] = []
        lv_ents: list[NDArray[np.int32]] = []
        kth_slots: list[NDArray[np.int32]] = []
        kth_vals: list[FloatArray] = []
        failed: list[IntArray] = []

        cuts = np.searchsorted(ends, np.arange(self._chunk, total, self._chunk), side="left")
        bounds = np.unique(np.concatenate(([0], cuts + 1, [nblk])))
        bounds = bounds[bounds <= nblk]
        for b0, b1 in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
            e0, e1 = int(starts[b0]), int(ends[b1 - 1])
            lens = blk_len[b0:b1]
            rslots = blk_slot[b0:b1]
            skip = special[b0:b1]
            rows = row_of.take(rslots)
            ent = self._ent[e0:e1]
            lrow4 = np.repeat(np.arange(0, 4 * (b1 - b0), 4, dtype=np.int64), lens)

            def rep(per_row: NDArray[Any], lens: IntArray = lens) -> NDArray[Any]:
                return np.repeat(per_row, lens)

            ok_rows = active.take(rslots) & ~skip
            out = self._kernel(
                cpos,
                active,
                ent,
                self._flag[e0:e1],
                lrow4,
                np.repeat(cpos.take(rslots), lens),
                ok_rows,
                rslots,
                rep,
            )
            vis, new_flag, kth, bad, e_idx, l_idx = out
            flag_parts.append(new_flag)
            keep = ~skip
            if bad.any():
                failed.append(rows[bad & keep])
            kth_slots.append(rslots[ok_rows])
            kth_vals.append(kth[ok_rows])
            cpad = np.zeros(e1 - e0 + 1, dtype=np.int64)
            np.cumsum(vis, out=cpad[1:])
            per_row = cpad[lens.cumsum()] - cpad[lens.cumsum() - lens]
            vis_rows.append(rows[keep])
            vis_counts.append(per_row[keep])
            vis_ents.append(ent.take(np.flatnonzero(vis)))
            ev_rows.append(rows.take(lrow4.take(e_idx) >> 2))
            ev_ents.append(ent.take(e_idx))
            l_row = lrow4.take(l_idx) >> 2
            lk = keep.take(l_row)
            lv_rows.append(rows.take(l_row[lk]))
            lv_ents.append(ent.take(l_idx[lk]))

        sp_eidx = np.zeros(0, dtype=np.int64)
        sp_flag = np.zeros(0, dtype=np.uint8)
        new_x = (np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.uint8))
        if s_slot.size:
            sp = np.flatnonzero(special)
            run, sp_eidx = expand_runs(starts.take(sp), blk_len.take(sp))
            rslots = np.unique(s_slot)
            item_slot = np.concatenate((blk_slot.take(sp).take(run), s_slot))
            lrow = np.searchsorted(rslots, item_slot)
            ent = np.concatenate((self._ent.take(sp_eidx), s_ent))
            flag = np.concatenate((self._flag.take(sp_eidx), s_flag))
            rows = row_of.take(rslots)

            def rep_s(per_row: NDArray[Any]) -> NDArray[Any]:
                return per_row.take(lrow)

            ok_rows = active.take(rslots)
            out = self._kernel(
                cpos, active, ent, flag, lrow * 4, cpos.take(item_slot), ok_rows, rslots, rep_s
            )
            vis, new_flag, kth, bad, e_idx, l_idx = out
            if bad.any():
                failed.append(rows[bad])
            kth_slots.append(rslots[ok_rows])
            kth_vals.append(kth[ok_rows])
            vidx = np.flatnonzero(vis)
            vrow = lrow.take(vidx)
            order = np.argsort(vrow, kind="stable")
            vis_rows.append(rows)
            vis_counts.append(np.bincount(vrow, minlength=rslots.size))
            vis_ents.append(ent.take(vidx.take(order)))
            ev_rows.append(rows.take(lrow.take(e_idx)))
            ev_ents.append(ent.take(e_idx))
            lv_rows.append(rows.take(lrow.take(l_idx)))
            lv_ents.append(ent.take(l_idx))
            nb_items = sp_eidx.size
            sp_flag = new_flag[:nb_items]
            xs = np.flatnonzero(new_flag[nb_items:])
            new_x = (s_slot.take(xs), s_ent.take(xs), new_flag[nb_items:].take(xs))

        if failed:
            bad_rows = np.concatenate(failed)
            if bad_rows.size:
                return self._empty_diff(observers), bad_rows

        # write back: flags, extras, k-th distances
        new_flags = np.concatenate(flag_parts) if flag_parts else np.zeros(0, np.uint8)
        if sp_eidx.size:
            new_flags[sp_eidx] = sp_flag
        self._flag = new_flags
        self._x_slot, self._x_ent, self._x_flag = new_x
        if kth_slots:
            self._kth[np.concatenate(kth_slots)] = np.concatenate(kth_vals)

        # visible CSR: every row's entities come from exactly one chunk, in row order
        counts = np.zeros(n, dtype=np.int64)
        for r, c in zip(vis_rows, vis_counts, strict=True):
            counts[r] = c
        ptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(counts, out=ptr[1:])
        visible = np.empty(int(ptr[-1]), dtype=np.int32)
        for r, c, e in zip(vis_rows, vis_counts, vis_ents, strict=True):
            if e.size:
                dest = np.repeat(ptr.take(r) - (np.cumsum(c) - c), c)
                dest += np.arange(e.size, dtype=np.int64)
                visible[dest] = e
        eptr, entered = _sparse_csr(_cat_i64(ev_rows), _cat_i32(ev_ents), n)
        lptr, left = _sparse_csr(_cat_i64(lv_rows), _cat_i32(lv_ents), n)
        diff = InterestDiff(observers.copy(), ptr, visible, eptr, entered, lptr, left)
        return diff, np.zeros(0, dtype=np.int64)

    def _kernel(
        self,
        cpos: NDArray[np.complex64],
        active: BoolArray,
        ent: NDArray[np.int32],
        flag: NDArray[np.uint8],
        lrow4: IntArray,
        opos: NDArray[np.complex64],
        ok_rows: BoolArray,
        rslots: NDArray[np.int32],
        rep: Any,
    ) -> tuple[BoolArray, NDArray[np.uint8], FloatArray, BoolArray, IntArray, IntArray]:
        """Selection for one chunk of candidate items over local rows.

        ``lrow4`` is 4 x the local row of each item, ``rep`` broadcasts a per-row
        array to the items, ``rslots`` are the rows' observer slots and
        ``ok_rows`` which rows take part (others see nothing). Returns
        ``(visible, new_flags, kth, incomplete_rows, entered_items, left_items)``.
        """
        k = self._k
        radius = self._radius
        nr = rslots.size
        z = cpos.take(ent)
        z -= opos
        re = z.real
        im = z.imag
        d = re * re
        d += im * im
        np.sqrt(d, out=d)
        valid = active.take(ent)
        if not ok_rows.all():
            valid &= rep(ok_rows)

        # X, the k nearest within R: count items below / inside / above a narrow
        # window around each row's previous k-th distance; only rows whose k-th
        # now falls inside the window need a (small) sort of the window items
        prev = self._kth.take(rslots)
        half_w = np.float32(self._window)
        inr = valid & (d <= radius)
        code = inr.view(np.uint8).copy()
        code += d > rep(prev - half_w)
        code += d > rep(prev + half_w)
        code *= inr.view(np.uint8)
        cnt = np.bincount(lrow4 + code, minlength=4 * nr).reshape(nr, 4)
        below, inwin = cnt[:, 1], cnt[:, 2]
        n_in = below + inwin + cnt[:, 3]
        small = n_in <= k
        hit = ~small & (below < k) & (below + inwin >= k)
        miss = ~small & ~hit
        # code <= thr selects everything in range (small rows) or the sure part (hit rows)
        thr = np.where(small, 3, np.where(hit, 1, 0)).astype(np.uint8)
        inx = code <= rep(thr)
        inx &= inr
        kth = np.full(nr, radius, dtype=np.float32)
        if hit.any():
            w_idx = np.flatnonzero((code == 2) & rep(hit))
            self._take_nearest(inx, kth, w_idx, lrow4, d, ent, k - below)
        if miss.any():
            m_idx = np.flatnonzero(inr & rep(miss))
            self._coarse_select(inx, kth, m_idx, lrow4, d, ent, miss)

        # completeness: the k-th must lie within the list's complete radius
        q = self._q.take(rslots)
        bad = ~(np.where(small, q >= radius, kth <= q) | ~ok_rows)

        # V: settled (A = in X and seen before), held incumbents (B), newcomers (C)
        was = flag != 0
        was_vis = (flag & _FLAG_VIS).view(np.bool_)
        c_idx = np.flatnonzero(inx & ~was)
        b_mask = was_vis & ~inx
        b_mask &= valid
        b_mask &= d <= self._outer
        b_idx = np.flatnonzero(b_mask)
        vis = inx | b_mask
        c_row = lrow4.take(c_idx) >> 2
        b_row = lrow4.take(b_idx) >> 2
        n_c = np.bincount(c_row, minlength=nr)
        n_b = np.bincount(b_row, minlength=nr)
        slots = k - (np.minimum(n_in, k) - n_c)
        if (n_b > slots).any():
            self._trim(vis, b_idx, b_row, d, ent, slots)
        slots2 = slots - np.minimum(n_b, slots)
        if (n_c > slots2).any():
            self._trim(vis, c_idx, c_row, d, ent, slots2)
        new_flag: NDArray[np.uint8] = inx.view(np.uint8) * np.uint8(2)
        new_flag |= vis.view(np.uint8)
        e_idx = np.flatnonzero(vis & ~was_vis)
        l_idx = np.flatnonzero(was_vis & ~vis)
        return vis, new_flag, kth, bad, e_idx, l_idx

    @staticmethod
    def _empty_diff(observers: NDArray[np.int32]) -> InterestDiff:
        n = observers.size
        z = np.zeros(n + 1, np.int64)
        e = np.zeros(0, np.int32)
        return InterestDiff(observers.copy(), z, e, z.copy(), e.copy(), z.copy(), e.copy())

    @staticmethod
    def _trim(
        vis: BoolArray,
        idx: IntArray,
        rows: IntArray,
        d: FloatArray,
        ent: NDArray[np.int32],
        allowed: IntArray,
    ) -> None:
        """Among items ``idx`` (rows ``rows``), keep only the ``allowed[row]`` nearest."""
        order, rank = _rank_in_row(rows, d.take(idx), ent.take(idx))
        drop = rank >= allowed.take(rows.take(order))
        vis[idx.take(order[drop])] = False

    @staticmethod
    def _take_nearest(
        inx: BoolArray,
        kth: FloatArray,
        idx: IntArray,
        row4: IntArray,
        d: FloatArray,
        ent: NDArray[np.int32],
        need: IntArray,
    ) -> None:
        """Select the ``need[row]`` nearest of items ``idx``; record each row's last one."""
        rows = row4.take(idx) >> 2
        order, rank = _rank_in_row(rows, d.take(idx), ent.take(idx))
        srow = rows.take(order)
        nd = need.take(srow)
        inx[idx.take(order[rank < nd])] = True
        last = rank == nd - 1
        kth[srow[last]] = d.take(idx.take(order[last]))

    def _coarse_select(
        self,
        inx: BoolArray,
        kth: FloatArray,
        idx: IntArray,
        row4: IntArray,
        d: FloatArray,
        ent: NDArray[np.int32],
        rows_mask: BoolArray,
    ) -> None:
        """k nearest for rows whose k-th left the narrow window (joins, teleports,
        first ticks): a histogram over [0, R], then a sort of the crossing bin."""
        k = self._k
        big_rows = np.flatnonzero(rows_mask)
        nb = big_rows.size
        compact = np.full(rows_mask.size, -1, dtype=np.int64)
        compact[big_rows] = np.arange(nb, dtype=np.int64)
        crow = compact.take(row4.take(idx) >> 2)
        cb = self._coarse_bins
        inv = cb / (float(self._radius) * (1.0 + 1e-6))
        dd = d.take(idx)
        sure, boundary, need, ok = _hist_pass(crow, dd, np.zeros(nb, np.float32), inv, cb, k, nb)
        lost = ~ok  # cannot happen for d in [0, R]; sort such rows in full
        if lost.any():
            boundary |= lost.take(crow)
            need[lost] = k
        inx[idx[sure]] = True
        bi = np.flatnonzero(boundary)
        need_rows = np.zeros(rows_mask.size, dtype=np.int64)
        need_rows[big_rows] = need
        self._take_nearest(inx, kth, idx.take(bi), row4, d, ent, need_rows)
