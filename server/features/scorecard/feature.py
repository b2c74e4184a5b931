"""`Scorecards`: balanced, informational feedback for staff, from the event logs.

Every ``refresh_s`` it reads what the desks' queue and duty logs, the
feedback stream and the training feature's completed scenarios gained
(through the `Logs` port), scores it with the rules
(``server/data/scorecard.toml``, reloaded when the file changes; a broken
file keeps the last good rules), and tells each staff member who is here
what their last case earned, as information ("Rated 5 by the citizen: +12
for quality"), as soon as its inputs exist and again when a late rating
changes it. Points are derived, never stored: a restart replays the logs.

What is stored is each staff member's own choices (take part at all,
appear on boards, show badges) and their personal goals. Nobody sees
another staff member's figures through any message: boards are opt-in and
show names, never subjects. Managers and admins get HTTP routes: the rules,
team aggregates and, outside works-agreement mode, one person's figures.
In works-agreement mode (co-determination, BetrVG §87(1)6, MBL §11) only
team aggregates of groups of at least ``min_group`` are shown; every view
of these routes is written to the audit stream either way, and to the
server's audit trail (``scorecard.rules_view``, ``scorecard.team_view``,
``scorecard.staff_view`` with the staff member viewed as the target), as is
every reload of a changed rules file (``scorecard.rules_changed``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from protocol.codec import Message
from protocol.errors import ProtocolError
from protocol.messages import scorecard as wire
from protocol.messages.scorecard import ScorecardError
from server.audit import SYSTEM, token_actor
from server.features.scorecard.points import PERIODS, GoalError, Scorecard
from server.features.scorecard.rules import Rules, load_rules
from server.features.scorecard.settings import ScorecardSettings
from server.logs import catch_up
from server.plug import (
    Feature,
    FeatureContext,
    Handler,
    HttpError,
    HttpReply,
    HttpRequest,
    HttpRoute,
    Person,
    Sender,
    StartupError,
)
from server.rulesfile import RuleError, WatchedFile
from server.tasks import Repeating

SOURCES = (
    ("queue", "desks", "queue"),
    ("duty", "desks", "duty"),
    ("feedback", "feedback", "answers"),
    ("training", "training", "completed"),
    ("qa", "qa", "activity"),
)
PREFS = "prefs"
"""Hash: staff subject -> their choices (JSON)."""
GOALS = "goals"
"""Hash: staff subject -> their personal goals (JSON)."""
AUDIT = "audit"
"""Stream: who viewed which scorecard route, when (never what they saw)."""
STAFF_ROLES = ("staff", "admin")
GOAL_CODES = {
    "not_participating": ScorecardError.NOT_PARTICIPATING,
    "unknown_goal": ScorecardError.BAD_GOAL,
    "bad_goal": ScorecardError.BAD_GOAL,
    "too_many_goals": ScorecardError.TOO_MANY_GOALS,
}


class Scorecards(Feature):
    name = "scorecard"
    personal_data = ()  # staff work records (the employer's, not citizens' data)
    protocol = wire.PROTOCOL
    Settings = ScorecardSettings
    shares = (AUDIT,)

    def __init__(self, ctx: FeatureContext) -> None:
        super().__init__(ctx)
        self.settings: ScorecardSettings = ctx.settings
        world = ctx.world
        self._rules_file = WatchedFile(self.settings.rules_path())
        self.rules: Rules = self._first_rules()
        self.rules_error: str | None = None
        self.scorecard = Scorecard(
            self.rules,
            ZoneInfo(world.timezone),
            {s["id"]: world.target_wait_s(s["id"]) for s in world.services},
        )
        self.prefs: dict[str, dict[str, Any]] = {}
        self._rounds: Repeating | None = None

    def _first_rules(self) -> Rules:
        """The rules at start-up; an unusable file stops the start, naming the file."""
        path = self._rules_file.path
        try:
            return load_rules(self._rules_file.changed() or "")
        except (RuleError, OSError, UnicodeDecodeError) as exc:
            raise StartupError(f"scorecard rules {path}: {exc}") from None

    def handlers(self) -> Mapping[str, Handler]:
        return {
            "scorecard_get": self.on_get,
            "scorecard_settings": self.on_settings,
            "goal_set": self.on_goal_set,
            "goal_clear": self.on_goal_clear,
            "leaderboard_get": self.on_leaderboard,
        }

    def http_routes(self) -> Mapping[str, HttpRoute]:
        return {
            "rules": HttpRoute(self.http_rules),
            "team": HttpRoute(self.http_team),
            "staff": HttpRoute(self.http_staff),
        }

    # -- lifecycle -----------------------------------------------------------

    async def start(self) -> None:
        """Choices and goals first (so the replay scores only who takes part), then the logs."""
        for subject, raw in (await self.ctx.store.hgetall(PREFS)).items():
            prefs = json.loads(raw)
            self.prefs[subject] = prefs
            self.scorecard.set_participating(
                subject, bool(prefs.get("participate", True)), float(prefs.get("since", 0.0))
            )
            self.scorecard.set_opt_in(subject, bool(prefs.get("leaderboard", False)))
        for subject, raw in (await self.ctx.store.hgetall(GOALS)).items():
            for goal in json.loads(raw):
                try:
                    self.scorecard.set_goal(subject, goal["kind"], goal["target"], goal["id"])
                except GoalError as exc:
                    self.ctx.log.warning("a stored goal no longer applies: %s", exc)
        read = await self.catch_up()
        self._purge()
        self.scorecard.changed()
        self.scorecard.changed_staff()
        self.ctx.log.info("scorecard rebuilt from %d logged entries", read)
        self._rounds = self.ctx.tasks.every(
            self.settings.refresh_s, self.refresh, "scorecard refresh"
        )

    async def stop(self) -> None:
        if self._rounds is not None:
            self._rounds.stop()

    async def entered(self, person: Person, resumed: bool) -> None:
        if person.role in STAFF_ROLES:
            self._send_progress(person)
            if self._shows_badges(person.subject):
                self._announce_badges(person)
        for subject, prefs in self.prefs.items():
            if prefs.get("show_badges") and subject != person.subject:
                shown = self.ctx.people.by_subject(subject)
                if shown is not None:
                    self.ctx.notify.to(person.id, self._badges_message(shown))

    # -- badges on avatars -------------------------------------------------------

    def _shows_badges(self, subject: str) -> bool:
        prefs = self.prefs.get(subject, {})
        return bool(prefs.get("show_badges")) and self.scorecard.participating(subject)

    def _badges_message(self, who: Person) -> dict[str, Any]:
        shown = self.scorecard.badges(who.subject) if self._shows_badges(who.subject) else []
        return {
            "t": "staff_badges",
            "id": who.id,
            "badges": [{"id": b["id"], "names": b["names"]} for b in shown][:64],
        }

    def _everyone(self) -> set[int]:
        return {e for zone in self.ctx.world.zones for e in self.ctx.people.in_zone(zone.id)}

    def _announce_badges(self, who: Person) -> None:
        """Tell everyone here which badges ``who`` shows (their own choice; none by default)."""
        self.ctx.notify.to_many(self._everyone(), self._badges_message(who))

    async def catch_up(self) -> int:
        """Apply everything appended to the shared logs since the last look."""
        apply = {
            "queue": self.scorecard.apply_queue,
            "duty": self.scorecard.apply_duty,
            "feedback": self.scorecard.apply_feedback,
            "training": self.scorecard.apply_training,
            "qa": self.scorecard.apply_qa,
        }
        return await catch_up(
            self.ctx.logs,
            SOURCES,
            self.scorecard.cursors,
            lambda cursor, entry_id, fields: apply[cursor](entry_id, fields),
        )

    async def refresh(self) -> None:
        """Score what is new, reload changed rules, and tell the staff concerned."""
        await self.catch_up()
        self._reload_rules()
        for staff, ticket in self.scorecard.changed():
            person = self.ctx.people.by_subject(staff)
            score = self.scorecard.case_score(ticket, staff)
            if person is None or score is None:
                continue
            public = score.public()
            lines = public.get("lines", [])
            self.ctx.notify.to(
                person.id,
                {
                    "t": "case_feedback",
                    "ticket": ticket,
                    "lines": lines,
                    "total": round(sum(float(line["points"]) for line in lines), 2),
                },
            )
        for staff in self.scorecard.changed_staff():
            person = self.ctx.people.by_subject(staff)
            if person is not None:
                self._send_progress(person)
        self._purge()

    async def refreshed(self) -> None:
        """Wait for the next refresh to finish (tests and tools)."""
        assert self._rounds is not None, "not started"
        await self._rounds.next()

    def _purge(self) -> None:
        today = self.scorecard.local_day(self.ctx.clock.time())
        self.scorecard.purge_before(today - timedelta(days=self.settings.history_days))

    # -- rules -----------------------------------------------------------------

    def _reload_rules(self) -> None:
        path = self._rules_file.path
        try:
            text = self._rules_file.changed()
            if text is None:
                return
            rules = load_rules(text)
        except FileNotFoundError:
            return  # being replaced, or gone: the rules in force stay
        except (RuleError, UnicodeDecodeError, OSError) as exc:
            self.rules_error = f"{path.name}: {exc}"
            self.ctx.log.error("scorecard rules not reloaded, the last good ones stay: %s", exc)
            return
        self.rules = rules
        self.scorecard.reload(rules)
        self.rules_error = None
        self.ctx.log.info("scorecard rules loaded from %s", path)
        if self.ctx.audit is not None:
            self.ctx.tasks.spawn(
                self.ctx.audit.record(
                    SYSTEM,
                    SYSTEM,
                    "scorecard.rules_changed",
                    path.name,
                    {"metrics": str(len(rules.metrics))},
                ),
                name="scorecard audit",
            )

    # -- staff messages ----------------------------------------------------------

    def _progress(self, who: Person) -> dict[str, Any]:
        now = self.ctx.clock.time()
        progress = self.scorecard.progress(who.subject, now)
        progress.pop("staff", None)  # their own subject is not the client's business
        prefs = self.prefs.get(who.subject, {})
        progress["settings"] = {
            "participate": bool(prefs.get("participate", True)),
            "leaderboard": bool(prefs.get("leaderboard", False)),
            "show_badges": bool(prefs.get("show_badges", False)),
        }
        progress["works_agreement"] = self.settings.works_agreement
        if progress.get("participating"):
            progress["goal_kinds"] = list(self.rules.goal_kinds)
            progress["max_goals"] = self.rules.max_goals
        last = progress.get("last_case")
        if isinstance(last, dict) and isinstance(last.get("lines"), list):
            last["total"] = round(sum(float(line["points"]) for line in last["lines"]), 2)
        if self.settings.works_agreement:
            progress["challenges"] = [self._guarded(c, now) for c in progress.get("challenges", [])]
        return progress

    def _guarded(self, challenge: dict[str, Any], now: float) -> dict[str, Any]:
        """A team challenge's figures only for a group of at least ``min_group`` (else a
        small team's member could subtract their own ratings and read a colleague's)."""
        services = None if challenge.get("team") == "all" else tuple(challenge.get("team") or ())
        team = self.scorecard.team(now, str(challenge.get("period", "day")), services)
        if team["group_size"] >= self.settings.min_group:
            return challenge
        keep = ("id", "names", "period", "team", "from", "to")
        return {
            **{k: challenge[k] for k in keep if k in challenge},
            "suppressed": True,
            "min_group": self.settings.min_group,
        }

    def _send_progress(self, who: Person) -> None:
        self.ctx.notify.to(who.id, {"t": "scorecard", "progress": self._progress(who)})

    async def on_get(self, sender: Sender, msg: Message) -> None:
        who = sender.person
        asked = msg.get("staff")
        if asked and asked not in (who.subject, who.subject.removeprefix("id:")):
            raise ProtocolError(ScorecardError.PRIVATE, "Only your own figures are shown to you.")
        self._send_progress(who)

    async def on_settings(self, sender: Sender, msg: Message) -> None:
        who = sender.person
        prefs = dict(self.prefs.get(who.subject, {}))
        badges_before = self._shows_badges(who.subject)
        if msg.get("participate") is not None:
            joining = bool(msg["participate"])
            if joining != bool(prefs.get("participate", True)):
                prefs["participate"] = joining
                prefs["since"] = self.ctx.clock.time()
                self.scorecard.set_participating(who.subject, joining, prefs["since"])
                if not joining:
                    prefs["leaderboard"] = False
                    await self.ctx.store.hdel(GOALS, who.subject)
        if msg.get("leaderboard") is not None:
            if msg["leaderboard"] and not prefs.get("participate", True):
                raise ProtocolError(
                    ScorecardError.NOT_PARTICIPATING, "Join the scorecard to appear on a board."
                )
            prefs["leaderboard"] = bool(msg["leaderboard"])
        self.scorecard.set_opt_in(who.subject, bool(prefs.get("leaderboard", False)))
        if msg.get("show_badges") is not None:
            prefs["show_badges"] = bool(msg["show_badges"])
        await self.ctx.store.hset(PREFS, {who.subject: json.dumps(prefs).encode()})
        self.prefs[who.subject] = prefs
        self._send_progress(who)
        if badges_before or self._shows_badges(who.subject):
            self._announce_badges(who)

    async def _store_goals(self, subject: str) -> None:
        goals = [
            {"id": g.id, "kind": g.kind, "target": g.target} for g in self.scorecard.goals(subject)
        ]
        await self.ctx.store.hset(GOALS, {subject: json.dumps(goals).encode()})

    async def on_goal_set(self, sender: Sender, msg: Message) -> None:
        who = sender.person
        kind = msg["kind"]
        target: float | str = (
            (msg.get("ref") or "") if kind == "training_scenario" else msg["target"]
        )
        try:
            self.scorecard.set_goal(who.subject, kind, target)
        except GoalError as exc:
            raise ProtocolError(
                GOAL_CODES.get(exc.code, ScorecardError.BAD_GOAL), str(exc)
            ) from None
        await self._store_goals(who.subject)
        self._send_progress(who)

    async def on_goal_clear(self, sender: Sender, msg: Message) -> None:
        who = sender.person
        if not self.scorecard.clear_goal(who.subject, msg["goal"]):
            raise ProtocolError(ScorecardError.UNKNOWN_GOAL, "You have no goal with this id.")
        await self._store_goals(who.subject)
        self._send_progress(who)

    def _name_of(self, subject: str) -> str:
        person = self.ctx.people.by_subject(subject)
        if person is not None:
            return person.name
        return self.ctx.world.staff_profile(subject.removeprefix("id:")).name or "—"

    async def on_leaderboard(self, sender: Sender, msg: Message) -> None:
        who = sender.person
        if self.settings.works_agreement:
            raise ProtocolError(
                ScorecardError.WORKS_AGREEMENT,
                "Under the works agreement there are team boards only.",
            )
        if not self.scorecard.participating(who.subject):
            raise ProtocolError(ScorecardError.NOT_PARTICIPATING, "You have left the scorecard.")
        if not self.scorecard.opted_in(who.subject):
            raise ProtocolError(
                ScorecardError.NOT_OPTED_IN, "Turn on your own board entry to see the board."
            )
        board = self.scorecard.leaderboard(self.ctx.clock.time(), who.subject, self.settings.top_n)
        for entry in [*board.get("entries", []), board.get("viewer") or {}]:
            if "staff" in entry:
                entry["name"] = self._name_of(entry.pop("staff"))
        sender.reply({"t": "leaderboard", "board": board})

    # -- managers' routes --------------------------------------------------------

    async def _audit(self, req: HttpRequest) -> None:
        await self.ctx.store.append(
            AUDIT,
            {
                "viewer": req.caller.subject,
                "role": req.caller.role,
                "route": req.route,
                "query": json.dumps(dict(req.query), sort_keys=True)[:500],
                "ts": repr(self.ctx.clock.time()),
            },
        )
        if self.ctx.audit is not None:
            viewed = req.query.get("subject", "") if req.route == "staff" else ""
            detail = {k: req.query[k][:32] for k in ("period", "service") if req.query.get(k)}
            await self.ctx.audit.record(
                token_actor(req.caller.subject),
                req.caller.role,
                f"scorecard.{req.route}_view",
                token_actor(viewed),
                detail,
            )

    async def http_rules(self, req: HttpRequest) -> HttpReply:
        await self._audit(req)
        metrics = [
            {
                "name": m.name,
                "max_points": m.max_points,
                "share": m.max_points / self.rules.max_total(),
            }
            for m in self.rules.metrics
        ]
        return _json(
            {
                "path": self.settings.rules_path().name,
                "metrics": metrics,
                "quality_share": self.rules.quality_share(),
                "rules_error": self.rules_error,
                "works_agreement": self.settings.works_agreement,
                **({"min_group": self.settings.min_group} if self.settings.works_agreement else {}),
            }
        )

    async def http_team(self, req: HttpRequest) -> HttpReply:
        await self._audit(req)
        period = req.query.get("period", "day")
        if period not in PERIODS:
            raise HttpError(400, "bad_request", f"period must be one of {', '.join(PERIODS)}.")
        service = req.query.get("service") or None
        if service is not None and self.ctx.world.service(service) is None:
            raise HttpError(400, "bad_request", f"There is no service '{service}'.")
        team = self.scorecard.team(
            self.ctx.clock.time(), period, (service,) if service is not None else None
        )
        if self.settings.works_agreement and team["group_size"] < self.settings.min_group:
            return _json(
                {
                    "period": team["period"],
                    "from": team["from"],
                    "to": team["to"],
                    "suppressed": True,
                    "min_group": self.settings.min_group,
                }
            )
        team["suppressed"] = False
        return _json(team)

    async def http_staff(self, req: HttpRequest) -> HttpReply:
        await self._audit(req)
        if self.settings.works_agreement:
            raise HttpError(
                403, "works_agreement", "Under the works agreement only team figures are shown."
            )
        subject = req.query.get("subject", "")
        if not subject:
            raise HttpError(400, "bad_request", "'subject' is required.")
        now = self.ctx.clock.time()
        for candidate in (subject, "id:" + subject):
            if not self.scorecard.participating(candidate):
                continue
            progress = self.scorecard.progress(candidate, now)
            if progress.get("season", {}).get("workdays"):
                progress.pop("goals", None)  # personal goals are the staff member's own
                return _json(progress)
        raise HttpError(404, "not_found", "No figures for this staff member (or they opted out).")


def _json(data: Any) -> HttpReply:
    return HttpReply(json.dumps(data, allow_nan=False).encode())
