"""Insight statistics on scripted days whose figures are worked out by hand below.

Every expected number is written as a literal; the comment next to it says how it
was computed. The last tests check that applying a log in chunks (with dashboards in
between) gives exactly what `recompute` gives over the whole log.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.features.insight.stats import (
    REPORT_COLUMNS,
    Calendar,
    Insight,
    Live,
    recompute,
)

TZ = ZoneInfo("Europe/Stockholm")
CAL = Calendar(
    tz=TZ,
    targets={"general": 600.0, "permits": 300.0},
    hours={d: (9, 17) for d in range(5)},  # Monday to Friday, 09-17
)
DAY = date(2026, 12, 2)  # a Wednesday, CET (UTC+1)


def at(hh: int, mm: int = 0, ss: int = 0, day: date = DAY) -> float:
    """Epoch seconds of a local wall-clock time in Stockholm."""
    return datetime(day.year, day.month, day.day, hh, mm, ss, tzinfo=TZ).timestamp()


def utc(y: int, mo: int, d: int, hh: int, mm: int = 0) -> float:
    return datetime(y, mo, d, hh, mm, tzinfo=ZoneInfo("UTC")).timestamp()


class Log:
    """Builds the three streams' entries the way the port returns them."""

    def __init__(self) -> None:
        self.queue: list[tuple[str, dict[str, str]]] = []
        self.duty: list[tuple[str, dict[str, str]]] = []
        self.feedback: list[tuple[str, dict[str, str]]] = []
        self.seq = 0

    def _id(self) -> str:
        self.seq += 1
        return f"{1764000000000 + self.seq}-0"

    def q(self, type_: str, ticket: str, ts: float, **fields: str) -> None:
        self.queue.append((self._id(), {"type": type_, "ticket": ticket, "ts": str(ts), **fields}))

    def d(self, type_: str, staff: str, ts: float, **fields: str) -> None:
        self.duty.append((self._id(), {"type": type_, "staff": staff, "ts": str(ts), **fields}))

    def f(self, type_: str, ts: float, **fields: str) -> None:
        self.feedback.append((self._id(), {"type": type_, "ts": str(ts), **fields}))

    def insight(self, calendar: Calendar = CAL) -> Insight:
        ins = Insight(calendar)
        for entry_id, fields in self.queue:
            ins.apply_queue(entry_id, fields)
        for entry_id, fields in self.duty:
            ins.apply_duty(entry_id, fields)
        for entry_id, fields in self.feedback:
            ins.apply_feedback(entry_id, fields)
        return ins


def served(
    log: Log,
    ticket: str,
    service: str,
    arrive: float,
    call: float,
    start: float,
    end: float,
    staff: str,
    desk: str,
    outcome: str = "resolved",
) -> None:
    log.q("arrived", ticket, arrive, service=service, lang="sv", citizen="7", name="Ada")
    log.q("called", ticket, call, staff=staff, desk=desk)
    log.q("started", ticket, start)
    log.q("ended", ticket, end, outcome=outcome)


