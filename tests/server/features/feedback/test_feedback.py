"""Fast tests of `Feedback`: the memory store and fake ports, no sockets.

Cases end on the bus as the desks announce them (``desks.case_closed``, the
payload of `server.features.desks.service.DeskService._record`). The world is
the shipped one: the feedback kiosk ``kiosk-hall`` stands at (0, 20).
Staff subjects are bare here (``sara.lind``), citizens' ``citizen-<n>``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Mapping
from typing import Any, Protocol

import pytest

from protocol.catalogue import CLIENT_MESSAGES
from protocol.codec import validate
from protocol.errors import ProtocolError
from protocol.messages.feedback import FeedbackError
from server.features.feedback.feature import Feedback
from server.features.feedback.settings import FeedbackSettings
from server.plug import Person
from server.privacy import PLACEHOLDER
from server.store.memory import MemoryStore
from tests.server.features.fakes import (
    EPOCH,
    Fakes,
    FakeSender,
    ManualClock,
    citizen,
    make_fakes,
    settle,
    staff,
)

SARA = staff(100, "sara.lind", "Sara Lind")
ADA, BO = citizen(1, "Ada"), citizen(2, "Bo")
BYSTANDER = citizen(9, "Eve")
KIOSK = "kiosk-hall"
AT_KIOSK = (0.0, 18.0)
"""2 m from the kiosk at (0, 20): within the default 4 m."""
OPEN_S = 3600.0
KIOSK_EVERY_S = 600.0
ANSWERED_FIELDS = frozenset(
    {
        "type",
        "survey",
        "kind",
        "ticket",
        "service",
        "desk",
        "staff",
        "outcome",
        "rating",
        "easy",
        "shared",
        "comment",
        "ts",
        "zone",
    }
)
"""What an ``answered`` entry may hold (insight contract); nothing about the citizen."""


def closed_case(
    who: Person,
    ticket: str = "A-001",
    outcome: str = "resolved",
    *,
    service: str = "general",
    desk: str = "desk-2",
    worker: Person | None = SARA,
) -> dict[str, Any]:
    """A ``desks.case_closed`` event as `DeskService._record` publishes it."""
    status = {"no_show": "no_show", "left": "left"}.get(outcome, "done")
    return {
        "ticket": ticket,
        "service": service,
        "lang": "sv",
        "desk": desk if worker is not None else "",
        "staff": worker.subject if worker is not None else "",
        "citizen": who.id,
        "citizen_subject": who.subject,
        "status": status,
        "outcome": outcome,
        "arrived": EPOCH - 300.0,
        "called_at": EPOCH - 200.0 if worker is not None else None,
        "started_at": EPOCH - 150.0 if status == "done" else None,
        "ended_at": EPOCH,
    }


class Rig:
    """One `Feedback` feature over fakes, with helpers that speak its messages."""

    def __init__(self, fakes: Fakes, feature: Feedback) -> None:
        self.fakes = fakes
        self.feature = feature
        self.ctx = fakes.ctx
        self.people = fakes.people
        self.notify = fakes.notify
        self.clock = fakes.clock
        self.answered: list[dict[str, Any]] = []
        self.ctx.bus.subscribe("feedback.answered", lambda e: self.answered.append(dict(e)))

    async def join(self, *people: Person, at: tuple[float, float] = (0.0, 0.0)) -> None:
        for person in people:
            self.people.add(person, *at)
            await self.feature.entered(person, resumed=False)

    async def drop(self, person: Person, for_good: bool = False) -> None:
        self.people.discard(person.id)
        await self.feature.left(person, for_good=for_good)

    async def close(
        self, who: Person, ticket: str = "A-001", outcome: str = "resolved", **kw: Any
    ) -> None:
        """The desks announce that ``who``'s case ``ticket`` ended; wait for the offer."""
        self.ctx.bus.publish("desks.case_closed", closed_case(who, ticket, outcome, **kw))
        await settle()

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

    async def answer(self, person: Person, survey: str, rating: int = 4, **more: Any) -> None:
        await self.send(person, {"t": "survey_answer", "survey": survey, "rating": rating, **more})

    async def entries(self, type_: str | None = None) -> list[dict[str, str]]:
        """The ``answers`` stream (of one type), oldest first."""
        rows = [fields for _id, fields in await self.ctx.store.read("answers")]
        return [f for f in rows if type_ is None or f["type"] == type_]

    def survey_of(self, person: Person) -> dict[str, Any]:
        return self.notify.last(person.id, "survey")

    async def stop(self) -> None:
        await self.feature.stop()
        await self.fakes.tasks.close()


