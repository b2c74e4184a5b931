"""Fast rule tests of `DeskService` / `Desks`: the memory store and fake ports, no sockets.

The world is the shipped one (``server/data/world.toml``): desk-1 general; desk-2
registration + general at (-4, -30); desk-3 benefits; desk-4 permits. Staff by
subject: sara.lind (general, registration; sv en da), jonas.weber (permits,
general; de en), yuki.tanaka (benefits, general; ja en sv).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, Protocol

import msgpack
import pytest

from protocol.catalogue import CLIENT_MESSAGES
from protocol.codec import validate
from protocol.errors import ProtocolError
from protocol.messages import desks as wire
from protocol.messages.desks import DeskError
from server.features.desks.feature import Desks
from server.features.desks.queue import QueueEvent, ServiceQueue, Ticket
from server.features.desks.service import DeskService
from server.features.desks.settings import DeskSettings
from server.plug import Person
from server.store.memory import MemoryStore
from tests.server.features.fakes import (
    Fakes,
    FakeSender,
    FakeVoice,
    ManualClock,
    citizen,
    make_fakes,
    settle,
    staff,
)

SARA = staff(100, "sara.lind", "Sara Lind")
JONAS = staff(101, "jonas.weber", "Jonas Weber")
YUKI = staff(102, "yuki.tanaka", "Yuki Tanaka")
ADA, BO, CY, DI = citizen(1, "Ada"), citizen(2, "Bo"), citizen(3, "Cy"), citizen(4, "Di")
BYSTANDER = citizen(9, "Eve")
DESK_CODES = frozenset(wire.PROTOCOL.errors)
SHORT = 0.05
"""A resume window / call timeout short enough to wait out in a test."""


async def wait_until(check: Callable[[], bool]) -> None:
    """Yield to the loop until ``check`` holds (the timers under test are SHORT).

    No deadline of its own: a condition that never holds is caught by the
    suite's per-test timeout, so a busy machine cannot fail a correct rule.
    """
    while not check():
        await asyncio.sleep(0.005)


class Rig:
    """One `Desks` feature over fakes, with helpers that speak its messages."""

    def __init__(self, fakes: Fakes, feature: Desks) -> None:
        self.fakes = fakes
        self.feature = feature
        self.ctx = fakes.ctx
        self.people = fakes.people
        self.notify = fakes.notify
        self.place = fakes.place
        self.clock = fakes.clock
        self.closed: list[dict[str, Any]] = []
        self.ctx.bus.subscribe("desks.case_closed", lambda event: self.closed.append(dict(event)))

    @property
    def service(self) -> DeskService:
        return self.feature.service

    @property
    def voice(self) -> FakeVoice:
        assert self.fakes.voice is not None
        return self.fakes.voice

    async def join(self, *people: Person) -> None:
        for person in people:
            self.people.add(person)
            await self.feature.entered(person, resumed=False)

    async def drop(self, person: Person, for_good: bool = False) -> None:
        """The connection ended (without ``bye`` unless ``for_good``)."""
        self.people.discard(person.id)
        await self.feature.left(person, for_good=for_good)

    async def back(self, person: Person) -> None:
        """The same avatar resumed."""
        self.people.add(person)
        await self.feature.entered(person, resumed=True)

    async def send(self, person: Person, msg: Mapping[str, Any]) -> None:
        """Run the handler of ``msg`` (validated as a client message) for ``person``."""
        checked = validate(dict(msg), CLIENT_MESSAGES)
        handler = self.feature.handlers()[checked["t"]]
        await handler(FakeSender(person, self.notify), checked)

    async def refused(self, person: Person, msg: Mapping[str, Any], code: str) -> ProtocolError:
        with pytest.raises(ProtocolError) as caught:
            await self.send(person, msg)
        assert caught.value.code == code, caught.value
        return caught.value

    async def take(self, person: Person, service: str = "general", lang: str = "sv") -> Ticket:
        await self.send(person, {"t": "take_ticket", "service": service, "lang": lang})
        ticket = self.service.queue.active_ticket_of(person.id)
        assert ticket is not None
        self.clock.advance(1.0)  # the next ticket arrives later
        return ticket

    async def on_duty(self, person: Person, desk: str) -> None:
        await self.send(person, {"t": "duty", "status": "available", "desk": desk})

    async def call_next(self, person: Person) -> Ticket:
        await self.send(person, {"t": "call_next"})
        ticket = self.service.queue.case_of(person.subject)
        assert ticket is not None
        return ticket

    async def serve(self, worker: Person, who: Person) -> Ticket:
        """``worker`` calls next, which must be ``who``'s ticket, and ``who`` responds."""
        ticket = await self.call_next(worker)
        assert ticket.citizen == who.id
        await self.send(who, {"t": "respond"})
        assert ticket.status == "serving"
        return ticket

    def ticket(self, ticket_id: str) -> Ticket:
        return self.service.queue.tickets[ticket_id]

    async def log(self) -> list[dict[str, str]]:
        return [f for _id, f in await self.ctx.store.read("queue")]

    async def replayed(self) -> ServiceQueue:
        queue = ServiceQueue()
        for fields in await self.log():
            queue.apply(QueueEvent.from_fields(fields))
        return queue

    async def assert_log_matches_state(self) -> None:
        replay = await self.replayed()
        assert replay.tickets == self.service.queue.tickets
        assert {k: list(v) for k, v in replay.handle_times.items()} == {
            k: list(v) for k, v in self.service.queue.handle_times.items()
        }

    async def stop(self) -> None:
        await self.feature.stop()
        await self.fakes.tasks.close()


