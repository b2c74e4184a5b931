"""The scorecard as pure state: case lines, day and season points, badges, goals, boards.

No I/O, no asyncio and no clock: entries of the streams the statistics read are
applied as they are read (`Scorecard.apply_queue`, `apply_duty`, `apply_feedback`,
later `apply_training` and `apply_qa`) and every question takes ``now``. The rules
(`server.features.scorecard.rules`) say what each metric is worth; ``docs/SCORECARD.md``
writes the definitions down.

- A *case* is one staff member's serving of a ticket: from their ``called`` to the
  ``ended`` (or the ``transferred`` that passed it on). A ticket transferred to another
  service and served there has two cases, one per staff member; the second one
  *accepted a transfer*. Only cases that were ``started`` (the citizen came to the desk)
  are scored; a no-show, a citizen who left or a call given up earn and cost nothing.
  A case's workday is the local day (the service point's zone) of its end.
- Each case has *lines*, one per metric it is eligible for (`Line`: metric, points,
  reason key and arguments): the informational feedback the staff console shows after
  the case. Points of a line are on the metric's case scale (a rating of 5: 12).
- A workday's points per metric: mean metrics (satisfaction, first_contact,
  handle_band, punctual_breaks) are ``max_points × mean(case points) / best case
  points`` over the day's eligible cases, so 30 identical cases give what 3 give;
  counted metrics (transfers_accepted, qa_answers, training) are the day's sum, capped
  at ``max_points``. A metric without an eligible case that day gives 0. A day's total
  is thus at most the sum of the max points.
- Late inputs recalculate: a rating arriving after the case adds its satisfaction
  line; a ``transferred`` for a ticket that had ended (the case was re-opened) takes
  the first-contact points back. `Scorecard.changed` lists the (staff, ticket) whose
  lines changed, so the feature can send the line as soon as it exists, and again.
- Season points are the sum of the season's day totals; the leaderboard ranks by
  points per workday (so working fewer days is no handicap) and only among staff who
  opted in. Badges come from facts that only grow (languages served with the date,
  the dates a five-star streak first reached each length, ...), so each is awarded once,
  with its date, and a replay of the same logs awards the same badges.
- A staff member who leaves gamification (`Scorecard.set_participating`) is forgotten
  and nothing of theirs is scored until they rejoin; the team's service figures
  (service level, ratings) still count their tickets, as the statistics do.

Entries that do not apply (unknown ticket or type, missing or unreadable field, an id at
or before the stream's cursor) are skipped, never raised.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from server.entries import Cursors, answer, entry_time
from server.features.scorecard.rules import Badge, Challenge, Level, Rules

STREAMS: Final = ("queue", "duty", "feedback", "training", "qa")
DEFAULT_TARGET_S: Final = 600.0
ACTIVE: Final = frozenset(("waiting", "called", "serving"))
PERIODS: Final = ("day", "week", "season")


# -- public values -----------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """One line of a case's feedback: ``reason`` is an i18n key, ``args`` its arguments.

    Keys: ``rated`` {rating}; ``first_contact``; ``referred`` {outcome};
    ``transferred_away``; ``reopened``; ``band_in`` {minutes, low, high};
    ``band_out`` {minutes, low, high, side: below|above}; ``transfer_accepted``.
    """

    metric: str
    points: float
    reason: str
    args: Mapping[str, Any] = field(default_factory=dict)

    def public(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "points": _round(self.points),
            "reason": self.reason,
            "args": dict(self.args),
        }


@dataclass(frozen=True)
class CaseScore:
    ticket: str
    staff: str
    day: date
    service: str
    ended_at: float
    lines: tuple[Line, ...]

    def points(self, metric: str) -> float | None:
        """The case's points on ``metric``; None when the case is not eligible for it."""
        return next((line.points for line in self.lines if line.metric == metric), None)

    def public(self) -> dict[str, Any]:
        return {
            "ticket": self.ticket,
            "day": self.day.isoformat(),
            "service": self.service,
            "ended_at": self.ended_at,
            "lines": [line.public() for line in self.lines],
        }


@dataclass(frozen=True)
class Goal:
    id: str
    kind: str
    target: float | str


class GoalError(ValueError):
    """A personal goal that cannot be set; ``code`` says why (for an error code)."""

    def __init__(self, code: str, reason: str) -> None:
        self.code = code
        super().__init__(reason)


# -- internal state ----------------------------------------------------------------------


class _Seg:
    """One staff member's serving of a ticket (a case)."""

    __slots__ = (
        "called",
        "day",
        "end",
        "end_ts",
        "index",
        "lang",
        "outcome",
        "placed",
        "rating",
        "reopened",
        "score",
        "service",
        "staff",
        "started",
        "ticket",
        "transfer_in",
    )

    def __init__(self, ticket: str, index: int, staff: str, called: float) -> None:
        self.ticket, self.index, self.staff, self.called = ticket, index, staff, called
        self.service = self.lang = self.outcome = ""
        self.end = ""  # "" open, "ended", "transferred", "dropped" (not scored)
        self.started: float | None = None
        self.end_ts = 0.0
        self.day = date.min
        self.rating = 0
        self.reopened = False
        self.transfer_in = False
        self.placed = False
        self.score: CaseScore | None = None

    @property
    def key(self) -> tuple[str, int]:
        return (self.ticket, self.index)


