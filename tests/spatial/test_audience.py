"""AudienceInterest: layers and a stage spotlight, against brute-force references.

The references follow the definition in ``spatial.audience`` directly: one
plain reference (the Python oracle, or ``ReferenceInterestManager`` at bench
sizes) per layer, kept for the whole run and called every tick on
``active & (layer == L)`` with that layer's observers, then the union with
the spotlit slots and plain set differences from tick to tick.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import Any, Protocol

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from spatial.audience import AudienceInterest
from spatial.interest import InterestDiff, InterestManager
from spatial.reference import ReferenceInterestManager
from tests.spatial.oracle import OracleInterest, distances_from

Rows = dict[int, tuple[set[int], set[int], set[int]]]
F32 = NDArray[np.float32]
Bools = NDArray[np.bool_]
I16 = NDArray[np.int16]


def _rows(diff: InterestDiff) -> Rows:
    """Rows by observer slot; asserts the CSR shape and that nothing is listed twice."""
    n = diff.observers.size
    for ptr, arr in (
        (diff.visible_ptr, diff.visible),
        (diff.entered_ptr, diff.entered),
        (diff.left_ptr, diff.left),
    ):
        assert ptr.dtype == np.int64 and arr.dtype == np.int32
        assert ptr.shape == (n + 1,) and ptr[0] == 0 and ptr[-1] == arr.size
        assert (np.diff(ptr) >= 0).all()
    out = {}
    for i, o in enumerate(diff.observers.tolist()):
        v, e, gone = (x.tolist() for x in diff.row(i))
        assert len(set(v)) == len(v) and len(set(e)) == len(e) and len(set(gone)) == len(gone)
        out[o] = (set(v), set(e), set(gone))
    return out


# ---------------------------------------------------------------- references


class _Plain(Protocol):
    def update(self, positions: F32, active: Bools, observers: NDArray[np.int32]) -> Any: ...


class _OracleAdapter:
    """The Python oracle behind the manager's call shape."""

    def __init__(self, radius: float, k: int, margin: float) -> None:
        self.oracle = OracleInterest(radius, k, margin)

    def update(self, positions: F32, active: Bools, observers: NDArray[np.int32]) -> Any:
        return self.oracle.update(positions, active, observers.tolist()).visible


class AudienceReference:
    """The definition, brute force: per-layer plain references plus set algebra."""

    def __init__(self, make: Callable[[], _Plain]) -> None:
        self.make = make
        self.by_layer: dict[int, _Plain] = {}
        self.prev: dict[int, set[int]] = {}

    def update(
        self,
        positions: F32,
        active: Bools,
        observers: NDArray[np.int32],
        layer: I16 | None = None,
        spotlight: Bools | None = None,
        audience: Bools | None = None,
    ) -> Rows:
        cap = active.size
        lay = np.zeros(cap, np.int16) if layer is None else layer
        spot = np.zeros(cap, bool) if spotlight is None else spotlight
        aud = np.zeros(cap, bool) if audience is None else audience
        obs = [int(o) for o in observers]
        for o in obs:
            self.by_layer.setdefault(int(lay[o]), self.make())
        near: dict[int, set[int]] = {}
        for layer_id, ref in self.by_layer.items():  # every layer, every tick
            mine = np.array([o for o in obs if lay[o] == layer_id], np.int32)
            res = ref.update(positions, active & (lay == layer_id), mine)
            if isinstance(res, InterestDiff):
                near.update({o: v for o, (v, _, _) in _rows(res).items()})
            else:
                near.update(res)
        spotlit = {int(e) for e in np.flatnonzero(active & spot)}
        out: Rows = {}
        now: dict[int, set[int]] = {}
        for o in obs:
            u = set(near[o])
            if active[o] and aud[o]:
                u |= spotlit - {o}
            old = self.prev.get(o, set())
            out[o] = (u, u - old, old - u)
            now[o] = u
        self.prev = now
        return out


