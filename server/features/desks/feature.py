"""`Desks`: the desk feature's handlers and lifecycle, on top of `DeskService`.

Every desk message gets an answer: the new state it caused (``duty``,
``ticket``, ``case``, ``call``, ``desk_say``) or an error with a desk code.

The greeter hands citizens over on the bus: on ``greeter.handoff`` (the
citizen consented) the desks take a ticket for them exactly as
``take_ticket`` does, keep the greeter's redacted transcript with the ticket
for the staff member who calls it (``greeter_transcript``), and answer with
``desks.handoff_ticket`` ``{conv, entity, ticket}`` or ``{conv, entity, error}``.

Everyone in the service point gets the public queue display (``desk_board``, see
`server.features.desks.board`) on entering and whenever it changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from protocol.codec import Message
from protocol.errors import ProtocolError
from protocol.messages import desks as wire
from server.features.desks import rights
from server.features.desks.service import STAFF_ROLES, DeskService
from server.features.desks.settings import DeskSettings
from server.plug import Erased, Feature, FeatureContext, Handler, Person, Sender
from server.privacy import redact

MAX_TRANSCRIPT_LINES = 200


class Desks(Feature):
    name = "desks"
    protocol = wire.PROTOCOL
    Settings = DeskSettings
    home = True
    """One queue for the whole cluster: the desks run on the feature home."""
    shares = ("queue", "duty")
    """The queue's event log and the duty log: read by the statistics (docs/METRICS.md)."""
    personal_data = rights.KINDS
    """Tickets, case notes (and greeter transcripts), duty: see `server.features.desks.rights`."""

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
        self.ctx.bus.subscribe("greeter.handoff", self._greeter_handoff)

    async def stop(self) -> None:
        self.service.close()

    async def export_data(self, subject: str) -> Mapping[str, Any]:
        return await rights.export(self.service, subject)

    async def erase_data(self, subject: str) -> Erased:
        return await rights.erase(self.service, subject)

    async def expire_data(self, kind: str, before: float) -> Erased:
        return await rights.expire(self.service, kind, before)

    async def entered(self, person: Person, resumed: bool) -> None:
        self.service.resend_state(person)
        self.service.board.send_to(person.id)

    def zone_changed(self, person: Person, zone: str) -> None:
        self.service.board.zone_changed(person.id, zone)

    async def left(self, person: Person, for_good: bool) -> None:
        self.service.board.forget(person.id)
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

    # -- the greeter's handover ------------------------------------------------

    async def _greeter_handoff(self, event: Mapping[str, Any]) -> None:
        """Take a ticket for the citizen the greeter hands over, with its transcript."""
        entity = int(event.get("entity", 0))
        answer: dict[str, Any] = {"conv": event.get("conv"), "entity": entity}
        person = self.ctx.people.get(entity)
        if person is None or person.subject != event.get("subject"):
            self.ctx.bus.publish("desks.handoff_ticket", {**answer, "error": "gone"})
            return
        transcript = {
            "conv": event.get("conv"),
            "reason": str(event.get("reason", "asked")),
            "lang": str(event.get("lang", "")),
            "lines": _lines(event.get("transcript")),
        }
        try:
            ticket = await self.service.take_ticket(
                person, str(event.get("service", "")), str(event.get("lang", "")), transcript
            )
        except ProtocolError as exc:
            # What take_ticket would have answered the citizen; the greeter tells the rest.
            self.ctx.notify.to(
                entity,
                {"t": "error", "code": exc.code, "msg": exc.reason, "ref": "greeter_consent"},
            )
            self.ctx.bus.publish("desks.handoff_ticket", {**answer, "error": exc.code})
            return
        self.ctx.bus.publish("desks.handoff_ticket", {**answer, "ticket": ticket.id})


def _lines(value: Any) -> list[dict[str, Any]]:
    """The transcript's lines as ``greeter_transcript`` carries them (redacted again)."""
    lines: list[dict[str, Any]] = []
    for item in value if isinstance(value, list) else []:
        if not isinstance(item, Mapping):
            continue
        line: dict[str, Any] = {
            "from": "citizen" if item.get("from") == "citizen" else "greeter",
            "text": redact(str(item.get("text", "")))[:1000],
            "ts": float(item.get("ts", 0.0)),
        }
        if isinstance(item.get("topic"), int):
            line["topic"] = item["topic"]
        lines.append(line)
    return lines[-MAX_TRANSCRIPT_LINES:]
