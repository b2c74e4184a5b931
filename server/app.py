"""`ServicePoint`: one server process — its lifespan: store, world, features, tick, edge.

Use it as an async context manager (tests do) or through `serve_forever`
(the CLI does)::

    async with ServicePoint(config) as sp:
        print(sp.port)

Start-up: open the store, build each feature of the index
(`server.features.FEATURES`) with its own context and settings section,
check that every client message has exactly one handler, let each feature
rebuild from the store, then listen and tick.

Shutdown is graceful, after uvicorn: stop accepting, tell every client
``bye`` and close with 1001 (going away), wait up to
``shutdown_timeout_s`` for the connection handlers to save their resume
records, then *cancel* the handlers that are still running and wait for
them, and only then stop the features, the background tasks, voice and the
store. A second SIGINT/SIGTERM skips the waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import secrets
import signal
import socket
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from functools import partial
from types import TracebackType
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve

from protocol import permissions
from protocol.catalogue import MAX_MESSAGE_BYTES
from protocol.codec import encode
from protocol.errors import CloseCode, ErrorCode
from server.audit import AuditLog, default_process
from server.auth.service import AuthService
from server.auth.settings import AuthSettings, EidSettings
from server.blocks import Blocks
from server.bus import LocalBus
from server.cluster.codec import BlockChange, Stage
from server.cluster.home import NOT_READY_REASON, FeatureHome, home_lease_s
from server.cluster.replication import Replication
from server.cluster.stage import SharedStage
from server.config import Config, FeatureSettings, load_section
from server.edge.connection import CORE_MESSAGES, ClientConnection, Edge, expire_orphans
from server.edge.dispatch import Dispatcher
from server.edge.http import HttpRoutes
from server.edge.hub import EverywherePeople, Hub, NotifyPort, PeoplePort
from server.edge.link import broadcast
from server.features import FEATURES
from server.identity import Keyring
from server.logs import SharedLogs
from server.metrics import Metrics
from server.plug import (
    Clock,
    Feature,
    FeatureContext,
    HttpError,
    HttpReply,
    HttpRequest,
    HttpRoute,
    Person,
    StartupError,
    SystemClock,
)
from server.retention import Retention
from server.riders import Riders
from server.rights import DataRights
from server.space import Space
from server.staging import Staging
from server.store import RedisStore, Store, legacy, open_store
from server.tasks import Tasks
from server.tick import TickLoop
from server.voice import VoiceRouter
from server.voice.rooms import VoiceRooms
from server.voice.settings import VoiceSettings
from server.voice.stage import StageVoice
from server.world import load_world
from spatial.audience import AudienceInterest
from spatial.movement import MovementRules

log = logging.getLogger(__name__)


class ServicePoint:
    def __init__(
        self, config: Config, store: Store | None = None, clock: Clock | None = None
    ) -> None:
        self.config = config
        self.clock: Clock = clock or SystemClock()
        """The features' wall and monotonic clock (a test may drive a scripted day)."""
        self.metrics = Metrics()
        self.secret = config.ensure_secret()
        previous = [s.strip() for s in config.previous_secrets.split(",") if s.strip()]
        self.keyring = Keyring(
            self.secret, previous, issuer=config.token_issuer, audience=config.token_audience
        )
        self.world = load_world(config.world_path)
        self.rules = MovementRules(self.world.bounds, self.world.walls, config.max_speed)
        self.space = Space(self.world, self.rules, config.capacity, config.max_entities)
        self.interest = AudienceInterest(
            config.capacity,
            radius=config.interest_radius,
            k=config.interest_k,
            margin=config.interest_margin,
            clock=time.perf_counter_ns,
        )
        self.metrics.interest = self.interest.stats
        self.tasks = Tasks()
        self.bus = LocalBus(self.tasks)
        self.hub = Hub(self.space, self.tasks)
        self.people = PeoplePort(self.hub)
        self.notify = NotifyPort(self.hub, self.people)
        self.riders = Riders()
        self.staging = Staging(self.space, self.riders)
        self.tick = TickLoop(
            self.space,
            self.interest,
            self.metrics,
            config.tick_hz,
            self._zone_changed,
            riders=self.riders,
            frame_encoding=config.frame_encoding,
            near_m=config.near_m,
        )
        self.tick.on_load = self._tell_load
        self._sections: dict[type[FeatureSettings], FeatureSettings] = {}
        voice_settings = self._section(VoiceSettings, "voice")
        assert isinstance(voice_settings, VoiceSettings)
        self.voice_settings = voice_settings
        self.features: list[Feature] = []
        self._given_store = store
        self._store: Store | None = None
        self._server: Server | None = None
        self._tick_task: asyncio.Task[None] | None = None
        self._handlers: set[asyncio.Task[Any]] = set()
        self.voice: VoiceRouter | None = None
        self.rooms: VoiceRooms | None = None
        self.stage_voice: StageVoice | None = None
        self.origin = secrets.token_hex(6)
        """This process's name on the bus, in a cluster (random per start)."""
        self.shared_stage: SharedStage | None = None
        if config.cluster:
            self.shared_stage = SharedStage(
                self.space,
                self.riders,
                self.origin,
                is_home=lambda: self.home is not None and self.home.is_home,
                broadcast=self._broadcast,
                hz=config.tick_hz,
            )
        self.blocks: Blocks | None = None
        self.audit: AuditLog | None = None
        """The audit trail (`server.audit`), once started: features and sign-in record
        privileged actions in it."""
        auth_settings = self._section(AuthSettings, "auth")
        eid_settings = self._section(EidSettings, "auth_eid")
        assert isinstance(auth_settings, AuthSettings) and isinstance(eid_settings, EidSettings)
        self.auth_settings, self.eid_settings = auth_settings, eid_settings
        self.auth: AuthService | None = None
        """Staff sign-in, sessions and revocation (`server.auth`), once started."""
        self.retention: Retention | None = None
        """The retention job (`server.retention`), once started."""
        self.edge: Edge | None = None
        self.routes: HttpRoutes | None = None
        self.replication: Replication | None = None
        """In a cluster (``config.cluster``): the avatars shared with the other processes."""
        self.home: FeatureHome | None = None
        """In a cluster: the lease on running the home features (`Feature.home`) for all."""
        self._dispatcher: Dispatcher | None = None
        self._started: set[str] = set()
        self.lost_home = asyncio.Event()
        """Set when another process took over the feature home: this one stops."""
        self.stopping = False
        self.force_exit = asyncio.Event()

    @property
    def store(self) -> Store:
        assert self._store is not None, "ServicePoint is not started"
        return self._store

    @property
    def connections(self) -> set[ClientConnection]:
        return self.hub.connections

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(next(iter(self._server.sockets)).getsockname()[1])

    def ws_url(self) -> str:
        """This server's WebSocket URL as seen from this machine (wildcard hosts: loopback)."""
        host = self.config.host
        if host in ("", "0.0.0.0"):
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        if ":" in host:
            host = f"[{host}]"
        return f"ws://{host}:{self.port}/ws"

    @property
    def settle_s(self) -> float:
        """In a cluster: how long after start until the people connected to the other
        processes are known (two leases, and the once-a-second directory); 0 alone."""
        return 2 * self.config.cluster_lease_s + 1.0 if self.config.cluster else 0.0

    def feature(self, name: str) -> Feature:
        """The running feature called ``name`` (tests and tools)."""
        return next(f for f in self.features if f.name == name)

    def _section(self, cls: type[FeatureSettings], name: str) -> FeatureSettings:
        """A settings section, loaded once: the voice port and the voice feature share one."""
        if cls not in self._sections:
            self._sections[cls] = load_section(cls, self.config.features.get(name))
        return self._sections[cls]

    def _context(self, cls: type[Feature], store: Store) -> FeatureContext:
        settings = self._section(cls.Settings, cls.name)
        everywhere = cls.home and self.config.cluster
        people = EverywherePeople(self.hub) if everywhere else self.people
        return FeatureContext(
            world=self.world,
            people=people,
            notify=NotifyPort(self.hub, people) if everywhere else self.notify,
            place=self.hub.place,
            voice=self.rooms,
            store=store.keyspace(cls.name),
            bus=self.bus,
            logs=SharedLogs(store, {f.name: f.shares for f in FEATURES}),
            clock=self.clock,
            metrics=self.metrics.feature(cls.name),
            settings=settings,
            tasks=self.tasks,
            resume_s=float(self.config.resume_s),
            # two leases, and the once-a-second directory of who is connected where
            settle_s=self.settle_s,
            server_url=self.ws_url,
            data_dir=self.config.data_dir,
            stage=self.shared_stage or self.staging,
            stage_voice=self.stage_voice,
            blocks=self.blocks,
            audit=self.audit,
            roster=self.auth.roster if self.auth is not None else None,
            log=logging.getLogger(f"server.features.{cls.name}"),
        )

    async def start(self) -> None:
        """Open the store, start every feature and listen; a failure undoes what was done
        (an embedded Redis is never left running after a refused start)."""
        config = self.config
        store = self._given_store or await open_store(config.redis_url, config.data_dir)
        self._store = store
        try:
            await self._start(store)
        except BaseException:
            await self.stop()
            raise

    async def _start(self, store: Store) -> None:
        config = self.config
        if isinstance(store, RedisStore):
            await legacy.migrate(store.redis)
        if self.voice_settings.enabled:
            hosts = self.voice_settings.host_list()
            self.voice = VoiceRouter(
                host_addresses=hosts or None,
                connect_timeout=self.voice_settings.connect_timeout_s,
                tasks=self.tasks,
            )
            self.rooms = VoiceRooms(self.voice)
            self.stage_voice = StageVoice(
                host_addresses=hosts or None,
                connect_timeout=self.voice_settings.connect_timeout_s,
                webrtc_listener_budget=self.voice_settings.stage_listener_budget,
                tasks=self.tasks,
            )
        self.blocks = Blocks(store.keyspace("blocks"))
        self.audit = AuditLog(store.keyspace("audit"), default_process(), clock=self.clock.time)
        await self.blocks.load()
        self.auth = AuthService(
            self.auth_settings,
            self.eid_settings,
            store.keyspace("auth"),
            self.keyring,
            self.tasks,
            lambda: self.hub.connections,
            self.audit,
            self.secret,
        )
        await self.auth.start()
        self.features = [cls(self._context(cls, store)) for cls in FEATURES]
        DataRights.check(self.features)
        self.rights = DataRights(
            self.features, store, self.blocks, self.audit, self.auth.verifications
        )
        self.retention = Retention(
            self.features, config.retention_days, store, self.audit, self.clock.time
        )
        dispatcher = Dispatcher(CORE_MESSAGES, self.features)
        self._dispatcher = dispatcher
        sessions = store.keyspace("session")
        if config.cluster:
            # Other processes' live records have no expiry either: wait until the
            # people connected to them are known, and leave theirs alone.
            async def orphans_later() -> None:
                alive = partial(_found, self.hub)
                orphans = await expire_orphans(sessions, config.resume_s, alive)
                if orphans:
                    log.info("%d avatars from a process that stopped may resume", orphans)

            self.tasks.later(
                self.settle_s, lambda: self.tasks.spawn(orphans_later(), name="orphans")
            )
        else:
            orphans = await expire_orphans(sessions, config.resume_s)
            if orphans:
                log.info("%d avatars from an earlier run may resume", orphans)
        if config.cluster:
            if not isinstance(store, RedisStore):
                raise StartupError("a cluster shares one space over Redis: it needs a Redis store")
            self.home = FeatureHome(
                store.redis,
                self.origin,
                home_lease_s(config.cluster_lease_s),
                on_gain=self._home_gained,
                on_loss=self._home_lost,
                on_moved=self._home_moved,
                where=self._where,
            )
            await self.home.claim()
            self.home.start()
            dispatcher.home = self.home
            self.rights.home = self.home
            home = self.home
            self.retention.at_home = lambda: home.is_home
        for feature in self.features:
            if feature.home and self.home is not None and not self.home.is_home:
                continue  # runs at the feature home; started here if this becomes it
            await feature.start()
            self._started.add(feature.name)
        if self.home is not None and self.home.is_home:
            self.home.ready = True
        self.retention.start(self.tasks, config.retention_every_s)
        limits: dict[str, Any] = {
            "max_speed": config.max_speed,
            "interest_radius": config.interest_radius,
            "interest_k": config.interest_k,
            "max_message_bytes": MAX_MESSAGE_BYTES,
            "rate_per_s": config.rate_per_s,
            "rate_burst": config.rate_burst,
            **dispatcher.limits(),
        }
        self.edge = Edge(
            config=config,
            metrics=self.metrics,
            hub=self.hub,
            space=self.space,
            keyring=self.keyring,
            sessions=sessions,
            dispatch=dispatcher,
            world_wire=self.world.to_wire(),
            limits_wire=limits,
            auth=self.auth,
            rights=self.rights,
        )
        origins = [o.strip() for o in config.allowed_origins.split(",") if o.strip()]
        api = api_routes(self.features)
        if self.home is not None:
            api = self._homeward(api)
        self.routes = HttpRoutes(
            config.web_root,
            self.metrics,
            store.ping,
            origins,
            api,
            self.keyring.verify,
            auth=self.auth,
        )
        self._server = await serve(
            self._handle,
            config.host,
            config.port,
            process_request=self.routes.process_request,
            max_size=MAX_MESSAGE_BYTES,
            max_queue=64,
            write_limit=config.send_buffer_limit,
            compression=None,
            server_header=None,
            close_timeout=2,
            backlog=4096,  # a crowd arriving at once (an event starting) is not reset
            reuse_port=config.reuse_port or None,  # --workers: one socket per process
        )
        if config.cluster:
            self._join_cluster(store)
        self._tick_task = asyncio.create_task(self.tick.run(), name="tick")
        log.info("servicepoint listening on http://%s:%d", config.host, self.port)

    def _join_cluster(self, store: Store) -> None:
        if not isinstance(store, RedisStore):
            raise StartupError("a cluster shares one space over Redis: it needs a Redis store")
        config = self.config

        async def kick_local(entity: int, reason: str) -> None:
            await self.people.remove(entity, reason)

        assert self.home is not None
        self.replication = Replication(
            self.space,
            store.redis,
            self.tasks,
            self.metrics.feature("cluster"),
            person_of=self.hub.get,
            link_of=self.hub.link_of,
            kick_local=kick_local,
            release_local=self._resumed_elsewhere,
            region_m=config.cluster_region_m,
            reach_m=config.interest_radius + config.interest_margin,
            lease_s=config.cluster_lease_s,
            hz=config.tick_hz,
            sharded=config.cluster_sharded,
            origin=self.home.origin,
            place_local=self.hub.place,
        )
        self.home.replication = self.replication
        self.home.dispatcher = self._dispatcher
        self.replication.on_home = self.home.receive
        self.hub.remote = self.replication
        self.tick.after_tick.append(self.replication.after_tick)
        if self.shared_stage is not None:
            self.replication.on_stage = self.shared_stage.receive
            self.replication.on_added = self.shared_stage.added
            self.tick.after_tick.append(self.shared_stage.after_tick)
        if self.blocks is not None:
            blocks, origin = self.blocks, self.replication.origin
            replication = self.replication
            blocks.on_change = lambda s, o, on: replication.broadcast(BlockChange(origin, s, o, on))
            self.replication.on_block = lambda msg: blocks.apply(msg.subject, msg.other, msg.on)
        self.replication.start()
        log.info("cluster: this process is %s on the bus", self.replication.origin)

    def _broadcast(self, msg: Stage) -> None:
        if self.replication is not None:
            self.replication.broadcast(msg)

    def _homeward(self, api: dict[str, HttpRoute]) -> dict[str, HttpRoute]:
        """A home feature's HTTP routes answer at the home, whichever process is asked
        (its state is there: an event's schedule, questions and slides)."""
        home = self.home
        assert home is not None
        out = dict(api)
        for feature in self.features:
            if not feature.home:
                continue
            prefix = f"/api/{feature.name}/"
            for path, route in api.items():
                if path.startswith(prefix):
                    out[path] = replace(
                        route, handler=partial(_at_home, home, feature.name, route.handler)
                    )
        return out

    async def _home_gained(self) -> None:
        """This process took over the feature home (the one before it died): start the
        home features, which rebuild from the shared log."""
        if self.shared_stage is not None:
            self.shared_stage.reset()
        started = []
        for feature in self.features:
            if feature.home and feature.name not in self._started:
                await feature.start()
                self._started.add(feature.name)
                started.append(feature)
                log.info("cluster: %s started here (the feature home)", feature.name)
        # Whoever is connected here is back for them (as after a resume); the other
        # processes tell it of theirs when they see the new home (`_home_moved`).
        for person in self._people_here():
            for feature in started:
                try:
                    await feature.entered(person, True)
                except Exception:
                    log.exception("%s: entered hook failed", feature.name)

    def _people_here(self) -> list[Person]:
        people = (conn.person_or_none() for conn in list(self.hub.by_avatar.values()))
        return [p for p in people if p is not None]

    def _where(self, entity: int) -> tuple[tuple[float, float] | None, str]:
        return self.people.position(entity), self.people.zone(entity) or ""

    def _home_moved(self) -> None:
        """Another process became the feature home: tell it who is connected here."""
        if self.home is None:
            return
        for person in self._people_here():
            for feature in self.features:
                if feature.home:
                    self.home.forward_hook(feature.name, "entered", person, True)

    def _home_lost(self) -> None:
        self.lost_home.set()
        if not self.stopping:
            self.tasks.spawn(self.stop(), name="home-lost")

    def _resumed_elsewhere(self, entity: int) -> None:
        """Another process resumed ``entity``'s avatar: its connection here closes (4009)
        without keeping a resume record."""
        conn = self.hub.by_avatar.get(entity)
        if conn is not None:
            conn.resumed_elsewhere()

    async def _wait(self, aws: Iterable[asyncio.Future[Any]], timeout: float) -> None:
        """Wait for ``aws`` up to ``timeout``, or until a second signal forces exit."""
        pending = {a for a in aws if not a.done()}
        if not pending or self.force_exit.is_set():
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        forced = asyncio.ensure_future(self.force_exit.wait())
        try:
            while pending and not forced.done():
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                done, _ = await asyncio.wait(
                    pending | {forced}, timeout=remaining, return_when=asyncio.FIRST_COMPLETED
                )
                pending -= done
        finally:
            forced.cancel()

    async def stop(self) -> None:
        if self.stopping:
            return
        self.stopping = True
        timeout = self.config.shutdown_timeout_s
        if self._server is not None:
            self._server.close(close_connections=False)  # stop accepting
            for conn in list(self.hub.connections):
                conn.link.send({"t": "bye", "reason": "server shutting down"})
            closing = [
                asyncio.ensure_future(c.ws.close(int(CloseCode.GOING_AWAY), "server shutting down"))
                for c in list(self.hub.connections)
            ]
            await self._wait(closing, timeout)
            await self._wait(list(self._handlers), timeout)
            left = [t for t in self._handlers if not t.done()]
            if left:
                log.warning("%d connection handlers did not finish in time; cancelling", len(left))
                for task in left:
                    task.cancel()
                await asyncio.wait(left, timeout=max(1.0, timeout))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), 1.0)
        if self._tick_task is not None:
            self._tick_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._tick_task
        if self.home is not None:
            await self.home.stop()
        if self.replication is not None:
            await self.replication.stop()
        if self.retention is not None:
            self.retention.stop()
        for feature in reversed(self.features):
            if feature.home and self.home is not None and feature.name not in self._started:
                continue  # never started here (it ran at another process, the home)
            try:
                await feature.stop()
            except Exception:
                log.exception("%s: stop failed", feature.name)
        if self.auth is not None:
            await self.auth.stop()
        await self.tasks.close(timeout)
        if self.rooms is not None:
            await self.rooms.close()
        if self.stage_voice is not None:
            await self.stage_voice.close()
        if self._store is not None and self._given_store is None:
            await self._store.close()

    async def __aenter__(self) -> ServicePoint:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def serve_forever(self) -> None:
        """Run until SIGINT or SIGTERM, then shut down gracefully; a second signal forces it."""
        await self.start()
        # Everything allocated at start-up lives for the whole run: keep it out of
        # the collector's way, so garbage collections stay short under load.
        gc.freeze()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()

        def on_signal() -> None:
            if stop.is_set():
                log.warning("second signal: not waiting any longer")
                self.force_exit.set()
            stop.set()

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, on_signal)
        print(f"servicepoint: http://{self.config.host}:{self.port}/", flush=True)
        signalled = asyncio.ensure_future(stop.wait())
        lost = asyncio.ensure_future(self.lost_home.wait())
        await asyncio.wait({signalled, lost}, return_when=asyncio.FIRST_COMPLETED)
        signalled.cancel()
        lost.cancel()
        log.info("shutting down")
        await self.stop()
        if self.lost_home.is_set():
            raise SystemExit(3)  # a supervisor starts it afresh

    # -- connections -----------------------------------------------------

    async def _handle(self, ws: ServerConnection) -> None:
        if self.stopping or self.edge is None:
            await ws.close(int(CloseCode.GOING_AWAY), "server shutting down")
            return
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
        if self.config.tcp_send_buffer and ws.transport is not None:
            sock = ws.transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self.config.tcp_send_buffer)
        conn = ClientConnection(self.edge, ws)
        self.hub.connections.add(conn)
        try:
            await conn.run()
        finally:
            self.hub.connections.discard(conn)
            if task is not None:
                self._handlers.discard(task)

    def _tell_load(self, rate: float, busy: bool) -> None:
        """Tell everyone connected here how the hall keeps up (``load``): once a second
        while the tick runs slow, once more when it is on time again."""
        msg = encode({"t": "load", "rate": round(rate, 2), "busy": busy})
        broadcast((self.hub.link_of(e) for e in list(self.hub.by_avatar)), msg)

    def _zone_changed(self, avatar: Any, zone: int) -> None:
        link = avatar.link
        if link is None or self.edge is None:
            return
        name = self.space.zone_name(zone)
        link.send({"t": "zone", "zone": name})
        person = self.hub.get(avatar.id)
        if person is not None:
            self.edge.dispatch.zone_changed(person, name)


