"""The scorecard's rules: metrics and their weights, levels, badges, goals, challenges, seasons.

Pure (no I/O, no clock). The rules live in a TOML file (``server/data/scorecard.toml``
is the default and a commented example; ``docs/SCORECARD.md`` describes the format).
The feature reads the file, calls `load_rules` and, when the file changes,
`Scorecard.reload`. A file that does not parse or does not make sense raises
`RuleError`, whose message names the line; the caller keeps the last good `Rules`.

Each metric has a ``max_points`` cap, which is its weight in the balanced
scorecard: a staff member's points for a workday are the sum over the metrics of
at most ``max_points`` each. There is deliberately no metric for raw volume (cases
per hour, cases per day): `KNOWN_METRICS` is closed, and an unknown name is an error.
`Rules.quality_share` is the share of the max points on quality and outcome
(`QUALITY_AND_OUTCOME`); ``[balance] min_quality_share`` (0.5 unless the file says
otherwise) refuses rules that put less there.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Final

from server.rulesfile import RuleError as RuleError
from server.rulesfile import TomlLines, load_toml

KNOWN_METRICS: Final = (
    "satisfaction",
    "first_contact",
    "handle_band",
    "transfers_accepted",
    "qa_answers",
    "training",
    "punctual_breaks",
)
"""Every metric a rules file may name, in the order case lines list them."""

QUALITY_AND_OUTCOME: Final = frozenset(("satisfaction", "first_contact"))
"""Metrics of quality (the citizens' ratings) and outcome (resolved at first contact)."""

MEAN_METRICS: Final = frozenset(("satisfaction", "first_contact", "handle_band", "punctual_breaks"))
"""Day points = max_points × mean(case points) / the metric's best case points: volume-free."""

COUNT_METRICS: Final = frozenset(("transfers_accepted", "qa_answers", "training"))
"""Day points = the sum of the day's events' points, capped at max_points."""

BADGE_CONDITIONS: Final = (
    "languages_served",
    "five_star_streak",
    "qa_answers",
    "scenario",
    "cases_rated",
)
"""``languages_served = n``: served citizens in n languages; ``five_star_streak = n``: n ratings
of 5 in a row; ``qa_answers = n``: n official Q&A answers; ``scenario = "id"``: finished that
training scenario; ``cases_rated = n``: n cases rated 4 or 5."""

GOAL_KINDS: Final = ("csat_week", "rating_week", "training_scenario")
"""``csat_week``: share of ratings 4–5 this week ≥ target (0–1); ``rating_week``: mean rating
this week ≥ target (1–5); ``training_scenario``: finish the scenario named by target."""

PERIODS: Final = ("day", "week")
BADGE_MAX_N: Final = 1000
"""The largest count a badge condition may ask for (the scorecard keeps that many dates)."""

_METRIC_KEYS: Final[Mapping[str, frozenset[str]]] = {
    "satisfaction": frozenset(("zones",)),
    "first_contact": frozenset(("case_points",)),
    "handle_band": frozenset(("case_points", "band")),
    "transfers_accepted": frozenset(("case_points",)),
    "qa_answers": frozenset(("case_points", "vote_points")),
    "training": frozenset(("case_points",)),
    "punctual_breaks": frozenset(("case_points", "break_s")),
}
_REQUIRED_KEYS: Final[Mapping[str, tuple[str, ...]]] = {
    "satisfaction": ("zones",),
    "handle_band": ("case_points", "band"),
}
_TOP_KEYS: Final = ("balance", "season", "metric", "goals", "level", "badge", "challenge")
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_LANG = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})?$")


# -- the rules -------------------------------------------------------------------------