class MakeRig(Protocol):
    def __call__(
        self,
        *,
        resume_s: float = ...,
        call_timeout_s: float = ...,
        store: MemoryStore | None = ...,
        clock: ManualClock | None = ...,
    ) -> Awaitable[Rig]: ...


@pytest.fixture
async def make_rig() -> AsyncIterator[MakeRig]:
    rigs: list[Rig] = []

    async def make(
        *,
        resume_s: float = 60.0,
        call_timeout_s: float = 60.0,
        store: MemoryStore | None = None,
        clock: ManualClock | None = None,
    ) -> Rig:
        fakes = make_fakes(
            "desks",
            DeskSettings(call_timeout_s=call_timeout_s),
            store=store,
            clock=clock,
            resume_s=resume_s,
        )
        feature = Desks(fakes.ctx)
        await feature.start()
        rig = Rig(fakes, feature)
        rigs.append(rig)
        return rig

    yield make
    for rig in rigs:
        await rig.stop()
    for rig in rigs:
        assert rig.notify.invalid == [], "messages that break the wire catalogue"


@pytest.fixture
async def rig(make_rig: MakeRig) -> Rig:
    return await make_rig()


# -- tickets ---------------------------------------------------------------------


async def test_tickets_are_numbered_per_service(rig: Rig) -> None:
    await rig.join(ADA, BO, CY)
    b1 = await rig.take(ADA, "registration", "sv")
    a1 = await rig.take(BO, "general", "en")
    b2 = await rig.take(CY, "registration", "da")
    assert (b1.id, a1.id, b2.id) == ("B-001", "A-001", "B-002")

    assert rig.notify.last(ADA.id, "ticket") == {
        "t": "ticket",
        "ticket": "B-001",
        "service": "registration",
        "lang": "sv",
        "status": "waiting",
        "position": 1,  # no wait_s: nobody is on duty
    }
    assert rig.notify.last(BO.id, "ticket")["position"] == 1
    assert rig.notify.last(CY.id, "ticket")["position"] == 2
    log = await rig.log()
    assert [(f["type"], f["ticket"], f["citizen"]) for f in log] == [
        ("arrived", "B-001", "1"),
        ("arrived", "A-001", "2"),
        ("arrived", "B-002", "3"),
    ]


async def test_ticket_refusals(rig: Rig) -> None:
    await rig.join(ADA, BO)
    await rig.take(ADA)
    take = {"t": "take_ticket", "service": "general", "lang": "sv"}
    await rig.refused(ADA, take, DeskError.ALREADY_QUEUED)
    await rig.refused(BO, {**take, "service": "passports"}, DeskError.UNKNOWN_SERVICE)
    error = await rig.refused(BO, {**take, "lang": "xx"}, DeskError.UNSUPPORTED_LANGUAGE)
    assert "sv" in error.reason  # names what is offered
    assert [f["type"] for f in await rig.log()] == ["arrived"]  # refusals log nothing


async def test_leave_queue(rig: Rig) -> None:
    await rig.join(ADA, BO)
    a1 = await rig.take(ADA)
    a2 = await rig.take(BO)
    await rig.send(ADA, {"t": "leave_queue"})
    assert a1.status == "left"
    assert rig.notify.last(ADA.id, "ticket")["status"] == "left"
    assert rig.notify.last(BO.id, "ticket")["position"] == 1  # moved up
    assert a2.status == "waiting"
    await rig.refused(ADA, {"t": "leave_queue"}, DeskError.NO_TICKET)
    await rig.take(ADA)  # may queue again


# -- duty --------------------------------------------------------------------------


async def test_duty_places_staff_behind_the_desk(rig: Rig) -> None:
    await rig.join(SARA, JONAS)
    await rig.on_duty(SARA, "desk-2")
    assert rig.notify.last(SARA.id, "duty") == {
        "t": "duty",
        "status": "available",
        "desk": "desk-2",
        "auto": False,
    }
    assert rig.place.of(SARA.id) == [(-4.0, -30.0, 3.14159)]

    error = await rig.refused(
        JONAS, {"t": "duty", "status": "available", "desk": "desk-2"}, DeskError.DESK_TAKEN
    )
    assert "Sara Lind" in error.reason
    await rig.refused(
        JONAS, {"t": "duty", "status": "available", "desk": "desk-9"}, DeskError.UNKNOWN_DESK
    )
    await rig.refused(JONAS, {"t": "duty", "status": "available"}, DeskError.UNKNOWN_DESK)
    assert rig.place.of(JONAS.id) == []

    # On a break at the same desk: not moved again.
    await rig.send(SARA, {"t": "duty", "status": "break"})
    assert rig.notify.last(SARA.id, "duty")["status"] == "break"
    assert len(rig.place.of(SARA.id)) == 1
    await rig.send(SARA, {"t": "duty", "status": "off"})
    assert rig.notify.last(SARA.id, "duty") == {"t": "duty", "status": "off", "auto": False}
    assert rig.service.on_duty == {}


