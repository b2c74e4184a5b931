"""The compiled loops of spatial.kernels against plain numpy."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from spatial import kernels
from spatial.hashgrid import HashGrid, distances_to

HERE = Path(__file__).resolve().parent

coords = st.one_of(
    st.floats(-50, 50, width=32),
    st.sampled_from([0.0, 1.0, -3.5, 10.0]),
    st.floats(-1e5, 1e5, width=32),
)
points = st.lists(st.tuples(coords, coords), min_size=1, max_size=40)


@settings(max_examples=60, deadline=None)
@given(points, st.lists(st.tuples(coords, coords), min_size=1, max_size=6))
def test_list_keys_carry_bit_identical_distances(
    pts_l: list[tuple[float, float]], obs_l: list[tuple[float, float]]
) -> None:
    pts = np.array(pts_l, dtype=np.float32)
    n = pts.shape[0]
    cap = n
    pos = np.concatenate((pts, np.full((1, 2), np.inf, np.float32)))
    obs = np.array(obs_l, dtype=np.float32)
    m = obs.shape[0]
    bw, k = 2, 3
    rng = np.random.default_rng(n * 31 + m)
    vent = rng.integers(0, cap + 1, size=(m, bw + k)).astype(np.int32)
    vmask = rng.random((m, bw + k)) < 0.5
    xmask = rng.random((m, bw)) < 0.5
    tail = rng.integers(0, cap + 1, size=(m, 4)).astype(np.int32)
    ov_ent = rng.integers(0, cap, size=(m, 1)).astype(np.int64)
    ov_flag = rng.integers(0, 4, size=(m, 1)).astype(np.int64)
    keys = np.empty((m, bw + k + 4 + 1), dtype=np.int64)
    rows = np.arange(m, dtype=np.int64)
    ox, oz = np.ascontiguousarray(obs[:, 0]), np.ascontiguousarray(obs[:, 1])
    kernels.list_keys(pos, rows, ox, oz, vent, vmask, xmask, tail, ov_ent, ov_flag, cap, keys)
    ent = np.concatenate((vent.astype(np.int64), tail.astype(np.int64), ov_ent), axis=1)
    want = distances_to(pos[:, 0].copy(), pos[:, 1].copy(), ent, ox[:, None], oz[:, None])
    np.testing.assert_array_equal((keys >> 32).astype(np.uint32), want.view(np.uint32))
    np.testing.assert_array_equal((keys >> 8) & 0xFFFFFF, ent)
    flags = np.concatenate(
        (
            vmask[:, :bw] | (xmask << 1),
            vmask[:, bw:] * np.int64(3),
            np.zeros((m, 4), dtype=np.int64),
            ov_flag,
        ),
        axis=1,
    )
    np.testing.assert_array_equal(keys & 0xFF, flags)


@settings(max_examples=80, deadline=None)
@given(
    points,
    st.lists(st.tuples(coords, coords, st.floats(0, 40), st.floats(0, 5)), max_size=8),
    st.sampled_from([0.5, 3.0, 10.0, 37.0]),
)
def test_ids_within_matches_brute_force(
    pts_l: list[tuple[float, float]],
    qs: list[tuple[float, float, float, float]],
    cell: float,
) -> None:
    pts = np.array(pts_l, dtype=np.float32)
    n = pts.shape[0]
    ids = np.arange(n, dtype=np.int32)
    pos = np.concatenate((pts, np.full((1, 2), np.inf, np.float32)))
    x, z = pos[:, 0].copy(), pos[:, 1].copy()
    q = np.array([(a, b) for a, b, _, _ in qs], dtype=np.float32).reshape(-1, 2)
    within = np.array([w for _, _, w, _ in qs], dtype=np.float64)
    reach = (within + np.array([s for _, _, _, s in qs])).astype(np.float32)
    exclude = np.arange(q.shape[0], dtype=np.int64) % max(n, 1)
    grid = HashGrid(pts, ids, cell)
    got = grid.ids_within(q, reach, pos, within, exclude, n)
    assert got.shape[0] == q.shape[0]
    for i in range(q.shape[0]):
        d = distances_to(x, z, np.arange(n), q[i, 0], q[i, 1])
        want = set(np.flatnonzero(d <= within[i]).tolist()) - {int(exclude[i])}
        row = got[i][got[i] != n].tolist()
        assert len(row) == len(set(row))
        assert set(row) == want


def test_ids_within_sparse_grid() -> None:
    pts = np.array([[0, 0], [1, 1], [1e6, 1e6], [1e6 + 1, 1e6]], dtype=np.float32)
    grid = HashGrid(pts, np.arange(4, dtype=np.int32), 2.0)
    pos = np.concatenate((pts, np.full((1, 2), np.inf, np.float32)))
    q = np.array([[0.5, 0.5], [1e6, 1e6], [5e5, 5e5]], np.float32)
    got = grid.ids_within(
        q, np.full(3, 2.0, np.float32), pos, np.full(3, 2.0), np.array([1, -1, -1]), 9
    )
    assert [sorted(r[r != 9].tolist()) for r in got] == [[0], [2, 3], []]


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 60), st.integers(0, 2**31 - 1))
def test_move_matches_numpy(cap: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    prev = rng.normal(0, 3, (cap, 2)).astype(np.float32)
    was = rng.random(cap) < 0.8
    prev_x = np.append(np.where(was, prev[:, 0], np.inf), np.inf).astype(np.float32)
    prev_z = np.append(np.where(was, prev[:, 1], np.inf), np.inf).astype(np.float32)
    prev_pos = np.column_stack((prev_x, prev_z))
    pos = prev + rng.normal(0, 0.3, (cap, 2)).astype(np.float32)
    active = rng.random(cap) < 0.8
    pos[~active] = np.nan
    jump2 = np.float32(0.25)
    out, step2, old, new = kernels.move(pos, active, prev_pos, was, jump2)
    x, z = out[:, 0], out[:, 1]
    want_x = np.append(np.where(active, pos[:, 0], np.inf), np.inf).astype(np.float32)
    want_z = np.append(np.where(active, pos[:, 1], np.inf), np.inf).astype(np.float32)
    np.testing.assert_array_equal(x, want_x)
    np.testing.assert_array_equal(z, want_z)
    with np.errstate(invalid="ignore"):
        dx = want_x[:cap] - prev_x[:cap]
        dz = want_z[:cap] - prev_z[:cap]
        s = dx * dx + dz * dz
        walked = s <= jump2
    assert step2 == np.max(s, where=walked, initial=np.float32(0.0))
    np.testing.assert_array_equal(old, np.flatnonzero(~walked & was))
    np.testing.assert_array_equal(new, np.flatnonzero(~walked & active))


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 30), st.integers(1, 70), st.integers(0, 2**31 - 1))
def test_masked_rows_is_a_csr_of_the_mask(n: int, w: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    ent = rng.integers(0, 1000, (n, w)).astype(np.int32)
    mask = rng.random((n, w)) < 0.4
    ptr, vals = kernels.masked_rows(ent, mask)
    np.testing.assert_array_equal(ptr, np.concatenate(([0], np.cumsum(mask.sum(axis=1)))))
    np.testing.assert_array_equal(vals, ent[mask])


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 30), st.integers(0, 200), st.integers(0, 2**31 - 1))
def test_group_rows_keeps_item_order_within_a_row(n: int, items: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    row = rng.integers(0, max(n, 1), items).astype(np.int64) if n else np.zeros(0, np.int64)
    ent = rng.integers(0, 1000, row.size).astype(np.int64)
    ptr, vals = kernels.group_rows(row, ent, n)
    order = np.argsort(row, kind="stable")
    counts = np.bincount(row, minlength=n)
    np.testing.assert_array_equal(ptr, np.concatenate(([0], np.cumsum(counts))))
    np.testing.assert_array_equal(vals, ent[order])


def test_interest_tests_pass_with_bounds_checked_kernels(tmp_path: Path) -> None:
    """The kernels run without bounds checks; this reruns the interest tests
    with numba's checks on (a fresh compile), so an out-of-range index fails
    loudly here instead of corrupting memory in production."""
    env = {**os.environ, "NUMBA_BOUNDSCHECK": "1", "NUMBA_CACHE_DIR": str(tmp_path)}
    tests = str(HERE / "test_interest.py")
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", tests],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert " passed" in out.stdout and "failed" not in out.stdout
