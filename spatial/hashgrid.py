"""A uniform grid over a 2-D point set, for "all points within r of each query" in numpy.

Build a :class:`HashGrid` once per point set (one ``argsort``), then ask it for
candidate or filtered pairs for many query points at once. No Python loop runs
over points, cells or queries: every query's covering cells are turned into one
contiguous run of sorted points per grid row, and the runs are expanded with
``repeat``/``cumsum`` arithmetic.

Cells are stored densely (a start offset per cell) when the occupied bounding
box is small enough, otherwise the grid falls back to binary search over the
sorted cell keys, so one far-away outlier cannot blow up memory.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from spatial import kernels

__all__ = ["HashGrid", "distances_to", "expand_runs", "pair_distances"]

_DENSE_CELLS_PER_POINT = 16
_DENSE_MIN_CELLS = 1 << 16


def expand_runs(
    starts: NDArray[np.int64], lengths: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Expand runs ``[starts[i], starts[i] + lengths[i])`` into flat indices.

    Returns ``(run_of_index, index)``: for every produced index, the run it came
    from and the index itself, runs in order. Lengths must be >= 0.
    """
    total = int(lengths.sum())
    run = np.repeat(np.arange(lengths.size, dtype=np.int64), lengths)
    if total == 0:
        return run, np.empty(0, dtype=np.int64)
    # offset of each run's first element in the flat output, subtracted per element
    ends = np.cumsum(lengths)
    shift = np.repeat(starts - (ends - lengths), lengths)
    index = np.arange(total, dtype=np.int64) + shift
    return run, index


def pair_distances(
    positions: NDArray[np.float32], a: NDArray[np.integer], b: NDArray[np.integer]
) -> NDArray[np.float32]:
    """Euclidean float32 distances between ``positions[a]`` and ``positions[b]``.

    This is the single definition of "distance" used by the interest manager
    (``sqrt(dx*dx + dz*dz)`` in float32), so oracles can reproduce it exactly.
    """
    x = positions[:, 0]
    z = positions[:, 1]
    return distances_to(x, z, b, x.take(a), z.take(a))


def distances_to(
    x: NDArray[np.float32],
    z: NDArray[np.float32],
    ent: NDArray[np.integer],
    ox: NDArray[np.float32],
    oz: NDArray[np.float32],
) -> NDArray[np.float32]:
    """Distances from points ``(ox, oz)`` to points ``ent`` of the columns ``x``, ``z``.

    ``ent`` may be any shape; ``ox``/``oz`` broadcast against it (a column
    vector per row of a matrix of entities, say). Same operations, in the
    same order, as :func:`pair_distances`, so the results are bit-identical.
    """
    dx = x.take(ent)
    dx -= ox
    dz = z.take(ent)
    dz -= oz
    dx *= dx
    dz *= dz
    dx += dz
    d: NDArray[np.float32] = np.sqrt(dx, out=dx)
    return d


