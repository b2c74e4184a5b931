"""Insight on a live server: a scripted day over real sockets, the HTTP routes, alerts, a
restart and the webhook.

The server's features take every timestamp from the injected `ManualClock`, so the day
below has exact waits and handle times however fast the test runs; only the no-show
timeout (``call_timeout_s``), the refresh period and the webhook's backoff run in real
time, and they are small. Figures are read after `InsightFeature.refreshed`, never after
a sleep.
"""

from __future__ import annotations

import asyncio
import csv
import io
import itertools
import json
import math
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from agents.client import AgentClient
from agents.staff_bot import StaffBot
from server.app import ServicePoint
from server.features.insight.feature import InsightFeature
from tests.server.features.fakes import ManualClock
from tests.server.harness import mint, running_server, staff_agent, ws_url

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC).timestamp()
"""Tuesday 2026-12-01 08:00 UTC = 09:00 in Europe/Stockholm (CET, UTC+1)."""
DAY = "2026-12-01"
NO_RULES = "# no alert rules in this test\n"


def insight_of(sp: ServicePoint) -> InsightFeature:
    feature = sp.feature("insight")
    assert isinstance(feature, InsightFeature)
    return feature


async def settle(sp: ServicePoint) -> None:
    """Two full refreshes: the second one started after everything sent so far was logged."""
    insight = insight_of(sp)
    await insight.refreshed()
    await insight.refreshed()


def at(clock: ManualClock, t: float) -> None:
    """Move the clock to ``T0 + t``."""
    clock.advance(T0 + t - clock.time())


def features(rules: Path, **insight: Any) -> dict[str, dict[str, Any]]:
    return {
        "insight": {"refresh_s": 0.02, "alert_rules": str(rules), **insight},
        "desks": {"call_timeout_s": 0.3},
    }


_WRITES = itertools.count(1)


def write_rules(path: Path, text: str) -> None:
    """Write a rules file with an mtime the feature has surely not seen yet (a later second
    each time: a coarse file system clock could otherwise hide a quick rewrite)."""
    path.write_text(text, encoding="utf-8")
    stamp = path.stat().st_mtime_ns + 1_000_000_000 * next(_WRITES)
    os.utime(path, ns=(stamp, stamp))


@asynccontextmanager
async def http(sp: ServicePoint, role: str = "manager") -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": "Bearer " + mint(role, "Mia Manager")} if role else {}
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{sp.port}", headers=headers, timeout=10
    ) as client:
        yield client


async def dashboard(sp: ServicePoint) -> dict[str, Any]:
    async with http(sp) as client:
        reply = await client.get("/api/insight/dashboard")
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"].startswith("application/json")
    board: dict[str, Any] = reply.json()
    return board


async def report_csv(sp: ServicePoint, by: str) -> list[dict[str, str]]:
    async with http(sp) as client:
        reply = await client.get(
            "/api/insight/report.csv", params={"from": DAY, "to": DAY, "by": by}
        )
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(reply.text)))


