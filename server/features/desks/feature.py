"""`Desks`: the desk feature's handlers and lifecycle, on top of `DeskService`.

Every desk message gets an answer: the new state it caused (``duty``,
``ticket``, ``case``, ``call``, ``desk_say``) or an error with a desk code.
"""

from __future__ import annotations

from collections.abc import Mapping

from protocol.codec import Message
from protocol.messages import desks as wire
from server.features.desks.service import STAFF_ROLES, DeskService
from server.features.desks.settings import DeskSettings
from server.plug import Feature, FeatureContext, Handler, Person, Sender


class Desks(Feature):
    name = "desks"
    protocol = wire.PROTOCOL
    Settings = DeskSettings
    shares = ("queue", "duty")
    """The queue's event log and the duty log: read by the statistics (docs/METRICS.md)."""

    def __init__(self, ctx: FeatureContext) -> None:
        super().__init__(ctx)
        settings: DeskSettings = ctx.settings
        self.service = DeskService(ctx, call_timeout_s=settings.call_timeout_s)

    def handlers(self) -> Mapping[str, Handler]:
        return {
            "duty": self.on_duty,
            "take_ticket": self.on_take_ticket,
            "leave_queue": self.on_leave_queue,
            "respond": self.on_respond,
            "call_next": self.on_call_next,
            "auto_call": self.on_auto_call,
            "transfer": self.on_transfer,
            "close_case": self.on_close_case,
            "invite": self.on_invite,
            "desk_say": self.on_desk_say,
        }

    async def start(self) -> None:
        replayed = await self.service.start()
        self.ctx.log.info("queue rebuilt from %d logged events", replayed)

    async def stop(self) -> None:
        self.service.close()

    async def entered(self, person: Person, resumed: bool) -> None:
        self.service.resend_state(person)

    async def left(self, person: Person, for_good: bool) -> None:
        if person.role in STAFF_ROLES:
            self.service.staff_left(person, 0.0 if for_good else self.ctx.resume_s)
        if for_good:
            await self.service.citizen_gone(person)
        else:
            self.service.citizen_away(person)

    # -- handlers ------------------------------------------------------------

    async def on_duty(self, sender: Sender, msg: Message) -> None:
        await self.service.duty(sender.person, msg["status"], msg.get("desk"))

    async def on_take_ticket(self, sender: Sender, msg: Message) -> None:
        await self.service.take_ticket(sender.person, msg["service"], msg["lang"])

    async def on_leave_queue(self, sender: Sender, msg: Message) -> None:
        await self.service.leave_queue(sender.person)

    async def on_respond(self, sender: Sender, msg: Message) -> None:
        await self.service.respond(sender.person)

    async def on_call_next(self, sender: Sender, msg: Message) -> None:
        await self.service.call_next(sender.person)

    async def on_auto_call(self, sender: Sender, msg: Message) -> None:
        await self.service.auto_call(sender.person, msg["on"])

    async def on_transfer(self, sender: Sender, msg: Message) -> None:
        await self.service.transfer(
            sender.person, msg["service"], msg.get("lang"), msg.get("notes")
        )

    async def on_close_case(self, sender: Sender, msg: Message) -> None:
        await self.service.close_case(sender.person, msg["outcome"], msg.get("notes"))

    async def on_invite(self, sender: Sender, msg: Message) -> None:
        await self.service.invite(sender.person, msg["id"])

    async def on_desk_say(self, sender: Sender, msg: Message) -> None:
        self.service.desk_say(sender.person, msg["text"])
