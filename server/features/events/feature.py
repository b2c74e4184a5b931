"""Events: the schedule, attendance and overflow, the stage's voice, hands, moderation,
slides, written questions and captions.

The record is the store: events in the hash ``events`` (JSON by id), written
before the host hears back; registrations in ``registered:<event>``; questions
in ``questions:<event>``; bans in ``bans`` (by scope and identity); every
moderation action in the ``audit`` stream (who, what, whom, when, why), which
admins read and export at ``/api/events/audit``. Slides are files under
``<data_dir>/events/slides/<deck>/``. Attendance, hands and promotions are
live state: they end with the event or the connection.

Data rights (``personal_data``): ``event_questions`` (questions they asked: deleted),
``question_votes`` (questions they voted for: the vote is kept as an anonymous token so
the count stays), ``registrations`` (deleted), ``attendance`` (their live attendee record
and raised hand: they leave the event), ``bans`` (bans naming them: deleted; bans they
imposed keep scope and time, ``by`` and the reason become ``erased``), ``events_hosted``
(events they created, host or speak at: their subject is taken out, the event stays) and
``event_audit`` (audit entries naming them: re-appended with their subject, name and the
reason set to ``erased``). Their question and vote rate counters are dropped too.

Retention (`expire_data`; defaults ``event_questions`` and ``question_votes``: 180 days),
per kind, for records made before the limit:

- ``event_questions``: questions asked before it are deleted (with their votes);
- ``question_votes``: a vote carries no time of its own, but it can only be cast while its
  event is live, so it is no younger than the event's end: votes on questions of events
  that ended before the limit become anonymous tokens (the count stays);
- ``registrations``: a registration serves its event's reminder; it counts as last active
  at the event's end and is deleted once that is before the limit;
- ``attendance``: live state that exists only while the event is live and the person is
  there; hands raised before the limit are lowered and anyone still attending an event
  that ended before it leaves (normally the events clock has ended it already);
- ``bans``: bans imposed before the limit are deleted (the person may come back);
- ``events_hosted``: events that ended before the limit lose their creator, hosts and
  speakers (``erased``); the event itself stays;
- ``event_audit``: ``audit`` entries before the limit are anonymised for both sides
  (subjects and names ``erased``, the reason dropped; time, roles and action stay); an entry
  without a readable ``ts`` counts as expired.

What the server enforces, whatever a client does: capacity (listeners count),
bans (by identity, not name), who may speak (`StageVoicePort.allow`: packets of
anyone else are dropped in the media path), and host-only actions (the session
checks the role; this feature checks that the sender hosts *this* event).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import random
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from protocol.codec import Message, encode
from protocol.errors import ProtocolError
from protocol.messages import events as wire
from server.features.events.model import Attendee, Event, Live, Question
from server.features.events.schedule import ics, local, parse_local
from server.features.events.settings import EventSettings
from server.features.events.slides import SlideLimits, ingest, page_path, sweep
from server.plug import (
    Erased,
    Feature,
    FeatureContext,
    Handler,
    HttpError,
    HttpReply,
    HttpRequest,
    HttpRoute,
    Person,
    Sender,
)
from server.privacy import redact
from server.quota import Quota
from server.store import rewrite_entries
from server.tasks import Repeating

E = wire.EventError

EVENTS = "events"
SEQ = "seq"
QSEQ = "question_seq"
BANS = "bans"
AUDIT = "audit"
ERASED = "erased"
KINDS = (
    "event_questions",
    "question_votes",
    "registrations",
    "attendance",
    "bans",
    "events_hosted",
    "event_audit",
)
LANGS = ("sv", "da", "de", "ja", "en")


def _stage(event_id: int) -> str:
    return f"event:{event_id}"


def _channel(event_id: int) -> str:
    return f"ev:{event_id}"


@dataclass
class _Upload:
    id: int
    owner: int
    event: int
    type: str
    size: int
    data: bytearray = field(default_factory=bytearray)
    seq: int = 0


class Events(Feature):
    name = "events"
    protocol = wire.PROTOCOL
    Settings = EventSettings
    personal_data = KINDS
    home = True
    """In a cluster one process runs every event, for attendees connected anywhere: the
    stage port (`server.cluster.stage`) stages them and carries the listen-only audio to
    their processes, a speaker's and a WebRTC listener's media flow to the home."""

    def __init__(self, ctx: FeatureContext) -> None:
        super().__init__(ctx)
        self.settings: EventSettings = ctx.settings
        self.events: dict[int, Event] = {}
        self.live: dict[int, Live] = {}
        self.attending: dict[int, int] = {}
        """Entity -> the event it attends."""
        self.questions: dict[int, dict[int, Question]] = {}
        self.registered: dict[int, set[str]] = {}
        self.bans: dict[str, dict[str, Any]] = {}
        self.uploads: dict[int, _Upload] = {}
        self.upload_seq = 0
        self.away: dict[int, tuple[int, float]] = {}
        """Entity -> (event, monotonic deadline) of attendees whose connection dropped."""
        self.filtered: dict[int, frozenset[str]] = {}
        """WS listeners with blocks: entity -> speaker ids they must not hear."""
        self.quota = Quota(ctx.store)
        self._counts_due: set[int] = set()
        self._timer: Repeating | None = None
        self._rng = random.Random()
        root = (ctx.data_dir or Path("var")) / "events" / "slides"
        self.slides_root = root
        self.slide_limits = SlideLimits(
            max_bytes=int(self.settings.slides_max_mb * 1024 * 1024),
            max_pages=self.settings.slides_max_pages,
            timeout_s=self.settings.render_timeout_s,
            memory_mb=self.settings.render_memory_mb,
        )
        m = ctx.metrics
        self.m_attendees = m.gauge("attendees", "People attending events.", mode="max")
        self.m_actions = m.counter(
            "moderation", "Moderation actions at events, by action.", ["action"]
        )
        self.m_questions = m.counter("questions", "Written questions asked at events.")
        self.m_audio = m.counter(
            "ws_audio_bytes", "Bytes of listen-only audio encoded (once per tick, per event)."
        )

    def handlers(self) -> Mapping[str, Handler]:
        return {
            "event_schedule": self.on_schedule,
            "event_create": self.on_create,
            "event_cancel": self.on_cancel,
            "event_register": self.on_register,
            "event_join": self.on_join,
            "event_leave": self.on_leave,
            "event_move": self.on_move,
            "event_listen": self.on_listen,
            "event_rtc_offer": self.on_rtc_offer,
            "event_rtc_leave": self.on_rtc_leave,
            "event_hand": self.on_hand,
            "event_accept": self.on_accept,
            "event_promote": self.on_promote,
            "event_demote": self.on_demote,
            "event_mute": self.on_mute,
            "event_kick": self.on_kick,
            "event_ban": self.on_ban,
            "event_ask": self.on_ask,
            "event_vote": self.on_vote,
            "event_answered": self.on_answered,
            "event_caption": self.on_caption,
            "event_slides_begin": self.on_slides_begin,
            "event_slides_chunk": self.on_slides_chunk,
            "event_slides_end": self.on_slides_end,
            "event_slide": self.on_slide,
        }

    def http_routes(self) -> Mapping[str, HttpRoute]:
        return {
            "schedule.ics": HttpRoute(self.http_ics),
            "schedule": HttpRoute(self.http_schedule),
            "slide": HttpRoute(self.http_slide),
            "questions": HttpRoute(self.http_questions),
            "audit": HttpRoute(self.http_audit),
        }

    # -- data rights ------------------------------------------------------------------

    def _bans_naming(self, subject: str) -> list[str]:
        return [
            k
            for k in self.bans
            if k == f"service_point:{subject}"
            or (k.startswith("event:") and k.split(":", 2)[2:] == [subject])
        ]

    async def _audit_of(self, subject: str) -> list[tuple[str, dict[str, str]]]:
        return [
            (i, dict(f))
            for i, f in await self.ctx.store.read(AUDIT)
            if subject in (f.get("actor"), f.get("target"))
        ]

    async def export_data(self, subject: str) -> Mapping[str, Any]:
        questions = [q for qs in self.questions.values() for q in qs.values()]
        naming = set(self._bans_naming(subject))
        attendance = [
            {
                "event": live.event.id,
                "name": p.name,
                "instance": p.instance,
                "hand_since": p.hand,
                "speaker": p.speaker,
            }
            for live in self.live.values()
            for p in live.attendees.values()
            if p.subject == subject
        ]
        audit = []
        for _i, f in await self._audit_of(subject):
            mine = f.get("actor") == subject
            entry = {
                "ts": f.get("ts", ""),
                "action": f.get("action", ""),
                "event": f.get("event", ""),
                "role": "actor" if mine else "target",
                "name": f.get("actor_name" if mine else "target_name", ""),
            }
            if mine:
                entry["reason"] = f.get("reason", "")
            audit.append(entry)
        return {
            "event_questions": [
                {
                    "id": q.id,
                    "event": q.event,
                    "text": q.text,
                    "name": q.name,
                    "ts": q.ts,
                    "votes": len(q.votes),
                    "answered": q.answered,
                }
                for q in questions
                if q.author == subject
            ],
            "question_votes": [
                {"question": q.id, "event": q.event} for q in questions if subject in q.votes
            ],
            "registrations": sorted(e for e, subs in self.registered.items() if subject in subs),
            "attendance": attendance,
            "bans": [
                {
                    "scope": b.get("scope"),
                    "event": b.get("event"),
                    "ts": b.get("ts"),
                    **({"reason": b.get("reason")} if b.get("by") == subject else {}),
                    "role": "imposed" if b.get("by") == subject else "banned",
                }
                for k, b in self.bans.items()
                if b.get("by") == subject or k in naming
            ],
            "events_hosted": [
                {
                    "event": e.id,
                    "creator": e.creator == subject,
                    "host": subject in e.hosts,
                    "speaker": subject in e.speakers,
                }
                for e in self.events.values()
                if subject in (e.creator, *e.hosts, *e.speakers)
            ],
            "event_audit": audit,
        }

    async def erase_data(self, subject: str) -> Erased:
        store = self.ctx.store
        removed = anonymised = 0
        # Live attendance (and their raised hand): they leave the event.
        for live in list(self.live.values()):
            for p in [p for p in live.attendees.values() if p.subject == subject]:
                await self._leave(p.entity, "your data was erased", "left")
                self.away.pop(p.entity, None)
                removed += 1
        # Questions they asked go; their votes on others' stay as anonymous tokens.
        for event_id, qs in self.questions.items():
            for q in list(qs.values()):
                if q.author == subject:
                    del qs[q.id]
                    await store.hdel(f"questions:{event_id}", str(q.id))
                    removed += 1
                elif subject in q.votes:
                    q.votes = [
                        f"{ERASED}:{secrets.token_hex(8)}" if v == subject else v for v in q.votes
                    ]
                    await self._save_question(q)
                    anonymised += 1
        for event_id, subjects in self.registered.items():
            if subject in subjects:
                subjects.discard(subject)
                await store.hdel(f"registered:{event_id}", subject)
                removed += 1
        # Bans naming them go; bans they imposed stay without them or their words.
        for key in self._bans_naming(subject):
            del self.bans[key]
            await store.hdel(BANS, key)
            removed += 1
        for key, ban in self.bans.items():
            if ban.get("by") == subject:
                ban["by"] = ERASED
                ban["reason"] = ERASED
                await store.hset(BANS, {key: json.dumps(ban).encode()})
                anonymised += 1
        for event in self.events.values():
            if subject in (event.creator, *event.hosts, *event.speakers):
                if event.creator == subject:
                    event.creator = ERASED
                event.hosts = [h for h in event.hosts if h != subject]
                event.speakers = [h for h in event.speakers if h != subject]
                await self._save(event)
                anonymised += 1

        def anonymise(f: dict[str, str]) -> dict[str, str]:
            for side in ("actor", "target"):
                if f.get(side) == subject:
                    f[side] = ERASED
                    f[side + "_name"] = ERASED
            f["reason"] = ERASED
            return f

        anonymised += await rewrite_entries(
            store, AUDIT, lambda f: subject in (f.get("actor"), f.get("target")), anonymise
        )
        await self.quota.forget(
            subject, ("ask", "vote"), (self.settings.question_rate, self.settings.vote_rate)
        )
        return Erased(removed=removed, anonymised=anonymised)

    async def expire_data(self, kind: str, before: float) -> Erased:
        """Delete or anonymise the records of ``kind`` made before ``before`` (see the module's
        retention note for each kind). ValueError for a kind not ours."""
        expire = {
            "event_questions": self._expire_questions,
            "question_votes": self._expire_votes,
            "registrations": self._expire_registrations,
            "attendance": self._expire_attendance,
            "bans": self._expire_bans,
            "events_hosted": self._expire_hosted,
            "event_audit": self._expire_audit,
        }.get(kind)
        if expire is None:
            raise ValueError(f"events keeps no personal data of kind {kind!r}")
        return await expire(before)

    def _ended_before(self, event_id: int, before: float) -> bool:
        event = self.events.get(event_id)
        return event is None or event.ends < before

    async def _expire_questions(self, before: float) -> Erased:
        removed = 0
        for event_id, qs in self.questions.items():
            old = [q for q in qs.values() if q.ts < before]
            for q in old:
                del qs[q.id]
            if old:
                await self.ctx.store.hdel(f"questions:{event_id}", *[str(q.id) for q in old])
                removed += len(old)
                live = self.live.get(event_id)
                for p in live.attendees.values() if live is not None else ():
                    self.ctx.notify.to(p.entity, self._questions_msg(event_id, p.subject, p.host))
        return Erased(removed=removed)

    async def _expire_votes(self, before: float) -> Erased:
        anonymised = 0
        for event_id, qs in self.questions.items():
            if not self._ended_before(event_id, before):
                continue
            for q in qs.values():
                named = sum(1 for v in q.votes if not v.startswith(ERASED + ":"))
                if named:
                    q.votes = [
                        v if v.startswith(ERASED + ":") else f"{ERASED}:{secrets.token_hex(8)}"
                        for v in q.votes
                    ]
                    await self._save_question(q)
                    anonymised += named
        return Erased(anonymised=anonymised)

    async def _expire_registrations(self, before: float) -> Erased:
        removed = 0
        for event_id, subjects in self.registered.items():
            if subjects and self._ended_before(event_id, before):
                removed += len(subjects)
                subjects.clear()
                await self.ctx.store.delete(f"registered:{event_id}")
        return Erased(removed=removed)

    async def _expire_attendance(self, before: float) -> Erased:
        removed = 0
        for live in list(self.live.values()):
            if live.event.ends < before:
                for entity in list(live.attendees):
                    await self._leave(entity, "the event has ended", "ended")
                    removed += 1
                continue
            lowered = [p for p in live.attendees.values() if p.hand is not None and p.hand < before]
            for p in lowered:
                live.hand(p.entity, False, before)
                self.ctx.notify.to(p.entity, self._you(live, p))
            if lowered:
                self._send_hands(live)
                removed += len(lowered)
        return Erased(removed=removed)

    async def _expire_bans(self, before: float) -> Erased:
        old = [k for k, b in self.bans.items() if _time(b.get("ts")) < before]
        for key in old:
            del self.bans[key]
        if old:
            await self.ctx.store.hdel(BANS, *old)
        return Erased(removed=len(old))

    async def _expire_hosted(self, before: float) -> Erased:
        anonymised = 0
        for event in self.events.values():
            named = event.creator != ERASED or event.hosts or event.speakers
            if named and event.ends < before:
                event.creator, event.hosts, event.speakers = ERASED, [], []
                await self._save(event)
                anonymised += 1
        return Erased(anonymised=anonymised)

    async def _expire_audit(self, before: float) -> Erased:
        private = ("actor", "actor_name", "target", "target_name", "reason")

        def expired(f: Mapping[str, str]) -> bool:
            named = any(f.get(k) not in (None, "", ERASED) for k in private)
            return named and _time(f.get("ts")) < before

        def anonymise(f: dict[str, str]) -> dict[str, str]:
            return f | {k: ERASED for k in private if f.get(k)}

        return Erased(anonymised=await rewrite_entries(self.ctx.store, AUDIT, expired, anonymise))

    # -- lifecycle --------------------------------------------------------------------

    async def start(self) -> None:
        store = self.ctx.store
        for raw in (await store.hgetall(EVENTS)).values():
            event = Event.from_json(json.loads(raw))
            self.events[event.id] = event
            self.questions[event.id] = {
                q.id: q
                for q in (
                    Question.from_json(json.loads(v))
                    for v in (await store.hgetall(f"questions:{event.id}")).values()
                )
            }
            self.registered[event.id] = set((await store.hgetall(f"registered:{event.id}")).keys())
        self.bans = {k: json.loads(v) for k, v in (await store.hgetall(BANS)).items()}
        if swept := sweep(self.slides_root):
            self.ctx.log.info("removed %d unfinished slide renders of an earlier run", swept)
        if self.ctx.stage is not None:
            self.ctx.stage.add_source(self._ride)
        if self.ctx.blocks is not None:
            self.ctx.blocks.subscribe(self._block_changed)
        self._timer = self.ctx.tasks.every(self.settings.every_s, self._check, "events clock")
        await self._check()

    async def stop(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        for event_id in list(self.live):
            if self.ctx.stage_voice is not None:
                with contextlib.suppress(Exception):
                    await self.ctx.stage_voice.close_stage(_stage(event_id))
        self.live.clear()

    async def _check(self) -> None:
        """Starts, ends and timed promotions; debounced counts."""
        now = self.ctx.clock.time()
        for event in list(self.events.values()):
            status = event.status(now)
            if status == "live" and event.id not in self.live:
                await self._go_live(event)
            elif status != "live" and event.id in self.live:
                await self._end(event, "ended" if status == "ended" else "cancelled")
        for live in list(self.live.values()):
            for person in live.expired(now):
                self._demote(live, person)
        for event_id in list(self._counts_due):
            self._counts_due.discard(event_id)
            live_event = self.live.get(event_id)
            if live_event is not None:
                msg = {"t": "event_counts", "event": event_id, "counts": live_event.counts()}
                self.ctx.notify.to_many(live_event.attendees, msg)

    async def _go_live(self, event: Event) -> None:
        self.live[event.id] = Live(event, self.settings.max_overflow)
        if self.ctx.stage_voice is not None:
            await self.ctx.stage_voice.open_stage(_stage(event.id))
        self._announce(event)
        for subject in self.registered.get(event.id, ()):
            person = self.ctx.people.by_subject(subject)
            if person is not None:
                self.ctx.notify.to(
                    person.id, {"t": "event_reminder", "event": self._view(event, person)}
                )

    async def _end(self, event: Event, code: str) -> None:
        """End a live event (``code``: ended or cancelled); everyone attending leaves."""
        live = self.live.get(event.id)
        if live is None:
            return
        reason = "the event has ended" if code == "ended" else "the event was cancelled"
        for entity in list(live.attendees):
            await self._leave(entity, reason, code)
        self.live.pop(event.id, None)
        if self.ctx.stage_voice is not None:
            await self.ctx.stage_voice.close_stage(_stage(event.id))
        self._announce(event)

    def _announce(self, event: Event) -> None:
        """event_info to everyone in the world."""
        for zone in self.ctx.world.zones:
            for entity in self.ctx.people.in_zone(zone.id):
                person = self.ctx.people.get(entity)
                if person is not None:
                    self.ctx.notify.to(
                        entity, {"t": "event_info", "event": self._view(event, person)}
                    )

    # -- views ------------------------------------------------------------------------

    def _view(self, event: Event, who: Person | None) -> dict[str, Any]:
        tz = self.ctx.world.timezone
        now = self.ctx.clock.time()
        live = self.live.get(event.id)
        subject = who.subject if who is not None else ""
        return {
            "id": event.id,
            "title": dict(event.title),
            "description": dict(event.description),
            "starts": event.starts,
            "ends": event.ends,
            "starts_local": local(event.starts, tz),
            "ends_local": local(event.ends, tz),
            "tz": tz,
            "zone": event.zone,
            "capacity": event.capacity,
            "status": event.status(now),
            "registered": subject in self.registered.get(event.id, ()),
            "attendees": len(live.attendees) if live is not None else 0,
            "host": who is not None and event.may_host(who.subject, who.role),
        }

    def _upcoming(self) -> list[Event]:
        now = self.ctx.clock.time()
        items = [e for e in self.events.values() if e.ends > now and not e.cancelled]
        return sorted(items, key=lambda e: (e.starts, e.id))

    def _stage_msg(self, live: Live) -> dict[str, Any]:
        event = live.event
        msg: dict[str, Any] = {
            "t": "event_stage",
            "event": event.id,
            "speakers": [p.public() for p in live.speakers()],
        }
        if event.deck is not None:
            msg["slide"] = {
                "deck": event.deck,
                "page": event.page,
                "pages": event.pages,
                "url": f"/api/events/slide?deck={event.deck}&page={event.page}",
                "width": event.width,
                "height": event.height,
            }
        return msg

    def _you(self, live: Live, person: Attendee) -> dict[str, Any]:
        msg: dict[str, Any] = {
            "t": "event_you",
            "event": live.event.id,
            "hand": person.hand is not None,
            "speaker": person.speaker,
            "muted": person.muted,
        }
        if person.invited is not None:
            msg["invited"] = person.invited
        if person.until is not None:
            msg["until"] = person.until
        return msg

    def _hosts(self, live: Live) -> list[int]:
        return [p.entity for p in live.attendees.values() if p.host]

    def _send_hands(self, live: Live) -> None:
        msg = {
            "t": "event_hands",
            "event": live.event.id,
            "queue": [p.public() for p in live.hands()],
        }
        self.ctx.notify.to_many(self._hosts(live), msg)

    def _send_stage(self, live: Live) -> None:
        self.ctx.notify.to_many(live.attendees, self._stage_msg(live))

    def _questions_msg(self, event_id: int, subject: str, host: bool) -> dict[str, Any]:
        items = sorted(
            self.questions.get(event_id, {}).values(), key=lambda q: (-len(q.votes), q.ts)
        )
        return {
            "t": "event_questions",
            "event": event_id,
            "questions": [q.view(subject, self._asker(q) if host else None) for q in items],
        }

    # -- who is asking ----------------------------------------------------------------

    def _attending(self, sender: Sender) -> tuple[Live, Attendee]:
        entity = sender.person.id
        event_id = self.attending.get(entity)
        live = self.live.get(event_id) if event_id is not None else None
        if live is None or entity not in live.attendees:
            raise ProtocolError(E.NOT_IN_EVENT, "You are not attending an event.")
        return live, live.attendees[entity]

    def _hosting(self, sender: Sender) -> tuple[Live, Attendee]:
        live, person = self._attending(sender)
        if not person.host:
            raise ProtocolError(E.NOT_HOST, "Only a host of this event may do this.")
        return live, person

    def _event(self, event_id: int) -> Event:
        event = self.events.get(event_id)
        if event is None:
            raise ProtocolError(E.NO_SUCH_EVENT, f"There is no event {event_id}.")
        return event

    def _ban_of(self, subject: str, event_id: int) -> dict[str, Any] | None:
        return self.bans.get(f"service_point:{subject}") or self.bans.get(
            f"event:{event_id}:{subject}"
        )

    async def _audit(
        self,
        actor: Person,
        action: str,
        event_id: int | None,
        target: Attendee | Person | None = None,
        reason: str = "",
    ) -> None:
        fields = {
            "ts": f"{self.ctx.clock.time():.3f}",
            "actor": actor.subject,
            "actor_name": actor.name,
            "actor_role": actor.role,
            "action": action,
            "event": str(event_id or ""),
            "target": "",
            "target_name": "",
            "reason": redact(reason),
        }
        if target is not None:
            fields["target"] = target.subject
            fields["target_name"] = target.name
        self.m_actions.labels(action).inc()
        await self.ctx.store.append(AUDIT, fields)
        if self.ctx.audit is not None:  # the service point's trail: no names, no free text
            detail = {"event": fields["event"]} if event_id else None
            await self.ctx.audit.record(
                actor.subject, actor.role, "events." + action, fields["target"], detail
            )

    # -- schedule ---------------------------------------------------------------------

    async def on_schedule(self, sender: Sender, msg: Message) -> None:
        who = self._caller_person(sender)
        sender.reply(
            {
                "t": "event_schedule",
                "events": [self._view(e, who) for e in self._upcoming()],
                "tz": self.ctx.world.timezone,
            }
        )

    def _caller_person(self, sender: Sender) -> Person:
        c = sender.caller
        return Person(0, c.subject, c.name, c.role)

    async def on_create(self, sender: Sender, msg: Message) -> None:
        who = self._caller_person(sender)
        tz = self.ctx.world.timezone
        starts = parse_local(msg["starts"], tz)
        ends = parse_local(msg["ends"], tz)
        now = self.ctx.clock.time()
        if ends <= starts:
            raise ProtocolError(E.BAD_TIME, "The event must end after it starts.")
        if ends <= now:
            raise ProtocolError(E.BAD_TIME, "The event would already be over.")
        title = self._texts(msg["title"], 160, required=True)
        description = self._texts(msg.get("description") or {}, 2000, required=False)
        event_id = await self.ctx.store.incr(SEQ)
        event = Event(
            id=event_id,
            title=title,
            description=description,
            starts=starts,
            ends=ends,
            capacity=int(msg["capacity"]),
            creator=who.subject,
            hosts=list(msg.get("hosts") or []),
            speakers=list(msg.get("speakers") or []),
            zone=self.settings.zone,
            created=now,
        )
        await self._save(event)
        self.events[event.id] = event
        self.questions[event.id] = {}
        self.registered[event.id] = set()
        await self._audit(who, "create", event.id)
        sender.reply({"t": "event_info", "event": self._view(event, who)})
        if event.status(now) == "live":
            await self._go_live(event)

    @staticmethod
    def _texts(texts: Mapping[str, Any], limit: int, *, required: bool) -> dict[str, str]:
        out: dict[str, str] = {}
        for lang, text in texts.items():
            if lang not in LANGS or not isinstance(text, str):
                raise ProtocolError(
                    "bad_field", f"Texts are by language ({', '.join(LANGS)}), as strings."
                )
            text = text.strip()
            if len(text) > limit:
                raise ProtocolError("bad_field", f"A text may have at most {limit} characters.")
            if text:
                out[lang] = redact(text)
        if required and not out:
            raise ProtocolError("bad_field", "Give the title in at least one language.")
        return out

    async def _save(self, event: Event) -> None:
        await self.ctx.store.hset(EVENTS, {str(event.id): json.dumps(event.to_json()).encode()})

    async def on_cancel(self, sender: Sender, msg: Message) -> None:
        who = self._caller_person(sender)
        event = self._event(msg["event"])
        if not event.may_host(who.subject, who.role):
            raise ProtocolError(E.NOT_HOST, "Only a host of this event may cancel it.")
        event.cancelled = True
        await self._save(event)
        await self._audit(who, "cancel", event.id, reason=msg.get("reason") or "")
        if event.id in self.live:
            await self._end(event, "cancelled")
        else:
            self._announce(event)
        sender.reply({"t": "event_info", "event": self._view(event, who)})

    async def on_register(self, sender: Sender, msg: Message) -> None:
        who = self._caller_person(sender)
        event = self._event(msg["event"])
        subjects = self.registered.setdefault(event.id, set())
        key = f"registered:{event.id}"
        if msg["on"]:
            subjects.add(who.subject)
            await self.ctx.store.hset(key, {who.subject: b"1"})
        else:
            subjects.discard(who.subject)
            await self.ctx.store.hdel(key, who.subject)
        sender.reply({"t": "event_info", "event": self._view(event, who)})

    # -- attendance -------------------------------------------------------------------

    async def on_join(self, sender: Sender, msg: Message) -> None:
        await self._join(sender.person, self._event(msg["event"]))

    async def _join(self, person: Person, event: Event) -> Attendee:
        now = self.ctx.clock.time()
        if event.status(now) != "live" or event.id not in self.live:
            raise ProtocolError(E.NOT_LIVE, "The event is not live.")
        ban = self._ban_of(person.subject, event.id)
        if ban is not None:
            raise ProtocolError(E.BANNED, "You are banned from this event.")
        current = self.attending.get(person.id)
        if current == event.id:
            live = self.live[event.id]
            return live.attendees[person.id]
        if current is not None:
            await self._leave(person.id, "joined another event", "moved")
        live = self.live[event.id]
        host = event.may_host(person.subject, person.role)
        attendee = live.admit(
            person.id,
            person.subject,
            person.name,
            person.role,
            host=host,
            speaker=host or event.named_speaker(person.subject),
        )
        self.attending[person.id] = event.id
        self._seat(attendee)
        self._apply_stage(live, attendee)
        self._apply_blocks(live, attendee)
        self.m_attendees.set(len(self.attending))
        self.ctx.notify.to(
            person.id,
            {
                "t": "event_joined",
                "event": self._view(event, person),
                "instance": attendee.instance,
                "counts": live.counts(),
                "host": host,
            },
        )
        if attendee.on_stage:
            self._send_stage(live)
        else:
            self.ctx.notify.to(person.id, self._stage_msg(live))
        self.ctx.notify.to(person.id, self._questions_msg(event.id, person.subject, host))
        self.ctx.notify.to(person.id, self._you(live, attendee))
        if host:
            self._send_hands(live)
        self._counts_due.add(event.id)
        return attendee

    def _seat(self, person: Attendee) -> None:
        """Place the avatar: on the stage, or on a free spot of the seating in its instance."""
        world = self.ctx.world
        zone = next((z for z in world.zones if z.id == self.settings.zone), None)
        if zone is None:
            return
        x0, z0, x1, z1 = zone.rect
        stage = world.stage.get("rect") or [x1 - 10, z0, x1, z1]
        sx0, sz0, sx1, sz1 = (float(v) for v in stage)
        r = self._rng
        if person.on_stage:
            x = r.uniform(sx0 + 1.5, sx1 - 1.5)
            z = r.uniform(sz0 + 1.5, sz1 - 1.5)
        else:
            x = r.uniform(x0 + 2.0, sx0 - 3.0)
            z = r.uniform(z0 + 2.0, z1 - 2.0)
        yaw = math.atan2(0.0, 1.0)  # face the stage (east)
        self.ctx.place(person.entity, x, z, yaw)

    def _apply_stage(self, live: Live, person: Attendee) -> None:
        stage = self.ctx.stage
        if stage is not None:
            stage.set_layer(person.entity, 0 if person.host else person.instance)
            stage.set_audience(person.entity, True)
            stage.set_spotlight(person.entity, person.on_stage)
        voice = self.ctx.stage_voice
        if voice is not None:
            voice.allow(_stage(live.event.id), str(person.entity), person.allowed)

    def _apply_blocks(self, live: Live, person: Attendee) -> None:
        blocks = self.ctx.blocks
        if blocks is None:
            return
        others = blocks.involving(person.subject)
        for other in live.attendees.values():
            if other.subject in others and other is not person:
                self._block_pair(live, person, other, True)

    def _block_changed(self, subject: str, other: str, on: bool) -> None:
        for live in self.live.values():
            a = next((p for p in live.attendees.values() if p.subject == subject), None)
            b = next((p for p in live.attendees.values() if p.subject == other), None)
            if a is not None and b is not None:
                self._block_pair(live, a, b, on)

    def _block_pair(self, live: Live, a: Attendee, b: Attendee, on: bool) -> None:
        """Neither of ``a`` and ``b`` hears the other (or both again): on WebRTC through the
        stage voice, on the WebSocket through a filtered batch of their own."""
        if self.ctx.stage_voice is not None:
            self.ctx.stage_voice.block(str(a.entity), str(b.entity), on)
        for x, y in ((a, b), (b, a)):
            current = self.filtered.get(x.entity, frozenset())
            hidden = current | {str(y.entity)} if on else current - {str(y.entity)}
            if hidden:
                self.filtered[x.entity] = hidden
            else:
                self.filtered.pop(x.entity, None)
            if x.listening == "ws" and self.ctx.stage is not None:
                self.ctx.stage.ride(x.entity, self._channel_of(live.event.id, x.entity))

    async def on_leave(self, sender: Sender, msg: Message) -> None:
        self._attending(sender)
        await self._leave(sender.person.id, "you left", "left")

    async def _leave(self, entity: int, reason: str, code: str) -> None:
        event_id = self.attending.pop(entity, None)
        if event_id is None:
            return
        live = self.live.get(event_id)
        person = live.remove(entity) if live is not None else None
        self.filtered.pop(entity, None)
        stage = self.ctx.stage
        if stage is not None:
            stage.set_layer(entity, 0)
            stage.set_audience(entity, False)
            stage.set_spotlight(entity, False)
            stage.ride(entity, None)
        voice = self.ctx.stage_voice
        if voice is not None:
            voice.detach_ws(_stage(event_id), str(entity))
            voice.allow(_stage(event_id), str(entity), False)
            with contextlib.suppress(ProtocolError):
                await voice.leave(_stage(event_id), str(entity))
        for upload in [u for u in self.uploads.values() if u.owner == entity]:
            del self.uploads[upload.id]
        self.m_attendees.set(len(self.attending))
        self.ctx.notify.to(
            entity, {"t": "event_left", "event": event_id, "code": code, "reason": reason}
        )
        if live is not None and person is not None:
            self._counts_due.add(event_id)
            if person.on_stage:
                self._send_stage(live)
            if person.hand is not None or person.host:
                self._send_hands(live)

    async def on_move(self, sender: Sender, msg: Message) -> None:
        live, person = self._attending(sender)
        before = person.instance
        live.move(person.entity, msg["instance"])
        if person.instance != before:
            self._apply_stage(live, person)
            self._counts_due.add(live.event.id)
        sender.reply(
            {
                "t": "event_joined",
                "event": self._view(live.event, sender.person),
                "instance": person.instance,
                "counts": live.counts(),
                "host": person.host,
            }
        )

    # -- hooks ------------------------------------------------------------------------

    async def entered(self, person: Person, resumed: bool) -> None:
        if self.bans.get(f"service_point:{person.subject}") is not None:
            await self.ctx.people.remove(person.id, "banned from this service point")
            return
        away = self.away.pop(person.id, None)
        if resumed and away is not None and away[1] >= self.ctx.clock.monotonic():
            event = self.events.get(away[0])
            if event is not None:
                with contextlib.suppress(ProtocolError):  # ended, full or banned meanwhile
                    await self._join(person, event)
                    return
        live_now = next(iter(self.live.values()), None)
        if (
            resumed
            and live_now is not None
            and person.id not in self.attending
            and self.ctx.people.zone(person.id) == self.settings.zone
        ):
            # Back in the auditorium without a seat kept here (in a cluster: a new
            # feature home took over, and the old one's attendance went with it): being
            # in the auditorium is attending, as when walking in.
            with contextlib.suppress(ProtocolError):  # full or banned: as walking in
                await self._join(person, live_now.event)
                return
        for event_id, live in self.live.items():
            if person.subject in self.registered.get(event_id, ()):
                self.ctx.notify.to(
                    person.id, {"t": "event_reminder", "event": self._view(live.event, person)}
                )

    async def left(self, person: Person, for_good: bool) -> None:
        event_id = self.attending.get(person.id)
        await self._leave(person.id, "disconnected", "disconnected")
        if event_id is not None and not for_good:
            # A dropped connection may resume: it gets its place back (not the stage:
            # speaking needs a new invitation and consent).
            self.away[person.id] = (event_id, self.ctx.clock.monotonic() + self.ctx.resume_s)

    def zone_changed(self, person: Person, zone: str) -> None:
        if zone == self.settings.zone:
            if person.id in self.attending:
                return
            live = next(iter(self.live.values()), None)
            if live is None:
                return

            async def walk_in() -> None:
                try:
                    await self._join(person, live.event)
                except ProtocolError as exc:
                    self.ctx.notify.to(
                        person.id, {"t": "error", "code": exc.code, "msg": exc.reason}
                    )
                    sx, sz = self.ctx.world.spawn
                    self.ctx.place(person.id, sx, sz, math.pi)

            self.ctx.tasks.spawn(walk_in(), name="event walk-in")
        elif person.id in self.attending:
            self.ctx.tasks.spawn(self._leave(person.id, "you left the auditorium", "zone"))

    # -- listening and speaking -------------------------------------------------------

    async def on_listen(self, sender: Sender, msg: Message) -> None:
        live, person = self._attending(sender)
        voice, stage = self.ctx.stage_voice, self.ctx.stage
        on = msg["path"] == "ws"
        person.listening = msg["path"]
        if voice is not None:
            if on:
                voice.attach_ws(_stage(live.event.id), str(person.entity))
            else:
                voice.detach_ws(_stage(live.event.id), str(person.entity))
        if stage is not None:
            stage.ride(
                person.entity, self._channel_of(live.event.id, person.entity) if on else None
            )

    def _channel_of(self, event_id: int, entity: int) -> str:
        """The event's shared channel, or the listener's own when it blocks a speaker."""
        return f"{_channel(event_id)}:{entity}" if entity in self.filtered else _channel(event_id)

    def _ride(self) -> dict[str, bytes]:
        """Once per tick: each live event's forwarded packets, encoded once."""
        voice = self.ctx.stage_voice
        out: dict[str, bytes] = {}
        if voice is None:
            return out
        for event_id, live in self.live.items():
            batch = voice.take_ws_batch(_stage(event_id))
            if not batch:
                continue
            packets = [[int(s), q, ts, p] for s, q, ts, p in batch]
            payload = encode({"t": "event_audio", "e": event_id, "p": packets})
            out[_channel(event_id)] = payload
            self.m_audio.inc(len(payload))
            for entity, hidden in self.filtered.items():
                person = live.attendees.get(entity)
                if person is None or person.listening != "ws":
                    continue
                kept = [p for p in packets if str(p[0]) not in hidden]
                out[self._channel_of(event_id, entity)] = encode(
                    {"t": "event_audio", "e": event_id, "p": kept}
                )
        return out

    async def on_rtc_offer(self, sender: Sender, msg: Message) -> None:
        live, person = self._attending(sender)
        voice = self.ctx.stage_voice
        if voice is None:
            raise ProtocolError("voice_unavailable", "Voice is not available on this server.")
        stage = _stage(live.event.id)
        if msg["mode"] == "publish":
            if not person.allowed:
                raise ProtocolError(E.NOT_SPEAKER, "You may not speak on the stage now.")
            answer = await voice.publish(stage, str(person.entity), msg["sdp"])
        else:
            answer = await voice.listen(stage, str(person.entity), msg["sdp"])
        sender.reply({"t": "event_rtc_answer", "mode": msg["mode"], "sdp": answer})

    async def on_rtc_leave(self, sender: Sender, msg: Message) -> None:
        live, person = self._attending(sender)
        if self.ctx.stage_voice is not None:
            with contextlib.suppress(ProtocolError):
                await self.ctx.stage_voice.leave(_stage(live.event.id), str(person.entity))

    async def on_hand(self, sender: Sender, msg: Message) -> None:
        live, person = self._attending(sender)
        live.hand(person.entity, msg["up"], self.ctx.clock.time())
        sender.reply(self._you(live, person))
        self._send_hands(live)

    async def on_accept(self, sender: Sender, msg: Message) -> None:
        live, person = self._attending(sender)
        live.answer(person.entity, msg["accept"], self.ctx.clock.time())
        if person.speaker:
            self._apply_stage(live, person)
            self._seat(person)
            self._send_stage(live)
        sender.reply(self._you(live, person))
        self._send_hands(live)

    def _target(self, live: Live, entity: int) -> Attendee:
        return live.require(entity)

    async def on_promote(self, sender: Sender, msg: Message) -> None:
        live, _host = self._hosting(sender)
        target = self._target(live, msg["id"])
        seconds = msg.get("seconds")
        live.invite(target.entity, self.settings.promote_s if seconds is None else int(seconds))
        await self._audit(sender.person, "promote", live.event.id, target)
        self.ctx.notify.to(target.entity, self._you(live, target))

    async def on_demote(self, sender: Sender, msg: Message) -> None:
        live, _host = self._hosting(sender)
        target = self._target(live, msg["id"])
        self._demote(live, target)
        await self._audit(sender.person, "demote", live.event.id, target)

    def _demote(self, live: Live, person: Attendee) -> None:
        was_on_stage = person.on_stage
        live.demote(person.entity)
        self._apply_stage(live, person)
        if was_on_stage and not person.on_stage:
            self._seat(person)
        self.ctx.notify.to(person.entity, self._you(live, person))
        self._send_stage(live)

    async def on_mute(self, sender: Sender, msg: Message) -> None:
        live, _host = self._hosting(sender)
        muted = bool(msg["muted"])
        if msg.get("id") is not None:
            targets = [self._target(live, msg["id"])]
        else:
            targets = [p for p in live.attendees.values() if not p.host and p.speaker]
        for target in targets:
            target.muted = muted
            self._apply_stage(live, target)
            self.ctx.notify.to(target.entity, self._you(live, target))
            await self._audit(
                sender.person,
                ("mute" if muted else "unmute") + ("" if msg.get("id") is not None else "_all"),
                live.event.id,
                target,
            )
        self._send_stage(live)  # hosts see who is muted

    async def on_kick(self, sender: Sender, msg: Message) -> None:
        live, _host = self._hosting(sender)
        target = self._target(live, msg["id"])
        if target.host:
            raise ProtocolError(E.NOT_HOST, "A host cannot be removed by another host.")
        reason = msg.get("reason") or "removed by a host"
        await self._audit(sender.person, "kick", live.event.id, target, reason)
        await self._leave(target.entity, reason, "kicked")
        sx, sz = self.ctx.world.spawn
        self.ctx.place(target.entity, sx, sz, math.pi)

    async def on_ban(self, sender: Sender, msg: Message) -> None:
        live, _host = self._hosting(sender)
        target = self._target(live, msg["id"])
        if target.host:
            raise ProtocolError(E.NOT_HOST, "A host cannot be banned by another host.")
        scope = msg["scope"]
        reason = msg.get("reason") or "banned by a host"
        key = (
            f"service_point:{target.subject}"
            if scope == "service_point"
            else f"event:{live.event.id}:{target.subject}"
        )
        record = {
            "scope": scope,
            "event": live.event.id,
            "by": sender.person.subject,
            "reason": redact(reason),
            "ts": self.ctx.clock.time(),
        }
        self.bans[key] = record
        await self.ctx.store.hset(BANS, {key: json.dumps(record).encode()})
        await self._audit(sender.person, f"ban_{scope}", live.event.id, target, reason)
        await self._leave(target.entity, reason, "banned")
        if scope == "service_point":
            await self.ctx.people.remove(target.entity, "banned from this service point")
        else:
            sx, sz = self.ctx.world.spawn
            self.ctx.place(target.entity, sx, sz, math.pi)

    # -- questions and captions -------------------------------------------------------

    async def on_ask(self, sender: Sender, msg: Message) -> None:
        live, person = self._attending(sender)
        wait = await self.quota.take(self.settings.question_rate, "ask", person.subject)
        if wait is not None:
            raise ProtocolError(E.QUESTION_LIMIT, f"Please wait {math.ceil(wait)} s to ask again.")
        qid = await self.ctx.store.incr(QSEQ)
        question = Question(
            id=qid,
            event=live.event.id,
            text=redact(msg["text"]),
            name=msg.get("name") or person.name,
            author=person.subject,
            ts=self.ctx.clock.time(),
            instance=person.instance,
        )
        await self._save_question(question)
        self.m_questions.inc()
        self._send_question(live, question)

    async def _save_question(self, q: Question) -> None:
        self.questions.setdefault(q.event, {})[q.id] = q
        await self.ctx.store.hset(
            f"questions:{q.event}", {str(q.id): json.dumps(q.to_json()).encode()}
        )

    def _asker(self, q: Question) -> int | None:
        person = self.ctx.people.by_subject(q.author)
        return person.id if person is not None else None

    def _send_question(self, live: Live, q: Question) -> None:
        asker = self._asker(q)
        for p in live.attendees.values():
            view = q.view(p.subject, asker if p.host else None)
            self.ctx.notify.to(
                p.entity, {"t": "event_question", "event": q.event, "question": view}
            )

    def _question(self, live: Live, qid: int) -> Question:
        q = self.questions.get(live.event.id, {}).get(qid)
        if q is None:
            raise ProtocolError(E.NO_SUCH_QUESTION, f"The event has no question {qid}.")
        return q

    async def on_vote(self, sender: Sender, msg: Message) -> None:
        live, person = self._attending(sender)
        q = self._question(live, msg["question"])
        wait = await self.quota.take(self.settings.vote_rate, "vote", person.subject)
        if wait is not None:
            raise ProtocolError(E.QUESTION_LIMIT, f"Please wait {math.ceil(wait)} s to vote again.")
        if msg["up"] and person.subject not in q.votes and person.subject != q.author:
            q.votes.append(person.subject)
        elif not msg["up"] and person.subject in q.votes:
            q.votes.remove(person.subject)
        else:
            return
        await self._save_question(q)
        self._send_question(live, q)

    async def on_answered(self, sender: Sender, msg: Message) -> None:
        live, person = self._attending(sender)
        if not (person.host or person.allowed):
            raise ProtocolError(E.NOT_HOST, "Only a host or the current speaker may do this.")
        q = self._question(live, msg["question"])
        if not q.answered:
            q.answered = True
            await self._save_question(q)
            self._send_question(live, q)

    async def on_caption(self, sender: Sender, msg: Message) -> None:
        live, person = self._attending(sender)
        if sender.person.role != "captioner" and not person.host:
            raise ProtocolError(E.NOT_HOST, "Only the event's hosts and captioners may caption.")
        line = {
            "t": "event_caption",
            "event": live.event.id,
            "text": redact(msg["text"]),
            "final": bool(msg.get("final", True)),
            "ts": self.ctx.clock.time(),
        }
        self.ctx.notify.to_many(live.attendees, line)

    # -- slides -----------------------------------------------------------------------

    async def on_slides_begin(self, sender: Sender, msg: Message) -> None:
        live, host = self._hosting(sender)
        if msg["size"] > self.slide_limits.max_bytes:
            raise ProtocolError(
                E.FILE_TOO_LARGE,
                f"Slides may be at most {self.slide_limits.max_bytes // (1024 * 1024)} MB.",
            )
        for old in [u for u in self.uploads.values() if u.owner == host.entity]:
            del self.uploads[old.id]
        if len(self.uploads) >= self.settings.uploads:
            raise ProtocolError(E.NO_UPLOAD, "Too many uploads are in progress; try again soon.")
        self.upload_seq += 1
        upload = _Upload(self.upload_seq, host.entity, live.event.id, msg["type"], msg["size"])
        self.uploads[upload.id] = upload
        sender.reply({"t": "event_upload", "upload": upload.id, "chunk": wire.CHUNK_BYTES})

    def _upload(self, sender: Sender, upload_id: int) -> _Upload:
        upload = self.uploads.get(upload_id)
        if upload is None or upload.owner != sender.person.id:
            raise ProtocolError(E.NO_UPLOAD, "No such upload of yours is in progress.")
        return upload

    async def on_slides_chunk(self, sender: Sender, msg: Message) -> None:
        self._hosting(sender)
        upload = self._upload(sender, msg["upload"])
        data: bytes = msg["data"]
        if msg["seq"] != upload.seq or len(upload.data) + len(data) > upload.size:
            del self.uploads[upload.id]
            raise ProtocolError(E.UPLOAD_ORDER, "The chunk is out of order or past the size.")
        upload.data.extend(data)
        upload.seq += 1

    async def on_slides_end(self, sender: Sender, msg: Message) -> None:
        live, _host = self._hosting(sender)
        upload = self._upload(sender, msg["upload"])
        del self.uploads[upload.id]
        if len(upload.data) != upload.size or upload.event != live.event.id:
            raise ProtocolError(E.UPLOAD_ORDER, "The upload is shorter than announced.")
        deck = await ingest(bytes(upload.data), upload.type, self.slides_root, self.slide_limits)
        event = live.event
        event.deck, event.pages, event.page = deck.id, deck.pages, 1
        event.width, event.height = deck.width, deck.height
        await self._save(event)
        await self._audit(sender.person, "slides", event.id)
        self._send_stage(live)

    async def on_slide(self, sender: Sender, msg: Message) -> None:
        live, _host = self._hosting(sender)
        event = live.event
        if event.deck is None or not 1 <= msg["page"] <= event.pages:
            raise ProtocolError(E.NO_SLIDES, "The event has no such slide.")
        event.page = msg["page"]
        await self._save(event)
        self._send_stage(live)

    # -- HTTP -------------------------------------------------------------------------

    async def http_ics(self, req: HttpRequest) -> HttpReply:
        lang = req.query.get("lang", "en")
        body = ics(self._upcoming(), self.ctx.world.timezone, "servicepoint", lang)
        return HttpReply(body, "text/calendar; charset=utf-8", filename="events.ics")

    async def http_schedule(self, req: HttpRequest) -> HttpReply:
        events = [self._view(e, None) for e in self._upcoming()]
        body = {"events": events, "tz": self.ctx.world.timezone}
        return HttpReply(json.dumps(body, ensure_ascii=False).encode())

    async def http_slide(self, req: HttpRequest) -> HttpReply:
        try:
            path = page_path(self.slides_root, req.query.get("deck", ""), int(req.query["page"]))
        except (KeyError, ValueError, ProtocolError):
            raise HttpError(404, "not_found", "No such slide.") from None
        if not path.is_file():
            raise HttpError(404, "not_found", "No such slide.")
        kind = "image/webp" if path.suffix == ".webp" else "image/png"
        return HttpReply(path.read_bytes(), kind)

    async def http_questions(self, req: HttpRequest) -> HttpReply:
        try:
            event = self._event(int(req.query.get("event", "")))
        except (ValueError, ProtocolError):
            raise HttpError(404, "not_found", "Give an event's id: ?event=<number>.") from None
        caller = req.caller
        if not event.may_host(caller.subject, caller.role):
            raise HttpError(403, "not_host", "Only the event's hosts may export its questions.")
        items = sorted(self.questions.get(event.id, {}).values(), key=lambda q: q.ts)
        rows = [
            {
                "id": q.id,
                "asked": local(q.ts, self.ctx.world.timezone),
                "name": q.name,
                "text": q.text,
                "votes": len(q.votes),
                "answered": q.answered,
                "instance": q.instance,
            }
            for q in items
        ]
        if req.query.get("format", "csv") == "json":
            return HttpReply(json.dumps(rows, ensure_ascii=False).encode())
        return HttpReply(
            _csv(rows, ["id", "asked", "name", "text", "votes", "answered", "instance"]),
            "text/csv; charset=utf-8",
            filename=f"event-{event.id}-questions.csv",
        )

    async def http_audit(self, req: HttpRequest) -> HttpReply:
        entries = [dict(f, id=i) for i, f in await self.ctx.store.read(AUDIT)]
        if req.query.get("format", "jsonl") == "csv":
            cols = ["id", "ts", "actor_name", "actor_role", "action", "event", "target_name"]
            return HttpReply(
                _csv(entries, [*cols, "reason"]),
                "text/csv; charset=utf-8",
                filename="events-audit.csv",
            )
        body = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries)
        return HttpReply(body.encode(), "application/x-ndjson", filename="events-audit.jsonl")


def _csv(rows: list[dict[str, Any]], columns: list[str]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(row.get(k, "")) for k in columns})
    return out.getvalue().encode("utf-8")


def _time(value: object) -> float:
    """A record's time (epoch seconds); -inf when it has none that can be read, so that a
    record of unknown age counts as expired."""
    if isinstance(value, int | float | str):
        with contextlib.suppress(ValueError):
            return float(value)
    return -math.inf


def _cell(value: Any) -> Any:
    """Neutralise spreadsheet formulas in exported text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value