async def test_staff_are_keyed_by_subject_not_name(rig: Rig) -> None:
    other_sara = Person(110, "sara.lind.2", "Sara Lind", "staff")
    await rig.join(SARA, other_sara, ADA)
    await rig.on_duty(SARA, "desk-1")
    await rig.on_duty(other_sara, "desk-2")  # same name, another person: both on duty
    assert set(rig.service.on_duty) == {"sara.lind", "sara.lind.2"}
    assert rig.service.on_duty["sara.lind.2"].desk == "desk-2"
    staff_list = rig.service.queue_snapshot()["staff"]
    assert sorted(s["desk"] for s in staff_list) == ["desk-1", "desk-2"]

    # A case is held by a subject: the namesake cannot close Sara's case.
    a1 = await rig.take(ADA, "general", "sv")
    assert (await rig.call_next(SARA)) is a1
    assert a1.staff == "sara.lind"
    await rig.refused(other_sara, {"t": "close_case", "outcome": "resolved"}, DeskError.NO_CASE)


async def test_same_subject_on_duty_at_another_desk_moves(rig: Rig) -> None:
    await rig.join(SARA, JONAS)
    await rig.on_duty(SARA, "desk-1")
    await rig.on_duty(SARA, "desk-2")
    assert list(rig.service.on_duty) == ["sara.lind"]
    assert rig.service.on_duty["sara.lind"].desk == "desk-2"
    assert rig.place.of(SARA.id) == [(-12.0, -30.0, 3.14159), (-4.0, -30.0, 3.14159)]
    await rig.on_duty(JONAS, "desk-1")  # desk-1 is free again
    assert rig.service.on_duty["jonas.weber"].desk == "desk-1"

    # Another connection of the same subject is the same staff member.
    sara_again = Person(200, "sara.lind", "Sara Lind", "staff")
    await rig.join(sara_again)
    await rig.on_duty(sara_again, "desk-3")
    assert list(rig.service.on_duty) == ["sara.lind", "jonas.weber"]
    state = rig.service.on_duty["sara.lind"]
    assert (state.desk, state.person.id) == ("desk-3", 200)


# -- calling -----------------------------------------------------------------------


async def test_call_next_takes_the_longest_waiting_ticket_one_can_serve(rig: Rig) -> None:
    await rig.join(JONAS, SARA, YUKI, ADA, BO, CY, DI)
    await rig.refused(JONAS, {"t": "call_next"}, DeskError.NOT_ON_DUTY)
    await rig.on_duty(JONAS, "desk-4")  # permits only; de, en
    await rig.refused(JONAS, {"t": "call_next"}, DeskError.QUEUE_EMPTY)

    await rig.take(ADA, "general", "de")  # not at desk-4
    await rig.take(BO, "permits", "sv")  # Jonas speaks no sv
    d2 = await rig.take(CY, "permits", "de")
    d3 = await rig.take(DI, "permits", "en")

    called = await rig.call_next(JONAS)
    assert called is d2 and called.status == "called"
    assert (called.staff, called.desk) == ("jonas.weber", "desk-4")
    assert rig.notify.last(CY.id, "called") == {
        "t": "called",
        "ticket": "D-002",
        "desk": "desk-4",
        "x": 12.0,
        "z": -28.0,
        "timeout_s": 60,
    }
    case = rig.notify.last(JONAS.id, "case")
    assert (case["ticket"], case["citizen"], case["name"], case["status"]) == (
        "D-002",
        CY.id,
        "Cy",
        "called",
    )
    assert case["waited_s"] == 2
    await rig.refused(JONAS, {"t": "call_next"}, DeskError.CASE_OPEN)
    assert d3.status == "waiting"

    # Sara: general and sv/en/da; the only general ticket is in German.
    await rig.on_duty(SARA, "desk-2")
    await rig.refused(SARA, {"t": "call_next"}, DeskError.QUEUE_EMPTY)
    await rig.send(SARA, {"t": "duty", "status": "break"})
    await rig.refused(SARA, {"t": "call_next"}, DeskError.NOT_ON_DUTY)
    await rig.refused(YUKI, {"t": "call_next"}, DeskError.NOT_ON_DUTY)


async def test_two_staff_calling_at_once_get_different_tickets(rig: Rig) -> None:
    await rig.join(SARA, YUKI, ADA, BO)
    await rig.on_duty(SARA, "desk-2")
    await rig.on_duty(YUKI, "desk-1")
    a1 = await rig.take(ADA)
    results = await asyncio.gather(
        rig.send(SARA, {"t": "call_next"}),
        rig.send(YUKI, {"t": "call_next"}),
        return_exceptions=True,
    )
    errors = [r for r in results if isinstance(r, ProtocolError)]
    assert [e.code for e in errors] == [DeskError.QUEUE_EMPTY]
    assert a1.status == "called"
    assert [f["type"] for f in await rig.log()] == ["arrived", "called"]


