"""Reference interest manager: the straightforward per-tick recompute.

Same semantics and API as :class:`spatial.interest.InterestManager` (see the
``spatial.interest`` module docstring), recomputed from a fresh grid query of
radius ``radius + margin`` every tick and ranked with full sorts. Kept as a
second, independent implementation for differential tests at sizes where the
Python oracle is too slow. Not for the hot path.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from spatial.hashgrid import HashGrid
from spatial.interest import InterestDiff, _InterestBase

__all__ = ["ReferenceInterestManager"]

_SHIFT = np.int64(32)
_LOW = np.int64(0xFFFFFFFF)


def _csr_from_keys(
    keys: NDArray[np.int64], nrows: int
) -> tuple[NDArray[np.int64], NDArray[np.int32]]:
    """Sorted ``row << 32 | slot`` keys to ``(ptr, slots)``."""
    rows = keys >> _SHIFT
    ptr = np.zeros(nrows + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=nrows), out=ptr[1:])
    return ptr, (keys & _LOW).astype(np.int32)


def _in_sorted(needles: NDArray[np.int64], haystack: NDArray[np.int64]) -> NDArray[np.bool_]:
    """Membership of each needle in the sorted array ``haystack``."""
    if haystack.size == 0:
        return np.zeros(needles.shape, dtype=np.bool_)
    at = np.searchsorted(haystack, needles)
    at[at == haystack.size] = 0
    hit: NDArray[np.bool_] = haystack[at] == needles
    return hit


def _rank_in_row(
    row: NDArray[np.int64], d: NDArray[np.float32], slot: NDArray[np.int32]
) -> NDArray[np.int64]:
    """Rank of each element within its row when rows are ordered by (d, slot)."""
    n = row.size
    rank = np.empty(n, dtype=np.int64)
    if n == 0:
        return rank
    order = np.lexsort((slot, d, row))
    srow = row[order]
    first = np.ones(n, dtype=np.bool_)
    first[1:] = srow[1:] != srow[:-1]
    start = np.flatnonzero(first)
    run = np.cumsum(first) - 1
    rank[order] = np.arange(n, dtype=np.int64) - start[run]
    return rank


class ReferenceInterestManager(_InterestBase):
    """Per-observer visible sets with hysteresis; see the module docstring.

    ``ReferenceInterestManager(capacity, radius=20.0, k=64, margin=2.0)``. Call
    :meth:`update` once per tick with the full position and activity arrays
    (``capacity`` rows) and the observer slots; it returns an
    :class:`InterestDiff`. Call :meth:`grow` before passing larger arrays.
    """

    def __init__(
        self,
        capacity: int,
        radius: float = 20.0,
        k: int = 64,
        margin: float = 2.0,
        **tuning: Any,
    ) -> None:
        super().__init__(capacity, radius, k, margin)
        if tuning:
            raise TypeError(f"unknown tuning options: {sorted(tuning)}")
        self._grow_slots(capacity)
        # previous update's state, keyed by observer slot: sorted slot << 32 | entity
        self._vis_keys = np.empty(0, dtype=np.int64)
        self._inx_keys = np.empty(0, dtype=np.int64)
        self._cell = float(radius + margin) / 2.0

    def grow(self, capacity: int) -> None:
        """Accept arrays of ``capacity`` rows from now on; all state is kept.

        ``capacity`` must not be smaller than the current one.
        """
        self._grow_slots(capacity)

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
        observer sees nothing. Raises ``ValueError`` on bad shapes or slots.
        """
        positions, active, observers = self._check(positions, active, observers)
        n = observers.size
        act = np.flatnonzero(active).astype(np.int32)
        obs_ok = active[observers]
        qrow = np.flatnonzero(obs_ok)
        grid = HashGrid(positions[act], act, self._cell)
        qi, ent, d = grid.pairs_within(positions[observers[qrow]], self._outer)
        row = qrow[qi]
        notself = ent != observers[row]
        row, ent, d = row[notself], ent[notself], d[notself]

        slot_keys = (observers[row].astype(np.int64) << _SHIFT) | ent
        was_vis = _in_sorted(slot_keys, self._vis_keys)
        was_inx = _in_sorted(slot_keys, self._inx_keys)

        in_r = d <= self._radius
        inx = np.zeros(row.size, dtype=np.bool_)
        idx = np.flatnonzero(in_r)
        inx[idx] = _rank_in_row(row[idx], d[idx], ent[idx]) < self._k

        a = inx & (was_inx | was_vis)
        b = was_vis & ~inx
        c = inx & ~a
        slots = self._k - np.bincount(row[a], minlength=n)
        vis = a.copy()
        for cls in (b, c):
            idx = np.flatnonzero(cls)
            take = _rank_in_row(row[idx], d[idx], ent[idx]) < slots[row[idx]]
            vis[idx[take]] = True
            slots = slots - np.bincount(row[idx[take]], minlength=n)

        # old visible pairs of observers that are still observing, re-keyed by row
        pos_of_slot = np.full(self._capacity, -1, dtype=np.int64)
        pos_of_slot[observers] = np.arange(n, dtype=np.int64)
        old_pos = pos_of_slot[(self._vis_keys >> _SHIFT)]
        keep_old = old_pos >= 0
        old_keys = np.sort((old_pos[keep_old] << _SHIFT) | (self._vis_keys[keep_old] & _LOW))
        new_keys = np.sort((row[vis] << _SHIFT) | ent[vis])
        entered_keys = new_keys[~_in_sorted(new_keys, old_keys)]
        left_keys = old_keys[~_in_sorted(old_keys, new_keys)]

        self._vis_keys = np.sort(slot_keys[vis])
        self._inx_keys = np.sort(slot_keys[inx])

        vptr, visible = _csr_from_keys(new_keys, n)
        eptr, entered = _csr_from_keys(entered_keys, n)
        lptr, left = _csr_from_keys(left_keys, n)
        return InterestDiff(observers.copy(), vptr, visible, eptr, entered, lptr, left)
