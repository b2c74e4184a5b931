"""Events, pure: the scheduled event, and a live event's seats, hands, speakers and questions.

Nothing here does I/O; `server.features.events.feature` stores, notifies and
drives the voice. Times are epoch seconds passed in by the caller.

Seats: instance 0 is the auditorium, 1.. are overflow copies with the same
capacity, opened on demand and closed when empty. Hosts and named speakers
take no seat. Speaking: hosts and named speakers may speak from the start; an
attendee may only after a host's invitation *and* their own acceptance, until
the promotion runs out or a host demotes them; a host's mute takes the
permission away without ending the promotion.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from protocol.errors import ProtocolError
from protocol.messages.events import EventError

E = EventError


@dataclass
class Event:
    id: int
    title: dict[str, str]
    description: dict[str, str]
    starts: float
    ends: float
    capacity: int
    creator: str
    """The creating host's subject (never sent to clients)."""
    hosts: list[str] = field(default_factory=list)
    speakers: list[str] = field(default_factory=list)
    zone: str = "auditorium"
    created: float = 0.0
    cancelled: bool = False
    deck: str | None = None
    pages: int = 0
    page: int = 1
    width: int = 0
    height: int = 0

    def status(self, now: float) -> str:
        if self.cancelled:
            return "cancelled"
        if now < self.starts:
            return "scheduled"
        return "live" if now < self.ends else "ended"

    def may_host(self, subject: str, role: str) -> bool:
        return role == "admin" or subject == self.creator or subject in self.hosts

    def named_speaker(self, subject: str) -> bool:
        return subject in self.speakers

    @staticmethod
    def text(texts: dict[str, str], lang: str) -> str:
        """The text in ``lang``, else English, else any."""
        return texts.get(lang) or texts.get("en") or next(iter(texts.values()), "")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Event:
        return cls(**data)


@dataclass
class Attendee:
    entity: int
    subject: str
    name: str
    role: str
    instance: int
    host: bool
    speaker: bool = False
    """Allowed to speak now (named speaker or host, or an accepted promotion)."""
    on_stage: bool = False
    invited: int | None = None
    """Seconds offered by a host, until answered."""
    until: float | None = None
    """When a timed promotion ends."""
    muted: bool = False
    hand: float | None = None
    """When the hand went up."""
    hand_order: int = 0
    """Order of raising among hands raised in the same instant."""
    listening: str = "off"
    """ws | off (WebRTC listening is the voice's business)."""

    @property
    def allowed(self) -> bool:
        """May be heard: speaking permission and not muted."""
        return self.speaker and not self.muted

    def public(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.entity,
            "name": self.name,
            "role": self.role,
            "instance": self.instance,
        }
        if self.hand is not None:
            out["since"] = self.hand
        if self.until is not None:
            out["until"] = self.until
        if self.speaker:
            out["muted"] = self.muted
        return out


@dataclass
class Question:
    id: int
    event: int
    text: str
    name: str
    author: str
    """Subject of the asker (never sent)."""
    ts: float
    instance: int
    votes: list[str] = field(default_factory=list)
    """Subjects who voted (never sent)."""
    answered: bool = False

    def view(self, subject: str, asker: int | None = None) -> dict[str, Any]:
        """As ``subject`` sees it; hosts also get the ``asker``'s entity id (to moderate)."""
        out: dict[str, Any] = {
            "id": self.id,
            "text": self.text,
            "name": self.name,
            "votes": len(self.votes),
            "voted": subject in self.votes,
            "answered": self.answered,
            "mine": subject == self.author,
            "ts": self.ts,
            "instance": self.instance,
        }
        if asker is not None:
            out["asker"] = asker
        return out

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Question:
        return cls(**data)


