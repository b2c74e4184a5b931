"""The feature plug: what a feature is, and the ports through which it reaches the world.

A feature (chat, moderation, desks, voice signalling, ...) is a package under
``server/features/<name>/`` with a `Feature` subclass. It declares its wire
vocabulary (``protocol``: a `FeatureProtocol` from ``protocol/messages``),
its settings section (``Settings``), and handlers for its client messages,
and it gets everything else through a `FeatureContext` of small ports:

- `People`: who is who and where (entity id, durable subject, name, role, zone);
- `Notify`: send to ids, a zone, or everyone near a point (encoded once);
- `Place`: move an avatar by the server's decision;
- `VoicePort`: WebRTC voice rooms and who is in them;
- `StagePort` and `StageVoicePort`: event instances, the stage spotlight, audiences,
  payloads riding with state frames, and the stage's one-to-many voice;
- `BlockList`: who blocked whom (by identity), for chat and voice to honour;
- a `Keyspace` of the store, namespaced by the feature's name;
- `Bus`: facts for other features ("case closed"); features never import each other;
- `Logs`: read-only access to the streams other features share (``Feature.shares``),
  for figures derived from another feature's event log;
- `Clock`, `FeatureMetrics`, its settings, and `Tasks` for background work;
- `AuditLog`: the append-only trail of privileged actions (``audit``).

A feature may also serve plain HTTP GET routes (``http_routes``: reports, a
dashboard's JSON) under ``/api/<feature>/<route>``; the roles each route allows
come from the permission matrix (`protocol.permissions`), the edge checks the
bearer role token against them, and turns `HttpError` into a JSON error with a
code.

Lifecycle: ``start`` (rebuild from the store), ``stop``; hooks ``entered``
(joined or resumed), ``left`` (the connection ended; ``for_good`` when no
resume will follow) and ``zone_changed``. Adding a feature is new files plus
one line in ``server/features/__init__.py`` (and one in
``protocol/messages/__init__.py`` and the web client's feature index); the
edge, app, store, session, metrics and config modules do not change.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

from protocol.codec import Message
from protocol.spec import FeatureProtocol
from server.audit import AuditLog
from server.config import FeatureSettings
from server.metrics import FeatureMetrics
from server.store import Keyspace, StreamEntry
from server.tasks import Tasks
from server.world import World


@dataclass(frozen=True)
class Person:
    """Someone in the space, as features know them.

    ``id`` is the public entity id of their avatar; ``subject`` is their
    durable identity (a role token's subject, or a citizen key's pseudonym),
    which is never sent to other clients and never logged.
    """

    id: int
    subject: str
    name: str
    role: str
    verified: bool = False
    """A citizen who proved who they are (eID): staff may see this flag, never more."""

    def public(self) -> dict[str, Any]:
        """What others may see: id, display name, role."""
        return {"id": self.id, "name": self.name, "role": self.role}


class StaffRoster(Protocol):
    """A staff member's roster entry from their sign-in groups (`server.auth`): what they
    serve, in which languages, at which desks (empty: not limited by the roster)."""

    @property
    def services(self) -> tuple[str, ...]: ...
    @property
    def languages(self) -> tuple[str, ...]: ...
    @property
    def desks(self) -> tuple[str, ...]: ...


class People(Protocol):
    """Who is in the space, and where.

    `get` is a person connected to this process. In a cluster (several processes,
    one space) `find`, `position` and `zone` also know the avatars other processes
    own; `in_zone` and `near` list only this process's unless ``everywhere``: a
    feature that itself reaches everyone (chat) asks for all; one that every process
    runs for its own (the queue board) must not, or its messages would arrive twice.
    """

    def get(self, entity: int) -> Person | None: ...
    def find(self, entity: int) -> Person | None: ...
    def by_subject(self, subject: str) -> Person | None: ...
    def find_subject(self, subject: str) -> Person | None:
        """`by_subject`, or in a cluster the person of an avatar another process owns with
        this durable subject (is this staff member or citizen still here anywhere?)."""
        ...

    def position(self, entity: int) -> tuple[float, float] | None: ...
    def zone(self, entity: int) -> str | None: ...
    def in_zone(self, zone: str, everywhere: bool = False) -> list[int]: ...
    def near(self, x: float, z: float, radius: float, everywhere: bool = False) -> list[int]: ...
    async def remove(self, entity: int, reason: str) -> bool:
        """Moderation: tell them ``bye``, close with 4004 and forget their resume record."""
        ...


Outgoing = Mapping[str, Any] | bytes
"""A message to send: a map, or bytes already encoded (encode once, send to many)."""


class Notify(Protocol):
    """Send messages to people's clients; each call encodes once."""

    def to(self, entity: int, msg: Outgoing) -> bool: ...
    def to_many(self, entities: Iterable[int], msg: Outgoing) -> int: ...
    def zone(self, zone: str, msg: Outgoing) -> int: ...
    def near(self, x: float, z: float, radius: float, msg: Outgoing) -> int: ...