class HashGrid:
    """Points bucketed into square cells of side ``cell``.

    ``HashGrid(xz, ids, cell)``: ``xz`` is ``(m, 2)`` float32 (finite), ``ids``
    are ``m`` int32 labels returned by queries (e.g. entity slots). The grid
    keeps its own sorted copies; later changes to the inputs do not affect it.
    """

    __slots__ = (
        "_cell",
        "_cell_start",
        "_dense",
        "_height",
        "_ids",
        "_keys",
        "_origin",
        "_width",
        "_x",
        "_z",
    )

    def __init__(self, xz: NDArray[np.float32], ids: NDArray[np.int32], cell: float) -> None:
        if not cell > 0.0:
            raise ValueError("cell size must be positive")
        xz = np.asarray(xz, dtype=np.float32)
        ids = np.asarray(ids, dtype=np.int32)
        if xz.ndim != 2 or xz.shape[1] != 2 or ids.shape != (xz.shape[0],):
            raise ValueError("HashGrid needs xz of shape (m, 2) and ids of shape (m,)")
        self._cell = float(cell)
        m = xz.shape[0]
        if m == 0:
            self._origin = (0.0, 0.0)
            self._width = 1
            self._height = 1
            self._dense = True
            self._cell_start = np.zeros(2, dtype=np.int64)
            self._keys = np.empty(0, dtype=np.int64)
            self._ids = ids
            self._x = np.zeros(0, dtype=np.float32)
            self._z = np.zeros(0, dtype=np.float32)
            return
        # per-column contiguous copies: strided (m, 2) reductions and row gathers are slow
        x = np.ascontiguousarray(xz[:, 0])
        z = np.ascontiguousarray(xz[:, 1])
        lo = (x.min(), z.min())
        hi = (x.max(), z.max())
        if not (np.isfinite(lo).all() and np.isfinite(hi).all()):
            raise ValueError("HashGrid positions must be finite")
        self._origin = (float(lo[0]), float(lo[1]))
        inv = 1.0 / self._cell
        cx = ((x - lo[0]) * inv).astype(np.int64)
        cz = ((z - lo[1]) * inv).astype(np.int64)
        self._width = int(cx.max()) + 1
        self._height = int(cz.max()) + 1
        keys = cz * self._width + cx
        ncells = self._width * self._height
        self._dense = ncells <= max(_DENSE_CELLS_PER_POINT * m, _DENSE_MIN_CELLS)
        if self._dense:
            # a counting sort by cell: one compiled pass, no comparison sort
            self._cell_start, order = kernels.group_rows(keys, np.arange(m, dtype=np.int64), ncells)
            self._keys = np.empty(0, dtype=np.int64)
        else:
            # int32 keys sort faster; a huge sparse box needs int64
            small_keys = ncells < 2**31
            order = np.argsort(keys.astype(np.int32) if small_keys else keys)
            self._cell_start = np.empty(0, dtype=np.int64)
            self._keys = keys.take(order)
        self._ids = ids.take(order)
        self._x = x.take(order)
        self._z = z.take(order)

    @property
    def cell(self) -> float:
        """Side length of a cell in metres."""
        return self._cell

    @property
    def size(self) -> int:
        """Number of points in the grid."""
        return int(self._ids.size)

    def _cover(
        self, qxz: NDArray[np.float32], radius: float | np.floating[Any] | NDArray[np.float32]
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
        """Cell ranges covering each query's square: ``(x_lo, x_hi, z_lo, rows)``."""
        nq = qxz.shape[0]
        r = np.array(np.broadcast_to(np.asarray(radius, dtype=np.float64), (nq,)))
        x_lo, x_hi, z_lo, nrows = kernels.grid_cover(
            np.ascontiguousarray(qxz[:, 0]), np.ascontiguousarray(qxz[:, 1]),
            r, self._origin[0], self._origin[1],
            self._cell, self._width, self._height,
        )  # fmt: skip
        return x_lo, x_hi, z_lo, nrows

    def _runs(
        self,
        x_lo: NDArray[np.int64],
        x_hi: NDArray[np.int64],
        z_lo: NDArray[np.int64],
        nrows: NDArray[np.int64],
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
        """One run of sorted points per (query, grid row): ``(query, start, end)``."""
        qrow, cz = expand_runs(z_lo, nrows)
        key_lo = cz * self._width + x_lo.take(qrow)
        key_hi = cz * self._width + x_hi.take(qrow)
        if self._dense:
            start = self._cell_start.take(key_lo)
            end = self._cell_start.take(key_hi + 1)
        else:
            start = np.searchsorted(self._keys, key_lo, side="left")
            end = np.searchsorted(self._keys, key_hi, side="right")
        return qrow, start, end

    def density(
        self, qxz: NDArray[np.float32], radius: float | np.floating[Any] | NDArray[np.float32]
    ) -> NDArray[np.float64]:
        """Points per square metre in the cells covering each query's square.

        A cheap local density estimate (no points are touched): the number of
        points in the covering cells divided by the cells' area.
        """
        qxz = np.asarray(qxz, dtype=np.float32)
        if qxz.shape[0] == 0 or self._ids.size == 0:
            return np.zeros(qxz.shape[0], dtype=np.float64)
        x_lo, x_hi, z_lo, nrows = self._cover(qxz, radius)
        qrow, start, end = self._runs(x_lo, x_hi, z_lo, nrows)
        counts = np.bincount(qrow, weights=(end - start), minlength=qxz.shape[0])
        area = (np.maximum(x_hi - x_lo + 1, 0) * nrows) * (self._cell * self._cell)
        return np.where(area > 0, counts / np.maximum(area, 1e-12), 0.0)

    def candidates(
        self, qxz: NDArray[np.float32], radius: float | np.floating[Any] | NDArray[np.float32]
    ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """All grid points in cells overlapping each query's square of half-side ``radius``.

        ``qxz`` is ``(q, 2)``; ``radius`` a scalar or ``(q,)`` array (>= 0).
        Returns ``(query_index, sorted_point_index)`` grouped by query in query
        order; use :meth:`ids_of` / :meth:`xz_of` to read the points. Every point
        within ``radius`` of a query is included (a superset).
        """
        qxz = np.asarray(qxz, dtype=np.float32)
        if qxz.shape[0] == 0 or self._ids.size == 0:
            empty = np.empty(0, dtype=np.int64)
            return empty, empty
        x_lo, x_hi, z_lo, nrows = self._cover(qxz, radius)
        qrow, start, end = self._runs(x_lo, x_hi, z_lo, nrows)
        seg, point = expand_runs(start, end - start)
        return qrow.take(seg), point

    def ids_within(
        self,
        qxz: NDArray[np.float32],
        reach: NDArray[np.float32],
        pos: NDArray[np.float32],
        within: NDArray[np.float64],
        exclude: NDArray[np.int64],
        fill: int,
    ) -> NDArray[np.int32]:
        """Ids in cells overlapping each query's square of half-side ``reach``
        whose distance now, by the positions ``pos`` (x, z rows by id), is at
        most ``within``; never ``exclude[q]``. A ``(q, w)`` matrix padded with
        ``fill`` (compiled: :func:`spatial.kernels.grid_within`).
        """
        qxz = np.asarray(qxz, dtype=np.float32)
        nq = qxz.shape[0]
        if nq == 0 or self._ids.size == 0:
            return np.full((nq, 1), fill, dtype=np.int32)
        out: NDArray[np.int32] = kernels.grid_within(
            self._cell_start, self._keys, self._dense,
            self._origin[0], self._origin[1], self._cell, self._width, self._height,
            self._ids, pos,
            np.ascontiguousarray(qxz[:, 0]), np.ascontiguousarray(qxz[:, 1]),
            np.ascontiguousarray(reach, dtype=np.float64),
            np.ascontiguousarray(within, dtype=np.float64),
            np.ascontiguousarray(exclude, dtype=np.int64), fill,
        )  # fmt: skip
        return out

    def pairs_within(
        self, qxz: NDArray[np.float32], radius: float | np.floating[Any] | NDArray[np.float32]
    ) -> tuple[NDArray[np.int64], NDArray[np.int32], NDArray[np.float32]]:
        """Pairs (query, point) with float32 distance <= radius.

        Returns ``(query_index, point_id, distance)`` grouped by query in query
        order. ``radius`` is a scalar or a ``(q,)`` array.
        """
        qxz = np.asarray(qxz, dtype=np.float32)
        q, p = self.candidates(qxz, radius)
        qx = np.ascontiguousarray(qxz[:, 0])
        qz = np.ascontiguousarray(qxz[:, 1])
        d = distances_to(self._x, self._z, p, qx.take(q), qz.take(q))
        r = np.asarray(radius, dtype=np.float32)
        keep = np.flatnonzero(d <= (r.take(q) if r.ndim else r))
        return q.take(keep), self._ids.take(p.take(keep)), d.take(keep)

    def ids_of(self, sorted_index: NDArray[np.int64]) -> NDArray[np.int32]:
        """Labels of points by their sorted index (as returned by :meth:`candidates`)."""
        return self._ids[sorted_index]

    def xz_of(self, sorted_index: NDArray[np.int64]) -> NDArray[np.float32]:
        """Positions of points by their sorted index (as returned by :meth:`candidates`)."""
        return np.column_stack((self._x.take(sorted_index), self._z.take(sorted_index)))