async def metrics(sp: ServicePoint) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    async with httpx.AsyncClient(timeout=10) as client:
        reply = await client.get(f"http://127.0.0.1:{sp.port}/metrics")
    assert reply.status_code == 200
    out: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(reply.text):
        for s in family.samples:
            if s.name.startswith("servicepoint_insight_"):
                out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def cell(value: Any) -> str:
    """A SUMMARY value as the CSV writes it (floats rounded to 4 places, null empty)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return str(round(value, 4))
    return str(value)


def as_row(summary: dict[str, Any]) -> dict[str, str]:
    flat = {k: v for k, v in summary.items() if not isinstance(v, dict) and k != "ces_n"}
    for name in ("wait", "handle"):
        for q in ("mean", "median", "p90"):
            flat[f"{name}_{q}_s"] = summary[f"{name}_s"][q]
    return {k: cell(v) for k, v in flat.items()}


# -- driving the desks -----------------------------------------------------------------


async def connect(sp: ServicePoint, *names: str) -> list[AgentClient]:
    agents = [AgentClient(ws_url(sp), name=n) for n in names]
    for agent in agents:
        await agent.connect()
    return agents


async def take(citizen: AgentClient, service: str = "general") -> str:
    await citizen.send({"t": "take_ticket", "service": service, "lang": "sv"})
    return str((await citizen.expect("ticket", status="waiting"))["ticket"])


async def call_and_start(sara: AgentClient, citizen: AgentClient, ticket: str) -> None:
    """Sara calls the next ticket (it must be ``ticket``); the citizen responds."""
    await sara.send({"t": "call_next"})
    await sara.expect("case", ticket=ticket, status="called")
    await citizen.expect("called", ticket=ticket)
    await citizen.send({"t": "respond"})
    await citizen.expect("call", active=True)
    await sara.expect("call", active=True)
    await sara.expect("case", ticket=ticket, status="serving")


async def close(sara: AgentClient, citizen: AgentClient, ticket: str) -> None:
    await sara.send({"t": "close_case", "outcome": "resolved"})
    await sara.expect("case", ticket=ticket, status="done")
    await citizen.expect("ticket", ticket=ticket, status="done")
    await sara.expect("call", active=False)
    await citizen.expect("call", active=False)


async def rate(citizen: AgentClient, ticket: str, rating: int, easy: int | None = None) -> None:
    survey = await citizen.expect("survey", survey="c-" + ticket)
    msg: dict[str, Any] = {"t": "survey_answer", "survey": survey["survey"], "rating": rating}
    if easy is not None:
        msg["easy"] = easy
    await citizen.send(msg)
    await citizen.expect("survey_done", survey=survey["survey"], answered=True)


async def leave(citizen: AgentClient, ticket: str) -> None:
    await citizen.send({"t": "leave_queue"})
    await citizen.expect("ticket", ticket=ticket, status="left")
    await citizen.expect("survey", survey="c-" + ticket)  # offered (and logged) to abandons too


async def kiosk(citizen: AgentClient, rating: int, easy: int | None = None) -> None:
    """Walk from the lobby through the doorway to the kiosk at (0, 20) and answer there."""
    for x, z in ((-25.0, 0.0), (-15.0, 0.0), (0.0, 18.0)):
        await citizen.move(x, z)
    await citizen.sync()
    await citizen.send({"t": "survey_request", "kind": "kiosk", "kiosk": "kiosk-hall"})
    survey = await citizen.expect("survey", kind="kiosk")
    msg: dict[str, Any] = {"t": "survey_answer", "survey": survey["survey"], "rating": rating}
    if easy is not None:
        msg["easy"] = easy
    await citizen.send(msg)
    await citizen.expect("survey_done", survey=survey["survey"], answered=True)


async def scripted_day(sp: ServicePoint, clock: ManualClock) -> dict[str, AgentClient]:
    """Sara Lind (sara.lind) at desk-2 (general and registration) and eight citizens.

     t (s after 09:00 local)   ticket  what happens                              general?
       0 Ada takes      A-001  called 30 (wait 30), served 30..270 (240), rated 5, easy 4
     180 Bo takes       A-002  called 270 (wait 90), served 270..570 (300), rated 4
     300 Di takes       A-003  called 570 (wait 270), never responds: no-show; dismisses
     310 Cy takes       A-004  called 1010 (wait 700), served 1010..1130 (120), rated 2, easy 2
     400 Ed takes       A-005  leaves at 500 (100 s <= 600: a short abandon)
    1040 Fay takes      A-006  called 1130 (wait 90), transferred to registration at 1190,
                               called again 1200, served 1200..1260 (60): a registration case
    1300 Ada and Bo answer at the kiosk: 4 (easy 5) and 2
    3700 Gus takes      A-007  (10:01:40 local) leaves at 4350 (650 s > 600: a long abandon)
    4400 Hal takes      A-008  (10:13:20 local) still waiting at 4460, the end
    """
    sara = staff_agent(sp, "Sara Lind", subject="sara.lind")
    await sara.connect()
    bot = StaffBot(sara, "desk-2", handle_s=0.0)
    await bot.go_on_duty()
    names = ("Ada", "Bo", "Cy", "Di", "Ed", "Fay", "Gus", "Hal")
    people = dict(zip(names, await connect(sp, *names), strict=True))
    ada, bo, cy, di, ed, fay, gus, hal = people.values()

    at(clock, 0)
    assert await take(ada) == "A-001"
    at(clock, 30)
    await call_and_start(sara, ada, "A-001")
    at(clock, 180)
    assert await take(bo) == "A-002"
    at(clock, 270)
    await close(sara, ada, "A-001")
    await rate(ada, "A-001", 5, easy=4)
    await call_and_start(sara, bo, "A-002")
    at(clock, 300)
    assert await take(di) == "A-003"
    at(clock, 310)
    assert await take(cy) == "A-004"
    at(clock, 400)
    assert await take(ed) == "A-005"
    at(clock, 500)
    await leave(ed, "A-005")
    at(clock, 570)
    await close(sara, bo, "A-002")
    await rate(bo, "A-002", 4)
    # Di is called and never comes: the bot sees the no-show (call_timeout_s, real time).
    assert await bot.serve_one() == "A-003"
    assert bot.report.no_shows == ["A-003"]
    survey = await di.expect("survey", survey="c-A-003")
    assert survey["outcome"] == "no_show"
    await di.send({"t": "survey_dismiss", "survey": "c-A-003"})
    await di.expect("survey_done", survey="c-A-003", answered=False)
    at(clock, 1010)
    await call_and_start(sara, cy, "A-004")
    at(clock, 1040)
    assert await take(fay) == "A-006"
    at(clock, 1130)
    await close(sara, cy, "A-004")
    await rate(cy, "A-004", 2, easy=2)
    await call_and_start(sara, fay, "A-006")
    at(clock, 1190)
    await sara.send({"t": "transfer", "service": "registration"})
    await sara.expect("case", ticket="A-006", status="waiting", service="registration")
    await fay.expect("ticket", ticket="A-006", status="waiting", service="registration")
    await sara.expect("call", active=False)
    await fay.expect("call", active=False)
    at(clock, 1200)
    await call_and_start(sara, fay, "A-006")
    at(clock, 1260)
    await close(sara, fay, "A-006")
    await fay.expect("survey", survey="c-A-006")  # offered; Fay does not answer
    at(clock, 1300)
    await kiosk(ada, 4, easy=5)
    await kiosk(bo, 2)
    at(clock, 3700)
    assert await take(gus) == "A-007"
    at(clock, 4350)
    await leave(gus, "A-007")
    at(clock, 4400)
    assert await take(hal) == "A-008"
    at(clock, 4460)
    for agent in (sara, *people.values()):
        await agent.sync()
        assert agent.stats.errors == []
    await settle(sp)
    return {"Sara": sara, **people}


# Today's figures of the scripted day, by hand (target wait: general 600 s, registration 900 s).
#
# general: A-001 A-002 A-003 A-004 A-005 A-007 A-008 (A-006 ended in registration)
#   volume 7; called 4 (A-001..A-004); served 3; no_show 1; left 2
#   waits 30, 90, 270, 700: within 3; long abandons 1 (A-007; A-005 is short)
#   service level 3 / (4 + 1) = 0.6; no-show share 1/4; abandonment 2/7
#   wait mean (30+90+270+700)/4 = 272.5, median (90+270)/2 = 180,
#        p90 at rank 3*0.9 = 2.7: 270 + 0.7*(700-270) = 571
#   handle 240, 300, 120: mean 660/3 = 220, median 240, p90 at rank 1.8: 240 + 0.8*60 = 288
#   ratings 5, 4, 2: csat 2/3, n 3; offered 6 (every closed case
#   dismissed, A-004, A-005 and A-007 left); response rate 3/6; ces (4+2)/2 = 3, n 2
GENERAL = {
    "volume": 7,
    "called": 4,
    "served": 3,
    "no_show": 1,
    "left": 2,
    "within_target": 3,
    "service_level": 0.6,
    "no_show_share": 0.25,
    "abandonment": 2 / 7,
    "wait_s": {"mean": 272.5, "median": 180.0, "p90": pytest.approx(571.0)},
    "handle_s": {"mean": 220.0, "median": 240.0, "p90": pytest.approx(288.0)},
    "csat": 2 / 3,
    "csat_n": 3,
    "offered": 6,
    "response_rate": 0.5,
    "ces": 3.0,
    "ces_n": 2,
}
# registration: A-006 alone: wait 90 (measured once, at the first call) <= 900, handle 60
# (the serving after the transfer), offered and not answered.
REGISTRATION = {
    "volume": 1,
    "called": 1,
    "served": 1,
    "no_show": 0,
    "left": 0,
    "within_target": 1,
    "service_level": 1.0,
    "no_show_share": 0.0,
    "abandonment": 0.0,
    "wait_s": {"mean": 90.0, "median": 90.0, "p90": 90.0},
    "handle_s": {"mean": 60.0, "median": 60.0, "p90": 60.0},
    "csat": None,
    "csat_n": 0,
    "offered": 1,
    "response_rate": 0.0,
    "ces": None,
    "ces_n": 0,
}
EMPTY = {
    "volume": 0,
    "called": 0,
    "served": 0,
    "no_show": 0,
    "left": 0,
    "within_target": 0,
    "service_level": None,
    "no_show_share": None,
    "abandonment": None,
    "wait_s": {"mean": None, "median": None, "p90": None},
    "handle_s": {"mean": None, "median": None, "p90": None},
    "csat": None,
    "csat_n": 0,
    "offered": 0,
    "response_rate": None,
    "ces": None,
    "ces_n": 0,
}
# totals: every case of the day, computed over all of them (never averaged):
#   volume 8; called 5; served 4; no_show 1; left 2; within 4; long abandons 1
#   service level 4 / (5 + 1) = 2/3; no-show share 1/5; abandonment 2/8
#   waits 30, 90, 90, 270, 700: mean 1180/5 = 236, median 90,
#        p90 at rank 4*0.9 = 3.6: 270 + 0.6*430 = 528
#   handles 60, 120, 240, 300: mean 720/4 = 180, median (120+240)/2 = 180,
#        p90 at rank 2.7: 240 + 0.7*60 = 282
#   csat 2/3 (n 3); offered 7; response rate 3/7; ces 3 (n 2)
TOTAL = {
    "volume": 8,
    "called": 5,
    "served": 4,
    "no_show": 1,
    "left": 2,
    "within_target": 4,
    "service_level": 2 / 3,
    "no_show_share": 0.2,
    "abandonment": 0.25,
    "wait_s": {"mean": 236.0, "median": 90.0, "p90": pytest.approx(528.0)},
    "handle_s": {"mean": 180.0, "median": 180.0, "p90": pytest.approx(282.0)},
    "csat": 2 / 3,
    "csat_n": 3,
    "offered": 7,
    "response_rate": 3 / 7,
    "ces": 3.0,
    "ces_n": 2,
}


def hours(**by_hour: Any) -> list[Any]:
    """24 local-hour buckets: ``hours(h9=5, h10=2)``; the rest 0 (or None with default=)."""
    default = by_hour.pop("default", 0)
    out = [default] * 24
    for key, value in by_hour.items():
        out[int(key[1:])] = value
    return out


async def test_a_scripted_day_gives_the_hand_computed_figures(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(NO_RULES, encoding="utf-8")
    clock = ManualClock(T0)
    async with running_server(
        tmp_path / "data", features=features(rules), clock=clock, max_speed=500.0
    ) as sp:
        agents = await scripted_day(sp, clock)
        board = await dashboard(sp)

        assert board["version"] == 1
        assert board["generated_at"] == T0 + 4460
        assert board["timezone"] == "Europe/Stockholm"
        assert board["day"] == DAY
        assert board["open"] is True  # Tuesday 10:14 local; Tuesdays 8-17
        assert board["rules_error"] is None
        assert board["alerts"] == []
        assert [s["id"] for s in board["services"]] == [
            "general",
            "registration",
            "benefits",
            "permits",
        ]
        general, registration, benefits, permits = board["services"]
        # Live: Hal waits since 4400 (60 s at 4460); Sara is on duty for both her services.
        assert general["letter"] == "A" and general["name"]["sv"] == "Allmänna frågor"
        assert {k: v for k, v in general.items() if k not in ("today", "name", "letter")} == {
            "id": "general",
            "target_wait_s": 600.0,
            "queue_length": 1,
            "current_wait_s": 60.0,
            "staff_on_duty": 1,
            "staff_available": 1,
        }
        assert general["today"] == GENERAL
        assert {k: v for k, v in registration.items() if k not in ("today", "name", "letter")} == {
            "id": "registration",
            "target_wait_s": 900.0,
            "queue_length": 0,
            "current_wait_s": 0.0,
            "staff_on_duty": 1,
            "staff_available": 1,
        }
        assert registration["today"] == REGISTRATION
        for other in (benefits, permits):
            assert other["today"] == EMPTY
            assert other["queue_length"] == 0 and other["staff_on_duty"] == 0
        assert board["totals"] == {
            "queue_length": 1,
            "staff_on_duty": 1,
            "staff_available": 1,
            "staff_on_break": 0,
            "today": TOTAL,
        }

        # Hourly, by the local hour of arrival: 08:00 UTC is hour 9, not 8.
        # general: 5 in hour 9 (A-001..A-005), 2 in hour 10;
        # service level hour 9: 3 within / 4 called = 0.75; hour 10: 0 / (0 + 1 long abandon).
        assert board["hourly"]["hours"] == list(range(24))
        assert board["hourly"]["volume"] == {
            "general": hours(h9=5, h10=2),
            "registration": hours(h9=1),
            "benefits": hours(),
            "permits": hours(),
        }
        assert board["hourly"]["service_level"] == {
            "general": hours(h9=0.75, h10=0.0, default=None),
            "registration": hours(h9=1.0, default=None),
            "benefits": hours(default=None),
            "permits": hours(default=None),
        }

        # Trend: 30 local days, today last; nothing before today.
        trend = board["trend"]
        assert len(trend["days"]) == 30
        assert trend["days"][0] == "2026-11-02" and trend["days"][-1] == DAY
        assert trend["volume"] == [0] * 29 + [8]
        assert trend["service_level"] == [None] * 29 + [2 / 3]
        assert trend["csat"] == [None] * 29 + [2 / 3]
        assert trend["csat_n"] == [0] * 29 + [3]

        # Kiosk: Ada 4 (easy 5), Bo 2: csat 1/2, n 2, offered 2, ces 5 (n 1).
        assert board["kiosk"] == {"csat": 0.5, "n": 2, "offered": 2, "ces": 5.0, "ces_n": 1}

        # No names anywhere in the dashboard.
        text = json.dumps(board)
        assert "sara" not in text.lower()
        for name in agents:
            assert f'"{name}' not in text

        # The report by service: a row per world service, then the total = the dashboard's.
        rows = await report_csv(sp, "service")
        assert [r["group"] for r in rows] == [
            "general",
            "registration",
            "benefits",
            "permits",
            "total",
        ]
        total = rows[-1]
        assert total == {"group": "total", **as_row(board["totals"]["today"])}
        assert rows[0] == {"group": "general", **as_row(general["today"])}
        assert rows[1] == {"group": "registration", **as_row(registration["today"])}
        assert (total["volume"], total["served"], total["no_show"], total["left"]) == (
            "8",
            "4",
            "1",
            "2",
        )
        assert total["service_level"] == "0.6667" and total["csat"] == "0.6667"
        assert (total["csat_n"], total["offered"], total["response_rate"]) == ("3", "7", "0.4286")
        assert (total["wait_p90_s"], total["handle_median_s"]) == ("528.0", "180.0")
        # By hour and by day the totals are the same.
        for by in ("hour", "day", "desk", "staff"):
            assert (await report_csv(sp, by))[-1] == total
        by_staff = await report_csv(sp, "staff")
        # Staff by subject; were never called, A-008 is not yet: "(none)".
        assert [r["group"] for r in by_staff] == ["id:sara.lind", "(none)", "total"]
        assert by_staff[1]["volume"] == "3"

        # Prometheus: by service, never by person.
        m = await metrics(sp)
        g = (("service", "general"),)
        assert m[("servicepoint_insight_queue_length", g)] == 1.0
        assert m[("servicepoint_insight_current_wait_seconds", g)] == 60.0
        assert m[("servicepoint_insight_target_wait_seconds", g)] == 600.0
        assert m[("servicepoint_insight_staff_on_duty", g)] == 1.0
        assert m[("servicepoint_insight_service_level_ratio", g)] == 0.6
        assert m[("servicepoint_insight_csat_ratio", g)] == 2 / 3
        outcomes = {
            (dict(labels)["service"], dict(labels)["outcome"]): value
            for (name, labels), value in m.items()
            if name == "servicepoint_insight_cases_total"
        }
        assert outcomes == {
            ("general", "resolved"): 3.0,
            ("general", "no_show"): 1.0,
            ("general", "left"): 2.0,
            ("registration", "resolved"): 1.0,  # A-006, after its transfer
        }
        assert not any("sara" in v for _n, labels in m for _k, v in labels)

        # Drill-down: the service level's misses for general are Cy's 700 s wait and Gus's
        # long abandon, in arrival order; no names, no staff, no citizen.
        async with http(sp) as client:
            reply = await client.get(
                "/api/insight/cases",
                params={"day": DAY, "service": "general", "metric": "breached"},
            )
        assert reply.status_code == 200
        cases = reply.json()["cases"]
        assert cases == [
            {
                "ticket": "A-004",
                "service": "general",
                "desk": "desk-2",
                "outcome": "resolved",
                "wait_s": 700.0,
                "handle_s": 120.0,
                "hour": 9,
            },
            {
                "ticket": "A-007",
                "service": "general",
                "desk": "",
                "outcome": "left",
                "wait_s": None,
                "handle_s": None,
                "hour": 10,
            },
        ]
        async with http(sp) as client:
            hour10 = await client.get(
                "/api/insight/cases",
                params={"day": DAY, "service": "general", "hour": "10", "metric": "volume"},
            )
            everyone = await client.get("/api/insight/cases", params={"day": DAY})
        assert [c["ticket"] for c in hour10.json()["cases"]] == ["A-007", "A-008"]
        assert [c["ticket"] for c in everyone.json()["cases"]] == [f"A-00{i}" for i in range(1, 9)]
        for case in everyone.json()["cases"]:
            assert set(case) == {
                "ticket",
                "service",
                "desk",
                "outcome",
                "wait_s",
                "handle_s",
                "hour",
            }
        assert "Sara" not in everyone.text and "sara" not in everyone.text

        # The CSAT point's drill-down, for managers: answered 1-3, here Cy's 2.
        async with http(sp) as client:
            low = await client.get(
                "/api/insight/cases",
                params={"day": DAY, "service": "general", "metric": "rated_low"},
            )
        assert low.status_code == 200, low.text
        assert [c["ticket"] for c in low.json()["cases"]] == ["A-004"]

        for agent in agents.values():
            await agent.close()


async def test_http_routes_need_a_manager_token(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(NO_RULES, encoding="utf-8")
    async with running_server(tmp_path / "data", features=features(rules)) as sp:
        base = f"http://127.0.0.1:{sp.port}"
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:

            async def get(path: str, token: str | None = None, **params: str) -> httpx.Response:
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                return await client.get(path, params=params, headers=headers)

            def error(reply: httpx.Response, status: int, code: str) -> None:
                assert reply.status_code == status, reply.text
                assert reply.headers["content-type"] == "application/json"
                body = reply.json()
                assert body["error"]["code"] == code
                assert body["error"]["reason"]

            for route in ("dashboard", "cases", "report.csv", "report.xlsx", "alerts"):
                error(await get(f"/api/insight/{route}"), 401, "unauthorized")
                error(
                    await get(f"/api/insight/{route}", mint("staff", "Sara Lind")), 403, "forbidden"
                )
                error(await get(f"/api/insight/{route}", mint("host", "Hu Host")), 403, "forbidden")
            error(await get("/api/insight/dashboard", "not-a-token"), 401, "unauthorized")
            # A token in the URL is not a token.
            manager = mint("manager", "Mia Manager")
            error(
                await get("/api/insight/dashboard", token=None, token_=manager), 401, "unauthorized"
            )
            # Citizens have no role tokens: none can be minted, and a citizen key is refused.
            with pytest.raises(ValueError):
                mint("citizen", "Ada")
            async with AgentClient(ws_url(sp), name="Ada") as ada:
                assert ada.citizen
                error(await get("/api/insight/dashboard", ada.citizen), 401, "unauthorized")

            assert (await get("/api/insight/dashboard", manager)).status_code == 200
            assert (
                await get("/api/insight/dashboard", mint("admin", "Al Admin"))
            ).status_code == 200
            error(
                await get("/api/insight/report.csv", manager, **{"from": "2026-13-01", "to": DAY}),
                400,
                "bad_request",
            )
            error(await get("/api/insight/report.csv", manager, **{"to": DAY}), 400, "bad_request")
            error(
                await get("/api/insight/report.csv", manager, **{"from": DAY, "to": "2026-11-30"}),
                400,
                "bad_request",
            )
            error(
                await get(
                    "/api/insight/report.csv", manager, **{"from": DAY, "to": DAY, "by": "x"}
                ),
                400,
                "bad_request",
            )
            error(await get("/api/insight/cases", manager, day=DAY, metric="x"), 400, "bad_request")
            error(await get("/api/insight/cases", manager, day=DAY, hour="24"), 400, "bad_request")
            error(await get("/api/insight/nope", manager), 404, "not_found")
            error(await get("/api/nope/dashboard", manager), 404, "not_found")
            xlsx = await get("/api/insight/report.xlsx", manager, **{"from": DAY, "to": DAY})
            assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
            assert "attachment" in xlsx.headers["content-disposition"]


QUEUE_RULE = """\
[route]
group_wait = "0s"