def _check_invariants(
    rows: Rows,
    prev: dict[int, set[int]],
    positions: F32,
    active: Bools,
    layer: I16 | None,
    spotlight: Bools | None,
    audience: Bools | None,
    radius: float,
    k: int,
    margin: float,
) -> dict[int, set[int]]:
    """The documented guarantees, checked without any reference."""
    cap = active.size
    lay = np.zeros(cap, np.int16) if layer is None else layer
    spot = np.zeros(cap, bool) if spotlight is None else spotlight
    aud = np.zeros(cap, bool) if audience is None else audience
    spotlit = {int(e) for e in np.flatnonzero(active & spot)}
    now = {}
    for o, (v, e, gone) in rows.items():
        old = prev.get(o, set())
        assert e == v - old and gone == old - v
        assert o not in v
        now[o] = v
        if not active[o]:
            assert not v
            continue
        extra = spotlit - {o} if aud[o] else set()
        assert extra <= v
        assert len(v) <= k + len(extra)
        near = v - extra
        assert len(near) <= k
        d = distances_from(positions, o)
        for x in near:
            assert active[x] and lay[x] == lay[o] and d[x] <= np.float32(radius + margin)
    return now


# ---------------------------------------------------------------- unit tests


def _obs(*slots: int) -> NDArray[np.int32]:
    return np.array(slots, np.int32)


def test_all_none_is_the_plain_manager_call_for_call() -> None:
    rng = np.random.default_rng(1)
    cap = 300
    pos = rng.uniform(-20, 20, (cap, 2)).astype(np.float32)
    act = rng.random(cap) < 0.9
    a = AudienceInterest(cap, radius=8.0, k=10, margin=1.0, band=6, inner=3)
    b = InterestManager(cap, radius=8.0, k=10, margin=1.0, band=6, inner=3)
    obs = np.arange(0, cap, 2, dtype=np.int32)
    for _ in range(15):
        pos += rng.normal(0, 0.3, pos.shape).astype(np.float32)
        act ^= rng.random(cap) < 0.02
        x, y = a.update(pos, act, obs), b.update(pos, act, obs)
        for name in ("observers", "visible_ptr", "visible", "entered_ptr", "entered"):
            np.testing.assert_array_equal(getattr(x, name), getattr(y, name))
        np.testing.assert_array_equal(x.left_ptr, y.left_ptr)
        np.testing.assert_array_equal(x.left, y.left)
    st_a = a.stats
    assert st_a.ticks == 15 and st_a.rows == 15 * obs.size
    assert st_a.rebuilt == b.stats.rebuilt and st_a.reanchored == b.stats.reanchored
    assert st_a.layers == 1 and st_a.managers_made == 1 and st_a.merge_ns == 0


def test_layers_isolate_slots_at_the_same_place() -> None:
    pos = np.zeros((6, 2), np.float32)
    pos[:, 0] = [0, 1, 2, 0, 1, 2]
    act = np.ones(6, bool)
    lay = np.array([0, 0, 0, 7, 7, -3], np.int16)
    m = AudienceInterest(6, radius=10, k=8)
    rows = _rows(m.update(pos, act, _obs(0, 3, 5), layer=lay))
    assert rows[0] == ({1, 2}, {1, 2}, set())
    assert rows[3] == ({4}, {4}, set())
    assert rows[5] == (set(), set(), set())  # alone in its layer
    assert m.layers == (-3, 0, 7)


def test_spotlight_is_seen_by_the_audience_whatever_k_and_distance() -> None:
    cap = 10
    pos = np.zeros((cap, 2), np.float32)
    pos[:5, 0] = [0, 1, 2, 3, 4]  # the hall
    pos[5:, 0] = 1000.0 + np.arange(5)  # a far stage, in another layer
    act = np.ones(cap, bool)
    lay = np.array([0] * 5 + [1] * 5, np.int16)
    spot = np.zeros(cap, bool)
    spot[5:] = True
    aud = np.zeros(cap, bool)
    aud[[0, 5]] = True  # slot 5 is both on the stage and in the audience
    m = AudienceInterest(cap, radius=10, k=2)
    rows = _rows(m.update(pos, act, _obs(0, 1, 5, 6), layer=lay, spotlight=spot, audience=aud))
    assert rows[0][0] == {1, 2, 5, 6, 7, 8, 9}  # k=2 nearest plus the whole stage
    assert rows[1][0] == {0, 2}  # not in the audience: its k nearest only
    assert rows[5][0] == {6, 7, 8, 9}  # the stage less itself; its near set is inside it
    assert rows[6][0] == {5, 7}
    assert all(v == e for v, e, _ in rows.values())


