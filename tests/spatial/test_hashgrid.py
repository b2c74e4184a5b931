"""HashGrid pair queries against brute force."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from spatial.hashgrid import HashGrid, expand_runs, pair_distances


def _brute(pts: np.ndarray, q: np.ndarray, r: np.ndarray) -> set[tuple[int, int]]:
    out = set()
    for i in range(q.shape[0]):
        dx = pts[:, 0] - q[i, 0]
        dz = pts[:, 1] - q[i, 1]
        d2 = dx * dx
        d2 += dz * dz
        d = np.sqrt(d2)
        out |= {(i, int(j)) for j in np.flatnonzero(d <= r[i])}
    return out


coords = st.one_of(
    st.floats(-50, 50, width=32),
    st.sampled_from([0.0, 1.0, -3.5, 10.0]),
    st.floats(-1e5, 1e5, width=32),
)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.tuples(coords, coords), max_size=40),
    st.lists(st.tuples(coords, coords, st.floats(0, 40, width=32)), max_size=10),
    st.sampled_from([0.5, 3.0, 10.0, 37.0]),
)
# a query a hair outside the grid whose float32 distance to a point rounds to 0
@example(pts_l=[(0.0, 0.0)], qs=[(0.0, -1.5154608094230597e-26, 0.0)], cell=0.5)
def test_pairs_within_matches_brute_force(
    pts_l: list[tuple[float, float]], qs: list[tuple[float, float, float]], cell: float
) -> None:
    pts = np.array(pts_l, dtype=np.float32).reshape(-1, 2)
    q = np.array([(x, z) for x, z, _ in qs], dtype=np.float32).reshape(-1, 2)
    r = np.array([rr for _, _, rr in qs], dtype=np.float32)
    ids = np.arange(pts.shape[0], dtype=np.int32) + 1000
    grid = HashGrid(pts, ids, cell)
    qi, pid, d = grid.pairs_within(q, r)
    got = {(int(a), int(b) - 1000) for a, b in zip(qi, pid, strict=True)}
    assert got == _brute(pts, q, r)
    assert len(got) == qi.size  # no duplicates
    if qi.size:
        assert (np.diff(qi) >= 0).all()  # grouped by query
        np.testing.assert_array_equal(d, np.sqrt(((pts[pid - 1000] - q[qi]) ** 2).sum(1)))


def test_sparse_mode_with_far_outlier() -> None:
    pts = np.array([[0, 0], [1, 1], [1e6, 1e6], [1e6 + 1, 1e6]], dtype=np.float32)
    grid = HashGrid(pts, np.arange(4, dtype=np.int32), 2.0)
    qi, pid, _ = grid.pairs_within(np.array([[0.5, 0.5], [1e6, 1e6]], np.float32), 2.0)
    assert sorted(zip(qi.tolist(), pid.tolist(), strict=True)) == [(0, 0), (0, 1), (1, 2), (1, 3)]


def test_empty_grid_and_no_queries() -> None:
    grid = HashGrid(np.empty((0, 2), np.float32), np.empty(0, np.int32), 1.0)
    qi, pid, d = grid.pairs_within(np.zeros((3, 2), np.float32), 5.0)
    assert qi.size == pid.size == d.size == 0
    grid = HashGrid(np.zeros((2, 2), np.float32), np.arange(2, dtype=np.int32), 1.0)
    assert grid.pairs_within(np.empty((0, 2), np.float32), 5.0)[0].size == 0


def test_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        HashGrid(np.zeros((2, 2), np.float32), np.arange(2, dtype=np.int32), 0.0)
    with pytest.raises(ValueError):
        HashGrid(np.array([[np.nan, 0]], np.float32), np.arange(1, dtype=np.int32), 1.0)
    with pytest.raises(ValueError):
        HashGrid(np.zeros((2, 3), np.float32), np.arange(2, dtype=np.int32), 1.0)


def test_expand_runs() -> None:
    run, idx = expand_runs(np.array([5, 0, 9], np.int64), np.array([2, 0, 3], np.int64))
    assert run.tolist() == [0, 0, 2, 2, 2]
    assert idx.tolist() == [5, 6, 9, 10, 11]


def test_pair_distances() -> None:
    pos = np.array([[0, 0], [3, 4], [-1, 0]], np.float32)
    d = pair_distances(pos, np.array([0, 0, 1]), np.array([1, 2, 2]))
    np.testing.assert_allclose(d, [5.0, 1.0, np.hypot(4, 4)], rtol=1e-6)


def test_density_estimate() -> None:
    rng = np.random.default_rng(2)
    pts = rng.uniform(0, 100, (10_000, 2)).astype(np.float32)  # 1 point per m^2
    grid = HashGrid(pts, np.arange(pts.shape[0], dtype=np.int32), 5.0)
    rho = grid.density(np.array([[50, 50], [20, 70]], np.float32), 10.0)
    assert np.all(np.abs(rho - 1.0) < 0.2)
    assert grid.density(np.array([[500, 500]], np.float32), 1.0).tolist() == [0.0]
    assert grid.density(np.empty((0, 2), np.float32), 1.0).size == 0