class Place(Protocol):
    def __call__(self, entity: int, x: float, z: float, yaw: float) -> None:
        """Put the avatar at (x, z) facing ``yaw`` (server-side move) and tell its client."""
        ...


class VoicePort(Protocol):
    """Voice rooms: a feature opens a room for some people; voice signalling connects them.

    Signalling methods raise `ProtocolError` (``not_in_call`` when the person
    is in no room, or a voice code such as ``bad_sdp``).
    """

    async def open_room(self, room: str, members: Iterable[int]) -> None: ...
    async def add_member(self, room: str, entity: int) -> None: ...
    async def close_room(self, room: str) -> None: ...
    def room_of(self, entity: int) -> str | None: ...
    async def connect(self, entity: int, offer_sdp: str) -> str: ...
    async def add_ice(self, entity: int, candidate: dict[str, Any]) -> None: ...
    def mute(self, entity: int, muted: bool) -> None: ...
    async def hangup(self, entity: int) -> None: ...
    async def drop(self, entity: int) -> None:
        """Close ``entity``'s peer connection if they have one; never raises."""
        ...


class StagePort(Protocol):
    """Event staging in the space (`server.staging.Staging`), by entity id."""

    def set_layer(self, entity: int, layer: int) -> None: ...
    def set_spotlight(self, entity: int, on: bool) -> None: ...
    def set_audience(self, entity: int, on: bool) -> None: ...
    def ride(self, entity: int, channel: str | None) -> None: ...
    def add_source(self, source: Callable[[], Mapping[str, bytes]]) -> None: ...


class StageVoicePort(Protocol):
    """One-to-many event voice (`server.voice.stage.StageVoice`); participants are entity
    ids as strings. Refusals raise `ProtocolError` (``not_speaker``, ``listener_budget``,
    ``bad_sdp``, ...)."""

    async def open_stage(self, stage: str) -> None: ...
    async def close_stage(self, stage: str) -> None: ...
    def allow(self, stage: str, participant: str, allowed: bool) -> None: ...
    async def publish(self, stage: str, participant: str, offer_sdp: str) -> str: ...
    async def listen(self, stage: str, participant: str, offer_sdp: str) -> str: ...
    async def leave(self, stage: str, participant: str) -> None: ...
    def attach_ws(self, stage: str, participant: str) -> None: ...
    def detach_ws(self, stage: str, participant: str) -> None: ...
    def take_ws_batch(self, stage: str) -> list[tuple[str, int, int, bytes]]: ...
    def block(self, listener: str, other: str, blocked: bool) -> None: ...
    def speaking(self, stage: str) -> list[str]: ...


class BlockList(Protocol):
    """Blocks between identities (subjects); kept in the store (`server.blocks.Blocks`)."""

    def between(self, a: str, b: str) -> bool:
        """Whether either of the two subjects blocked the other."""
        ...

    def involving(self, subject: str) -> frozenset[str]:
        """Every subject ``subject`` blocked or was blocked by."""
        ...

    def blocked_by(self, subject: str) -> frozenset[str]:
        """The subjects ``subject`` blocked."""
        ...

    async def set(self, subject: str, other: str, on: bool) -> bool:
        """Block (or unblock) ``other`` for ``subject``; whether anything changed."""
        ...

    def subscribe(self, handler: Callable[[str, str, bool], None]) -> None:
        """Call ``handler(subject, other, on)`` after every change."""
        ...


BusHandler = Callable[[Mapping[str, Any]], Awaitable[None] | None]


class Bus(Protocol):
    def publish(self, topic: str, event: Mapping[str, Any]) -> None: ...
    def subscribe(self, topic: str, handler: BusHandler) -> None: ...


class Logs(Protocol):
    """Read another feature's shared stream (one it lists in ``Feature.shares``)."""

    async def read(
        self, feature: str, stream: str, after: str = "0-0", count: int | None = None
    ) -> list[StreamEntry]:
        """Entries after ``after``, oldest first; `LookupError` if the stream is not shared."""
        ...


