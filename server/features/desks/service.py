"""`DeskService`: staff on duty, the queue, calls, cases and the desk call.

Every change to the queue is first appended to the event log (a stream in
the feature's keyspace, ``sp:desks:queue``); only once the store has
acknowledged it is it applied to the in-memory `ServiceQueue` and announced
to clients. On start the queue is rebuilt by replaying the log, so what a
client was told survives a restart.

It talks to the rest of the server only through the ports of its
`FeatureContext`: people and notify (by entity id), place, voice rooms, its
keyspace, the bus ("desks.case_closed" for whoever needs outcomes), the
clock and its tasks. It never touches connections or sockets, so its rules
are tested fast over the in-memory store and fake ports.

Identity: staff are keyed by their durable subject (a role token's ``sub``),
never by display name; citizens by their avatar's entity id.

Rules about people who drop without ``bye``:

- a citizen is *away* for the resume window: their ticket keeps its place
  but call-next skips it; if they do not come back in time, they have left
  the queue (logged as ``left``). After a restart, every citizen with an
  open ticket starts away (nobody is connected yet).
- a staff member stays on duty (not auto-called) for the resume window; if
  they do not come back, they go off duty, and a case they had called or
  opened goes back to the queue with its original arrival time.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import msgpack

from protocol.codec import encode
from protocol.errors import ProtocolError
from protocol.messages.desks import DeskError
from server.features.desks.board import INTERVAL_S, DeskBoard
from server.features.desks.queue import QueueEvent, ServiceQueue, Ticket, holder_of
from server.plug import FeatureContext, Person, StaffRoster
from server.privacy import redact
from server.tasks import Timer

STREAM = "queue"
"""The event log, in the feature's keyspace."""
DUTY_STREAM = "duty"
"""Who went on duty, on a break or off duty, where, for which services (for the statistics)."""
SERVED_OFFSET_M = 2.0
"""Citizens are served this far in front of the desk; staff stand behind it."""
STAFF_ROLES = ("staff", "admin")


def counter_key(service: str) -> str:
    return "ticket:" + service


def notes_key(ticket: str) -> str:
    return "notes:" + ticket


def transcript_key(ticket: str) -> str:
    """The greeter conversation a ticket came with (kept and deleted with its notes)."""
    return "transcript:" + ticket


@dataclass
class OnDuty:
    person: Person
    desk: str
    status: str  # available | break
    services: frozenset[str]
    languages: frozenset[str]
    auto: bool = False
    connected: bool = True


@dataclass
class DeskCall:
    """The people at a desk during a case; the voice room has the same id."""

    room: str
    desk: str
    ticket: str
    members: dict[int, Person] = field(default_factory=dict)


