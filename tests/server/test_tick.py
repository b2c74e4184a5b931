"""The tick, directly: frame writes per observer, enter and leave once, zone changes.

Most tests use the full-rate encoding (a frame per observer per tick); the
delta tests check what the default encoding leaves out and what it keeps.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgpack

from protocol.frames import StateFrameDecoder
from server.metrics import Metrics
from server.space import Avatar, Space
from server.tick import TickLoop
from server.world import load_world
from spatial.audience import AudienceInterest
from spatial.movement import MovementRules

WORLD = load_world(Path(__file__).resolve().parents[2] / "server" / "data" / "world.toml")


class RecordingLink:
    """Stands in for a `ClientLink`: records what the tick writes."""

    def __init__(self) -> None:
        self.frames: list[Any] = []
        self.messages: list[dict[str, Any]] = []
        self.decoder = StateFrameDecoder()
        self.full = False  # True: refuse frames, as a full send buffer does
        self.tick_writes = 0

    def write(self, payload: bytes, droppable: bool = False, now: float = 0.0) -> bool:
        assert droppable, "state frames are droppable writes"
        if self.full:
            return False
        self.frames.append(self.decoder.decode(msgpack.unpackb(payload, raw=False)))
        return True

    def send(self, msg: dict[str, Any]) -> bool:
        self.messages.append(msg)
        return True

    def write_tick(
        self, must: Sequence[bytes], frame: bytes | None, now: float, extra: bytes | None = None
    ) -> bool:
        """A tick's one write: leaves and enters that must arrive, then the frame."""
        self.tick_writes += 1
        self.messages.extend(msgpack.unpackb(m, raw=False) for m in must)
        if frame is None:
            return False
        return self.write(frame, droppable=True, now=now)

    def of(self, t: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["t"] == t]


def setup(encoding: str = "full") -> tuple[Space, TickLoop, list[tuple[Avatar, int]], Metrics]:
    rules = MovementRules(WORLD.bounds, WORLD.walls, 4.0)
    space = Space(WORLD, rules, 16, 100)
    metrics = Metrics()
    zones: list[tuple[Avatar, int]] = []
    tick = TickLoop(
        space,
        AudienceInterest(16, radius=20.0, k=64, margin=2.0),
        metrics,
        20,
        lambda avatar, zone: zones.append((avatar, zone)),
        frame_encoding=encoding,
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
    assert la.tick_writes == lb.tick_writes == 3  # enters ride with the first frame
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


def test_delta_frames_carry_walkers_near_every_tick_and_leave_still_ones_out() -> None:
    space, tick, _, _ = setup("delta")
    la = RecordingLink()
    space.add(avatar(1, la), -50.0, 0.0, 0.0, 0.0)
    walker = avatar(2, None)
    space.add(walker, -48.0, 0.0, 0.0, 0.0)
    space.add(avatar(3, None), -49.0, 1.0, 0.0, 0.0)  # stands still
    for k in range(45):
        space.place(walker, -48.0, 0.05 * k, 0.0)
        tick.step()
    updates = [f.ids.tolist() for f in la.frames]
    assert updates[0] == []  # the first tick: the enter message carried every position
    assert all(u == [2] for u in updates[1:]) and len(updates) == 45
    assert la.decoder.position_q(2) == (-4800, 220)
    # when nothing moves, one heartbeat a second (20 ticks)
    before = len(la.frames)
    for _ in range(40):
        tick.step()
    assert len(la.frames) - before == 2
    assert all(f.ids.size == 0 for f in la.frames[before:])


def test_a_skipped_delta_frame_is_made_up_by_a_later_one() -> None:
    space, tick, _, _ = setup("delta")
    la = RecordingLink()
    space.add(avatar(1, la), -50.0, 0.0, 0.0, 0.0)
    walker = avatar(2, None)
    space.add(walker, -48.0, 0.0, 0.0, 0.0)
    tick.step()
    la.full = True
    for k in range(1, 4):
        space.place(walker, -48.0, 0.3 * k, 0.0)
        tick.step()
    la.full = False
    tick.step()  # nothing moved this tick, but the client has not seen the last moves
    assert la.frames[-1].ids.tolist() == [2]
    assert la.decoder.position_q(2) == (-4800, 90)


def test_a_spotlit_speaker_stays_at_full_rate_far_away() -> None:
    space, tick, _, _ = setup("delta")
    la = RecordingLink()
    space.add(avatar(1, la), -50.0, 0.0, 0.0, 0.0)
    speaker = avatar(2, None)
    space.add(speaker, -36.0, 0.0, 0.0, 0.0)  # 14 m: every 4th tick unless on stage
    walker = avatar(3, None)
    space.add(walker, -36.0, 2.0, 0.0, 0.0)
    space.spotlight[speaker.slot] = True
    for k in range(16):
        space.place(speaker, -36.0, 0.02 * k, 0.0)
        space.place(walker, -36.0, 2.0 + 0.02 * k, 0.0)
        tick.step()
    seen = [f.ids.tolist() for f in la.frames]
    assert sum(2 in ids for ids in seen) == 15
    assert 3 <= sum(3 in ids for ids in seen) <= 4