class MakeRig(Protocol):
    def __call__(
        self, *, store: MemoryStore | None = ..., clock: ManualClock | None = ...
    ) -> Awaitable[Rig]: ...


@pytest.fixture
async def make_rig() -> AsyncIterator[MakeRig]:
    rigs: list[Rig] = []

    async def make(*, store: MemoryStore | None = None, clock: ManualClock | None = None) -> Rig:
        clock = clock if clock is not None else ManualClock()
        fakes = make_fakes(
            "feedback",
            FeedbackSettings(survey_open_s=OPEN_S, kiosk_radius_m=4.0, kiosk_every_s=KIOSK_EVERY_S),
            # expiry by the same manual clock, so a test can outwait a TTL
            store=store if store is not None else MemoryStore(clock=clock.monotonic),
            clock=clock,
        )
        feature = Feedback(fakes.ctx)
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


def private_values(person: Person) -> set[str]:
    return {person.subject, person.name}


def assert_anonymous(fields: Mapping[str, str], *people: Person) -> None:
    assert "citizen" not in fields and "citizen_subject" not in fields and "name" not in fields
    for person in people:
        for value in fields.values():
            for private in private_values(person):
                assert private not in value, (private, fields)


# -- offering ----------------------------------------------------------------------


@pytest.mark.parametrize("outcome", ["resolved", "referred", "no_show"])
async def test_a_survey_is_offered_whatever_the_outcome(rig: Rig, outcome: str) -> None:
    await rig.join(SARA, ADA, BYSTANDER)
    await rig.close(ADA, "A-001", outcome)
    assert rig.survey_of(ADA) == {
        "t": "survey",
        "survey": "c-A-001",
        "kind": "case",
        "service": "general",
        "desk": "desk-2",
        "outcome": outcome,
        "staff_name": "Sara Lind",
    }
    assert rig.notify.recipients("survey") == {ADA.id}
    [offered] = await rig.entries()
    assert offered == {
        "type": "offered",
        "survey": "c-A-001",
        "kind": "case",
        "ticket": "A-001",
        "service": "general",
        "desk": "desk-2",
        "staff": "sara.lind",
        "outcome": outcome,
        "ts": repr(EPOCH),
    }
    assert_anonymous(offered, ADA)


async def test_a_citizen_who_left_the_queue_is_asked_too(rig: Rig) -> None:
    """Left while waiting: nobody called them, so there is no desk and no staff member."""
    await rig.join(ADA)
    await rig.close(ADA, "A-004", "left", worker=None)
    assert rig.survey_of(ADA) == {
        "t": "survey",
        "survey": "c-A-004",
        "kind": "case",
        "service": "general",
        "outcome": "left",
    }
    [offered] = await rig.entries()
    assert offered == {
        "type": "offered",
        "survey": "c-A-004",
        "kind": "case",
        "ticket": "A-004",
        "service": "general",
        "outcome": "left",
        "ts": repr(EPOCH),
    }


async def test_staff_name_is_left_out_when_they_are_not_here(rig: Rig) -> None:
    await rig.join(ADA)
    await rig.close(ADA)
    assert "staff_name" not in rig.survey_of(ADA)
    assert (await rig.entries("offered"))[0]["staff"] == "sara.lind"


async def test_one_offer_per_ticket(rig: Rig) -> None:
    await rig.join(ADA)
    await rig.close(ADA)
    await rig.close(ADA)  # announced twice (e.g. a replayed event)
    assert len(rig.notify.messages(ADA.id, "survey")) == 1
    assert len(await rig.entries("offered")) == 1
    await rig.answer(ADA, "c-A-001")
    await rig.close(ADA)  # and again after the answer
    assert len(rig.notify.messages(ADA.id, "survey")) == 1
    assert len(await rig.entries("offered")) == 1


