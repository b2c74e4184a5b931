"""The scorecard on a live server: real sockets, the embedded Redis, real desk cases and
surveys, the managers' routes, live rule reloads, works-agreement mode and a restart.

Every timestamp comes from the injected `ManualClock` (Tuesday 2026-12-01, 09:00 in
Europe/Stockholm, season 0 of the default rules), so handle times are exact: the default
band is 240-900 s. Scoring is read after `Scorecards.refreshed`, never after a sleep.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from agents.client import AgentClient
from server.app import ServicePoint
from server.config import Config
from server.features.scorecard.feature import Scorecards
from server.features.scorecard.settings import SHIPPED_RULES
from server.plug import StartupError
from tests.server.features.fakes import ManualClock
from tests.server.harness import SECRET, mint, running_server, staff_agent, ws_url

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC).timestamp()
"""Tuesday 2026-12-01 08:00 UTC = 09:00 in Europe/Stockholm (CET, UTC+1)."""
DAY = "2026-12-01"
DEFAULT_TEXT = SHIPPED_RULES.read_text(encoding="utf-8")
SARA, JONAS = "sara.lind", "jonas.weber"
SCORECARD_TYPES = frozenset({"scorecard", "case_feedback", "leaderboard"})


def scorecards(sp: ServicePoint) -> Scorecards:
    feature = sp.feature("scorecard")
    assert isinstance(feature, Scorecards)
    return feature


async def settle(sp: ServicePoint) -> None:
    """Two full refreshes: the second one started after everything sent so far was logged."""
    card = scorecards(sp)
    await card.refreshed()
    await card.refreshed()


def features(**scorecard: Any) -> dict[str, dict[str, Any]]:
    return {"scorecard": {"refresh_s": 0.02, **scorecard}}


_WRITES = itertools.count(1)


def write_rules(path: Path, text: str) -> None:
    """Write a rules file with an mtime the feature has surely not seen yet (a later second
    each time: a coarse file system clock could otherwise hide a quick rewrite)."""
    path.write_text(text, encoding="utf-8")
    stamp = path.stat().st_mtime_ns + 1_000_000_000 * next(_WRITES)
    os.utime(path, ns=(stamp, stamp))


def replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def line_of(text: str, needle: str) -> int:
    """The 1-based line of the only line containing ``needle``."""
    [n] = [i for i, line in enumerate(text.splitlines(), 1) if needle in line]
    return n


@asynccontextmanager
async def http(
    sp: ServicePoint, role: str = "manager", name: str = "Mia Manager"
) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": "Bearer " + mint(role, name)}
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{sp.port}", headers=headers, timeout=10
    ) as client:
        yield client


async def get_json(
    sp: ServicePoint,
    route: str,
    status: int = 200,
    role: str = "manager",
    params: dict[str, str] | None = None,
    **query: str,
) -> dict[str, Any]:
    params = {**(params or {}), **query}
    async with http(sp, role) as client:
        reply = await client.get(f"/api/scorecard/{route}", params=params)
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = reply.json()
    return body


async def audit(sp: ServicePoint) -> list[dict[str, str]]:
    return [fields for _id, fields in await sp.store.keyspace("scorecard").read("audit")]


# -- driving the desks (the insight server test's patterns) --------------------------------


async def connect_staff(sp: ServicePoint, name: str, subject: str, desk: str) -> AgentClient:
    agent = staff_agent(sp, name, subject=subject)
    await agent.connect()
    await agent.send({"t": "duty", "status": "available", "desk": desk})
    await agent.expect("duty")
    return agent


async def connect(sp: ServicePoint, *names: str) -> list[AgentClient]:
    agents = [AgentClient(ws_url(sp), name=n) for n in names]
    for agent in agents:
        await agent.connect()
    return agents


async def serve(
    clock: ManualClock,
    staff: AgentClient,
    citizen: AgentClient,
    handle_s: float,
    rating: int | None,
    service: str = "general",
    outcome: str = "resolved",
) -> str:
    """The citizen takes a ticket, ``staff`` calls it, serves it ``handle_s`` (clock time)
    and closes it; the citizen then rates it (or dismisses the survey). The ticket."""
    await citizen.send({"t": "take_ticket", "service": service, "lang": "en"})
    ticket = str((await citizen.expect("ticket", status="waiting"))["ticket"])
    clock.advance(30)
    await staff.send({"t": "call_next"})
    await staff.expect("case", ticket=ticket, status="called")
    await citizen.expect("called", ticket=ticket)
    await citizen.send({"t": "respond"})
    await citizen.expect("call", active=True)
    await staff.expect("call", active=True)
    await staff.expect("case", ticket=ticket, status="serving")
    clock.advance(handle_s)
    await staff.send({"t": "close_case", "outcome": outcome})
    await staff.expect("case", ticket=ticket, status="done")
    await citizen.expect("ticket", ticket=ticket, status="done")
    await staff.expect("call", active=False)
    await citizen.expect("call", active=False)
    survey = await citizen.expect("survey", survey="c-" + ticket)
    if rating is None:
        await citizen.send({"t": "survey_dismiss", "survey": survey["survey"]})
        await citizen.expect("survey_done", survey=survey["survey"], answered=False)
    else:
        await citizen.send({"t": "survey_answer", "survey": survey["survey"], "rating": rating})
        await citizen.expect("survey_done", survey=survey["survey"], answered=True)
    clock.advance(30)
    return ticket


# -- reading what the scorecard sent ------------------------------------------------------


def has_reason(msg: dict[str, Any], reason: str) -> bool:
    return any(line["reason"] == reason for line in msg["lines"])


async def case_feedback(agent: AgentClient, ticket: str, reason: str = "rated") -> dict[str, Any]:
    """The first ``case_feedback`` for ``ticket`` with a ``reason`` line (not consumed)."""
    found: list[dict[str, Any]] = []

    def check() -> bool:
        for m in agent.messages:
            if m["t"] == "case_feedback" and m["ticket"] == ticket and has_reason(m, reason):
                found.append(m)
                return True
        return False

    await agent.wait_for(check)
    return found[0]


def last_scorecard(agent: AgentClient) -> dict[str, Any]:
    [*_, last] = agent.taken("scorecard")
    progress: dict[str, Any] = last["progress"]
    return progress


async def ask_progress(agent: AgentClient) -> dict[str, Any]:
    """Send ``scorecard_get`` and return the answer's progress."""
    await agent.sync()
    before = len(agent.taken("scorecard"))
    await agent.send({"t": "scorecard_get"})
    await agent.sync()
    assert len(agent.taken("scorecard")) > before, "no scorecard came back"
    return last_scorecard(agent)


