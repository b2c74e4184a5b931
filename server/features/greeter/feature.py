"""`Greeter`: the server side of the automated greeter at the entrance.

The greeter itself is a separate process (``agents/greeter.py``) on the
protocol with a ``bot`` role token; this feature relays between it and the
citizens and owns everything a citizen must be able to trust:

- one bot serves: the newest bot connection replaces the older one (which is
  told ``greeter_taken``); without a bot, a citizen's question is refused
  with ``no_greeter`` (ask at a desk);
- every citizen text is redacted (`server.privacy.redact`) *before* it is
  relayed to the bot or kept in the transcript;
- everything the greeter says reaches the citizen as ``greeter_said`` with
  ``automated: true``, set here, never by the bot;
- a handover needs the citizen's consent: the bot (or the server) offers it
  (``greeter_offer``), and only ``greeter_consent yes`` publishes
  ``greeter.handoff`` for the desks, which take the ticket and answer with
  ``desks.handoff_ticket``;
- no loop: after the second unhelpful answer the server offers the handover
  itself if the bot has not within ``offer_wait_s``, and after ``max_turns``
  citizen messages it offers a person instead of relaying more.

Conversations live in memory, one open per citizen; a conversation ends when
the citizen leaves or is handed over, and its outcome (never its text) is
appended to the stream ``conversations`` and counted in the metrics.

Data rights: ``personal_data = ("greeter_conversations",)``: the open conversations (in
memory) of the person, with their redacted transcript and ratings. The ``conversations``
stream holds outcomes only (conversation number, language, counts, time; no subject, no
name, no text), so erasure ends the person's open conversations without writing an
outcome and leaves the stream as it is.

Retention (`expire_data`, default ``greeter_conversations``: 1 day): open conversations
last active (their newest transcript line, else their start) before the limit are dropped
as erasure drops them, without an outcome; the outcomes stream holds nothing personal and
is left as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from protocol.codec import Message
from protocol.errors import ProtocolError
from protocol.messages import greeter as wire
from protocol.messages.desks import DeskError
from protocol.messages.greeter import GreeterError
from server.features.greeter import texts
from server.features.greeter.conversation import ANSWER_KINDS, MAX_TEXT, Conversation, Offer
from server.features.greeter.settings import GreeterSettings
from server.plug import Erased, Feature, FeatureContext, Handler, Person, Sender, StartupError
from server.privacy import redact
from server.tasks import Timer

STREAM = "conversations"
"""Each finished conversation's outcome: conv, lang, outcome, reason, helpful, unhelpful, ts."""
SEQ = "conv_seq"
HANDOFF = "greeter.handoff"
"""Bus: the citizen consented; the desks take a ticket (see docs/GREETER.md)."""
TICKET = "desks.handoff_ticket"
"""Bus: the desks' answer, ``{conv, entity, ticket}`` or ``{conv, entity, error}``."""
OUTCOMES = ("resolved", "handoff", "abandoned")