class _Ticket:
    __slots__ = (
        "arrived",
        "day",
        "end_ts",
        "first_called",
        "handed_from",
        "id",
        "lang",
        "rating",
        "segs",
        "service",
        "status",
    )

    def __init__(self, ticket: str, service: str, lang: str, arrived: float, day: date) -> None:
        self.id, self.service, self.lang, self.arrived, self.day = (
            ticket,
            service,
            lang,
            arrived,
            day,
        )
        self.status = "waiting"
        self.first_called: float | None = None
        self.end_ts: float | None = None
        self.handed_from = ""
        self.rating = 0
        self.segs: list[_Seg] = []

    def open_seg(self) -> _Seg | None:
        return self.segs[-1] if self.segs and self.segs[-1].end == "" else None


@dataclass
class _Carry:
    """What a purged season's days leave behind: their sum, count and best day."""

    points: float = 0.0
    days: int = 0
    best: float = -1.0
    best_day: date | None = None


class _Staff:
    __slots__ = (
        "break_start",
        "breaks",
        "cache",
        "carried",
        "cases",
        "duty",
        "high_dates",
        "lang_dates",
        "langs",
        "last",
        "qa",
        "qa_dates",
        "scenarios",
        "services",
        "streak",
        "streak_dates",
        "training",
    )

    def __init__(self) -> None:
        self.cases: dict[date, dict[tuple[str, int], _Seg]] = {}
        self.breaks: dict[date, list[float]] = {}  # durations of the day's returns from break
        self.training: dict[date, dict[str, float]] = {}  # scenario -> best score that day
        self.qa: dict[date, list[int]] = {}  # [official answers, helpful votes]
        self.langs: set[str] = set()
        self.lang_dates: list[date] = []  # the day each new language was first served
        self.streak = 0
        self.streak_dates: list[date] = []  # [k-1]: the day a streak of 5s first reached k
        self.high_dates: list[date] = []  # the days of ratings 4-5
        self.qa_dates: list[date] = []
        self.scenarios: dict[str, date] = {}
        self.last: _Seg | None = None
        self.carried: dict[int, _Carry] = {}
        self.services: tuple[str, ...] = ()
        self.duty = "off"
        self.break_start: float | None = None
        self.cache: dict[date, dict[str, float]] = {}

    def workdays(self) -> set[date]:
        days = {d for d, segs in self.cases.items() if segs}
        days.update(d for d, v in self.breaks.items() if v)
        days.update(d for d, v in self.training.items() if v)
        days.update(d for d, v in self.qa.items() if any(v))
        return days


# -- helpers -------------------------------------------------------------------------------


def _round(x: float) -> float:
    return round(x, 2) + 0.0


def _mean(values: list[float]) -> float:
    """An exactly rounded mean that gives the value itself for identical values."""
    if min(values) == max(values):
        return values[0]
    return math.fsum(values) / len(values)


def _ratio(num: float, den: float) -> float | None:
    return num / den if den else None


def _week(day: date) -> tuple[date, date]:
    first = day - timedelta(days=day.weekday())
    return first, first + timedelta(days=6)