[[rule]]
name = "queue-general"
kind = "queue_length"
services = ["general"]
threshold = 1
for = "60s"
keep_firing_for = "30s"
"""

BROKEN_RULES = """\
[[rule]]
name = "queue-general"
kind = "queue_length
threshold = 1
"""


async def test_an_alert_goes_pending_firing_and_resolved(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    write_rules(rules, QUEUE_RULE)
    clock = ManualClock(T0)
    async with running_server(tmp_path / "data", features=features(rules), clock=clock) as sp:
        sara = staff_agent(sp, "Sara Lind", subject="sara.lind")
        await sara.connect()
        bot = StaffBot(sara, "desk-2", handle_s=0.0)
        await bot.go_on_duty()
        ada, bo, cy = await connect(sp, "Ada", "Bo", "Cy")
        assert await take(ada) == "A-001"
        assert await take(bo) == "A-002"
        await settle(sp)

        # Two waiting > 1: pending, shown on the dashboard, told to nobody.
        board = await dashboard(sp)
        assert board["rules_error"] is None
        [alert] = board["alerts"]
        fingerprint = alert["fingerprint"]
        assert alert == {
            "fingerprint": fingerprint,
            "rule": "queue-general",
            "kind": "queue_length",
            "state": "pending",
            "service": "general",
            "since": T0,
            "value": 2.0,
            "threshold": 1.0,
            "summary": "2 in the queue for general (limit 1)",
            "silenced": False,
        }
        await sara.sync()
        assert sara.taken("alert") == []

        # 61 s later (for = 60 s): firing, and Sara, on duty for general, is told.
        clock.advance(61)
        await settle(sp)
        [alert] = (await dashboard(sp))["alerts"]
        assert (alert["state"], alert["since"], alert["fingerprint"]) == (
            "firing",
            T0 + 61,
            fingerprint,
        )
        firing = await sara.expect("alert", state="firing")
        assert firing == {
            "t": "alert",
            "fingerprint": fingerprint,
            "rule": "queue-general",
            "kind": "queue_length",
            "state": "firing",
            "service": "general",
            "value": 2.0,
            "threshold": 1.0,
            "since": T0 + 61,
            "summary": "2 in the queue for general (limit 1)",
        }

        # Sara calls Ada: one waits. Still firing for keep_firing_for (30 s) ...
        await sara.send({"t": "call_next"})
        await sara.expect("case", ticket="A-001", status="called")
        await settle(sp)
        clock.advance(29)
        await settle(sp)
        assert [a["state"] for a in (await dashboard(sp))["alerts"]] == ["firing"]
        await sara.sync()
        assert sara.taken("alert") == []
        # ... and resolved once the condition has been false that long.
        clock.advance(2)
        await settle(sp)
        [alert] = (await dashboard(sp))["alerts"]
        assert (alert["state"], alert["since"]) == ("resolved", T0 + 92)
        resolved = await sara.expect("alert", state="resolved")
        assert resolved["fingerprint"] == fingerprint and resolved["value"] == 1.0

        # A rules file that does not parse: the error names its line, the old rule stays.
        write_rules(rules, BROKEN_RULES)
        await settle(sp)
        board = await dashboard(sp)
        assert board["rules_error"] is not None
        assert board["rules_error"].startswith("rules.toml: line 3: ")
        assert "TOML" in board["rules_error"]
        async with http(sp) as client:
            listed = (await client.get("/api/insight/alerts")).json()
        assert listed["rules_error"] == board["rules_error"]
        assert await take(cy) == "A-003"  # Bo and Cy wait: 2 > 1 under the old rule
        await settle(sp)
        [alert] = (await dashboard(sp))["alerts"]
        assert (alert["state"], alert["fingerprint"]) == ("pending", fingerprint)

        # Fixed again: the error goes away.
        write_rules(rules, QUEUE_RULE)
        await settle(sp)
        assert (await dashboard(sp))["rules_error"] is None

        for citizen in (ada, bo, cy):
            await citizen.sync()
            assert citizen.taken("alert") == []
        for agent in (sara, ada, bo, cy):
            await agent.close()


NO_STAFF_RULE = """\
[[rule]]
name = "nobody"
kind = "no_staff"
services = ["general"]
for = "30s"
keep_firing_for = "0s"
severity = "critical"
"""


async def test_no_staff_fires_when_someone_waits_with_nobody_on_duty(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    write_rules(rules, NO_STAFF_RULE)
    clock = ManualClock(T0)
    async with running_server(tmp_path / "data", features=features(rules), clock=clock) as sp:
        mia = AgentClient(ws_url(sp), name="x", token=mint("manager", "Mia Manager"))
        await mia.connect()
        [ada] = await connect(sp, "Ada")
        await settle(sp)
        assert (await dashboard(sp))["alerts"] == []
        assert await take(ada) == "A-001"
        await settle(sp)
        assert [a["state"] for a in (await dashboard(sp))["alerts"]] == ["pending"]
        clock.advance(30)
        await settle(sp)
        firing = await mia.expect("alert", rule="nobody", state="firing")
        assert (firing["kind"], firing["service"], firing["value"]) == ("no_staff", "general", 1.0)
        assert firing["summary"] == "1 waiting for general and no staff on duty"

        # Sara goes on duty for general: resolved at once (keep_firing_for 0).
        sara = staff_agent(sp, "Sara Lind", subject="sara.lind")
        await sara.connect()
        await StaffBot(sara, "desk-2").go_on_duty()
        await settle(sp)
        resolved = await mia.expect("alert", rule="nobody", state="resolved")
        assert resolved["fingerprint"] == firing["fingerprint"]
        [alert] = (await dashboard(sp))["alerts"]
        assert alert["state"] == "resolved"
        await ada.sync()
        assert ada.taken("alert") == []
        for agent in (mia, ada, sara):
            await agent.close()


SURGE_RULE = """\
[[rule]]
name = "low-ratings"
kind = "feedback_surge"
services = ["general"]
low = 2
k = 0.3
h = 2.0
min_count = 3
window = "30m"
for = "0s"
keep_firing_for = "10m"
"""


async def test_a_surge_of_low_ratings_fires_once(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    write_rules(rules, SURGE_RULE)
    clock = ManualClock(T0)
    async with running_server(tmp_path / "data", features=features(rules), clock=clock) as sp:
        mia = AgentClient(ws_url(sp), name="x", token=mint("manager", "Mia Manager"))
        await mia.connect()
        sara = staff_agent(sp, "Sara Lind", subject="sara.lind")
        await sara.connect()
        await StaffBot(sara, "desk-2").go_on_duty()
        citizens = await connect(sp, "Ada", "Bo", "Cy")
        # Six ratings of 1 in a row, a minute apart, each read by its own refresh. The CUSUM
        # S = max(0, S + 1 - 0.3) crosses h = 2 at the 3rd (2.1, with 3 ratings in the
        # window), restarts, and crosses again at the 6th: one surge, one firing.
        for n in range(6):
            citizen = citizens[n % 3]
            ticket = await take(citizen)
            assert ticket == f"A-{n + 1:03d}"
            await call_and_start(sara, citizen, ticket)
            clock.advance(30)
            await close(sara, citizen, ticket)
            await rate(citizen, ticket, 1)
            await settle(sp)
            states = [a["state"] for a in (await dashboard(sp))["alerts"]]
            assert states == ([] if n < 2 else ["firing"])
            clock.advance(30)
        await settle(sp)
        for agent in (mia, sara, *citizens):
            await agent.sync()
        for watcher in (mia, sara):
            alerts = [m for m in watcher.taken("alert") if m["rule"] == "low-ratings"]
            assert [a["state"] for a in alerts] == ["firing"], watcher.name
            assert alerts[0]["kind"] == "feedback_surge" and alerts[0]["service"] == "general"
            assert alerts[0]["value"] == 3.0 and alerts[0]["threshold"] == 2.0
        [alert] = (await dashboard(sp))["alerts"]
        assert alert["value"] == 6.0  # the low ratings in the window at the last crossing
        for citizen in citizens:
            assert citizen.taken("alert") == []
        for agent in (mia, sara, *citizens):
            await agent.close()


async def test_a_restart_keeps_every_figure(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(NO_RULES, encoding="utf-8")
    clock = ManualClock(T0)
    data = tmp_path / "data"

    async def snapshot(sp: ServicePoint) -> tuple[dict[str, Any], dict[str, Any]]:
        board = await dashboard(sp)
        del board["generated_at"], board["alerts"]
        reports = {by: await report_csv(sp, by) for by in ("service", "day", "hour", "staff")}
        m = {  # NaN (no figure yet) != NaN: compare those as None
            k: None if math.isnan(v) else v
            for k, v in (await metrics(sp)).items()
            if "alert_transitions" not in k[0]
        }
        return board, {"reports": reports, "metrics": m}

    async with running_server(data, features=features(rules), clock=clock, max_speed=500.0) as sp:
        agents = await scripted_day(sp, clock)
        # Sara goes off duty (a restart would put her off duty anyway).
        sara = agents["Sara"]
        await sara.send({"t": "duty", "status": "off"})
        await sara.expect("duty", status="off")
        await settle(sp)
        board, rest = await snapshot(sp)
        assert board["totals"]["today"] == TOTAL and board["totals"]["staff_on_duty"] == 0

    async with running_server(data, features=features(rules), clock=clock, max_speed=500.0) as sp2:
        await settle(sp2)
        board2, rest2 = await snapshot(sp2)
    assert board2 == board
    assert rest2["reports"] == rest["reports"]
    assert rest2["metrics"] == rest["metrics"]
    for agent in agents.values():
        await agent.close()


class Receiver:
    """A minimal HTTP/1.1 receiver: answers each POST with the next status (then 200)."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.requests: list[tuple[str, dict[str, str], bytes, int]] = []
        self.accepted = asyncio.Event()
        self.server: asyncio.Server | None = None

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/hook?token=s3cret"

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            first, *lines = head.split("\r\n")
            headers = {}
            for line in lines:
                name, sep, value = line.partition(":")
                if sep:
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            status = self.statuses.pop(0) if self.statuses else 200
            self.requests.append((first, headers, body, status))
            reason = {200: "OK", 503: "Service Unavailable"}.get(status, "Other")
            writer.write(
                f"HTTP/1.1 {status} {reason}\r\nContent-Length: 0\r\n"
                "Connection: close\r\n\r\n".encode()
            )
            await writer.drain()
            if 200 <= status < 300:
                self.accepted.set()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


