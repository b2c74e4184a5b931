"""Fakes of the feature ports, for fast feature tests: no sockets, no Redis, no real voice.

Build a context with `make_context` and keep the typed fakes you passed in::

    people = FakePeople()
    notify = RecordingNotify(people)
    ctx = make_context("desks", DeskSettings(), people=people, notify=notify, resume_s=0.05)
    feature = Desks(ctx)
    ...
    notify.last(citizen.id, "ticket")

Every message sent through `RecordingNotify` is encoded as the edge would
encode it, decoded again, and checked against the server message catalogue;
messages that do not validate are kept in ``notify.invalid`` (a test should
assert it is empty).
"""

from __future__ import annotations

import asyncio
import enum
import functools
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgpack

from protocol.catalogue import SERVER_MESSAGES
from protocol.codec import encode, validate
from protocol.errors import ProtocolError
from protocol.messages.desks import DeskError
from server.bus import LocalBus
from server.features import FEATURES
from server.logs import SharedLogs
from server.metrics import Metrics
from server.plug import Caller, FeatureContext, Outgoing, Person
from server.store.memory import MemoryStore
from server.tasks import Tasks
from server.world import World, load_world

WORLD_PATH = Path(__file__).resolve().parents[3] / "server" / "data" / "world.toml"
EPOCH = 1_700_000_000.0
"""Where `ManualClock.time` starts (a plausible Unix time)."""


@functools.cache
def shipped_world() -> World:
    """The world shipped with the server (loaded once per test session)."""
    return load_world(WORLD_PATH)


def citizen(entity: int, name: str = "", subject: str = "") -> Person:
    return Person(entity, subject or f"citizen-{entity}", name or f"Citizen {entity}", "citizen")


def staff(entity: int, subject: str, name: str = "", role: str = "staff") -> Person:
    return Person(entity, subject, name or subject.replace(".", " ").title(), role)


# -- People --------------------------------------------------------------------


@dataclass
class _Here:
    person: Person
    x: float
    z: float
    zone: str


class FakePeople:
    """`server.plug.People` over a dict: who is connected, where, in which zone."""

    def __init__(self) -> None:
        self._here: dict[int, _Here] = {}
        self.removed: list[tuple[int, str]] = []
        """Every `remove` call, in order: (entity, reason)."""

    def add(self, person: Person, x: float = 0.0, z: float = 0.0, zone: str = "hall") -> Person:
        self._here[person.id] = _Here(person, x, z, zone)
        return person

    def discard(self, entity: int) -> None:
        """The connection of ``entity`` ended (no moderation involved)."""
        self._here.pop(entity, None)

    def move(self, entity: int, x: float, z: float, zone: str | None = None) -> None:
        here = self._here[entity]
        here.x, here.z = x, z
        if zone is not None:
            here.zone = zone

    def get(self, entity: int) -> Person | None:
        here = self._here.get(entity)
        return here.person if here is not None else None

    def find(self, entity: int) -> Person | None:
        return self.get(entity)  # one process: everyone is connected here

    def by_subject(self, subject: str) -> Person | None:
        return next((h.person for h in self._here.values() if h.person.subject == subject), None)

    def find_subject(self, subject: str) -> Person | None:
        return self.by_subject(subject)  # one process: everyone is connected here

    def position(self, entity: int) -> tuple[float, float] | None:
        here = self._here.get(entity)
        return (here.x, here.z) if here is not None else None

    def zone(self, entity: int) -> str | None:
        here = self._here.get(entity)
        return here.zone if here is not None else None

    def in_zone(self, zone: str, everywhere: bool = False) -> list[int]:
        return [e for e, h in self._here.items() if h.zone == zone]

    def near(self, x: float, z: float, radius: float, everywhere: bool = False) -> list[int]:
        return [e for e, h in self._here.items() if math.hypot(h.x - x, h.z - z) <= radius]

    async def remove(self, entity: int, reason: str) -> bool:
        self.removed.append((entity, reason))
        return self._here.pop(entity, None) is not None

    def __contains__(self, entity: object) -> bool:
        return entity in self._here


# -- Notify --------------------------------------------------------------------