@dataclass(frozen=True)
class Caller:
    """Who made an HTTP request: from a verified bearer role token (never logged)."""

    subject: str
    name: str
    role: str


@dataclass(frozen=True)
class HttpRequest:
    route: str
    """The route's name (the path after ``/api/<feature>/``)."""
    query: Mapping[str, str]
    """Query parameters (the last value of each)."""
    caller: Caller


@dataclass(frozen=True)
class HttpReply:
    body: bytes
    content_type: str = "application/json"
    status: int = 200
    filename: str | None = None
    """Set to offer the body as a download (``Content-Disposition: attachment``)."""


class StartupError(RuntimeError):
    """A feature cannot start with its configuration; the message names the file or setting.

    The command line prints it as one line and exits with status 2 (no traceback).
    """


class HttpError(Exception):
    """Refuse an HTTP request: the edge answers ``status`` with ``{"error": {code, reason}}``."""

    def __init__(self, status: int, code: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class HttpRoute:
    handler: Callable[[HttpRequest], Awaitable[HttpReply]]
    roles: tuple[str, ...] = ()
    """Roles whose bearer token may call it (a token is required unless ``public``). A
    feature leaves it empty: the app fills it in from the permission matrix
    (`protocol.permissions.ROUTES`); roles a feature does give must agree with it."""
    public: bool = False
    """Anyone may call it without a token (the caller then has role ``""``): public
    content such as a Q&A topic's stable link. Also set by the app from the matrix."""


class Clock(Protocol):
    def time(self) -> float:
        """Seconds since the epoch (for what is stored and shown)."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never jumps (for durations)."""
        ...


class SystemClock:
    """The real clocks."""

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()


class Sender(Protocol):
    """The client a message came from, as a handler sees it."""

    @property
    def person(self) -> Person:
        """The sender's avatar (handlers of world-phase messages always have one)."""
        ...

    @property
    def caller(self) -> Caller:
        """Who sent it, also before ``join`` (messages allowed in the ``join`` phase, such
        as the Q&A wall's for the 2D page): the durable subject, display name (the
        avatar's, the token's, or empty) and role."""
        ...

    @property
    def open(self) -> bool:
        """Whether the client is still connected (for features that keep senders to
        push to later, such as watchers without an avatar)."""
        ...

    def reply(self, msg: Outgoing) -> None:
        """Send a message back to this client only."""
        ...


Handler = Callable[[Sender, Message], Awaitable[None]]


@dataclass
class FeatureContext:
    """Everything a feature may use. Built by the app; fakes in the fast tests."""

    world: World
    people: People
    notify: Notify
    place: Place
    voice: VoicePort | None
    store: Keyspace
    bus: Bus
    logs: Logs
    clock: Clock
    metrics: FeatureMetrics
    settings: Any
    tasks: Tasks
    resume_s: float = 60.0
    """How long someone who dropped without ``bye`` may come back (resume)."""
    settle_s: float = 0.0
    """In a cluster: how long after start until the avatars other processes own are known
    (`People.find` and `find_subject` see them); 0 for a process alone. A feature that
    cleans up after a restart ("nobody is here any more") waits this long first."""
    server_url: Callable[[], str] | None = None
    """The WebSocket URL of this server (``ws://host:port/ws``), once it listens: for agent
    processes a feature starts (the training feature's simulated citizens)."""
    data_dir: Path | None = None
    """The server's data directory (generated files a feature keeps, e.g. training audio)."""
    stage: StagePort | None = None
    """Event instances, spotlight, audiences and riders (None in fakes that do not stage)."""
    stage_voice: StageVoicePort | None = None
    """The stage's voice (None when voice is disabled)."""
    blocks: BlockList | None = None
    """Who blocked whom (None in fakes without blocks)."""
    roster: Callable[[str], StaffRoster | None] | None = None
    """The roster entry (services, languages, desks) from a signed-in staff member's
    identity-provider groups, by subject (``id:`` optional); None when they have none
    (a development role token, or no sign-in configured)."""
    audit: AuditLog | None = None
    """The audit trail (`server.audit`): privileged actions are recorded here, with
    subjects and ids only (None in fakes that do not audit)."""
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("server.features"))