class DeskService:
    def __init__(
        self,
        ctx: FeatureContext,
        call_timeout_s: float = 60.0,
        board_interval_s: float = INTERVAL_S,
    ) -> None:
        self.ctx = ctx
        self.world = ctx.world
        self.call_timeout_s = call_timeout_s
        self.queue = ServiceQueue()
        self.on_duty: dict[str, OnDuty] = {}  # by staff subject
        self.calls: dict[str, DeskCall] = {}  # by room id
        self.away: dict[int, Timer] = {}
        """Citizens (by entity id) who dropped with an open ticket and may still resume."""
        self._timers: dict[str, Timer] = {}
        self.notes: dict[str, list[str]] = {}
        """Staff-only case notes by ticket (for open tickets), newest last."""
        self.transcripts: dict[str, dict[str, Any]] = {}
        """The redacted greeter conversation of tickets the greeter took (open tickets)."""
        self._lock = asyncio.Lock()
        self._subjects: dict[int, str] = {}
        """Citizens' durable subjects by entity id, while their ticket is open (never sent)."""
        self._last_sent: dict[str, tuple[int, int | None, str]] = {}
        self.board = DeskBoard(ctx, self._staffed_desks, self._served_desks, board_interval_s)
        """The public queue display (``desk_board``): see `server.features.desks.board`."""
        m = ctx.metrics
        self._events = m.counter("queue_events", "Queue events logged, by type.", ("type",))

    # -- log ---------------------------------------------------------------

    async def rebuild(self) -> int:
        """Replay the event log into the queue; returns how many events were applied."""
        entries = await self.ctx.store.read(STREAM)
        for _entry_id, fields_ in entries:
            try:
                self.queue.apply(QueueEvent.from_fields(fields_))
            except (KeyError, ValueError):
                self.ctx.log.exception("skipping an event that does not apply")
        return len(entries)

    async def _record(self, ev: QueueEvent, erasing: bool = False) -> Ticket:
        """Log ``ev`` and apply it; an ending is announced as ``desks.case_closed`` (with
        ``erasing``: the citizen's data is being erased, so nobody asks them anything)."""
        await self.ctx.store.append(STREAM, ev.to_fields())
        self._events.labels(ev.type).inc()
        ticket = self.queue.apply(ev)
        if ev.type in ("ended", "no_show", "left"):
            self.transcripts.pop(ticket.id, None)
            person = self.ctx.people.get(ticket.citizen)
            subject = self._subjects.pop(ticket.citizen, "") or (person.subject if person else "")
            self.ctx.bus.publish(
                "desks.case_closed",
                {
                    "ticket": ticket.id,
                    "service": ticket.service,
                    "lang": ticket.lang,
                    "desk": ticket.desk,
                    "staff": ticket.staff,
                    "citizen": ticket.citizen,
                    "citizen_subject": subject,
                    "status": ticket.status,
                    "outcome": ticket.outcome or ticket.status,
                    "arrived": ticket.arrived,
                    "called_at": ticket.called_at,
                    "started_at": ticket.started_at,
                    "ended_at": ev.ts,
                    "erasing": erasing,
                },
            )
        return ticket

    async def _log_duty(self, subject: str, status: str, state: OnDuty | None) -> None:
        fields = {"type": status, "staff": subject, "ts": repr(self.ctx.clock.time())}
        if state is not None:
            fields["desk"] = state.desk
            fields["services"] = ",".join(sorted(state.services))
        await self.ctx.store.append(DUTY_STREAM, fields)

    def _duty_changed(self, subject: str, status: str, state: OnDuty | None) -> None:
        self.ctx.tasks.spawn(self._log_duty(subject, status, state), name="duty log")

    # -- audit (subjects and ids only: no names, no notes' text) -----------------

    async def _audit(
        self, who: Person, action: str, target: str, detail: dict[str, str] | None = None
    ) -> None:
        audit = self.ctx.audit
        if audit is not None:
            await audit.record(who.subject, who.role, "desks." + action, target, detail)

    def _audit_soon(
        self, who: Person, action: str, target: str, detail: dict[str, str] | None = None
    ) -> None:
        """`_audit` from code that cannot wait (a message being sent)."""
        if self.ctx.audit is not None:
            self.ctx.tasks.spawn(self._audit(who, action, target, detail), name="desk audit")

    async def _close_duty_log(self) -> None:
        """After a restart nobody is on duty: log ``off`` for whoever the log left on."""
        last: dict[str, str] = {}
        for _id, fields_ in await self.ctx.store.read(DUTY_STREAM):
            last[fields_.get("staff", "")] = fields_.get("type", "")
        for subject, status in last.items():
            if subject in self.on_duty:
                continue  # back on duty here since (a cluster's deferred close)
            if subject and status != "off" and not self._elsewhere(subject):
                await self._log_duty(subject, "off", None)

    def _elsewhere(self, subject: str) -> bool:
        """Whether ``subject`` is in the space on another process of a cluster (their
        duty and cases are that process's: never logged off or requeued from here)."""
        person = self.ctx.people.find_subject(subject)
        return person is not None and self.ctx.people.get(person.id) is None

    async def start(self) -> int:
        """Rebuild, reload notes, restart timers. Nobody is connected yet: citizens with
        open tickets start away, and staff with open cases start in their grace period.
        In a cluster, whoever the log left on duty is logged off only once the other
        processes' avatars are known (``settle_s``), and only if they are nowhere."""
        if self.ctx.settle_s > 0:
            self.ctx.tasks.later(
                self.ctx.settle_s,
                lambda: self.ctx.tasks.spawn(self._close_duty_log(), name="duty log closed"),
            )
        else:
            await self._close_duty_log()
        replayed = await self.rebuild()
        await self.load_notes()
        self.resume_timers()
        self.board.seed(
            (t.called_at, t.id, t.desk)
            for t in self.queue.tickets.values()
            if t.called_at and t.desk
        )
        for ticket in self.queue.tickets.values():
            if ticket.status in ("waiting", "called"):
                # In a cluster, not before the other processes' people are known.
                self._mark_away(ticket.citizen, self.ctx.settle_s)
            if ticket.status in ("called", "serving") and ticket.staff:
                self._expect_staff_back(ticket.staff)
        return replayed

    def _expect_staff_back(self, subject: str) -> None:
        """A case's staff member is not here: requeue the case unless they are back in time."""
        key = "duty:" + subject

        def expire() -> None:
            self._timers.pop(key, None)
            # In a cluster they may be serving from another process: not gone.
            if subject not in self.on_duty and not self._elsewhere(subject):
                self.ctx.tasks.spawn(self._requeue_case_of(subject), name="requeue")

        self._cancel_timer(key)
        # In a cluster, not before the other processes' people are known.
        self._timers[key] = self.ctx.tasks.later(self.ctx.resume_s + self.ctx.settle_s, expire)

    # -- citizens ----------------------------------------------------------

    async def take_ticket(
        self, who: Person, service: str, lang: str, transcript: dict[str, Any] | None = None
    ) -> Ticket:
        """A ticket for ``who``; ``transcript``: the greeter conversation that led here
        (``{conv, reason, lang, lines}``), for the staff member who calls it."""
        spec = self.world.service(service)
        if spec is None:
            raise ProtocolError(DeskError.UNKNOWN_SERVICE, f"There is no service '{service}'.")
        if lang not in self.world.languages:
            raise ProtocolError(
                DeskError.UNSUPPORTED_LANGUAGE,
                f"Service in '{lang}' is not offered here; choose one of "
                + ", ".join(self.world.languages)
                + ".",
            )
        async with self._lock:
            if self.queue.active_ticket_of(who.id) is not None:
                raise ProtocolError(DeskError.ALREADY_QUEUED, "You already have a ticket.")
            self._subjects[who.id] = who.subject
            number = await self.ctx.store.incr(counter_key(service))
            ticket_id = f"{spec.get('letter', '?')}-{number:03d}"
            ticket = await self._record(
                QueueEvent(
                    "arrived",
                    ticket_id,
                    self.ctx.clock.time(),
                    service,
                    lang,
                    who.id,
                    redact(who.name),
                    holder=holder_of(who.subject),
                )
            )
            if transcript is not None:
                self.transcripts[ticket.id] = transcript
        if transcript is not None:
            await self.ctx.store.set(transcript_key(ticket.id), msgpack.packb(transcript))
        self._send_ticket(ticket, force=True)
        self._queue_changed()
        return ticket

    async def leave_queue(self, who: Person) -> None:
        async with self._lock:
            ticket = self.queue.active_ticket_of(who.id)
            if ticket is None or ticket.status == "serving":
                raise ProtocolError(DeskError.NO_TICKET, "You have no ticket waiting.")
            await self._record(QueueEvent("left", ticket.id, self.ctx.clock.time()))
        self._cancel_timer(ticket.id)
        self._send_ticket(ticket, force=True)
        self._tell_staff_of(ticket)
        self._queue_changed()

    async def respond(self, who: Person) -> None:
        """The called citizen answers: the case starts and the desk call opens."""
        async with self._lock:
            ticket = self.queue.active_ticket_of(who.id)
            if ticket is None or ticket.status != "called":
                raise ProtocolError(DeskError.NO_TICKET, "You have not been called.")
            await self._record(QueueEvent("started", ticket.id, self.ctx.clock.time()))
        self._cancel_timer(ticket.id)
        staff = self.on_duty.get(ticket.staff)
        members = [who] + ([staff.person] if staff else [])
        await self._open_call(ticket, members)
        self._send_ticket(ticket, force=True)
        self._send_case(ticket)
        self._queue_changed()

    def resend_state(self, who: Person) -> None:
        """After a (re)join: a citizen hears of their ticket, staff of their duty and case."""
        self._back(who.id)
        ticket = self.queue.active_ticket_of(who.id)
        if ticket is not None:
            self._send_ticket(ticket, force=True)
            if ticket.status == "called":
                self._send_called(ticket)
        state = self.on_duty.get(who.subject)
        if state is None and who.role in STAFF_ROLES:
            state = self._back_on_duty_after_restart(who)
        if state is None and self._rostered_desks(who) is not None:
            # Off duty: the console learns which desks the roster gives.
            self._send_duty_to(who, "off", None, False)
        if state is not None and who.role in STAFF_ROLES:
            # Back within the grace period (same avatar, or a new connection of the
            # same subject): still on duty, same desk, same case.
            self._cancel_timer("duty:" + who.subject)
            moved = state.person.id != who.id
            self._replace_member(state.person, who)
            state.person = who
            state.connected = True
            if moved:
                desk = self.world.desk(state.desk)
                if desk is not None:
                    self.ctx.place(who.id, desk.position[0], desk.position[1], desk.yaw)
            self._send_duty(state)
            case = self.queue.case_of(who.subject)
            if case is not None:
                self._send_case(case)
                self._send_transcript(case, who.id)
            self._queue_changed()
        for call in self.calls.values():
            if who.id in call.members:
                self._send_call(call, who.id)
        case = ticket if ticket is not None else self.queue.case_of(who.subject)
        if case is not None and case.status == "serving":
            self.ctx.tasks.spawn(self._ensure_call(case), name="reopen desk call")

    async def _ensure_call(self, ticket: Ticket) -> None:
        """A case being served has its desk call whenever both sides are here (after a
        restart the call is gone while the case goes on)."""
        if ticket.status != "serving" or any(c.ticket == ticket.id for c in self.calls.values()):
            return
        staff = self.on_duty.get(ticket.staff)
        citizen = self.ctx.people.get(ticket.citizen)
        if staff is None or not staff.connected or citizen is None:
            return
        await self._open_call(ticket, [citizen, staff.person])

    def _back_on_duty_after_restart(self, who: Person) -> OnDuty | None:
        """Duty is not durable, cases are: a staff member who comes back (after a restart)
        while a case is still theirs is put back on duty at the case's desk."""
        case = self.queue.case_of(who.subject)
        desk = self.world.desk(case.desk) if case is not None and case.desk else None
        if desk is None or any(o.desk == desk.id for o in self.on_duty.values()):
            return None
        state = self._duty_state(who, desk.id, "available", auto=False)
        self.on_duty[who.subject] = state
        self._duty_changed(who.subject, "available", state)
        self._audit_soon(who, "duty", desk.id, {"status": "available", "cause": "case_open"})
        self.ctx.place(who.id, desk.position[0], desk.position[1], desk.yaw)
        return state

    def _roster(self, who: Person) -> StaffRoster | None:
        """The roster entry from the person's identity-provider groups, if signed in so."""
        return self.ctx.roster(who.subject) if self.ctx.roster is not None else None

    def _rostered_desks(self, who: Person) -> list[str] | None:
        """The desks the roster lets this person work (None: any desk)."""
        roster = self._roster(who)
        if roster is None or not roster.desks:
            return None
        return [d.id for d in self.world.desks if d.id in roster.desks]

    def _duty_state(self, who: Person, desk_id: str, status: str, auto: bool) -> OnDuty:
        """Skills at a desk: the roster's from the identity provider's groups where it
        names them, else the world file's staff profile; a desk's services bound both."""
        desk = self.world.desk(desk_id)
        assert desk is not None
        profile = self.world.staff_profile(who.subject.removeprefix("id:"), who.name)
        roster = self._roster(who)
        skills = frozenset(roster.services) if roster and roster.services else profile.services
        languages = (
            frozenset(roster.languages) if roster and roster.languages else profile.languages
        )
        services = skills & frozenset(desk.services) or frozenset(desk.services)
        return OnDuty(who, desk_id, status, services, languages, auto=auto)

    def _replace_member(self, old: Person, new: Person) -> None:
        if old.id == new.id:
            return
        for call in self.calls.values():
            if old.id in call.members:
                del call.members[old.id]
                call.members[new.id] = new
                voice = self.ctx.voice
                if voice is not None:
                    self.ctx.tasks.spawn(voice.add_member(call.room, new.id), name="desk voice")
                for member in call.members:
                    self._send_call(call, member)

    # -- staff -------------------------------------------------------------

    async def duty(self, who: Person, status: str, desk_id: str | None) -> OnDuty | None:
        current = self.on_duty.get(who.subject)
        if status == "off":
            # Under the lock: an auto-call in flight must not call someone going off duty.
            async with self._lock:
                current = self.on_duty.get(who.subject)
                if current is not None:
                    if self.queue.case_of(who.subject) is not None:
                        raise ProtocolError(DeskError.CASE_OPEN, "Close your current case first.")
                    del self.on_duty[who.subject]
                    await self._log_duty(who.subject, "off", None)
                    await self._audit(who, "duty", current.desk, {"status": "off"})
            self._send_duty_to(who, "off", None, False)
            self._queue_changed()
            return None
        desk_id = desk_id or (current.desk if current else None)
        if desk_id is None:
            raise ProtocolError(DeskError.UNKNOWN_DESK, "Say which desk you are at.")
        desk = self.world.desk(desk_id)
        if desk is None:
            raise ProtocolError(DeskError.UNKNOWN_DESK, f"There is no desk '{desk_id}'.")
        rostered = self._rostered_desks(who)
        if rostered is not None and desk_id not in rostered:
            raise ProtocolError(
                DeskError.NOT_ROSTERED,
                f"Your roster has you at {', '.join(rostered) or 'no desk'}, not {desk.name}.",
            )
        for subject, other in self.on_duty.items():
            if other.desk == desk_id and subject != who.subject:
                raise ProtocolError(
                    DeskError.DESK_TAKEN, f"{other.person.name} is already at {desk.name}."
                )
        state = self._duty_state(who, desk_id, status, auto=current.auto if current else False)
        self.on_duty[who.subject] = state
        if current is None or (current.desk, current.status) != (desk_id, status):
            await self._log_duty(who.subject, status, state)
            await self._audit(who, "duty", desk_id, {"status": status})
        if current is None or current.desk != desk_id:
            # Stand behind the desk, facing the citizens.
            self.ctx.place(who.id, desk.position[0], desk.position[1], desk.yaw)
        self._send_duty(state)
        case = self.queue.case_of(who.subject)
        if case is not None:
            self._send_case(case)
            await self._ensure_call(case)
        self._queue_changed()
        return state

    async def auto_call(self, who: Person, on: bool) -> None:
        state = self._require_duty(who)
        if state.auto != on:
            await self._audit(who, "auto_call", state.desk, {"on": "yes" if on else "no"})
        state.auto = on
        self._send_duty(state)
        self._schedule_auto_calls()

    async def call_next(self, who: Person) -> Ticket:
        state = self._require_duty(who)
        async with self._lock:
            ticket = await self._call_next_locked(state)
        if ticket is None:
            raise ProtocolError(DeskError.QUEUE_EMPTY, "Nobody you can serve is waiting.")
        return ticket

    async def _call_next_locked(self, state: OnDuty) -> Ticket | None:
        if state.status != "available":
            raise ProtocolError(DeskError.NOT_ON_DUTY, "You are on a break.")
        if self.queue.case_of(state.person.subject) is not None:
            raise ProtocolError(DeskError.CASE_OPEN, "Close your current case first.")
        ticket = self.queue.next_for(state.services, state.languages, self.away)
        if ticket is None:
            return None
        await self._record(
            QueueEvent(
                "called",
                ticket.id,
                self.ctx.clock.time(),
                staff=state.person.subject,
                desk=state.desk,
            )
        )
        await self._audit(
            state.person,
            "call",
            ticket.id,
            {"desk": state.desk, "service": ticket.service, "auto": "yes" if state.auto else "no"},
        )
        self.board.called(ticket.id, state.desk)
        self._send_called(ticket)
        self._send_case(ticket)
        self._send_transcript(ticket, state.person.id)
        self._start_timer(ticket)
        self._queue_changed()
        return ticket

    async def transfer(
        self, who: Person, service: str, lang: str | None, notes: str | None = None
    ) -> Ticket:
        self._require_duty(who)
        if self.world.service(service) is None:
            raise ProtocolError(DeskError.UNKNOWN_SERVICE, f"There is no service '{service}'.")
        if lang is not None and lang not in self.world.languages:
            raise ProtocolError(DeskError.UNSUPPORTED_LANGUAGE, f"'{lang}' is not offered here.")
        async with self._lock:
            ticket = self._require_case(who)
            if notes:
                await self._add_note(who, ticket, notes)
            await self._record(
                QueueEvent(
                    "transferred",
                    ticket.id,
                    self.ctx.clock.time(),
                    service=service,
                    lang=lang or "",
                )
            )
            detail = {"service": service, "notes": "yes" if notes else "no"}
            await self._audit(who, "transfer", ticket.id, detail | ({"lang": lang} if lang else {}))
        self._cancel_timer(ticket.id)
        await self._close_call_of(ticket.id)
        # The ticket is waiting again, in another queue: that is what the staff member sees.
        self._send_case(ticket, who.id)
        self._send_ticket(ticket, force=True)
        self._queue_changed()
        return ticket

    async def close_case(self, who: Person, outcome: str, notes: str | None) -> Ticket:
        self._require_duty(who)
        async with self._lock:
            ticket = self._require_case(who)
            if notes:
                await self._add_note(who, ticket, notes)
            kind = "no_show" if outcome == "no_show" else "ended"
            await self._record(QueueEvent(kind, ticket.id, self.ctx.clock.time(), outcome=outcome))
            detail = {"outcome": outcome, "notes": "yes" if notes else "no"}
            await self._audit(who, "close", ticket.id, detail)
        self._cancel_timer(ticket.id)
        await self._close_call_of(ticket.id)
        self._send_case(ticket)
        self._send_ticket(ticket, force=True)
        self._queue_changed()
        return ticket

    async def _add_note(self, who: Person, ticket: Ticket, notes: str) -> None:
        note = {"by": who.name, "ts": self.ctx.clock.time(), "text": redact(notes)}
        await self.ctx.store.push(notes_key(ticket.id), msgpack.packb(note))
        self.notes.setdefault(ticket.id, []).append(f"{who.name}: {note['text']}")

    async def stored_notes(self, ticket_id: str) -> list[dict[str, Any]]:
        """The staff-only notes kept for a ticket, oldest first."""
        raw = await self.ctx.store.slice(notes_key(ticket_id))
        return [msgpack.unpackb(r, raw=False) for r in raw]

    async def delete_notes(self, ticket_id: str) -> None:
        """Forget a ticket's notes and the greeter transcript kept with them."""
        await self.ctx.store.delete(notes_key(ticket_id), transcript_key(ticket_id))
        self.notes.pop(ticket_id, None)
        self.transcripts.pop(ticket_id, None)

    async def load_notes(self) -> None:
        """After a rebuild: the notes (and greeter transcripts) of every open ticket, for
        the staff who take it next."""
        for ticket in self.queue.tickets.values():
            if ticket.status in ("waiting", "called", "serving"):
                raw = await self.ctx.store.get(transcript_key(ticket.id))
                if raw is not None:
                    self.transcripts[ticket.id] = msgpack.unpackb(raw, raw=False)
                stored = await self.stored_notes(ticket.id)
                if stored:
                    self.notes[ticket.id] = [
                        f"{n.get('by', '')}: {n.get('text', '')}" for n in stored
                    ]

    def staff_left(self, who: Person, grace_s: float) -> None:
        """A staff member's connection ended. They stay on duty (not auto-called) for
        ``grace_s`` so a resume finds desk and case as they were; then they go off duty
        and a case they still hold goes back to the queue."""
        state = self.on_duty.get(who.subject)
        if state is None or state.person.id != who.id:
            return
        state.connected = False
        key = "duty:" + who.subject

        def expire() -> None:
            self._timers.pop(key, None)
            current = self.on_duty.get(who.subject)
            if current is not None and not current.connected:
                del self.on_duty[who.subject]
                self._duty_changed(who.subject, "off", None)
                self._audit_soon(who, "duty", current.desk, {"status": "off", "cause": "gone"})
                self.ctx.tasks.spawn(self._requeue_case_of(who.subject), name="requeue")
                self._queue_changed()

        self._cancel_timer(key)
        self._timers[key] = self.ctx.tasks.later(grace_s, expire)
        self._queue_changed()

    async def _requeue_case_of(self, subject: str) -> None:
        async with self._lock:
            ticket = self.queue.case_of(subject)
            if ticket is None or subject in self.on_duty:
                return
            await self._record(
                QueueEvent("transferred", ticket.id, self.ctx.clock.time(), service=ticket.service)
            )
        self._cancel_timer(ticket.id)
        await self._close_call_of(ticket.id)
        if self.ctx.people.get(ticket.citizen) is None:
            self._mark_away(ticket.citizen)  # back in line, but they too must come back
        self._send_ticket(ticket, force=True)
        self._queue_changed()

    async def citizen_gone(self, who: Person | int, erasing: bool = False) -> None:
        """The citizen left for good (bye, removed, away too long, or their data is being
        erased): a waiting or called ticket is given up."""
        entity = who if isinstance(who, int) else who.id
        self._back(entity)
        async with self._lock:
            ticket = self.queue.active_ticket_of(entity)
            if ticket is None or ticket.status == "serving":
                return
            await self._record(QueueEvent("left", ticket.id, self.ctx.clock.time()), erasing)
        self._cancel_timer(ticket.id)
        self._tell_staff_of(ticket)
        self._queue_changed()

    def citizen_away(self, who: Person) -> None:
        """The citizen dropped without bye: they keep their place for the resume window."""
        ticket = self.queue.active_ticket_of(who.id)
        if ticket is not None and ticket.status != "serving":
            self._mark_away(who.id)

    def _mark_away(self, entity: int, extra_s: float = 0.0) -> None:
        self._back(entity)
        self.away[entity] = self.ctx.tasks.later(
            self.ctx.resume_s + extra_s,
            lambda: self.ctx.tasks.spawn(self._away_expired(entity), name="away expired"),
        )

    async def _away_expired(self, entity: int) -> None:
        # In a cluster a citizen may be in the space on another process (after this
        # one restarted): they have not left, so their ticket is not given up from here.
        if self.ctx.people.find(entity) is not None:
            self.away.pop(entity, None)
            return
        await self.citizen_gone(entity)

    def _back(self, entity: int) -> None:
        handle = self.away.pop(entity, None)
        if handle is not None:
            handle.cancel()

    def _tell_staff_of(self, ticket: Ticket) -> None:
        staff = self.on_duty.get(ticket.staff) if ticket.staff else None
        if staff is not None:
            self._send_case(ticket, staff.person.id)

    # -- the desk call -------------------------------------------------------

    async def invite(self, who: Person, guest_id: int) -> None:
        guest = self.ctx.people.get(guest_id)
        if guest is None:
            raise ProtocolError("unknown_entity", "There is no such avatar to invite.", "invite")
        call = self._call_of(who.id)
        if call is None:
            raise ProtocolError(DeskError.NOT_IN_CALL, "You have no desk call to invite to.")
        elsewhere = self._call_of(guest.id)
        if elsewhere is not None and elsewhere is not call:
            raise ProtocolError(DeskError.BUSY, f"{guest.name} is in another desk call.")
        call.members[guest.id] = guest
        await self._audit(who, "invite", guest.subject, {"ticket": call.ticket})
        if self.ctx.voice is not None:
            await self.ctx.voice.add_member(call.room, guest.id)
        for member in call.members:
            self._send_call(call, member)

    def desk_say(self, who: Person, text: str) -> None:
        call = self._call_of(who.id)
        if call is None:
            raise ProtocolError(DeskError.NOT_IN_CALL, "You are not in a desk call.")
        line = {
            "t": "desk_say",
            **who.public(),
            "text": redact(text),
            "ts": self.ctx.clock.time(),
        }
        self.ctx.notify.to_many(call.members, line)

    def _call_of(self, entity: int) -> DeskCall | None:
        return next((c for c in self.calls.values() if entity in c.members), None)

    async def _open_call(self, ticket: Ticket, members: list[Person]) -> None:
        room = f"desk:{ticket.desk}:{ticket.id}"
        call = DeskCall(room, ticket.desk, ticket.id, {m.id: m for m in members})
        self.calls[room] = call
        if self.ctx.voice is not None:
            await self.ctx.voice.open_room(room, call.members)
        for member in call.members:
            self._send_call(call, member)

    async def _close_call_of(self, ticket_id: str) -> None:
        for room, call in list(self.calls.items()):
            if call.ticket == ticket_id:
                del self.calls[room]
                if self.ctx.voice is not None:
                    await self.ctx.voice.close_room(room)
                for member in call.members:
                    self._send_call(call, member, active=False)

    # -- timers --------------------------------------------------------------

    def _start_timer(self, ticket: Ticket) -> None:
        ticket_id = ticket.id
        self._timers[ticket_id] = self.ctx.tasks.later(
            self.call_timeout_s,
            lambda: self.ctx.tasks.spawn(self._no_show(ticket_id), name="no-show"),
        )

    def _cancel_timer(self, key: str) -> None:
        handle = self._timers.pop(key, None)
        if handle is not None:
            handle.cancel()

    async def _no_show(self, ticket_id: str) -> None:
        async with self._lock:
            self._timers.pop(ticket_id, None)
            ticket = self.queue.tickets.get(ticket_id)
            if ticket is None or ticket.status != "called":
                return
            await self._record(
                QueueEvent("no_show", ticket_id, self.ctx.clock.time(), outcome="no_show")
            )
        self._send_case(ticket)
        self._send_ticket(ticket, force=True)
        self._queue_changed()

    def resume_timers(self) -> None:
        """After a rebuild: called tickets get their no-show timer again."""
        for ticket in self.queue.tickets.values():
            if ticket.status == "called" and ticket.id not in self._timers:
                self._start_timer(ticket)

    def close(self) -> None:
        self.board.close()
        for handle in [*self._timers.values(), *self.away.values()]:
            handle.cancel()
        self._timers.clear()
        self.away.clear()

    # -- notifications ---------------------------------------------------------

    def _require_duty(self, who: Person) -> OnDuty:
        state = self.on_duty.get(who.subject)
        if state is None:
            raise ProtocolError(DeskError.NOT_ON_DUTY, "Go on duty at a desk first.")
        return state

    def _require_case(self, who: Person) -> Ticket:
        ticket = self.queue.case_of(who.subject)
        if ticket is None:
            raise ProtocolError(DeskError.NO_CASE, "You have no open case.")
        return ticket

    def _servers_for(self, ticket: Ticket) -> tuple[int, int]:
        """Staff on duty who can serve ``ticket``, and how many of them are free now."""
        servers = idle = 0
        for s in self.on_duty.values():
            if ticket.service in s.services and ticket.lang in s.languages:
                servers += 1
                if (
                    s.status == "available"
                    and s.connected
                    and self.queue.case_of(s.person.subject) is None
                ):
                    idle += 1
        return servers, idle

    def _send_ticket(
        self, ticket: Ticket, force: bool = False, position: int | None = None
    ) -> None:
        if position is None:
            position = self.queue.position(ticket)
        servers, idle = self._servers_for(ticket)
        wait = self.queue.estimate_wait_s(ticket, servers, idle, position)
        key = (position, wait, ticket.status)
        if not force and self._last_sent.get(ticket.id) == key:
            return
        self._last_sent[ticket.id] = key
        msg: dict[str, Any] = {
            "t": "ticket",
            **ticket.public(),
            "status": ticket.status,
            "position": position,
        }
        if wait is not None:
            msg["wait_s"] = wait
        if ticket.desk:
            msg["desk"] = ticket.desk
        if ticket.outcome:
            msg["outcome"] = ticket.outcome
        self.ctx.notify.to(ticket.citizen, msg)

    def _send_called(self, ticket: Ticket) -> None:
        desk = self.world.desk(ticket.desk)
        assert desk is not None
        now = self.ctx.clock.time()
        self.ctx.notify.to(
            ticket.citizen,
            {
                "t": "called",
                "ticket": ticket.id,
                "desk": desk.id,
                "x": desk.position[0],
                "z": desk.position[1] + SERVED_OFFSET_M,
                "timeout_s": max(0, round(self.call_timeout_s - (now - (ticket.called_at or now)))),
            },
        )
        self._send_ticket(ticket, force=True)

    def _send_case(self, ticket: Ticket, to: int | None = None) -> None:
        """Tell the staff member handling ``ticket`` (or ``to``) about it, notes included."""
        reader: Person | None = None
        if to is None:
            staff = self.on_duty.get(ticket.staff)
            if staff is None:
                return
            to, reader = staff.person.id, staff.person
        now = self.ctx.clock.time()
        msg: dict[str, Any] = {
            "t": "case",
            **ticket.public(),
            "status": ticket.status,
            "citizen": ticket.citizen,
            "name": ticket.name or "Citizen",
            "verified": self._verified(ticket.citizen),
            "waited_s": max(0, round((ticket.called_at or now) - ticket.arrived)),
        }
        if self.notes.get(ticket.id):
            msg["notes"] = self.notes[ticket.id][-50:]
            reader = reader or self.ctx.people.get(to)
            if reader is not None:
                self._audit_soon(reader, "notes_read", ticket.id, {"notes": str(len(msg["notes"]))})
        self.ctx.notify.to(to, msg)

    def _verified(self, citizen: int) -> bool:
        """Whether the citizen proved who they are: staff see this flag, never more."""
        person = self.ctx.people.get(citizen)
        return person is not None and person.verified

    def _send_transcript(self, ticket: Ticket, to: int) -> None:
        """The greeter conversation a ticket came with, to the staff member handling it."""
        transcript = self.transcripts.get(ticket.id)
        if transcript is not None:
            reader = self.ctx.people.get(to)
            if reader is not None:
                self._audit_soon(reader, "transcript_read", ticket.id)
            self.ctx.notify.to(
                to,
                {
                    "t": "greeter_transcript",
                    "ticket": ticket.id,
                    "reason": transcript["reason"],
                    "lang": transcript["lang"],
                    "lines": transcript["lines"],
                },
            )

    def _send_duty(self, state: OnDuty) -> None:
        self._send_duty_to(state.person, state.status, state.desk, state.auto)

    def _send_duty_to(self, who: Person, status: str, desk: str | None, auto: bool) -> None:
        """One's duty, with the desks one's roster allows when it names any."""
        msg: dict[str, Any] = {"t": "duty", "status": status, "auto": auto}
        if desk is not None:
            msg["desk"] = desk
        rostered = self._rostered_desks(who)
        if rostered is not None:
            msg["desks"] = rostered
        self.ctx.notify.to(who.id, msg)

    def _send_call(self, call: DeskCall, to: int | None = None, active: bool = True) -> None:
        msg = encode(
            {
                "t": "call",
                "room": call.room,
                "desk": call.desk,
                "members": [m.public() for m in call.members.values()],
                "active": active,
            }
        )
        self.ctx.notify.to_many([to] if to is not None else list(call.members), msg)

    def queue_snapshot(self) -> dict[str, Any]:
        now = self.ctx.clock.time()
        active = [
            t for t in self.queue.tickets.values() if t.status in ("waiting", "called", "serving")
        ]
        active.sort(key=lambda t: (t.arrived, t.id))
        return {
            "t": "queue",
            "tickets": [
                {
                    **t.public(),
                    "status": t.status,
                    "waiting_s": max(0, round((t.called_at or now) - t.arrived)),
                }
                for t in active[:500]
            ],
            "staff": [
                {
                    "name": s.person.name,
                    "desk": s.desk,
                    "status": "in_service" if self.queue.case_of(s.person.subject) else s.status,
                }
                for s in self.on_duty.values()
            ],
        }

    def _queue_changed(self) -> None:
        for ticket_id, position in self.queue.positions().items():
            self._send_ticket(self.queue.tickets[ticket_id], position=position)
        snapshot = encode(self.queue_snapshot())  # once, the same bytes to every staff member
        self.ctx.notify.to_many((s.person.id for s in self.on_duty.values()), snapshot)
        self.board.changed()
        self._schedule_auto_calls()

    def _staffed_desks(self) -> list[str]:
        """Desks with someone on duty and available (for the public board)."""
        return [s.desk for s in self.on_duty.values() if s.status == "available"]

    def _served_desks(self) -> list[tuple[str, str]]:
        """(desk, ticket) of every ticket called to or served at a desk (for the board)."""
        return [
            (t.desk, t.id)
            for t in self.queue.tickets.values()
            if t.status in ("called", "serving") and t.desk
        ]

    def _auto_ready(self, s: OnDuty) -> bool:
        return (
            s.auto
            and s.connected
            and s.status == "available"
            and self.queue.case_of(s.person.subject) is None
        )

    def _schedule_auto_calls(self) -> None:
        if any(self._auto_ready(s) for s in self.on_duty.values()):
            self.ctx.tasks.spawn(self._auto_calls(), name="auto call")

    async def _auto_calls(self) -> None:
        async with self._lock:
            for state in list(self.on_duty.values()):
                if self._auto_ready(state):
                    await self._call_next_locked(state)