def scripted_day() -> Log:
    log = Log()
    # general (target 600)
    served(log, "A-001", "general", at(9), at(9, 0, 30), at(9, 1), at(9, 5), "s1", "desk-1")
    # wait 30, handle 240
    served(
        log,
        "A-002",
        "general",
        at(9, 10),
        at(9, 11, 30),
        at(9, 12),
        at(9, 22),
        "s2",
        "desk-2",
        outcome="referred",
    )
    # wait 90, handle 600
    log.q("arrived", "A-003", at(9, 20), service="general", lang="sv")
    log.q("called", "A-003", at(9, 31, 40), staff="s1", desk="desk-1")  # wait 700 > 600
    log.q("no_show", "A-003", at(9, 33, 40), outcome="no_show")
    log.q("arrived", "A-004", at(10), service="general", lang="en")
    log.q("left", "A-004", at(10, 2))  # short abandon: 120 s <= 600, not in the service level
    log.q("arrived", "A-005", at(10, 5), service="general", lang="en")
    log.q("left", "A-005", at(10, 20))  # long abandon: 900 s > 600, a miss
    log.q("arrived", "A-006", at(10, 30), service="general", lang="sv")  # still waiting
    # a transfer: general -> permits (target 300); the first call counts for the wait
    log.q("arrived", "A-007", at(11), service="general", lang="sv")
    log.q("called", "A-007", at(11, 4), staff="s2", desk="desk-2")  # wait 240 <= 300
    log.q("started", "A-007", at(11, 5))
    log.q("transferred", "A-007", at(11, 6), service="permits")
    log.q("called", "A-007", at(11, 20), staff="s3", desk="desk-3")
    log.q("started", "A-007", at(11, 21))
    log.q("ended", "A-007", at(11, 31), outcome="resolved")  # handle 600 (from the last start)
    served(log, "D-001", "permits", at(11, 10), at(11, 18), at(11, 19), at(11, 23), "s4", "desk-4")
    # wait 480 > 300, handle 240
    # duty
    log.d("available", "s1", at(8, 55), desk="desk-1", services="general")
    log.d("available", "s2", at(8, 56), desk="desk-2", services="general,permits")
    log.d("available", "s3", at(8, 57), desk="desk-3", services="permits")
    log.d("break", "s3", at(11, 40), desk="desk-3", services="permits")
    log.d("available", "s4", at(8, 58), desk="desk-4", services="permits")
    log.d("off", "s4", at(11, 45), desk="desk-4")
    # case surveys
    case = {"kind": "case"}
    log.f("offered", at(9, 5), survey="c1", ticket="A-001", service="general", **case)
    log.f(
        "answered",
        at(9, 6),
        survey="c1",
        ticket="A-001",
        service="general",
        rating="5",
        easy="4",
        **case,
    )
    log.f("offered", at(9, 22), survey="c2", ticket="A-002", service="general", **case)
    log.f(
        "answered",
        at(9, 23),
        survey="c2",
        ticket="A-002",
        service="general",
        rating="2",
        easy="2",
        shared="1",
        comment="slow",
        **case,
    )
    log.f("offered", at(11, 23), survey="c3", ticket="D-001", service="permits", **case)
    log.f("dismissed", at(11, 24), survey="c3", ticket="D-001", service="permits", **case)
    log.f("offered", at(11, 31), survey="c4", ticket="A-007", service="permits", **case)
    log.f(
        "answered", at(11, 32), survey="c4", ticket="A-007", service="permits", rating="4", **case
    )
    # kiosk surveys
    for k in ("k1", "k2", "k3"):
        log.f("offered", at(10), survey=k, kind="kiosk", zone="hall")
    log.f("answered", at(10, 1), survey="k1", kind="kiosk", rating="4")
    log.f("answered", at(10, 1), survey="k2", kind="kiosk", rating="1", easy="3")
    log.f("dismissed", at(10, 2), survey="k3", kind="kiosk")
    return log


NOW = at(12)


@pytest.fixture
def dash() -> dict[str, Any]:
    return scripted_day().insight().dashboard(NOW)


def test_general_summary(dash: dict[str, Any]) -> None:
    general = next(s for s in dash["services"] if s["id"] == "general")
    assert general["target_wait_s"] == 600.0
    assert general["today"] == {
        "volume": 6,  # A-001..A-006 (A-007 ended in permits)
        "called": 3,
        "served": 2,
        "no_show": 1,
        "left": 2,
        "within_target": 2,  # waits 30 and 90
        "service_level": 0.5,  # 2 / (3 called + 1 long abandon)
        "no_show_share": pytest.approx(1 / 3),
        "abandonment": pytest.approx(2 / 6),
        "wait_s": {
            "mean": pytest.approx(820 / 3),  # (30 + 90 + 700) / 3
            "median": 90.0,
            "p90": pytest.approx(578.0),  # rank 1.8: 90 + 0.8 * (700 - 90)
        },
        "handle_s": {
            "mean": 420.0,  # (240 + 600) / 2
            "median": 420.0,
            "p90": pytest.approx(564.0),  # rank 0.9: 240 + 0.9 * 360
        },
        "csat": 0.5,  # ratings 5 and 2
        "csat_n": 2,
        "offered": 2,
        "response_rate": 1.0,
        "ces": 3.0,  # (4 + 2) / 2
        "ces_n": 2,
    }


