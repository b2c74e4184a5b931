"""`Feedback`: surveys after every desk case, whatever its outcome, and at the kiosk.

When the desks announce ``desks.case_closed`` (resolved, referred, no-show,
or the citizen leaving the queue: GOV.UK found that asking only those who
succeeded hides the problems), the citizen is offered a survey at once if
they are here, or when they come back while it is open. Answers are
validated at the edge (rating 1–5, comment ≤ 1000 characters), must come
from the citizen the survey was offered to, and are taken once. Comments are
redacted of personal data before they are stored; a comment reaches the
staff member who served only when the citizen ticks "share".

Other features ask for a survey on the bus (``feedback.offer``): the events
feature after an event. Everything durable goes to the shared stream ``answers`` first (offered,
answered, dismissed); on start the open surveys are rebuilt from it and the
private records, so a restart loses no answer and no open survey.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from collections.abc import Mapping
from typing import Any

from protocol.codec import Message
from protocol.errors import ProtocolError
from protocol.messages import feedback as wire
from protocol.messages.feedback import FeedbackError
from server.features.feedback import rights
from server.features.feedback.settings import FeedbackSettings
from server.features.feedback.survey import Survey, closed_key, kiosk_key, record_key
from server.plug import Erased, Feature, FeatureContext, Handler, Person, Sender
from server.privacy import redact

STREAM = "answers"
"""Offered, answered and dismissed surveys: the shared stream (docs/METRICS.md)."""


class Feedback(Feature):
    name = "feedback"
    home = True
    """With the desks, whose closed cases it asks about, at the feature home."""
    protocol = wire.PROTOCOL
    Settings = FeedbackSettings
    shares = (STREAM,)
    personal_data = rights.KINDS
    """Survey answers: see `server.features.feedback.rights`."""

    def __init__(self, ctx: FeatureContext) -> None:
        super().__init__(ctx)
        self.settings: FeedbackSettings = ctx.settings
        self.open: dict[str, Survey] = {}
        """Surveys offered and not yet answered or declined, by id."""
        self.closed: set[str] = set()
        m = ctx.metrics
        self._offered = m.counter("surveys_offered", "Surveys offered, by kind.", ("kind",))
        self._answered = m.counter("surveys_answered", "Surveys answered, by kind.", ("kind",))
        self._dismissed = m.counter("surveys_dismissed", "Surveys declined, by kind.", ("kind",))

    def handlers(self) -> Mapping[str, Handler]:
        return {
            "survey_request": self.on_request,
            "survey_answer": self.on_answer,
            "survey_dismiss": self.on_dismiss,
        }

    async def export_data(self, subject: str) -> Mapping[str, Any]:
        return await rights.export(self, subject)

    async def erase_data(self, subject: str) -> Erased:
        return await rights.erase(self, subject)

    async def expire_data(self, kind: str, before: float) -> Erased:
        return await rights.expire(self, kind, before)

    # -- lifecycle -----------------------------------------------------------

    async def start(self) -> None:
        """Rebuild the open surveys: offered in the stream, not closed, record not expired."""
        offered: list[str] = []
        for _id, fields in await self.ctx.store.read(STREAM):
            survey = fields.get("survey", "")
            if fields.get("type") == "offered":
                offered.append(survey)
            else:
                self.closed.add(survey)
        for survey_id in offered:
            if survey_id in self.closed:
                continue
            raw = await self.ctx.store.get(record_key(survey_id))
            if raw is not None:
                self.open[survey_id] = Survey.from_bytes(raw)
        self.ctx.bus.subscribe("desks.case_closed", self._case_closed)
        self.ctx.bus.subscribe("feedback.offer", self._offer_requested)
        self.ctx.log.info("%d surveys still open", len(self.open))

    async def entered(self, person: Person, resumed: bool) -> None:
        """Offer whatever survey is still open for them (they left before answering)."""
        if person.role != "citizen":
            return
        now = self.ctx.clock.time()
        for survey in list(self.open.values()):
            if now - survey.offered_at > self.settings.survey_open_s:
                self.open.pop(survey.id, None)
            elif survey.belongs_to(person.id, person.subject):
                survey.citizen = person.id
                self.ctx.notify.to(person.id, survey.wire())

    # -- offering ------------------------------------------------------------

    async def _case_closed(self, event: Mapping[str, Any]) -> None:
        ticket = str(event.get("ticket", ""))
        survey_id = "c-" + ticket
        if not ticket or survey_id in self.open or survey_id in self.closed:
            return
        if event.get("erasing"):
            return  # given up because the citizen's data is being erased: ask nothing
        staff = str(event.get("staff", ""))
        served_by = self.ctx.people.by_subject(staff) if staff else None
        survey = Survey(
            id=survey_id,
            kind="case",
            citizen=int(event.get("citizen", 0)),
            subject=str(event.get("citizen_subject", "")),
            offered_at=self.ctx.clock.time(),
            ticket=ticket,
            service=str(event.get("service", "")),
            desk=str(event.get("desk", "")),
            staff=staff,
            staff_name=served_by.name if served_by is not None else "",
            outcome=str(event.get("outcome", "")),
        )
        await self._offer(survey, self.settings.survey_open_s)

    async def _offer_requested(self, event: Mapping[str, Any]) -> None:
        """Another feature asks for a survey (``feedback.offer``): after an event, for now.

        ``{"kind": "event", "ref": <event id>, "title": ..., "citizen": <entity id>,
        "citizen_subject": ...}``; one survey per (kind, ref, citizen).
        """
        kind, ref = str(event.get("kind", "")), str(event.get("ref", ""))
        citizen = int(event.get("citizen", 0))
        subject = str(event.get("citizen_subject", ""))
        if kind != "event" or not ref or not (citizen or subject):
            self.ctx.log.warning("feedback.offer ignored: it needs kind event, ref and citizen")
            return
        who = subject or f"e{citizen}"
        survey_id = "e-" + hashlib.sha256(f"{ref}|{who}".encode()).hexdigest()[:20]
        if survey_id in self.open or survey_id in self.closed:
            return
        survey = Survey(
            id=survey_id,
            kind=kind,
            citizen=citizen,
            subject=subject,
            offered_at=self.ctx.clock.time(),
            ref=ref[:64],
            title=str(event.get("title", ""))[:200],
        )
        await self._offer(survey, self.settings.survey_open_s)

    async def _offer(self, survey: Survey, open_s: float) -> None:
        await self.ctx.store.set(record_key(survey.id), survey.to_bytes(), ttl_s=open_s)
        await self.ctx.store.append(STREAM, survey.offered_fields())
        self.open[survey.id] = survey
        self._offered.labels(survey.kind).inc()
        person = self.ctx.people.get(survey.citizen)
        if person is not None and survey.belongs_to(person.id, person.subject):
            self.ctx.notify.to(person.id, survey.wire())

    async def on_request(self, sender: Sender, msg: Message) -> None:
        who = sender.person
        kiosk = self.ctx.world.kiosk(msg["kiosk"])
        if kiosk is None:
            raise ProtocolError(FeedbackError.UNKNOWN_KIOSK, f"There is no kiosk '{msg['kiosk']}'.")
        at = self.ctx.people.position(who.id)
        if at is None or math.dist(at, kiosk.position) > self.settings.kiosk_radius_m:
            raise ProtocolError(FeedbackError.TOO_FAR, "Walk up to the kiosk to give feedback.")
        for survey in list(self.open.values()):
            if survey.kind != "kiosk" or not survey.belongs_to(who.id, who.subject):
                continue
            if self._expired(survey):
                self.open.pop(survey.id, None)
            else:
                sender.reply(survey.wire())  # the one already open
                return
        if await self.ctx.store.get(kiosk_key(who.subject)) is not None:
            raise ProtocolError(
                FeedbackError.ALREADY_ANSWERED,
                "Thank you: you gave feedback here a short while ago.",
            )
        survey = Survey(
            id="k-" + secrets.token_hex(8),
            kind="kiosk",
            citizen=who.id,
            subject=who.subject,
            offered_at=self.ctx.clock.time(),
            zone=self.ctx.people.zone(who.id) or "",
        )
        await self._offer(survey, self.settings.survey_open_s)

    # -- answering -----------------------------------------------------------

    def _expired(self, survey: Survey) -> bool:
        return self.ctx.clock.time() - survey.offered_at > self.settings.survey_open_s

    async def _take(self, who: Person, survey_id: str) -> Survey:
        """The survey, claimed for this one answer or refusal; refuses anyone else's.

        Whether a survey was answered is told only to the citizen it was for:
        anyone else (survey ids are guessable) hears ``no_survey``.
        """
        survey = self.open.get(survey_id)
        if survey is not None and self._expired(survey):
            self.open.pop(survey_id, None)
            survey = None
        if survey is None or not survey.belongs_to(who.id, who.subject):
            closed = await self.ctx.store.get(closed_key(survey_id))
            if (
                survey is None
                and closed is not None
                and Survey.from_bytes(closed).belongs_to(who.id, who.subject)
            ):
                raise ProtocolError(
                    FeedbackError.ALREADY_ANSWERED, "This survey has been answered already."
                )
            raise ProtocolError(FeedbackError.NO_SURVEY, "There is no such survey for you.")
        if await self.ctx.store.take(record_key(survey_id)) is None:
            # Answered in another tab or process just now, or expired.
            self.open.pop(survey_id, None)
            if await self.ctx.store.get(closed_key(survey_id)) is not None:
                raise ProtocolError(
                    FeedbackError.ALREADY_ANSWERED, "This survey has been answered already."
                )
            raise ProtocolError(FeedbackError.NO_SURVEY, "This survey is no longer open.")
        await self.ctx.store.set(
            closed_key(survey_id), survey.to_bytes(), ttl_s=self.settings.survey_open_s
        )
        return survey

    def _close(self, survey: Survey) -> None:
        self.open.pop(survey.id, None)
        self.closed.add(survey.id)

    async def on_answer(self, sender: Sender, msg: Message) -> None:
        who = sender.person
        survey = await self._take(who, msg["survey"])
        now = self.ctx.clock.time()
        comment = redact(str(msg.get("comment") or "")).strip()
        shared = bool(msg.get("share")) and bool(comment) and bool(survey.staff)
        fields = {
            "type": "answered",
            "survey": survey.id,
            "kind": survey.kind,
            "rating": str(msg["rating"]),
        }
        for key in ("ticket", "service", "desk", "staff", "outcome", "zone", "ref"):
            if value := getattr(survey, key):
                fields[key] = value
        if msg.get("easy") is not None:
            fields["easy"] = str(msg["easy"])
        if comment:
            fields["comment"] = comment
        if shared:
            fields["shared"] = "1"
        fields["ts"] = repr(now)
        await self.ctx.store.append(STREAM, fields)
        self._close(survey)
        self._answered.labels(survey.kind).inc()
        if survey.kind == "kiosk" and self.settings.kiosk_every_s > 0:
            await self.ctx.store.set(
                kiosk_key(who.subject), b"1", ttl_s=self.settings.kiosk_every_s
            )
        sender.reply({"t": "survey_done", "survey": survey.id, "answered": True})
        self.ctx.bus.publish(
            "feedback.answered",
            {k: v for k, v in fields.items() if k not in ("comment", "shared", "type")},
        )
        if shared:
            staff = self.ctx.people.by_subject(survey.staff)
            if staff is not None:
                self.ctx.notify.to(
                    staff.id,
                    {
                        "t": "feedback_shared",
                        "service": survey.service,
                        "rating": int(msg["rating"]),
                        "comment": comment,
                    },
                )

    async def on_dismiss(self, sender: Sender, msg: Message) -> None:
        survey = await self._take(sender.person, msg["survey"])
        fields = {"type": "dismissed", "survey": survey.id, "kind": survey.kind}
        if survey.ticket:
            fields["ticket"] = survey.ticket
        if survey.service:
            fields["service"] = survey.service
        fields["ts"] = repr(self.ctx.clock.time())
        await self.ctx.store.append(STREAM, fields)
        self._close(survey)
        self._dismissed.labels(survey.kind).inc()
        sender.reply({"t": "survey_done", "survey": survey.id, "answered": False})