def sample_messages(guest: int) -> list[dict[str, Any]]:
    return [
        {"t": "duty", "status": "available", "desk": "desk-2"},
        {"t": "duty", "status": "break"},
        {"t": "duty", "status": "off"},
        {"t": "take_ticket", "service": "general", "lang": "en"},
        {"t": "leave_queue"},
        {"t": "respond"},
        {"t": "call_next"},
        {"t": "auto_call", "on": True},
        {"t": "auto_call", "on": False},
        {"t": "transfer", "service": "benefits", "notes": "see benefits"},
        {"t": "close_case", "outcome": "resolved"},
        {"t": "invite", "id": guest},
        {"t": "desk_say", "text": "hello"},
    ]


async def _scene(rig: Rig, scene: str) -> Person:
    """Set up ``scene``; return who sends."""
    await rig.join(SARA, ADA, BYSTANDER)
    if scene == "citizen":
        return ADA
    if scene == "staff off duty":
        return SARA
    await rig.on_duty(SARA, "desk-2")
    if scene == "staff idle":
        return SARA
    await rig.take(ADA)
    await rig.call_next(SARA)
    if scene == "citizen called":
        return ADA
    await rig.send(ADA, {"t": "respond"})
    if scene == "citizen served":
        return ADA
    assert scene == "staff serving"
    return SARA


SCENES = ["citizen", "staff off duty", "staff idle", "citizen called", "citizen served"]


@pytest.mark.parametrize("scene", [*SCENES, "staff serving"])
async def test_every_desk_message_gets_an_answer(make_rig: MakeRig, scene: str) -> None:
    rig0 = await make_rig()
    assert set(rig0.feature.handlers()) == {s.type for s in wire.PROTOCOL.client}
    for msg in sample_messages(BYSTANDER.id):
        rig = await make_rig()
        sender = await _scene(rig, scene)
        before = len(rig.notify.messages(sender.id))
        try:
            await rig.send(sender, msg)
        except ProtocolError as exc:
            assert exc.code in DESK_CODES, (scene, msg, exc)
        else:
            answers = rig.notify.messages(sender.id)[before:]
            assert answers, f"{scene}: {msg['t']} got no answer"
        await rig.stop()


# -- wait estimates ----------------------------------------------------------------


async def test_wait_estimate(rig: Rig) -> None:
    await rig.join(SARA, ADA, BO, CY)
    await rig.take(ADA, "general", "sv")
    assert "wait_s" not in rig.notify.last(ADA.id, "ticket")  # nobody on duty

    await rig.on_duty(SARA, "desk-2")
    first = rig.notify.last(ADA.id, "ticket")
    assert (first["position"], first["wait_s"]) == (1, 0)  # Sara is free

    await rig.take(BO, "general", "sv")
    second = rig.notify.last(BO.id, "ticket")
    assert second["position"] == 2 and second["wait_s"] > 0

    await rig.take(CY, "permits", "sv")  # Sara's desk has no permits
    third = rig.notify.last(CY.id, "ticket")
    assert third["position"] == 1 and "wait_s" not in third


# -- the desk call and the case ------------------------------------------------------


async def test_respond_opens_a_call_and_close_case_ends_it(rig: Rig) -> None:
    await rig.join(SARA, ADA, BYSTANDER)
    await rig.on_duty(SARA, "desk-2")
    a1 = await rig.take(ADA)
    await rig.serve(SARA, ADA)
    room = "desk:desk-2:A-001"
    assert rig.voice.rooms == {room: {ADA.id, SARA.id}}
    call = rig.notify.last(ADA.id, "call")
    assert call == rig.notify.last(SARA.id, "call")
    assert call["active"] and call["room"] == room and call["desk"] == "desk-2"
    assert {m["id"] for m in call["members"]} == {ADA.id, SARA.id}
    assert rig.notify.last(ADA.id, "ticket")["status"] == "serving"
    assert rig.notify.last(SARA.id, "case")["status"] == "serving"

    await rig.send(ADA, {"t": "desk_say", "text": "my number is 19800101-1231"})
    assert rig.notify.recipients("desk_say") == {ADA.id, SARA.id}
    said = rig.notify.last(SARA.id, "desk_say")
    assert said["id"] == ADA.id and "19800101-1231" not in said["text"]
    await rig.refused(BYSTANDER, {"t": "desk_say", "text": "hi"}, DeskError.NOT_IN_CALL)

    note = "Moved to Lund, pnr 19800101-1231, SECRET-NOTE"
    await rig.send(SARA, {"t": "close_case", "outcome": "resolved", "notes": note})
    assert (a1.status, a1.outcome) == ("done", "resolved")
    ended = rig.notify.last(ADA.id, "ticket")
    assert (ended["status"], ended["outcome"], ended["position"]) == ("done", "resolved", 0)
    assert rig.notify.last(SARA.id, "case")["status"] == "done"
    for member in (ADA.id, SARA.id):
        assert rig.notify.last(member, "call")["active"] is False
    assert rig.service.calls == {}
    assert rig.voice.rooms == {}
    assert ("close_room", room) in rig.voice.calls

    stored = [msgpack.unpackb(r, raw=False) for r in await rig.ctx.store.slice("notes:A-001")]
    assert [(n["by"], n["text"]) for n in stored] == [
        ("Sara Lind", "Moved to Lund, pnr [id removed], SECRET-NOTE")
    ]
    assert await rig.service.stored_notes("A-001") == stored
    for entity in (ADA.id, BYSTANDER.id):
        assert "SECRET-NOTE" not in repr(rig.notify.messages(entity))
    assert "SECRET-NOTE" not in repr(rig.notify.dropped)
    assert "19800101-1231" not in repr(rig.notify.sent)

    await settle()
    assert len(rig.closed) == 1
    event = rig.closed[0]
    assert (event["ticket"], event["service"], event["staff"], event["outcome"]) == (
        "A-001",
        "general",
        "sara.lind",
        "resolved",
    )
    assert event["citizen"] == ADA.id and event["desk"] == "desk-2"
    assert [f["type"] for f in await rig.log()] == ["arrived", "called", "started", "ended"]
    await rig.refused(SARA, {"t": "close_case", "outcome": "resolved"}, DeskError.NO_CASE)