def test_near_and_spotlit_is_listed_once_and_does_not_flicker() -> None:
    pos = np.array([[0, 0], [1, 0], [50, 0]], np.float32)
    act = np.ones(3, bool)
    spot = np.array([False, True, False])
    aud = np.array([True, False, False])
    m = AudienceInterest(3, radius=10, k=4)
    o = _obs(0)
    assert _rows(m.update(pos, act, o, spotlight=spot, audience=aud))[0] == ({1}, {1}, set())
    # it leaves the stage but stays near: no leave, no enter
    off = np.zeros(3, bool)
    assert _rows(m.update(pos, act, o, spotlight=off, audience=aud))[0] == ({1}, set(), set())
    pos[1, 0] = 30.0  # far and off the stage: leaves
    assert _rows(m.update(pos, act, o, spotlight=off, audience=aud))[0] == (set(), set(), {1})
    # back on the stage while far: enters; then it walks near: nothing changes
    assert _rows(m.update(pos, act, o, spotlight=spot, audience=aud))[0] == ({1}, {1}, set())
    pos[1, 0] = 1.0
    for _ in range(3):
        assert _rows(m.update(pos, act, o, spotlight=spot, audience=aud))[0] == ({1}, set(), set())
    # the far slot 2 goes on the stage too, then off
    both = np.array([False, True, True])
    assert _rows(m.update(pos, act, o, spotlight=both, audience=aud))[0] == ({1, 2}, {2}, set())
    assert _rows(m.update(pos, act, o, spotlight=spot, audience=aud))[0] == ({1}, set(), {2})


def test_audience_flag_on_and_off() -> None:
    pos = np.array([[0, 0], [1, 0], [80, 0], [90, 0]], np.float32)
    act = np.ones(4, bool)
    spot = np.array([False, False, True, True])
    yes = np.array([True, False, False, False])
    no = np.zeros(4, bool)
    m = AudienceInterest(4, radius=10, k=4)
    o = _obs(0)
    assert _rows(m.update(pos, act, o, spotlight=spot, audience=no))[0] == ({1}, {1}, set())
    assert _rows(m.update(pos, act, o, spotlight=spot, audience=yes))[0] == (
        {1, 2, 3},
        {2, 3},
        set(),
    )
    assert _rows(m.update(pos, act, o, spotlight=spot, audience=no))[0] == ({1}, set(), {2, 3})


def test_layer_change_makes_the_old_layer_leave_and_keeps_the_stage() -> None:
    pos = np.array([[0, 0], [1, 0], [2, 0], [3, 0], [500, 0]], np.float32)
    act = np.ones(5, bool)
    lay = np.array([1, 1, 2, 2, 3], np.int16)
    spot = np.array([False, False, False, False, True])
    aud = np.array([True, False, False, False, False])
    m = AudienceInterest(5, radius=10, k=4)
    o = _obs(0, 1)
    kw: dict[str, Any] = {"spotlight": spot, "audience": aud}
    assert _rows(m.update(pos, act, o, layer=lay, **kw))[0] == ({1, 4}, {1, 4}, set())
    moved = lay.copy()
    moved[0] = 2
    rows = _rows(m.update(pos, act, o, layer=moved, **kw))
    assert rows[0] == ({2, 3, 4}, {2, 3}, {1})  # the stage stays without a blink
    assert rows[1] == (set(), set(), {0})
    assert m.layers == (1, 2)