class RecordingNotify:
    """`server.plug.Notify` that records ``(entity, decoded message)`` for each recipient.

    Recipients of `zone` and `near` are resolved through ``people``. Like the
    real edge, a message to someone not connected is dropped (``to`` returns
    False); set ``record_absent`` to keep those too (in ``dropped``).
    """

    def __init__(self, people: FakePeople) -> None:
        self.people = people
        self.sent: list[tuple[int, dict[str, Any]]] = []
        self.dropped: list[tuple[int, dict[str, Any]]] = []
        """Messages addressed to someone not connected."""
        self.invalid: list[tuple[dict[str, Any], str]] = []
        """Messages that do not validate against the server catalogue, with the reason."""

    def _decode(self, msg: Outgoing) -> dict[str, Any]:
        data = msg if isinstance(msg, bytes) else encode(msg)
        decoded: dict[str, Any] = msgpack.unpackb(data, raw=False)
        try:
            validate(msgpack.unpackb(data, raw=False), SERVER_MESSAGES)
        except ProtocolError as exc:
            self.invalid.append((decoded, str(exc)))
        return decoded

    def _deliver(self, entities: Iterable[int], msg: Outgoing) -> int:
        decoded = self._decode(msg)
        count = 0
        for entity in dict.fromkeys(entities):
            if entity in self.people:
                self.sent.append((entity, dict(decoded)))
                count += 1
            else:
                self.dropped.append((entity, dict(decoded)))
        return count

    def to(self, entity: int, msg: Outgoing) -> bool:
        return self._deliver([entity], msg) == 1

    def to_many(self, entities: Iterable[int], msg: Outgoing) -> int:
        return self._deliver(list(entities), msg)

    def zone(self, zone: str, msg: Outgoing) -> int:
        return self._deliver(self.people.in_zone(zone), msg)

    def near(self, x: float, z: float, radius: float, msg: Outgoing) -> int:
        return self._deliver(self.people.near(x, z, radius), msg)

    # -- asking ------------------------------------------------------------

    def messages(self, entity: int, t: str | None = None) -> list[dict[str, Any]]:
        """What ``entity`` received (of type ``t``), oldest first."""
        return [m for e, m in self.sent if e == entity and (t is None or m.get("t") == t)]

    def last(self, entity: int, t: str) -> dict[str, Any]:
        """The latest message of type ``t`` to ``entity``; `AssertionError` if none."""
        found = self.messages(entity, t)
        assert found, f"entity {entity} received no {t!r}; got {self.types(entity)}"
        return found[-1]

    def types(self, entity: int) -> list[str]:
        return [str(m.get("t")) for m in self.messages(entity)]

    def recipients(self, t: str) -> set[int]:
        return {e for e, m in self.sent if m.get("t") == t}

    def clear(self) -> None:
        self.sent.clear()
        self.dropped.clear()


# -- Place, voice, clock ---------------------------------------------------------


class RecordingPlace:
    """`server.plug.Place` that records every server-side move."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, float, float, float]] = []

    def __call__(self, entity: int, x: float, z: float, yaw: float) -> None:
        self.calls.append((entity, x, z, yaw))

    def of(self, entity: int) -> list[tuple[float, float, float]]:
        return [(x, z, yaw) for e, x, z, yaw in self.calls if e == entity]


class FakeVoice:
    """`server.plug.VoicePort` in memory: rooms and members, as `server.voice.rooms` keeps them."""

    ANSWER = "v=0 answer"

    def __init__(self) -> None:
        self.rooms: dict[str, set[int]] = {}
        self._room_of: dict[int, str] = {}
        self.calls: list[tuple[Any, ...]] = []
        """Every call, e.g. ``("open_room", room, (1, 2))``, ``("connect", 1, sdp)``."""
        self.muted: dict[int, bool] = {}

    async def open_room(self, room: str, members: Iterable[int]) -> None:
        entities = tuple(members)
        self.calls.append(("open_room", room, entities))
        self.rooms.setdefault(room, set())
        for entity in entities:
            self._add(room, entity)

    async def add_member(self, room: str, entity: int) -> None:
        self.calls.append(("add_member", room, entity))
        if room not in self.rooms:
            raise KeyError(room)
        self._add(room, entity)

    def _add(self, room: str, entity: int) -> None:
        previous = self._room_of.get(entity)
        if previous is not None and previous != room:
            self.rooms[previous].discard(entity)
        self.rooms[room].add(entity)
        self._room_of[entity] = room

    async def close_room(self, room: str) -> None:
        self.calls.append(("close_room", room))
        for entity in self.rooms.pop(room, set()):
            if self._room_of.get(entity) == room:
                del self._room_of[entity]

    def room_of(self, entity: int) -> str | None:
        return self._room_of.get(entity)

    def _require_room(self, entity: int) -> str:
        room = self._room_of.get(entity)
        if room is None:
            raise ProtocolError(DeskError.NOT_IN_CALL, "You are not in a desk call.")
        return room

    async def connect(self, entity: int, offer_sdp: str) -> str:
        self.calls.append(("connect", entity, offer_sdp))
        self._require_room(entity)
        return self.ANSWER

    async def add_ice(self, entity: int, candidate: dict[str, Any]) -> None:
        self.calls.append(("add_ice", entity, candidate))
        self._require_room(entity)

    def mute(self, entity: int, muted: bool) -> None:
        self.calls.append(("mute", entity, muted))
        self._require_room(entity)
        self.muted[entity] = muted

    async def hangup(self, entity: int) -> None:
        self.calls.append(("hangup", entity))
        self._require_room(entity)

    async def drop(self, entity: int) -> None:
        self.calls.append(("drop", entity))

    def names(self) -> list[str]:
        """The names of the calls made, in order."""
        return [str(c[0]) for c in self.calls]


class ManualClock:
    """`server.plug.Clock` that only moves when told to."""

    def __init__(self, start: float = EPOCH) -> None:
        self._time = start
        self._mono = 1000.0

    def time(self) -> float:
        return self._time

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock does not go back")
        self._time += seconds
        self._mono += seconds


# -- Sender ----------------------------------------------------------------------


class FakeSender:
    """`server.plug.Sender`: the client a message came from; replies are recorded in notify."""

    def __init__(self, person: Person, notify: RecordingNotify) -> None:
        self._person = person
        self._notify = notify

    @property
    def person(self) -> Person:
        return self._person

    @property
    def caller(self) -> Caller:
        return Caller(self._person.subject, self._person.name, self._person.role)

    @property
    def open(self) -> bool:
        return True

    def reply(self, msg: Outgoing) -> None:
        self._notify.to(self._person.id, msg)


# -- the context -------------------------------------------------------------------


class _Default(enum.Enum):
    FAKE = enum.auto()


DEFAULT = _Default.FAKE
"""For ``voice``: a new `FakeVoice` (pass None for a server without voice)."""


@dataclass
class Fakes:
    """The typed fakes behind a context made by `make_context`."""

    ctx: FeatureContext
    store: MemoryStore
    people: FakePeople
    notify: RecordingNotify
    place: RecordingPlace
    voice: FakeVoice | None
    clock: ManualClock
    tasks: Tasks
    bus: LocalBus


def make_context(feature_name: str, settings: Any, **options: Any) -> FeatureContext:
    """A `FeatureContext` over the memory store and fakes (see `make_fakes` to keep them);
    ``options`` are `make_fakes`'s."""
    return make_fakes(feature_name, settings, **options).ctx


