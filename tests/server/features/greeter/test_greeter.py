"""Fast tests of the greeter feature (and the desks' side of its handover) over fakes.

The bot is a `Person` with role ``bot``; its messages go through the same
handlers the edge would call. Every message sent is checked against the server
catalogue (``notify.invalid`` stays empty).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import msgpack
import pytest

from protocol.catalogue import CLIENT_MESSAGES
from protocol.codec import validate
from protocol.errors import ProtocolError
from server.features.desks.feature import Desks
from server.features.desks.settings import DeskSettings
from server.features.greeter.feature import Greeter
from server.features.greeter.settings import GreeterSettings
from server.metrics import Metrics
from server.plug import Feature, Person
from server.privacy import PLACEHOLDER
from tests.server.features.fakes import Fakes, FakeSender, citizen, make_fakes, settle, staff

BOT = Person(50, "greeter", "Greeter", "bot")
BOT2 = Person(51, "greeter", "Greeter", "bot")
ADA, BO = citizen(1, "Ada"), citizen(2, "Bo")
SARA = staff(100, "sara.lind", "Sara Lind")  # general + registration; sv en da
YUKI = staff(102, "yuki.tanaka", "Yuki Tanaka")  # benefits + general; ja en sv
PNR = "811218-9876"
"""A personnummer with a valid check digit."""


async def wait_until(check: Callable[[], bool]) -> None:
    """Yield until ``check`` holds (the suite's per-test timeout catches a rule that never
    does, so a busy machine cannot fail a correct one)."""
    while not check():
        await asyncio.sleep(0.005)


class Rig:
    """A `Greeter` over fakes (and, with ``desks=True``, the `Desks` on the same bus)."""

    def __init__(self, settings: GreeterSettings | None = None, desks: bool = False) -> None:
        self.metrics = Metrics()
        self.fakes: Fakes = make_fakes("greeter", settings or GreeterSettings(), resume_s=0.05)
        ctx = dataclasses.replace(self.fakes.ctx, metrics=self.metrics.feature("greeter"))
        self.greeter = Greeter(ctx)
        self.notify = self.fakes.notify
        self.people = self.fakes.people
        self.bus = self.fakes.bus
        self.store = self.fakes.store
        self.desks: Desks | None = None
        if desks:
            self.desks = Desks(
                dataclasses.replace(
                    ctx,
                    store=self.store.keyspace("desks"),
                    settings=DeskSettings(),
                    metrics=self.metrics.feature("desks"),
                )
            )
        self.handoffs: list[dict[str, Any]] = []
        self.bus.subscribe("greeter.handoff", lambda e: self.handoffs.append(dict(e)))
        self.tickets: list[dict[str, Any]] = []
        self.bus.subscribe("desks.handoff_ticket", lambda e: self.tickets.append(dict(e)))

    @property
    def features(self) -> list[Feature]:
        return [self.greeter, *([self.desks] if self.desks else [])]

    async def start(self) -> Rig:
        for feature in self.features:
            await feature.start()
        return self

    async def join(self, *people: Person) -> None:
        for person in people:
            self.people.add(person)
            for feature in self.features:
                await feature.entered(person, resumed=False)

    async def drop(self, person: Person, for_good: bool) -> None:
        self.people.discard(person.id)
        for feature in self.features:
            await feature.left(person, for_good=for_good)

    async def send(self, person: Person, msg: Mapping[str, Any]) -> None:
        checked = validate(dict(msg), CLIENT_MESSAGES)
        for feature in self.features:
            handler = feature.handlers().get(checked["t"])
            if handler is not None:
                await handler(FakeSender(person, self.notify), checked)
                return
        raise AssertionError(f"no handler for {checked['t']}")

    async def refused(self, person: Person, msg: Mapping[str, Any], code: str) -> None:
        with pytest.raises(ProtocolError) as caught:
            await self.send(person, msg)
        assert caught.value.code == code, caught.value

    async def ask(self, person: Person, text: str, lang: str = "sv") -> dict[str, Any]:
        """The citizen asks; returns what the bot was told."""
        await self.send(person, {"t": "greeter_ask", "text": text, "lang": lang})
        return self.notify.last(BOT.id, "greeter_asked")

    async def answer(self, conv: int, text: str = "Svar.", topic: int = 7) -> None:
        await self.send(
            BOT,
            {
                "t": "greeter_reply",
                "conv": conv,
                "kind": "answer",
                "text": text,
                "topic": topic,
                "official": True,
            },
        )

    async def offer(self, conv: int, reason: str = "asked", service: str = "general") -> None:
        await self.send(
            BOT,
            {
                "t": "greeter_handoff",
                "conv": conv,
                "reason": reason,
                "service": service,
                "text": "Ska jag ta en kölapp åt dig?",
            },
        )

    async def conversations(self) -> list[dict[str, str]]:
        return [f for _id, f in await self.store.keyspace("greeter").read("conversations")]

    def metric(self, name: str, **labels: str) -> float:
        value = self.metrics.registry.get_sample_value(name, labels)
        return 0.0 if value is None else value

    def check(self) -> None:
        assert not self.notify.invalid, self.notify.invalid


async def rig_with_bot(**settings: Any) -> Rig:
    rig = await Rig(GreeterSettings(**settings)).start()
    await rig.join(BOT, ADA, BO)
    return rig


# -- relaying --------------------------------------------------------------------------


async def test_without_a_greeter_the_citizen_is_told_to_ask_at_a_desk() -> None:
    rig = await Rig().start()
    await rig.join(ADA)
    await rig.refused(ADA, {"t": "greeter_ask", "text": "Hej", "lang": "sv"}, "no_greeter")


async def test_citizen_text_is_redacted_before_the_bot_and_the_transcript_see_it() -> None:
    rig = await rig_with_bot()
    asked = await rig.ask(ADA, f"Mitt personnummer är {PNR}, var är mitt pass?")
    assert asked["new"] is True and asked["citizen"] == ADA.id and asked["lang"] == "sv"
    assert PNR not in asked["text"] and PLACEHOLDER in asked["text"]
    again = await rig.ask(ADA, "Och mitt körkort?")
    assert again["conv"] == asked["conv"] and again["new"] is False
    conv = rig.greeter.convs[asked["conv"]]
    assert [line["from"] for line in conv.lines] == ["citizen", "citizen"]
    assert all(PNR not in line["text"] for line in conv.lines)
    # Another citizen gets another conversation; the bot never sees a subject or name.
    other = await rig.ask(BO, "Hello", lang="en")
    assert other["conv"] != asked["conv"] and other["new"] is True
    assert not any("citizen-1" in repr(m) or "Ada" in repr(m) for m in rig.notify.messages(BOT.id))
    rig.check()


async def test_everything_the_greeter_says_is_marked_automated() -> None:
    rig = await rig_with_bot()
    conv = (await rig.ask(ADA, "Hur byter jag adress?"))["conv"]
    await rig.answer(conv, "Det officiella svaret: gör det på webben.", topic=42)
    said = rig.notify.last(ADA.id, "greeter_said")
    assert said["automated"] is True and said["kind"] == "answer"
    assert said["topic"] == 42 and said["official"] is True and said["conv"] == conv
    rig.check()


async def test_a_newer_bot_replaces_the_older_one() -> None:
    rig = await rig_with_bot()
    await rig.join(BOT2)
    taken = rig.notify.last(BOT.id, "error")
    assert taken["code"] == "greeter_taken"
    await rig.send(ADA, {"t": "greeter_ask", "text": "Hej", "lang": "sv"})
    asked = rig.notify.last(BOT2.id, "greeter_asked")
    await rig.refused(
        BOT,
        {"t": "greeter_reply", "conv": asked["conv"], "kind": "greeting", "text": "Hej"},
        "greeter_taken",
    )
    # The newest bot leaving means no greeter (the older one does not come back by itself).
    await rig.drop(BOT2, for_good=True)
    await rig.refused(ADA, {"t": "greeter_ask", "text": "Hallå?", "lang": "sv"}, "no_greeter")
    rig.check()


async def test_conversations_are_their_citizens_own() -> None:
    rig = await rig_with_bot()
    conv = (await rig.ask(ADA, "Hej"))["conv"]
    await rig.refused(BO, {"t": "greeter_rate", "conv": conv, "helpful": False}, "no_conversation")
    await rig.refused(ADA, {"t": "greeter_rate", "conv": conv, "helpful": True}, "no_conversation")
    await rig.refused(ADA, {"t": "greeter_consent", "conv": conv, "yes": True}, "no_offer")
    await rig.offer(conv)
    await rig.refused(BO, {"t": "greeter_consent", "conv": conv, "yes": True}, "no_conversation")
    await rig.refused(
        BOT, {"t": "greeter_reply", "conv": 999, "kind": "answer", "text": "x"}, "no_conversation"
    )
    await rig.refused(
        BOT,
        {"t": "greeter_handoff", "conv": conv, "reason": "asked", "service": "nope", "text": "x"},
        "unknown_service",
    )
    assert not rig.handoffs
    rig.check()


# -- the handover ------------------------------------------------------------------------


async def test_consent_publishes_the_handover_and_the_ticket_ends_the_conversation() -> None:
    rig = await rig_with_bot()
    conv = (await rig.ask(ADA, f"Jag vill prata med en människa om {PNR}"))["conv"]
    await rig.offer(conv, "asked", "registration")
    offer = rig.notify.last(ADA.id, "greeter_offer")
    assert offer == {
        "t": "greeter_offer",
        "conv": conv,
        "reason": "asked",
        "service": "registration",
        "text": "Ska jag ta en kölapp åt dig?",
    }
    assert not rig.handoffs  # nothing without consent
    await rig.send(ADA, {"t": "greeter_consent", "conv": conv, "yes": True})
    [event] = rig.handoffs
    assert {k: event[k] for k in ("entity", "subject", "service", "lang", "reason", "conv")} == {
        "entity": ADA.id,
        "subject": ADA.subject,
        "service": "registration",
        "lang": "sv",
        "reason": "asked",
        "conv": conv,
    }
    lines = event["transcript"]
    assert [line["from"] for line in lines] == ["citizen", "greeter"]
    assert PNR not in repr(lines) and PLACEHOLDER in lines[0]["text"]
    # A second yes while the desks take the ticket is refused.
    await rig.refused(ADA, {"t": "greeter_consent", "conv": conv, "yes": True}, "no_offer")

    rig.bus.publish("desks.handoff_ticket", {"conv": conv, "entity": ADA.id, "ticket": "B-001"})
    await settle()
    for who in (ADA, BOT):
        outcome = rig.notify.last(who.id, "greeter_outcome")
        assert outcome == {
            "t": "greeter_outcome",
            "conv": conv,
            "handed_over": True,
            "ticket": "B-001",
        }
    assert conv not in rig.greeter.convs
    [record] = await rig.conversations()
    assert record["outcome"] == "handoff" and record["reason"] == "asked"
    assert record["conv"] == str(conv) and record["lang"] == "sv"
    assert set(record) == {"conv", "lang", "outcome", "reason", "helpful", "unhelpful", "ts"}
    assert rig.metric("servicepoint_greeter_handoffs_total", reason="asked") == 1
    assert rig.metric("servicepoint_greeter_conversations_total", outcome="handoff") == 1
    assert rig.metric("servicepoint_greeter_resolved_total") == 0
    # A new question starts a new conversation.
    assert (await rig.ask(ADA, "En sak till"))["conv"] != conv
    rig.check()


async def test_a_regional_language_is_queued_in_its_base_language() -> None:
    rig = await rig_with_bot()
    conv = (await rig.ask(ADA, "Människa!", lang="sv-FI"))["conv"]
    await rig.offer(conv)
    await rig.send(ADA, {"t": "greeter_consent", "conv": conv, "yes": True})
    assert rig.handoffs[0]["lang"] == "sv"


async def test_declining_keeps_the_conversation_and_takes_no_ticket() -> None:
    rig = await rig_with_bot()
    conv = (await rig.ask(ADA, "Människa!"))["conv"]
    await rig.offer(conv)
    await rig.send(ADA, {"t": "greeter_consent", "conv": conv, "yes": False})
    assert not rig.handoffs
    for who in (ADA, BOT):
        assert rig.notify.last(who.id, "greeter_outcome") == {
            "t": "greeter_outcome",
            "conv": conv,
            "handed_over": False,
        }
    await rig.refused(ADA, {"t": "greeter_consent", "conv": conv, "yes": True}, "no_offer")
    assert (await rig.ask(ADA, "Okej, en fråga då"))["conv"] == conv
    rig.check()


async def test_the_desks_refusing_the_ticket_keeps_the_conversation_open() -> None:
    rig = await rig_with_bot()
    conv = (await rig.ask(ADA, "human", lang="en"))["conv"]
    await rig.offer(conv)
    await rig.send(ADA, {"t": "greeter_consent", "conv": conv, "yes": True})
    rig.bus.publish(
        "desks.handoff_ticket", {"conv": conv, "entity": ADA.id, "error": "already_queued"}
    )
    await settle()
    assert rig.notify.last(ADA.id, "greeter_outcome")["handed_over"] is False
    assert conv in rig.greeter.convs
    await rig.offer(conv)  # it can be offered again
    assert len(rig.notify.messages(ADA.id, "greeter_offer")) == 2
    rig.check()


# -- never a loop -------------------------------------------------------------------------


async def unhelpful_twice(rig: Rig, who: Person = ADA) -> int:
    conv = (await rig.ask(who, "Fråga ett"))["conv"]
    for _ in range(2):
        await rig.answer(conv)
        await rig.send(who, {"t": "greeter_rate", "conv": conv, "helpful": False})
    return conv


async def test_the_server_offers_a_person_after_two_unhelpful_answers_if_the_bot_does_not() -> None:
    rig = await rig_with_bot(offer_wait_s=0.01)
    conv = await unhelpful_twice(rig)
    rated = rig.notify.messages(BOT.id, "greeter_rated")
    assert [(r["helpful"], r["unhelpful"]) for r in rated] == [(False, 1), (False, 2)]
    await wait_until(lambda: bool(rig.notify.messages(ADA.id, "greeter_offer")))
    offer = rig.notify.last(ADA.id, "greeter_offer")
    assert offer["conv"] == conv and offer["reason"] == "not_helpful"
    assert offer["service"] == "general" and "automatisk assistent" in offer["text"]
    assert "Allmänna frågor" in offer["text"]  # the service's Swedish name
    assert rig.metric("servicepoint_greeter_offers_total", reason="not_helpful", by="server") == 1
    rig.check()


async def test_the_bots_own_offer_comes_first() -> None:
    rig = await rig_with_bot(offer_wait_s=0.05)
    conv = await unhelpful_twice(rig)
    await rig.offer(conv, "not_helpful", "benefits")
    await asyncio.sleep(0.1)  # past the wait: the server adds no second offer
    [offer] = rig.notify.messages(ADA.id, "greeter_offer")
    assert offer["service"] == "benefits"
    rig.check()


async def test_rating_the_same_answer_twice_counts_once() -> None:
    rig = await rig_with_bot(offer_wait_s=0)
    conv = (await rig.ask(ADA, "Fråga"))["conv"]
    await rig.answer(conv)
    for _ in range(3):
        await rig.send(ADA, {"t": "greeter_rate", "conv": conv, "helpful": False})
    assert not rig.notify.messages(ADA.id, "greeter_offer")
    await rig.answer(conv)
    await rig.send(ADA, {"t": "greeter_rate", "conv": conv, "helpful": False})
    assert rig.notify.last(ADA.id, "greeter_offer")["reason"] == "not_helpful"
    rig.check()


async def test_without_a_bot_the_offer_comes_at_once() -> None:
    rig = await rig_with_bot(offer_wait_s=30)
    conv = (await rig.ask(ADA, "Fråga"))["conv"]
    await rig.answer(conv)
    await rig.send(ADA, {"t": "greeter_rate", "conv": conv, "helpful": False})
    await rig.answer(conv)
    await rig.drop(BOT, for_good=True)
    await rig.send(ADA, {"t": "greeter_rate", "conv": conv, "helpful": False})
    assert rig.notify.last(ADA.id, "greeter_offer")["reason"] == "not_helpful"
    rig.check()


async def test_past_the_turn_limit_a_person_is_offered_instead_of_an_answer() -> None:
    rig = await rig_with_bot(max_turns=2)
    conv = (await rig.ask(ADA, "Ett", lang="de"))["conv"]
    await rig.ask(ADA, "Zwei", lang="de")
    await rig.send(ADA, {"t": "greeter_ask", "text": "Drei", "lang": "de"})
    assert len(rig.notify.messages(BOT.id, "greeter_asked")) == 2
    offer = rig.notify.last(ADA.id, "greeter_offer")
    assert offer["conv"] == conv and "automatischer Assistent" in offer["text"]
    await rig.send(ADA, {"t": "greeter_consent", "conv": conv, "yes": False})
    await rig.send(ADA, {"t": "greeter_ask", "text": "Vier", "lang": "de"})
    assert len(rig.notify.messages(BOT.id, "greeter_asked")) == 2
    assert len(rig.notify.messages(ADA.id, "greeter_offer")) == 2  # offered again, not answered
    await rig.send(ADA, {"t": "greeter_ask", "text": "Fünf", "lang": "de"})
    said = rig.notify.last(ADA.id, "greeter_said")
    assert said["kind"] == "no_answer" and said["automated"] is True
    rig.check()


# -- the end of a conversation -----------------------------------------------------------------


async def test_leaving_ends_the_conversation_with_its_outcome_not_its_text() -> None:
    rig = await rig_with_bot()
    conv = (await rig.ask(ADA, f"Hemlig fråga {PNR}"))["conv"]
    await rig.answer(conv)
    await rig.send(ADA, {"t": "greeter_rate", "conv": conv, "helpful": True})
    await rig.drop(ADA, for_good=True)
    assert conv not in rig.greeter.convs
    [record] = await rig.conversations()
    assert record["outcome"] == "resolved" and record["helpful"] == "1"
    assert record["unhelpful"] == "0" and record["reason"] == ""
    assert "Hemlig" not in repr(record)
    abandoned = (await rig.ask(BO, "Something", lang="en"))["conv"]
    await rig.drop(BO, for_good=True)
    records = await rig.conversations()
    assert records[1]["conv"] == str(abandoned) and records[1]["outcome"] == "abandoned"
    assert rig.metric("servicepoint_greeter_resolved_total") == 1
    assert rig.metric("servicepoint_greeter_conversations_total", outcome="resolved") == 1
    assert rig.metric("servicepoint_greeter_conversations_total", outcome="abandoned") == 1
    assert rig.metric("servicepoint_greeter_ratings_total", helpful="yes") == 1
    rig.check()


async def test_a_dropped_citizen_keeps_the_conversation_for_the_resume_window() -> None:
    rig = await rig_with_bot()
    conv = (await rig.ask(ADA, "Fråga"))["conv"]
    await rig.drop(ADA, for_good=False)
    await rig.join(ADA)  # back in time
    await asyncio.sleep(0.1)
    assert conv in rig.greeter.convs
    await rig.drop(ADA, for_good=False)
    await wait_until(lambda: conv not in rig.greeter.convs)
    assert [r["outcome"] for r in await rig.conversations()] == ["abandoned"]


async def test_a_default_service_the_world_does_not_have_stops_the_start() -> None:
    from server.plug import StartupError

    with pytest.raises(StartupError, match="DEFAULT_SERVICE"):
        await Rig(GreeterSettings(default_service="nowhere")).start()


# -- the desks' side ---------------------------------------------------------------------------


async def handed_over(rig: Rig, service: str = "general", lang: str = "sv") -> str:
    """Ada asks for a person, consents; the desks take the ticket. Returns its id."""
    conv = (await rig.ask(ADA, f"Jag vill prata med en handläggare, pnr {PNR}", lang))["conv"]
    await rig.send(
        BOT, {"t": "greeter_reply", "conv": conv, "kind": "greeting", "text": "Jag är automatisk."}
    )
    await rig.offer(conv, "asked", service)
    await rig.send(ADA, {"t": "greeter_consent", "conv": conv, "yes": True})
    await wait_until(lambda: bool(rig.tickets))
    await settle()
    answer = rig.tickets[-1]
    assert answer["conv"] == conv and answer["entity"] == ADA.id
    return str(answer["ticket"])


async def test_the_desks_take_the_ticket_and_give_the_staff_the_transcript() -> None:
    rig = await Rig(desks=True).start()
    await rig.join(BOT, ADA, SARA, YUKI)
    ticket_id = await handed_over(rig)
    assert ticket_id == "A-001"
    ticket = rig.notify.last(ADA.id, "ticket")  # the normal ticket message
    assert ticket["ticket"] == "A-001" and ticket["status"] == "waiting"
    assert rig.notify.last(ADA.id, "greeter_outcome")["ticket"] == "A-001"
    assert rig.desks is not None
    queued = rig.desks.service.queue.tickets["A-001"]
    assert (queued.service, queued.lang, queued.citizen) == ("general", "sv", ADA.id)
    stored = msgpack.unpackb(await rig.store.keyspace("desks").get("transcript:A-001"), raw=False)
    assert stored["reason"] == "asked" and PNR not in repr(stored)

    await rig.send(SARA, {"t": "duty", "status": "available", "desk": "desk-1"})
    assert not rig.notify.messages(SARA.id, "greeter_transcript")  # only when called
    await rig.send(SARA, {"t": "call_next"})
    transcript = rig.notify.last(SARA.id, "greeter_transcript")
    assert transcript["ticket"] == "A-001" and transcript["reason"] == "asked"
    assert transcript["lang"] == "sv"
    assert [line["from"] for line in transcript["lines"]] == ["citizen", "greeter", "greeter"]
    assert PNR not in repr(transcript) and PLACEHOLDER in transcript["lines"][0]["text"]
    assert not rig.notify.messages(ADA.id, "greeter_transcript")  # staff only

    # Transferred: the next staff member who calls it gets the transcript too.
    await rig.send(ADA, {"t": "respond"})
    await rig.send(SARA, {"t": "transfer", "service": "benefits"})
    await rig.send(YUKI, {"t": "duty", "status": "available", "desk": "desk-3"})
    await rig.send(YUKI, {"t": "call_next"})
    assert rig.notify.last(YUKI.id, "greeter_transcript")["lines"] == transcript["lines"]
    rig.check()


async def test_the_transcript_goes_with_the_notes() -> None:
    rig = await Rig(desks=True).start()
    await rig.join(BOT, ADA, SARA)
    ticket_id = await handed_over(rig)
    assert rig.desks is not None
    desks = rig.desks.service
    keys = rig.store.keyspace("desks")
    # After a restart the open ticket still has its transcript.
    again = Desks(rig.desks.ctx)
    await again.start()
    assert again.service.transcripts[ticket_id]["reason"] == "asked"
    await desks.delete_notes(ticket_id)
    assert await keys.get("transcript:" + ticket_id) is None
    assert ticket_id not in desks.transcripts


async def test_a_citizen_with_a_ticket_is_not_queued_twice() -> None:
    rig = await Rig(desks=True).start()
    await rig.join(BOT, ADA)
    await rig.send(ADA, {"t": "take_ticket", "service": "general", "lang": "sv"})
    conv = (await rig.ask(ADA, "Människa"))["conv"]
    await rig.offer(conv)
    await rig.send(ADA, {"t": "greeter_consent", "conv": conv, "yes": True})
    await wait_until(lambda: bool(rig.tickets))
    await settle()
    assert rig.tickets == [{"conv": conv, "entity": ADA.id, "error": "already_queued"}]
    error = rig.notify.last(ADA.id, "error")
    assert error["code"] == "already_queued" and error["ref"] == "greeter_consent"
    assert rig.notify.last(ADA.id, "greeter_outcome")["handed_over"] is False
    assert conv in rig.greeter.convs
    rig.check()
