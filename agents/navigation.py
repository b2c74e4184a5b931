"""Steering for agents: goals by part, and routes through doorways.

The world map (from ``welcome``) gives zones as rectangles and walls as
segments; two zones that share an edge are joined by the gaps in the walls
along it. A route is the list of waypoints: each doorway's middle, then the goal.
"""

from __future__ import annotations

import itertools
import random
from typing import Any

Point = tuple[float, float]


class Navigator:
    def __init__(self, world: dict[str, Any]) -> None:
        self.world = world
        self.zones: list[dict[str, Any]] = list(world["zones"])
        self.walls: list[list[float]] = list(world["walls"])
        self.doors: dict[tuple[int, int], Point] = {}
        for a, za in enumerate(self.zones):
            for b, zb in enumerate(self.zones):
                if a < b:
                    door = self._door(za["rect"], zb["rect"])
                    if door is not None:
                        self.doors[(a, b)] = self.doors[(b, a)] = door

    def _door(self, ra: list[float], rb: list[float]) -> Point | None:
        for edge in (ra[2], ra[0]):
            if edge not in (rb[0], rb[2]):
                continue
            lo, hi = max(ra[1], rb[1]), min(ra[3], rb[3])
            blocked = sorted(
                (min(w[1], w[3]), max(w[1], w[3])) for w in self.walls if w[0] == w[2] == edge
            )
            cursor = lo
            for start, end in [*blocked, (hi, hi)]:
                if start - cursor >= 1.0:
                    return edge, (cursor + start) / 2
                cursor = max(cursor, end)
        return None

    def zone_of(self, x: float, z: float) -> int:
        for i, zone in enumerate(self.zones):
            x0, z0, x1, z1 = zone["rect"]
            if x0 <= x < x1 and z0 <= z < z1:
                return i
        return -1

    def route(self, x: float, z: float, gx: float, gz: float) -> list[Point]:
        """Waypoints from (x, z) to (gx, gz), breadth-first over zones."""
        start, goal = self.zone_of(x, z), self.zone_of(gx, gz)
        if start < 0 or goal < 0 or start == goal:
            return [(gx, gz)]
        previous: dict[int, int] = {start: start}
        frontier = [start]
        while frontier and goal not in previous:
            nxt = []
            for a in frontier:
                for p, q in self.doors:
                    if p == a and q not in previous:
                        previous[q] = a
                        nxt.append(q)
            frontier = nxt
        if goal not in previous:
            return [(gx, gz)]
        path = [goal]
        while path[-1] != start:
            path.append(previous[path[-1]])
        path.reverse()
        waypoints: list[Point] = []
        for a, b in itertools.pairwise(path):
            dx, dz = self.doors[(a, b)]
            side = 1.0 if self.zones[b]["rect"][0] >= dx else -1.0
            waypoints += [(dx - side * 1.5, dz), (dx + side * 1.5, dz)]
        return [*waypoints, (gx, gz)]

    def goal(self, part: str, rng: random.Random) -> Point:
        """Somewhere an agent playing ``part`` wants to go next (``"place"``: a spot of
        the entrance zone, uniformly spread, where a member of a still crowd stands)."""
        if part == "place":
            entrance = [i for i, z in enumerate(self.zones) if z.get("kind") == "entrance"]
            if entrance:
                x0, z0, x1, z1 = self.zones[entrance[0]]["rect"]
                for _ in range(50):  # not where another zone (a room) lies inside it
                    x, z = rng.uniform(x0 + 2, x1 - 2), rng.uniform(z0 + 2, z1 - 2)
                    if self.zone_of(x, z) == entrance[0]:
                        return x, z
        if part == "desk" and self.world.get("desks"):
            desk = rng.choice(self.world["desks"])
            x, z = desk["position"]
            return x + rng.uniform(-1.5, 1.5), z + rng.uniform(2.0, 8.0)
        if part == "stage" and self.world.get("stage"):
            x0, z0, _x1, z1 = self.world["stage"]["rect"]
            return x0 - rng.uniform(2.0, 15.0), rng.uniform(z0, z1)
        zone = rng.choice([z for z in self.zones if z.get("kind") != "event"] or self.zones)
        x0, z0, x1, z1 = zone["rect"]
        return rng.uniform(x0 + 2, x1 - 2), rng.uniform(z0 + 2, z1 - 2)
