"""Data rights of feedback: export a citizen's survey answers, then erase them."""

from __future__ import annotations

from protocol.catalogue import CLIENT_MESSAGES
from protocol.codec import validate
from server.features.feedback.feature import Feedback
from server.features.feedback.settings import FeedbackSettings
from server.store.memory import MemoryStore
from tests.server.features.fakes import (
    EPOCH,
    FakeSender,
    ManualClock,
    citizen,
    make_fakes,
    settle,
    staff,
    store_text,
)

ADA = citizen(1, "Ada Secretname", "subject-ada-123")
SARA = staff(100, "sara.lind", "Sara Lind")
COMMENT = "Sara was lovely about my divorce"


async def test_export_then_erase_leaves_no_trace() -> None:
    clock = ManualClock()
    store = MemoryStore(clock=clock.monotonic)
    fakes = make_fakes(
        "feedback",
        FeedbackSettings(survey_open_s=3600.0, kiosk_radius_m=4.0, kiosk_every_s=600.0),
        store=store,
        clock=clock,
    )
    feature = Feedback(fakes.ctx)
    await feature.start()
    for p in (ADA, SARA):
        fakes.people.add(p)
    fakes.ctx.bus.publish(
        "desks.case_closed",
        {
            "ticket": "A-001",
            "service": "general",
            "lang": "sv",
            "desk": "desk-1",
            "staff": SARA.subject,
            "citizen": ADA.id,
            "citizen_subject": ADA.subject,
            "status": "done",
            "outcome": "resolved",
            "arrived": EPOCH - 300.0,
            "called_at": EPOCH - 200.0,
            "started_at": EPOCH - 100.0,
            "ended_at": EPOCH,
        },
    )
    await settle()
    assert "c-A-001" in feature.open
    msg = validate(
        {"t": "survey_answer", "survey": "c-A-001", "rating": 4, "comment": COMMENT, "share": True},
        CLIENT_MESSAGES,
    )
    await feature.handlers()["survey_answer"](FakeSender(ADA, fakes.notify), msg)

    exported = await feature.export_data(ADA.subject)
    [item] = exported["survey_answers"]
    assert item["survey"] == "c-A-001" and item["answer"]["comment"] == COMMENT
    assert item["answer"]["rating"] == "4"
    assert SARA.subject not in repr(exported)

    erased = await feature.erase_data(ADA.subject)
    assert erased.removed >= 1 and erased.anonymised == 1
    await feature.erase_data(SARA.subject)
    await store.compact()
    text = store_text(store) + repr(feature.open)
    for secret in (ADA.subject, ADA.name, COMMENT, SARA.subject, SARA.name):
        assert secret not in text, secret
    # The statistics keep the rating.
    answers = [f for _id, f in await fakes.ctx.store.read("answers") if f["type"] == "answered"]
    assert [a["rating"] for a in answers] == ["4"]
    assert (await feature.export_data(ADA.subject)) == {"survey_answers": []}


async def test_a_ticket_given_up_by_erasure_offers_no_survey() -> None:
    """Erasing a citizen gives up their open ticket (`desks.case_closed`, erasing): the
    person whose data is being erased is not asked for feedback on it."""
    fakes = make_fakes(
        "feedback",
        FeedbackSettings(survey_open_s=3600.0, kiosk_radius_m=4.0, kiosk_every_s=600.0),
    )
    feature = Feedback(fakes.ctx)
    await feature.start()
    fakes.people.add(ADA)
    closed = {
        "service": "general",
        "lang": "sv",
        "desk": "",
        "staff": "",
        "citizen": ADA.id,
        "citizen_subject": ADA.subject,
        "status": "left",
        "outcome": "left",
        "arrived": EPOCH - 60.0,
        "ended_at": EPOCH,
    }
    fakes.ctx.bus.publish("desks.case_closed", {**closed, "ticket": "A-002", "erasing": True})
    fakes.ctx.bus.publish("desks.case_closed", {**closed, "ticket": "A-003", "erasing": False})
    await settle()
    assert "c-A-002" not in feature.open and "c-A-003" in feature.open
    offered = fakes.notify.messages(ADA.id, "survey")
    assert [m["survey"] for m in offered] == ["c-A-003"]