def _days(first: date, last: date) -> Iterable[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


# -- the scorecard -------------------------------------------------------------------------


class Scorecard:
    """Points of every staff member, built entry by entry from the streams."""

    def __init__(
        self, rules: Rules, tz: ZoneInfo, targets: Mapping[str, float] | None = None
    ) -> None:
        self.rules = rules
        self.tz = tz
        self.targets: Mapping[str, float] = dict(targets or {})
        self._cursors = Cursors(STREAMS)
        self.cursors = self._cursors.ids
        """The last applied entry id of each stream (read on after it)."""
        self._tickets: dict[str, _Ticket] = {}
        self._by_day: dict[date, set[str]] = {}  # tickets by local day of arrival
        self._staff: dict[str, _Staff] = {}
        self._left: set[str] = set()
        self._since: dict[str, float] = {}
        self._opt_in: set[str] = set()
        self._goals: dict[str, dict[str, Goal]] = {}
        self._pending: dict[str, list[tuple[str, int, float]]] = {}  # ticket -> ratings
        self._surveys: dict[str, float] = {}  # answered survey -> ts
        self._answers: dict[str, str] = {}  # Q&A answer id -> staff
        self._team_cache: dict[date, dict[str, list[int]]] = {}
        self._changed: set[tuple[str, str]] = set()
        self._touched: set[str] = set()

    # -- time ------------------------------------------------------------------------

    def local_day(self, ts: float) -> date:
        return datetime.fromtimestamp(ts, self.tz).date()

    def target(self, service: str) -> float:
        return float(self.targets.get(service, DEFAULT_TARGET_S))

    # -- who takes part --------------------------------------------------------------

    def participating(self, staff: str) -> bool:
        return staff not in self._left

    def set_participating(self, staff: str, participating: bool, since: float = 0.0) -> None:
        """Leave (False: everything of theirs is forgotten and nothing is scored) or
        rejoin gamification (True: entries from ``since`` on are scored). The feature sets
        these before replaying the logs, so a restart gives the same state."""
        if not participating:
            st = self._staff.pop(staff, None)
            if st is not None:
                for segs in st.cases.values():
                    for seg in segs.values():
                        seg.placed, seg.score = False, None
            self._left.add(staff)
            self._opt_in.discard(staff)
            self._goals.pop(staff, None)
            self._changed = {(s, t) for s, t in self._changed if s != staff}
            self._touched.discard(staff)
            return
        self._left.discard(staff)
        if since > 0:
            self._since[staff] = since
        else:
            self._since.pop(staff, None)
        self._touched.add(staff)

    def set_opt_in(self, staff: str, opted_in: bool) -> None:
        """Show this staff member on the leaderboard (off by default)."""
        if opted_in and self.participating(staff):
            self._opt_in.add(staff)
        else:
            self._opt_in.discard(staff)
        self._touched.add(staff)

    def opted_in(self, staff: str) -> bool:
        return staff in self._opt_in

    def _scored(self, staff: str, ts: float) -> _Staff | None:
        """The staff member's state if an event of theirs at ``ts`` is scored."""
        if not staff or staff in self._left or ts < self._since.get(staff, -math.inf):
            return None
        st = self._staff.get(staff)
        if st is None:
            st = self._staff[staff] = _Staff()
        return st

    # -- applying entries ------------------------------------------------------------

    def apply_queue(self, entry_id: str, fields: Mapping[str, str]) -> None:
        """One entry of the desks' ``queue`` stream (desks/queue.py `QueueEvent`)."""
        if not self._cursors.take("queue", entry_id):
            return
        kind, ticket, ts = fields.get("type", ""), fields.get("ticket", ""), entry_time(fields)
        if not ticket or ts is None:
            return
        tk = self._tickets.get(ticket)
        if kind == "arrived":
            service = fields.get("service", "")
            if tk is not None or not service:
                return
            day = self.local_day(ts)
            tk = _Ticket(ticket, service, fields.get("lang", ""), ts, day)
            self._tickets[ticket] = tk
            self._by_day.setdefault(day, set()).add(ticket)
            self._team_cache.pop(day, None)
            return
        if tk is None:
            return
        if kind == "transferred" and tk.status == "done":
            self._reopen(tk, fields)
            return
        if tk.status not in ACTIVE:
            return
        seg = tk.open_seg()
        if kind == "called":
            if seg is not None:
                seg.end = "dropped"  # called again without a transfer: the call is replaced
            tk.status = "called"
            if tk.first_called is None:
                tk.first_called = ts
            staff = fields.get("staff", "")
            if staff:
                new = _Seg(ticket, len(tk.segs), staff, ts)
                new.service, new.lang = tk.service, tk.lang
                new.transfer_in = bool(tk.handed_from) and tk.handed_from != staff
                tk.segs.append(new)
        elif kind == "started":
            tk.status = "serving"
            if seg is not None:
                seg.started = ts
        elif kind == "transferred":
            if seg is not None:
                tk.handed_from = seg.staff
                if seg.started is not None:
                    seg.end, seg.end_ts = "transferred", ts
                    self._place(seg)
                else:
                    seg.end = "dropped"
            tk.service = fields.get("service", "") or tk.service
            tk.lang = fields.get("lang", "") or tk.lang
            tk.status = "waiting"
        elif kind == "ended":
            tk.status, tk.end_ts = "done", ts
            if seg is not None:
                seg.outcome = fields.get("outcome", "") or "resolved"
                seg.end_ts = ts
                if seg.started is not None:
                    seg.end = "ended"
                    self._place(seg)
                    self._served(seg)
                    self._attach_pending(tk, seg)
                else:
                    seg.end = "dropped"
        elif kind in ("left", "no_show"):
            tk.status, tk.end_ts = kind, ts
            if seg is not None:
                seg.end = "dropped"
        else:
            return
        self._team_cache.pop(tk.day, None)

    def _reopen(self, tk: _Ticket, fields: Mapping[str, str]) -> None:
        """A ``transferred`` after ``ended``: the case was re-opened; the ended case loses
        its first contact and the ticket waits again for the next staff member."""
        last = tk.segs[-1] if tk.segs else None
        if last is not None and last.end == "ended":
            last.reopened = True
            tk.handed_from = last.staff
            self._rescore(last)
        tk.service = fields.get("service", "") or tk.service
        tk.lang = fields.get("lang", "") or tk.lang
        tk.status, tk.end_ts = "waiting", None
        self._team_cache.pop(tk.day, None)

    def _place(self, seg: _Seg) -> None:
        """A started case has ended or was passed on: it is scored on its day."""
        st = self._scored(seg.staff, seg.end_ts)
        if st is None:
            return
        seg.day = self.local_day(seg.end_ts)
        seg.placed = True
        st.cases.setdefault(seg.day, {})[seg.key] = seg
        if st.last is None or (seg.end_ts, seg.index) >= (st.last.end_ts, st.last.index):
            st.last = seg
        self._rescore(seg)

    def _served(self, seg: _Seg) -> None:
        st = self._staff.get(seg.staff)
        if st is None or not seg.placed or not seg.lang or seg.lang in st.langs:
            return
        st.langs.add(seg.lang)
        st.lang_dates.append(seg.day)

    def _rescore(self, seg: _Seg) -> None:
        if not seg.placed:
            return
        st = self._staff.get(seg.staff)
        if st is None:
            return
        score = self._case_score(seg)
        if score == seg.score:
            return
        seg.score = score
        st.cache.pop(seg.day, None)
        self._changed.add((seg.staff, seg.ticket))
        self._touched.add(seg.staff)

    def apply_feedback(self, entry_id: str, fields: Mapping[str, str]) -> None:
        """One entry of the feedback ``answers`` stream; case ratings are what counts."""
        if not self._cursors.take("feedback", entry_id):
            return
        if fields.get("type") != "answered" or fields.get("kind", "case") != "case":
            return
        ticket, rating, ts = (
            fields.get("ticket", ""),
            answer(fields.get("rating")),
            entry_time(fields),
        )
        if not ticket or not rating or ts is None:
            return
        survey = fields.get("survey", "")
        if survey:
            if survey in self._surveys:
                return  # one answer per survey
            self._surveys[survey] = ts
        hint = fields.get("staff", "")
        if not self._attach(ticket, hint, rating, ts):
            self._pending.setdefault(ticket, []).append((hint, rating, ts))

    def _attach(self, ticket: str, hint: str, rating: int, ts: float) -> bool:
        """Put a rating on the ticket's last ended, unrated case (of ``hint``, if named)."""
        tk = self._tickets.get(ticket)
        if tk is None:
            return False
        seg = next(
            (
                s
                for s in reversed(tk.segs)
                if s.end == "ended" and not s.rating and (not hint or s.staff == hint)
            ),
            None,
        )
        if seg is None:
            return False
        self._rate(tk, seg, rating, ts)
        return True

    def _rate(self, tk: _Ticket, seg: _Seg, rating: int, ts: float) -> None:
        seg.rating = rating
        if not tk.rating:
            tk.rating = rating
            self._team_cache.pop(tk.day, None)
        st = self._staff.get(seg.staff)
        if st is None or not seg.placed:
            return
        day = self.local_day(ts)
        if rating == 5:
            st.streak += 1
            if st.streak > len(st.streak_dates):
                st.streak_dates.append(day)
        else:
            st.streak = 0
        if rating >= 4:
            st.high_dates.append(day)
        self._rescore(seg)

    def _attach_pending(self, tk: _Ticket, seg: _Seg) -> None:
        pending = self._pending.get(tk.id)
        if not pending:
            return
        for i, (hint, rating, ts) in enumerate(pending):
            if not hint or hint == seg.staff:
                del pending[i]
                if not pending:
                    del self._pending[tk.id]
                self._rate(tk, seg, rating, ts)
                return

    def apply_duty(self, entry_id: str, fields: Mapping[str, str]) -> None:
        """One entry of the desks' ``duty`` stream: available, break or off."""
        if not self._cursors.take("duty", entry_id):
            return
        kind, staff, ts = fields.get("type", ""), fields.get("staff", ""), entry_time(fields)
        if kind not in ("available", "break", "off") or ts is None:
            return
        st = self._scored(staff, ts)
        if st is None:
            return
        parts = (s.strip() for s in fields.get("services", "").split(","))
        services = tuple(s for s in parts if s)
        if services:
            st.services = services
        if kind == "break":
            if st.duty != "break":
                st.break_start = ts
        elif kind == "available" and st.duty == "break" and st.break_start is not None:
            day = self.local_day(ts)
            st.breaks.setdefault(day, []).append(ts - st.break_start)
            st.cache.pop(day, None)
            self._touched.add(staff)
        if kind != "break":
            st.break_start = None
        st.duty = kind

    def apply_training(self, entry_id: str, fields: Mapping[str, str]) -> None:
        """One entry of the training feature's ``completed`` stream: ``completed`` with staff,
        scenario, score (0..1) and ts."""
        if not self._cursors.take("training", entry_id):
            return
        ts, scenario = entry_time(fields), fields.get("scenario", "")
        if fields.get("type") != "completed" or ts is None or not scenario:
            return
        try:
            score = float(fields.get("score", ""))
        except ValueError:
            return
        if not math.isfinite(score):
            return
        score = min(1.0, max(0.0, score))
        staff = fields.get("staff", "")
        st = self._scored(staff, ts)
        if st is None:
            return
        day = self.local_day(ts)
        best = st.training.setdefault(day, {})
        best[scenario] = max(best.get(scenario, 0.0), score)
        st.scenarios.setdefault(scenario, day)
        st.cache.pop(day, None)
        self._touched.add(staff)

    def apply_qa(self, entry_id: str, fields: Mapping[str, str]) -> None:
        """One entry of the Q&A wall's ``activity`` stream: ``official_answer`` (staff,
        answer, ts) or ``helpful`` (a helpful vote on an answer: answer, ts; staff = the
        answer's author); other types are ignored."""
        if not self._cursors.take("qa", entry_id):
            return
        kind, ts, answer = fields.get("type", ""), entry_time(fields), fields.get("answer", "")
        if ts is None:
            return
        if kind == "official_answer":
            staff = fields.get("staff", "")
            if answer:
                self._answers[answer] = staff
        elif kind == "helpful":
            staff = self._answers.get(answer, "") or fields.get("staff", "")
        else:
            return
        st = self._scored(staff, ts)
        if st is None:
            return
        day = self.local_day(ts)
        counts = st.qa.setdefault(day, [0, 0])
        if kind == "official_answer":
            counts[0] += 1
            st.qa_dates.append(day)
        else:
            counts[1] += 1
        st.cache.pop(day, None)
        self._touched.add(staff)

    # -- changes ---------------------------------------------------------------------

    def changed(self) -> list[tuple[str, str]]:
        """The (staff, ticket) whose case lines changed since the last call (then cleared)."""
        out = sorted(self._changed)
        self._changed.clear()
        return out

    def changed_staff(self) -> list[str]:
        """Staff whose progress may have changed since the last call (then cleared)."""
        out = sorted(self._touched)
        self._touched.clear()
        return out

    def reload(self, rules: Rules) -> None:
        """New rules: every kept case and day is recalculated with them (the days purged
        earlier keep the points they had). Case lines are not reported by `changed`."""
        self.rules = rules
        for staff, st in self._staff.items():
            st.cache.clear()
            for segs in st.cases.values():
                for seg in segs.values():
                    seg.score = self._case_score(seg)
            self._touched.add(staff)

    def purge_before(self, day: date) -> None:
        """Drop per-case and per-day history of local days before ``day`` (retention).
        Season points, levels and badges keep what the purged days gave."""
        for st in self._staff.values():
            for d in sorted(x for x in st.workdays() if x < day):
                total = math.fsum(self._day_points(st, d).values())
                carry = st.carried.setdefault(self.rules.season.index(d), _Carry())
                carry.points += total
                carry.days += 1
                if total > carry.best:
                    carry.best, carry.best_day = total, d
            for per_day in (st.cases, st.breaks, st.training, st.qa, st.cache):
                for d in [x for x in per_day if x < day]:
                    del per_day[d]
            if st.last is not None and st.last.day < day:
                st.last = None
        for d in [x for x in self._by_day if x < day]:
            keep: set[str] = set()
            for ticket in self._by_day[d]:
                tk = self._tickets[ticket]
                if tk.status in ACTIVE or any(s.placed and s.day >= day for s in tk.segs):
                    keep.add(ticket)
                    continue
                del self._tickets[ticket]
                self._pending.pop(ticket, None)
            if keep:
                self._by_day[d] = keep
            else:
                del self._by_day[d]
            self._team_cache.pop(d, None)
        start = datetime(day.year, day.month, day.day, tzinfo=self.tz).timestamp()
        for ticket in list(self._pending):
            kept = [p for p in self._pending[ticket] if p[2] >= start]
            if kept:
                self._pending[ticket] = kept
            else:
                del self._pending[ticket]
        self._surveys = {s: ts for s, ts in self._surveys.items() if ts >= start}

    # -- scoring -----------------------------------------------------------------------

    def _case_score(self, seg: _Seg) -> CaseScore:
        lines: list[Line] = []
        for m in self.rules.metrics:
            if m.name == "satisfaction" and seg.rating:
                lines.append(
                    Line(m.name, m.zone_points(seg.rating), "rated", {"rating": seg.rating})
                )
            elif m.name == "first_contact":
                if seg.end == "transferred":
                    lines.append(Line(m.name, 0.0, "transferred_away"))
                elif seg.reopened:
                    lines.append(Line(m.name, 0.0, "reopened"))
                elif seg.outcome == "resolved":
                    lines.append(Line(m.name, m.case_points, "first_contact"))
                else:
                    lines.append(Line(m.name, 0.0, "referred", {"outcome": seg.outcome}))
            elif m.name == "handle_band" and seg.end == "ended" and seg.started is not None:
                handle = seg.end_ts - seg.started
                args: dict[str, Any] = {
                    "minutes": round(handle / 60.0, 1),
                    "low": round(m.band[0] / 60.0, 1),
                    "high": round(m.band[1] / 60.0, 1),
                }
                if m.in_band(handle):
                    lines.append(Line(m.name, m.case_points, "band_in", args))
                else:
                    args["side"] = "below" if handle < m.band[0] else "above"
                    lines.append(Line(m.name, 0.0, "band_out", args))
            elif m.name == "transfers_accepted" and seg.transfer_in:
                lines.append(Line(m.name, m.case_points, "transfer_accepted"))
        return CaseScore(
            ticket=seg.ticket,
            staff=seg.staff,
            day=seg.day,
            service=seg.service,
            ended_at=seg.end_ts,
            lines=tuple(lines),
        )

    def _day_points(self, st: _Staff, day: date) -> dict[str, float]:
        cached = st.cache.get(day)
        if cached is not None:
            return cached
        segs = [s.score for s in st.cases.get(day, {}).values() if s.score is not None]
        out: dict[str, float] = {}
        for m in self.rules.metrics:
            if m.name == "punctual_breaks":
                values = [m.case_points if d <= m.break_s else 0.0 for d in st.breaks.get(day, [])]
            elif m.name == "training":
                values = [m.case_points * s for s in st.training.get(day, {}).values()]
            elif m.name == "qa_answers":
                answers, votes = st.qa.get(day, [0, 0])
                values = [answers * m.case_points, votes * m.vote_points]
            else:
                values = [p for score in segs if (p := score.points(m.name)) is not None]
            if not values:
                points = 0.0
            elif m.mode == "mean":
                points = m.max_points * _mean(values) / m.case_max if m.case_max > 0 else 0.0
            else:
                points = math.fsum(values)
            out[m.name] = min(m.max_points, max(0.0, points))
        st.cache[day] = out
        return out

    def day_points(self, staff: str, day: date) -> dict[str, float]:
        """Exact points per metric of a staff member's local workday (0 for every metric
        on a day without input, or for a staff member who does not take part)."""
        st = self._staff.get(staff)
        if st is None:
            return {m.name: 0.0 for m in self.rules.metrics}
        return dict(self._day_points(st, day))

    def day_total(self, staff: str, day: date) -> float:
        return math.fsum(self.day_points(staff, day).values())

    def _season(self, st: _Staff, index: int) -> tuple[float, int, float, date | None]:
        """Season ``index``: points, workdays, best day total and its day."""
        first, last = self.rules.season.bounds(index)
        carry = st.carried.get(index, _Carry())
        totals = [carry.points]
        days = carry.days
        best, best_day = carry.best, carry.best_day
        for d in sorted(st.workdays()):
            if first <= d <= last:
                total = math.fsum(self._day_points(st, d).values())
                totals.append(total)
                days += 1
                if total > best:
                    best, best_day = total, d
        return math.fsum(totals), days, best, best_day

    def season_points(self, staff: str, now: float) -> float:
        st = self._staff.get(staff)
        if st is None:
            return 0.0
        return self._season(st, self.rules.season.index(self.local_day(now)))[0]

    # -- badges ------------------------------------------------------------------------

    def _awards(self, st: _Staff) -> list[tuple[Badge, date]]:
        out: list[tuple[Badge, date]] = []
        for badge in self.rules.badges:
            at: date | None = None
            if badge.condition == "scenario":
                at = st.scenarios.get(str(badge.value))
            else:
                dates = {
                    "languages_served": st.lang_dates,
                    "five_star_streak": st.streak_dates,
                    "qa_answers": st.qa_dates,
                    "cases_rated": st.high_dates,
                }[badge.condition]
                n = int(badge.value)
                at = dates[n - 1] if len(dates) >= n else None
            if at is not None:
                out.append((badge, at))
        return out

    def badges(self, staff: str) -> list[dict[str, Any]]:
        """The badges a staff member holds, each once, with the local day it was earned."""
        st = self._staff.get(staff)
        if st is None:
            return []
        return [
            {
                "id": b.id,
                "names": dict(b.names),
                "descriptions": dict(b.descriptions),
                "at": at.isoformat(),
            }
            for b, at in self._awards(st)
        ]

    # -- goals -------------------------------------------------------------------------

    def set_goal(
        self, staff: str, kind: str, target: float | str, goal_id: str | None = None
    ) -> Goal:
        """Set (or replace) a personal goal; raise `GoalError` when it cannot be set."""
        if not self.participating(staff):
            raise GoalError("not_participating", "You have left gamification.")
        if kind not in self.rules.goal_kinds:
            raise GoalError("unknown_goal", f"Goals of kind {kind!r} are not offered.")
        if kind == "training_scenario":
            if not isinstance(target, str) or not target:
                raise GoalError("bad_goal", "A training goal names a scenario.")
            value: float | str = target
        else:
            if isinstance(target, str | bool):
                raise GoalError("bad_goal", "This goal's target is a number.")
            low, high = (0.0, 1.0) if kind == "csat_week" else (1.0, 5.0)
            if not (math.isfinite(target) and low <= target <= high and target > 0):
                raise GoalError("bad_goal", f"The target must be from {low:g} to {high:g}.")
            value = float(target)
        gid = goal_id or (f"{kind}:{value}" if kind == "training_scenario" else kind)
        goals = self._goals.setdefault(staff, {})
        if gid not in goals and len(goals) >= self.rules.max_goals:
            raise GoalError("too_many_goals", f"At most {self.rules.max_goals} goals at a time.")
        goal = goals[gid] = Goal(gid, kind, value)
        self._touched.add(staff)
        return goal

    def clear_goal(self, staff: str, goal_id: str) -> bool:
        goals = self._goals.get(staff, {})
        found = goals.pop(goal_id, None) is not None
        if found:
            self._touched.add(staff)
        return found

    def goals(self, staff: str) -> list[Goal]:
        return list(self._goals.get(staff, {}).values())

    def _goal_progress(self, st: _Staff | None, goal: Goal, today: date) -> dict[str, Any]:
        out: dict[str, Any] = {"id": goal.id, "kind": goal.kind, "target": goal.target}
        if goal.kind == "training_scenario":
            at = st.scenarios.get(str(goal.target)) if st is not None else None
            out.update(value=None, n=0, met=at is not None, progress=1.0 if at else 0.0)
            return out
        first, last = _week(today)
        ratings = []
        if st is not None:
            for d in _days(first, last):
                ratings += [s.rating for s in st.cases.get(d, {}).values() if s.rating]
        if goal.kind == "csat_week":
            value = _ratio(sum(1 for r in ratings if r >= 4), len(ratings))
        else:
            value = _ratio(sum(ratings), len(ratings))
        target = float(goal.target)
        met = value is not None and value >= target
        progress = 0.0 if value is None else min(1.0, value / target)
        out.update(
            value=value,
            n=len(ratings),
            met=met,
            progress=progress,
            **{"from": first.isoformat(), "to": last.isoformat()},
        )
        return out

    # -- team figures ------------------------------------------------------------------

    def _team_day(self, day: date) -> dict[str, list[int]]:
        """Per service: [within target, service-level denominator, rated, rated 4-5,
        sum of ratings] over the tickets that arrived that local day."""
        cached = self._team_cache.get(day)
        if cached is not None:
            return cached
        out: dict[str, list[int]] = {}
        for ticket in self._by_day.get(day, ()):
            tk = self._tickets[ticket]
            acc = out.setdefault(tk.service, [0, 0, 0, 0, 0])
            target = self.target(tk.service)
            if tk.first_called is not None:
                acc[1] += 1
                acc[0] += int(tk.first_called - tk.arrived <= target)
            elif tk.status == "left" and tk.end_ts is not None and tk.end_ts - tk.arrived > target:
                acc[1] += 1  # a long abandon is a miss
            if tk.rating:
                acc[2] += 1
                acc[3] += int(tk.rating >= 4)
                acc[4] += tk.rating
        self._team_cache[day] = out
        return out

    def _team_figures(
        self, first: date, last: date, services: tuple[str, ...] | None
    ) -> dict[str, Any]:
        sums = [0, 0, 0, 0, 0]
        for d in _days(first, last):
            for service, acc in self._team_day(d).items():
                if services is None or service in services:
                    for i in range(5):
                        sums[i] += acc[i]
        return {
            "service_level": _ratio(sums[0], sums[1]),
            "service_level_n": sums[1],
            "csat": _ratio(sums[3], sums[2]),
            "csat_n": sums[2],
            "rating_mean": _ratio(sums[4], sums[2]),
        }

    def _period(self, today: date, period: str) -> tuple[date, date]:
        if period == "day":
            return today, today
        if period == "week":
            return _week(today)
        if period == "season":
            return self.rules.season.bounds(self.rules.season.index(today))
        raise ValueError(f"unknown period {period!r}; one of {', '.join(PERIODS)}")

    def _challenge(self, challenge: Challenge, today: date) -> dict[str, Any]:
        first, last = self._period(today, challenge.period)
        figures = self._team_figures(first, last, challenge.services)
        goals = []
        for kind, target in challenge.goals():
            value = figures["rating_mean" if kind == "rating" else kind]
            n = figures["service_level_n" if kind == "service_level" else "csat_n"]
            goals.append(
                {
                    "kind": kind,
                    "target": target,
                    "value": value,
                    "n": n,
                    "met": value is not None and value >= target,
                    "progress": 0.0 if value is None else min(1.0, value / target),
                }
            )
        return {
            "id": challenge.id,
            "names": dict(challenge.names),
            "period": challenge.period,
            "team": "all" if challenge.services is None else list(challenge.services),
            "from": first.isoformat(),
            "to": last.isoformat(),
            "goals": goals,
            "met": all(g["met"] for g in goals),
            "progress": math.fsum(g["progress"] for g in goals) / len(goals) if goals else 0.0,
        }

    def team(
        self, now: float, period: str = "day", services: tuple[str, ...] | None = None
    ) -> dict[str, Any]:
        """Team aggregates for the period around ``now`` (day, week or season): the service
        figures of the team's tickets and the mean day points of the participating staff,
        with ``group_size`` (staff with a workday in the period) for the feature's
        minimum-group rule. No individual figure."""
        today = self.local_day(now)
        first, last = self._period(today, period)
        totals: list[float] = []
        per_metric: dict[str, list[float]] = {m.name: [] for m in self.rules.metrics}
        group = 0
        for st in self._staff.values():
            if services is not None and not set(st.services) & set(services):
                continue
            days = [d for d in st.workdays() if first <= d <= last]
            if days:
                group += 1
            for d in days:
                points = self._day_points(st, d)
                totals.append(math.fsum(points.values()))
                for name, value in points.items():
                    per_metric[name].append(value)
        return {
            "period": period,
            "from": first.isoformat(),
            "to": last.isoformat(),
            "group_size": group,
            **self._team_figures(first, last, services),
            "points_mean": _round(math.fsum(totals) / len(totals)) if totals else None,
            "metrics": {
                name: _round(math.fsum(v) / len(v)) if v else None for name, v in per_metric.items()
            },
            "challenges": [
                self._challenge(c, today)
                for c in self.rules.challenges
                if services is None or c.services is None or set(c.services) & set(services)
            ],
        }

    # -- a staff member's view ---------------------------------------------------------

    def case_score(self, ticket: str, staff: str | None = None) -> CaseScore | None:
        """The lines of the ticket's last scored case (of ``staff``, when given)."""
        tk = self._tickets.get(ticket)
        if tk is None:
            return None
        for seg in reversed(tk.segs):
            if seg.placed and seg.score is not None and (staff is None or seg.staff == staff):
                return seg.score
        return None

    def progress(self, staff: str, now: float) -> dict[str, Any]:
        """What the staff member's "my progress" panel shows (only to them)."""
        if not self.participating(staff):
            return {"staff": staff, "participating": False}
        st = self._staff.get(staff)
        today = self.local_day(now)
        season = self.rules.season
        index = season.index(today)
        first, last = season.bounds(index)
        if st is not None:
            points = self._day_points(st, today)
            season_points, workdays, best, best_day = self._season(st, index)
        else:
            points = {m.name: 0.0 for m in self.rules.metrics}
            season_points, workdays, best, best_day = 0.0, 0, -1.0, None
        level, next_level = self.rules.level_for(season_points)
        return {
            "staff": staff,
            "participating": True,
            "opted_in": staff in self._opt_in,
            "day": today.isoformat(),
            "today": {
                "points": _round(math.fsum(points.values())),
                "max": _round(self.rules.max_total()),
                "metrics": {
                    m.name: {"points": _round(points[m.name]), "max": _round(m.max_points)}
                    for m in self.rules.metrics
                },
            },
            "season": {
                "index": index,
                "from": first.isoformat(),
                "to": last.isoformat(),
                "points": _round(season_points),
                "workdays": workdays,
                "per_workday": _round(season_points / workdays) if workdays else None,
            },
            "best_day": (
                {"day": best_day.isoformat(), "points": _round(best)}
                if best_day is not None
                else None
            ),
            "level": _level(level),
            "next_level": _level(next_level),
            "badges": self.badges(staff),
            "last_case": (
                st.last.score.public()
                if st is not None and st.last is not None and st.last.score is not None
                else None
            ),
            "goals": [
                self._goal_progress(st, g, today)
                for g in self.goals(staff)
                if g.kind in self.rules.goal_kinds
            ],
            "challenges": [
                self._challenge(c, today)
                for c in self.rules.challenges
                if c.services is None
                or st is None
                or not st.services
                or set(c.services) & set(st.services)
            ],
        }

    def leaderboard(self, now: float, viewer: str, top_n: int = 5) -> dict[str, Any]:
        """This season's board of the staff who opted in, ranked by points per workday:
        the top ``top_n`` and the viewer's own rank ±1. A viewer who has not opted in
        sees no board."""
        today = self.local_day(now)
        index = self.rules.season.index(today)
        first, last = self.rules.season.bounds(index)
        base: dict[str, Any] = {
            "season": index,
            "from": first.isoformat(),
            "to": last.isoformat(),
            "opted_in": viewer in self._opt_in,
        }
        if viewer not in self._opt_in:
            return {**base, "size": 0, "entries": [], "viewer": None}
        rows: list[tuple[float, str, float, int]] = []
        for staff in self._opt_in:
            st = self._staff.get(staff)
            if st is None:
                continue
            points, days, _best, _day = self._season(st, index)
            if days:
                rows.append((points / days, staff, points, days))
        rows.sort(key=lambda r: (-r[0], r[1]))
        ranks: list[int] = []
        for i, row in enumerate(rows):
            ranks.append(ranks[-1] if i and row[0] == rows[i - 1][0] else i + 1)
        shown = set(range(min(max(0, top_n), len(rows))))
        mine = next((i for i, r in enumerate(rows) if r[1] == viewer), None)
        if mine is not None:
            shown.update(i for i in (mine - 1, mine, mine + 1) if 0 <= i < len(rows))
        entries = [
            {
                "rank": ranks[i],
                "staff": rows[i][1],
                "points": _round(rows[i][0]),
                "season_points": _round(rows[i][2]),
                "workdays": rows[i][3],
                "you": rows[i][1] == viewer,
            }
            for i in sorted(shown)
        ]
        viewer_entry = next((e for e in entries if e["you"]), None)
        return {**base, "size": len(rows), "entries": entries, "viewer": viewer_entry}


def _level(level: Level | None) -> dict[str, Any] | None:
    if level is None:
        return None
    return {"id": level.id, "names": dict(level.names), "points": _round(level.points)}
