"""Alert rules, their states, grouping and silences: pure (no I/O, no clock).

The rules live in a TOML file (``server/data/alerts.toml`` is a complete,
commented example and the default); the feature reads it, calls `load_rules`
and, when the file changes, `Alerter.replace`. A file that does not parse or
does not make sense raises `RuleError`, whose message names the line; the
caller keeps the last good `RuleSet` in force.

Kinds (each evaluated per service):

``wait_above_target``
    the current wait of the longest-waiting ticket > the service's target wait × ``factor``.
``queue_length``
    the queue length > ``threshold``.
``feedback_surge``
    a surge of low ratings (rating ≤ ``low``): a one-sided CUSUM on the low-rating
    indicator x ∈ {0, 1}, ``S = max(0, S + x - k)``, crossing ``h`` while at least
    ``min_count`` ratings fell in the last ``window``. The CUSUM restarts from 0 after each
    crossing, and the condition holds for ``window`` after the last crossing, so a surge
    makes one alert (firing once) however many low ratings it brings.
``no_staff``
    people waiting (``waiting > 0``) and nobody on duty (``staff_on_duty == 0``).
``qa_overdue``
    the figure ``qa_overdue`` (official Q&A answers overdue) > ``threshold`` (default 0).
    The Q&A feature does not exist yet: the figure is ``None`` and the rule stays inactive.

States per (rule, service), as Prometheus: *inactive* → *pending* when the condition is
true → *firing* once it has been true for ``for`` (at once when ``for`` is 0) → *resolved*
when it has been false for ``keep_firing_for`` after firing. A pending alert whose
condition turns false before ``for`` goes back to *inactive*. A resolved alert is shown
for `RESOLVED_RETENTION_S` and then forgotten; if its condition comes back it is pending
again, with the same fingerprint.

Notifications follow Alertmanager's route, simplified: only firing and (once notified)
resolved alerts are sent; alerts are grouped by the labels of ``group_by`` (``["..."]``
groups by every label); a new group is first sent ``group_wait`` after its first alert
fired; after that, a changed group (an alert fired or resolved) is sent at most every
``group_interval``, and an unchanged group that still fires is sent again every
``repeat_interval``. A group whose alerts have all resolved is sent once more and dropped;
an alert that resolves before its group was ever sent is never sent.

Silences match alert labels by equality (``matchers = { service = "general" }``) between
``starts_at`` and ``ends_at``. A silenced alert still changes state and is listed by
`Alerter.active` with ``silenced: true``, but it leaves the webhook batches, and its
`Transition` says ``silenced`` so the caller does not send it to the staff console.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import deque
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

from server.rulesfile import RuleError as RuleError
from server.rulesfile import TomlLines, load_toml

KINDS = ("wait_above_target", "queue_length", "feedback_surge", "no_staff", "qa_overdue")
SEVERITIES = ("info", "warning", "critical")
RESOLVED_RETENTION_S = 900.0  # as Prometheus' resolvedRetention: resolved alerts shown 15 min
ZERO_TIME = "0001-01-01T00:00:00Z"  # Alertmanager's endsAt of an alert still firing

DEFAULT_SUMMARY = {
    "wait_above_target": "Longest wait at {service} is {value:.0f} s (limit {threshold:.0f} s)",
    "queue_length": "{value:.0f} in the queue for {service} (limit {threshold:.0f})",
    "feedback_surge": "A surge of low ratings for {service}: {value:.0f} in the window",
    "no_staff": "{value:.0f} waiting for {service} and no staff on duty",
    "qa_overdue": "{value:.0f} official Q&A answers overdue for {service}",
}

_RULE_KEYS = {
    "name",
    "kind",
    "services",
    "for",
    "keep_firing_for",
    "severity",
    "labels",
    "annotations",
    "factor",
    "threshold",
    "low",
    "k",
    "h",
    "min_count",
    "window",
}
_KIND_KEYS = {
    "wait_above_target": {"factor"},
    "queue_length": {"threshold"},
    "feedback_surge": {"low", "k", "h", "min_count", "window"},
    "no_staff": set[str](),
    "qa_overdue": {"threshold"},
}
_ROUTE_KEYS = {"receiver", "group_by", "group_wait", "group_interval", "repeat_interval"}
_SILENCE_KEYS = {"id", "matchers", "starts_at", "ends_at", "created_by", "comment"}
_RESERVED_LABELS = {"alertname", "rule", "kind", "service", "severity"}
_LABEL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RULE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,63}$")
_DURATION = re.compile(r"^(?:(\d+(?:\.\d+)?)(ms|s|m|h|d))+$")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


# -- the rule set ------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    name: str
    kind: str
    services: tuple[str, ...] | None = None  # None: every service
    for_s: float = 0.0
    keep_firing_for_s: float = 0.0
    severity: str = "warning"
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)  # templates
    factor: float = 1.0  # wait_above_target
    threshold: float = 0.0  # queue_length, qa_overdue
    low: int = 2  # feedback_surge: a rating ≤ low is low
    k: float = 0.3  # feedback_surge: CUSUM reference value (per rating)
    h: float = 2.0  # feedback_surge: CUSUM decision interval
    min_count: int = 5  # feedback_surge: ratings needed in the window
    window_s: float = 1800.0  # feedback_surge

    def covers(self, service: str) -> bool:
        return self.services is None or service in self.services


@dataclass(frozen=True)
class Route:
    receiver: str = "servicepoint"
    group_by: tuple[str, ...] = ("rule", "service")
    group_wait_s: float = 30.0
    group_interval_s: float = 300.0
    repeat_interval_s: float = 14400.0


@dataclass(frozen=True)
class Silence:
    id: str
    matchers: Mapping[str, str]
    starts_at: float
    ends_at: float
    created_by: str = ""
    comment: str = ""

    def active(self, now: float) -> bool:
        return self.starts_at <= now < self.ends_at

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(labels.get(name, "") == value for name, value in self.matchers.items())


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...] = ()
    route: Route = Route()
    silences: tuple[Silence, ...] = ()

    def rule(self, name: str) -> Rule | None:
        return next((r for r in self.rules if r.name == name), None)


# -- parsing -------------------------------------------------------------------------------


def parse_duration(value: object) -> float:
    """``"30s"``, ``"5m"``, ``"1h30m"``, ``"250ms"``, ``"1d"`` or a number of seconds ≥ 0."""
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}")
    if isinstance(value, int | float):
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"not a duration: {value!r}")
        return float(value)
    if isinstance(value, str) and _DURATION.match(value.strip()):
        return sum(float(n) * _UNIT_S[u] for n, u in _DURATION_PART.findall(value.strip()))
    raise ValueError(f'not a duration: {value!r} (use e.g. "30s", "5m", "1h" or seconds)')


def _timestamp(value: object) -> float:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"not an RFC 3339 time: {value!r}") from None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"time without a UTC offset: {value.isoformat()}")
        return value.timestamp()
    if isinstance(value, date):
        raise ValueError(f"a date, not a time: {value.isoformat()}")
    raise ValueError(f"not an RFC 3339 time: {value!r}")


def _string_map(value: object, what: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ValueError(f"{what} must be a table of strings")
    out: dict[str, str] = {}
    for k, v in value.items():
        if not isinstance(v, str | int | float) or isinstance(v, bool):
            raise ValueError(f"{what}.{k} must be a string")
        out[str(k)] = str(v)
    return out


def _number(value: object, what: str, minimum: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{what} must be a number")
    if minimum is not None and value < minimum:
        raise ValueError(f"{what} must be ≥ {minimum:g}")
    return float(value)


def _check_template(template: str, what: str) -> None:
    try:
        template.format_map(_template_values("general", 1.0, 1.0, "rule", "kind", "warning"))
    except (KeyError, ValueError, IndexError, AttributeError) as e:
        raise ValueError(f"{what}: bad template {template!r} ({e})") from None


def _template_values(
    service: str, value: float, threshold: float, rule: str, kind: str, severity: str
) -> dict[str, object]:
    return {
        "service": service,
        "value": value,
        "threshold": threshold,
        "rule": rule,
        "kind": kind,
        "severity": severity,
    }


def load_rules(text: str, services: Collection[str] | None = None) -> RuleSet:
    """Parse a rules file; raise `RuleError` naming the line of the first problem.

    ``services``, when given, are the world's service ids: a rule naming another one is
    an error.
    """
    doc = load_toml(text)
    lines = TomlLines(text)
    unknown = set(doc) - {"rule", "route", "silence"}
    if unknown:
        key = sorted(unknown)[0]
        line = lines.table(key) or lines.table(key, 0) or lines.key("", None, key)
        raise RuleError(f"unknown table or key {key!r} (expected rule, route, silence)", line)
    raw_rules = doc.get("rule", [])
    if not isinstance(raw_rules, list):
        raise RuleError("'rule' must be an array of tables: [[rule]]", lines.key("", None, "rule"))
    rules: list[Rule] = []
    for index, raw in enumerate(raw_rules):
        rule = _parse_rule(raw, index, lines, services)
        if any(r.name == rule.name for r in rules):
            raise RuleError(
                f"rule {rule.name!r} is defined twice", lines.key("rule", index, "name")
            )
        rules.append(rule)
    route = _parse_route(doc.get("route", {}), lines)
    raw_silences = doc.get("silence", [])
    if not isinstance(raw_silences, list):
        raise RuleError("'silence' must be an array of tables: [[silence]]", None)
    silences = tuple(_parse_silence(raw, i, lines) for i, raw in enumerate(raw_silences))
    return RuleSet(tuple(rules), route, silences)


def _parse_rule(
    raw: object, index: int, lines: TomlLines, services: Collection[str] | None
) -> Rule:
    header = lines.table("rule", index) or lines.key("", None, "rule")  # or rule = [{...}]
    if not isinstance(raw, dict):
        raise RuleError(f"rule #{index + 1} must be a table", header)

    def fail(key: str | None, reason: str) -> RuleError:
        name = raw.get("name")
        who = f"rule {name!r}" if isinstance(name, str) else f"rule #{index + 1}"
        line = (lines.key("rule", index, key) if key else None) or header
        return RuleError(f"{who}: {reason}", line)

    for key in ("name", "kind"):
        if key not in raw:
            raise fail(None, f"missing {key!r}")
    name, kind = raw["name"], raw["kind"]
    if not isinstance(name, str) or not _RULE_NAME.match(name):
        raise fail("name", "name must be 1-64 letters, digits, '_', '-', '.' or ':'")
    if kind not in KINDS:
        raise fail("kind", f"unknown kind {kind!r} (expected one of {', '.join(KINDS)})")
    allowed = (_RULE_KEYS - {"factor", "threshold", "low", "k", "h", "min_count", "window"}) | (
        _KIND_KEYS[kind]
    )
    for key in raw:
        if key not in allowed:
            raise fail(key, f"unknown key {key!r} for kind {kind!r}")
    if kind == "queue_length" and "threshold" not in raw:
        raise fail(None, "missing 'threshold'")
    try:
        scope = _parse_services(raw.get("services", "all"), services)
    except ValueError as e:
        raise fail("services", str(e)) from None
    values: dict[str, Any] = {}
    try:
        for key, attr in (("for", "for_s"), ("keep_firing_for", "keep_firing_for_s")):
            if key in raw:
                values[attr] = parse_duration(raw[key])
    except ValueError as e:
        raise fail(key, str(e)) from None
    severity = raw.get("severity", "warning")
    if severity not in SEVERITIES:
        raise fail("severity", f"severity must be one of {', '.join(SEVERITIES)}")
    try:
        key = "labels"
        labels = _string_map(raw.get("labels", {}), "labels")
        for label in labels:
            key = f"labels.{label}"
            if not _LABEL_NAME.match(label) or label in _RESERVED_LABELS:
                raise ValueError(f"label name {label!r} is invalid or reserved")
        key = "annotations"
        annotations = _string_map(raw.get("annotations", {}), "annotations")
        annotations.setdefault("summary", DEFAULT_SUMMARY[kind])
        for name_, template in annotations.items():
            key = f"annotations.{name_}"
            _check_template(template, key)
        for key in sorted(set(raw) & (_KIND_KEYS[kind])):
            if key == "window":
                values["window_s"] = parse_duration(raw[key])
            elif key in ("low", "min_count"):
                if isinstance(raw[key], bool) or not isinstance(raw[key], int):
                    raise ValueError(f"{key} must be an integer")
                values[key] = int(_number(raw[key], key, 1 if key == "low" else 0))
            else:
                values[key] = _number(raw[key], key, 0.0)
        if kind == "feedback_surge" and not 1 <= int(values.get("low", 2)) <= 4:
            key = "low"
            raise ValueError("low must be 1..4 (ratings are 1..5)")
    except ValueError as e:
        raise fail(key, str(e)) from None
    return Rule(
        name=name,
        kind=kind,
        services=scope,
        severity=severity,
        labels=labels,
        annotations=annotations,
        **values,
    )


def _parse_services(value: object, known: Collection[str] | None) -> tuple[str, ...] | None:
    if value == "all" or value == ["all"]:
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(s, str) for s in value):
        raise ValueError('services must be "all" or a list of service ids')
    if known is not None:
        missing = [s for s in value if s not in known]
        if missing:
            raise ValueError(
                f"unknown service {missing[0]!r} (known: {', '.join(sorted(known)) or 'none'})"
            )
    return tuple(dict.fromkeys(value))


def _parse_route(raw: object, lines: TomlLines) -> Route:
    if not isinstance(raw, dict):
        raise RuleError("'route' must be a table: [route]", lines.key("", None, "route"))
    values: dict[str, Any] = {}
    key = ""
    try:
        for key in raw:
            if key not in _ROUTE_KEYS:
                raise ValueError(f"unknown key {key!r} in [route]")
        key = "receiver"
        if "receiver" in raw:
            if not isinstance(raw["receiver"], str) or not raw["receiver"]:
                raise ValueError("receiver must be a non-empty string")
            values["receiver"] = raw["receiver"]
        key = "group_by"
        if "group_by" in raw:
            group_by = raw["group_by"]
            if not isinstance(group_by, list) or not all(
                isinstance(g, str) and (g == "..." or _LABEL_NAME.match(g)) for g in group_by
            ):
                raise ValueError('group_by must be a list of label names (or ["..."])')
            values["group_by"] = tuple(group_by)
        for key in ("group_wait", "group_interval", "repeat_interval"):
            if key in raw:
                values[f"{key}_s"] = parse_duration(raw[key])
    except ValueError as e:
        raise RuleError(f"route: {e}", lines.key("route", None, key)) from None
    return Route(**values)


def _parse_silence(raw: object, index: int, lines: TomlLines) -> Silence:
    header = lines.table("silence", index)
    if not isinstance(raw, dict):
        raise RuleError(f"silence #{index + 1} must be a table", header)
    key = ""
    try:
        for key in raw:
            if key not in _SILENCE_KEYS:
                raise ValueError(f"unknown key {key!r}")
        for key in ("matchers", "starts_at", "ends_at"):
            if key not in raw:
                raise KeyError(key)
        key = "matchers"
        matchers = _string_map(raw["matchers"], "matchers")
        if not matchers:
            raise ValueError("matchers must name at least one label")
        key = "starts_at"
        starts = _timestamp(raw["starts_at"])
        key = "ends_at"
        ends = _timestamp(raw["ends_at"])
        if ends <= starts:
            raise ValueError("ends_at must be after starts_at")
        key = "created_by"
        text = {k: raw.get(k, "") for k in ("id", "created_by", "comment")}
        for key, v in text.items():
            if not isinstance(v, str):
                raise ValueError(f"{key} must be a string")
    except KeyError as e:
        raise RuleError(f"silence #{index + 1}: missing {e.args[0]!r}", header) from None
    except ValueError as e:
        raise RuleError(f"silence #{index + 1}: {e}", lines.key("silence", index, key)) from None
    return Silence(
        id=str(text["id"]) or f"silence-{index + 1}",
        matchers=matchers,
        starts_at=starts,
        ends_at=ends,
        created_by=str(text["created_by"]),
        comment=str(text["comment"]),
    )


# -- figures, transitions, notifications ---------------------------------------------------


@dataclass(frozen=True)
class ServiceFigures:
    """What the rules look at for one service, now (the feature computes them)."""

    queue_length: int
    current_wait_s: float
    target_wait_s: float
    staff_on_duty: int
    waiting: int
    qa_overdue: int | None = None  # None: no Q&A feature, the qa_overdue rules stay inactive


@dataclass(frozen=True)
class Transition:
    """One alert changed state (``inactive`` is the end of a pending alert that never fired)."""

    fingerprint: str
    rule: str
    kind: str
    service: str
    state: str  # pending | firing | resolved | inactive
    previous: str
    at: float
    since: float
    value: float | None
    threshold: float | None
    summary: str
    severity: str
    silenced: bool
    labels: Mapping[str, str]

    def message(self) -> dict[str, Any]:
        """The ``alert`` wire message; a pending alert that dropped back is sent ``resolved``."""
        return {
            "fingerprint": self.fingerprint,
            "rule": self.rule,
            "kind": self.kind,
            "state": "resolved" if self.state == "inactive" else self.state,
            "service": self.service,
            "value": self.value,
            "threshold": self.threshold,
            "since": self.since,
            "summary": self.summary,
        }

    def describe(self) -> str:
        """One line for the log."""
        mute = " (silenced)" if self.silenced else ""
        return (
            f"alert {self.rule}/{self.service} [{self.fingerprint}] {self.previous} -> "
            f"{self.state}{mute}: value={self.value} threshold={self.threshold}"
        )


@dataclass(frozen=True)
class NotifiedAlert:
    fingerprint: str
    status: str  # firing | resolved
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    starts_at: float
    ends_at: float | None


@dataclass(frozen=True)
class Notification:
    """One webhook batch: the alerts of one group, due now."""

    group_key: str
    group_labels: Mapping[str, str]
    receiver: str
    status: str  # firing if any alert fires, else resolved
    alerts: tuple[NotifiedAlert, ...]
    at: float

    def describe(self) -> str:
        firing = sum(a.status == "firing" for a in self.alerts)
        return (
            f"notification {self.group_key} {self.status}: {firing} firing, "
            f"{len(self.alerts) - firing} resolved"
        )


def fingerprint(labels: Mapping[str, str]) -> str:
    """Stable id from the labels: sha256 of the sorted ``name=value`` lines, 16 hex digits."""
    text = "\n".join(f"{k}={labels[k]}" for k in sorted(labels))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def rfc3339(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def alertmanager_payload(
    notification: Notification, external_url: str, max_alerts: int = 0
) -> dict[str, Any]:
    """The body of Alertmanager's webhook (version 4) for one notification.

    ``max_alerts`` > 0 truncates the list, as Alertmanager's ``max_alerts``.
    """
    alerts = list(notification.alerts)
    truncated = 0
    if max_alerts > 0 and len(alerts) > max_alerts:
        truncated = len(alerts) - max_alerts
        alerts = alerts[:max_alerts]
    base = external_url.rstrip("/")
    return {
        "version": "4",
        "groupKey": notification.group_key,
        "truncatedAlerts": truncated,
        "status": notification.status,
        "receiver": notification.receiver,
        "groupLabels": dict(notification.group_labels),
        "commonLabels": _common([a.labels for a in notification.alerts]),
        "commonAnnotations": _common([a.annotations for a in notification.alerts]),
        "externalURL": base,
        "alerts": [
            {
                "status": a.status,
                "labels": dict(a.labels),
                "annotations": dict(a.annotations),
                "startsAt": rfc3339(a.starts_at),
                "endsAt": rfc3339(a.ends_at) if a.ends_at is not None else ZERO_TIME,
                "generatorURL": f"{base}/api/insight/dashboard",
                "fingerprint": a.fingerprint,
            }
            for a in alerts
        ],
    }


def _common(maps: list[Mapping[str, str]]) -> dict[str, str]:
    if not maps:
        return {}
    first = maps[0]
    return {k: v for k, v in first.items() if all(m.get(k) == v for m in maps[1:])}


# -- the alerter ---------------------------------------------------------------------------


@dataclass
class _State:
    rule: str
    service: str
    state: str = "inactive"
    since: float = 0.0  # when the current state began
    active_at: float = 0.0  # when it went pending
    fired_at: float | None = None
    resolved_at: float | None = None
    false_since: float | None = None  # while firing with the condition false
    value: float | None = None
    threshold: float | None = None


@dataclass
class _Surge:
    score: float = 0.0
    recent: deque[tuple[float, bool]] = field(default_factory=deque)
    triggered_at: float | None = None
    low_at_trigger: int = 0


@dataclass
class _Member:
    """An alert in a notification group."""

    key: tuple[str, str]  # (rule, service)
    snapshot: NotifiedAlert
    notified: str | None = None  # status last sent, if any


@dataclass
class _Group:
    key: str
    labels: dict[str, str]
    created: float
    last_sent: float | None = None
    members: dict[tuple[str, str], _Member] = field(default_factory=dict)


class Alerter:
    """Alert states, CUSUM surges and notification groups for one rule set."""

    def __init__(self, rules: RuleSet) -> None:
        self.rules = rules
        self._states: dict[tuple[str, str], _State] = {}
        self._surges: dict[tuple[str, str], _Surge] = {}
        self._groups: dict[str, _Group] = {}
        self._now = 0.0

    # rules -------------------------------------------------------------------------------

    def replace(self, rules: RuleSet) -> None:
        """Put new rules in force; alerts and surges of rules still there (same name and kind)
        keep their state. An alert whose rule went away is resolved in its group."""
        old = self.rules
        self.rules = rules

        def kept(name: str) -> bool:
            new, was = rules.rule(name), old.rule(name)
            return new is not None and was is not None and new.kind == was.kind

        for key in [k for k in self._states if not kept(k[0])]:
            del self._states[key]
        for key in [k for k in self._surges if not kept(k[0])]:
            del self._surges[key]
        for key in list(self._states):
            rule = rules.rule(key[0])
            if rule is not None and not rule.covers(key[1]):
                del self._states[key]
        members = [m for g in self._groups.values() for m in g.members.values()]
        for member in members:
            if member.key not in self._states and member.snapshot.status == "firing":
                member.snapshot = replace(member.snapshot, status="resolved", ends_at=self._now)
        if old.route.group_by != rules.route.group_by:
            self._groups = {}
        for member in members:
            group = self._group_for(member.snapshot.labels, self._now)
            group.members[member.key] = member

    # inputs ------------------------------------------------------------------------------

    def observe_rating(self, ts: float, service: str, rating: int) -> None:
        """One answered case survey (rating 1..5) for a service, at ``ts``."""
        for rule in self.rules.rules:
            if rule.kind != "feedback_surge" or not rule.covers(service):
                continue
            surge = self._surges.setdefault((rule.name, service), _Surge())
            low = rating <= rule.low
            surge.recent.append((ts, low))
            while surge.recent and surge.recent[0][0] <= ts - rule.window_s:
                surge.recent.popleft()
            surge.score = max(0.0, surge.score + (1.0 if low else 0.0) - rule.k)
            if surge.score > rule.h and len(surge.recent) >= rule.min_count:
                surge.triggered_at = ts
                surge.low_at_trigger = sum(1 for _t, is_low in surge.recent if is_low)
                surge.score = 0.0  # restart: one crossing per surge

    def evaluate(self, now: float, figures: Mapping[str, ServiceFigures]) -> list[Transition]:
        """Evaluate every rule for every service it covers; return the state changes."""
        self._now = now
        out: list[Transition] = []
        for rule in self.rules.rules:
            services: Iterable[str]
            if rule.services is not None:
                services = rule.services
            else:
                services = dict.fromkeys(
                    [*figures, *(s for (r, s) in self._states if r == rule.name)]
                )
                if rule.kind == "feedback_surge":
                    services = dict.fromkeys(
                        [*services, *(s for (r, s) in self._surges if r == rule.name)]
                    )
            for service in services:
                out += self._step(rule, service, now, figures.get(service))
        return out

    def _condition(
        self, rule: Rule, service: str, now: float, fig: ServiceFigures | None
    ) -> tuple[bool, float | None, float | None]:
        if rule.kind == "feedback_surge":
            surge = self._surges.get((rule.name, service))
            if surge is None or surge.triggered_at is None:
                return False, None, rule.h
            held = now - surge.triggered_at < rule.window_s
            return held, float(surge.low_at_trigger), rule.h
        if fig is None:
            return False, None, None
        if rule.kind == "wait_above_target":
            limit = fig.target_wait_s * rule.factor
            return fig.current_wait_s > limit, float(fig.current_wait_s), float(limit)
        if rule.kind == "queue_length":
            return fig.queue_length > rule.threshold, float(fig.queue_length), rule.threshold
        if rule.kind == "no_staff":
            true = fig.waiting > 0 and fig.staff_on_duty == 0
            return true, float(fig.waiting), 0.0
        if fig.qa_overdue is None:  # qa_overdue: no Q&A feature yet
            return False, None, rule.threshold
        return fig.qa_overdue > rule.threshold, float(fig.qa_overdue), rule.threshold

    def _step(
        self, rule: Rule, service: str, now: float, fig: ServiceFigures | None
    ) -> list[Transition]:
        true, value, threshold = self._condition(rule, service, now, fig)
        key = (rule.name, service)
        st = self._states.get(key)
        if st is None:
            if not true:
                return []
            st = self._states[key] = _State(rule.name, service)
        if true or value is not None:
            st.value, st.threshold = value, threshold
        previous = st.state
        changes: list[Transition] = []

        def move(state: str) -> None:
            nonlocal previous
            st.state, st.since = state, now
            changes.append(self._transition(rule, st, previous, now))
            previous = state

        if true:
            st.false_since = None
            if st.state in ("inactive", "resolved"):
                st.active_at, st.fired_at, st.resolved_at = now, None, None
                if rule.for_s <= 0:
                    st.fired_at = now
                    move("firing")
                else:
                    move("pending")
            elif st.state == "pending" and now - st.active_at >= rule.for_s:
                st.fired_at = now
                move("firing")
        elif st.state == "pending":
            move("inactive")
        elif st.state == "firing":
            if st.false_since is None:
                st.false_since = now
            if now - st.false_since >= rule.keep_firing_for_s:
                st.resolved_at = now
                move("resolved")
        if st.state == "inactive" or (
            st.state == "resolved"
            and st.resolved_at is not None
            and now - st.resolved_at >= RESOLVED_RETENTION_S
        ):
            del self._states[key]
        if any(c.state in ("firing", "resolved") for c in changes):
            self._track(rule, st, now)
        return changes

    # views -------------------------------------------------------------------------------

    def _labels(self, rule: Rule, service: str) -> dict[str, str]:
        return {
            **rule.labels,
            "alertname": rule.name,
            "rule": rule.name,
            "kind": rule.kind,
            "service": service,
            "severity": rule.severity,
        }

    def _annotations(self, rule: Rule, st: _State) -> dict[str, str]:
        values = _template_values(
            st.service,
            st.value if st.value is not None else math.nan,
            st.threshold if st.threshold is not None else math.nan,
            rule.name,
            rule.kind,
            rule.severity,
        )
        out: dict[str, str] = {}
        for name, template in rule.annotations.items():
            try:
                out[name] = template.format_map(values)
            except (KeyError, ValueError, IndexError, AttributeError):
                out[name] = template
        return out

    def silenced(self, labels: Mapping[str, str], now: float) -> bool:
        return any(s.active(now) and s.matches(labels) for s in self.rules.silences)

    def _transition(self, rule: Rule, st: _State, previous: str, now: float) -> Transition:
        labels = self._labels(rule, st.service)
        return Transition(
            fingerprint=fingerprint(labels),
            rule=rule.name,
            kind=rule.kind,
            service=st.service,
            state=st.state,
            previous=previous,
            at=now,
            since=st.since,
            value=st.value,
            threshold=st.threshold,
            summary=self._annotations(rule, st).get("summary", ""),
            severity=rule.severity,
            silenced=self.silenced(labels, now),
            labels=labels,
        )

    def active(self, now: float) -> list[dict[str, Any]]:
        """Pending, firing and recently resolved alerts, for the dashboard (firing first)."""
        order = {"firing": 0, "pending": 1, "resolved": 2}
        out: list[dict[str, Any]] = []
        for (name, _service), st in self._states.items():
            rule = self.rules.rule(name)
            if rule is None or st.state not in order:
                continue
            if st.state == "resolved" and now - st.since >= RESOLVED_RETENTION_S:
                continue
            labels = self._labels(rule, st.service)
            out.append(
                {
                    "fingerprint": fingerprint(labels),
                    "rule": rule.name,
                    "kind": rule.kind,
                    "state": st.state,
                    "service": st.service,
                    "since": st.since,
                    "value": st.value,
                    "threshold": st.threshold,
                    "summary": self._annotations(rule, st).get("summary", ""),
                    "silenced": self.silenced(labels, now),
                }
            )
        out.sort(key=lambda a: (order[a["state"]], a["rule"], a["service"]))
        return out

    # notification groups -----------------------------------------------------------------

    def _group_for(self, labels: Mapping[str, str], now: float) -> _Group:
        by = self.rules.route.group_by
        names = sorted(labels) if "..." in by else list(by)
        group_labels = {n: labels[n] for n in names if n in labels}
        key = "{}:{" + ", ".join(f'{n}="{v}"' for n, v in sorted(group_labels.items())) + "}"
        group = self._groups.get(key)
        if group is None:
            group = self._groups[key] = _Group(key, group_labels, now)
        return group

    def _snapshot(self, rule: Rule, st: _State) -> NotifiedAlert:
        labels = self._labels(rule, st.service)
        firing = st.state == "firing"
        return NotifiedAlert(
            fingerprint=fingerprint(labels),
            status="firing" if firing else "resolved",
            labels=labels,
            annotations=self._annotations(rule, st),
            starts_at=st.fired_at if st.fired_at is not None else st.since,
            ends_at=None if firing else (st.resolved_at or st.since),
        )

    def _track(self, rule: Rule, st: _State, now: float) -> None:
        key = (rule.name, st.service)
        snapshot = self._snapshot(rule, st)
        for group in self._groups.values():
            if key in group.members:
                group.members[key].snapshot = snapshot
                return
        if snapshot.status == "firing":
            group = self._group_for(snapshot.labels, now)
            group.members[key] = _Member(key, snapshot)

    def due_notifications(self, now: float) -> list[Notification]:
        """The webhook batches due at ``now`` (each group at most once); call it every tick."""
        out: list[Notification] = []
        route = self.rules.route
        for gkey, group in list(self._groups.items()):
            for member in group.members.values():  # refresh values and annotations
                st = self._states.get(member.key)
                rule = self.rules.rule(member.key[0])
                if st is not None and rule is not None and st.state in ("firing", "resolved"):
                    member.snapshot = self._snapshot(rule, st)
            # a resolved alert that was never sent as firing is never sent
            for mkey in [
                k
                for k, m in group.members.items()
                if m.snapshot.status == "resolved" and m.notified != "firing"
            ]:
                del group.members[mkey]
            batch = [m for m in group.members.values() if not self.silenced(m.snapshot.labels, now)]
            firing = any(m.snapshot.status == "firing" for m in batch)
            if not batch:
                if not any(m.snapshot.status == "firing" for m in group.members.values()):
                    del self._groups[gkey]
                continue
            if group.last_sent is None:
                due = firing and now >= group.created + route.group_wait_s
            else:
                changed = any(m.notified != m.snapshot.status for m in batch)
                due = (changed and now >= group.last_sent + route.group_interval_s) or (
                    firing and now >= group.last_sent + route.repeat_interval_s
                )
            if not due:
                continue
            alerts = tuple(
                sorted((m.snapshot for m in batch), key=lambda a: (a.status, a.fingerprint))
            )
            out.append(
                Notification(
                    group_key=group.key,
                    group_labels=dict(group.labels),
                    receiver=route.receiver,
                    status="firing" if firing else "resolved",
                    alerts=alerts,
                    at=now,
                )
            )
            group.last_sent = now
            for m in batch:
                m.notified = m.snapshot.status
            for mkey in [k for k, m in group.members.items() if m.notified == "resolved"]:
                del group.members[mkey]
            if not group.members:
                del self._groups[gkey]
        return out

    def alertmanager_payload(
        self, notification: Notification, external_url: str, max_alerts: int = 0
    ) -> dict[str, Any]:
        return alertmanager_payload(notification, external_url, max_alerts)
