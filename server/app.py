"""`ServicePoint`: one server process — store, world, tick and WebSocket server.

Use it as an async context manager (tests do) or through `serve_forever`
(the CLI does)::

    async with ServicePoint(config) as sp:
        print(sp.port)

Shutdown is graceful, after uvicorn: stop accepting, tell every client
``bye`` and close with 1001 (going away), wait up to ``shutdown_timeout_s``
for handlers to save resume records, then cancel what is left.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import socket
import time
from types import TracebackType
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve

from protocol.catalogue import MAX_MESSAGE_BYTES
from protocol.errors import CloseCode
from server.chat import ChatService
from server.config import Config
from server.connection import ClientConnection
from server.http import HttpRoutes
from server.link import ClientLink, broadcast
from server.metrics import Metrics
from server.service.desks import DeskService
from server.space import Space
from server.store import RedisStore, open_store
from server.tick import TickLoop
from server.voice import VoiceRouter
from server.world import load_world
from spatial.interest import InterestManager
from spatial.movement import MovementRules

log = logging.getLogger(__name__)


class ServicePoint:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.metrics = Metrics()
        self.secret = config.ensure_secret()
        self.world = load_world(config.world_path)
        self.world_wire = self.world.to_wire()
        self.rules = MovementRules(self.world.bounds, self.world.walls, config.max_speed)
        self.space = Space(self.world, self.rules, config.capacity, config.max_entities)
        self.interest = InterestManager(
            config.capacity,
            radius=config.interest_radius,
            k=config.interest_k,
            margin=config.interest_margin,
            clock=time.perf_counter_ns,
        )
        self.metrics.interest = self.interest.stats
        self.tick = TickLoop(
            self.space, self.interest, self.metrics, config.tick_hz, self._zone_changed
        )
        self.limits_wire: dict[str, Any] = {
            "max_speed": config.max_speed,
            "chat_radius": config.chat_radius,
            "interest_radius": config.interest_radius,
            "interest_k": config.interest_k,
            "max_message_bytes": MAX_MESSAGE_BYTES,
            "rate_per_s": config.rate_per_s,
            "rate_burst": config.rate_burst,
        }
        self.connections: set[ClientConnection] = set()
        self.live_resume: dict[str, ClientConnection] = {}
        self.by_avatar: dict[int, ClientConnection] = {}
        self._store: RedisStore | None = None
        self._server: Server | None = None
        self._tick_task: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[Any]] = set()
        self.stopping = False
        # Both need the store, so start() makes them.
        self.chat: ChatService = None  # type: ignore[assignment]
        self.desks: DeskService = None  # type: ignore[assignment]
        self.voice: VoiceRouter | None = None

    def link_of(self, entity: int) -> ClientLink | None:
        conn = self.by_avatar.get(entity)
        return conn.link if conn is not None else None

    def notify(self, entity: int, msg: dict[str, Any] | bytes) -> None:
        """Send ``msg`` (or bytes already encoded) to avatar ``entity``'s client, if connected."""
        broadcast([self.link_of(entity)], msg)

    def place(self, entity: int, x: float, z: float, yaw: float) -> None:
        """Move an avatar server-side (e.g. staff behind a desk) and tell its client."""
        avatar = self.space.by_id.get(entity)
        if avatar is None or avatar.link is None:
            return
        px, pz = self.space.place(avatar, x, z, yaw)
        avatar.link.send({"t": "correct", "seq": avatar.last_seq, "x": px, "z": pz, "yaw": yaw})

    @property
    def store(self) -> RedisStore:
        assert self._store is not None, "ServicePoint is not started"
        return self._store

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(next(iter(self._server.sockets)).getsockname()[1])

    async def start(self) -> None:
        self._store = await open_store(self.config.redis_url, self.config.data_dir)
        self.chat = ChatService(self.space, self._store, self.config)
        hosts = [h.strip() for h in self.config.voice_hosts.split(",") if h.strip()]
        self.voice = VoiceRouter(host_addresses=hosts or None)
        self.desks = DeskService(
            self.world,
            self._store,
            self.notify,
            self.place,
            self.voice,
            call_timeout_s=self.config.call_timeout_s,
        )
        orphans = await self._store.expire_orphans(self.config.resume_s)
        if orphans:
            log.info("%d avatars from an earlier run may resume", orphans)
        replayed = await self.desks.rebuild()
        await self.desks.load_notes()
        self.desks.resume_timers()
        log.info("queue rebuilt from %d logged events", replayed)
        routes = HttpRoutes(self.config.web_root, self.metrics, self.store.ping)
        self._server = await serve(
            self._handle,
            self.config.host,
            self.config.port,
            process_request=routes.process_request,
            max_size=MAX_MESSAGE_BYTES,
            max_queue=64,
            write_limit=self.config.send_buffer_limit,
            compression=None,
            server_header=None,
            close_timeout=2,
        )
        self._tick_task = asyncio.create_task(self.tick.run(), name="tick")
        log.info("servicepoint listening on http://%s:%d", self.config.host, self.port)

    async def stop(self) -> None:
        if self.stopping:
            return
        self.stopping = True
        if self._server is not None:
            self._server.close(close_connections=False)  # stop accepting
            for conn in list(self.connections):
                conn.link.send({"t": "bye", "reason": "server shutting down"})
            closing = [
                asyncio.create_task(c.ws.close(int(CloseCode.GOING_AWAY), "server shutting down"))
                for c in list(self.connections)
            ]
            if closing:
                await asyncio.wait(closing, timeout=self.config.shutdown_timeout_s)
            try:
                await asyncio.wait_for(self._server.wait_closed(), self.config.shutdown_timeout_s)
            except TimeoutError:
                log.warning("connections did not close in time; cancelling")
        if self._tick_task is not None:
            self._tick_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._tick_task
        for task in list(self._background):
            task.cancel()
        if self.desks is not None:
            self.desks.close()
        if self.voice is not None:
            await self.voice.close()
        if self._store is not None:
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
        """Run until SIGINT or SIGTERM, then shut down gracefully."""
        await self.start()
        # Everything allocated at start-up lives for the whole run: keep it out of
        # the collector's way, so garbage collections stay short under load.
        gc.freeze()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        print(f"servicepoint: http://{self.config.host}:{self.port}/", flush=True)
        await stop.wait()
        log.info("shutting down")
        await self.stop()

    # -- connections -----------------------------------------------------

    async def _handle(self, ws: ServerConnection) -> None:
        if self.stopping:
            await ws.close(int(CloseCode.GOING_AWAY), "server shutting down")
            return
        if self.config.tcp_send_buffer and ws.transport is not None:
            sock = ws.transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self.config.tcp_send_buffer)
        conn = ClientConnection(self, ws)
        self.connections.add(conn)
        try:
            await conn.run()
        finally:
            self.connections.discard(conn)

    def remember(self, conn: ClientConnection) -> None:
        self.live_resume[conn.resume_token] = conn

    def forget(self, conn: ClientConnection) -> None:
        if self.live_resume.get(conn.resume_token) is conn:
            del self.live_resume[conn.resume_token]
        if conn.avatar is not None and self.by_avatar.get(conn.avatar.id) is conn:
            del self.by_avatar[conn.avatar.id]

    async def claim_resume(self, token: str) -> dict[str, Any] | None:
        """The avatar behind a resume token, taken from a live connection or the store.

        A live connection holding it (a half-open socket the client gave up
        on) is closed with 4009 (replaced) and its avatar handed over.
        """
        old = self.live_resume.pop(token, None)
        if old is not None and old.avatar is not None:
            avatar, old.avatar = old.avatar, None
            self.by_avatar.pop(avatar.id, None)
            old.keep_for_resume = False
            record = old.detach(avatar)
            await self.store.drop_resume(token)
            self._spawn(old.close(CloseCode.REPLACED, "resumed elsewhere"))
            return record
        return await self.store.take_resume(token)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _zone_changed(self, avatar: Any, zone: int) -> None:
        link = avatar.link
        if link is None:
            return
        name = self.space.zone_name(zone)
        link.send({"t": "zone", "zone": name})

        async def send_history() -> None:
            link.send(await self.chat.history(name))

        self._spawn(send_history())