def test_permits_summary_with_the_transfer(dash: dict[str, Any]) -> None:
    permits = next(s for s in dash["services"] if s["id"] == "permits")
    assert permits["target_wait_s"] == 300.0
    assert permits["today"] == {
        "volume": 2,  # A-007 (transferred in), D-001
        "called": 2,
        "served": 2,
        "no_show": 0,
        "left": 0,
        "within_target": 1,  # A-007 waited 240 <= 300; D-001 480 > 300
        "service_level": 0.5,
        "no_show_share": 0.0,
        "abandonment": 0.0,
        "wait_s": {"mean": 360.0, "median": 360.0, "p90": pytest.approx(456.0)},
        "handle_s": {"mean": 420.0, "median": 420.0, "p90": pytest.approx(564.0)},
        "csat": 1.0,  # A-007 rated 4
        "csat_n": 1,
        "offered": 2,  # D-001 dismissed: offered, not answered
        "response_rate": 0.5,
        "ces": None,  # nobody answered "easy"
        "ces_n": 0,
    }


def test_totals_and_quantiles_over_all_cases(dash: dict[str, Any]) -> None:
    totals = dash["totals"]
    assert totals["queue_length"] == 1
    assert (totals["staff_on_duty"], totals["staff_available"], totals["staff_on_break"]) == (
        3,  # s1, s2, s3 (s4 went off)
        2,  # s1, s2
        1,  # s3
    )
    today = totals["today"]
    assert (today["volume"], today["called"], today["served"]) == (8, 5, 4)
    assert (today["no_show"], today["left"], today["within_target"]) == (1, 2, 3)
    assert today["service_level"] == 0.5  # 3 / (5 called + 1 long abandon)
    assert today["no_show_share"] == 0.2 and today["abandonment"] == 0.25
    # waits 30, 90, 240, 480, 700: not the mean of the services' figures
    assert today["wait_s"] == {"mean": 308.0, "median": 240.0, "p90": pytest.approx(612.0)}
    # handles 240, 240, 600, 600: rank 2.7 lies between two 600s
    assert today["handle_s"] == {"mean": 420.0, "median": 420.0, "p90": 600.0}
    assert today["csat"] == pytest.approx(2 / 3) and today["csat_n"] == 3
    assert today["offered"] == 4 and today["response_rate"] == 0.75
    assert today["ces"] == 3.0 and today["ces_n"] == 2


def test_dashboard_shape_live_and_kiosk(dash: dict[str, Any]) -> None:
    assert dash["version"] == 1 and dash["generated_at"] == NOW
    assert dash["timezone"] == "Europe/Stockholm" and dash["day"] == "2026-12-02"
    assert dash["open"] is True
    assert [s["id"] for s in dash["services"]] == ["general", "permits"]
    general, permits = dash["services"]
    assert general["queue_length"] == 1
    assert general["current_wait_s"] == 5400.0  # A-006 waiting since 10:30, now 12:00
    assert (general["staff_on_duty"], general["staff_available"]) == (2, 2)  # s1, s2
    assert (permits["staff_on_duty"], permits["staff_available"]) == (2, 1)  # s2; s3 on break
    assert permits["queue_length"] == 0 and permits["current_wait_s"] == 0.0
    assert dash["kiosk"] == {"csat": 0.5, "n": 2, "offered": 3, "ces": 3.0, "ces_n": 1}
    assert "alerts" not in dash  # the feature adds them


def test_live_per_service() -> None:
    live = scripted_day().insight().live(NOW)
    assert live == {
        "general": Live(queue_length=1, current_wait_s=5400.0, staff_on_duty=2, staff_available=2),
        "permits": Live(queue_length=0, current_wait_s=0.0, staff_on_duty=2, staff_available=1),
    }


def test_duty_available_break_off() -> None:
    log = Log()
    log.d("available", "s1", at(9), desk="desk-1", services="general")
    log.d("break", "s1", at(10), desk="desk-1")  # no services: keeps general
    log.d("available", "s2", at(9), desk="desk-2", services="general, permits")
    ins = log.insight()
    assert ins.live(at(10))["general"] == Live(0, 0.0, 2, 1)
    assert ins.live(at(10))["permits"] == Live(0, 0.0, 1, 1)
    ins.apply_duty("9999999999999-0", {"type": "off", "staff": "s2", "ts": str(at(11))})
    totals = ins.dashboard(at(11))["totals"]
    assert (totals["staff_on_duty"], totals["staff_available"], totals["staff_on_break"]) == (
        1,
        0,
        1,
    )
    assert ins.live(at(11))["permits"] == Live(0, 0.0, 0, 0)
    ins.apply_duty("9999999999999-1", {"type": "available", "staff": "s1", "ts": str(at(12))})
    assert ins.live(at(12))["general"] == Live(0, 0.0, 1, 1)


