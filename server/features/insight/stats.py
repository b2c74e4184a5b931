"""Insight statistics as pure state: cases, summaries, the dashboard, reports, drill-downs.

No I/O, no asyncio and no clock: entries of the three streams are applied as
they are read (`Insight.apply_queue`, `apply_duty`, `apply_feedback`) and every
question takes ``now``. The definitions are written down in ``docs/METRICS.md``
(definitions version 1); this module is their reference implementation.

How it stays incremental:

- A *case* is a ticket. Each case keeps its current *contribution*: the few
  numbers it adds to the figures of its local arrival day and its current
  service (counted or not, its wait, its handle time, its rating ...).
- Every (day, service) has an accumulator: counts, hourly counts, and the raw
  wait and handle values (for exact quantiles). When an entry changes a case,
  its old contribution is taken out of the accumulator and the new one put in:
  O(1) apart from removing a float from a list of one day's values.
- A day's summary (per service, total, hourly) is computed from its few
  accumulators and cached; a change to any case of that day (a late event for
  yesterday's case included) drops that day's cache. So `Insight.dashboard`
  recomputes only the days that changed since the last call (usually today)
  and its cost does not grow with the history.

Quantiles are exact: ``numpy.percentile(values, q, method="linear")`` (numpy's
default: linear interpolation between the closest ranks, ``(n - 1) * q / 100``).
Means are ``math.fsum(values) / n``, so the result never depends on the order
the entries were applied in: applying a log in chunks gives exactly the
figures of `recompute` over the whole log.

Entries that do not apply (an unknown ticket, an unknown type, a missing or
unreadable field, an entry id at or before the stream's cursor) are skipped,
never raised.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Final, NamedTuple
from zoneinfo import ZoneInfo

import numpy as np

from server.entries import Cursors, answer, entry_time

VERSION = 1
"""Definitions version (docs/METRICS.md) and dashboard ``version``."""

DEFAULT_TARGET_S = 600.0
QUANTILE_METHOD: Final = "linear"
STREAMS = ("queue", "duty", "feedback")
GROUPINGS = ("day", "service", "desk", "staff", "hour")
CASE_METRICS = ("volume", "served", "no_show", "left", "breached", "rated_low")
REPORT_COLUMNS = (
    "group",
    "volume",
    "called",
    "served",
    "no_show",
    "left",
    "within_target",
    "service_level",
    "no_show_share",
    "abandonment",
    "wait_mean_s",
    "wait_median_s",
    "wait_p90_s",
    "handle_mean_s",
    "handle_median_s",
    "handle_p90_s",
    "csat",
    "csat_n",
    "offered",
    "response_rate",
    "ces",
)
NO_GROUP = "(none)"
"""Report group of cases without a desk or staff member (never called, or transferred)."""

ACTIVE = frozenset(("waiting", "called", "serving"))
HOURS = 24
ON_DUTY = frozenset(("available", "break"))
"""Times outside this (about years 1653-9892) are not times: the entry is skipped."""


# -- the calendar ------------------------------------------------------------------


@dataclass(frozen=True)
class Calendar:
    """What the world says about time: its zone, service targets and opening hours."""

    tz: ZoneInfo
    targets: Mapping[str, float] = field(default_factory=dict)
    """service -> target wait in seconds (missing: `DEFAULT_TARGET_S`)."""
    hours: Mapping[int, tuple[int, int]] = field(default_factory=dict)
    """weekday (0 = Monday) -> (open hour, close hour), local; a missing weekday is closed."""

    def target(self, service: str) -> float:
        return float(self.targets.get(service, DEFAULT_TARGET_S))

    def local(self, ts: float) -> tuple[date, int]:
        """The local day and hour (0-23) of an epoch time."""
        moment = datetime.fromtimestamp(ts, self.tz)
        return moment.date(), moment.hour

    def is_open(self, ts: float) -> bool:
        """Open at ``ts``: open hour <= local hour < close hour (wrapping past midnight
        when close < open; open == close is closed)."""
        moment = datetime.fromtimestamp(ts, self.tz)
        span = self.hours.get(moment.weekday())
        if span is None:
            return False
        start, end = span
        if start < end:
            return start <= moment.hour < end
        if start > end:
            return moment.hour >= start or moment.hour < end
        return False


@dataclass(frozen=True)
class Live:
    """One service right now."""

    queue_length: int
    """Tickets waiting (not yet called, or waiting again after a transfer)."""
    current_wait_s: float
    """How long the longest-waiting ticket has waited (since its arrival); 0.0 if none."""
    staff_on_duty: int
    """Staff whose last duty entry is ``available`` or ``break`` for this service."""
    staff_available: int
    """Of those, the ones whose last duty entry is ``available``."""


# -- cases and their contributions -------------------------------------------------


class _Contribution(NamedTuple):
    """What one case adds to the accumulator of its day and service."""

    service: str
    hour: int
    volume: int  # 1 once the case has arrived (0 for feedback about an unseen ticket)
    called: int
    served: int
    no_show: int
    left: int
    within: int
    abandon: int  # left uncalled after waiting longer than the target
    wait: float | None
    handle: float | None
    offered: int
    rating: int  # 0 = no answer
    easy: int  # 0 = not given


class _Case:
    __slots__ = (
        "arrived",
        "contribution",
        "day",
        "desk",
        "easy",
        "ended",
        "feedback_ts",
        "first_called",
        "hour",
        "offered",
        "outcome",
        "rating",
        "service",
        "staff",
        "started",
        "status",
        "ticket",
    )

    def __init__(self, ticket: str, service: str, day: date, hour: int) -> None:
        self.ticket = ticket
        self.service = service
        self.day = day
        self.hour = hour
        self.arrived: float | None = None
        self.feedback_ts: float | None = None
        self.status = "waiting"
        self.first_called: float | None = None
        self.started: float | None = None
        self.ended: float | None = None
        self.staff = ""
        self.desk = ""
        self.outcome = ""
        self.offered = False
        self.rating = 0
        self.easy = 0
        self.contribution: _Contribution | None = None

    @property
    def sort_key(self) -> tuple[float, str]:
        ts = self.arrived if self.arrived is not None else self.feedback_ts
        return (ts or 0.0, self.ticket)

    def contribute(self, target: float) -> _Contribution:
        arrived = self.arrived is not None
        called = self.first_called is not None
        wait = None
        if called and self.arrived is not None and self.first_called is not None:
            wait = self.first_called - self.arrived
        served = self.status == "done" and self.started is not None
        handle = None
        if served and self.ended is not None and self.started is not None:
            handle = self.ended - self.started
        abandon = (
            self.status == "left"
            and not called
            and self.ended is not None
            and self.arrived is not None
            and self.ended - self.arrived > target
        )
        return _Contribution(
            service=self.service,
            hour=self.hour,
            volume=int(arrived),
            called=int(called),
            served=int(served),
            no_show=int(self.status == "no_show"),
            left=int(self.status == "left"),
            within=int(wait is not None and wait <= target),
            abandon=int(abandon),
            wait=wait,
            handle=handle,
            offered=int(self.offered),
            rating=self.rating,
            easy=self.easy,
        )

    def public(self) -> dict[str, Any]:
        c = self.contribution
        return {
            "ticket": self.ticket,
            "service": self.service,
            "desk": self.desk,
            "outcome": self.outcome,
            "wait_s": None if c is None else c.wait,
            "handle_s": None if c is None else c.handle,
            "hour": self.hour,
        }


class _Acc:
    """Counts and raw values of a set of cases (one day and service, or a report group)."""

    __slots__ = (
        "abandon",
        "called",
        "easy_n",
        "easy_sum",
        "handles",
        "high",
        "hour_den",
        "hour_volume",
        "hour_within",
        "left",
        "no_show",
        "offered",
        "rated",
        "served",
        "volume",
        "waits",
        "within",
    )

    def __init__(self) -> None:
        self.volume = self.called = self.served = self.no_show = self.left = 0
        self.within = self.abandon = self.offered = 0
        self.rated = self.high = self.easy_n = self.easy_sum = 0
        self.waits: list[float] = []
        self.handles: list[float] = []
        self.hour_volume = [0] * HOURS
        self.hour_within = [0] * HOURS
        self.hour_den = [0] * HOURS

    def counts(self, c: _Contribution, sign: int) -> None:
        self.volume += sign * c.volume
        self.called += sign * c.called
        self.served += sign * c.served
        self.no_show += sign * c.no_show
        self.left += sign * c.left
        self.within += sign * c.within
        self.abandon += sign * c.abandon
        self.offered += sign * c.offered
        if c.rating:
            self.rated += sign
            if c.rating >= 4:
                self.high += sign
        if c.easy:
            self.easy_n += sign
            self.easy_sum += sign * c.easy
        h = c.hour
        self.hour_volume[h] += sign * c.volume
        self.hour_within[h] += sign * c.within
        self.hour_den[h] += sign * (c.called + c.abandon)

    def add(self, c: _Contribution) -> None:
        self.counts(c, 1)
        if c.wait is not None:
            self.waits.append(c.wait)
        if c.handle is not None:
            self.handles.append(c.handle)

    def remove(self, c: _Contribution) -> None:
        self.counts(c, -1)
        if c.wait is not None:
            self.waits.remove(c.wait)
        if c.handle is not None:
            self.handles.remove(c.handle)

    def replace(self, old: _Contribution, new: _Contribution) -> None:
        """Same accumulator: touch the value lists only where the values changed."""
        self.counts(old, -1)
        self.counts(new, 1)
        if old.wait != new.wait:
            if old.wait is not None:
                self.waits.remove(old.wait)
            if new.wait is not None:
                self.waits.append(new.wait)
        if old.handle != new.handle:
            if old.handle is not None:
                self.handles.remove(old.handle)
            if new.handle is not None:
                self.handles.append(new.handle)

    def merge(self, other: _Acc) -> None:
        for name in (
            "volume",
            "called",
            "served",
            "no_show",
            "left",
            "within",
            "abandon",
            "offered",
            "rated",
            "high",
            "easy_n",
            "easy_sum",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.waits.extend(other.waits)
        self.handles.extend(other.handles)
        for h in range(HOURS):
            self.hour_volume[h] += other.hour_volume[h]
            self.hour_within[h] += other.hour_within[h]
            self.hour_den[h] += other.hour_den[h]

    def summary(self) -> dict[str, Any]:
        """SUMMARY of the contract (null where undefined)."""
        den = self.called + self.abandon
        return {
            "volume": self.volume,
            "called": self.called,
            "served": self.served,
            "no_show": self.no_show,
            "left": self.left,
            "within_target": self.within,
            "service_level": _ratio(self.within, den),
            "no_show_share": _ratio(self.no_show, self.called),
            "abandonment": _ratio(self.left, self.volume),
            "wait_s": _spread(self.waits),
            "handle_s": _spread(self.handles),
            "csat": _ratio(self.high, self.rated),
            "csat_n": self.rated,
            "offered": self.offered,
            "response_rate": _ratio(self.rated, self.offered),
            "ces": _ratio(self.easy_sum, self.easy_n),
            "ces_n": self.easy_n,
        }

    def hourly_service_level(self) -> list[float | None]:
        return [_ratio(w, d) for w, d in zip(self.hour_within, self.hour_den, strict=True)]


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def _spread(values: list[float]) -> dict[str, float | None]:
    """Mean, median and p90: exact (``np.percentile(..., method="linear")``)."""
    if not values:
        return {"mean": None, "median": None, "p90": None}
    median, p90 = np.percentile(
        np.asarray(values, dtype=np.float64), [50.0, 90.0], method=QUANTILE_METHOD
    )
    return {
        "mean": math.fsum(values) / len(values),
        "median": float(median),
        "p90": float(p90),
    }


def _copy_summary(s: Mapping[str, Any]) -> dict[str, Any]:
    return {**s, "wait_s": dict(s["wait_s"]), "handle_s": dict(s["handle_s"])}


def _flat(group: str, s: Mapping[str, Any]) -> dict[str, Any]:
    """A SUMMARY as one report row (`REPORT_COLUMNS`)."""
    w, h = s["wait_s"], s["handle_s"]
    return {
        "group": group,
        "volume": s["volume"],
        "called": s["called"],
        "served": s["served"],
        "no_show": s["no_show"],
        "left": s["left"],
        "within_target": s["within_target"],
        "service_level": s["service_level"],
        "no_show_share": s["no_show_share"],
        "abandonment": s["abandonment"],
        "wait_mean_s": w["mean"],
        "wait_median_s": w["median"],
        "wait_p90_s": w["p90"],
        "handle_mean_s": h["mean"],
        "handle_median_s": h["median"],
        "handle_p90_s": h["p90"],
        "csat": s["csat"],
        "csat_n": s["csat_n"],
        "offered": s["offered"],
        "response_rate": s["response_rate"],
        "ces": s["ces"],
    }


@dataclass
class _Day:
    """A day's cached figures."""

    services: dict[str, dict[str, Any]]
    total: dict[str, Any]
    hourly_volume: dict[str, list[int]]
    hourly_service_level: dict[str, list[float | None]]