class Greeter(Feature):
    name = "greeter"
    home = True
    """With the desks it hands citizens over to, at the feature home: the greeter bot
    and the citizens it talks with may be connected to any process."""
    protocol = wire.PROTOCOL
    Settings = GreeterSettings
    shares = (STREAM,)
    personal_data = ("greeter_conversations",)

    def __init__(self, ctx: FeatureContext) -> None:
        super().__init__(ctx)
        self.settings: GreeterSettings = ctx.settings
        self.bot: Person | None = None
        self.convs: dict[int, Conversation] = {}
        self.by_citizen: dict[int, int] = {}
        self._away: dict[int, Timer] = {}
        """Citizens (by entity id) who dropped with an open conversation and may resume."""
        self._offer_timers: dict[int, Timer] = {}
        m = ctx.metrics
        self._conversations = m.counter(
            "conversations",
            "Greeter conversations finished, by outcome (resolved: at least one helpful "
            "answer and no handover; handoff; abandoned).",
            ("outcome",),
        )
        self._resolved = m.counter(
            "resolved",
            "Greeter conversations resolved without a handover (at least one answer the "
            "citizen marked helpful).",
        )
        self._handoffs = m.counter(
            "handoffs", "Handovers to a person (a ticket was taken), by reason.", ("reason",)
        )
        self._offers = m.counter(
            "offers", "Handovers offered to citizens, by reason and by whom.", ("reason", "by")
        )
        self._ratings = m.counter("ratings", "Citizens' ratings of greeter answers.", ("helpful",))
        for outcome in OUTCOMES:
            self._conversations.labels(outcome)
        for reason in wire.HANDOFF_REASONS:
            self._handoffs.labels(reason)

    def handlers(self) -> Mapping[str, Handler]:
        return {
            "greeter_ask": self.on_ask,
            "greeter_rate": self.on_rate,
            "greeter_consent": self.on_consent,
            "greeter_reply": self.on_reply,
            "greeter_handoff": self.on_handoff,
        }

    # -- data rights -------------------------------------------------------------

    def _convs_of(self, subject: str) -> list[Conversation]:
        return [c for c in self.convs.values() if c.subject == subject]

    async def export_data(self, subject: str) -> Mapping[str, Any]:
        return {
            "greeter_conversations": [
                {
                    "conv": c.id,
                    "lang": c.lang,
                    "started": c.started,
                    "transcript": c.transcript(),
                    "ratings": {str(k): v for k, v in sorted(c.ratings.items())},
                    "outcome": c.outcome,
                    "handoff_reason": c.handoff_reason,
                }
                for c in self._convs_of(subject)
            ]
        }

    async def erase_data(self, subject: str) -> Erased:
        convs = self._convs_of(subject)
        for conv in convs:
            self._drop(conv)
        return Erased(removed=len(convs))

    async def expire_data(self, kind: str, before: float) -> Erased:
        """Drop the open conversations last active before ``before`` (see the module's
        retention note); ``removed`` counts them. ValueError for a kind not ours."""
        if kind != "greeter_conversations":
            raise ValueError(f"greeter keeps no personal data of kind {kind!r}")
        stale = [c for c in self.convs.values() if c.last_active < before]
        for conv in stale:
            self._drop(conv)
        return Erased(removed=len(stale))

    # -- lifecycle -------------------------------------------------------------

    async def start(self) -> None:
        if self.ctx.world.service(self.settings.default_service) is None:
            raise StartupError(
                f"SERVICEPOINT_GREETER_DEFAULT_SERVICE: the world has no service "
                f"'{self.settings.default_service}'"
            )
        self.ctx.bus.subscribe(TICKET, self._ticket_taken)

    async def stop(self) -> None:
        for timer in [*self._away.values(), *self._offer_timers.values()]:
            timer.cancel()
        for conv in list(self.convs.values()):
            await self._end(conv)

    async def entered(self, person: Person, resumed: bool) -> None:
        if person.role == "bot":
            old = self.bot
            if old is not None and old.id != person.id:
                self.ctx.notify.to(
                    old.id,
                    {
                        "t": "error",
                        "code": GreeterError.GREETER_TAKEN,
                        "msg": "A newer greeter process connected and serves from now on.",
                    },
                )
            self.bot = person
            self.ctx.log.info("greeter bot %s serves", person.name)
            return
        timer = self._away.pop(person.id, None)
        if timer is not None:
            timer.cancel()

    async def left(self, person: Person, for_good: bool) -> None:
        if self.bot is not None and person.id == self.bot.id:
            self.bot = None
            return
        conv_id = self.by_citizen.get(person.id)
        if conv_id is None:
            return
        conv = self.convs[conv_id]
        if for_good:
            await self._end(conv)
            return

        def expire() -> None:
            self._away.pop(person.id, None)
            if self.convs.get(conv.id) is conv:
                self.ctx.tasks.spawn(self._end(conv), name="greeter conversation ended")

        old = self._away.pop(person.id, None)
        if old is not None:
            old.cancel()
        self._away[person.id] = self.ctx.tasks.later(self.ctx.resume_s, expire)

    # -- citizens ----------------------------------------------------------------

    async def on_ask(self, sender: Sender, msg: Message) -> None:
        who = sender.person
        bot = self.bot
        if bot is None:
            raise ProtocolError(
                GreeterError.NO_GREETER,
                "The automated greeter is not available right now; please ask at a desk.",
            )
        text = redact(msg["text"])[:MAX_TEXT]
        lang = msg["lang"]
        conv = self._conv_of(who.id)
        new = conv is None
        if conv is None:
            conv_id = await self.ctx.store.incr(SEQ)
            conv = self._conv_of(who.id)  # another message of theirs may have opened one
            if conv is None:
                conv = Conversation(conv_id, who.id, who.subject, lang, self.ctx.clock.time())
                self.convs[conv.id] = conv
                self.by_citizen[who.id] = conv.id
            else:
                new = False
        conv.lang = lang
        conv.turns += 1
        conv.add("citizen", text, self.ctx.clock.time())
        if conv.turns > self.settings.max_turns:
            self._at_turn_limit(conv)
            return
        self.ctx.notify.to(
            bot.id,
            {
                "t": "greeter_asked",
                "conv": conv.id,
                "citizen": who.id,
                "text": text,
                "lang": lang,
                "new": new,
            },
        )

    async def on_rate(self, sender: Sender, msg: Message) -> None:
        conv = self._own_conv(sender.person, msg["conv"])
        helpful: bool = msg["helpful"]
        if not conv.rate(helpful):
            raise ProtocolError(
                GreeterError.NO_CONVERSATION, "The greeter has not answered anything to rate yet."
            )
        self._ratings.labels("yes" if helpful else "no").inc()
        if self.bot is not None:
            self.ctx.notify.to(
                self.bot.id,
                {
                    "t": "greeter_rated",
                    "conv": conv.id,
                    "helpful": helpful,
                    "unhelpful": conv.unhelpful,
                },
            )
        if not helpful:
            self._offer_if_stuck(conv)

    async def on_consent(self, sender: Sender, msg: Message) -> None:
        conv = self._own_conv(sender.person, msg["conv"])
        offer = conv.offer
        if offer is None or conv.handing:
            raise ProtocolError(
                GreeterError.NO_OFFER, "There is no handover waiting for your answer."
            )
        if not msg["yes"]:
            conv.offer = None
            self._outcome(conv, handed_over=False)
            return
        conv.handing = True
        self.ctx.bus.publish(
            HANDOFF,
            {
                "entity": conv.citizen,
                "subject": conv.subject,
                "service": offer.service,
                "lang": self._queue_lang(conv.lang),
                "reason": offer.reason,
                "conv": conv.id,
                "transcript": conv.transcript(),
            },
        )

    # -- the bot -------------------------------------------------------------------

    async def on_reply(self, sender: Sender, msg: Message) -> None:
        self._require_bot(sender)
        conv = self._open_conv(msg["conv"])
        kind: str = msg["kind"]
        text = redact(msg["text"])[:MAX_TEXT]
        topic: int | None = msg.get("topic")
        now = self.ctx.clock.time()
        if kind in ANSWER_KINDS:
            conv.answers += 1
        conv.add("greeter", text, now, topic=topic)
        said: dict[str, Any] = {
            "t": "greeter_said",
            "conv": conv.id,
            "kind": kind,
            "text": text,
            "automated": True,
            "ts": now,
        }
        if topic is not None:
            said["topic"] = topic
        if msg.get("official") is not None:
            said["official"] = bool(msg["official"])
        self.ctx.notify.to(conv.citizen, said)

    async def on_handoff(self, sender: Sender, msg: Message) -> None:
        self._require_bot(sender)
        conv = self._open_conv(msg["conv"])
        service: str = msg["service"]
        if self.ctx.world.service(service) is None:
            raise ProtocolError(DeskError.UNKNOWN_SERVICE, f"There is no service '{service}'.")
        if conv.handing:
            raise ProtocolError(
                GreeterError.NO_OFFER, "The citizen consented already; the ticket is being taken."
            )
        self._offer(conv, Offer(msg["reason"], service, redact(msg["text"])[:MAX_TEXT], "bot"))

    # -- the handover ------------------------------------------------------------------

    def _offer(self, conv: Conversation, offer: Offer) -> None:
        """Ask the citizen whether to take a ticket (a pending offer is replaced)."""
        timer = self._offer_timers.pop(conv.id, None)
        if timer is not None:
            timer.cancel()
        conv.offered(offer)
        conv.add("greeter", offer.text, self.ctx.clock.time())
        self._offers.labels(offer.reason, offer.by).inc()
        self.ctx.notify.to(
            conv.citizen,
            {
                "t": "greeter_offer",
                "conv": conv.id,
                "reason": offer.reason,
                "service": offer.service,
                "text": offer.text,
            },
        )

    def _server_offer(self, conv: Conversation, key: str) -> None:
        service = self.settings.default_service
        name = texts.service_name(self.ctx.world.service(service), service, conv.lang)
        line = texts.text(key, conv.lang, service=name)
        self._offer(conv, Offer("not_helpful", service, line, "server"))

    def _offer_if_stuck(self, conv: Conversation) -> None:
        """After two unhelpful answers since the last offer: offer a person, unless the bot
        does so within ``offer_wait_s``."""
        if conv.unhelpful_since_offer < 2 or conv.offer is not None or conv.handing:
            return
        if self.bot is None or self.settings.offer_wait_s == 0:
            self._server_offer(conv, "not_helpful")
            return
        offers = conv.offers

        def check() -> None:
            self._offer_timers.pop(conv.id, None)
            if (
                self.convs.get(conv.id) is conv
                and conv.offers == offers
                and conv.offer is None
                and not conv.handing
            ):
                self._server_offer(conv, "not_helpful")

        if conv.id not in self._offer_timers:
            self._offer_timers[conv.id] = self.ctx.tasks.later(self.settings.offer_wait_s, check)

    def _at_turn_limit(self, conv: Conversation) -> None:
        """Past ``max_turns``: nothing more goes to the bot; a person is offered instead."""
        if conv.handing:
            return
        if conv.offer is None:
            self._server_offer(conv, "turn_limit")
            return
        now = self.ctx.clock.time()
        line = texts.text("at_limit", conv.lang)
        conv.add("greeter", line, now)
        self.ctx.notify.to(
            conv.citizen,
            {
                "t": "greeter_said",
                "conv": conv.id,
                "kind": "no_answer",
                "text": line,
                "automated": True,
                "ts": now,
            },
        )

    async def _ticket_taken(self, event: Mapping[str, Any]) -> None:
        conv = self.convs.get(int(event.get("conv", 0)))
        if conv is None or conv.citizen != event.get("entity") or not conv.handing:
            return
        ticket = event.get("ticket")
        offer = conv.offer
        conv.handing = False
        conv.offer = None
        if not isinstance(ticket, str) or offer is None:
            self.ctx.log.info(
                "handover of conversation %d refused: %s", conv.id, event.get("error")
            )
            self._outcome(conv, handed_over=False)
            return
        conv.ticket = ticket
        conv.handoff_reason = offer.reason
        self._handoffs.labels(offer.reason).inc()
        self._outcome(conv, handed_over=True)
        await self._end(conv)

    def _outcome(self, conv: Conversation, handed_over: bool) -> None:
        msg: dict[str, Any] = {"t": "greeter_outcome", "conv": conv.id, "handed_over": handed_over}
        if handed_over and conv.ticket:
            msg["ticket"] = conv.ticket
        self.ctx.notify.to_many(
            [conv.citizen, *([self.bot.id] if self.bot is not None else [])], msg
        )

    def _drop(self, conv: Conversation) -> bool:
        """Forget ``conv`` and cancel its timers; whether it was open."""
        if self.convs.pop(conv.id, None) is None:
            return False
        if self.by_citizen.get(conv.citizen) == conv.id:
            del self.by_citizen[conv.citizen]
        for timers, key in ((self._offer_timers, conv.id), (self._away, conv.citizen)):
            timer = timers.pop(key, None)
            if timer is not None:
                timer.cancel()
        return True

    async def _end(self, conv: Conversation) -> None:
        if not self._drop(conv):
            return
        outcome = conv.outcome
        self._conversations.labels(outcome).inc()
        if outcome == "resolved":
            self._resolved.inc()
        await self.ctx.store.append(
            STREAM,
            {
                "conv": str(conv.id),
                "lang": conv.lang,
                "outcome": outcome,
                "reason": conv.handoff_reason or "",
                "helpful": str(conv.helpful),
                "unhelpful": str(conv.unhelpful),
                "ts": repr(self.ctx.clock.time()),
            },
        )

    def _queue_lang(self, lang: str) -> str:
        """The language to queue in: ``lang`` if the desks offer it, else its base
        (``sv-SE`` -> ``sv``); otherwise as given (the desks then refuse it)."""
        languages = self.ctx.world.languages
        base = lang.split("-")[0].lower()
        return lang if lang in languages else base if base in languages else lang

    # -- checks ------------------------------------------------------------------------

    def _conv_of(self, citizen: int) -> Conversation | None:
        conv_id = self.by_citizen.get(citizen)
        return self.convs.get(conv_id) if conv_id is not None else None

    def _own_conv(self, who: Person, conv_id: int) -> Conversation:
        conv = self.convs.get(conv_id)
        if conv is None or conv.citizen != who.id:
            raise ProtocolError(
                GreeterError.NO_CONVERSATION, "You have no open greeter conversation with this id."
            )
        return conv

    def _open_conv(self, conv_id: int) -> Conversation:
        conv = self.convs.get(conv_id)
        if conv is None:
            raise ProtocolError(
                GreeterError.NO_CONVERSATION, f"Conversation {conv_id} is not open (any more)."
            )
        return conv

    def _require_bot(self, sender: Sender) -> None:
        if self.bot is None or sender.person.id != self.bot.id:
            raise ProtocolError(
                GreeterError.GREETER_TAKEN, "Another greeter process serves; this one does not."
            )