async def _at_home(
    home: FeatureHome,
    feature: str,
    handler: Callable[[HttpRequest], Awaitable[HttpReply]],
    req: HttpRequest,
) -> HttpReply:
    if not home.is_home:
        return await home.http(feature, req)
    if not home.ready:  # taking over: the feature is still starting
        raise HttpError(503, ErrorCode.NOT_READY, NOT_READY_REASON)
    return await handler(req)


def _found(hub: Hub, entity: int) -> bool:
    return hub.find(entity) is not None


def api_routes(features: Iterable[Feature]) -> dict[str, HttpRoute]:
    """Every feature route by path (``/api/<feature>/<route>``), with the roles (or
    ``public``) of the permission matrix (`protocol.permissions.ROUTES`).

    Raises `StartupError` for a route the matrix lacks, for roles or ``public`` a
    feature declares that disagree with the matrix, and for a matrix route that no
    feature serves.
    """
    api: dict[str, HttpRoute] = {}
    for feature in features:
        for name, route in feature.http_routes().items():
            path = f"/api/{feature.name}/{name}"
            try:
                rule = permissions.route_rule(path)
            except KeyError:
                raise StartupError(
                    f"{path} is not in the permission matrix (protocol/permissions.py)"
                ) from None
            public = rule == permissions.PUBLIC
            roles = () if public else permissions.spec_roles(tuple(rule))
            declared = (set(route.roles), route.public)
            if (route.roles or route.public) and declared != (set(roles), public):
                raise StartupError(
                    f"{path}: the feature declares roles {sorted(route.roles)} "
                    f"(public={route.public}), the permission matrix "
                    f"{'public' if public else sorted(roles)}"
                )
            api[path] = replace(route, roles=roles, public=public)
    if stale := sorted(set(permissions.ROUTES) - set(api)):
        raise StartupError(f"the permission matrix lists routes no feature serves: {stale}")
    return api


__all__ = ["RedisStore", "ServicePoint", "api_routes"]