async def test_invite_adds_a_third_member(rig: Rig) -> None:
    await rig.join(SARA, ADA, BYSTANDER)
    await rig.on_duty(SARA, "desk-2")
    await rig.take(ADA)
    await rig.serve(SARA, ADA)
    await rig.send(SARA, {"t": "invite", "id": BYSTANDER.id})
    assert rig.voice.rooms["desk:desk-2:A-001"] == {ADA.id, SARA.id, BYSTANDER.id}
    members = {m["id"] for m in rig.notify.last(BYSTANDER.id, "call")["members"]}
    assert members == {ADA.id, SARA.id, BYSTANDER.id}
    with pytest.raises(ProtocolError) as caught:
        await rig.send(SARA, {"t": "invite", "id": 999})
    assert caught.value.code == "unknown_entity"


async def test_transfer_keeps_arrival_and_passes_notes_on(rig: Rig) -> None:
    await rig.join(SARA, YUKI, ADA, BO)
    await rig.on_duty(SARA, "desk-2")
    await rig.on_duty(YUKI, "desk-3")  # benefits
    a1 = await rig.take(ADA, "general", "sv")
    arrived = a1.arrived
    c1 = await rig.take(BO, "benefits", "sv")  # arrives after Ada
    await rig.serve(SARA, ADA)

    await rig.send(
        SARA, {"t": "transfer", "service": "benefits", "notes": "child benefit, BENEFIT-NOTE"}
    )
    assert (a1.status, a1.service, a1.arrived, a1.staff) == ("waiting", "benefits", arrived, "")
    assert rig.service.queue.position(a1) == 1 and rig.service.queue.position(c1) == 2
    assert rig.notify.last(SARA.id, "case")["status"] == "waiting"
    back = rig.notify.last(ADA.id, "ticket")
    assert (back["status"], back["service"], back["position"]) == ("waiting", "benefits", 1)
    assert rig.notify.last(ADA.id, "call")["active"] is False
    assert rig.voice.rooms == {}
    assert rig.service.queue.case_of("sara.lind") is None

    called = await rig.call_next(YUKI)
    assert called is a1  # ahead of Bo, who took a benefits ticket later
    case = rig.notify.last(YUKI.id, "case")
    assert case["ticket"] == "A-001" and case["service"] == "benefits"
    assert case["notes"] == ["Sara Lind: child benefit, BENEFIT-NOTE"]
    assert "BENEFIT-NOTE" not in repr(rig.notify.messages(ADA.id))
    assert "BENEFIT-NOTE" not in repr(rig.notify.messages(BO.id))
    transferred = [f for f in await rig.log() if f["type"] == "transferred"]
    assert transferred == [
        {
            "type": "transferred",
            "ticket": "A-001",
            "ts": transferred[0]["ts"],
            "service": "benefits",
        }
    ]


async def test_no_show_after_the_call_timeout(make_rig: MakeRig) -> None:
    rig = await make_rig(call_timeout_s=SHORT)
    await rig.join(SARA, ADA, BO)
    await rig.on_duty(SARA, "desk-2")
    a1 = await rig.take(ADA)
    a2 = await rig.take(BO)
    await rig.call_next(SARA)
    await wait_until(lambda: a1.status == "no_show")
    assert a1.outcome == "no_show"
    assert rig.notify.last(ADA.id, "ticket")["status"] == "no_show"
    assert rig.notify.last(SARA.id, "case")["status"] == "no_show"
    await wait_until(lambda: len(rig.closed) == 1)
    assert (rig.closed[0]["ticket"], rig.closed[0]["outcome"]) == ("A-001", "no_show")
    assert rig.closed[0]["staff"] == "sara.lind"

    # Bo responds in time: no no-show.
    assert (await rig.serve(SARA, BO)) is a2
    await asyncio.sleep(SHORT * 3)
    assert a2.status == "serving"
    assert [f["type"] for f in await rig.log()] == [
        "arrived",
        "arrived",
        "called",
        "no_show",
        "called",
        "started",
    ]


