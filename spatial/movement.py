"""Movement rules: maximum speed, world bounds and walls.

Server-authoritative movement: the client says where it wants to be, the
rules say where it may be. Speed is enforced with a distance budget that
refills at ``max_speed`` and holds at most one second's worth, so moves
that arrive bunched by network jitter are not punished while a sustained
overspeed or a teleport is. Pure numpy, no clock: callers pass ``now``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

TELEPORT_SLACK_M = 10.0
"""A move this far beyond the budget is reported as a teleport attempt."""


@dataclass(frozen=True)
class MoveResult:
    x: float
    z: float
    clamped: bool
    """The position differs from the one asked for (speed, bounds or a wall)."""
    teleport: bool
    """The move asked for far more distance than the budget allowed."""


class MovementRules:
    """Checks one requested move at a time (moves arrive one message at a time).

    ``bounds`` is ``(min_x, min_z, max_x, max_z)``; ``walls`` is an (W, 4) array
    of segments ``x0, z0, x1, z1``; an avatar keeps ``body_radius`` from walls.
    """

    def __init__(
        self,
        bounds: tuple[float, float, float, float],
        walls: NDArray[np.float64],
        max_speed: float,
        body_radius: float = 0.3,
        budget_s: float = 1.0,
    ) -> None:
        self.bounds = bounds
        self.walls = np.asarray(walls, dtype=np.float64).reshape(-1, 4)
        self._wall_list: list[tuple[float, float, float, float]] = [
            (float(a), float(b), float(c), float(d)) for a, b, c, d in self.walls.tolist()
        ]
        self.max_speed = max_speed
        self.body_radius = body_radius
        self.budget_cap = max_speed * budget_s

    def refill(self, budget: float, elapsed_s: float) -> float:
        """The distance budget after ``elapsed_s`` seconds without moving."""
        return min(self.budget_cap, budget + self.max_speed * max(0.0, elapsed_s))

    def clamp_bounds(self, x: float, z: float) -> tuple[float, float]:
        x0, z0, x1, z1 = self.bounds
        r = self.body_radius
        return min(max(x, x0 + r), x1 - r), min(max(z, z0 + r), z1 - r)

    def crosses_wall(self, ax: float, az: float, bx: float, bz: float) -> bool:
        """Does the walk from a to b come within ``body_radius`` of crossing a wall?

        Checked per move message against a handful of walls, so plain float
        arithmetic: numpy's per-call overhead would cost more than the maths.
        """
        if ax == bx and az == bz:
            return False
        r2 = self.body_radius * self.body_radius
        for px, pz, qx, qz in self._wall_list:
            # Proper segment intersection by orientation tests.
            ex, ez = qx - px, qz - pz
            d1 = ex * (az - pz) - ez * (ax - px)
            d2 = ex * (bz - pz) - ez * (bx - px)
            if d1 * d2 < 0:
                d3 = (bx - ax) * (pz - az) - (bz - az) * (px - ax)
                d4 = (bx - ax) * (qz - az) - (bz - az) * (qx - ax)
                if d3 * d4 < 0:
                    return True
            # Ending too close to a wall counts as walking into it.
            length2 = max(ex * ex + ez * ez, 1e-12)
            t = min(1.0, max(0.0, ((bx - px) * ex + (bz - pz) * ez) / length2))
            cx, cz = px + t * ex - bx, pz + t * ez - bz
            if cx * cx + cz * cz < r2:
                return True
        return False

    def step(
        self, x: float, z: float, want_x: float, want_z: float, budget: float
    ) -> tuple[MoveResult, float]:
        """Apply one move from (x, z) towards (want_x, want_z).

        Returns the result and the remaining budget. The result never leaves
        the bounds, never crosses a wall, and never goes further than the budget.
        """
        dx, dz = want_x - x, want_z - z
        dist = math.hypot(dx, dz)
        teleport = dist > budget + TELEPORT_SLACK_M
        nx, nz = want_x, want_z
        clamped = False
        if dist > budget:
            scale = budget / dist if dist > 0 else 0.0
            nx, nz = x + dx * scale, z + dz * scale
            clamped = True
        bx, bz = self.clamp_bounds(nx, nz)
        if (bx, bz) != (nx, nz):
            clamped = True
        if self.crosses_wall(x, z, bx, bz):
            bx, bz, clamped = x, z, True
        used = math.hypot(bx - x, bz - z)
        return MoveResult(bx, bz, clamped, teleport), max(0.0, budget - used)