async def test_an_absent_citizen_gets_the_survey_when_they_come_back(rig: Rig) -> None:
    await rig.close(ADA)  # Ada is not connected
    assert rig.notify.messages(ADA.id) == []
    assert len(await rig.entries("offered")) == 1

    rig.clock.advance(OPEN_S - 1)
    ada_again = citizen(7, "Ada", subject=ADA.subject)  # a new avatar, the same citizen key
    await rig.join(BYSTANDER, SARA, ada_again)
    assert rig.survey_of(ada_again)["survey"] == "c-A-001"
    assert rig.notify.recipients("survey") == {ada_again.id}
    await rig.answer(ada_again, "c-A-001", rating=5)
    assert rig.notify.last(ada_again.id, "survey_done") == {
        "t": "survey_done",
        "survey": "c-A-001",
        "answered": True,
    }


async def test_an_open_survey_is_offered_again_on_resume(rig: Rig) -> None:
    await rig.join(ADA)
    await rig.close(ADA)
    await rig.drop(ADA)
    rig.people.add(ADA)
    await rig.feature.entered(ADA, resumed=True)
    assert len(rig.notify.messages(ADA.id, "survey")) == 2
    await rig.answer(ADA, "c-A-001")
    await rig.drop(ADA)
    rig.people.add(ADA)
    await rig.feature.entered(ADA, resumed=True)
    assert len(rig.notify.messages(ADA.id, "survey")) == 2  # answered: not again


async def test_a_survey_is_not_offered_after_it_closes(rig: Rig) -> None:
    await rig.close(ADA)
    rig.clock.advance(OPEN_S + 1)
    await rig.join(ADA)
    assert rig.notify.messages(ADA.id, "survey") == []
    await rig.refused(
        ADA, {"t": "survey_answer", "survey": "c-A-001", "rating": 3}, FeedbackError.NO_SURVEY
    )
    assert await rig.entries("answered") == []


async def test_an_expired_survey_cannot_be_answered_by_a_citizen_who_stayed(rig: Rig) -> None:
    await rig.join(ADA)
    await rig.close(ADA)
    rig.clock.advance(OPEN_S + 1)
    with pytest.raises(ProtocolError):  # the code: see the next test
        await rig.answer(ADA, "c-A-001")
    assert await rig.entries("answered") == []


async def test_an_expired_survey_is_no_survey(rig: Rig) -> None:
    await rig.join(ADA)
    await rig.close(ADA)
    rig.clock.advance(OPEN_S + 1)
    await rig.refused(
        ADA, {"t": "survey_answer", "survey": "c-A-001", "rating": 3}, FeedbackError.NO_SURVEY
    )


async def test_staff_are_not_offered_citizens_surveys(rig: Rig) -> None:
    await rig.close(ADA)
    sara_as_ada = Person(100, ADA.subject, "Sara Lind", "staff")  # never happens; still no survey
    await rig.join(sara_as_ada)
    assert rig.notify.messages(sara_as_ada.id) == []


# -- answering ---------------------------------------------------------------------


async def test_the_answer_is_stored_without_the_citizen(rig: Rig) -> None:
    await rig.join(SARA, ADA)
    await rig.close(ADA)
    rig.clock.advance(30.0)
    await rig.answer(ADA, "c-A-001", rating=4, easy=5, comment="  Quick and kind, Ada  ")
    assert rig.notify.last(ADA.id, "survey_done") == {
        "t": "survey_done",
        "survey": "c-A-001",
        "answered": True,
    }
    [answered] = await rig.entries("answered")
    assert answered == {
        "type": "answered",
        "survey": "c-A-001",
        "kind": "case",
        "ticket": "A-001",
        "service": "general",
        "desk": "desk-2",
        "staff": "sara.lind",
        "outcome": "resolved",
        "rating": "4",
        "easy": "5",
        "comment": "Quick and kind, Ada",
        "ts": repr(EPOCH + 30.0),
    }
    assert set(answered) <= ANSWERED_FIELDS
    assert "citizen" not in answered and ADA.subject not in answered.values()
    for fields in await rig.entries():
        assert_anonymous({k: v for k, v in fields.items() if k != "comment"}, ADA)
    assert rig.notify.messages(SARA.id) == []  # not shared


async def test_optional_answer_fields_are_left_out(rig: Rig) -> None:
    await rig.join(ADA)
    await rig.close(ADA)
    await rig.answer(ADA, "c-A-001", rating=1, comment="   ")
    [answered] = await rig.entries("answered")
    assert answered["rating"] == "1"
    assert "easy" not in answered and "comment" not in answered and "shared" not in answered


