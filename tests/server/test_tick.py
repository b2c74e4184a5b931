"""The tick, directly: one frame write per observer, enter and leave once, zone changes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgpack

from protocol.frames import decode_state_frame
from server.metrics import Metrics
from server.space import Avatar, Space
from server.tick import TickLoop
from server.world import load_world
from spatial.interest import InterestManager
from spatial.movement import MovementRules

WORLD = load_world(Path(__file__).resolve().parents[2] / "server" / "data" / "world.toml")


class RecordingLink:
    """Stands in for a `ClientLink`: records what the tick writes."""

    def __init__(self) -> None:
        self.frames: list[Any] = []
        self.messages: list[dict[str, Any]] = []

    def write(self, payload: bytes, droppable: bool = False, now: float = 0.0) -> bool:
        assert droppable, "state frames are droppable writes"
        self.frames.append(decode_state_frame(msgpack.unpackb(payload, raw=False)))
        return True

    def send(self, msg: dict[str, Any]) -> bool:
        self.messages.append(msg)
        return True

    def of(self, t: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["t"] == t]


def setup() -> tuple[Space, TickLoop, list[tuple[Avatar, int]], Metrics]:
    rules = MovementRules(WORLD.bounds, WORLD.walls, 4.0)
    space = Space(WORLD, rules, 16, 100)
    metrics = Metrics()
    zones: list[tuple[Avatar, int]] = []
    tick = TickLoop(
        space,
        InterestManager(16, radius=20.0, k=64, margin=2.0),
        metrics,
        20,
        lambda avatar, zone: zones.append((avatar, zone)),
    )
    return space, tick, zones, metrics


def avatar(entity: int, link: RecordingLink | None) -> Avatar:
    a = Avatar(entity, f"A{entity}", "citizen", 0x123456, "round")
    a.link = link  # type: ignore[assignment]
    return a


def test_each_observer_gets_one_frame_per_tick_and_sees_others_enter_once() -> None:
    space, tick, _, metrics = setup()
    la, lb = RecordingLink(), RecordingLink()
    space.add(avatar(1, la), -50.0, 0.0, 0.0, 0.0)
    space.add(avatar(2, lb), -48.0, 0.0, 0.0, 0.0)
    space.add(avatar(3, None), -49.0, 1.0, 0.0, 0.0)  # no client: seen, not observing
    for _ in range(3):
        tick.step()
    assert len(la.frames) == len(lb.frames) == 3
    assert sorted(la.frames[-1].ids.tolist()) == [2, 3]  # everyone else in view
    entered = [e["id"] for m in la.of("enter") for e in m["e"]]
    assert sorted(entered) == [2, 3]  # names and looks once, not every tick
    assert {e["name"] for m in la.of("enter") for e in m["e"]} == {"A2", "A3"}
    assert metrics.avatars == 3


def test_a_removed_avatar_leaves_once_and_its_slot_is_reused_after_the_tick() -> None:
    space, tick, _, _ = setup()
    la = RecordingLink()
    space.add(avatar(1, la), -50.0, 0.0, 0.0, 0.0)
    gone = avatar(2, RecordingLink())
    space.add(gone, -49.0, 0.0, 0.0, 0.0)
    tick.step()
    slot = gone.slot
    space.remove(gone)
    newcomer = avatar(3, None)
    space.add(newcomer, -49.5, 0.0, 0.0, 0.0)
    assert newcomer.slot != slot  # not before the manager has seen the slot leave
    tick.step()
    tick.step()
    assert [m["ids"] for m in la.of("leave")] == [[2]]
    assert 2 not in la.frames[-1].ids.tolist() and 3 in la.frames[-1].ids.tolist()


def test_walking_into_another_zone_is_reported_once() -> None:
    space, tick, zones, _ = setup()
    a = avatar(1, RecordingLink())
    space.add(a, -21.0, 0.0, 0.0, 0.0)
    tick.step()
    assert zones == []
    space.place(a, -19.0, 0.0, 0.0)  # through the doorway into the hall
    tick.step()
    tick.step()
    assert [(z[0].id, WORLD.zones[z[1]].id) for z in zones] == [(1, "hall")]
