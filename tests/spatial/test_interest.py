"""InterestManager: unit tests and property tests against the brute-force oracle."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spatial.interest import InterestDiff, InterestManager
from spatial.reference import ReferenceInterestManager
from tests.spatial.oracle import OracleInterest, distances_from


def _rows(diff: InterestDiff) -> dict[int, tuple[set[int], set[int], set[int]]]:
    out = {}
    for i, o in enumerate(diff.observers.tolist()):
        v, e, gone = diff.row(i)
        assert len(set(v.tolist())) == v.size and len(set(e.tolist())) == e.size
        assert len(set(gone.tolist())) == gone.size
        out[o] = (set(v.tolist()), set(e.tolist()), set(gone.tolist()))
    return out


def _check_shapes(diff: InterestDiff, observers: np.ndarray) -> None:
    n = observers.size
    np.testing.assert_array_equal(diff.observers, observers)
    for ptr, arr in (
        (diff.visible_ptr, diff.visible),
        (diff.entered_ptr, diff.entered),
        (diff.left_ptr, diff.left),
    ):
        assert ptr.dtype == np.int64 and arr.dtype == np.int32
        assert ptr.shape == (n + 1,) and ptr[0] == 0 and ptr[-1] == arr.size
        assert (np.diff(ptr) >= 0).all()


def _check_invariants(
    diff: InterestDiff,
    prev: dict[int, set[int]],
    positions: np.ndarray,
    active: np.ndarray,
    radius: float,
    k: int,
    margin: float,
) -> dict[int, set[int]]:
    """The documented guarantees, checked directly (independent of the oracle)."""
    now = {}
    for o, (v, e, gone) in _rows(diff).items():
        old = prev.get(o, set())
        assert len(v) <= k
        assert o not in v
        assert e == v - old and gone == old - v
        if not active[o]:
            assert not v
            now[o] = v
            continue
        d = distances_from(positions, o)
        for x in v:
            assert active[x] and d[x] <= np.float32(radius + margin)
        if len(v) < k:
            cand = sorted(
                (float(d[x]), x) for x in np.flatnonzero(active) if x != o and d[x] <= radius
            )
            assert {x for _, x in cand[:k]} <= v
        now[o] = v
    return now


def test_first_update_everything_enters() -> None:
    pos = np.array([[0, 0], [1, 0], [0, 3], [50, 50]], np.float32)
    act = np.ones(4, bool)
    m = InterestManager(4, radius=10, k=8)
    diff = m.update(pos, act, np.array([0, 3], np.int32))
    _check_shapes(diff, np.array([0, 3]))
    rows = _rows(diff)
    assert rows[0] == ({1, 2}, {1, 2}, set())
    assert rows[3] == (set(), set(), set())


def test_deactivated_slot_is_left_once() -> None:
    pos = np.array([[0, 0], [1, 0], [2, 0]], np.float32)
    act = np.ones(3, bool)
    m = InterestManager(3, radius=10, k=8)
    m.update(pos, act, np.array([0], np.int32))
    act[2] = False
    assert _rows(m.update(pos, act, np.array([0], np.int32)))[0] == ({1}, set(), {2})
    assert _rows(m.update(pos, act, np.array([0], np.int32)))[0] == ({1}, set(), set())


def test_hysteresis_keeps_until_outer_radius() -> None:
    pos = np.array([[0, 0], [9.5, 0]], np.float32)
    act = np.ones(2, bool)
    m = InterestManager(2, radius=10, k=8, margin=2)
    obs = np.array([0], np.int32)
    assert _rows(m.update(pos, act, obs))[0][0] == {1}
    pos[1, 0] = 11.9
    assert _rows(m.update(pos, act, obs))[0] == ({1}, set(), set())
    pos[1, 0] = 12.1
    assert _rows(m.update(pos, act, obs))[0] == (set(), set(), {1})
    pos[1, 0] = 11.0  # outside the entry radius: stays out
    assert _rows(m.update(pos, act, obs))[0] == (set(), set(), set())
    pos[1, 0] = 10.0
    assert _rows(m.update(pos, act, obs))[0] == ({1}, {1}, set())


def test_absent_observer_starts_empty_again() -> None:
    pos = np.array([[0, 0], [1, 0]], np.float32)
    act = np.ones(2, bool)
    m = InterestManager(2, radius=10, k=8)
    m.update(pos, act, np.array([0], np.int32))
    m.update(pos, act, np.array([1], np.int32))
    assert _rows(m.update(pos, act, np.array([0, 1], np.int32)))[0] == ({1}, {1}, set())


def test_cap_keeps_nearest_and_one_tick_newcomers_do_not_flicker() -> None:
    pos = np.array([[0, 0], [1, 0], [2, 0], [3, 0], [5, 0]], np.float32)
    act = np.ones(5, bool)
    obs = np.array([0], np.int32)
    m = InterestManager(5, radius=10, k=3)
    assert _rows(m.update(pos, act, obs))[0][0] == {1, 2, 3}
    pos[4, 0] = 0.5  # jumps in front for one tick: held back while the set is full
    assert _rows(m.update(pos, act, obs))[0] == ({1, 2, 3}, set(), set())
    pos[4, 0] = 5.0
    assert _rows(m.update(pos, act, obs))[0] == ({1, 2, 3}, set(), set())
    pos[4, 0] = 0.5  # stays in range two ticks: enters on the second
    m.update(pos, act, obs)
    assert _rows(m.update(pos, act, obs))[0] == ({1, 2, 4}, {4}, {3})


def test_inactive_observer_sees_nothing() -> None:
    pos = np.zeros((3, 2), np.float32)
    act = np.array([False, True, True])
    m = InterestManager(3)
    assert _rows(m.update(pos, act, np.array([0, 1], np.int32))) == {
        0: (set(), set(), set()),
        1: ({2}, {2}, set()),
    }


def test_grow_keeps_state() -> None:
    pos = np.array([[0, 0], [1, 0]], np.float32)
    m = InterestManager(2, radius=10, k=8)
    m.update(pos, np.ones(2, bool), np.array([0], np.int32))
    m.grow(4)
    pos4 = np.array([[0, 0], [1, 0], [2, 0], [90, 0]], np.float32)
    assert _rows(m.update(pos4, np.ones(4, bool), np.array([0], np.int32)))[0] == (
        {1, 2},
        {2},
        set(),
    )
    with pytest.raises(ValueError):
        m.grow(3)


@pytest.mark.parametrize(
    ("positions", "active", "observers"),
    [
        (np.zeros((3, 2), np.float32), np.ones(2, bool), np.array([0], np.int32)),
        (np.zeros((2, 2), np.float32), np.ones(2, bool), np.array([0], np.int32)),
        (np.zeros((3, 2), np.float32), np.ones(3, bool), np.array([3], np.int32)),
        (np.zeros((3, 2), np.float32), np.ones(3, bool), np.array([-1], np.int32)),
        (np.zeros((3, 2), np.float32), np.ones(3, bool), np.array([1, 1], np.int32)),
    ],
)
def test_rejects_bad_input(positions: Any, active: Any, observers: Any) -> None:
    with pytest.raises(ValueError):
        InterestManager(3).update(positions, active, observers)


def test_rejects_bad_parameters() -> None:
    bad: list[dict[str, Any]] = [
        {"radius": 0},
        {"k": 0},
        {"margin": -1},
        {"band": 0},
        {"band": 4, "inner": 4},
        {"spare": -1},
        {"skin": 0.0},
        {"jump": 0.0},
        {"grid_ticks": 0},
        {"cell": 0.0},
    ]
    for kwargs in bad:
        with pytest.raises(ValueError):
            InterestManager(3, **kwargs)
    with pytest.raises(TypeError):
        InterestManager(3, no_such_option=1)
    with pytest.raises(ValueError):
        InterestManager(-1)
    with pytest.raises(ValueError):
        InterestManager(1 << 24)


def test_rejects_non_finite_active_position_without_changing_state() -> None:
    m = InterestManager(3, radius=10, k=8)
    pos = np.zeros((3, 2), np.float32)
    pos[1] = (1.0, 0.0)
    obs = np.array([0], np.int32)
    assert _rows(m.update(pos, np.ones(3, bool), obs))[0][0] == {1, 2}
    bad = pos.copy()
    bad[2] = (np.inf, 0.0)
    with pytest.raises(ValueError):
        m.update(bad, np.ones(3, bool), obs)
    assert _rows(m.update(pos, np.ones(3, bool), obs))[0] == ({1, 2}, set(), set())


def test_stats_count_rows_and_split_the_time() -> None:
    rng = np.random.default_rng(3)
    cap = 400
    pos = rng.uniform(-30, 30, (cap, 2)).astype(np.float32)
    heading = rng.uniform(-np.pi, np.pi, cap)
    act = np.ones(cap, bool)
    m = InterestManager(cap, radius=12.0, k=16, band=8, inner=4, clock=time.perf_counter_ns)
    obs = np.arange(0, cap, 2, dtype=np.int32)
    for _ in range(30):
        _walk(rng, pos, heading, 30.0)
        m.update(pos, act, obs)
    st = m.stats.copy()
    assert st.ticks == 30 and st.rows == 30 * obs.size
    assert st.rebuilt >= obs.size  # every row starts with a grid query
    assert st.rebased + st.reanchored > 0  # walking wears the bands out
    assert st.reanchored + st.rebuilt < st.rows  # most row-ticks are band-only
    parts = st.band_ns + st.lists_ns + st.output_ns
    assert 0 < parts <= st.total_ns
    m.update(pos, act, obs)
    assert m.stats.ticks == 31 and st.ticks == 30  # copy() is a snapshot


def test_empty_world() -> None:
    m = InterestManager(0)
    diff = m.update(np.zeros((0, 2), np.float32), np.zeros(0, bool), np.zeros(0, np.int32))
    _check_shapes(diff, np.zeros(0, np.int32))


# ---------------------------------------------------------------- property tests


def _scenario(data: st.DataObject) -> tuple[int, float, int, float, dict[str, Any]]:
    cap = data.draw(st.integers(1, 36), label="capacity")
    radius = data.draw(st.sampled_from([1.5, 4.0, 9.0]), label="radius")
    k = data.draw(st.integers(1, 7), label="k")
    margin = data.draw(st.sampled_from([0.0, 0.5, 2.0]), label="margin")
    # tuning changes only the work done, never the result: exercise one-rank
    # bands (most rows re-anchor), tiny skins (lists go stale at once), tiny
    # jump thresholds (every mover is a jumper) and stale query grids
    band = data.draw(st.integers(1, 6), label="band")
    tuning = {
        "band": band,
        "inner": data.draw(st.integers(0, band - 1), label="inner"),
        "spare": data.draw(st.sampled_from([0, 1, 5, 64]), label="spare"),
        "skin": data.draw(st.sampled_from([0.01, 0.3, 1.0, 4.0]), label="skin"),
        "jump": data.draw(st.sampled_from([0.001, 0.5, 50.0]), label="jump"),
        "grid_ticks": data.draw(st.integers(1, 5), label="grid_ticks"),
        "cell": data.draw(st.sampled_from([0.5, 4.0]), label="cell"),
    }
    return cap, radius, k, margin, tuning


@settings(max_examples=120, deadline=None)
@given(st.data())
def test_matches_oracle_through_moves_joins_leaves_and_teleports(data: st.DataObject) -> None:
    cap, radius, k, margin, tuning = _scenario(data)
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    rng = np.random.default_rng(seed)
    span = data.draw(st.sampled_from([3.0, 12.0, 40.0]), label="span")
    grid_pos = data.draw(st.booleans(), label="lattice")  # many exact ties
    pos = (rng.random((cap, 2)) * span).astype(np.float32)
    if grid_pos:
        pos = np.round(pos)
    act = rng.random(cap) < 0.8
    m = InterestManager(cap, radius=radius, k=k, margin=margin, **tuning)
    oracle = OracleInterest(radius, k, margin)
    prev: dict[int, set[int]] = {}
    steps = data.draw(st.integers(1, 10), label="steps")
    for _ in range(steps):
        pos += rng.normal(0, radius * 0.2, pos.shape).astype(np.float32)
        tele = rng.random(cap) < 0.1
        pos[tele] = (rng.random((int(tele.sum()), 2)) * span * 2 - span / 2).astype(np.float32)
        if grid_pos:
            pos = np.round(pos)
        pos[~act] = np.float32(np.nan)  # garbage rows of inactive slots must not matter
        flips = rng.random(cap) < 0.1
        act ^= flips
        pos[act & flips] = (rng.random((int((act & flips).sum()), 2)) * span).astype(np.float32)
        n_obs = int(rng.integers(0, cap + 1))
        obs = rng.choice(cap, n_obs, replace=False).astype(np.int32)
        diff = m.update(pos, act, obs)
        _check_shapes(diff, obs)
        prev_now = {o: prev.get(o, set()) for o in obs.tolist() if o in prev}
        prev = _check_invariants(diff, prev_now, pos, act, radius, k, margin)
        ref = oracle.update(pos, act, obs.tolist())
        rows = _rows(diff)
        for o in obs.tolist():
            assert rows[o] == (ref.visible[o], ref.entered[o], ref.left[o])


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_radius_across_many_cells_crowded(data: st.DataObject) -> None:
    """Large radius over a dense crowd: the query spans many cells and the cap binds."""
    seed = data.draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    cap = 150
    pos = (rng.normal(0, 6, (cap, 2))).astype(np.float32)
    act = np.ones(cap, bool)
    m = InterestManager(cap, radius=25.0, k=12, margin=1.0, skin=0.5, band=6, inner=3)
    oracle = OracleInterest(25.0, 12, 1.0)
    obs = np.arange(0, cap, 2, dtype=np.int32)
    for _ in range(6):
        pos += rng.normal(0, 0.4, pos.shape).astype(np.float32)
        rows = _rows(m.update(pos, act, obs))
        ref = oracle.update(pos, act, obs.tolist())
        for o in obs.tolist():
            assert rows[o] == (ref.visible[o], ref.entered[o], ref.left[o])


def _walk(rng: np.random.Generator, pos: np.ndarray, heading: np.ndarray, half: float) -> None:
    heading += rng.normal(0, 0.3, heading.shape)
    speed = np.where(rng.random(heading.shape) < 0.3, 0.0, rng.uniform(0.5, 1.5, heading.shape))
    pos[:, 0] += (speed * 0.05 * np.cos(heading)).astype(np.float32)
    pos[:, 1] += (speed * 0.05 * np.sin(heading)).astype(np.float32)
    np.clip(pos, -half, half, out=pos)


@pytest.mark.parametrize("seed", [0, 1])
def test_matches_reference_on_a_walking_crowd_with_churn(seed: int) -> None:
    """Bench-like world (1500 slots, k=16): walking, joins, leaves, teleports, observer churn."""
    rng = np.random.default_rng(seed)
    cap, half = 1500, 40.0
    pos = rng.uniform(-half, half, (cap, 2)).astype(np.float32)
    pos[: cap // 3] = rng.normal(0, 4, (cap // 3, 2)).astype(np.float32)  # a dense knot
    heading = rng.uniform(-np.pi, np.pi, cap)
    act = rng.random(cap) < 0.9
    fast = InterestManager(
        cap, radius=12.0, k=16, margin=1.5, band=[8, 32][seed], inner=[4, 16][seed]
    )
    ref = ReferenceInterestManager(cap, radius=12.0, k=16, margin=1.5)
    obs = rng.choice(cap, 400, replace=False).astype(np.int32)
    for tick in range(40):
        _walk(rng, pos, heading, half)
        tele = rng.random(cap) < 0.003
        pos[tele] = rng.uniform(-half, half, (int(tele.sum()), 2)).astype(np.float32)
        flips = rng.random(cap) < 0.004
        act ^= flips
        if tick % 9 == 0:
            obs = np.concatenate((obs[20:], rng.choice(cap, 20, replace=False).astype(np.int32)))
            obs = np.unique(obs)
        a, b = fast.update(pos, act, obs), ref.update(pos, act, obs)
        assert _rows(a) == _rows(b), tick


def test_sparse_world_and_many_cells_match_reference() -> None:
    """Fewer than k in range everywhere (lists must cover R) and a far outlier."""
    rng = np.random.default_rng(5)
    cap = 600
    pos = rng.uniform(-300, 300, (cap, 2)).astype(np.float32)
    pos[0] = (1e5, -1e5)
    heading = rng.uniform(-np.pi, np.pi, cap)
    act = np.ones(cap, bool)
    fast = InterestManager(cap, radius=30.0, k=8, margin=3.0, skin=0.2, band=4, inner=2)
    ref = ReferenceInterestManager(cap, radius=30.0, k=8, margin=3.0)
    obs = np.arange(0, cap, 2, dtype=np.int32)
    for tick in range(25):
        _walk(rng, pos, heading, 300.0)
        pos[0] = (1e5, -1e5)  # far outlier: the grid must not span it densely
        a, b = fast.update(pos, act, obs), ref.update(pos, act, obs)
        assert _rows(a) == _rows(b), tick


def test_grow_mid_run_matches_reference() -> None:
    rng = np.random.default_rng(9)
    cap, half = 500, 25.0
    pos = rng.uniform(-half, half, (cap, 2)).astype(np.float32)
    heading = rng.uniform(-np.pi, np.pi, cap)
    act = np.ones(cap, bool)
    fast = InterestManager(cap, radius=10.0, k=12, grid_ticks=3, skin=0.6)
    ref = ReferenceInterestManager(cap, radius=10.0, k=12)
    obs = np.arange(0, cap, 3, dtype=np.int32)
    for tick in range(24):
        if tick == 10:  # the server enlarges its arrays; new slots join at once
            extra = 300
            pos = np.concatenate((pos, rng.uniform(-half, half, (extra, 2)).astype(np.float32)))
            heading = np.concatenate((heading, rng.uniform(-np.pi, np.pi, extra)))
            act = np.concatenate((act, np.ones(extra, bool)))
            cap += extra
            fast.grow(cap)
            ref.grow(cap)
            obs = np.arange(0, cap, 3, dtype=np.int32)
        _walk(rng, pos, heading, half)
        a, b = fast.update(pos, act, obs), ref.update(pos, act, obs)
        assert _rows(a) == _rows(b), tick