async def test_one_answer_per_survey(rig: Rig) -> None:
    await rig.join(ADA)
    await rig.close(ADA)
    await rig.answer(ADA, "c-A-001", rating=2)
    await rig.refused(
        ADA,
        {"t": "survey_answer", "survey": "c-A-001", "rating": 5},
        FeedbackError.ALREADY_ANSWERED,
    )
    await rig.refused(
        ADA, {"t": "survey_dismiss", "survey": "c-A-001"}, FeedbackError.ALREADY_ANSWERED
    )
    assert [f["type"] for f in await rig.entries()] == ["offered", "answered"]
    assert (await rig.entries("answered"))[0]["rating"] == "2"
    assert len(rig.notify.messages(ADA.id, "survey_done")) == 1


async def test_one_answer_from_two_tabs(rig: Rig) -> None:
    """Two connections of the same citizen answer the same survey: one answer is kept."""
    ada_tab = citizen(11, "Ada", subject=ADA.subject)
    await rig.join(ADA, ada_tab)
    await rig.close(ADA)
    await rig.answer(ada_tab, "c-A-001", rating=3)
    await rig.refused(
        ADA,
        {"t": "survey_answer", "survey": "c-A-001", "rating": 5},
        FeedbackError.ALREADY_ANSWERED,
    )
    assert [f["rating"] for f in await rig.entries("answered")] == ["3"]


async def test_another_citizen_cannot_answer(rig: Rig) -> None:
    await rig.join(ADA, BO)
    await rig.close(ADA)
    await rig.refused(
        BO, {"t": "survey_answer", "survey": "c-A-001", "rating": 1}, FeedbackError.NO_SURVEY
    )
    await rig.refused(BO, {"t": "survey_dismiss", "survey": "c-A-001"}, FeedbackError.NO_SURVEY)
    await rig.refused(
        ADA, {"t": "survey_answer", "survey": "c-A-999", "rating": 1}, FeedbackError.NO_SURVEY
    )
    assert await rig.entries("answered") == []
    await rig.answer(ADA, "c-A-001", rating=5)  # still Ada's to answer
    with pytest.raises(ProtocolError):  # see test_a_stranger_learns_nothing_of_an_answered_survey
        await rig.answer(BO, "c-A-001", rating=1)
    assert [f["rating"] for f in await rig.entries("answered")] == ["5"]
    assert rig.notify.messages(BO.id) == []


async def test_a_stranger_learns_nothing_of_an_answered_survey(rig: Rig) -> None:
    await rig.join(ADA, BO)
    await rig.close(ADA)
    await rig.answer(ADA, "c-A-001", rating=5)
    await rig.refused(
        BO, {"t": "survey_answer", "survey": "c-A-001", "rating": 1}, FeedbackError.NO_SURVEY
    )


async def test_dismiss(rig: Rig) -> None:
    await rig.join(ADA)
    await rig.close(ADA)
    rig.clock.advance(5.0)
    await rig.send(ADA, {"t": "survey_dismiss", "survey": "c-A-001"})
    assert rig.notify.last(ADA.id, "survey_done") == {
        "t": "survey_done",
        "survey": "c-A-001",
        "answered": False,
    }
    assert await rig.entries("dismissed") == [
        {
            "type": "dismissed",
            "survey": "c-A-001",
            "kind": "case",
            "ticket": "A-001",
            "service": "general",
            "ts": repr(EPOCH + 5.0),
        }
    ]
    await rig.refused(
        ADA,
        {"t": "survey_answer", "survey": "c-A-001", "rating": 4},
        FeedbackError.ALREADY_ANSWERED,
    )
    await rig.drop(ADA)
    await rig.join(ADA)
    assert len(rig.notify.messages(ADA.id, "survey")) == 1  # not offered again
    assert rig.answered == []


async def test_a_comment_is_redacted_before_it_is_stored(rig: Rig) -> None:
    await rig.join(SARA, ADA)
    await rig.close(ADA)
    comment = "My number 19800101-1231, my son's 800101-1231 and 198001011231: fine."
    await rig.answer(ADA, "c-A-001", rating=3, comment=comment, share=True)
    [answered] = await rig.entries("answered")
    stored = answered["comment"]
    assert "1234" not in stored and "800101" not in stored
    assert stored.count(PLACEHOLDER) == 3
    assert stored.startswith("My number ") and stored.endswith(": fine.")
    assert rig.notify.last(SARA.id, "feedback_shared")["comment"] == stored