def test_opening_hours() -> None:
    ins = Insight(CAL)
    assert ins.dashboard(at(8, 59))["open"] is False
    assert ins.dashboard(at(9))["open"] is True
    assert ins.dashboard(at(16, 59))["open"] is True
    assert ins.dashboard(at(17))["open"] is False
    assert ins.dashboard(at(12, day=date(2026, 12, 5)))["open"] is False  # Saturday


def test_hourly_buckets_in_local_time(dash: dict[str, Any]) -> None:
    hourly = dash["hourly"]
    assert hourly["hours"] == list(range(24))
    general = [0] * 24
    general[9], general[10] = 3, 3
    permits = [0] * 24
    permits[11] = 2
    assert hourly["volume"] == {"general": general, "permits": permits}
    sl = hourly["service_level"]
    assert sl["general"][9] == pytest.approx(2 / 3)  # 30 and 90 within, 700 not
    assert sl["general"][10] == 0.0  # only the long abandon counts
    assert sl["general"][11] is None
    assert sl["permits"][11] == 0.5
    assert sl["permits"][9] is None


def test_hourly_on_the_autumn_dst_change() -> None:
    """2026-10-25: 03:00 CEST becomes 02:00 CET; the 02 hour happens twice (25-hour day)."""
    log = Log()
    stamps = [
        utc(2026, 10, 24, 22, 30),  # 00:30 CEST on the 25th
        utc(2026, 10, 25, 0, 30),  # 02:30 CEST
        utc(2026, 10, 25, 1, 30),  # 02:30 CET (the second 02 hour)
        utc(2026, 10, 25, 2, 30),  # 03:30 CET
        utc(2026, 10, 25, 22, 59),  # 23:59 CET
        utc(2026, 10, 25, 23, 0),  # 00:00 on the 26th
    ]
    for i, ts in enumerate(stamps):
        log.q("arrived", f"A-{i}", ts, service="general")
    ins = log.insight()
    dash = ins.dashboard(utc(2026, 10, 25, 12))
    assert dash["day"] == "2026-10-25"
    expected = [0] * 24
    expected[0], expected[2], expected[3], expected[23] = 1, 2, 1, 1
    assert dash["hourly"]["volume"]["general"] == expected
    assert dash["trend"]["days"][-2:] == ["2026-10-24", "2026-10-25"]
    assert dash["trend"]["volume"][-2:] == [0, 5]
    rows = ins.report(date(2026, 10, 25), date(2026, 10, 25), "hour")
    assert [r["volume"] for r in rows[:24]] == expected and rows[-1]["volume"] == 5
    assert ins.report(date(2026, 10, 26), date(2026, 10, 26), "day")[0]["volume"] == 1


def test_hourly_on_the_spring_dst_change() -> None:
    """2026-03-29: 02:00 CET becomes 03:00 CEST; there is no 02 hour (23-hour day)."""
    log = Log()
    for i, ts in enumerate(
        [
            utc(2026, 3, 28, 23, 30),  # 00:30 CET on the 29th
            utc(2026, 3, 29, 0, 30),  # 01:30 CET
            utc(2026, 3, 29, 1, 30),  # 03:30 CEST
            utc(2026, 3, 29, 21, 59),  # 23:59 CEST
        ]
    ):
        log.q("arrived", f"A-{i}", ts, service="general")
    dash = log.insight().dashboard(utc(2026, 3, 29, 12))
    expected = [0] * 24
    expected[0], expected[1], expected[3], expected[23] = 1, 1, 1, 1
    assert dash["hourly"]["volume"]["general"] == expected
    assert dash["totals"]["today"]["volume"] == 4


def row(rows: list[dict[str, Any]], group: str) -> dict[str, Any]:
    return next(r for r in rows if r["group"] == group)