async def refused(agent: AgentClient, msg: dict[str, Any], code: str) -> dict[str, Any]:
    """Send ``msg``; it must come back as an ``error`` with ``code`` and nothing else."""
    await agent.sync()
    errors_before = len(agent.stats.errors)
    # A refused message answers nothing but its error. (A ``scorecard`` may still come
    # from the background refresh at any moment, so only the answers are counted.)
    answers = ("case_feedback", "leaderboard")
    seen_before = {t: len(agent.taken(t)) for t in answers}
    await agent.send(msg)
    await agent.sync()
    assert len(agent.stats.errors) == errors_before + 1, agent.stats.errors
    error = agent.stats.errors[-1]
    assert error["code"] == code, error
    assert {t: len(agent.taken(t)) for t in answers} == seen_before
    return error


def line(metric: str, points: float, reason: str, **args: Any) -> dict[str, Any]:
    return {"metric": metric, "points": points, "reason": reason, "args": args}


BAND = {"low": 4.0, "high": 15.0}


# -- 1. case feedback, progress, who may ask ---------------------------------------------


async def test_a_rated_case_gives_informational_feedback_to_its_staff_member_only(
    tmp_path: Path,
) -> None:
    clock = ManualClock(T0)
    async with running_server(tmp_path, features=features(), clock=clock) as sp:
        sara = await connect_staff(sp, "Sara Lind", SARA, "desk-2")
        jonas = await connect_staff(sp, "Jonas Weber", JONAS, "desk-4")
        ada, bo = await connect(sp, "Ada", "Bo")
        # Entering, each staff member gets their own progress: nothing yet.
        for agent in (sara, jonas):
            start = (await agent.expect("scorecard"))["progress"]
            assert start["participating"] is True
            assert start["today"]["points"] == 0.0 and start["last_case"] is None
            assert "staff" not in start  # their own subject is not sent back

        # served 300 s (in the 240-900 s band), resolved, rated 5.
        a1 = await serve(clock, sara, ada, handle_s=300, rating=5)
        assert a1 == "A-001"
        await settle(sp)
        feedback = await case_feedback(sara, a1)
        assert feedback["lines"] == [
            line("satisfaction", 12.0, "rated", rating=5),
            line("first_contact", 5.0, "first_contact"),
            line("handle_band", 3.0, "band_in", minutes=5.0, **BAND),
        ]
        assert feedback["total"] == 20.0
        # ... then a scorecard with today's points (40 + 20 + 10 on the default rules).
        after = sara.messages[sara.messages.index(feedback) + 1 :]
        progress = next(m["progress"] for m in after if m["t"] == "scorecard")
        assert progress["today"]["points"] == 70.0 > 0
        assert progress["today"]["metrics"]["satisfaction"] == {"points": 40.0, "max": 40.0}
        assert progress["day"] == DAY
        assert progress["last_case"]["ticket"] == a1
        assert progress["season"]["workdays"] == 1

        # served 100 s (below the band), resolved, rated 4: case_feedback again.
        a2 = await serve(clock, sara, bo, handle_s=100, rating=4)
        await settle(sp)
        feedback2 = await case_feedback(sara, a2)
        assert feedback2["lines"] == [
            line("satisfaction", 8.0, "rated", rating=4),
            line("first_contact", 5.0, "first_contact"),
            line("handle_band", 0.0, "band_out", minutes=1.7, side="below", **BAND),
        ]
        assert feedback2["total"] == 13.0
        # satisfaction 40 × mean(12, 8) / 12, first contact 20, band 10 × mean(3, 0) / 3.
        progress = await ask_progress(sara)
        assert progress["today"]["points"] == pytest.approx(40 * 10 / 12 + 20 + 5, abs=0.01)
        assert progress["last_case"]["ticket"] == a2
        # One's own subject, bare or as the session's "id:" form, is allowed.
        for own in (SARA, "id:" + SARA):
            await sara.send({"t": "scorecard_get", "staff": own})
            await sara.sync()
        assert sara.stats.errors == []

        # A citizen may send none of the scorecard's messages.
        for refused_msg in ({"t": "scorecard_get"}, {"t": "leaderboard_get"}):
            error = await refused(ada, refused_msg, "forbidden")
            assert error["ref"] == refused_msg["t"]
        # Another staff member's figures are theirs alone.
        for other in (SARA, "id:" + SARA):
            await refused(jonas, {"t": "scorecard_get", "staff": other}, "private")

        for agent in (sara, jonas, ada, bo):
            await agent.sync()
        # Nothing of Sara's reached anyone else.
        for citizen in (ada, bo):
            assert [m for m in citizen.messages if m["t"] in SCORECARD_TYPES] == []
        assert jonas.taken("case_feedback") == []
        for jonas_card in jonas.taken("scorecard"):
            assert jonas_card["progress"]["today"]["points"] == 0.0
            assert jonas_card["progress"]["last_case"] is None
        assert "A-00" not in repr(jonas.taken("scorecard"))
        assert all(m["ticket"] in (a1, a2) for m in sara.taken("case_feedback"))
        for agent in (sara, jonas, ada, bo):
            await agent.close()