async def test_answered_is_announced_on_the_bus(rig: Rig) -> None:
    await rig.join(SARA, ADA)
    await rig.close(ADA)
    await rig.answer(ADA, "c-A-001", rating=5, easy=4, comment="thanks", share=True)
    await settle()
    assert rig.answered == [
        {
            "survey": "c-A-001",
            "kind": "case",
            "ticket": "A-001",
            "service": "general",
            "desk": "desk-2",
            "staff": "sara.lind",
            "outcome": "resolved",
            "rating": "5",
            "easy": "4",
            "ts": repr(EPOCH),
        }
    ]


# -- sharing with staff --------------------------------------------------------------


async def test_a_shared_comment_reaches_the_staff_member_who_served(rig: Rig) -> None:
    jonas = staff(101, "jonas.weber", "Jonas Weber")
    await rig.join(SARA, jonas, ADA, BYSTANDER)
    await rig.close(ADA)
    await rig.answer(ADA, "c-A-001", rating=4, comment="Sara was patient", share=True)
    assert rig.notify.recipients("feedback_shared") == {SARA.id}
    shared = rig.notify.last(SARA.id, "feedback_shared")
    assert shared == {
        "t": "feedback_shared",
        "service": "general",
        "rating": 4,
        "comment": "Sara was patient",
    }
    assert "Ada" not in repr(shared) and ADA.subject not in repr(shared)
    assert rig.notify.types(SARA.id) == ["feedback_shared"]
    assert rig.notify.messages(BYSTANDER.id) == [] and rig.notify.messages(jonas.id) == []
    assert (await rig.entries("answered"))[0]["shared"] == "1"


async def test_a_shared_comment_never_carries_the_citizens_name(rig: Rig) -> None:
    await rig.join(SARA, ADA)
    await rig.close(ADA)
    await rig.answer(ADA, "c-A-001", rating=2, comment="I waited long", share=True)
    for _entity, msg in rig.notify.sent:
        if msg["t"] == "feedback_shared":
            assert set(msg) == {"t", "service", "rating", "comment"}
            assert "Ada" not in repr(msg)


async def test_not_shared_unless_asked_and_there_is_a_comment(rig: Rig) -> None:
    await rig.join(SARA, ADA, BO)
    await rig.close(ADA, "A-001")
    await rig.close(BO, "A-002")
    await rig.answer(ADA, "c-A-001", rating=4, comment="nice")  # share not ticked
    await rig.answer(BO, "c-A-002", rating=4, share=True)  # nothing to share
    assert rig.notify.messages(SARA.id) == []
    assert all("shared" not in f for f in await rig.entries("answered"))


async def test_a_shared_comment_is_not_sent_to_staff_who_are_not_here(rig: Rig) -> None:
    await rig.join(SARA, ADA)
    await rig.close(ADA)
    await rig.drop(SARA)
    await rig.answer(ADA, "c-A-001", rating=4, comment="good", share=True)
    assert rig.notify.recipients("feedback_shared") == set()
    assert rig.notify.dropped == []  # not even addressed to an absent avatar


async def test_a_shared_comment_reaches_staff_on_their_new_connection(rig: Rig) -> None:
    await rig.join(SARA, ADA)
    await rig.close(ADA)
    await rig.drop(SARA)
    sara_again = staff(150, "sara.lind", "Sara Lind")
    await rig.join(sara_again)
    await rig.answer(ADA, "c-A-001", rating=4, comment="good", share=True)
    assert rig.notify.recipients("feedback_shared") == {sara_again.id}


async def test_nothing_to_share_when_nobody_served(rig: Rig) -> None:
    await rig.join(SARA, ADA)
    await rig.close(ADA, "A-003", "left", worker=None)
    await rig.answer(ADA, "c-A-003", rating=1, comment="too slow", share=True)
    assert rig.notify.recipients("feedback_shared") == set()
    assert "shared" not in (await rig.entries("answered"))[0]


# -- the kiosk -----------------------------------------------------------------------


KIOSK_REQUEST = {"t": "survey_request", "kind": "kiosk", "kiosk": KIOSK}


async def test_kiosk_refusals(rig: Rig) -> None:
    await rig.join(ADA, at=(0.0, 0.0))
    await rig.refused(ADA, KIOSK_REQUEST, FeedbackError.TOO_FAR)
    await rig.refused(ADA, {**KIOSK_REQUEST, "kiosk": "kiosk-moon"}, FeedbackError.UNKNOWN_KIOSK)
    rig.people.move(ADA.id, 0.0, 15.5)  # 4.5 m away
    await rig.refused(ADA, KIOSK_REQUEST, FeedbackError.TOO_FAR)
    assert await rig.entries() == []
    assert rig.notify.messages(ADA.id) == []