def test_report_by_staff_with_total() -> None:
    rows = scripted_day().insight().report(DAY, DAY, "staff")
    assert [r["group"] for r in rows] == ["s1", "s2", "s3", "s4", "(none)", "total"]
    assert all(tuple(r) == REPORT_COLUMNS for r in rows)
    s1 = row(rows, "s1")  # A-001 (served, wait 30) and A-003 (no-show, wait 700)
    assert (s1["volume"], s1["called"], s1["served"], s1["no_show"]) == (2, 2, 1, 1)
    assert s1["within_target"] == 1 and s1["service_level"] == 0.5
    assert s1["wait_mean_s"] == 365.0 and s1["wait_median_s"] == 365.0
    assert s1["wait_p90_s"] == pytest.approx(633.0)  # 30 + 0.9 * 670
    assert s1["handle_mean_s"] == 240.0 and s1["handle_p90_s"] == 240.0
    assert s1["csat"] == 1.0 and s1["csat_n"] == 1 and s1["offered"] == 1
    s3 = row(rows, "s3")  # ended the transferred A-007
    assert (s3["volume"], s3["served"], s3["handle_mean_s"]) == (1, 1, 600.0)
    none = row(rows, "(none)")  # left; A-006 waiting
    assert (none["volume"], none["called"], none["left"], none["service_level"]) == (3, 0, 2, 0.0)
    assert none["wait_mean_s"] is None and none["abandonment"] == pytest.approx(2 / 3)
    total = rows[-1]
    assert (total["volume"], total["called"], total["served"], total["within_target"]) == (
        8,
        5,
        4,
        3,
    )
    assert total["wait_median_s"] == 240.0 and total["wait_p90_s"] == pytest.approx(612.0)
    assert total["csat"] == pytest.approx(2 / 3) and total["response_rate"] == 0.75
    assert total["ces"] == 3.0


def test_report_by_service_desk_hour_and_day() -> None:
    ins = scripted_day().insight()
    by_service = ins.report(DAY, DAY, "service")
    assert [r["group"] for r in by_service] == ["general", "permits", "total"]
    assert row(by_service, "general")["service_level"] == 0.5
    assert row(by_service, "permits")["wait_p90_s"] == pytest.approx(456.0)
    by_desk = ins.report(DAY, DAY, "desk")
    assert [r["group"] for r in by_desk] == [
        "desk-1",
        "desk-2",
        "desk-3",
        "desk-4",
        "(none)",
        "total",
    ]
    assert row(by_desk, "desk-2")["volume"] == 1  # A-002 only: A-007 was ended at desk-3
    by_hour = ins.report(DAY, DAY, "hour")
    assert [r["group"] for r in by_hour] == [str(h) for h in range(24)] + ["total"]
    nine = row(by_hour, "9")
    assert (nine["volume"], nine["called"], nine["within_target"]) == (3, 3, 2)
    assert nine["wait_median_s"] == 90.0 and nine["no_show_share"] == pytest.approx(1 / 3)
    assert row(by_hour, "11")["volume"] == 2 and row(by_hour, "8")["volume"] == 0
    by_day = ins.report(date(2026, 12, 1), date(2026, 12, 3), "day")
    assert [r["group"] for r in by_day] == ["2026-12-01", "2026-12-02", "2026-12-03", "total"]
    assert [r["volume"] for r in by_day] == [0, 8, 0, 8]
    assert by_day[0]["service_level"] is None and by_day[0]["wait_mean_s"] is None
    assert by_day[-1] == {**by_day[1], "group": "total"}
    with pytest.raises(ValueError):
        ins.report(DAY, DAY, "citizen")