async def test_managers_see_one_persons_figures_but_not_their_goals(tmp_path: Path) -> None:
    """Outside works-agreement mode, /api/scorecard/staff gives a manager the figures."""
    clock = ManualClock(T0)
    async with running_server(tmp_path, features=features(), clock=clock) as sp:
        sara = await connect_staff(sp, "Sara Lind", SARA, "desk-2")
        [ada] = await connect(sp, "Ada")
        await serve(clock, sara, ada, handle_s=300, rating=5)
        await sara.send({"t": "goal_set", "kind": "csat_week", "target": 0.8})
        await settle(sp)
        assert [g["kind"] for g in (await ask_progress(sara))["goals"]] == ["csat_week"]

        for subject in (SARA, "id:" + SARA):
            figures = await get_json(sp, "staff", subject=subject)
            assert figures["today"]["points"] == 70.0
            assert figures["season"]["points"] == 70.0 and figures["season"]["workdays"] == 1
            assert figures["participating"] is True
            assert "goals" not in figures
        await get_json(sp, "staff", status=400)  # no subject
        missing = await get_json(sp, "staff", status=404, subject=JONAS)
        assert missing["error"]["code"] == "not_found"
        # Staff are no viewers of these routes (refused at the edge, before the audit).
        forbidden = await get_json(sp, "staff", status=403, role="staff", subject=SARA)
        assert forbidden["error"]["code"] == "forbidden"

        team = await get_json(sp, "team")
        assert team["suppressed"] is False and team["group_size"] == 1

        views = await audit(sp)
        assert [(v["viewer"], v["role"], v["route"]) for v in views] == [
            ("mia.manager", "manager", "staff"),
            ("mia.manager", "manager", "staff"),
            ("mia.manager", "manager", "staff"),
            ("mia.manager", "manager", "staff"),
            ("mia.manager", "manager", "team"),
        ]
        assert json.loads(views[0]["query"]) == {"subject": SARA}
        assert float(views[0]["ts"]) == clock.time()
        for agent in (sara, ada):
            await agent.close()