# -- ghost tickets: citizens who drop without bye -------------------------------------


async def test_away_citizen_is_skipped_but_keeps_their_place(make_rig: MakeRig) -> None:
    rig = await make_rig(resume_s=SHORT)
    await rig.join(SARA, ADA, BO, CY)
    await rig.on_duty(SARA, "desk-2")
    a1 = await rig.take(ADA)
    a2 = await rig.take(BO)
    a3 = await rig.take(CY)

    await rig.drop(ADA)  # not for good: may resume
    assert ADA.id in rig.service.away
    assert (await rig.call_next(SARA)) is a2  # the next present citizen
    assert a1.status == "waiting" and rig.service.queue.position(a1) == 1
    await rig.send(SARA, {"t": "close_case", "outcome": "resolved"})

    await rig.back(ADA)
    assert ADA.id not in rig.service.away
    resent = rig.notify.last(ADA.id, "ticket")
    assert (resent["ticket"], resent["position"]) == ("A-001", 1)
    assert (await rig.call_next(SARA)) is a1  # served next, before Cy
    await asyncio.sleep(SHORT * 3)  # the resume window would have passed
    assert a1.status == "called" and a3.status == "waiting"
    assert "left" not in [f["type"] for f in await rig.log()]


async def test_away_citizen_leaves_the_queue_after_the_resume_window(
    make_rig: MakeRig,
) -> None:
    rig = await make_rig(resume_s=SHORT)
    await rig.join(SARA, ADA, BO)
    a1 = await rig.take(ADA)
    a2 = await rig.take(BO)
    await rig.drop(ADA)
    await wait_until(lambda: a1.status == "left")
    assert rig.service.queue.waiting() == [a2]
    assert rig.service.queue.position(a2) == 1
    assert ADA.id not in rig.service.away
    assert [(f["type"], f["ticket"]) for f in await rig.log()][-1] == ("left", "A-001")
    await rig.on_duty(SARA, "desk-2")
    assert (await rig.call_next(SARA)) is a2


async def test_citizen_leaving_for_good_gives_up_the_ticket(rig: Rig) -> None:
    await rig.join(ADA)
    a1 = await rig.take(ADA)
    await rig.drop(ADA, for_good=True)
    assert a1.status == "left"
    assert rig.service.away == {}


async def test_after_a_restart_citizens_start_away(make_rig: MakeRig) -> None:
    store, clock = MemoryStore(), ManualClock()
    first = await make_rig(store=store, clock=clock)
    await first.join(ADA, BO, CY)
    await first.take(ADA)
    await first.take(BO)
    await first.take(CY)
    await first.stop()

    rig = await make_rig(resume_s=SHORT, store=store, clock=clock)  # over the same keyspace
    assert [t.status for t in rig.service.queue.waiting()] == ["waiting"] * 3
    assert set(rig.service.away) == {ADA.id, BO.id, CY.id}
    await rig.join(SARA)
    await rig.on_duty(SARA, "desk-2")
    await rig.refused(SARA, {"t": "call_next"}, DeskError.QUEUE_EMPTY)  # nobody is here

    await rig.back(BO)
    assert rig.notify.last(BO.id, "ticket")["ticket"] == "A-002"
    assert (await rig.call_next(SARA)).citizen == BO.id
    await wait_until(lambda: rig.ticket("A-001").status == "left")
    await wait_until(lambda: rig.ticket("A-003").status == "left")
    assert rig.ticket("A-002").status == "called"
    await rig.assert_log_matches_state()


async def test_a_called_ticket_gets_its_no_show_timer_after_a_restart(
    make_rig: MakeRig,
) -> None:
    store, clock = MemoryStore(), ManualClock()
    first = await make_rig(store=store, clock=clock)
    await first.join(SARA, ADA)
    await first.on_duty(SARA, "desk-2")
    await first.take(ADA)
    await first.call_next(SARA)
    await first.stop()

    rig = await make_rig(call_timeout_s=SHORT, store=store, clock=clock)
    await rig.back(ADA)
    assert rig.notify.last(ADA.id, "called")["ticket"] == "A-001"
    await wait_until(lambda: rig.ticket("A-001").status == "no_show")


async def _restarted_while_sara_serves_ada(make_rig: MakeRig) -> Rig:
    """Sara serves Ada; the server stops; a new one starts over the same keyspace."""
    store, clock = MemoryStore(), ManualClock()
    first = await make_rig(store=store, clock=clock)
    await first.join(SARA, ADA)
    await first.on_duty(SARA, "desk-2")
    await first.take(ADA)
    await first.serve(SARA, ADA)
    await first.stop()
    return await make_rig(resume_s=SHORT, store=store, clock=clock)


async def test_after_a_restart_a_serving_case_nobody_comes_back_to_is_not_kept_open(
    make_rig: MakeRig,
) -> None:
    """A ghost of the serving kind: neither the citizen nor the staff member returns.

    The case must not stay ``serving`` for ever, holding the citizen's only ticket
    (``already_queued`` on every new ``take_ticket``) and showing in the queue."""
    rig = await _restarted_while_sara_serves_ada(make_rig)
    await asyncio.sleep(SHORT * 4)
    await settle()
    assert rig.ticket("A-001").status not in ("waiting", "called", "serving"), (
        "after a restart, a serving case whose citizen and staff member never come back "
        "stays open for ever"
    )