def test_cases_drill_down_per_metric() -> None:
    ins = scripted_day().insight()

    def tickets(service: str | None, hour: int | None, metric: str) -> list[str]:
        return [c["ticket"] for c in ins.cases(DAY, service, hour, metric)]

    assert tickets("general", None, "volume") == [f"A-00{i}" for i in range(1, 7)]
    assert tickets(None, None, "volume") == [
        "A-001",
        "A-002",
        "A-003",
        "A-004",
        "A-005",
        "A-006",
        "A-007",
        "D-001",
    ]
    assert tickets("general", 9, "volume") == ["A-001", "A-002", "A-003"]
    assert tickets(None, 11, "served") == ["A-007", "D-001"]
    assert tickets(None, None, "no_show") == ["A-003"]
    assert tickets(None, None, "left") == ["A-004", "A-005"]
    assert tickets("general", None, "breached") == ["A-003", "A-005"]  # 700 s; left after 900
    assert tickets("permits", None, "breached") == ["D-001"]  # 480 > 300
    assert tickets(None, None, "rated_low") == ["A-002"]  # rating 2
    assert tickets(None, None, "served")[:2] == ["A-001", "A-002"]
    first = ins.cases(DAY, "general", 9, "served")[0]
    assert first == {
        "ticket": "A-001",
        "service": "general",
        "desk": "desk-1",
        "outcome": "resolved",
        "wait_s": 30.0,
        "handle_s": 240.0,
        "hour": 9,
    }
    no_show = ins.cases(DAY, None, None, "no_show")[0]
    assert no_show["outcome"] == "no_show" and no_show["handle_s"] is None
    assert no_show["wait_s"] == 700.0
    left = ins.cases(DAY, None, None, "left")[0]
    assert left["outcome"] == "left" and left["wait_s"] is None and left["desk"] == ""
    assert ins.cases(date(2026, 12, 1), None, None, "volume") == []
    with pytest.raises(ValueError):
        ins.cases(DAY, None, None, "names")


def test_trend_and_a_late_event_for_a_closed_day() -> None:
    log = Log()
    yesterday = date(2026, 12, 1)
    log.q("arrived", "A-100", at(23, 50, day=yesterday), service="general")
    ins = log.insight()
    before = ins.dashboard(at(23, 55, day=yesterday))
    assert before["day"] == "2026-12-01" and before["trend"]["volume"][-1] == 1
    assert before["trend"]["service_level"][-1] is None
    ins.dashboard(at(0, 10))  # the next day: 2026-12-01 is now closed and cached
    # the case of yesterday is called and ended today: yesterday's figures change
    ins.apply_queue(
        "9999999999990-0",
        {
            "type": "called",
            "ticket": "A-100",
            "ts": str(at(0, 20)),
            "staff": "s1",
            "desk": "desk-1",
        },
    )
    ins.apply_queue("9999999999991-0", {"type": "started", "ticket": "A-100", "ts": str(at(0, 21))})
    ins.apply_queue("9999999999992-0", {"type": "ended", "ticket": "A-100", "ts": str(at(0, 30))})
    ins.apply_feedback(
        "9999999999993-0",
        {
            "type": "answered",
            "kind": "case",
            "survey": "x",
            "ticket": "A-100",
            "rating": "4",
            "ts": str(at(0, 31)),
        },
    )
    after = ins.dashboard(at(1))
    trend = after["trend"]
    assert len(trend["days"]) == 30 and trend["days"][-2:] == ["2026-12-01", "2026-12-02"]
    assert trend["volume"][-2:] == [1, 0]
    assert trend["service_level"][-2:] == [0.0, None]  # waited 1800 s > 600
    assert trend["csat"][-2:] == [1.0, None] and trend["csat_n"][-2:] == [1, 0]
    assert after["totals"]["today"]["volume"] == 0
    assert ins.report(yesterday, yesterday, "day")[0]["handle_mean_s"] == 540.0
    assert len(ins.dashboard(at(1), days=7)["trend"]["days"]) == 7