# -- 2. live reload of the rules ----------------------------------------------------------

RICHER = replace_once(
    replace_once(DEFAULT_TEXT, "max_points = 40\n", "max_points = 50\n"),
    "zones = [[5, 12], [4, 8], [3, 2]]",
    "zones = [[5, 20], [4, 15], [3, 2]]",
)
"""Satisfaction weighs 50 (of 110) and a 4 earns 15 of 20."""
UNKNOWN_METRIC = replace_once(RICHER, 'name = "qa_answers"', 'name = "cases_per_hour"')
NEGATIVE_MAX = replace_once(RICHER, "max_points = 50\n", "max_points = -50\n")


async def test_rules_reload_live_and_a_broken_file_keeps_the_last_good_rules(
    tmp_path: Path,
) -> None:
    rules = tmp_path / "rules.toml"
    write_rules(rules, DEFAULT_TEXT)
    clock = ManualClock(T0)
    sections = features(rules=str(rules))
    async with running_server(tmp_path / "data", features=sections, clock=clock) as sp:
        sara = await connect_staff(sp, "Sara Lind", SARA, "desk-2")
        ada, bo, cy, di = await connect(sp, "Ada", "Bo", "Cy", "Di")
        shown = await get_json(sp, "rules")
        assert shown["path"] == "rules.toml" and shown["rules_error"] is None
        assert shown["quality_share"] == pytest.approx(0.6)

        a1 = await serve(clock, sara, ada, handle_s=300, rating=5)
        await settle(sp)
        assert (await case_feedback(sara, a1))["lines"][0] == line(
            "satisfaction", 12.0, "rated", rating=5
        )

        # New weight and zones: every kept day is recalculated at once ...
        write_rules(rules, RICHER)
        await settle(sp)
        shown = await get_json(sp, "rules")
        assert shown["rules_error"] is None
        assert {m["name"]: m["max_points"] for m in shown["metrics"]}["satisfaction"] == 50
        progress = await ask_progress(sara)
        assert progress["today"]["max"] == 110.0
        assert progress["today"]["metrics"]["satisfaction"] == {"points": 50.0, "max": 50.0}
        assert progress["today"]["points"] == 80.0
        # ... and the next case scores on the new zones: a 4 earns 15 (it was 8).
        a2 = await serve(clock, sara, bo, handle_s=300, rating=4)
        await settle(sp)
        feedback = await case_feedback(sara, a2)
        assert feedback["lines"][0] == line("satisfaction", 15.0, "rated", rating=4)
        assert feedback["total"] == 23.0
        progress = await ask_progress(sara)
        assert progress["today"]["metrics"]["satisfaction"]["points"] == 43.75  # 50 × 17.5 / 20

        # An unknown metric: refused with its line; the last good (edited) rules stay.
        write_rules(rules, UNKNOWN_METRIC)
        await settle(sp)
        shown = await get_json(sp, "rules")
        error = shown["rules_error"]
        assert error is not None
        n = line_of(UNKNOWN_METRIC, "cases_per_hour")
        assert error.startswith(f"rules.toml: line {n}: "), error
        assert "cases_per_hour" in error
        assert {m["name"]: m["max_points"] for m in shown["metrics"]}["satisfaction"] == 50
        a3 = await serve(clock, sara, cy, handle_s=300, rating=4)
        await settle(sp)
        assert (await case_feedback(sara, a3))["lines"][0]["points"] == 15.0

        # A negative max_points: the same.
        write_rules(rules, NEGATIVE_MAX)
        await settle(sp)
        error = (await get_json(sp, "rules"))["rules_error"]
        n = line_of(NEGATIVE_MAX, "max_points = -50")
        assert error is not None and error.startswith(f"rules.toml: line {n}: "), error
        assert "max_points" in error
        a4 = await serve(clock, sara, di, handle_s=300, rating=5)
        await settle(sp)
        assert (await case_feedback(sara, a4))["lines"][0]["points"] == 20.0  # not 12

        # Fixed (the shipped rules again): the error goes, the default weights are back.
        write_rules(rules, DEFAULT_TEXT)
        await settle(sp)
        shown = await get_json(sp, "rules")
        assert shown["rules_error"] is None
        assert {m["name"]: m["max_points"] for m in shown["metrics"]}["satisfaction"] == 40
        progress = await ask_progress(sara)
        assert progress["today"]["max"] == 100.0
        # satisfaction 40 × mean(12, 8, 8, 12) / 12
        assert progress["today"]["metrics"]["satisfaction"]["points"] == pytest.approx(
            40 * 10 / 12, abs=0.01
        )
        assert sara.stats.errors == []
        for agent in (sara, ada, bo, cy, di):
            await agent.close()


