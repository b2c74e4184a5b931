"""`InsightFeature`: figures derived from the event logs, the dashboard, reports and alerts.

Every ``refresh_s`` it reads what was appended since its last look to the
desks' queue and duty logs and to the feedback stream (through the `Logs`
port: it never imports those features), applies it to `Insight`
(incremental: nothing is re-read), updates the Prometheus gauges (by
service, never by person), evaluates the alert rules and delivers what
changed: to the staff on duty for the service and to managers in the world
(``alert``), to the dashboard (``/api/insight/dashboard``), and to the
webhook in Alertmanager's format. On start it replays the whole logs once,
so after a restart every figure is what it was.

HTTP routes (manager and admin only, by the permission matrix): ``dashboard``,
``cases`` (the case ids behind a bar or point, no personal data),
``report.csv``, ``report.xlsx`` and ``alerts``. Every view is recorded in the
audit trail (``insight.dashboard_view``, ``insight.cases_view``,
``insight.export``, ``insight.alerts_view``: who, when, which query), and so
is every reload of a changed rules file (``insight.rules_changed``).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from protocol.messages import insight as wire
from server.audit import SYSTEM, token_actor
from server.features.insight.alerts import (
    Alerter,
    Notification,
    ServiceFigures,
    Transition,
    load_rules,
)
from server.features.insight.reports import to_csv, to_xlsx
from server.features.insight.settings import InsightSettings
from server.features.insight.stats import CASE_METRICS, GROUPINGS, Calendar, Insight
from server.features.insight.webhook import Webhook
from server.logs import catch_up
from server.plug import (
    Feature,
    FeatureContext,
    HttpError,
    HttpReply,
    HttpRequest,
    HttpRoute,
)
from server.rulesfile import RuleError, WatchedFile
from server.tasks import Repeating

ALERT_WATCHERS = ("manager", "admin")
"""Roles that get every ``alert`` in the world, whatever the service."""
SOURCES = (
    ("queue", "desks", "queue"),
    ("duty", "desks", "duty"),
    ("feedback", "feedback", "answers"),
)
"""(cursor, feature, stream): the shared logs the figures come from."""
MAX_RANGE_DAYS = 400
POLLED_VIEW_S = 900.0
"""The dashboard page polls every few seconds: its views are recorded in the audit trail
at most once per this many seconds per person (drill-downs and exports every time)."""


class InsightFeature(Feature):
    name = "insight"
    personal_data = ()  # aggregates of other features' anonymised streams; alert rules
    protocol = wire.PROTOCOL
    Settings = InsightSettings

    def __init__(self, ctx: FeatureContext) -> None:
        super().__init__(ctx)
        self.settings: InsightSettings = ctx.settings
        self._qa_overdue: dict[str, int] | None = None
        world = ctx.world
        self.calendar = Calendar(
            tz=ZoneInfo(world.timezone),
            targets={s["id"]: world.target_wait_s(s["id"]) for s in world.services},
            hours=dict(world.hours),
        )
        self.insight = Insight(self.calendar)
        self.alerter = Alerter(load_rules(""))
        self.rules_error: str | None = None
        self._rules_file = WatchedFile(self.settings.rules_path())
        self._rules_loaded = False
        self._polled: dict[tuple[str, str], float] = {}
        """(actor, action) -> when a polled view was last recorded (monotonic)."""
        self.webhook: Webhook | None = None
        self._rounds: Repeating | None = None
        m = ctx.metrics
        self._queue_length = m.gauge("queue_length", "Tickets waiting now.", ("service",))
        self._current_wait = m.gauge(
            "current_wait_seconds", "How long the longest-waiting ticket has waited.", ("service",)
        )
        self._target_wait = m.gauge(
            "target_wait_seconds", "The service's target wait (service level).", ("service",)
        )
        self._on_duty = m.gauge("staff_on_duty", "Staff on duty for the service.", ("service",))
        self._service_level = m.gauge(
            "service_level_ratio", "Today's share served within the target wait.", ("service",)
        )
        self._csat = m.gauge("csat_ratio", "Today's share of 4-5 ratings.", ("service",))
        self._cases = m.counter(
            "cases",
            "Cases ended, by service and outcome (left: left the queue), over the whole log.",
            ("service", "outcome"),
        )
        self._transitions = m.counter(
            "alert_transitions", "Alert state changes, by rule and state.", ("rule", "state")
        )

    def http_routes(self) -> Mapping[str, HttpRoute]:
        return {
            "dashboard": HttpRoute(self.http_dashboard),
            "cases": HttpRoute(self.http_cases),
            "report.csv": HttpRoute(self.http_report_csv),
            "report.xlsx": HttpRoute(self.http_report_xlsx),
            "alerts": HttpRoute(self.http_alerts),
        }

    # -- lifecycle -----------------------------------------------------------

    async def start(self) -> None:
        self._reload_rules()
        self.ctx.bus.subscribe("qa.overdue", self._qa_counted)
        if self.settings.webhook_url:
            self.webhook = Webhook(
                self.settings.webhook_url, self.ctx.tasks, max_queue=self.settings.webhook_queue
            )
        read = await self.catch_up()
        self.ctx.log.info("figures rebuilt from %d logged entries", read)
        self._rounds = self.ctx.tasks.every(
            self.settings.refresh_s, self.refresh, "insight refresh"
        )

    async def stop(self) -> None:
        if self._rounds is not None:
            self._rounds.stop()
        if self.webhook is not None:
            await self.webhook.close()

    async def catch_up(self) -> int:
        """Apply everything appended to the shared logs since the last look."""
        return await catch_up(self.ctx.logs, SOURCES, self.insight.cursors, self._apply)

    def _apply(self, cursor: str, entry_id: str, fields: Mapping[str, str]) -> None:
        if cursor == "queue":
            applied = self.insight.cursors.get("queue")
            self.insight.apply_queue(entry_id, fields)
            kind = fields.get("type", "")
            if (
                kind in ("ended", "left", "no_show")
                and self.insight.cursors.get("queue") != applied
            ):
                service = self.insight.service_of(fields.get("ticket", "")) or "unknown"
                outcome = (fields.get("outcome") or "resolved") if kind == "ended" else kind
                self._cases.labels(service, outcome[:32]).inc()
        elif cursor == "duty":
            self.insight.apply_duty(entry_id, fields)
        else:
            self.insight.apply_feedback(entry_id, fields)
            if fields.get("type") == "answered" and fields.get("kind") == "case":
                try:
                    rating = int(fields.get("rating", ""))
                    ts = float(fields.get("ts", ""))
                except ValueError:
                    return
                self.alerter.observe_rating(ts, fields.get("service", ""), rating)

    async def refresh(self) -> None:
        """One round: new entries, gauges, rules file, alerts and their delivery."""
        await self.catch_up()
        self._reload_rules()
        now = self.ctx.clock.time()
        figures = self.figures(now)
        self._export(figures, now)
        for transition in self.alerter.evaluate(now, figures):
            self._deliver(transition)
        if self.webhook is not None:
            for notification in self.alerter.due_notifications(now):
                if not await self._claim(notification):
                    continue  # another process of the cluster sends this one
                self.ctx.log.info("webhook %s", notification.describe())
                payload = self.alerter.alertmanager_payload(
                    notification, self.settings.external_url
                )
                self.webhook.send(payload)

    async def _claim(self, notification: Notification) -> bool:
        """Whether this process sends ``notification``: every process of a cluster reads
        the same logs and comes to the same notification, and the first to claim it in
        the store sends it (so the receiver gets it once). A single process always does."""
        parts = [notification.group_key, notification.status]
        parts += sorted(f"{a.fingerprint}={a.status}" for a in notification.alerts)
        key = "sent:" + hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]
        ttl = max(30.0, 3 * self.settings.refresh_s)
        return await self.ctx.store.set(key, b"1", ttl, only_new=True)

    def _qa_counted(self, event: Mapping[str, Any]) -> None:
        """The Q&A wall's overdue official answers by service (``qa.overdue``): until the
        first count the qa_overdue rules stay inactive."""
        services = event.get("services")
        if isinstance(services, Mapping):
            self._qa_overdue = {str(k): int(v) for k, v in services.items()}

    async def refreshed(self) -> None:
        """Wait for the next refresh to finish (tests and tools)."""
        assert self._rounds is not None, "not started"
        await self._rounds.next()

    def figures(self, now: float) -> dict[str, ServiceFigures]:
        live = self.insight.live(now)
        out: dict[str, ServiceFigures] = {}
        for service in self.ctx.world.services:
            sid = service["id"]
            figure = live.get(sid)
            out[sid] = ServiceFigures(
                queue_length=figure.queue_length if figure else 0,
                current_wait_s=figure.current_wait_s if figure else 0.0,
                target_wait_s=self.calendar.targets.get(sid, 600.0),
                staff_on_duty=figure.staff_on_duty if figure else 0,
                waiting=figure.queue_length if figure else 0,
                qa_overdue=None if self._qa_overdue is None else self._qa_overdue.get(sid, 0),
            )
        return out

    def _export(self, figures: Mapping[str, ServiceFigures], now: float) -> None:
        today = {s["id"]: s["today"] for s in self.insight.dashboard(now, days=1)["services"]}
        for sid, f in figures.items():
            self._queue_length.labels(sid).set(f.queue_length)
            self._current_wait.labels(sid).set(f.current_wait_s)
            self._target_wait.labels(sid).set(f.target_wait_s)
            self._on_duty.labels(sid).set(f.staff_on_duty)
            summary = today.get(sid) or {}
            level, csat = summary.get("service_level"), summary.get("csat")
            self._service_level.labels(sid).set(math.nan if level is None else level)
            self._csat.labels(sid).set(math.nan if csat is None else csat)

    # -- rules -----------------------------------------------------------------

    def _reload_rules(self) -> None:
        path = self._rules_file.path
        try:
            text = self._rules_file.changed()
            if text is None:
                return
            rules = load_rules(text, self.calendar.targets.keys())
        except OSError as exc:
            if self.rules_error is None:
                self.ctx.log.error("alert rules %s cannot be read: %s", path, exc)
            self.rules_error = f"{path}: {exc.strerror or exc}"
            return
        except (RuleError, UnicodeDecodeError) as exc:
            self.rules_error = f"{path.name}: {exc}"
            self.ctx.log.error("alert rules not reloaded, the last good ones stay: %s", exc)
            return
        self.alerter.replace(rules)
        self.rules_error = None
        self.ctx.log.info("alert rules loaded from %s", path)
        if self._rules_loaded and self.ctx.audit is not None:
            self.ctx.tasks.spawn(
                self.ctx.audit.record(
                    SYSTEM,
                    SYSTEM,
                    "insight.rules_changed",
                    path.name,
                    {"rules": str(len(rules.rules))},
                ),
                name="insight audit",
            )
        self._rules_loaded = True

    # -- delivery --------------------------------------------------------------

    def _deliver(self, transition: Transition) -> None:
        """Log every change; tell staff and managers when an unsilenced alert fires or ends."""
        self._transitions.labels(transition.rule, transition.state).inc()
        self.ctx.log.info("alert %s", transition.describe())
        if transition.silenced or transition.state not in ("firing", "resolved"):
            return
        msg: dict[str, Any] = {"t": "alert"}
        for key, value in transition.message().items():
            if value not in (None, ""):
                msg[key] = value
        msg["summary"] = str(msg.get("summary", ""))[:500]
        self.ctx.notify.to_many(self._watchers(transition.service or None), msg)

    def _watchers(self, service: str | None) -> set[int]:
        """Staff on duty for ``service`` (everyone on duty if none) and managers in the world."""
        out: set[int] = set()
        for subject, services in self.insight.on_duty().items():
            if service is None or service in services:
                person = self.ctx.people.by_subject(subject)
                if person is not None:
                    out.add(person.id)
        for zone in self.ctx.world.zones:
            for entity in self.ctx.people.in_zone(zone.id):
                person = self.ctx.people.get(entity)
                if person is not None and person.role in ALERT_WATCHERS:
                    out.add(entity)
        return out

    # -- HTTP ------------------------------------------------------------------

    def dashboard(self) -> dict[str, Any]:
        now = self.ctx.clock.time()
        board = self.insight.dashboard(now, days=self.settings.trend_days)
        for service in board["services"]:
            known = self.ctx.world.service(service["id"]) or {}
            service["name"] = dict(known.get("name") or {"en": service["id"]})
            service["letter"] = str(known.get("letter", ""))
        board["alerts"] = self.alerter.active(now)
        board["rules_error"] = self.rules_error
        return board

    async def _viewed(
        self,
        req: HttpRequest,
        action: str,
        detail: dict[str, str] | None = None,
        *,
        polled: bool = False,
    ) -> None:
        if self.ctx.audit is None:
            return
        actor = token_actor(req.caller.subject)
        if polled:
            now, key = self.ctx.clock.monotonic(), (actor, action)
            last = self._polled.get(key)
            if last is not None and now - last < POLLED_VIEW_S:
                return
            self._polled = {k: t for k, t in self._polled.items() if now - t < POLLED_VIEW_S}
            self._polled[key] = now
        await self.ctx.audit.record(actor, req.caller.role, "insight." + action, "", detail)

    async def http_dashboard(self, req: HttpRequest) -> HttpReply:
        await self._viewed(req, "dashboard_view", polled=True)
        return _json(self.dashboard())

    async def http_alerts(self, req: HttpRequest) -> HttpReply:
        await self._viewed(req, "alerts_view", polled=True)
        return _json(
            {"alerts": self.alerter.active(self.ctx.clock.time()), "rules_error": self.rules_error}
        )

    async def http_cases(self, req: HttpRequest) -> HttpReply:
        day = _day(req.query.get("day"), "day")
        metric = req.query.get("metric", "volume")
        if metric not in CASE_METRICS:
            raise HttpError(400, "bad_request", f"metric must be one of {', '.join(CASE_METRICS)}.")
        service = req.query.get("service") or None
        if service is not None and self.ctx.world.service(service) is None:
            raise HttpError(400, "bad_request", f"There is no service '{service}'.")
        hour_text = req.query.get("hour")
        hour: int | None = None
        if hour_text:
            if not hour_text.isdigit() or not 0 <= int(hour_text) <= 23:
                raise HttpError(400, "bad_request", "hour must be 0..23.")
            hour = int(hour_text)
        detail = {"day": day.isoformat(), "metric": metric}
        if service:
            detail["service"] = service
        if hour is not None:
            detail["hour"] = str(hour)
        await self._viewed(req, "cases_view", detail)
        return _json({"cases": self.insight.cases(day, service, hour, metric)})

    def _report(self, req: HttpRequest) -> tuple[list[dict[str, Any]], str]:
        start = _day(req.query.get("from"), "from")
        end = _day(req.query.get("to"), "to")
        if end < start:
            raise HttpError(400, "bad_request", "'to' is before 'from'.")
        if (end - start).days > MAX_RANGE_DAYS:
            raise HttpError(400, "bad_request", f"A report spans at most {MAX_RANGE_DAYS} days.")
        by = req.query.get("by", "day")
        if by not in GROUPINGS:
            raise HttpError(400, "bad_request", f"by must be one of {', '.join(GROUPINGS)}.")
        rows = self.insight.report(start, end, by)
        return rows, f"servicepoint-{start.isoformat()}-{end.isoformat()}-by-{by}"

    async def _exported(self, req: HttpRequest, fmt: str) -> None:
        q = req.query
        detail = {"format": fmt, **{k: q[k] for k in ("from", "to", "by") if q.get(k)}}
        await self._viewed(req, "export", detail)

    async def http_report_csv(self, req: HttpRequest) -> HttpReply:
        rows, stem = self._report(req)
        await self._exported(req, "csv")
        return HttpReply(to_csv(rows), "text/csv; charset=utf-8", filename=stem + ".csv")

    async def http_report_xlsx(self, req: HttpRequest) -> HttpReply:
        rows, stem = self._report(req)
        await self._exported(req, "xlsx")
        return HttpReply(
            to_xlsx(rows, "report"),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            filename=stem + ".xlsx",
        )


def _json(data: Any) -> HttpReply:
    return HttpReply(json.dumps(data, allow_nan=False).encode())


def _day(text: str | None, name: str) -> date:
    if not text:
        raise HttpError(400, "bad_request", f"'{name}' is required (YYYY-MM-DD).")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise HttpError(400, "bad_request", f"'{name}' must be a date, YYYY-MM-DD.") from None
