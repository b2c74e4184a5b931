"""`Moderation`: announcements to a zone, removing an avatar, blocks and reports.

Who may send them is declared with the messages (``protocol/messages/
moderation.py``: announce for staff, hosts and admins; kick for hosts and
admins) and checked by the session before these handlers run; these only
carry them out. A removal is logged without names or text.

Kicks and reports go to the ``audit`` stream (who, what, whom, when, why),
which admins read and export at ``/api/moderation/audit``, and to the server's
audit trail (`server.audit`: subjects only, the report's reason code, never
the names or the text). A block is kept by identity in the shared block list
(`server.blocks`); it is nobody's business but the blocker's, so it is not
audited.

Data rights: ``personal_data = ("moderation_reports",)``: the ``audit`` entries (kicks and
reports) the person made or that name them. Export gives them with the other party's
subject left out; erasure anonymises each such entry (the audit must stay): it is
re-appended with the person's subject and name set to ``erased`` and the free-text reason
dropped, keeping the time, the roles and the action.

Retention (`expire_data`, default ``moderation_reports``: 400 days): every ``audit`` entry
whose ``ts`` is before the limit is anonymised the same way for both sides (subjects and
names ``erased``, reason dropped); the time, the roles and the action stay, so counts of
kicks and reports over time remain true. An entry without a readable ``ts`` is treated
as expired (its age cannot be shown to be within the limit).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from protocol.codec import Message
from protocol.errors import ErrorCode, ProtocolError
from protocol.messages import moderation as wire
from server.plug import (
    Erased,
    Feature,
    FeatureContext,
    Handler,
    HttpReply,
    HttpRequest,
    HttpRoute,
    Person,
    Sender,
)
from server.privacy import redact
from server.store import rewrite_entries

AUDIT = "audit"
ERASED = "erased"
KIND = "moderation_reports"


class Moderation(Feature):
    name = "moderation"
    protocol = wire.PROTOCOL
    personal_data = (KIND,)

    def __init__(self, ctx: FeatureContext) -> None:
        super().__init__(ctx)
        self._actions = ctx.metrics.counter(
            "actions", "Moderation actions carried out, by action.", ("action",)
        )

    async def _entries_of(self, subject: str) -> list[tuple[str, dict[str, str]]]:
        return [
            (i, dict(f))
            for i, f in await self.ctx.store.read(AUDIT)
            if subject in (f.get("actor"), f.get("target"))
        ]

    async def export_data(self, subject: str) -> Mapping[str, Any]:
        out: list[dict[str, Any]] = []
        for _i, f in await self._entries_of(subject):
            mine = f.get("actor") == subject
            entry: dict[str, Any] = {
                "ts": f.get("ts", ""),
                "action": f.get("action", ""),
                "role": "actor" if mine else "target",
                "name": f.get("actor_name" if mine else "target_name", ""),
            }
            if mine:  # their own words; a reason others gave about them stays theirs
                entry["reason"] = f.get("reason", "")
            out.append(entry)
        return {KIND: out}

    async def erase_data(self, subject: str) -> Erased:
        def anonymise(f: dict[str, str]) -> dict[str, str]:
            for side in ("actor", "target"):
                if f.get(side) == subject:
                    f[side] = ERASED
                    f[side + "_name"] = ERASED
            f["reason"] = ERASED
            return f

        count = await rewrite_entries(
            self.ctx.store, AUDIT, lambda f: subject in (f.get("actor"), f.get("target")), anonymise
        )
        return Erased(anonymised=count)

    async def expire_data(self, kind: str, before: float) -> Erased:
        """Anonymise the ``audit`` entries made before ``before`` (see the module's retention
        note); ``anonymised`` counts them, each once. ValueError for a kind not ours."""
        if kind != KIND:
            raise ValueError(f"moderation keeps no personal data of kind {kind!r}")
        private = ("actor", "actor_name", "target", "target_name", "reason")

        def expired(f: Mapping[str, str]) -> bool:
            if all(f.get(k, ERASED) == ERASED for k in private):
                return False  # anonymised already
            try:
                return float(f.get("ts", "")) < before
            except ValueError:
                return True

        def anonymise(f: dict[str, str]) -> dict[str, str]:
            return f | {k: ERASED for k in private}

        return Erased(anonymised=await rewrite_entries(self.ctx.store, AUDIT, expired, anonymise))

    def handlers(self) -> Mapping[str, Handler]:
        return {
            "announce": self.on_announce,
            "kick": self.on_kick,
            "block": self.on_block,
            "report": self.on_report,
        }

    def http_routes(self) -> Mapping[str, HttpRoute]:
        return {"audit": HttpRoute(self.http_audit)}

    async def _audit(self, actor: Person, action: str, target: Person, reason: str) -> None:
        await self.ctx.store.append(
            AUDIT,
            {
                "ts": f"{self.ctx.clock.time():.3f}",
                "actor": actor.subject,
                "actor_name": actor.name,
                "actor_role": actor.role,
                "action": action,
                "target": target.subject,
                "target_name": target.name,
                "reason": redact(reason),
            },
        )

    async def _trail(
        self, actor: Person, action: str, target: Person, detail: dict[str, str]
    ) -> None:
        if self.ctx.audit is not None:
            await self.ctx.audit.record(
                actor.subject, actor.role, "moderation." + action, target.subject, detail
            )

    async def on_announce(self, sender: Sender, msg: Message) -> None:
        person = sender.person
        zone = self.ctx.people.zone(person.id) or ""
        self._actions.labels("announce").inc()
        if self.ctx.audit is not None:
            await self.ctx.audit.record(person.subject, person.role, "moderation.announce", zone)
        self.ctx.notify.zone(
            zone,
            {
                "t": "announce",
                **person.public(),
                "text": redact(msg["text"]),
                "ts": self.ctx.clock.time(),
            },
        )

    async def on_kick(self, sender: Sender, msg: Message) -> None:
        target = msg["id"]
        if target == sender.person.id or self.ctx.people.find(target) is None:
            raise ProtocolError(
                ErrorCode.UNKNOWN_ENTITY, "There is no such avatar to remove.", "kick"
            )
        self.ctx.log.info("avatar %s removed by a %s", target, sender.person.role)
        self._actions.labels("kick").inc()
        reason = msg.get("reason") or "removed by a moderator"
        person = self.ctx.people.find(target)  # anywhere in the space (a cluster)
        if person is not None:
            await self._audit(sender.person, "kick", person, reason)
            await self._trail(
                sender.person, "kick", person, {"reason_given": _yes(msg.get("reason"))}
            )
        await self.ctx.people.remove(target, reason)

    def _other(self, sender: Sender, entity: int, ref: str) -> Person:
        other = self.ctx.people.find(entity)  # anywhere in the space (a cluster)
        if other is None or entity == sender.person.id:
            raise ProtocolError(ErrorCode.UNKNOWN_ENTITY, "There is no such person here.", ref)
        return other

    async def on_block(self, sender: Sender, msg: Message) -> None:
        other = self._other(sender, msg["id"], "block")
        blocks = self.ctx.blocks
        if blocks is None:
            return
        me = sender.person
        await blocks.set(me.subject, other.subject, bool(msg["on"]))
        mine = blocks.blocked_by(me.subject)
        ids = sorted(p.id for s in mine if (p := self.ctx.people.find_subject(s)) is not None)
        sender.reply({"t": "blocked", "ids": ids})

    async def on_report(self, sender: Sender, msg: Message) -> None:
        other = self._other(sender, msg["id"], "report")
        text = msg.get("text") or ""
        reason = msg["reason"] + (f": {text}" if text else "")
        self._actions.labels("report").inc()
        await self._audit(sender.person, "report", other, reason)
        await self._trail(
            sender.person, "report", other, {"reason": msg["reason"], "text_given": _yes(text)}
        )
        sender.reply({"t": "reported", "id": other.id})

    async def http_audit(self, req: HttpRequest) -> HttpReply:
        entries = [dict(f, id=i) for i, f in await self.ctx.store.read(AUDIT)]
        body = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries)
        return HttpReply(body.encode(), "application/x-ndjson", filename="moderation-audit.jsonl")


def _yes(value: object) -> str:
    return "yes" if value else "no"
