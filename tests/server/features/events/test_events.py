"""Fast tests of `Events` over fake ports: schedule, seats and overflow, hands and consent,
moderation and bans (across a restart), questions, captions, refusals.

The media path and the space are faked here (`FakeStage`, `FakeStageVoice` record what
the feature asks for); the real ones are tested in tests/server/voice/test_stage.py,
tests/spatial/test_audience.py and end to end in tests/agents/test_audience.py.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import msgpack
import pytest
from icalendar import Calendar

from protocol.catalogue import CLIENT_MESSAGES
from protocol.codec import validate
from protocol.errors import ProtocolError
from protocol.messages.events import EventError
from server.blocks import Blocks
from server.features.events.feature import Events
from server.features.events.schedule import local
from server.features.events.settings import EventSettings
from server.plug import Caller, HttpRequest, Person
from server.store.memory import MemoryStore
from tests.server.features.fakes import Fakes, FakeSender, citizen, make_fakes, settle, staff

E = EventError
HOST = staff(50, "hana.host", "Hana Host", role="host")
OTHER_HOST = staff(51, "olle.host", "Olle Host", role="host")
CAPTIONER = staff(52, "cai.captions", "Cai", role="captioner")
TZ = "Europe/Stockholm"


class FakeStage:
    """`server.plug.StagePort` in memory."""

    def __init__(self) -> None:
        self.layer: dict[int, int] = {}
        self.spotlight: dict[int, bool] = {}
        self.audience: dict[int, bool] = {}
        self.channel: dict[int, str | None] = {}
        self.sources: list[Callable[[], Mapping[str, bytes]]] = []

    def set_layer(self, entity: int, layer: int) -> None:
        self.layer[entity] = layer

    def set_spotlight(self, entity: int, on: bool) -> None:
        self.spotlight[entity] = on

    def set_audience(self, entity: int, on: bool) -> None:
        self.audience[entity] = on

    def ride(self, entity: int, channel: str | None) -> None:
        self.channel[entity] = channel

    def add_source(self, source: Callable[[], Mapping[str, bytes]]) -> None:
        self.sources.append(source)


class FakeStageVoice:
    """`server.plug.StageVoicePort` in memory: permissions, WS listeners, blocks."""

    def __init__(self) -> None:
        self.stages: set[str] = set()
        self.allowed: dict[tuple[str, str], bool] = {}
        self.ws: set[tuple[str, str]] = set()
        self.blocked: set[tuple[str, str]] = set()
        self.batch: list[tuple[str, int, int, bytes]] = []
        self.published: list[str] = []

    async def open_stage(self, stage: str) -> None:
        self.stages.add(stage)

    async def close_stage(self, stage: str) -> None:
        self.stages.discard(stage)

    def allow(self, stage: str, participant: str, allowed: bool) -> None:
        self.allowed[(stage, participant)] = allowed

    async def publish(self, stage: str, participant: str, offer_sdp: str) -> str:
        self.published.append(participant)
        return "v=0 answer"

    async def listen(self, stage: str, participant: str, offer_sdp: str) -> str:
        return "v=0 answer"

    async def leave(self, stage: str, participant: str) -> None:
        return None

    def attach_ws(self, stage: str, participant: str) -> None:
        self.ws.add((stage, participant))

    def detach_ws(self, stage: str, participant: str) -> None:
        self.ws.discard((stage, participant))

    def take_ws_batch(self, stage: str) -> list[tuple[str, int, int, bytes]]:
        out, self.batch = self.batch, []
        return out

    def block(self, listener: str, other: str, blocked: bool) -> None:
        pair = (listener, other)
        if blocked:
            self.blocked.add(pair)
        else:
            self.blocked.discard(pair)

    def speaking(self, stage: str) -> list[str]:
        return []


class Rig:
    def __init__(self, fakes: Fakes, blocks: Blocks) -> None:
        self.fakes = fakes
        self.stage = FakeStage()
        self.voice = FakeStageVoice()
        fakes.ctx.stage = self.stage
        fakes.ctx.stage_voice = self.voice
        fakes.ctx.blocks = blocks
        self.blocks = blocks
        self.feature = Events(fakes.ctx)
        self.people = fakes.people
        self.notify = fakes.notify
        self.clock = fakes.clock

    async def send(self, person: Person, msg: dict[str, Any]) -> None:
        checked = validate(msg, CLIENT_MESSAGES)
        await self.feature.handlers()[checked["t"]](FakeSender(person, self.notify), checked)

    async def refused(self, person: Person, msg: dict[str, Any]) -> str:
        with pytest.raises(ProtocolError) as caught:
            await self.send(person, msg)
        return caught.value.code

    async def create(self, capacity: int = 2, starts_in: float = 0.0, **kw: Any) -> int:
        now = self.clock.time()
        await self.send(
            HOST,
            {
                "t": "event_create",
                "title": {"en": "Budget town hall", "sv": "Budgetmöte"},
                "description": {"en": "Ask about next year's budget."},
                "starts": local(now + starts_in, TZ),
                "ends": local(now + starts_in + 3600, TZ),
                "capacity": capacity,
                **kw,
            },
        )
        event_id = int(self.notify.last(HOST.id, "event_info")["event"]["id"])
        return event_id

    async def tick(self, seconds: float = 1.0) -> None:
        self.clock.advance(seconds)
        await self.feature._check()
        await settle()


async def _rig(store: MemoryStore | None = None) -> Rig:
    store = store or MemoryStore()
    fakes = make_fakes("events", EventSettings(max_overflow=2), store=store)
    blocks = Blocks(store.keyspace("blocks"))
    await blocks.load()
    rig = Rig(fakes, blocks)
    await rig.feature.start()
    return rig


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    rig = await _rig()
    rig.people.add(HOST, 30.0, 0.0, "lobby")
    yield rig
    await rig.feature.stop()
    await rig.fakes.tasks.close()
    assert rig.notify.invalid == []


def add_citizens(rig: Rig, n: int, start: int = 1) -> list[Person]:
    return [rig.people.add(citizen(start + i), 0.0, 0.0, "lobby") for i in range(n)]


# -- schedule -------------------------------------------------------------------------


async def test_create_appears_on_the_schedule_and_as_icalendar(rig: Rig) -> None:
    # Starts in two hours: the local time in Stockholm comes back as given.
    event_id = await rig.create(starts_in=7200)
    (ada,) = add_citizens(rig, 1)
    await rig.send(ada, {"t": "event_schedule"})
    schedule = rig.notify.last(ada.id, "event_schedule")
    assert schedule["tz"] == TZ
    (event,) = schedule["events"]
    assert event["id"] == event_id and event["status"] == "scheduled"
    assert event["starts_local"] == local(rig.clock.time() + 7200, TZ)
    assert event["title"]["sv"] == "Budgetmöte" and event["host"] is False

    reply = await rig.feature.http_ics(HttpRequest("schedule.ics", {}, Caller("", "", "")))
    cal = Calendar.from_ical(reply.body)
    (vevent,) = [c for c in cal.walk("VEVENT")]
    assert str(vevent["summary"]) == "Budget town hall"
    assert vevent.decoded("dtstart").timestamp() == pytest.approx(event["starts"], abs=60)
    assert str(vevent["dtstart"].params["TZID"]) == TZ
    assert cal.walk("VTIMEZONE"), "the calendar carries its time zone"


async def test_bad_times_and_past_events_are_refused(rig: Rig) -> None:
    now = rig.clock.time()
    base = {"t": "event_create", "title": {"en": "x"}, "capacity": 5}
    ends_first = {**base, "starts": local(now + 7200, TZ), "ends": local(now + 3600, TZ)}
    assert await rig.refused(HOST, ends_first) == E.BAD_TIME
    past = {**base, "starts": local(now - 7200, TZ), "ends": local(now - 3600, TZ)}
    assert await rig.refused(HOST, past) == E.BAD_TIME
    garbage = {**base, "starts": "tomorrow at six pm", "ends": local(now + 3600, TZ)}
    assert await rig.refused(HOST, garbage) == E.BAD_TIME


async def test_joining_a_scheduled_or_ended_event_is_refused(rig: Rig) -> None:
    event_id = await rig.create(starts_in=600)
    (ada,) = add_citizens(rig, 1)
    assert await rig.refused(ada, {"t": "event_join", "event": event_id}) == E.NOT_LIVE
    assert await rig.refused(ada, {"t": "event_join", "event": 999}) == E.NO_SUCH_EVENT
    await rig.tick(600)
    await rig.send(ada, {"t": "event_join", "event": event_id})
    await rig.tick(3600)
    assert rig.notify.last(ada.id, "event_left")["reason"] == "the event has ended"
    assert await rig.refused(ada, {"t": "event_join", "event": event_id}) == E.NOT_LIVE


async def test_registered_people_get_a_reminder_when_it_starts(rig: Rig) -> None:
    event_id = await rig.create(starts_in=120)
    ada, bo = add_citizens(rig, 2)
    await rig.send(ada, {"t": "event_register", "event": event_id, "on": True})
    assert rig.notify.last(ada.id, "event_info")["event"]["registered"] is True
    await rig.tick(60)
    assert rig.notify.messages(ada.id, "event_reminder") == []
    await rig.tick(60)
    assert rig.notify.last(ada.id, "event_reminder")["event"]["status"] == "live"
    assert rig.notify.messages(bo.id, "event_reminder") == []


# -- seats and overflow ---------------------------------------------------------------


async def test_full_event_sends_the_next_attendee_to_overflow_and_back(rig: Rig) -> None:
    event_id = await rig.create(capacity=2)
    ada, bo, cy = add_citizens(rig, 3)
    for person in (HOST, ada, bo, cy):
        await rig.send(person, {"t": "event_join", "event": event_id})
    assert rig.notify.last(HOST.id, "event_joined")["host"] is True
    assert [rig.notify.last(p.id, "event_joined")["instance"] for p in (ada, bo, cy)] == [0, 0, 1]
    # Layers in the space follow the instances; the host is on stage for everyone.
    assert (rig.stage.layer[ada.id], rig.stage.layer[cy.id]) == (0, 1)
    assert rig.stage.spotlight[HOST.id] is True and rig.stage.spotlight[ada.id] is False
    assert all(rig.stage.audience[p.id] for p in (HOST, ada, bo, cy))
    await rig.tick()
    counts = rig.notify.last(cy.id, "event_counts")["counts"]
    assert counts == [
        {"instance": 0, "attendees": 2, "capacity": 2},
        {"instance": 1, "attendees": 1, "capacity": 2},
    ]
    # The main room is full: moving there is refused; once a seat frees, it works.
    assert await rig.refused(cy, {"t": "event_move", "instance": 0}) == E.NO_SEAT
    await rig.send(bo, {"t": "event_leave"})
    await rig.send(cy, {"t": "event_move", "instance": 0})
    assert rig.notify.last(cy.id, "event_joined")["instance"] == 0
    assert rig.stage.layer[cy.id] == 0
    await rig.tick()
    # The emptied overflow room is torn down.
    assert [c["instance"] for c in rig.notify.last(ada.id, "event_counts")["counts"]] == [0]


async def test_every_instance_full_is_event_full(rig: Rig) -> None:
    event_id = await rig.create(capacity=1)  # 1 seat + 2 overflow rooms of 1
    people = add_citizens(rig, 4)
    for person in people[:3]:
        await rig.send(person, {"t": "event_join", "event": event_id})
    assert await rig.refused(people[3], {"t": "event_join", "event": event_id}) == E.EVENT_FULL


async def test_walking_out_of_the_auditorium_leaves_the_event(rig: Rig) -> None:
    event_id = await rig.create()
    (ada,) = add_citizens(rig, 1)
    await rig.send(ada, {"t": "event_join", "event": event_id})
    rig.feature.zone_changed(ada, "lobby")
    await settle()
    assert rig.notify.last(ada.id, "event_left")["reason"] == "you left the auditorium"
    assert rig.stage.audience[ada.id] is False and rig.stage.layer[ada.id] == 0


async def test_walking_into_the_auditorium_during_an_event_takes_a_seat(rig: Rig) -> None:
    event_id = await rig.create()
    (ada,) = add_citizens(rig, 1)
    rig.feature.zone_changed(ada, "auditorium")
    await settle()
    assert rig.notify.last(ada.id, "event_joined")["event"]["id"] == event_id


# -- hands, consent, speaking ---------------------------------------------------------


async def test_hand_promotion_needs_consent_then_mute_and_timeout(rig: Rig) -> None:
    event_id = await rig.create()
    ada, bo = add_citizens(rig, 2)
    stage = f"event:{event_id}"
    for person in (HOST, ada, bo):
        await rig.send(person, {"t": "event_join", "event": event_id})
    assert rig.voice.allowed[(stage, str(HOST.id))] is True
    assert rig.voice.allowed[(stage, str(ada.id))] is False
    # Not allowed: publishing is refused before any voice call.
    code = await rig.refused(ada, {"t": "event_rtc_offer", "mode": "publish", "sdp": "v=0"})
    assert code == E.NOT_SPEAKER and rig.voice.published == []

    await rig.send(bo, {"t": "event_hand", "up": True})
    await rig.send(ada, {"t": "event_hand", "up": True})
    queue = rig.notify.last(HOST.id, "event_hands")["queue"]
    assert [p["id"] for p in queue] == [bo.id, ada.id]  # in the order raised

    await rig.send(HOST, {"t": "event_promote", "id": ada.id, "seconds": 30})
    you = rig.notify.last(ada.id, "event_you")
    assert you["invited"] == 30 and you["speaker"] is False
    assert rig.voice.allowed[(stage, str(ada.id))] is False  # not before consent
    await rig.send(ada, {"t": "event_accept", "accept": True})
    you = rig.notify.last(ada.id, "event_you")
    assert you["speaker"] is True and you["hand"] is False
    assert rig.voice.allowed[(stage, str(ada.id))] is True
    assert rig.stage.spotlight[ada.id] is True
    assert ada.id in [p["id"] for p in rig.notify.last(bo.id, "event_stage")["speakers"]]
    assert [p["id"] for p in rig.notify.last(HOST.id, "event_hands")["queue"]] == [bo.id]
    await rig.send(ada, {"t": "event_rtc_offer", "mode": "publish", "sdp": "v=0"})
    assert rig.notify.last(ada.id, "event_rtc_answer")["mode"] == "publish"

    await rig.send(HOST, {"t": "event_mute", "id": ada.id, "muted": True})
    assert rig.voice.allowed[(stage, str(ada.id))] is False
    assert rig.notify.last(ada.id, "event_you")["muted"] is True
    await rig.send(HOST, {"t": "event_mute", "id": ada.id, "muted": False})
    assert rig.voice.allowed[(stage, str(ada.id))] is True

    await rig.tick(31)  # the 30 s promotion runs out
    assert rig.voice.allowed[(stage, str(ada.id))] is False
    assert rig.notify.last(ada.id, "event_you")["speaker"] is False
    assert rig.stage.spotlight[ada.id] is False


async def test_declined_invitation_and_mute_all_spare_hosts(rig: Rig) -> None:
    event_id = await rig.create(speakers=["guest.speaker"])
    guest = rig.people.add(staff(60, "guest.speaker", "Guest", role="host"), 0, 0, "lobby")
    (ada,) = add_citizens(rig, 1)
    stage = f"event:{event_id}"
    for person in (HOST, guest, ada):
        await rig.send(person, {"t": "event_join", "event": event_id})
    assert await rig.refused(ada, {"t": "event_accept", "accept": True}) == E.NOT_INVITED
    await rig.send(HOST, {"t": "event_promote", "id": ada.id})
    assert rig.notify.last(ada.id, "event_you")["invited"] == 90  # the default
    await rig.send(ada, {"t": "event_accept", "accept": False})
    assert rig.voice.allowed[(stage, str(ada.id))] is False
    assert rig.voice.allowed[(stage, str(guest.id))] is True  # a named speaker
    await rig.send(HOST, {"t": "event_mute", "muted": True})
    assert rig.voice.allowed[(stage, str(guest.id))] is False
    assert rig.voice.allowed[(stage, str(HOST.id))] is True


async def test_promote_for_someone_not_in_the_event_is_refused(rig: Rig) -> None:
    event_id = await rig.create()
    (ada,) = add_citizens(rig, 1)
    await rig.send(HOST, {"t": "event_join", "event": event_id})
    for msg in (
        {"t": "event_promote", "id": ada.id},
        {"t": "event_demote", "id": ada.id},
        {"t": "event_mute", "id": ada.id, "muted": True},
        {"t": "event_kick", "id": ada.id},
    ):
        assert await rig.refused(HOST, msg) == E.NOT_IN_EVENT


async def test_a_host_of_another_event_cannot_moderate_this_one(rig: Rig) -> None:
    event_id = await rig.create()
    rig.people.add(OTHER_HOST, 0, 0, "lobby")
    (ada,) = add_citizens(rig, 1)
    await rig.send(ada, {"t": "event_join", "event": event_id})
    await rig.send(OTHER_HOST, {"t": "event_join", "event": event_id})
    assert rig.notify.last(OTHER_HOST.id, "event_joined")["host"] is False
    code = await rig.refused(OTHER_HOST, {"t": "event_promote", "id": ada.id})
    assert code == E.NOT_HOST
    assert await rig.refused(OTHER_HOST, {"t": "event_slide", "page": 1}) == E.NOT_HOST


def test_citizens_may_not_send_host_messages_at_all() -> None:
    # The session checks roles before any handler: a forged promote is `forbidden`.
    for t in ("event_promote", "event_mute", "event_slide", "event_ban", "event_slides_begin"):
        assert "citizen" not in CLIENT_MESSAGES[t].roles


# -- moderation -----------------------------------------------------------------------


async def test_ban_survives_a_restart_and_a_new_name_and_is_audited() -> None:
    store = MemoryStore()
    rig = await _rig(store)
    rig.people.add(HOST, 0, 0, "lobby")
    ada = rig.people.add(citizen(1, "Ada", subject="key-ada"), 0, 0, "lobby")
    event_id = await rig.create()
    await rig.send(HOST, {"t": "event_join", "event": event_id})
    await rig.send(ada, {"t": "event_join", "event": event_id})
    await rig.send(HOST, {"t": "event_ban", "id": ada.id, "scope": "event", "reason": "abuse"})
    assert rig.notify.last(ada.id, "event_left")["reason"] == "abuse"
    await rig.feature.stop()

    again = await _rig(store)  # a restart over the same store
    again.people.add(HOST, 0, 0, "lobby")
    renamed = again.people.add(citizen(7, "Someone New", subject="key-ada"), 0, 0, "lobby")
    assert await again.refused(renamed, {"t": "event_join", "event": event_id}) == E.BANNED
    (bo,) = add_citizens(again, 1, start=8)
    await again.send(bo, {"t": "event_join", "event": event_id})  # others still may

    reply = await again.feature.http_audit(HttpRequest("audit", {}, Caller("a", "A", "admin")))
    rows = [json.loads(line) for line in reply.body.decode().splitlines()]
    ban = next(r for r in rows if r["action"] == "ban_event")
    assert (ban["actor_name"], ban["target_name"], ban["reason"]) == ("Hana Host", "Ada", "abuse")
    assert ban["event"] == str(event_id) and float(ban["ts"]) > 0
    csv_reply = await again.feature.http_audit(
        HttpRequest("audit", {"format": "csv"}, Caller("a", "A", "admin"))
    )
    assert b"ban_event" in csv_reply.body and csv_reply.filename == "events-audit.csv"
    await again.feature.stop()
    await rig.fakes.tasks.close()
    await again.fakes.tasks.close()


async def test_service_point_ban_removes_and_refuses_on_entry(rig: Rig) -> None:
    event_id = await rig.create()
    ada = rig.people.add(citizen(1, "Ada", subject="key-ada"), 0, 0, "lobby")
    for person in (HOST, ada):
        await rig.send(person, {"t": "event_join", "event": event_id})
    await rig.send(HOST, {"t": "event_ban", "id": ada.id, "scope": "service_point"})
    assert rig.people.removed[-1][0] == ada.id
    back = rig.people.add(citizen(9, "Ada2", subject="key-ada"), 0, 0, "lobby")
    await rig.feature.entered(back, False)
    assert rig.people.removed[-1] == (back.id, "banned from this service point")


async def test_kick_moves_the_person_out_and_they_may_come_back(rig: Rig) -> None:
    event_id = await rig.create()
    (ada,) = add_citizens(rig, 1)
    for person in (HOST, ada):
        await rig.send(person, {"t": "event_join", "event": event_id})
    await rig.send(HOST, {"t": "event_kick", "id": ada.id, "reason": "shouting"})
    assert rig.notify.last(ada.id, "event_left")["reason"] == "shouting"
    x, z, _ = rig.fakes.place.of(ada.id)[-1]
    assert (x, z) == rig.fakes.ctx.world.spawn
    await rig.send(ada, {"t": "event_join", "event": event_id})


async def test_a_block_filters_the_blocked_speaker_from_ws_audio(rig: Rig) -> None:
    event_id = await rig.create()
    ada, bo = add_citizens(rig, 2)
    for person in (HOST, ada, bo):
        await rig.send(person, {"t": "event_join", "event": event_id})
        await rig.send(person, {"t": "event_listen", "path": "ws"})
    assert rig.stage.channel[ada.id] == f"ev:{event_id}"
    await rig.blocks.set(ada.subject, HOST.subject, True)
    assert (str(ada.id), str(HOST.id)) in rig.voice.blocked
    rig.voice.batch = [
        (str(HOST.id), 1, 960, b"\x01\x02"),
        (str(bo.id), 7, 960, b"\x03"),
        (str(ada.id), 9, 960, b"\x04"),
    ]
    (source,) = rig.stage.sources
    out = source()

    shared = msgpack.unpackb(out[f"ev:{event_id}"], raw=False)
    assert [p[0] for p in shared["p"]] == [HOST.id, bo.id, ada.id]
    assert shared["p"][0][3] == b"\x01\x02"  # forwarded bytes, unchanged
    mine = msgpack.unpackb(out[rig.stage.channel[ada.id] or ""], raw=False)
    assert [p[0] for p in mine["p"]] == [bo.id, ada.id]
    # The host, blocked by Ada, does not hear her either.
    host_channel = rig.stage.channel[HOST.id] or ""
    assert [p[0] for p in msgpack.unpackb(out[host_channel], raw=False)["p"]] == [HOST.id, bo.id]
    assert rig.stage.channel[bo.id] == f"ev:{event_id}"  # Bo blocked nobody


# -- questions and captions -----------------------------------------------------------


async def test_questions_are_redacted_voted_answered_limited_and_exported(rig: Rig) -> None:
    event_id = await rig.create(capacity=1)
    ada, bo = add_citizens(rig, 2)
    for person in (HOST, ada, bo):
        await rig.send(person, {"t": "event_join", "event": event_id})
    text = "My personnummer is 19800101-1231, why is the fee higher?"
    await rig.send(bo, {"t": "event_ask", "text": text})
    q = rig.notify.last(HOST.id, "event_question")["question"]
    assert "19800101-1231" not in q["text"] and q["instance"] == 1  # bo is in overflow
    assert q["asker"] == bo.id  # hosts may moderate the asker
    assert "asker" not in rig.notify.last(ada.id, "event_question")["question"]
    assert "19800101-1231" not in repr(
        await rig.fakes.store.keyspace("events").hgetall(f"questions:{event_id}")
    )
    await rig.send(ada, {"t": "event_vote", "question": q["id"], "up": True})
    assert rig.notify.last(bo.id, "event_question")["question"]["votes"] == 1
    code = await rig.refused(ada, {"t": "event_answered", "question": q["id"]})
    assert code == E.NOT_HOST
    await rig.send(HOST, {"t": "event_answered", "question": q["id"]})
    assert rig.notify.last(ada.id, "event_question")["question"]["answered"] is True
    # A flood: the rate limit (3 a minute) refuses the fourth.
    for i in range(2):
        await rig.send(bo, {"t": "event_ask", "text": f"question {i}"})
    assert await rig.refused(bo, {"t": "event_ask", "text": "again"}) == E.QUESTION_LIMIT
    caller = Caller(HOST.subject, HOST.name, HOST.role)
    req = HttpRequest("questions", {"event": str(event_id), "format": "json"}, caller)
    rows = json.loads((await rig.feature.http_questions(req)).body)
    assert [r["votes"] for r in rows] == [1, 0, 0] and rows[0]["answered"] is True


async def test_captions_reach_every_instance(rig: Rig) -> None:
    event_id = await rig.create(capacity=1)
    rig.people.add(CAPTIONER, 0, 0, "lobby")
    ada, bo = add_citizens(rig, 2)
    for person in (HOST, CAPTIONER, ada, bo):
        await rig.send(person, {"t": "event_join", "event": event_id})
    # The captioner takes no seat: Ada has the one seat, Bo is in overflow room 1.
    assert rig.notify.last(bo.id, "event_joined")["instance"] == 1
    await rig.send(CAPTIONER, {"t": "event_caption", "text": "Welcome, everyone.", "final": True})
    for person in (HOST, ada, bo):
        assert rig.notify.last(person.id, "event_caption")["text"] == "Welcome, everyone."
    assert "citizen" not in CLIENT_MESSAGES["event_caption"].roles


async def test_a_resumed_connection_gets_its_place_back_but_not_the_stage(rig: Rig) -> None:
    event_id = await rig.create()
    ada, bo = add_citizens(rig, 2)
    for person in (HOST, ada, bo):
        await rig.send(person, {"t": "event_join", "event": event_id})
    await rig.send(HOST, {"t": "event_promote", "id": ada.id})
    await rig.send(ada, {"t": "event_accept", "accept": True})
    await rig.feature.left(ada, for_good=False)
    await rig.feature.left(bo, for_good=True)
    assert rig.voice.allowed[(f"event:{event_id}", str(ada.id))] is False
    await rig.feature.entered(ada, resumed=True)
    await rig.feature.entered(bo, resumed=False)
    assert len(rig.notify.messages(ada.id, "event_joined")) == 2
    assert rig.notify.last(ada.id, "event_you")["speaker"] is False
    assert len(rig.notify.messages(bo.id, "event_joined")) == 1