def subject_digest(subject: str, purpose: str) -> str:
    """A one-way tie from a stored record to a durable subject, for data rights: a feature
    keeps this instead of the subject, finds the person's records in a later session by
    computing it again, and drops it on erasure or retention. ``purpose`` makes digests of
    different features unjoinable."""
    message = f"servicepoint {purpose}\0{subject}".encode()
    return hashlib.sha256(message).hexdigest()[:24]


@dataclass(frozen=True)
class Erased:
    """What a feature did when erasing one person's data (`Feature.erase_data`)."""

    removed: int = 0
    """Records deleted outright."""
    anonymised: int = 0
    """Records kept because something else must stay true (a queue statistic, a thread's
    replies), with the identity and any free text of the person taken out."""


class NoSettings(FeatureSettings):
    """For features without settings of their own."""


class Feature:
    """Base class of every feature. Subclasses set the class attributes and override hooks.

    ``handlers()`` maps each of the feature's client message types to a
    coroutine ``(sender, msg)``; the app checks at start-up that every client
    message has exactly one handler and every handler a message.
    """

    name: ClassVar[str]
    protocol: ClassVar[FeatureProtocol]
    Settings: ClassVar[type[FeatureSettings]] = NoSettings
    shares: ClassVar[tuple[str, ...]] = ()
    """Streams of its keyspace other features may read through `Logs` (a public contract)."""

    personal_data: ClassVar[tuple[str, ...] | None] = None
    """The kinds of citizens' personal data this feature stores keyed by their subject
    (``("tickets",)``), or ``()`` when it stores none (staff work records, such as the
    scorecard's, are the agency's and are kept by its own rules). Every feature must say (the app
    refuses to start a feature that leaves it ``None``), and one that names kinds must
    implement `export_data` and `erase_data`: data rights (GDPR art. 15, 17, 20) reach
    every feature through these two methods (`server.rights`)."""

    home: ClassVar[bool] = False
    """In a cluster: the feature runs on one process only, the feature home
    (`server.cluster.home`), for everyone; the other processes forward its client
    messages and lifecycle hooks there (the desks: one queue, one writer)."""

    def __init__(self, ctx: FeatureContext) -> None:
        self.ctx = ctx

    def at_home(self, sender: Sender) -> bool:
        """In a cluster, on a process that is not the feature home: whether this message of
        ``sender``'s goes to the home rather than to this process's instance (`home`; the
        voice feature decides per sender: a desk call's room is at home)."""
        return self.home

    async def export_data(self, subject: str) -> Mapping[str, Any]:
        """Everything this feature holds about ``subject``, as JSON-able data keyed by the
        kinds in `personal_data` (an empty list or map for a kind with nothing)."""
        raise NotImplementedError(f"{self.name} declares personal data but cannot export it")

    async def erase_data(self, subject: str) -> Erased:
        """Erase what this feature holds about ``subject``: delete it, or where a record
        must stay, anonymise it (drop the subject, name and free text; keep times and
        counts). Afterwards no key, field, stream entry or index of the feature holds the
        subject or their text. The caller compacts the store once at the end."""
        raise NotImplementedError(f"{self.name} declares personal data but cannot erase it")

    async def expire_data(self, kind: str, before: float) -> Erased:
        """The retention job's call (`server.retention`), once per run for each of this
        feature's `personal_data` kinds with a limit in ``retention_days``: delete the
        records of ``kind`` made (for a conversation or topic: last active) before
        ``before`` (epoch seconds), or anonymise them where a record must stay, as
        `erase_data` does for one subject. The caller compacts the store afterwards."""
        raise NotImplementedError(f"{self.name} declares personal data but cannot expire it")

    def handlers(self) -> Mapping[str, Handler]:
        return {}

    def http_routes(self) -> Mapping[str, HttpRoute]:
        """GET routes served at ``/api/<name>/<route>``."""
        return {}

    def limits(self) -> Mapping[str, Any]:
        """Entries this feature adds to ``welcome.limits``."""
        return {}

    async def start(self) -> None:
        """Rebuild state from the store; called once before the server listens."""

    async def stop(self) -> None:
        """Release what the feature holds; called once at shutdown."""

    async def entered(self, person: Person, resumed: bool) -> None:
        """``person``'s avatar is in the world (after join, or after a resume)."""

    async def left(self, person: Person, for_good: bool) -> None:
        """``person``'s connection ended; ``for_good``: no resume will follow."""

    def zone_changed(self, person: Person, zone: str) -> None:
        """``person`` walked into ``zone`` (a zone id)."""


FeatureClass = type[Feature]