# -- 3. works-agreement mode --------------------------------------------------------------


async def test_works_agreement_mode_shows_managers_only_large_team_aggregates(
    tmp_path: Path,
) -> None:
    clock = ManualClock(T0)
    sections = features(works_agreement=True, min_group=5)
    async with running_server(tmp_path, features=sections, clock=clock) as sp:
        sara = await connect_staff(sp, "Sara Lind", SARA, "desk-2")
        [ada] = await connect(sp, "Ada")
        mia = AgentClient(ws_url(sp), name="x", token=mint("manager", "Mia Manager"))
        await mia.connect()
        a1 = await serve(clock, sara, ada, handle_s=300, rating=5)
        await settle(sp)

        # Each staff member still sees their own progress and case feedback.
        assert (await case_feedback(sara, a1))["total"] == 20.0
        progress = await ask_progress(sara)
        assert progress["works_agreement"] is True and progress["today"]["points"] == 70.0
        # The team challenges' figures too are only for groups of min_group or more: a
        # team of one would show the member their own ratings back.
        assert progress["challenges"] and all(c["suppressed"] for c in progress["challenges"])
        assert all("goals" not in c for c in progress["challenges"])
        # No boards in this mode, even for someone who opted in.
        await refused(sara, {"t": "leaderboard_get"}, "works_agreement")
        await sara.send({"t": "scorecard_settings", "leaderboard": True})
        await sara.sync()
        await refused(sara, {"t": "leaderboard_get"}, "works_agreement")

        # A manager can send none of the scorecard's messages.
        for msg in (
            {"t": "scorecard_get"},
            {"t": "scorecard_get", "staff": SARA},
            {"t": "leaderboard_get"},
            {"t": "goal_set", "kind": "csat_week", "target": 0.8},
        ):
            await refused(mia, msg, "forbidden")

        # No route gives one person's figures, to a manager or to an admin.
        for role in ("manager", "admin"):
            for subject in (SARA, "id:" + SARA):
                body = await get_json(sp, "staff", status=403, role=role, subject=subject)
                assert body["error"]["code"] == "works_agreement"
        body = await get_json(sp, "staff", status=403)  # even without a subject
        assert body["error"]["code"] == "works_agreement"
        # The team of one is below min_group: suppressed, with no figures at all.
        for params in ({}, {"period": "week"}, {"period": "season"}, {"service": "general"}):
            team = await get_json(sp, "team", params=params)
            assert team["suppressed"] is True, params
            assert set(team) == {"period", "from", "to", "suppressed", "min_group"}
            assert team["min_group"] == 5
        rules = await get_json(sp, "rules")
        assert rules["works_agreement"] is True
        assert "sara" not in json.dumps(rules).lower()

        views = await audit(sp)
        assert [(v["viewer"], v["route"]) for v in views] == [
            *[("mia.manager", "staff")] * 5,  # the admin's token is Mia's too
            *[("mia.manager", "team")] * 4,
            ("mia.manager", "rules"),
        ]
        assert [v["role"] for v in views[:5]] == [
            "manager",
            "manager",
            "admin",
            "admin",
            "manager",
        ]
        assert json.loads(views[0]["query"]) == {"subject": SARA}
        assert json.loads(views[5]["query"]) == {}
        assert all(float(v["ts"]) == clock.time() for v in views)
        # The audit says who looked at what, never what they saw.
        assert "70" not in json.dumps(views)

        await mia.sync()
        assert [m for m in mia.messages if m["t"] in SCORECARD_TYPES] == []
        for agent in (sara, ada, mia):
            await agent.close()


