"""`Moderation`: announcements to a zone, and removing an avatar from the space.

Who may send them is declared with the messages (``protocol/messages/
moderation.py``: announce for staff, hosts and admins; kick for hosts and
admins) and checked by the session before these handlers run; these only
carry them out. A removal is logged without names or text.
"""

from __future__ import annotations

from collections.abc import Mapping

from protocol.codec import Message
from protocol.errors import ErrorCode, ProtocolError
from protocol.messages import moderation as wire
from server.plug import Feature, FeatureContext, Handler, Sender
from server.privacy import redact


class Moderation(Feature):
    name = "moderation"
    protocol = wire.PROTOCOL

    def __init__(self, ctx: FeatureContext) -> None:
        super().__init__(ctx)
        self._actions = ctx.metrics.counter(
            "actions", "Moderation actions carried out, by action.", ("action",)
        )

    def handlers(self) -> Mapping[str, Handler]:
        return {"announce": self.on_announce, "kick": self.on_kick}

    async def on_announce(self, sender: Sender, msg: Message) -> None:
        person = sender.person
        zone = self.ctx.people.zone(person.id) or ""
        self._actions.labels("announce").inc()
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
        if target == sender.person.id or self.ctx.people.get(target) is None:
            raise ProtocolError(
                ErrorCode.UNKNOWN_ENTITY, "There is no such avatar to remove.", "kick"
            )
        self.ctx.log.info("avatar %s removed by a %s", target, sender.person.role)
        self._actions.labels("kick").inc()
        await self.ctx.people.remove(target, msg.get("reason") or "removed by a moderator")
