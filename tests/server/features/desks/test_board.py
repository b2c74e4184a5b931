"""The public queue display (``desk_board``), over the memory store and fake ports.

Everyone in the service point (lobby, hall, training: every zone but the
auditorium's event zone) gets the board on entering and whenever it changes:
per desk whether it is staffed and the ticket called or served there, and the
latest calls. It is public: ticket and desk ids only, never a name, subject or
entity id.

Coalescing: a change schedules one send within ``board.interval_s``; these
tests set a long interval and `flush` the pending board themselves, so no
assertion depends on how fast the machine is (one test lets the real timer
fire, waiting for the board rather than for a time).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import msgpack
import pytest

from protocol.catalogue import SERVER_MESSAGES
from protocol.codec import encode, validate
from server.features.desks.board import DeskBoard
from server.features.desks.feature import Desks
from server.features.desks.settings import DeskSettings
from server.plug import Person
from server.store.memory import MemoryStore
from tests.server.features.desks.test_service import ADA, BO, BYSTANDER, SARA, YUKI, Rig, wait_until
from tests.server.features.fakes import citizen, make_fakes

LONG = 3600.0
"""An interval no test waits out: the test flushes the pending board itself."""
IDLE = [
    {"desk": "desk-1", "staffed": False},
    {"desk": "desk-2", "staffed": False},
    {"desk": "desk-3", "staffed": False},
    {"desk": "desk-4", "staffed": False},
]


MakeRig = Callable[..., Awaitable[Rig]]


@pytest.fixture
async def make_rig() -> AsyncIterator[MakeRig]:
    """``await make_rig(interval_s=..., store=...)``: a started `Desks` over fakes."""
    rigs: list[Rig] = []

    async def make(interval_s: float = LONG, store: MemoryStore | None = None) -> Rig:
        fakes = make_fakes("desks", DeskSettings(call_timeout_s=60.0), store=store)
        feature = Desks(fakes.ctx)
        feature.service.board.interval_s = interval_s
        await feature.start()
        rigs.append(Rig(fakes, feature))
        return rigs[-1]

    yield make
    for rig in rigs:
        await rig.stop()
        assert rig.notify.invalid == [], "messages that break the wire catalogue"


def flush(rig: Rig) -> DeskBoard:
    """Send the pending board now (as its timer would); it must have been scheduled."""
    board = rig.service.board
    assert board._timer is not None, "no board was scheduled"
    board._timer.cancel()
    board.flush()
    return board


def boards(rig: Rig, person: Person) -> list[dict[str, Any]]:
    return rig.notify.messages(person.id, "desk_board")


def desk(board: dict[str, Any], desk_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(d for d in board["desks"] if d["desk"] == desk_id)
    return found


def assert_public(rig: Rig, board: dict[str, Any], *people: Person) -> None:
    """Only the wire catalogue's fields, and none of the people's names or subjects."""
    validate(msgpack.unpackb(encode(board), raw=False), SERVER_MESSAGES)
    assert set(board) == {"t", "desks", "calls"}
    for entry in board["desks"]:
        assert set(entry) <= {"desk", "staffed", "serving"}
    for call in board["calls"]:
        assert set(call) == {"ticket", "desk"}
    text = repr(board)
    for person in people:
        assert person.name not in text and person.subject not in text
        assert str(person.id) not in [str(v) for e in board["desks"] for v in e.values()]


async def test_board_on_entering(make_rig: MakeRig) -> None:
    rig = await make_rig()
    await rig.join(ADA)
    assert boards(rig, ADA) == [{"t": "desk_board", "desks": IDLE, "calls": []}]


async def test_board_after_call_next_and_close(make_rig: MakeRig) -> None:
    rig = await make_rig()
    await rig.join(SARA, ADA, BYSTANDER)
    await rig.on_duty(SARA, "desk-2")
    await rig.take(ADA)
    flush(rig)
    waiting = boards(rig, BYSTANDER)[-1]
    assert desk(waiting, "desk-2") == {"desk": "desk-2", "staffed": True}
    assert waiting["calls"] == []

    await rig.call_next(SARA)
    flush(rig)
    for who in (ADA, BYSTANDER, SARA):
        called = boards(rig, who)[-1]
        assert desk(called, "desk-2") == {"desk": "desk-2", "staffed": True, "serving": "A-001"}
        assert called["calls"] == [{"ticket": "A-001", "desk": "desk-2"}]
        assert [d for d in called["desks"] if d["desk"] != "desk-2"] == IDLE[:1] + IDLE[2:]
        assert_public(rig, called, SARA, ADA, BYSTANDER)

    await rig.send(ADA, {"t": "respond"})  # served: the same board, so none is sent
    rig.service.board.flush()
    assert len(boards(rig, BYSTANDER)) == 3  # on entering, waiting, called

    await rig.send(SARA, {"t": "close_case", "outcome": "resolved", "notes": "Ada's address"})
    flush(rig)
    closed = boards(rig, BYSTANDER)[-1]
    assert desk(closed, "desk-2") == {"desk": "desk-2", "staffed": True}
    assert closed["calls"] == [{"ticket": "A-001", "desk": "desk-2"}]  # the call stays listed
    assert "address" not in repr(closed)
    assert_public(rig, closed, SARA, ADA, BYSTANDER)
    assert rig.notify.invalid == []


async def test_staffed_follows_duty(make_rig: MakeRig) -> None:
    rig = await make_rig()
    await rig.join(YUKI, BYSTANDER)

    def staffed() -> bool:
        return bool(desk(boards(rig, BYSTANDER)[-1], "desk-3")["staffed"])

    assert staffed() is False
    await rig.on_duty(YUKI, "desk-3")
    flush(rig)
    assert staffed() is True
    await rig.send(YUKI, {"t": "duty", "status": "break"})
    flush(rig)
    assert staffed() is False  # on a break: the desk shows closed
    await rig.send(YUKI, {"t": "duty", "status": "available"})
    flush(rig)
    assert staffed() is True
    await rig.send(YUKI, {"t": "duty", "status": "off"})
    flush(rig)
    assert staffed() is False
    assert len(boards(rig, BYSTANDER)) == 5


async def test_a_burst_is_one_board_encoded_once_for_the_service_point(
    make_rig: MakeRig,
) -> None:
    rig = await make_rig()
    attendee = citizen(50, "Attendee")
    rig.people.add(attendee, 40.0, 0.0, zone="auditorium")
    lobby = citizen(51, "Newcomer")
    rig.people.add(lobby, -50.0, 0.0, zone="lobby")
    await rig.join(SARA, ADA, BO)
    rig.notify.clear()
    await rig.on_duty(SARA, "desk-2")
    await rig.take(ADA)
    await rig.take(BO)
    await rig.call_next(SARA)
    assert rig.service.board.sends == 0  # all of it is pending, as one board
    flush(rig)
    assert rig.service.board.sends == 1
    assert rig.notify.recipients("desk_board") == {SARA.id, ADA.id, BO.id, lobby.id}
    assert boards(rig, attendee) == []  # the auditorium's event zone gets none

    # Walking out of the event, one gets the board as it is now (and only then).
    rig.feature.zone_changed(attendee, "auditorium")
    assert boards(rig, attendee) == []
    rig.people.move(attendee.id, 10.0, 0.0, zone="hall")
    rig.feature.zone_changed(attendee, "hall")
    assert boards(rig, attendee)[-1]["calls"] == [{"ticket": "A-001", "desk": "desk-2"}]
    rig.feature.zone_changed(attendee, "lobby")
    assert len(boards(rig, attendee)) == 1


async def test_the_timer_sends_the_board(make_rig: MakeRig) -> None:
    rig = await make_rig(interval_s=0.01)
    await rig.join(SARA, BYSTANDER)
    await rig.on_duty(SARA, "desk-1")
    await wait_until(lambda: len(boards(rig, BYSTANDER)) == 2)
    assert desk(boards(rig, BYSTANDER)[-1], "desk-1")["staffed"] is True


async def test_latest_calls_survive_a_restart(make_rig: MakeRig) -> None:
    rig = await make_rig()
    await rig.join(SARA, ADA)
    await rig.on_duty(SARA, "desk-2")
    await rig.take(ADA)
    await rig.call_next(SARA)
    await rig.stop()

    again = await make_rig(store=rig.fakes.store)
    await again.join(BYSTANDER)
    board = boards(again, BYSTANDER)[-1]
    assert board["calls"] == [{"ticket": "A-001", "desk": "desk-2"}]
    # Nobody is on duty after a restart; the called ticket still holds the desk.
    assert desk(board, "desk-2") == {"desk": "desk-2", "staffed": False, "serving": "A-001"}