# -- 4. opt-in boards and leaving gamification -----------------------------------------------


async def test_the_board_is_opt_in_shows_names_and_leaving_changes_nothing_else(
    tmp_path: Path,
) -> None:
    clock = ManualClock(T0)
    async with running_server(tmp_path, features=features(), clock=clock) as sp:
        sara = await connect_staff(sp, "Sara Lind", SARA, "desk-2")
        jonas = await connect_staff(sp, "Jonas Weber", JONAS, "desk-4")
        ada, bo, cy = await connect(sp, "Ada", "Bo", "Cy")

        await refused(sara, {"t": "leaderboard_get"}, "not_opted_in")
        await serve(clock, sara, ada, handle_s=300, rating=5)  # 70 points
        await serve(clock, jonas, bo, handle_s=300, rating=4, service="permits")  # 56.67
        await settle(sp)
        await refused(sara, {"t": "leaderboard_get"}, "not_opted_in")

        await sara.send({"t": "scorecard_settings", "leaderboard": True})
        await sara.sync()
        settings = last_scorecard(sara)["settings"]
        assert settings == {"participate": True, "leaderboard": True, "show_badges": False}
        await sara.send({"t": "leaderboard_get"})
        board = (await sara.expect("leaderboard"))["board"]
        assert board["size"] == 1 and board["opted_in"] is True
        assert board["entries"] == [
            {
                "rank": 1,
                "name": "Sara Lind",
                "points": 70.0,
                "season_points": 70.0,
                "workdays": 1,
                "you": True,
            }
        ]
        assert board["viewer"] == board["entries"][0]

        # Jonas opts in too: both on the board, by name, never by subject.
        await jonas.send({"t": "scorecard_settings", "leaderboard": True})
        await jonas.sync()
        for viewer in (sara, jonas):
            await viewer.send({"t": "leaderboard_get"})
            msg = await viewer.expect("leaderboard")
            board = msg["board"]
            assert [(e["rank"], e["name"], e["you"]) for e in board["entries"]] == [
                (1, "Sara Lind", viewer is sara),
                (2, "Jonas Weber", viewer is jonas),
            ]
            assert board["entries"][1]["points"] == pytest.approx(40 * 8 / 12 + 30, abs=0.01)
            text = repr(msg)
            assert "id:" not in text and "'staff'" not in text
            assert SARA not in text and JONAS not in text

        # Jonas leaves gamification: forgotten, off the board, his desk work goes on.
        await jonas.send({"t": "scorecard_settings", "participate": False})
        await jonas.sync()
        left = {
            "participating": False,
            "settings": {"participate": False, "leaderboard": False, "show_badges": False},
            "works_agreement": False,
        }
        assert last_scorecard(jonas) == left
        assert await ask_progress(jonas) == left
        await refused(jonas, {"t": "leaderboard_get"}, "not_participating")
        await refused(
            jonas, {"t": "goal_set", "kind": "csat_week", "target": 0.8}, "not_participating"
        )
        await refused(jonas, {"t": "scorecard_settings", "leaderboard": True}, "not_participating")
        await sara.send({"t": "leaderboard_get"})
        board = (await sara.expect("leaderboard"))["board"]
        assert [e["name"] for e in board["entries"]] == ["Sara Lind"] and board["size"] == 1

        feedback_before = len(jonas.taken("case_feedback"))
        errors_before = len(jonas.stats.errors)
        d2 = await serve(clock, jonas, cy, handle_s=300, rating=5, service="permits")
        assert d2 == "D-002"
        await settle(sp)
        await jonas.sync()
        assert len(jonas.taken("case_feedback")) == feedback_before
        assert len(jonas.stats.errors) == errors_before
        assert await ask_progress(jonas) == left
        assert scorecards(sp).scorecard.case_score(d2) is None
        team = await get_json(sp, "team")
        assert team["group_size"] == 1  # Jonas is in no team points mean
        assert team["csat_n"] == 3  # but his tickets count for the service figures

        for agent in (ada, bo, cy):
            await agent.sync()
            assert [m for m in agent.messages if m["t"] in SCORECARD_TYPES] == []
        for agent in (sara, jonas, ada, bo, cy):
            await agent.close()


