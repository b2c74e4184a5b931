"""`DeskService`: staff on duty, the queue, calls, cases and the desk's voice call.

Every change to the queue is first appended to the event log (a Redis
Stream); only once the store has acknowledged it is it applied to the
in-memory `ServiceQueue` and announced to clients. On start the queue is
rebuilt by replaying the log, so what a client was told survives a restart.

This module talks to the rest of the server through three small ports:
the `Store`, a `Notify` callable (send a message to an avatar's client), and
a `Voice` router (WebRTC rooms). It does not touch connections or sockets.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from protocol.codec import encode
from protocol.errors import ErrorCode, ProtocolError
from server.privacy import redact
from server.service.queue import QueueEvent, ServiceQueue, Ticket
from server.store import Store
from server.world import World

log = logging.getLogger(__name__)

STREAM = "queue"
SERVED_OFFSET_M = 2.0
"""Citizens are served this far in front of the desk; staff stand behind it."""


class Voice(Protocol):
    """What the desk service needs from the voice router."""

    async def open_room(self, room_id: str) -> None: ...
    async def close_room(self, room_id: str) -> None: ...
    async def join(self, room_id: str, participant: str, offer_sdp: str) -> str: ...
    async def add_ice(self, room_id: str, participant: str, candidate: dict[str, Any]) -> None: ...
    async def leave(self, room_id: str, participant: str) -> None: ...
    def set_muted(self, room_id: str, participant: str, muted: bool) -> None: ...


@dataclass(frozen=True)
class Person:
    """An avatar as the desk service knows it."""

    id: int
    name: str
    role: str


Notify = Callable[[int, dict[str, Any] | bytes], None]
"""Send a message (or bytes already encoded) to the client of the avatar with this entity id."""

Place = Callable[[int, float, float, float], None]
"""Put the avatar with this entity id at (x, z) facing yaw (server-side move)."""


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
        world: World,
        store: Store,
        notify: Notify,
        place: Place,
        voice: Voice | None,
        call_timeout_s: float = 60.0,
    ) -> None:
        self.world = world
        self.store = store
        self.notify = notify
        self.place = place
        self.voice = voice
        self.call_timeout_s = call_timeout_s
        self.queue = ServiceQueue()
        self.on_duty: dict[str, OnDuty] = {}  # by staff name
        self.calls: dict[str, DeskCall] = {}  # by room id
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self.notes: dict[str, list[str]] = {}
        """Staff-only case notes by ticket (for open tickets), newest last."""
        self._lock = asyncio.Lock()
        self._last_sent: dict[str, tuple[int, int, str]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- log ---------------------------------------------------------------

    async def rebuild(self) -> int:
        """Replay the event log into the queue; returns how many events were applied."""
        events = await self.store.read_events(STREAM)
        for fields_ in events:
            try:
                self.queue.apply(QueueEvent.from_fields(fields_))
            except (KeyError, ValueError):
                log.exception("skipping an event that does not apply")
        return len(events)

    async def _record(self, ev: QueueEvent) -> Ticket:
        await self.store.append_event(STREAM, ev.to_fields())
        return self.queue.apply(ev)

    # -- citizens ----------------------------------------------------------

    async def take_ticket(self, who: Person, service: str, lang: str) -> Ticket:
        spec = self.world.service(service)
        if spec is None:
            raise ProtocolError(ErrorCode.UNKNOWN_SERVICE, f"There is no service '{service}'.")
        if lang not in self.world.languages:
            raise ProtocolError(
                ErrorCode.UNSUPPORTED_LANGUAGE,
                f"Service in '{lang}' is not offered here; choose one of "
                + ", ".join(self.world.languages)
                + ".",
            )
        async with self._lock:
            if self.queue.active_ticket_of(who.id) is not None:
                raise ProtocolError(ErrorCode.ALREADY_QUEUED, "You already have a ticket.")
            number = await self.store.next_number("ticket:" + service)
            ticket_id = f"{spec.get('letter', '?')}-{number:03d}"
            ticket = await self._record(
                QueueEvent(
                    "arrived", ticket_id, time.time(), service, lang, who.id, redact(who.name)
                )
            )
        self._queue_changed()
        return ticket

    async def leave_queue(self, who: Person) -> None:
        async with self._lock:
            ticket = self.queue.active_ticket_of(who.id)
            if ticket is None or ticket.status == "serving":
                raise ProtocolError(ErrorCode.NO_TICKET, "You have no ticket waiting.")
            await self._record(QueueEvent("left", ticket.id, time.time()))
        self._cancel_timer(ticket.id)
        self._send_ticket(ticket, force=True)
        self._queue_changed()

    async def respond(self, who: Person) -> None:
        """The called citizen answers: the case starts and the desk call opens."""
        async with self._lock:
            ticket = self.queue.active_ticket_of(who.id)
            if ticket is None or ticket.status != "called":
                raise ProtocolError(ErrorCode.NO_TICKET, "You have not been called.")
            await self._record(QueueEvent("started", ticket.id, time.time()))
        self._cancel_timer(ticket.id)
        staff = self.on_duty.get(ticket.staff)
        members = [who] + ([staff.person] if staff else [])
        await self._open_call(ticket, members)
        self._send_ticket(ticket, force=True)
        self._send_case(ticket)
        self._queue_changed()

    def resend_state(self, who: Person) -> None:
        """After a (re)join: a citizen hears of their ticket, staff of their duty and case."""
        ticket = self.queue.active_ticket_of(who.id)
        if ticket is not None:
            self._send_ticket(ticket, force=True)
            if ticket.status == "called":
                self._send_called(ticket)
        state = self.on_duty.get(who.name)
        if state is not None and state.person.id == who.id:
            # Back within the grace period: still on duty, same desk, same case.
            self._cancel_timer("duty:" + who.name)
            state.connected = True
            self._send_duty(state)
            case = self.queue.case_of(who.name)
            if case is not None:
                self._send_case(case)
            self._queue_changed()
        for call in self.calls.values():
            if who.id in call.members:
                self._send_call(call, who.id)

    # -- staff -------------------------------------------------------------

    async def duty(self, who: Person, status: str, desk_id: str | None) -> OnDuty | None:
        current = self.on_duty.get(who.name)
        if status == "off":
            if current is not None:
                if self.queue.case_of(who.name) is not None:
                    raise ProtocolError(ErrorCode.CASE_OPEN, "Close your current case first.")
                del self.on_duty[who.name]
            self.notify(who.id, {"t": "duty", "status": "off", "auto": False})
            self._queue_changed()
            return None
        desk_id = desk_id or (current.desk if current else None)
        if desk_id is None:
            raise ProtocolError(ErrorCode.UNKNOWN_DESK, "Say which desk you are at.")
        desk = self.world.desk(desk_id)
        if desk is None:
            raise ProtocolError(ErrorCode.UNKNOWN_DESK, f"There is no desk '{desk_id}'.")
        for other in self.on_duty.values():
            if other.desk == desk_id and other.person.name != who.name:
                raise ProtocolError(
                    ErrorCode.DESK_TAKEN, f"{other.person.name} is already at {desk.name}."
                )
        profile = self.world.staff_profile(who.name)
        services = profile.services & frozenset(desk.services) or frozenset(desk.services)
        state = OnDuty(
            who,
            desk_id,
            status,
            services,
            profile.languages,
            auto=current.auto if current else False,
        )
        self.on_duty[who.name] = state
        if current is None or current.desk != desk_id:
            # Stand behind the desk, facing the citizens.
            self.place(who.id, desk.position[0], desk.position[1], desk.yaw)
        self._send_duty(state)
        case = self.queue.case_of(who.name)
        if case is not None:
            self._send_case(case)
        self._queue_changed()
        return state

    async def auto_call(self, who: Person, on: bool) -> None:
        state = self._require_duty(who)
        state.auto = on
        self._send_duty(state)
        self._schedule_auto_calls()

    async def call_next(self, who: Person) -> Ticket:
        state = self._require_duty(who)
        async with self._lock:
            ticket = await self._call_next_locked(state)
        if ticket is None:
            raise ProtocolError(ErrorCode.QUEUE_EMPTY, "Nobody you can serve is waiting.")
        return ticket

    async def _call_next_locked(self, state: OnDuty) -> Ticket | None:
        if state.status != "available":
            raise ProtocolError(ErrorCode.NOT_ON_DUTY, "You are on a break.")
        if self.queue.case_of(state.person.name) is not None:
            raise ProtocolError(ErrorCode.CASE_OPEN, "Close your current case first.")
        ticket = self.queue.next_for(set(state.services), set(state.languages))
        if ticket is None:
            return None
        await self._record(
            QueueEvent("called", ticket.id, time.time(), staff=state.person.name, desk=state.desk)
        )
        self._send_called(ticket)
        self._send_case(ticket)
        self._start_timer(ticket)
        self._queue_changed()
        return ticket

    async def transfer(
        self, who: Person, service: str, lang: str | None, notes: str | None = None
    ) -> Ticket:
        self._require_duty(who)
        if self.world.service(service) is None:
            raise ProtocolError(ErrorCode.UNKNOWN_SERVICE, f"There is no service '{service}'.")
        if lang is not None and lang not in self.world.languages:
            raise ProtocolError(ErrorCode.UNSUPPORTED_LANGUAGE, f"'{lang}' is not offered here.")
        async with self._lock:
            ticket = self._require_case(who)
            if notes:
                await self._add_note(who, ticket, notes)
            await self._record(
                QueueEvent("transferred", ticket.id, time.time(), service=service, lang=lang or "")
            )
        self._cancel_timer(ticket.id)
        await self._close_call_of(ticket.id)
        # The ticket is waiting again, in another queue: that is what the staff member sees.
        self._send_case(ticket, who.id)
        self._queue_changed()
        return ticket

    async def close_case(self, who: Person, outcome: str, notes: str | None) -> Ticket:
        self._require_duty(who)
        async with self._lock:
            ticket = self._require_case(who)
            if notes:
                await self._add_note(who, ticket, notes)
            kind = "no_show" if outcome == "no_show" else "ended"
            await self._record(QueueEvent(kind, ticket.id, time.time(), outcome=outcome))
        self._cancel_timer(ticket.id)
        await self._close_call_of(ticket.id)
        self._send_case(ticket)
        self._send_ticket(ticket, force=True)
        self._queue_changed()
        return ticket

    async def _add_note(self, who: Person, ticket: Ticket, notes: str) -> None:
        note = {"by": who.name, "ts": time.time(), "text": redact(notes)}
        await self.store.add_note(ticket.id, note)
        self.notes.setdefault(ticket.id, []).append(f"{who.name}: {note['text']}")

    async def load_notes(self) -> None:
        """After a rebuild: the notes of every open ticket, for the staff who take it next."""
        for ticket in self.queue.tickets.values():
            if ticket.status in ("waiting", "called", "serving"):
                stored = await self.store.notes(ticket.id)
                if stored:
                    self.notes[ticket.id] = [
                        f"{n.get('by', '')}: {n.get('text', '')}" for n in stored
                    ]

    def staff_left(self, who: Person, grace_s: float) -> None:
        """A staff member's connection ended. They stay on duty (not auto-called) for
        ``grace_s`` so a resume finds desk and case as they were; then they go off duty.
        Their case stays theirs either way."""
        state = self.on_duty.get(who.name)
        if state is None or state.person.id != who.id:
            return
        state.connected = False

        def expire() -> None:
            self._timers.pop("duty:" + who.name, None)
            current = self.on_duty.get(who.name)
            if current is not None and not current.connected:
                del self.on_duty[who.name]
                self._queue_changed()

        self._cancel_timer("duty:" + who.name)
        self._timers["duty:" + who.name] = asyncio.get_running_loop().call_later(grace_s, expire)
        self._queue_changed()

    async def citizen_gone(self, who: Person) -> None:
        """The citizen left for good (bye, removed): a waiting or called ticket is given up."""
        async with self._lock:
            ticket = self.queue.active_ticket_of(who.id)
            if ticket is None or ticket.status == "serving":
                return
            await self._record(QueueEvent("left", ticket.id, time.time()))
        self._cancel_timer(ticket.id)
        staff = self.on_duty.get(ticket.staff) if ticket.staff else None
        if staff is not None:
            self._send_case(ticket, staff.person.id)
        self._queue_changed()

    # -- the desk call -------------------------------------------------------

    async def invite(self, who: Person, guest: Person) -> None:
        call = self._call_of(who.id)
        if call is None:
            raise ProtocolError(ErrorCode.NOT_IN_CALL, "You have no desk call to invite to.")
        elsewhere = self._call_of(guest.id)
        if elsewhere is not None and elsewhere is not call:
            raise ProtocolError(ErrorCode.BUSY, f"{guest.name} is in another desk call.")
        call.members[guest.id] = guest
        for member in call.members:
            self._send_call(call, member)

    async def rtc_offer(self, who: Person, sdp: str) -> str:
        call = self._require_call(who)
        return await self._require_voice().join(call.room, str(who.id), sdp)

    async def rtc_ice(self, who: Person, candidate: dict[str, Any]) -> None:
        call = self._require_call(who)
        await self._require_voice().add_ice(call.room, str(who.id), candidate)

    def mute(self, who: Person, muted: bool) -> None:
        call = self._require_call(who)
        if self.voice is not None:
            self.voice.set_muted(call.room, str(who.id), muted)

    async def hangup(self, who: Person) -> None:
        call = self._require_call(who)
        if self.voice is not None:
            await self.voice.leave(call.room, str(who.id))

    def desk_members(self, who: Person) -> list[Person]:
        return list(self._require_call(who).members.values())

    def _require_call(self, who: Person) -> DeskCall:
        call = self._call_of(who.id)
        if call is None:
            raise ProtocolError(ErrorCode.NOT_IN_CALL, "You are not in a desk call.")
        return call

    def _require_voice(self) -> Voice:
        if self.voice is None:
            raise ProtocolError(ErrorCode.VOICE_UNAVAILABLE, "Voice is not available here.")
        return self.voice

    def _call_of(self, entity: int) -> DeskCall | None:
        return next((c for c in self.calls.values() if entity in c.members), None)

    async def _open_call(self, ticket: Ticket, members: list[Person]) -> None:
        room = f"desk:{ticket.desk}:{ticket.id}"
        call = DeskCall(room, ticket.desk, ticket.id, {m.id: m for m in members})
        self.calls[room] = call
        if self.voice is not None:
            await self.voice.open_room(room)
        for member in call.members:
            self._send_call(call, member)

    async def _close_call_of(self, ticket_id: str) -> None:
        for room, call in list(self.calls.items()):
            if call.ticket == ticket_id:
                del self.calls[room]
                if self.voice is not None:
                    await self.voice.close_room(room)
                for member in call.members:
                    self._send_call(call, member, active=False)

    # -- timers --------------------------------------------------------------

    def _start_timer(self, ticket: Ticket) -> None:
        loop = asyncio.get_running_loop()
        self._timers[ticket.id] = loop.call_later(
            self.call_timeout_s, lambda: self._spawn(self._no_show(ticket.id))
        )

    def _cancel_timer(self, ticket_id: str) -> None:
        handle = self._timers.pop(ticket_id, None)
        if handle is not None:
            handle.cancel()

    async def _no_show(self, ticket_id: str) -> None:
        async with self._lock:
            self._timers.pop(ticket_id, None)
            ticket = self.queue.tickets.get(ticket_id)
            if ticket is None or ticket.status != "called":
                return
            await self._record(QueueEvent("no_show", ticket_id, time.time(), outcome="no_show"))
        self._send_case(ticket)
        self._send_ticket(ticket, force=True)
        self._queue_changed()

    def resume_timers(self) -> None:
        """After a rebuild: called tickets get their no-show timer again."""
        for ticket in self.queue.tickets.values():
            if ticket.status == "called" and ticket.id not in self._timers:
                self._start_timer(ticket)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def close(self) -> None:
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
        for task in self._tasks:
            task.cancel()

    # -- notifications ---------------------------------------------------------

    def _require_duty(self, who: Person) -> OnDuty:
        state = self.on_duty.get(who.name)
        if state is None:
            raise ProtocolError(ErrorCode.NOT_ON_DUTY, "Go on duty at a desk first.")
        return state

    def _require_case(self, who: Person) -> Ticket:
        ticket = self.queue.case_of(who.name)
        if ticket is None:
            raise ProtocolError(ErrorCode.NO_CASE, "You have no open case.")
        return ticket

    def _servers_for(self, ticket: Ticket) -> int:
        return sum(
            1
            for s in self.on_duty.values()
            if ticket.service in s.services and ticket.lang in s.languages
        )

    def _send_ticket(
        self, ticket: Ticket, force: bool = False, position: int | None = None
    ) -> None:
        if position is None:
            position = self.queue.position(ticket)
        wait = self.queue.estimate_wait_s(ticket, self._servers_for(ticket), position)
        key = (position, wait, ticket.status)
        if not force and self._last_sent.get(ticket.id) == key:
            return
        self._last_sent[ticket.id] = key
        msg: dict[str, Any] = {
            "t": "ticket",
            **ticket.public(),
            "status": ticket.status,
            "position": position,
            "wait_s": wait,
        }
        if ticket.desk:
            msg["desk"] = ticket.desk
        if ticket.outcome:
            msg["outcome"] = ticket.outcome
        self.notify(ticket.citizen, msg)

    def _send_called(self, ticket: Ticket) -> None:
        desk = self.world.desk(ticket.desk)
        assert desk is not None
        self.notify(
            ticket.citizen,
            {
                "t": "called",
                "ticket": ticket.id,
                "desk": desk.id,
                "x": desk.position[0],
                "z": desk.position[1] + SERVED_OFFSET_M,
                "timeout_s": max(
                    0,
                    round(self.call_timeout_s - (time.time() - (ticket.called_at or time.time()))),
                ),
            },
        )
        self._send_ticket(ticket, force=True)

    def _send_case(self, ticket: Ticket, to: int | None = None) -> None:
        """Tell the staff member handling ``ticket`` (or ``to``) about it, notes included."""
        if to is None:
            staff = self.on_duty.get(ticket.staff)
            if staff is None:
                return
            to = staff.person.id
        msg: dict[str, Any] = {
            "t": "case",
            **ticket.public(),
            "status": ticket.status,
            "citizen": ticket.citizen,
            "name": ticket.name or "Citizen",
            "waited_s": max(0, round((ticket.called_at or time.time()) - ticket.arrived)),
        }
        if self.notes.get(ticket.id):
            msg["notes"] = self.notes[ticket.id][-50:]
        self.notify(to, msg)

    def _send_duty(self, state: OnDuty) -> None:
        self.notify(
            state.person.id,
            {"t": "duty", "status": state.status, "desk": state.desk, "auto": state.auto},
        )

    def _send_call(self, call: DeskCall, to: int | None = None, active: bool = True) -> None:
        msg = encode(
            {
                "t": "call",
                "room": call.room,
                "desk": call.desk,
                "members": [
                    {"id": m.id, "name": m.name, "role": m.role} for m in call.members.values()
                ],
                "active": active,
            }
        )
        for member in [to] if to is not None else list(call.members):
            self.notify(member, msg)

    def queue_snapshot(self) -> dict[str, Any]:
        now = time.time()
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
                    "status": "in_service" if self.queue.case_of(s.person.name) else s.status,
                }
                for s in self.on_duty.values()
            ],
        }

    def _queue_changed(self) -> None:
        for ticket_id, position in self.queue.positions().items():
            self._send_ticket(self.queue.tickets[ticket_id], position=position)
        snapshot = encode(self.queue_snapshot())  # once, the same bytes to every staff member
        for state in self.on_duty.values():
            self.notify(state.person.id, snapshot)
        self._schedule_auto_calls()

    def _schedule_auto_calls(self) -> None:
        if any(
            s.auto
            and s.connected
            and s.status == "available"
            and self.queue.case_of(s.person.name) is None
            for s in self.on_duty.values()
        ):
            self._spawn(self._auto_calls())

    async def _auto_calls(self) -> None:
        async with self._lock:
            for state in list(self.on_duty.values()):
                if (
                    state.auto
                    and state.connected
                    and state.status == "available"
                    and self.queue.case_of(state.person.name) is None
                ):
                    await self._call_next_locked(state)