EMPTY_SUMMARY = _Acc().summary()


# -- parsing helpers -------------------------------------------------------------


# -- the statistics ----------------------------------------------------------------


class Insight:
    """Figures of one service point, built entry by entry from the three streams."""

    def __init__(self, calendar: Calendar) -> None:
        self.calendar = calendar
        self._cursors = Cursors(STREAMS)
        self.cursors = self._cursors.ids
        """The last applied entry id of each stream (read on after it)."""
        self._cases: dict[str, _Case] = {}
        self._by_day: dict[date, dict[str, _Case]] = {}
        self._accs: dict[date, dict[str, _Acc]] = {}
        self._open: dict[str, _Case] = {}  # arrived and still waiting, called or serving
        self._duty: dict[str, tuple[str, tuple[str, ...], str]] = {}  # staff -> type, services
        self._survey_ticket: dict[str, str] = {}
        self._surveys_done: set[str] = set()
        self._kiosk: dict[date, list[int]] = {}  # day -> [offered, n, high, easy_n, easy_sum]
        self._cache: dict[date, _Day] = {}

    # -- applying entries --------------------------------------------------------

    def service_of(self, ticket: str) -> str | None:
        """The service a ticket is (or was last) queued for."""
        case = self._cases.get(ticket)
        return case.service if case is not None else None

    def apply_queue(self, entry_id: str, fields: Mapping[str, str]) -> None:
        """One entry of the desks' ``queue`` stream (see desks/queue.py `QueueEvent`)."""
        if not self._cursors.take("queue", entry_id):
            return
        kind, ticket, ts = fields.get("type", ""), fields.get("ticket", ""), entry_time(fields)
        if not ticket or ts is None:
            return
        case = self._cases.get(ticket)
        if kind == "arrived":
            if case is not None and case.arrived is not None:
                return  # a ticket arrives once
            service = fields.get("service", "")
            if not service:
                return
            day, hour = self.calendar.local(ts)
            if case is None:
                case = _Case(ticket, service, day, hour)
                self._cases[ticket] = case
            else:  # feedback came first: the case moves to its arrival day
                self._move(case, day, hour)
                case.staff, case.desk, case.status, case.outcome = "", "", "waiting", ""
            case.service = service
            case.arrived = ts
            self._open[ticket] = case
            self._update(case)
            return
        if case is None or case.arrived is None or case.status not in ACTIVE:
            return
        if kind == "called":
            case.status = "called"
            case.staff, case.desk = fields.get("staff", ""), fields.get("desk", "")
            if case.first_called is None:
                case.first_called = ts
        elif kind == "started":
            case.status, case.started = "serving", ts
        elif kind == "transferred":
            case.service = fields.get("service", "") or case.service
            case.status, case.staff, case.desk, case.started = "waiting", "", "", None
        elif kind in ("ended", "left", "no_show"):
            case.status = "done" if kind == "ended" else kind
            case.outcome = (fields.get("outcome", "") or "resolved") if kind == "ended" else kind
            case.ended = ts
            del self._open[ticket]
        else:
            return
        self._update(case)

    def apply_duty(self, entry_id: str, fields: Mapping[str, str]) -> None:
        """One entry of the desks' ``duty`` stream: available, break or off."""
        if not self._cursors.take("duty", entry_id):
            return
        kind, staff = fields.get("type", ""), fields.get("staff", "")
        if not staff:
            return
        if kind == "off":
            self._duty.pop(staff, None)
        elif kind in ON_DUTY:
            parts = (s.strip() for s in fields.get("services", "").split(","))
            services = tuple(s for s in parts if s)
            previous = self._duty.get(staff)
            if not services and previous is not None:
                services = previous[1]
            self._duty[staff] = (kind, services, fields.get("desk", ""))

    def apply_feedback(self, entry_id: str, fields: Mapping[str, str]) -> None:
        """One entry of the feedback ``answers`` stream: offered, answered or dismissed."""
        if not self._cursors.take("feedback", entry_id):
            return
        kind, survey, ts = fields.get("type", ""), fields.get("survey", ""), entry_time(fields)
        if kind not in ("offered", "answered", "dismissed") or ts is None:
            return
        if kind != "offered" and survey and survey in self._surveys_done:
            return  # one answer per survey
        ticket = fields.get("ticket", "") or self._survey_ticket.get(survey, "")
        if fields.get("kind", "case" if ticket else "kiosk") == "kiosk":
            self._kiosk_entry(kind, survey, ts, fields)
            return
        if not ticket:
            return
        rating = answer(fields.get("rating"))
        if kind == "answered" and not rating:
            return
        case = self._cases.get(ticket)
        if kind == "answered" and case is not None and case.rating:
            return
        if case is None:  # feedback about a ticket whose arrival has not been read (yet)
            day, hour = self.calendar.local(ts)
            case = _Case(ticket, fields.get("service", ""), day, hour)
            case.feedback_ts = ts
            case.staff, case.desk = fields.get("staff", ""), fields.get("desk", "")
            case.status = "done"
            case.outcome = fields.get("outcome", "")
            self._cases[ticket] = case
        if survey:
            self._survey_ticket.setdefault(survey, ticket)
            if kind != "offered":
                self._surveys_done.add(survey)
        case.offered = True
        if kind == "answered":
            case.rating, case.easy = rating, answer(fields.get("easy"))
        self._update(case)

    def _kiosk_entry(self, kind: str, survey: str, ts: float, fields: Mapping[str, str]) -> None:
        day, _hour = self.calendar.local(ts)
        counts = self._kiosk.setdefault(day, [0, 0, 0, 0, 0])
        if kind == "offered":
            counts[0] += 1
            return
        if survey:
            self._surveys_done.add(survey)
        if kind == "answered":
            rating = answer(fields.get("rating"))
            if not rating:
                return
            easy = answer(fields.get("easy"))
            counts[1] += 1
            counts[2] += int(rating >= 4)
            counts[3] += int(easy > 0)
            counts[4] += easy

    def _move(self, case: _Case, day: date, hour: int) -> None:
        if case.contribution is not None:
            self._acc(case.day, case.contribution.service).remove(case.contribution)
            case.contribution = None
            self._cache.pop(case.day, None)
        cases = self._by_day.get(case.day)
        if cases is not None:
            cases.pop(case.ticket, None)
        case.day, case.hour = day, hour

    def _acc(self, day: date, service: str) -> _Acc:
        services = self._accs.get(day)
        if services is None:
            services = self._accs[day] = {}
        acc = services.get(service)
        if acc is None:
            acc = services[service] = _Acc()
        return acc

    def _update(self, case: _Case) -> None:
        """Put the case's new contribution in place of its old one."""
        if case.arrived is None and not case.service:
            return  # feedback naming no service, for a ticket not seen yet: counted on arrival
        new = case.contribute(self.calendar.target(case.service))
        old = case.contribution
        if old == new:
            return
        if old is None:
            self._by_day.setdefault(case.day, {})[case.ticket] = case
            self._acc(case.day, new.service).add(new)
        elif old.service == new.service:
            self._acc(case.day, new.service).replace(old, new)
        else:
            self._acc(case.day, old.service).remove(old)
            self._acc(case.day, new.service).add(new)
        case.contribution = new
        self._cache.pop(case.day, None)

    # -- questions -----------------------------------------------------------------

    def _services_now(self, extra: Iterable[str] = ()) -> list[str]:
        """The world's services in order, then any other seen now, sorted."""
        known = list(self.calendar.targets)
        others = set(extra)
        others.update(c.service for c in self._open.values())
        for _kind, services, _desk in self._duty.values():
            others.update(services)
        return known + sorted(others.difference(known))

    def on_duty(self) -> dict[str, tuple[str, ...]]:
        """Staff on duty now (last duty entry ``available`` or ``break``) -> their services."""
        return {staff: services for staff, (_kind, services, _desk) in self._duty.items()}

    def live(self, now: float) -> dict[str, Live]:
        """Per service: queue length, longest current wait, staff on duty and available."""
        waiting: dict[str, int] = {}
        longest: dict[str, float] = {}
        for c in self._open.values():
            if c.status == "waiting" and c.arrived is not None:
                waiting[c.service] = waiting.get(c.service, 0) + 1
                longest[c.service] = max(longest.get(c.service, 0.0), now - c.arrived)
        on_duty: dict[str, int] = {}
        available: dict[str, int] = {}
        for kind, services, _desk in self._duty.values():
            for s in set(services):
                on_duty[s] = on_duty.get(s, 0) + 1
                if kind == "available":
                    available[s] = available.get(s, 0) + 1
        return {
            s: Live(
                queue_length=waiting.get(s, 0),
                current_wait_s=longest.get(s, 0.0),
                staff_on_duty=on_duty.get(s, 0),
                staff_available=available.get(s, 0),
            )
            for s in self._services_now()
        }

    def _day(self, day: date) -> _Day:
        cached = self._cache.get(day)
        if cached is not None:
            return cached
        total = _Acc()
        services: dict[str, dict[str, Any]] = {}
        hourly_volume: dict[str, list[int]] = {}
        hourly_sl: dict[str, list[float | None]] = {}
        for service, acc in self._accs.get(day, {}).items():
            if not (acc.volume or acc.offered or acc.rated):
                continue  # every case moved away (transfers)
            total.merge(acc)
            services[service] = acc.summary()
            hourly_volume[service] = list(acc.hour_volume)
            hourly_sl[service] = acc.hourly_service_level()
        result = _Day(services, total.summary(), hourly_volume, hourly_sl)
        self._cache[day] = result
        return result

    def dashboard(self, now: float, days: int = 30) -> dict[str, Any]:
        """The dashboard JSON (without ``alerts``, which the feature adds)."""
        today, _hour = self.calendar.local(now)
        figures = self._day(today)
        live = self.live(now)
        order = self._services_now(figures.services)
        for s in order:
            live.setdefault(s, Live(0, 0.0, 0, 0))
        services = [
            {
                "id": s,
                "target_wait_s": self.calendar.target(s),
                "queue_length": live[s].queue_length,
                "current_wait_s": live[s].current_wait_s,
                "staff_on_duty": live[s].staff_on_duty,
                "staff_available": live[s].staff_available,
                "today": _copy_summary(figures.services.get(s, EMPTY_SUMMARY)),
            }
            for s in order
        ]
        trend_days = [today - timedelta(days=i) for i in range(max(1, days) - 1, -1, -1)]
        trend = [self._day(d).total for d in trend_days]
        kiosk = self._kiosk.get(today, [0, 0, 0, 0, 0])
        duty = [kind for kind, _services, _desk in self._duty.values()]
        return {
            "version": VERSION,
            "generated_at": now,
            "timezone": self.calendar.tz.key,
            "day": today.isoformat(),
            "open": self.calendar.is_open(now),
            "services": services,
            "totals": {
                "queue_length": sum(x.queue_length for x in live.values()),
                "staff_on_duty": len(duty),
                "staff_available": duty.count("available"),
                "staff_on_break": duty.count("break"),
                "today": _copy_summary(figures.total),
            },
            "hourly": {
                "hours": list(range(HOURS)),
                "volume": {s: list(figures.hourly_volume.get(s, [0] * HOURS)) for s in order},
                "service_level": {
                    s: list(figures.hourly_service_level.get(s, [None] * HOURS)) for s in order
                },
            },
            "trend": {
                "days": [d.isoformat() for d in trend_days],
                "volume": [t["volume"] for t in trend],
                "service_level": [t["service_level"] for t in trend],
                "csat": [t["csat"] for t in trend],
                "csat_n": [t["csat_n"] for t in trend],
            },
            "kiosk": {
                "csat": _ratio(kiosk[2], kiosk[1]),
                "n": kiosk[1],
                "offered": kiosk[0],
                "ces": _ratio(kiosk[4], kiosk[3]),
                "ces_n": kiosk[3],
            },
        }

    def _cases_between(self, start: date, end: date) -> Iterable[_Case]:
        day = start
        while day <= end:
            yield from self._by_day.get(day, {}).values()
            day += timedelta(days=1)

    def report(self, start: date, end: date, by: str) -> list[dict[str, Any]]:
        """Rows of `REPORT_COLUMNS` for the local days start..end (both included), one per
        group, then ``group == "total"`` over every case of the range.

        ``by``: ``day`` (every day of the range, ISO date), ``hour`` (0..23, local hour of
        arrival), ``service`` (the world's services, then others seen), ``desk`` or
        ``staff`` (sorted; `NO_GROUP` last). Raises `ValueError` for another ``by``.
        """
        if by not in GROUPINGS:
            raise ValueError(f"unknown grouping {by!r}; one of {', '.join(GROUPINGS)}")
        groups: dict[str, _Acc] = {}
        if by == "day":
            day = start
            while day <= end:
                groups[day.isoformat()] = _Acc()
                day += timedelta(days=1)
        elif by == "hour":
            groups = {str(h): _Acc() for h in range(HOURS)}
        elif by == "service":
            groups = {s: _Acc() for s in self.calendar.targets}
        total = _Acc()
        for case in self._cases_between(start, end):
            c = case.contribution
            if c is None:
                continue
            if by == "day":
                key = case.day.isoformat()
            elif by == "hour":
                key = str(case.hour)
            elif by == "service":
                key = case.service
            elif by == "desk":
                key = case.desk or NO_GROUP
            else:
                key = case.staff or NO_GROUP
            acc = groups.get(key)
            if acc is None:
                acc = groups[key] = _Acc()
            acc.add(c)
            total.add(c)
        keys = list(groups)
        if by in ("desk", "staff"):
            keys.sort(key=lambda k: (k == NO_GROUP, k))
        elif by == "service":
            known = set(self.calendar.targets)
            keys = list(self.calendar.targets) + sorted(k for k in keys if k not in known)
        rows = [_flat(k, groups[k].summary()) for k in keys]
        rows.append(_flat("total", total.summary()))
        return rows

    def cases(
        self, day: date, service: str | None, hour: int | None, metric: str
    ) -> list[dict[str, Any]]:
        """The cases behind a figure of a local day (optionally one service and local hour),
        in arrival order. ``metric``: volume (every case that arrived), served, no_show,
        left, breached (called after the target, or left uncalled after it), rated_low
        (answered with a rating of 1-3). Raises `ValueError` for another metric."""
        if metric not in CASE_METRICS:
            raise ValueError(f"unknown metric {metric!r}; one of {', '.join(CASE_METRICS)}")
        found: list[_Case] = []
        for case in self._by_day.get(day, {}).values():
            c = case.contribution
            if c is None or (service is not None and case.service != service):
                continue
            if hour is not None and case.hour != hour:
                continue
            if metric == "volume":
                keep = bool(c.volume)
            elif metric == "served":
                keep = bool(c.served)
            elif metric == "no_show":
                keep = bool(c.no_show)
            elif metric == "left":
                keep = bool(c.left)
            elif metric == "breached":
                keep = bool((c.called and not c.within) or c.abandon)
            else:
                keep = 0 < c.rating <= 3
            if keep:
                found.append(case)
        found.sort(key=lambda case: case.sort_key)
        return [case.public() for case in found]


Entry = tuple[str, Mapping[str, str]]


def recompute(
    calendar: Calendar,
    queue_entries: Iterable[Entry],
    duty_entries: Iterable[Entry],
    feedback_entries: Iterable[Entry],
    now: float,
    days: int = 30,
) -> dict[str, Any]:
    """The full-recompute baseline: a fresh `Insight` from every entry, then its dashboard."""
    insight = Insight(calendar)
    for entry_id, fields in queue_entries:
        insight.apply_queue(entry_id, fields)
    for entry_id, fields in duty_entries:
        insight.apply_duty(entry_id, fields)
    for entry_id, fields in feedback_entries:
        insight.apply_feedback(entry_id, fields)
    return insight.dashboard(now, days)