@dataclass(frozen=True)
class Metric:
    name: str
    max_points: float
    case_points: float = 0.0
    """Points of one eligible case or event (all metrics but satisfaction)."""
    zones: tuple[tuple[int, float], ...] = ()
    """satisfaction: (lowest rating, points), best zone first; a rating below all: 0."""
    band: tuple[float, float] = (0.0, 0.0)
    """handle_band: (low, high) seconds; a handle time outside earns 0, faster included."""
    break_s: float = 900.0
    """punctual_breaks: a return from break within this many seconds is punctual."""
    vote_points: float = 0.0
    """qa_answers: points per helpful vote on the staff member's official answers."""

    @property
    def mode(self) -> str:
        """``mean`` (a mean over the day's eligible cases) or ``count`` (capped events)."""
        return "mean" if self.name in MEAN_METRICS else "count"

    @property
    def case_max(self) -> float:
        """The best points one case can earn on this metric (the mean's scale)."""
        if self.name == "satisfaction":
            return max((p for _r, p in self.zones), default=0.0)
        return max(self.case_points, self.vote_points)

    def zone_points(self, rating: int) -> float:
        for lowest, points in self.zones:
            if rating >= lowest:
                return points
        return 0.0

    def in_band(self, handle_s: float) -> bool:
        return self.band[0] <= handle_s <= self.band[1]


@dataclass(frozen=True)
class Level:
    id: str
    points: float
    """Season points from which this level holds."""
    names: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Badge:
    id: str
    condition: str
    value: int | str
    names: Mapping[str, str] = field(default_factory=dict)
    descriptions: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Challenge:
    id: str
    period: str
    services: tuple[str, ...] | None = None
    """The team: the cases of these services; None = every service ("all")."""
    service_level_min: float | None = None
    csat_min: float | None = None
    """Share of ratings 4–5 (0–1)."""
    rating_min: float | None = None
    """Mean rating (1–5)."""
    names: Mapping[str, str] = field(default_factory=dict)

    def goals(self) -> list[tuple[str, float]]:
        out: list[tuple[str, float]] = []
        for kind, target in (
            ("service_level", self.service_level_min),
            ("csat", self.csat_min),
            ("rating", self.rating_min),
        ):
            if target is not None:
                out.append((kind, target))
        return out


@dataclass(frozen=True)
class Season:
    starts: date = date(2026, 1, 1)
    length_days: int = 91

    def index(self, day: date) -> int:
        return (day - self.starts).days // self.length_days

    def bounds(self, index: int) -> tuple[date, date]:
        """First and last day (both included) of season ``index``."""
        first = self.starts + timedelta(days=index * self.length_days)
        return first, first + timedelta(days=self.length_days - 1)


@dataclass(frozen=True)
class Rules:
    metrics: tuple[Metric, ...]
    levels: tuple[Level, ...] = ()
    badges: tuple[Badge, ...] = ()
    challenges: tuple[Challenge, ...] = ()
    season: Season = Season()
    goal_kinds: tuple[str, ...] = GOAL_KINDS
    max_goals: int = 3
    min_quality_share: float = 0.5

    def metric(self, name: str) -> Metric | None:
        return next((m for m in self.metrics if m.name == name), None)

    def max_total(self) -> float:
        """The most points a workday can give (the sum of the max points)."""
        return math.fsum(m.max_points for m in self.metrics)

    def quality_share(self) -> float:
        """Share of the max points on quality and outcome (satisfaction + first_contact)."""
        total = self.max_total()
        quality = math.fsum(m.max_points for m in self.metrics if m.name in QUALITY_AND_OUTCOME)
        return quality / total if total > 0 else 0.0

    def weights(self) -> dict[str, float]:
        """Each metric's share of the max points (they add up to 1)."""
        total = self.max_total()
        return {m.name: m.max_points / total for m in self.metrics} if total > 0 else {}

    def level_for(self, points: float) -> tuple[Level | None, Level | None]:
        """The level held at ``points`` and the next one (None past the last)."""
        held: Level | None = None
        for level in self.levels:
            if points >= level.points:
                held = level
            else:
                return held, level
        return held, None

    def badge(self, badge_id: str) -> Badge | None:
        return next((b for b in self.badges if b.id == badge_id), None)


# -- parsing -------------------------------------------------------------------------------