def test_inactive_slots_and_observers_leave() -> None:
    pos = np.array([[0, 0], [1, 0], [100, 0], [0, 1]], np.float32)
    act = np.ones(4, bool)
    spot = np.array([False, False, True, False])
    aud = np.array([True, False, False, True])
    m = AudienceInterest(4, radius=10, k=4)
    o = _obs(0, 3)
    kw: dict[str, Any] = {"spotlight": spot, "audience": aud}
    assert _rows(m.update(pos, act, o, **kw))[0] == ({1, 2, 3}, {1, 2, 3}, set())
    act[2] = False  # the speaker drops: every audience member sees it leave
    rows = _rows(m.update(pos, act, o, **kw))
    assert rows[0] == ({1, 3}, set(), {2}) and rows[3] == ({0, 1}, set(), {2})
    act[2] = True
    assert _rows(m.update(pos, act, o, **kw))[0] == ({1, 2, 3}, {2}, set())
    act[0] = False  # an inactive observer sees nothing, not even the stage
    rows = _rows(m.update(pos, act, o, **kw))
    assert rows[0] == (set(), set(), {1, 2, 3}) and rows[3] == ({1, 2}, set(), {0})
    act[0] = True
    assert _rows(m.update(pos, act, o, **kw))[0] == ({1, 2, 3}, {1, 2, 3}, set())


def test_absent_observer_starts_empty_again() -> None:
    pos = np.array([[0, 0], [1, 0], [60, 0]], np.float32)
    act = np.ones(3, bool)
    spot = np.array([False, False, True])
    aud = np.ones(3, bool)
    m = AudienceInterest(3, radius=10, k=4)
    kw: dict[str, Any] = {"spotlight": spot, "audience": aud}
    m.update(pos, act, _obs(0), **kw)
    m.update(pos, act, _obs(1), **kw)
    assert _rows(m.update(pos, act, _obs(0, 1), **kw))[0] == ({1, 2}, {1, 2}, set())


def test_switching_between_plain_and_layered_calls_stays_consistent() -> None:
    """tick.py calls the plain form when nothing is staged: the sets carry over."""
    pos = np.array([[0, 0], [1, 0], [2, 0], [70, 0]], np.float32)
    act = np.ones(4, bool)
    lay = np.array([0, 0, 5, 5], np.int16)
    spot = np.array([False, False, False, True])
    aud = np.array([True, True, True, False])
    m = AudienceInterest(4, radius=10, k=4)
    o = _obs(0, 2, 3)
    assert _rows(m.update(pos, act, o))[0] == ({1, 2}, {1, 2}, set())
    rows = _rows(m.update(pos, act, o, layer=lay, spotlight=spot, audience=aud))
    assert rows[0] == ({1, 3}, {3}, {2}) and rows[2] == ({3}, {3}, {0, 1})
    rows = _rows(m.update(pos, act, o))  # the transition tick, then plain again
    assert rows[0] == ({1, 2}, {2}, {3}) and rows[2] == ({0, 1}, {0, 1}, {3})
    assert rows[3] == (set(), set(), set())
    merges = m.stats.managers_made
    for _ in range(3):
        assert _rows(m.update(pos, act, o))[0] == ({1, 2}, set(), set())
    assert m.stats.managers_made == merges and m.layers == (0,)
    # layers given but trivial keep it plain: no transition needed afterwards
    zeros = np.zeros(4, np.int16)
    assert _rows(m.update(pos, act, o, layer=zeros))[0] == ({1, 2}, set(), set())
    assert _rows(m.update(pos, act, o))[0] == ({1, 2}, set(), set())


def test_grow_adds_slots_to_layers_and_the_stage() -> None:
    pos = np.array([[0, 0], [1, 0]], np.float32)
    m = AudienceInterest(2, radius=10, k=8)
    ref = AudienceReference(lambda: _OracleAdapter(10, 8, 2.0))
    args: dict[str, Any] = {
        "layer": np.array([1, 1], np.int16),
        "spotlight": np.zeros(2, bool),
        "audience": np.ones(2, bool),
    }
    o = _obs(0, 1)
    assert _rows(m.update(pos, np.ones(2, bool), o, **args)) == ref.update(
        pos, np.ones(2, bool), o, **args
    )
    m.grow(5)
    pos5 = np.array([[0, 0], [1, 0], [2, 0], [300, 0], [3, 0]], np.float32)
    args = {
        "layer": np.array([1, 1, 1, 9, 2], np.int16),
        "spotlight": np.array([False, False, False, True, False]),
        "audience": np.ones(5, bool),
    }
    o = _obs(0, 1, 4)
    rows = _rows(m.update(pos5, np.ones(5, bool), o, **args))
    assert rows == ref.update(pos5, np.ones(5, bool), o, **args)
    assert rows[0] == ({1, 2, 3}, {2, 3}, set()) and rows[4] == ({3}, {3}, set())
    with pytest.raises(ValueError):
        m.grow(4)