async def test_after_a_restart_a_case_whose_staff_does_not_come_back_is_requeued(
    make_rig: MakeRig,
) -> None:
    """The staff rule (a case goes back to the queue when its staff member does not
    come back within the resume window) must hold across a restart too."""
    rig = await _restarted_while_sara_serves_ada(make_rig)
    await rig.back(ADA)  # the citizen resumes; Sara never does
    await asyncio.sleep(SHORT * 4)
    await settle()
    assert rig.ticket("A-001").status == "waiting", (
        "after a restart, a case held by a staff member who never comes back is not "
        "returned to the queue: the citizen stays 'serving' with nobody at the desk"
    )


async def test_after_a_restart_staff_who_come_back_are_on_duty_with_their_case(
    make_rig: MakeRig,
) -> None:
    """Duty is not durable, cases are: a staff member who comes back after a restart
    while a case is theirs is put back on duty at its desk, and the desk call reopens."""
    rig = await _restarted_while_sara_serves_ada(make_rig)
    await rig.back(ADA)
    await rig.back(SARA)
    await settle()
    duty = rig.fakes.notify.last(SARA.id, "duty")
    assert duty["status"] == "available" and duty["desk"] == "desk-2"
    assert rig.fakes.notify.last(SARA.id, "case")["ticket"] == "A-001"
    assert rig.voice.room_of(SARA.id) is not None
    assert rig.voice.room_of(SARA.id) == rig.voice.room_of(ADA.id)
    await asyncio.sleep(SHORT * 4)
    await settle()
    assert rig.ticket("A-001").status == "serving"  # nothing requeued: she is back


# -- staff who drop without bye ---------------------------------------------------------


async def _sara_serving_ada(rig: Rig) -> Ticket:
    await rig.join(SARA, ADA)
    await rig.on_duty(SARA, "desk-2")
    await rig.take(ADA)
    return await rig.serve(SARA, ADA)


async def test_staff_reconnecting_within_the_grace_get_duty_and_case_back(
    make_rig: MakeRig,
) -> None:
    rig = await make_rig(resume_s=SHORT)
    a1 = await _sara_serving_ada(rig)
    room = "desk:desk-2:A-001"
    await rig.drop(SARA)
    assert "sara.lind" in rig.service.on_duty  # still on duty, for the grace

    sara2 = Person(200, "sara.lind", "Sara Lind", "staff")  # a new connection: new entity id
    await rig.join(sara2)
    state = rig.service.on_duty["sara.lind"]
    assert state.person.id == 200 and state.connected
    duty = rig.notify.last(sara2.id, "duty")
    assert (duty["status"], duty["desk"]) == ("available", "desk-2")
    case = rig.notify.last(sara2.id, "case")
    assert (case["ticket"], case["status"]) == ("A-001", "serving")
    assert set(rig.service.calls[room].members) == {ADA.id, 200}
    for member in (ADA.id, 200):
        call = rig.notify.last(member, "call")
        assert call["active"] and {m["id"] for m in call["members"]} == {ADA.id, 200}
    assert rig.place.of(200) == [(-4.0, -30.0, 3.14159)]
    await settle()
    assert 200 in rig.voice.rooms[room]
    assert rig.voice.room_of(200) == room

    # The old connection's end arriving late changes nothing.
    await rig.feature.left(SARA, for_good=True)
    await asyncio.sleep(SHORT * 3)  # the grace would have passed
    assert "sara.lind" in rig.service.on_duty and a1.status == "serving"
    await rig.send(sara2, {"t": "desk_say", "text": "back"})
    assert rig.notify.last(ADA.id, "desk_say")["id"] == 200
    await rig.send(sara2, {"t": "close_case", "outcome": "resolved"})
    assert a1.status == "done"
    assert "transferred" not in [f["type"] for f in await rig.log()]


async def test_staff_grace_expiring_returns_the_case_to_the_queue(make_rig: MakeRig) -> None:
    rig = await make_rig(resume_s=SHORT)
    a1 = await _sara_serving_ada(rig)
    arrived = a1.arrived
    await rig.drop(SARA)
    await wait_until(lambda: a1.status == "waiting")
    assert "sara.lind" not in rig.service.on_duty
    assert (a1.staff, a1.desk, a1.service, a1.arrived) == ("", "", "general", arrived)
    last = (await rig.log())[-1]
    assert (last["type"], last["ticket"], last["service"]) == ("transferred", "A-001", "general")
    assert rig.voice.rooms == {} and rig.service.calls == {}
    assert rig.notify.last(ADA.id, "call")["active"] is False
    back = rig.notify.last(ADA.id, "ticket")
    assert (back["status"], back["position"]) == ("waiting", 1)

    # Back after the grace: a new start, not the old duty.
    sara2 = Person(200, "sara.lind", "Sara Lind", "staff")
    await rig.join(sara2)
    assert rig.notify.messages(sara2.id, "duty") == []
    await rig.refused(sara2, {"t": "call_next"}, DeskError.NOT_ON_DUTY)


