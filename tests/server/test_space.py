"""Joining, seeing each other move, enter/leave at the interest radius, walls."""

from __future__ import annotations

import math
from pathlib import Path

from agents.client import AgentClient
from tests.server.harness import running_server, ws_url


async def test_welcome_carries_world_and_limits(tmp_path: Path) -> None:
    async with running_server(tmp_path) as sp, AgentClient(ws_url(sp), name="Ada") as ada:
        assert ada.welcome is not None and ada.joined is not None
        world = ada.welcome["world"]
        assert {z["id"] for z in world["zones"]} >= {"lobby", "hall", "auditorium"}
        assert len(world["desks"]) >= 3
        assert all(d["services"] for d in world["desks"])
        assert world["stage"]["zone"] == "auditorium"
        assert ada.welcome["role"] == "citizen"
        assert ada.welcome["limits"]["max_speed"] > 0
        assert ada.joined["zone"] == "lobby"
        assert ada.joined["name"] == "Ada"


async def test_two_avatars_see_each_other_move(tmp_path: Path) -> None:
    async with (
        running_server(tmp_path) as sp,
        AgentClient(ws_url(sp), name="Ada") as ada,
        AgentClient(ws_url(sp), name="Bo") as bo,
    ):
        await bo.wait_for(lambda: ada.id in bo.others)
        seen = bo.others[ada.id]
        assert seen.name == "Ada" and seen.role == "citizen"
        target = (ada.x + 1.0, ada.z + 0.5)
        await ada.move(*target, yaw=1.0)
        await bo.wait_for(
            lambda: (
                math.hypot(bo.others[ada.id].x - target[0], bo.others[ada.id].z - target[1]) < 0.02
            )
        )
        # frames carry changes only (protocol v4): Bo shows up in Ada's once he moves
        await bo.move(bo.x - 0.5, bo.z, yaw=0.5)
        await ada.wait_for(
            lambda: (
                bo.id in ada.others
                and ada.others[bo.id].frames >= 1
                and math.hypot(ada.others[bo.id].x - bo.x, ada.others[bo.id].z - bo.z) < 0.02
            )
        )


async def test_enter_and_leave_at_the_radius(tmp_path: Path) -> None:
    async with (
        running_server(tmp_path, max_speed=200.0) as sp,
        AgentClient(ws_url(sp), name="Ada") as ada,
        AgentClient(ws_url(sp), name="Bo") as bo,
    ):
        await ada.move(-50.0, 0.0)
        await bo.move(-50.0, 10.0)
        await bo.wait_for(lambda: ada.id in bo.others)
        radius = sp.config.interest_radius
        margin = sp.config.interest_margin
        # Inside R + margin: hysteresis keeps it visible.
        await ada.move(-50.0, 10.0 - (radius + margin / 2))
        await ada.move(-50.0, 10.0 - (radius + margin / 2))
        await bo.wait_for(lambda: abs(bo.others[ada.id].z - ada.z) < 0.02)
        assert ada.id in bo.others
        # Beyond R + margin: it leaves.
        await ada.move(-50.0, 10.0 - (radius + margin + 3.0))
        await bo.wait_for(lambda: ada.id not in bo.others)
        assert any(ada.id in m["ids"] for m in bo.taken("leave"))
        # Back within R: it enters again, with name and appearance.
        await ada.move(-50.0, 10.0 - (radius - 2.0))
        await bo.wait_for(lambda: ada.id in bo.others)
        assert bo.others[ada.id].name == "Ada"


async def test_walls_and_bounds_are_enforced(tmp_path: Path) -> None:
    async with (
        running_server(tmp_path, max_speed=200.0) as sp,
        AgentClient(ws_url(sp), name="Ada") as ada,
    ):
        # The wall between lobby and hall at x = -20 has a doorway at |z| < 4.
        await ada.move(-22.0, 20.0)
        await ada.sync()
        await ada.move(-18.0, 20.0)
        correct = await ada.expect("correct")
        assert correct["x"] < -20.0, "walked through a wall"
        # Through the doorway is fine.
        await ada.move(-22.0, 0.0)
        await ada.move(-18.0, 0.0)
        await ada.wait_for(lambda: ada.zone == "hall")
        # Out of bounds is clamped.
        await ada.move(-18.0, 80.0)
        correct = await ada.expect("correct", seq=ada.seq)
        assert correct["z"] < 40.0
        assert sp.space.positions[sp.space.by_id[ada.id].slot][1] < 40.0


async def test_speed_is_clamped_and_teleports_refused(tmp_path: Path) -> None:
    async with running_server(tmp_path) as sp, AgentClient(ws_url(sp), name="Ada") as ada:
        start = (ada.x, ada.z)
        await ada.move(start[0] + 30.0, start[1])
        err = await ada.expect("error")
        assert err["code"] == "move_too_far" and err["ref"] == "move"
        correct = await ada.expect("correct")
        moved = math.hypot(correct["x"] - start[0], correct["z"] - start[1])
        assert moved <= sp.config.max_speed * 1.0 + 1e-3
