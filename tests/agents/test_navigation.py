"""Where agents go: a still crowd's places spread over the entrance zone."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np

from agents.navigation import Navigator
from server.world import load_world

WORLD = load_world(Path(__file__).resolve().parents[2] / "server" / "data" / "world.toml")


def test_places_spread_over_the_entrance_zone_and_are_reachable() -> None:
    wire = WORLD.to_wire()
    nav = Navigator(wire)
    rng = random.Random(7)
    entrance = next(i for i, z in enumerate(nav.zones) if z["kind"] == "entrance")
    x0, z0, x1, z1 = nav.zones[entrance]["rect"]
    places = np.array([nav.goal("place", rng) for _ in range(2000)])
    assert all(nav.zone_of(x, z) == entrance for x, z in places)  # not in a room inside it
    # spread, not heaped on the spawn: every 4 m square of the zone's open middle is used
    cells = {(int((x - x0) // 4), int((z - z0) // 4)) for x, z in places}
    assert len(cells) > 0.8 * ((x1 - x0) // 4) * ((z1 - z0) // 4) * 0.75
    sx, sz = wire["spawn"]
    assert np.median(np.hypot(places[:, 0] - sx, places[:, 1] - sz)) > 4 * WORLD.spawn_radius
    for x, z in places[:50]:
        route = nav.route(sx, sz, float(x), float(z))
        assert route[-1] == (x, z)