@pytest.mark.parametrize(
    "bad",
    [
        {"layer": np.zeros(3, np.int16)},
        {"layer": np.zeros(4, np.float32)},
        {"layer": np.full(4, 40_000, np.int64)},
        {"spotlight": np.zeros(4, np.int8)},
        {"audience": np.zeros(5, bool)},
    ],
)
def test_rejects_bad_arrays_without_changing_state(bad: dict[str, Any]) -> None:
    pos = np.array([[0, 0], [1, 0], [2, 0], [50, 0]], np.float32)
    act = np.ones(4, bool)
    spot = np.array([False, False, False, True])
    aud = np.ones(4, bool)
    m = AudienceInterest(4, radius=10, k=8)
    o = _obs(0)
    assert _rows(m.update(pos, act, o, spotlight=spot, audience=aud))[0][0] == {1, 2, 3}
    with pytest.raises(ValueError):
        m.update(pos, act, o, **{"spotlight": spot, "audience": aud, **bad})
    with pytest.raises(ValueError):
        m.update(pos, act, _obs(0, 0), spotlight=spot, audience=aud)
    rows = _rows(m.update(pos, act, o, spotlight=spot, audience=aud))
    assert rows[0] == ({1, 2, 3}, set(), set())


def test_layer_values_that_fit_int16_are_taken_from_other_integer_types() -> None:
    pos = np.array([[0, 0], [1, 0], [2, 0]], np.float32)
    m = AudienceInterest(3, radius=10, k=8)
    kw: dict[str, Any] = {"layer": np.array([-32768, -32768, 32767], np.int64)}
    rows = _rows(m.update(pos, np.ones(3, bool), _obs(0, 2), **kw))
    assert rows[0][0] == {1} and rows[2][0] == set()


def test_stats_sum_the_layers_and_keep_dropped_ones() -> None:
    rng = np.random.default_rng(4)
    cap = 200
    pos = rng.uniform(-15, 15, (cap, 2)).astype(np.float32)
    act = np.ones(cap, bool)
    lay = (np.arange(cap) % 3).astype(np.int16)
    spot = np.zeros(cap, bool)
    spot[:10] = True
    aud = ~spot
    m = AudienceInterest(cap, radius=6.0, k=8, clock=time.perf_counter_ns)
    obs = np.arange(cap, dtype=np.int32)
    for _ in range(5):
        pos += rng.normal(0, 0.2, pos.shape).astype(np.float32)
        m.update(pos, act, obs, layer=lay, spotlight=spot, audience=aud)
    s = m.stats
    assert s.ticks == 5 and s.rows == 5 * cap
    assert s.layers == 3 and s.managers_made == 3
    assert s.rebuilt >= cap  # every row of every layer starts with a query
    assert 0 < s.merge_ns <= s.output_ns and s.band_ns + s.lists_ns + s.output_ns <= s.total_ns
    lay[:] = 0  # layers 1 and 2 empty: their managers go, their work stays counted
    m.update(pos, act, obs, layer=lay, spotlight=spot, audience=aud)
    t = m.stats
    assert t.layers == 1 and m.layers == (0,) and t.rebuilt >= s.rebuilt
    assert t.total_ns > s.total_ns and t.ticks == 6
    m.update(pos, act, obs, layer=lay, spotlight=spot, audience=aud)
    assert m.stats.ticks == 7 and t.ticks == 6  # a snapshot


