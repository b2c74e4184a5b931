"""The service queue as pure state: tickets, fair matching, wait estimates.

No I/O and no clock: every method takes ``now``. The queue is rebuilt by
replaying the event log (`QueueEvent`s, in order) through `ServiceQueue.apply`,
and every live change is made by creating an event and applying it, so the
log and the state can never disagree.

Fairness: "call next" gives a staff member the waiting ticket that arrived
first among those whose service is in their skills and whose language they
speak, skipping citizens who are away (dropped, may still resume: they keep
their place). A transfer keeps the ticket's original arrival time.

Staff are named by their durable subject (``Ticket.staff``), never by
display name.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Container
from dataclasses import dataclass, field
from typing import Any

from server.plug import subject_digest

ACTIVE = ("waiting", "called", "serving")
DEFAULT_HANDLE_S = 300.0
HANDLE_WINDOW = 20


def holder_of(subject: str) -> str:
    """A ticket's tie to the citizen's durable subject (`subject_digest`): the queue log
    never holds the subject itself."""
    return subject_digest(subject, "ticket holder")


@dataclass
class QueueEvent:
    """One line of the event log. ``ts`` is seconds since the epoch."""

    type: str
    ticket: str
    ts: float
    service: str = ""
    lang: str = ""
    citizen: int = 0
    name: str = ""
    staff: str = ""
    desk: str = ""
    outcome: str = ""
    holder: str = ""
    """On ``arrived``: `holder_of` the citizen's subject, so their data rights reach the
    ticket in a later session (the entity id lasts one connection)."""

    def to_fields(self) -> dict[str, str]:
        return {k: str(v) for k, v in self.__dict__.items() if v not in ("", 0)}

    @classmethod
    def from_fields(cls, fields: dict[str, str]) -> QueueEvent:
        return cls(
            type=fields["type"],
            ticket=fields["ticket"],
            ts=float(fields["ts"]),
            service=fields.get("service", ""),
            lang=fields.get("lang", ""),
            citizen=int(fields.get("citizen", 0)),
            name=fields.get("name", ""),
            staff=fields.get("staff", ""),
            desk=fields.get("desk", ""),
            outcome=fields.get("outcome", ""),
            holder=fields.get("holder", ""),
        )


@dataclass
class Ticket:
    id: str
    service: str
    lang: str
    citizen: int
    name: str
    arrived: float
    status: str = "waiting"
    called_at: float = 0.0
    started_at: float = 0.0
    staff: str = ""
    desk: str = ""
    outcome: str = ""
    holder: str = ""

    def public(self) -> dict[str, Any]:
        return {"ticket": self.id, "service": self.service, "lang": self.lang}


@dataclass
class ServiceQueue:
    """All tickets of one service point, and recent handle times per service."""

    tickets: dict[str, Ticket] = field(default_factory=dict)
    handle_times: dict[str, deque[float]] = field(default_factory=dict)

    # -- state from events ----------------------------------------------

    def apply(self, ev: QueueEvent) -> Ticket:
        """Apply one event; raise `KeyError`/`ValueError` if it cannot apply."""
        if ev.type == "arrived":
            if ev.ticket in self.tickets:
                raise ValueError(f"ticket {ev.ticket} already exists")
            t = Ticket(ev.ticket, ev.service, ev.lang, ev.citizen, ev.name, ev.ts, holder=ev.holder)
            self.tickets[t.id] = t
            return t
        t = self.tickets[ev.ticket]
        if ev.type == "called":
            t.status, t.called_at, t.staff, t.desk = "called", ev.ts, ev.staff, ev.desk
        elif ev.type == "started":
            t.status, t.started_at = "serving", ev.ts
        elif ev.type == "transferred":
            # Back in line for the new service, keeping the original arrival.
            t.service, t.status, t.staff, t.desk = ev.service, "waiting", "", ""
            if ev.lang:
                t.lang = ev.lang
        elif ev.type == "ended":
            t.status, t.outcome = "done", ev.outcome or "resolved"
            if t.started_at:
                window = self.handle_times.setdefault(t.service, deque(maxlen=HANDLE_WINDOW))
                window.append(ev.ts - t.started_at)
        elif ev.type == "left":
            t.status = "left"
        elif ev.type == "no_show":
            t.status, t.outcome = "no_show", "no_show"
        else:
            raise ValueError(f"unknown event type {ev.type!r}")
        return t

    # -- questions -------------------------------------------------------

    def active_ticket_of(self, citizen: int) -> Ticket | None:
        for t in self.tickets.values():
            if t.citizen == citizen and t.status in ACTIVE:
                return t
        return None

    def case_of(self, staff: str) -> Ticket | None:
        """The ticket the staff member with this subject has called or is serving."""
        for t in self.tickets.values():
            if t.staff == staff and t.status in ("called", "serving"):
                return t
        return None

    def waiting(self, service: str | None = None) -> list[Ticket]:
        """Waiting tickets, longest-waiting first."""
        found = [
            t
            for t in self.tickets.values()
            if t.status == "waiting" and (service is None or t.service == service)
        ]
        return sorted(found, key=lambda t: (t.arrived, t.id))

    def next_for(
        self, skills: Container[str], languages: Container[str], away: Container[int] = ()
    ) -> Ticket | None:
        """The longest-waiting ticket this staff member can serve whose citizen is here."""
        for t in self.waiting():
            if t.service in skills and t.lang in languages and t.citizen not in away:
                return t
        return None

    def mean_handle_s(self, service: str) -> float:
        window = self.handle_times.get(service)
        return sum(window) / len(window) if window else DEFAULT_HANDLE_S

    def position(self, ticket: Ticket) -> int:
        """1 for the next in line for this ticket's service; 0 if not waiting."""
        if ticket.status != "waiting":
            return 0
        return 1 + sum(
            1
            for t in self.tickets.values()
            if t.status == "waiting"
            and t.service == ticket.service
            and (t.arrived, t.id) < (ticket.arrived, ticket.id)
        )

    def positions(self) -> dict[str, int]:
        """`position` of every waiting ticket, from one sort (for announcing them all)."""
        out: dict[str, int] = {}
        count: dict[str, int] = {}
        for t in self.waiting():
            count[t.service] = count.get(t.service, 0) + 1
            out[t.id] = count[t.service]
        return out

    def estimate_wait_s(
        self, ticket: Ticket, servers: int, idle: int = 0, position: int | None = None
    ) -> int | None:
        """Estimated seconds until called, or None when nobody can serve the ticket now.

        ``servers`` is the number of staff on duty who can serve the ticket,
        ``idle`` how many of them are free right now: the first ``idle`` in
        line wait about nothing; behind them, each round of service ahead
        costs the recent mean handle time, and the current round half of it.
        ``position`` saves recomputing it when the caller already knows it.
        """
        pos = self.position(ticket) if position is None else position
        if pos == 0:
            return 0
        if servers <= 0:
            return None
        ahead = pos - min(idle, servers)
        if ahead <= 0:
            return 0
        mean = self.mean_handle_s(ticket.service)
        rounds = math.ceil(ahead / servers)
        return round((rounds - 1) * mean + mean / 2)