async def test_kiosk_survey(rig: Rig) -> None:
    await rig.join(ADA, BYSTANDER, at=AT_KIOSK)
    await rig.send(ADA, KIOSK_REQUEST)
    survey = rig.survey_of(ADA)
    assert set(survey) == {"t", "survey", "kind"} and survey["kind"] == "kiosk"
    assert survey["survey"].startswith("k-")
    assert rig.notify.recipients("survey") == {ADA.id}
    [offered] = await rig.entries()
    assert offered == {
        "type": "offered",
        "survey": survey["survey"],
        "kind": "kiosk",
        "zone": "hall",
        "ts": repr(EPOCH),
    }

    await rig.send(ADA, KIOSK_REQUEST)  # asked again while open: the same survey
    assert rig.survey_of(ADA)["survey"] == survey["survey"]
    assert len(await rig.entries("offered")) == 1

    await rig.answer(ADA, survey["survey"], rating=5, comment="nice hall", share=True)
    [answered] = await rig.entries("answered")
    assert answered == {
        "type": "answered",
        "survey": survey["survey"],
        "kind": "kiosk",
        "zone": "hall",
        "rating": "5",
        "comment": "nice hall",
        "ts": repr(EPOCH),
    }
    assert rig.notify.recipients("feedback_shared") == set()
    with pytest.raises(ProtocolError):  # see test_a_stranger_learns_nothing_of_an_answered_survey
        await rig.answer(BYSTANDER, survey["survey"], rating=1)
    assert len(await rig.entries("answered")) == 1


async def test_one_kiosk_answer_per_citizen_in_a_while(rig: Rig) -> None:
    await rig.join(ADA, BO, at=AT_KIOSK)
    await rig.send(ADA, KIOSK_REQUEST)
    first = rig.survey_of(ADA)["survey"]
    await rig.answer(ADA, first)
    rig.clock.advance(KIOSK_EVERY_S - 1)
    await rig.refused(ADA, KIOSK_REQUEST, FeedbackError.ALREADY_ANSWERED)
    ada_again = citizen(12, "Ada", subject=ADA.subject)  # another avatar, the same citizen
    await rig.join(ada_again, at=AT_KIOSK)
    await rig.refused(ada_again, KIOSK_REQUEST, FeedbackError.ALREADY_ANSWERED)
    await rig.send(BO, KIOSK_REQUEST)  # someone else may
    assert rig.survey_of(BO)["survey"] != first

    rig.clock.advance(2)
    await rig.send(ADA, KIOSK_REQUEST)
    second = rig.survey_of(ADA)["survey"]
    assert second != first
    await rig.answer(ADA, second)
    assert len(await rig.entries("answered")) == 2


async def test_a_dismissed_kiosk_survey_may_be_asked_for_again(rig: Rig) -> None:
    await rig.join(ADA, at=AT_KIOSK)
    await rig.send(ADA, KIOSK_REQUEST)
    first = rig.survey_of(ADA)["survey"]
    await rig.send(ADA, {"t": "survey_dismiss", "survey": first})
    await rig.send(ADA, KIOSK_REQUEST)
    assert rig.survey_of(ADA)["survey"] != first


# -- restarts ------------------------------------------------------------------------


