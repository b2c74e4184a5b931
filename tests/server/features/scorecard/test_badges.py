"""Badges on the avatar: shown only when the staff member chooses, to everyone present."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from protocol.catalogue import CLIENT_MESSAGES
from protocol.codec import validate
from server.features.scorecard.feature import Scorecards
from server.features.scorecard.settings import ScorecardSettings
from server.plug import Person
from tests.server.features.fakes import EPOCH, Fakes, FakeSender, citizen, make_fakes, settle, staff

SARA = staff(100, "id:sara.lind", "Sara Lind")
ADA, BO = citizen(1, "Ada"), citizen(2, "Bo")


@pytest.fixture
async def rig() -> AsyncIterator[tuple[Fakes, Scorecards]]:
    fakes = make_fakes("scorecard", ScorecardSettings(refresh_s=60.0))
    feature = Scorecards(fakes.ctx)
    await feature.start()
    yield fakes, feature
    await feature.stop()
    await fakes.tasks.close()
    assert fakes.notify.invalid == []


async def send(fakes: Fakes, feature: Scorecards, who: Person, msg: dict[str, object]) -> None:
    checked = validate(dict(msg), CLIENT_MESSAGES)
    await feature.handlers()[checked["t"]](FakeSender(who, fakes.notify), checked)


def served(feature: Scorecards, ticket: str, lang: str, at: float) -> None:
    """Sara serves one case in ``lang`` (300 s, inside the band), straight into the scorecard."""
    n = int(ticket.split("-")[1])
    events = [
        {"type": "arrived", "ticket": ticket, "service": "general", "lang": lang, "citizen": "1"},
        {"type": "called", "ticket": ticket, "staff": SARA.subject, "desk": "desk-2"},
        {"type": "started", "ticket": ticket},
        {"type": "ended", "ticket": ticket, "outcome": "resolved"},
    ]
    for i, fields in enumerate(events):
        ts = at + (0, 10, 20, 320)[i]
        feature.scorecard.apply_queue(f"{int(at * 1000) + n}-{i}", {**fields, "ts": repr(ts)})


async def test_badges_show_only_when_chosen_and_reach_everyone(
    rig: tuple[Fakes, Scorecards],
) -> None:
    fakes, feature = rig
    for person in (SARA, ADA):
        fakes.people.add(person)
        await feature.entered(person, resumed=False)
    for i, lang in enumerate(("sv", "en", "da"), start=1):
        served(feature, f"A-00{i}", lang, EPOCH - 3600 + i * 600)
    assert [b["id"] for b in feature.scorecard.badges(SARA.subject)] == ["three-languages"]
    assert fakes.notify.messages(ADA.id, "staff_badges") == []  # not shown by default

    await send(fakes, feature, SARA, {"t": "scorecard_settings", "show_badges": True})
    shown = fakes.notify.last(ADA.id, "staff_badges")
    assert shown["id"] == SARA.id
    assert [b["id"] for b in shown["badges"]] == ["three-languages"]
    assert shown["badges"][0]["names"]["sv"] == "Betjänat på tre språk"
    assert "sara.lind" not in repr(shown)

    fakes.people.add(BO)  # a newcomer learns what is shown
    await feature.entered(BO, resumed=False)
    assert fakes.notify.last(BO.id, "staff_badges")["id"] == SARA.id

    await send(fakes, feature, SARA, {"t": "scorecard_settings", "show_badges": False})
    assert fakes.notify.last(ADA.id, "staff_badges") == {
        "t": "staff_badges",
        "id": SARA.id,
        "badges": [],
    }
    await settle()


async def test_leaving_the_scorecard_hides_the_badges(rig: tuple[Fakes, Scorecards]) -> None:
    fakes, feature = rig
    for person in (SARA, ADA):
        fakes.people.add(person)
        await feature.entered(person, resumed=False)
    await send(fakes, feature, SARA, {"t": "scorecard_settings", "show_badges": True})
    await send(fakes, feature, SARA, {"t": "scorecard_settings", "participate": False})
    assert fakes.notify.last(ADA.id, "staff_badges")["badges"] == []