def test_empty_world_and_no_observers() -> None:
    m = AudienceInterest(0)
    z: dict[str, Any] = {
        "layer": np.zeros(0, np.int16),
        "spotlight": np.zeros(0, bool),
        "audience": np.zeros(0, bool),
    }
    d = m.update(np.zeros((0, 2), np.float32), np.zeros(0, bool), np.zeros(0, np.int32), **z)
    assert _rows(d) == {} and m.layers == ()
    m.grow(2)
    pos = np.zeros((2, 2), np.float32)
    d = m.update(pos, np.ones(2, bool), np.zeros(0, np.int32), spotlight=np.ones(2, bool))
    assert _rows(d) == {}


# ---------------------------------------------------------------- property tests


def _tuning(data: st.DataObject) -> dict[str, Any]:
    band = data.draw(st.integers(1, 5), label="band")
    return {
        "band": band,
        "inner": data.draw(st.integers(0, band - 1), label="inner"),
        "spare": data.draw(st.sampled_from([0, 3, 64]), label="spare"),
        "skin": data.draw(st.sampled_from([0.05, 1.0, 4.0]), label="skin"),
        "jump": data.draw(st.sampled_from([0.001, 0.5, 50.0]), label="jump"),
        "grid_ticks": data.draw(st.integers(1, 4), label="grid_ticks"),
    }


@settings(max_examples=120, deadline=None)
@given(st.data())
def test_matches_the_definition_through_layer_stage_and_audience_churn(
    data: st.DataObject,
) -> None:
    cap = data.draw(st.integers(1, 30), label="capacity")
    radius = data.draw(st.sampled_from([2.0, 5.0, 12.0]), label="radius")
    k = data.draw(st.integers(1, 6), label="k")
    margin = data.draw(st.sampled_from([0.0, 1.0]), label="margin")
    nlayers = data.draw(st.integers(1, 3), label="layers")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    span = 15.0
    pos = (rng.random((cap, 2)) * span).astype(np.float32)
    act = rng.random(cap) < 0.85
    lay = rng.integers(0, nlayers, cap).astype(np.int16)
    spot = rng.random(cap) < 0.2
    aud = rng.random(cap) < 0.6
    m = AudienceInterest(cap, radius=radius, k=k, margin=margin, **_tuning(data))
    ref = AudienceReference(lambda: _OracleAdapter(radius, k, margin))
    prev: dict[int, set[int]] = {}
    for _ in range(data.draw(st.integers(1, 10), label="ticks")):
        pos += rng.normal(0, radius * 0.15, pos.shape).astype(np.float32)
        tele = rng.random(cap) < 0.1
        pos[tele] = (rng.random((int(tele.sum()), 2)) * span).astype(np.float32)
        act ^= rng.random(cap) < 0.1
        lay[rng.random(cap) < 0.15] = rng.integers(0, nlayers)
        spot ^= rng.random(cap) < 0.15
        aud ^= rng.random(cap) < 0.15
        pos[~act] = np.float32(np.nan)  # rows of inactive slots must not matter
        pos[act & ~np.isfinite(pos).all(axis=1)] = np.float32(1.0)
        obs = rng.choice(cap, int(rng.integers(0, cap + 1)), replace=False).astype(np.int32)
        # which arrays come: all (staged), none (the plain call), or some
        mode = data.draw(st.sampled_from(["all", "all", "none", "layer", "stage"]), label="mode")
        modes: dict[str, dict[str, Any]] = {
            "all": {"layer": lay.copy(), "spotlight": spot.copy(), "audience": aud.copy()},
            "none": {},
            "layer": {"layer": lay.copy()},
            "stage": {"spotlight": spot.copy(), "audience": aud.copy()},
        }
        kw = modes[mode]
        rows = _rows(m.update(pos, act, obs, **kw))
        assert set(rows) == set(obs.tolist())
        assert rows == ref.update(pos, act, obs, **kw)
        kept = {o: prev[o] for o in rows if o in prev}
        prev = _check_invariants(rows, kept, pos, act, kw.get("layer"), kw.get("spotlight"),
                                 kw.get("audience"), radius, k, margin)  # fmt: skip