async def test_a_restart_keeps_open_surveys_and_answers(make_rig: MakeRig) -> None:
    clock = ManualClock()
    store = MemoryStore(clock=clock.monotonic)
    first = await make_rig(store=store, clock=clock)
    await first.join(SARA, ADA, BO)
    await first.close(ADA, "A-001")
    await first.close(BO, "A-002", "no_show")
    await first.close(citizen(3, "Cy"), "A-003", "left", worker=None)
    await first.answer(ADA, "c-A-001", rating=4)
    await first.send(citizen(3, "Cy"), {"t": "survey_dismiss", "survey": "c-A-003"})
    await first.stop()

    clock.advance(60.0)
    rig = await make_rig(store=store, clock=clock)  # over the same keyspace
    assert set(rig.feature.open) == {"c-A-002"}
    await rig.join(SARA, ADA, BO)
    assert rig.notify.messages(ADA.id, "survey") == []
    assert rig.survey_of(BO) == {
        "t": "survey",
        "survey": "c-A-002",
        "kind": "case",
        "service": "general",
        "desk": "desk-2",
        "outcome": "no_show",
        "staff_name": "Sara Lind",
    }
    await rig.refused(
        ADA,
        {"t": "survey_answer", "survey": "c-A-001", "rating": 1},
        FeedbackError.ALREADY_ANSWERED,
    )
    await rig.close(ADA, "A-001")  # a late announcement of an answered case: no offer
    assert rig.notify.messages(ADA.id, "survey") == []

    await rig.answer(BO, "c-A-002", rating=2, comment="I missed the call", share=True)
    assert rig.notify.last(SARA.id, "feedback_shared")["comment"] == "I missed the call"
    assert [(f["type"], f["survey"]) for f in await rig.entries()] == [
        ("offered", "c-A-001"),
        ("offered", "c-A-002"),
        ("offered", "c-A-003"),
        ("answered", "c-A-001"),
        ("dismissed", "c-A-003"),
        ("answered", "c-A-002"),
    ]


async def test_a_restart_does_not_revive_an_expired_survey(make_rig: MakeRig) -> None:
    clock = ManualClock()
    store = MemoryStore(clock=clock.monotonic)
    first = await make_rig(store=store, clock=clock)
    await first.close(ADA)
    await first.stop()
    clock.advance(OPEN_S + 1)
    rig = await make_rig(store=store, clock=clock)
    assert rig.feature.open == {}
    await rig.join(ADA)
    assert rig.notify.messages(ADA.id) == []


async def test_a_restart_keeps_the_kiosk_pause(make_rig: MakeRig) -> None:
    clock = ManualClock()
    store = MemoryStore(clock=clock.monotonic)
    first = await make_rig(store=store, clock=clock)
    await first.join(ADA, at=AT_KIOSK)
    await first.send(ADA, KIOSK_REQUEST)
    await first.answer(ADA, first.survey_of(ADA)["survey"])
    await first.stop()
    rig = await make_rig(store=store, clock=clock)
    await rig.join(ADA, at=AT_KIOSK)
    await rig.refused(ADA, KIOSK_REQUEST, FeedbackError.ALREADY_ANSWERED)


async def test_kiosk_gives_a_fresh_survey_when_the_open_one_expired(rig: Rig) -> None:
    await rig.join(ADA, at=AT_KIOSK)
    await rig.send(ADA, KIOSK_REQUEST)
    first = rig.survey_of(ADA)["survey"]
    rig.clock.advance(OPEN_S + 1)
    await rig.send(ADA, KIOSK_REQUEST)
    second = rig.survey_of(ADA)["survey"]
    assert second != first
    await rig.answer(ADA, second)


# -- surveys other features ask for (feedback.offer) ----------------------------------


async def test_another_feature_asks_for_an_after_event_survey(rig: Rig) -> None:
    await rig.join(ADA, BO)
    offer = {
        "kind": "event",
        "ref": "ev-launch",
        "title": "Launch of the new e-service",
        "citizen": ADA.id,
        "citizen_subject": ADA.subject,
    }
    rig.ctx.bus.publish("feedback.offer", offer)
    rig.ctx.bus.publish("feedback.offer", offer)  # asked twice: offered once
    await settle()
    survey = rig.survey_of(ADA)
    assert survey["kind"] == "event"
    assert survey["ref"] == "ev-launch"
    assert survey["title"] == "Launch of the new e-service"
    assert len(rig.notify.messages(ADA.id, "survey")) == 1
    assert rig.notify.messages(BO.id) == []
    await rig.refused(
        BO, {"t": "survey_answer", "survey": survey["survey"], "rating": 5}, "no_survey"
    )
    await rig.answer(ADA, survey["survey"], rating=5)
    [answered] = await rig.entries("answered")
    assert answered["kind"] == "event" and answered["ref"] == "ev-launch"
    assert_anonymous(answered, ADA)


async def test_an_offer_without_a_citizen_or_of_an_unknown_kind_is_ignored(rig: Rig) -> None:
    await rig.join(ADA)
    rig.ctx.bus.publish("feedback.offer", {"kind": "event", "ref": "ev-1"})
    rig.ctx.bus.publish("feedback.offer", {"kind": "lottery", "ref": "x", "citizen": ADA.id})
    await settle()
    assert rig.notify.messages(ADA.id) == []
    assert await rig.entries() == []