# -- 5. a restart ---------------------------------------------------------------------------


async def test_choices_goals_and_points_survive_a_restart(tmp_path: Path) -> None:
    clock = ManualClock(T0)
    data = tmp_path / "data"
    async with running_server(data, features=features(), clock=clock) as sp:
        sara = await connect_staff(sp, "Sara Lind", SARA, "desk-2")
        jonas = await connect_staff(sp, "Jonas Weber", JONAS, "desk-4")
        ada, bo, cy = await connect(sp, "Ada", "Bo", "Cy")
        await serve(clock, sara, ada, handle_s=300, rating=5)
        await serve(clock, sara, bo, handle_s=100, rating=4)
        await sara.send({"t": "goal_set", "kind": "csat_week", "target": 0.8})
        await sara.send({"t": "goal_set", "kind": "rating_week", "target": 4.5})
        await sara.send({"t": "scorecard_settings", "leaderboard": True, "show_badges": True})
        await jonas.send({"t": "scorecard_settings", "participate": False})
        await serve(clock, jonas, cy, handle_s=300, rating=5, service="permits")
        await settle(sp)
        before = await ask_progress(sara)
        assert before["today"]["points"] == pytest.approx(58.33, abs=0.01)
        assert [(g["id"], g["target"], g["met"]) for g in before["goals"]] == [
            ("csat_week", 0.8, True),
            ("rating_week", 4.5, True),
        ]
        assert before["settings"] == {
            "participate": True,
            "leaderboard": True,
            "show_badges": True,
        }
        jonas_before = await ask_progress(jonas)
        assert jonas_before["participating"] is False
        await sara.send({"t": "leaderboard_get"})
        board_before = (await sara.expect("leaderboard"))["board"]
        for agent in (sara, jonas, ada, bo, cy):
            assert agent.stats.errors == []
            await agent.close()

    async with running_server(data, features=features(), clock=clock) as sp2:
        sara = staff_agent(sp2, "Sara Lind", subject=SARA)
        jonas = staff_agent(sp2, "Jonas Weber", subject=JONAS)
        for agent in (sara, jonas):
            await agent.connect()
        await settle(sp2)
        assert await ask_progress(sara) == before
        assert await ask_progress(jonas) == jonas_before
        await sara.send({"t": "leaderboard_get"})
        assert (await sara.expect("leaderboard"))["board"] == board_before

        # Jonas rejoins: only what happens from now on is scored (not D-001).
        await jonas.send({"t": "scorecard_settings", "participate": True})
        await jonas.sync()
        back = last_scorecard(jonas)
        assert back["participating"] is True and back["today"]["points"] == 0.0
        clock.advance(60)
        await jonas.send({"t": "duty", "status": "available", "desk": "desk-4"})
        await jonas.expect("duty")
        [di] = await connect(sp2, "Di")
        d2 = await serve(clock, jonas, di, handle_s=300, rating=5, service="permits")
        await settle(sp2)
        assert (await case_feedback(jonas, d2))["total"] == 20.0
        assert (await ask_progress(jonas))["today"]["points"] == 70.0
        for agent in (sara, jonas, di):
            assert agent.stats.errors == []
            await agent.close()