class Live:
    """A live event's attendance: seats per instance, hands, invitations, speakers."""

    def __init__(self, event: Event, max_overflow: int) -> None:
        self.event = event
        self.max_overflow = max_overflow
        self.attendees: dict[int, Attendee] = {}
        self.instances: dict[int, set[int]] = {0: set()}
        self._raised = 0

    # -- seats -------------------------------------------------------------------

    def seated(self, instance: int) -> int:
        return len(self.instances.get(instance, ()))

    def free_instance(self) -> int:
        """The lowest instance with a free seat (opening one if needed); `event_full` if none."""
        cap = self.event.capacity
        for n in sorted(self.instances):
            if self.seated(n) < cap:
                return n
        for n in range(1, self.max_overflow + 1):
            if n not in self.instances:
                return n
        raise ProtocolError(E.EVENT_FULL, "The event and all its overflow rooms are full.")

    def admit(
        self, entity: int, subject: str, name: str, role: str, *, host: bool, speaker: bool
    ) -> Attendee:
        """Seat someone; raises `event_full`. Hosts and named speakers are on stage and
        take no seat, nor does a captioner (they work the event)."""
        if entity in self.attendees:
            return self.attendees[entity]
        on_stage = host or speaker
        seatless = on_stage or role == "captioner"
        instance = 0 if seatless else self.free_instance()
        person = Attendee(entity, subject, name, role, instance, host, speaker=on_stage)
        person.on_stage = on_stage
        self.attendees[entity] = person
        if not seatless:
            self.instances.setdefault(instance, set()).add(entity)
        return person

    def remove(self, entity: int) -> Attendee | None:
        person = self.attendees.pop(entity, None)
        if person is None:
            return None
        seats = self.instances.get(person.instance)
        if seats is not None:
            seats.discard(entity)
            if not seats and person.instance != 0:
                del self.instances[person.instance]
        return person

    def move(self, entity: int, instance: int) -> Attendee:
        person = self.require(entity)
        if person.host or (
            person.instance == instance and entity in self.instances.get(instance, ())
        ):
            return person
        if instance not in self.instances:
            raise ProtocolError(E.NO_SUCH_INSTANCE, f"The event has no room {instance}.")
        if self.seated(instance) >= self.event.capacity:
            raise ProtocolError(E.NO_SEAT, f"Room {instance} has no free seat.")
        old = self.instances.get(person.instance)
        if old is not None:
            old.discard(entity)
            if not old and person.instance != 0:
                del self.instances[person.instance]
        self.instances[instance].add(entity)
        person.instance = instance
        return person

    def counts(self) -> list[dict[str, int]]:
        return [
            {"instance": n, "attendees": len(seats), "capacity": self.event.capacity}
            for n, seats in sorted(self.instances.items())
        ]

    def require(self, entity: int) -> Attendee:
        person = self.attendees.get(entity)
        if person is None:
            raise ProtocolError(E.NOT_IN_EVENT, "That person is not attending this event.")
        return person

    # -- hands and speaking ----------------------------------------------------------

    def hand(self, entity: int, up: bool, now: float) -> Attendee:
        person = self.require(entity)
        if not up:
            person.hand = None
        elif person.hand is None and not person.speaker:
            person.hand = now
            self._raised += 1
            person.hand_order = self._raised
        return person

    def hands(self) -> list[Attendee]:
        """Raised hands, first raised first."""
        up = [p for p in self.attendees.values() if p.hand is not None]
        return sorted(up, key=lambda p: (p.hand or 0.0, p.hand_order))

    def invite(self, entity: int, seconds: int) -> Attendee:
        person = self.require(entity)
        if not person.speaker:
            person.invited = seconds
        return person

    def answer(self, entity: int, accept: bool, now: float) -> Attendee:
        person = self.require(entity)
        if person.invited is None:
            raise ProtocolError(E.NOT_INVITED, "Nobody has invited you to speak.")
        seconds = person.invited
        person.invited = None
        if accept:
            person.speaker = True
            person.on_stage = True
            person.muted = False
            person.hand = None  # the hand is lowered when the person speaks
            person.until = now + seconds if seconds else None
        return person

    def demote(self, entity: int) -> Attendee:
        person = self.require(entity)
        person.invited = None
        if not person.host:
            person.speaker = self.event.named_speaker(person.subject)
            person.on_stage = person.speaker
            person.until = None
        return person

    def expired(self, now: float) -> list[Attendee]:
        """Timed promotions that ran out (the caller demotes them)."""
        return [p for p in self.attendees.values() if p.until is not None and p.until <= now]

    def speakers(self) -> list[Attendee]:
        return [p for p in self.attendees.values() if p.on_stage]