def make_fakes(
    feature_name: str,
    settings: Any,
    *,
    store: MemoryStore | None = None,
    people: FakePeople | None = None,
    notify: RecordingNotify | None = None,
    place: RecordingPlace | None = None,
    voice: FakeVoice | _Default | None = DEFAULT,
    clock: ManualClock | None = None,
    tasks: Tasks | None = None,
    world: World | None = None,
    resume_s: float = 60.0,
) -> Fakes:
    """Like `make_context`, returning the context with its typed fakes.

    Pass the same ``store`` to two calls to get two contexts over the same
    keyspace (a "restart").
    """
    store = store if store is not None else MemoryStore()
    people = people if people is not None else FakePeople()
    notify = notify if notify is not None else RecordingNotify(people)
    place = place if place is not None else RecordingPlace()
    fake_voice = FakeVoice() if voice is DEFAULT else voice
    assert not isinstance(fake_voice, _Default)
    clock = clock if clock is not None else ManualClock()
    tasks = tasks if tasks is not None else Tasks()
    bus = LocalBus(tasks)
    ctx = FeatureContext(
        world=world if world is not None else shipped_world(),
        people=people,
        notify=notify,
        place=place,
        voice=fake_voice,
        store=store.keyspace(feature_name),
        bus=bus,
        logs=SharedLogs(store, {f.name: f.shares for f in FEATURES}),
        clock=clock,
        metrics=Metrics().feature(feature_name),
        settings=settings,
        tasks=tasks,
        resume_s=resume_s,
    )
    return Fakes(ctx, store, people, notify, place, fake_voice, clock, tasks, bus)


async def settle(rounds: int = 10) -> None:
    """Let spawned tasks that do not sleep run to completion."""
    for _ in range(rounds):
        await asyncio.sleep(0)


def _protocol_checks() -> None:
    """Static checks that the fakes implement the ports (mypy verifies the assignments)."""
    from server.plug import Clock, Notify, People, Place, Sender, VoicePort

    people = FakePeople()
    _p: People = people
    _n: Notify = RecordingNotify(people)
    _pl: Place = RecordingPlace()
    _v: VoicePort = FakeVoice()
    _c: Clock = ManualClock()
    _s: Sender = FakeSender(citizen(1), RecordingNotify(people))
    _ = (_p, _n, _pl, _v, _c, _s)


def store_text(store: MemoryStore, leave_out: str | None = None) -> str:
    """Everything the memory store holds, stream entries included, as text: for checks
    that erased or expired data is nowhere. Keys containing ``leave_out`` are skipped."""
    return repr(
        [
            (key, getattr(item.value, "entries", item.value))
            for key, item in store._data.items()
            if leave_out is None or leave_out not in key
        ]
    )