# -- 6. bad input ---------------------------------------------------------------------------


async def test_bad_goals_are_refused_with_their_codes(tmp_path: Path) -> None:
    clock = ManualClock(T0)
    async with running_server(tmp_path, features=features(), clock=clock) as sp:
        sara = await connect_staff(sp, "Sara Lind", SARA, "desk-2")
        await refused(sara, {"t": "goal_set", "kind": "cases_per_hour", "target": 10}, "bad_goal")
        await refused(sara, {"t": "goal_set", "kind": "csat_week", "target": 1.5}, "bad_goal")
        await refused(sara, {"t": "goal_set", "kind": "rating_week", "target": 0.5}, "bad_goal")
        await refused(sara, {"t": "goal_set", "kind": "training_scenario", "target": 1}, "bad_goal")
        await refused(sara, {"t": "goal_clear", "goal": "csat_week"}, "unknown_goal")
        assert (await ask_progress(sara))["goals"] == []

        await sara.send({"t": "goal_set", "kind": "csat_week", "target": 0.8})
        await sara.sync()
        [goal] = last_scorecard(sara)["goals"]
        assert (goal["id"], goal["kind"], goal["target"], goal["n"]) == (
            "csat_week",
            "csat_week",
            0.8,
            0,
        )
        await refused(sara, {"t": "goal_clear", "goal": "no-such-goal"}, "unknown_goal")
        await sara.send({"t": "goal_clear", "goal": "csat_week"})
        await sara.sync()
        assert last_scorecard(sara)["goals"] == []
        stored = await sp.store.keyspace("scorecard").hgetall("goals")
        assert json.loads(stored["id:" + SARA]) == []

        # The rules allow three goals at a time; a fourth has its own code.
        for goal in (
            {"kind": "csat_week", "target": 0.8},
            {"kind": "rating_week", "target": 4.5},
            {"kind": "training_scenario", "target": 0, "ref": "angry-citizen"},
        ):
            await sara.send({"t": "goal_set", **goal})
            await sara.sync()
        assert len(last_scorecard(sara)["goals"]) == 3
        fourth = {
            "t": "goal_set",
            "kind": "training_scenario",
            "target": 0,
            "ref": "complex-permit",
        }
        await refused(sara, fourth, "too_many_goals")
        assert len((await ask_progress(sara))["goals"]) == 3
        assert sara.closed is not None and not sara.closed.done()
        await sara.close()


def start_config(data_dir: Path, rules: Path) -> Config:
    """The config `running_server` builds, with the scorecard pointed at ``rules``."""
    return Config(
        host="127.0.0.1",
        port=0,
        data_dir=data_dir,
        secret=SECRET,
        features={"voice": {"hosts": "127.0.0.1"}, "scorecard": {"rules": str(rules)}},
    )


async def start_error(config: Config) -> BaseException:
    """Start a server that must refuse to start; stop what it got going; the error."""
    sp = ServicePoint(config)
    try:
        with pytest.raises(Exception) as info:
            await sp.start()
    finally:
        await sp.stop()  # `async with` would not: __aexit__ never runs when start raises
    return info.value


@pytest.mark.parametrize(
    ("text", "needle"),
    [(UNKNOWN_METRIC, "cases_per_hour"), (NEGATIVE_MAX, "max_points = -50")],
    ids=["unknown-metric", "negative-max-points"],
)
async def test_an_invalid_rules_file_stops_the_start_naming_the_file_and_line(
    tmp_path: Path, text: str, needle: str
) -> None:
    """No silent fallback to the shipped rules: a clear start-up error instead."""
    rules = tmp_path / "custom-scorecard.toml"
    write_rules(rules, text)
    error = await start_error(start_config(tmp_path / "data", rules))
    assert isinstance(error, StartupError), repr(error)
    message = str(error)
    assert str(rules) in message, message
    assert f"line {line_of(text, needle)}: " in message, message


async def test_a_missing_rules_file_stops_the_start_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-rules.toml"
    error = await start_error(start_config(tmp_path / "data", missing))
    assert isinstance(error, StartupError), repr(error)
    assert str(missing) in str(error)