def _walk(rng: np.random.Generator, pos: F32, heading: NDArray[np.float64], half: float) -> None:
    heading += rng.normal(0, 0.3, heading.shape)
    speed = np.where(rng.random(heading.shape) < 0.3, 0.0, rng.uniform(0.5, 1.5, heading.shape))
    pos[:, 0] += (speed * 0.05 * np.cos(heading)).astype(np.float32)
    pos[:, 1] += (speed * 0.05 * np.sin(heading)).astype(np.float32)
    np.clip(pos, -half, half, out=pos)


@pytest.mark.parametrize("seed", [0, 1])
def test_matches_reference_on_an_auditorium_with_churn_and_growth(seed: int) -> None:
    """Bench-like: 1500 slots in three event instances, a 40-slot stage, k=16;
    walking, teleports, joins and leaves, people changing instance, speakers
    stepping on and off the stage, audience churn, observer churn, a grow."""
    rng = np.random.default_rng(seed)
    cap, half = 1500, 40.0
    pos = rng.uniform(-half, half, (cap, 2)).astype(np.float32)
    pos[: cap // 2] = rng.normal((0, -10), 5, (cap // 2, 2)).astype(np.float32)  # seats
    stage = np.arange(cap // 2, cap // 2 + 40)
    pos[stage] = rng.uniform((-10, 20), (10, 26), (40, 2)).astype(np.float32)
    heading = rng.uniform(-np.pi, np.pi, cap)
    act = rng.random(cap) < 0.95
    lay = rng.integers(0, 3, cap).astype(np.int16)
    spot = np.zeros(cap, bool)
    spot[stage] = True
    aud = (rng.random(cap) < 0.7) & ~spot
    fast = AudienceInterest(
        cap, radius=12.0, k=16, margin=1.5, band=[8, 32][seed], inner=[4, 16][seed]
    )
    ref = AudienceReference(lambda: ReferenceInterestManager(cap, radius=12.0, k=16, margin=1.5))
    obs = rng.choice(cap, 500, replace=False).astype(np.int32)
    prev: dict[int, set[int]] = {}
    for tick in range(30):
        if tick == 15:
            extra = 200
            pos = np.concatenate((pos, rng.uniform(-half, half, (extra, 2)).astype(np.float32)))
            heading = np.concatenate((heading, rng.uniform(-np.pi, np.pi, extra)))
            act = np.concatenate((act, np.ones(extra, bool)))
            lay = np.concatenate((lay, np.full(extra, 1, np.int16)))
            spot = np.concatenate((spot, rng.random(extra) < 0.05))
            aud = np.concatenate((aud, rng.random(extra) < 0.5))
            cap += extra
            fast.grow(cap)
            for r in ref.by_layer.values():
                assert isinstance(r, ReferenceInterestManager)
                r.grow(cap)
            ref.make = partial(ReferenceInterestManager, cap, radius=12.0, k=16, margin=1.5)
            obs = np.unique(np.concatenate((obs, np.arange(cap - extra, cap, 4, dtype=np.int32))))
        _walk(rng, pos, heading, half)
        tele = rng.random(cap) < 0.003
        pos[tele] = rng.uniform(-half, half, (int(tele.sum()), 2)).astype(np.float32)
        act ^= rng.random(cap) < 0.004
        lay[rng.random(cap) < 0.01] = rng.integers(0, 3)
        spot ^= rng.random(cap) < 0.004
        aud ^= rng.random(cap) < 0.01
        if tick % 7 == 0:
            obs = np.concatenate((obs[25:], rng.choice(cap, 25, replace=False).astype(np.int32)))
            obs = np.unique(obs)
        kw: dict[str, Any] = {"layer": lay, "spotlight": spot, "audience": aud}
        rows = _rows(fast.update(pos, act, obs, **kw))
        assert rows == ref.update(pos, act, obs, **kw), tick
        kept = {o: prev[o] for o in rows if o in prev}
        prev = _check_invariants(rows, kept, pos, act, lay, spot, aud, 12.0, 16, 1.5)
    assert fast.stats.layers == 3