def test_entries_that_do_not_apply_are_skipped() -> None:
    log = scripted_day()
    ins = log.insight()
    expected = ins.dashboard(NOW)
    junk_queue: list[dict[str, str]] = [
        {"type": "called", "ticket": "Z-999", "ts": str(at(11))},  # unknown ticket
        {"type": "teleported", "ticket": "A-006", "ts": str(at(11))},  # unknown type
        {"type": "called", "ticket": "A-006", "ts": "soon"},  # unreadable time
        {"type": "called", "ticket": "A-006"},  # no time
        {"type": "called", "ticket": "A-006", "ts": "1e300"},  # not a date
        {"type": "arrived", "ticket": "Z-997", "ts": "nan", "service": "general"},
        {"type": "ended", "ticket": "A-001", "ts": str(at(11))},  # already ended
        {"type": "arrived", "ticket": "A-001", "ts": str(at(11)), "service": "general"},
        {"type": "arrived", "ticket": "Z-998", "ts": str(at(11))},  # no service
        {},
    ]
    for i, fields in enumerate(junk_queue):
        ins.apply_queue(f"9999999999999-{i}", fields)
    junk_feedback: list[dict[str, str]] = [
        {"type": "answered", "kind": "case", "ticket": "A-006", "rating": "9", "ts": str(NOW)},
        {
            "type": "answered",
            "kind": "case",
            "survey": "c1",
            "ticket": "A-001",
            "rating": "1",
            "ts": str(NOW),
        },
        {
            "type": "answered",
            "kind": "case",
            "survey": "c9",
            "ticket": "A-001",
            "rating": "1",
            "ts": str(NOW),
        },
        {"type": "liked", "kind": "case", "ticket": "A-001", "ts": str(NOW)},
        {"type": "answered", "kind": "kiosk", "survey": "k1", "rating": "1", "ts": str(NOW)},
        {"type": "offered", "kind": "case", "ts": str(NOW)},
        {"type": "offered", "kind": "kiosk", "survey": "k9", "ts": "-1e300"},
        {},
    ]
    for i, fields in enumerate(junk_feedback):
        ins.apply_feedback(f"9999999999999-{i}", fields)
    for i, fields in enumerate([{"type": "lunch", "staff": "s1"}, {"type": "off"}, {}]):
        ins.apply_duty(f"9999999999999-{i}", fields)
    ins.apply_queue("not-an-id", {"type": "left", "ticket": "A-006", "ts": str(NOW)})
    assert ins.dashboard(NOW) == expected


def test_cursors_and_replayed_entries() -> None:
    log = scripted_day()
    ins = log.insight()
    assert ins.cursors == {
        "queue": log.queue[-1][0],
        "duty": log.duty[-1][0],
        "feedback": log.feedback[-1][0],
    }
    expected = ins.dashboard(NOW)
    for entry_id, fields in log.queue:  # read again (e.g. after=0-0): nothing counts twice
        ins.apply_queue(entry_id, fields)
    for entry_id, fields in log.feedback:
        ins.apply_feedback(entry_id, fields)
    assert ins.dashboard(NOW) == expected
    assert Insight(CAL).cursors == {"queue": "0-0", "duty": "0-0", "feedback": "0-0"}


def test_feedback_read_before_the_arrival() -> None:
    """The feedback stream may be read ahead of the queue: the answer waits for its case."""
    log = scripted_day()
    # an answer (naming a staff member) about a ticket that then left the queue uncalled
    log.f(
        "answered",
        at(10, 3),
        survey="c5",
        ticket="A-004",
        kind="case",
        service="permits",
        staff="s9",
        desk="desk-9",
        rating="1",
    )
    # and one naming no service at all
    log.f("answered", at(10, 30), survey="c6", ticket="A-006", kind="case", rating="3")
    ins = Insight(CAL)
    for entry_id, fields in log.feedback:
        ins.apply_feedback(entry_id, fields)
    ins.dashboard(NOW - 86400)  # the day before is cached, then left alone
    early = ins.dashboard(NOW)["totals"]["today"]
    assert (early["volume"], early["csat_n"], early["offered"]) == (0, 4, 5)  # not A-006 yet
    assert "s9" in [r["group"] for r in ins.report(DAY, DAY, "staff")]
    for entry_id, fields in log.queue:
        ins.apply_queue(entry_id, fields)
    for entry_id, fields in log.duty:
        ins.apply_duty(entry_id, fields)
    expected = log.insight()
    assert ins.dashboard(NOW) == expected.dashboard(NOW)
    assert ins.dashboard(NOW)["totals"]["today"]["csat_n"] == 5
    for by in ("day", "service", "desk", "staff", "hour"):
        assert ins.report(DAY, DAY, by) == expected.report(DAY, DAY, by)
    staff = [r["group"] for r in ins.report(DAY, DAY, "staff")]
    assert "s9" not in staff  # the queue says who handled A-004: nobody
    for metric in ("volume", "left", "rated_low"):
        assert ins.cases(DAY, None, None, metric) == expected.cases(DAY, None, None, metric)
    assert [c["ticket"] for c in ins.cases(DAY, None, None, "rated_low")] == [
        "A-002",
        "A-004",
        "A-006",
    ]


# -- incremental == full recompute ---------------------------------------------------