async def test_staff_leaving_for_good_go_off_duty_at_once(rig: Rig) -> None:
    a1 = await _sara_serving_ada(rig)
    await rig.drop(SARA, for_good=True)
    await wait_until(lambda: a1.status == "waiting")
    assert rig.service.on_duty == {}


# -- the log -------------------------------------------------------------------------


async def _mixed_scenario(rig: Rig) -> None:
    """Tickets taken, left, called, served, transferred, closed, no-shows, ghosts.

    Needs ``resume_s`` and ``call_timeout_s`` short. Ends with A-001 done, C-001 done
    (referred), B-001 no_show, A-002 and D-001 left, A-003 waiting again."""
    await rig.join(SARA, JONAS, YUKI, ADA, BO, CY, DI, BYSTANDER)
    await rig.on_duty(SARA, "desk-2")
    await rig.on_duty(YUKI, "desk-3")
    await rig.on_duty(JONAS, "desk-4")
    await rig.take(ADA, "general", "sv")
    await rig.take(BO, "registration", "da")  # B-001
    await rig.take(CY, "benefits", "ja")  # C-001
    await rig.take(DI, "permits", "de")  # D-001
    await rig.take(BYSTANDER, "general", "en")
    await rig.assert_log_matches_state()

    await rig.serve(SARA, ADA)
    rig.clock.advance(120)
    await rig.send(SARA, {"t": "close_case", "outcome": "resolved", "notes": "done"})
    await rig.serve(YUKI, CY)
    rig.clock.advance(60)
    await rig.send(YUKI, {"t": "close_case", "outcome": "referred"})
    await rig.serve(SARA, BO)
    await rig.send(SARA, {"t": "transfer", "service": "benefits", "lang": "sv", "notes": "x"})
    await rig.assert_log_matches_state()

    assert (await rig.call_next(YUKI)).id == "B-001"  # Bo does not respond in time
    await rig.send(BYSTANDER, {"t": "leave_queue"})
    await rig.drop(DI)  # away; leaves after the resume window
    await rig.assert_log_matches_state()
    await wait_until(lambda: rig.ticket("D-001").status == "left")
    await wait_until(lambda: rig.ticket("B-001").status == "no_show")
    await rig.assert_log_matches_state()

    await rig.take(BYSTANDER, "general", "en")
    await rig.serve(SARA, BYSTANDER)
    await rig.drop(SARA)  # the grace expires: the case goes back to the queue
    await wait_until(lambda: rig.ticket("A-003").status == "waiting")
    await rig.assert_log_matches_state()


FINAL = {
    "A-001": "done",
    "B-001": "no_show",
    "C-001": "done",
    "D-001": "left",
    "A-002": "left",
    "A-003": "waiting",
}


async def test_the_log_and_the_state_never_disagree(make_rig: MakeRig) -> None:
    rig = await make_rig(resume_s=SHORT, call_timeout_s=SHORT)
    await _mixed_scenario(rig)
    assert {t.id: t.status for t in rig.service.queue.tickets.values()} == FINAL
    types = {f["type"] for f in await rig.log()}
    assert types == {"arrived", "called", "started", "ended", "transferred", "left", "no_show"}
    await rig.assert_log_matches_state()


async def test_rebuild_replays_the_log_into_the_same_queue(make_rig: MakeRig) -> None:
    store = MemoryStore()
    rig = await make_rig(resume_s=SHORT, call_timeout_s=SHORT, store=store)
    await _mixed_scenario(rig)

    other = await make_rig(store=store)  # start() rebuilds from the same keyspace
    assert other.service.queue.tickets == rig.service.queue.tickets
    assert {t.id: t.status for t in other.service.queue.tickets.values()} == FINAL
    assert {k: list(v) for k, v in other.service.queue.handle_times.items()} == {
        k: list(v) for k, v in rig.service.queue.handle_times.items()
    }
    assert other.service.queue.positions() == rig.service.queue.positions()

    fresh = DeskService(other.ctx)
    assert await fresh.rebuild() == len(await rig.log())
    assert fresh.queue.tickets == rig.service.queue.tickets


async def test_notes_of_an_open_ticket_survive_a_restart(make_rig: MakeRig) -> None:
    store, clock = MemoryStore(), ManualClock()
    first = await make_rig(store=store, clock=clock)
    await first.join(SARA, ADA)
    await first.on_duty(SARA, "desk-2")
    await first.take(ADA)
    await first.serve(SARA, ADA)
    await first.send(SARA, {"t": "transfer", "service": "benefits", "notes": "see Yuki"})
    await first.stop()

    rig = await make_rig(store=store, clock=clock)
    await rig.join(YUKI)
    await rig.back(ADA)
    await rig.on_duty(YUKI, "desk-3")
    assert (await rig.call_next(YUKI)).id == "A-001"
    assert rig.notify.last(YUKI.id, "case")["notes"] == ["Sara Lind: see Yuki"]
