"""Movement rules: speed budget, bounds, walls."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st

from spatial.movement import MovementRules

WALLS = np.array([[0.0, -10.0, 0.0, -2.0], [0.0, 2.0, 0.0, 10.0]])


def rules() -> MovementRules:
    return MovementRules((-10.0, -10.0, 10.0, 10.0), WALLS, max_speed=2.0)


def test_walking_within_budget_is_untouched() -> None:
    result, left = rules().step(-5.0, 0.0, -4.0, 0.0, budget=2.0)
    assert (result.x, result.z, result.clamped, result.teleport) == (-4.0, 0.0, False, False)
    assert math.isclose(left, 1.0)


def test_overspeed_is_clamped_to_the_budget() -> None:
    result, left = rules().step(-5.0, -5.0, -5.0, 5.0, budget=2.0)
    assert result.clamped and not result.teleport
    assert math.isclose(result.z, -3.0) and left == 0.0


def test_teleport_is_flagged() -> None:
    result, _ = rules().step(-5.0, 0.0, 9.0, 9.0, budget=2.0)
    assert result.teleport and result.clamped


def test_walls_block_and_doorways_pass() -> None:
    r = rules()
    blocked, _ = r.step(-1.0, 5.0, 1.0, 5.0, budget=5.0)
    assert (blocked.x, blocked.z, blocked.clamped) == (-1.0, 5.0, True)
    through, _ = r.step(-1.0, 0.0, 1.0, 0.0, budget=5.0)
    assert (through.x, through.z, through.clamped) == (1.0, 0.0, False)


def test_budget_refills_up_to_its_cap() -> None:
    r = rules()
    assert r.refill(0.0, 0.5) == 1.0
    assert r.refill(0.0, 100.0) == r.budget_cap


coords = st.floats(-30, 30, allow_nan=False)


@given(coords, coords, coords, coords, st.floats(0, 10))
def test_result_is_always_legal(x: float, z: float, wx: float, wz: float, budget: float) -> None:
    r = rules()
    x, z = r.clamp_bounds(x, z)
    # Start where an avatar can be: the rules never let one end up on a wall.
    assume(abs(x) > r.body_radius or abs(z) < 2.0)
    result, left = r.step(x, z, wx, wz, budget)
    assert -10.0 <= result.x <= 10.0 and -10.0 <= result.z <= 10.0
    assert math.hypot(result.x - x, result.z - z) <= budget + 1e-6
    assert 0.0 <= left <= budget + 1e-9
    if (x < 0) != (result.x < 0) and not (x == 0 or result.x == 0):
        # Crossing x = 0 happens only through the doorway.
        zc = z + (result.z - z) * (0 - x) / (result.x - x)
        assert -2.0 <= zc <= 2.0