BASE = at(8)
TICKETS = ["A-1", "A-2", "A-3", "B-1", "B-2"]
SERVICES = ["general", "permits", "other"]
SURVEYS = ["s1", "s2", "s3", "k1", "k2"]

queue_fields = st.fixed_dictionaries(
    {
        "type": st.sampled_from(
            [
                "arrived",
                "arrived",
                "called",
                "started",
                "transferred",
                "ended",
                "left",
                "no_show",
                "bogus",
            ]
        ),
        "ticket": st.sampled_from(TICKETS),
        "service": st.sampled_from(SERVICES),
        "staff": st.sampled_from(["s1", "s2", ""]),
        "desk": st.sampled_from(["desk-1", "desk-2", ""]),
        "outcome": st.sampled_from(["", "resolved", "referred"]),
    }
)
duty_fields = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["available", "break", "off", "nap"]),
        "staff": st.sampled_from(["s1", "s2", "s3"]),
        "services": st.sampled_from(["general", "general,permits", "", "other"]),
        "desk": st.sampled_from(["desk-1", "desk-2"]),
    }
)
feedback_fields = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["offered", "answered", "answered", "dismissed", "odd"]),
        "kind": st.sampled_from(["case", "case", "kiosk"]),
        "survey": st.sampled_from(SURVEYS),
        "ticket": st.sampled_from([*TICKETS, ""]),
        "service": st.sampled_from([*SERVICES, ""]),
        "staff": st.sampled_from(["s1", ""]),
        "rating": st.sampled_from(["1", "2", "3", "4", "5", "", "0"]),
        "easy": st.sampled_from(["1", "3", "5", ""]),
    }
)
# times over three local days, so late events for closed days happen
offsets = st.integers(0, 3 * 86400 // 60).map(lambda m: BASE + 60.0 * m)
events = st.lists(
    st.one_of(
        st.tuples(st.just("queue"), queue_fields, offsets),
        st.tuples(st.just("duty"), duty_fields, offsets),
        st.tuples(st.just("feedback"), feedback_fields, offsets),
    ),
    max_size=60,
)


def everything(ins: Insight, now: float) -> dict[str, Any]:
    days = [date(2026, 12, 2), date(2026, 12, 3), date(2026, 12, 4), date(2026, 12, 5)]
    return {
        "dashboard": ins.dashboard(now),
        "reports": {
            by: ins.report(days[0], days[-1], by)
            for by in ("day", "service", "desk", "staff", "hour")
        },
        "cases": {
            (d, s, m): ins.cases(d, s, None, m)
            for d in days
            for s in (None, "general", "permits")
            for m in ("volume", "served", "no_show", "left", "breached", "rated_low")
        },
    }


@settings(max_examples=200, deadline=None)
@given(events, st.lists(st.integers(1, 8), min_size=1, max_size=20), offsets)
def test_incremental_equals_full_recompute(
    items: list[tuple[str, dict[str, str], float]], chunks: list[int], now: float
) -> None:
    streams: dict[str, list[tuple[str, dict[str, str]]]] = {"queue": [], "duty": [], "feedback": []}
    order: list[tuple[str, tuple[str, dict[str, str]]]] = []
    for i, (stream, fields, ts) in enumerate(items):
        entry = (f"{1764650000000 + i}-{i % 3}", {**fields, "ts": str(ts)})
        streams[stream].append(entry)
        order.append((stream, entry))
    inc = Insight(CAL)
    apply = {"queue": inc.apply_queue, "duty": inc.apply_duty, "feedback": inc.apply_feedback}
    pos, k = 0, 0
    while pos < len(order):
        size = chunks[k % len(chunks)]
        for stream, (entry_id, fields) in order[pos : pos + size]:
            apply[stream](entry_id, fields)
        pos, k = pos + size, k + 1
        inc.dashboard(now - 86400.0 * (k % 3))  # caches days, some of them later changed
    full = recompute(CAL, streams["queue"], streams["duty"], streams["feedback"], now)
    assert inc.dashboard(now) == full
    fresh = Insight(CAL)
    for stream in ("queue", "duty", "feedback"):
        for entry_id, fields in streams[stream]:
            {
                "queue": fresh.apply_queue,
                "duty": fresh.apply_duty,
                "feedback": fresh.apply_feedback,
            }[stream](entry_id, fields)
    assert everything(inc, now) == everything(fresh, now)