WEBHOOK_RULES = """\
[route]
receiver = "front-desk"
group_wait = "10s"

[[rule]]
name = "any-queue"
kind = "queue_length"
services = ["general"]
threshold = 0
for = "0s"
keep_firing_for = "0s"
[rule.labels]
team = "front"
"""


async def test_the_webhook_gets_alertmanager_json_after_retries(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    write_rules(rules, WEBHOOK_RULES)
    receiver = Receiver([503, 503])
    url = await receiver.start()
    clock = ManualClock(T0)
    try:
        async with running_server(
            tmp_path / "data", features=features(rules, webhook_url=url), clock=clock
        ) as sp:
            [ada] = await connect(sp, "Ada")
            assert await take(ada) == "A-001"
            await settle(sp)
            [alert] = (await dashboard(sp))["alerts"]
            assert alert["state"] == "firing"  # for = 0 s: at once
            await settle(sp)
            assert receiver.requests == []  # the group waits group_wait (10 s)
            clock.advance(10)
            await settle(sp)
            await receiver.accepted.wait()  # two 503s, retried with backoff, then 200
            await ada.close()
    finally:
        await receiver.close()

    assert [status for *_rest, status in receiver.requests] == [503, 503, 200]
    bodies = {body for _first, _headers, body, _status in receiver.requests}
    assert len(bodies) == 1  # the same payload, retried
    for first, headers, _body, _status in receiver.requests:
        assert first == "POST /hook?token=s3cret HTTP/1.1"
        assert headers["content-type"] == "application/json"
    payload = json.loads(bodies.pop())
    assert payload["version"] == "4"
    assert payload["status"] == "firing"
    assert payload["receiver"] == "front-desk"
    assert payload["groupLabels"] == {"rule": "any-queue", "service": "general"}
    assert payload["groupKey"] == '{}:{rule="any-queue", service="general"}'
    assert payload["truncatedAlerts"] == 0
    [sent] = payload["alerts"]
    assert sent["status"] == "firing"
    assert sent["labels"] == {
        "alertname": "any-queue",
        "rule": "any-queue",
        "kind": "queue_length",
        "service": "general",
        "severity": "warning",
        "team": "front",
    }
    assert sent["fingerprint"] == alert["fingerprint"]
    assert sent["startsAt"] == "2026-12-01T08:00:00.000Z"
    assert sent["endsAt"] == "0001-01-01T00:00:00Z"
    assert sent["annotations"]["summary"] == "1 in the queue for general (limit 0)"
    assert payload["commonLabels"] == sent["labels"]


async def test_the_cases_counter_counts_the_log_and_survives_a_restart(tmp_path: Path) -> None:
    """``servicepoint_insight_cases_total`` counts the cases the log holds, by outcome: it
    goes on counting across days, and after a restart it is where it was (the log is
    replayed), so Prometheus' rate() never sees a reset. The "today" gauges start again."""
    rules = tmp_path / "rules.toml"
    rules.write_text(NO_RULES, encoding="utf-8")
    clock = ManualClock(T0)
    data = tmp_path / "data"
    resolved = (
        "servicepoint_insight_cases_total",
        (("outcome", "resolved"), ("service", "general")),
    )
    level = ("servicepoint_insight_service_level_ratio", (("service", "general"),))
    async with running_server(data, features=features(rules), clock=clock) as sp:
        sara = staff_agent(sp, "Sara Lind", subject="sara.lind")
        await sara.connect()
        await StaffBot(sara, "desk-2").go_on_duty()
        [ada] = await connect(sp, "Ada")
        assert await take(ada) == "A-001"
        await call_and_start(sara, ada, "A-001")
        clock.advance(60)
        await close(sara, ada, "A-001")
        await sara.send({"t": "duty", "status": "off"})
        await sara.expect("duty", status="off")
        await settle(sp)
        m = await metrics(sp)
        assert (m[resolved], m[level]) == (1.0, 1.0)

        clock.advance(86400)  # Wednesday 09:01 local: a new day, no case yet
        await settle(sp)
        assert (await dashboard(sp))["totals"]["today"] == EMPTY
        m = await metrics(sp)
        assert math.isnan(m[level])
        next_day = m[resolved]
        for agent in (sara, ada):
            await agent.close()
    async with running_server(data, features=features(rules), clock=clock) as sp2:
        await settle(sp2)
        after_restart = (await metrics(sp2))[resolved]
    assert (next_day, after_restart) == (1.0, 1.0)