def _number(value: object, what: str, minimum: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{what} must be a number")
    if minimum is not None and value < minimum:
        raise ValueError(f"{what} must be ≥ {minimum:g}")
    return float(value)


def _positive(value: object, what: str) -> float:
    number = _number(value, what)
    if number <= 0:
        raise ValueError(f"{what} must be more than 0 (got {number:g})")
    return number


def _share(value: object, what: str) -> float:
    number = _number(value, what)
    if not 0.0 <= number <= 1.0:
        raise ValueError(f"{what} must be a share between 0 and 1 (got {number:g})")
    return number


def _integer(value: object, what: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{what} must be an integer from {low} to {high}")
    return value


def _names(value: object, what: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ValueError(f'{what} must be a table of language = text, e.g. {{ en = "..." }}')
    out: dict[str, str] = {}
    for lang, text in value.items():
        if not _LANG.match(str(lang)):
            raise ValueError(f"{what}: {lang!r} is not a language code")
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"{what}.{lang} must be a non-empty string")
        out[str(lang)] = text
    if "en" not in out:
        raise ValueError(f"{what} needs at least an English (en) text")
    return out


def _id(value: object, what: str) -> str:
    if not isinstance(value, str) or not _ID.match(value):
        raise ValueError(f"{what} must be 1-64 lower-case letters, digits, '-' or '_'")
    return value


class _Table:
    """One table of the file, with its line finder, for errors that name the line."""

    def __init__(
        self, raw: object, lines: TomlLines, table: str, index: int | None, who: str
    ) -> None:
        self.lines, self.table, self.index, self.who = lines, table, index, who
        self.header = lines.table(table, index) if index is not None else lines.first(table)
        if not isinstance(raw, dict):
            raise RuleError(f"{who} must be a table", self.header or lines.first(table))
        self.raw: dict[str, Any] = raw

    def fail(self, key: str | None, reason: str) -> RuleError:
        line = self.lines.key(self.table, self.index, key) if key else None
        return RuleError(f"{self.who}: {reason}", line or self.header)

    def check_keys(self, allowed: set[str] | frozenset[str]) -> None:
        for key in self.raw:
            if key not in allowed:
                expected = ", ".join(sorted(allowed))
                raise self.fail(key, f"unknown key {key!r} (expected {expected})")

    def require(self, *keys: str) -> None:
        for key in keys:
            if key not in self.raw:
                raise self.fail(None, f"missing {key!r}")

    def get(self, key: str, convert: Any, *args: Any) -> Any:
        try:
            return convert(self.raw[key], key, *args)
        except ValueError as e:
            raise self.fail(key, str(e)) from None


def load_rules(text: str) -> Rules:
    """Parse a rules file; raise `RuleError` naming the line of the first problem."""
    doc = load_toml(text)
    lines = TomlLines(text)
    for key in doc:
        if key not in _TOP_KEYS:
            raise RuleError(
                f"unknown table or key {key!r} (expected {', '.join(_TOP_KEYS)})",
                lines.first(key),
            )
    for key in ("metric", "level", "badge", "challenge"):
        if key in doc and not isinstance(doc[key], list):
            raise RuleError(f"{key!r} must be an array of tables: [[{key}]]", lines.first(key))
    for key in ("balance", "season", "goals"):
        if key in doc and not isinstance(doc[key], dict):
            raise RuleError(f"{key!r} must be a table: [{key}]", lines.first(key))

    metrics: list[Metric] = []
    for index, raw in enumerate(doc.get("metric", [])):
        metric = _parse_metric(_Table(raw, lines, "metric", index, f"metric #{index + 1}"))
        if any(m.name == metric.name for m in metrics):
            raise RuleError(
                f"metric {metric.name!r} is defined twice", lines.key("metric", index, "name")
            )
        metrics.append(metric)
    if not metrics:
        raise RuleError("the rules need at least one [[metric]]", lines.first("metric"))
    metrics.sort(key=lambda m: KNOWN_METRICS.index(m.name))

    balance = _Table(doc.get("balance", {}), lines, "balance", None, "[balance]")
    balance.check_keys({"min_quality_share"})
    min_share = 0.5
    if "min_quality_share" in balance.raw:
        min_share = balance.get("min_quality_share", _share)

    season = _parse_season(_Table(doc.get("season", {}), lines, "season", None, "[season]"))
    goals = _Table(doc.get("goals", {}), lines, "goals", None, "[goals]")
    goals.check_keys({"kinds", "max_per_staff"})
    goal_kinds: tuple[str, ...] = GOAL_KINDS
    if "kinds" in goals.raw:
        kinds = goals.raw["kinds"]
        if not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds):
            raise goals.fail("kinds", "kinds must be a list of goal kinds")
        for kind in kinds:
            if kind not in GOAL_KINDS:
                raise goals.fail(
                    "kinds", f"unknown goal kind {kind!r} (known: {', '.join(GOAL_KINDS)})"
                )
        goal_kinds = tuple(dict.fromkeys(kinds))
    max_goals = 3
    if "max_per_staff" in goals.raw:
        max_goals = goals.get("max_per_staff", _integer, 0, 20)

    levels: list[Level] = []
    for index, raw in enumerate(doc.get("level", [])):
        level = _parse_level(_Table(raw, lines, "level", index, f"level #{index + 1}"))
        where = lines.key("level", index, "points")
        if not levels and level.points != 0:
            raise RuleError(f"level {level.id!r}: the first level must start at 0 points", where)
        if levels and level.points <= levels[-1].points:
            raise RuleError(
                f"level {level.id!r}: levels must have increasing points "
                f"({level.points:g} after {levels[-1].points:g})",
                where,
            )
        if any(x.id == level.id for x in levels):
            raise RuleError(f"level {level.id!r} is defined twice", lines.key("level", index, "id"))
        levels.append(level)

    badges: list[Badge] = []
    for index, raw in enumerate(doc.get("badge", [])):
        badge = _parse_badge(_Table(raw, lines, "badge", index, f"badge #{index + 1}"))
        if any(b.id == badge.id for b in badges):
            raise RuleError(f"badge {badge.id!r} is defined twice", lines.key("badge", index, "id"))
        badges.append(badge)

    challenges: list[Challenge] = []
    for index, raw in enumerate(doc.get("challenge", [])):
        table = _Table(raw, lines, "challenge", index, f"challenge #{index + 1}")
        challenge = _parse_challenge(table)
        if any(c.id == challenge.id for c in challenges):
            raise table.fail("id", f"challenge {challenge.id!r} is defined twice")
        challenges.append(challenge)

    rules = Rules(
        metrics=tuple(metrics),
        levels=tuple(levels),
        badges=tuple(badges),
        challenges=tuple(challenges),
        season=season,
        goal_kinds=goal_kinds,
        max_goals=max_goals,
        min_quality_share=min_share,
    )
    share = rules.quality_share()
    if share + 1e-12 < min_share:
        raise RuleError(
            f"quality and outcome (satisfaction + first_contact) carry {share:.0%} of the max "
            f"points; [balance] min_quality_share asks for at least {min_share:.0%}",
            lines.key("balance", None, "min_quality_share") or lines.first("metric"),
        )
    return rules


def _parse_metric(t: _Table) -> Metric:
    t.require("name", "max_points")
    name = t.raw["name"]
    if name not in KNOWN_METRICS:
        raise t.fail("name", f"unknown metric {name!r} (known: {', '.join(KNOWN_METRICS)})")
    t.who = f"metric {name!r}"
    t.check_keys({"name", "max_points"} | _METRIC_KEYS[name])
    t.require(*_REQUIRED_KEYS.get(name, ("case_points",)))
    values: dict[str, Any] = {"name": name, "max_points": t.get("max_points", _positive)}
    if "case_points" in t.raw:
        values["case_points"] = t.get("case_points", _positive)
    if "vote_points" in t.raw:
        values["vote_points"] = t.get("vote_points", _number, 0.0)
    if "break_s" in t.raw:
        values["break_s"] = t.get("break_s", _positive)
    if "band" in t.raw:
        values["band"] = t.get("band", _band)
    if "zones" in t.raw:
        values["zones"] = t.get("zones", _zones)
    return Metric(**values)


def _band(value: object, what: str) -> tuple[float, float]:
    if not isinstance(value, list) or len(value) != 2:
        raise ValueError(f"{what} must be [low, high] in seconds")
    low, high = (_number(v, what, 0.0) for v in value)
    if not low < high:
        raise ValueError(f"{what}: the thresholds must increase (low {low:g} < high {high:g})")
    return low, high


def _zones(value: object, what: str) -> tuple[tuple[int, float], ...]:
    if not isinstance(value, list) or not value:
        raise ValueError(f"{what} must be a list of [lowest rating, points], best zone first")
    zones: list[tuple[int, float]] = []
    for zone in value:
        if not isinstance(zone, list) or len(zone) != 2:
            raise ValueError(f"{what}: each zone is [lowest rating, points]")
        rating = _integer(zone[0], f"{what}: a zone's rating", 1, 5)
        points = _number(zone[1], f"{what}: a zone's points", 0.0)
        if zones and rating >= zones[-1][0]:
            raise ValueError(
                f"{what}: zone thresholds must decrease from the best zone to the last "
                f"({rating} after {zones[-1][0]})"
            )
        if zones and points > zones[-1][1]:
            raise ValueError(
                f"{what}: a lower rating may not earn more points ({points:g} for {rating} "
                f"after {zones[-1][1]:g} for {zones[-1][0]})"
            )
        zones.append((rating, points))
    if zones[0][1] <= 0:
        raise ValueError(f"{what}: the best zone must earn more than 0 points")
    return tuple(zones)


def _parse_season(t: _Table) -> Season:
    t.check_keys({"starts", "length_days"})
    values: dict[str, Any] = {}
    if "starts" in t.raw:
        starts = t.raw["starts"]
        if isinstance(starts, str):
            try:
                starts = date.fromisoformat(starts)
            except ValueError:
                raise t.fail(
                    "starts", f"starts must be a date (YYYY-MM-DD), not {starts!r}"
                ) from None
        if not isinstance(starts, date) or hasattr(starts, "hour"):
            raise t.fail("starts", "starts must be a date (YYYY-MM-DD)")
        values["starts"] = starts
    if "length_days" in t.raw:
        values["length_days"] = t.get("length_days", _integer, 1, 366)
    return Season(**values)


def _parse_level(t: _Table) -> Level:
    t.check_keys({"id", "points", "names"})
    t.require("id", "points", "names")
    level_id = t.get("id", _id)
    t.who = f"level {level_id!r}"
    return Level(id=level_id, points=t.get("points", _number, 0.0), names=t.get("names", _names))


def _parse_badge(t: _Table) -> Badge:
    t.check_keys({"id", "when", "names", "descriptions"})
    t.require("id", "when", "names")
    badge_id = t.get("id", _id)
    t.who = f"badge {badge_id!r}"
    when = t.raw["when"]
    if not isinstance(when, dict) or len(when) != 1:
        raise t.fail("when", "when must name one condition, e.g. when = { cases_rated = 10 }")
    ((condition, value),) = when.items()
    if condition not in BADGE_CONDITIONS:
        raise t.fail(
            "when",
            f"unknown badge condition {condition!r} (known: {', '.join(BADGE_CONDITIONS)})",
        )
    if condition == "scenario":
        if not isinstance(value, str) or not _ID.match(value):
            raise t.fail("when", "scenario must be a scenario id")
    else:
        try:
            value = _integer(value, condition, 1, BADGE_MAX_N)
        except ValueError as e:
            raise t.fail("when", str(e)) from None
    descriptions: dict[str, str] = {}
    if "descriptions" in t.raw:
        descriptions = t.get("descriptions", _names)
    return Badge(
        id=badge_id,
        condition=condition,
        value=value,
        names=t.get("names", _names),
        descriptions=descriptions,
    )


def _parse_challenge(t: _Table) -> Challenge:
    t.check_keys({"id", "names", "period", "team", "service_level_min", "csat_min", "rating_min"})
    t.require("id", "names", "period")
    challenge_id = t.get("id", _id)
    t.who = f"challenge {challenge_id!r}"
    period = t.raw["period"]
    if period not in PERIODS:
        raise t.fail("period", f"period must be one of {', '.join(PERIODS)}")
    team = t.raw.get("team", "all")
    services: tuple[str, ...] | None = None
    if team != "all":
        if (
            not isinstance(team, list)
            or not team
            or not all(isinstance(s, str) and s for s in team)
        ):
            raise t.fail("team", 'team must be "all" or a list of service ids')
        services = tuple(dict.fromkeys(team))
    values: dict[str, Any] = {}
    for key in ("service_level_min", "csat_min"):
        if key in t.raw:
            values[key] = t.get(key, _share)
    if "rating_min" in t.raw:
        values["rating_min"] = t.get("rating_min", _number, 1.0)
        if values["rating_min"] > 5:
            raise t.fail("rating_min", "rating_min must be from 1 to 5")
    if not values:
        raise t.fail(None, "a challenge needs a goal: service_level_min, csat_min or rating_min")
    return Challenge(
        id=challenge_id,
        period=period,
        services=services,
        names=t.get("names", _names),
        **values,
    )
