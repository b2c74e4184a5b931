"""`AgentClient`: a headless client that speaks the wire protocol.

Built on `protocol/` only. It keeps what a browser would know — who is in
view and where, chat seen, errors received — and lets a test or a bot act::

    async with AgentClient(url, name="Ada") as ada:   # hello + join
        await ada.move(3.0, 1.0)
        await ada.wait_for(lambda: other_id in ada.others)

Every message from the server is validated against the catalogue, so the
agents double as a conformance check of the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection, connect

from protocol.catalogue import PROTOCOL_VERSION
from protocol.codec import Message, decode_server, encode
from protocol.frames import StateFrameDecoder


@dataclass
class Seen:
    """What an agent knows of another avatar."""

    id: int
    name: str
    role: str
    x: float
    z: float
    yaw: float
    frames: int = 0


@dataclass
class AgentStats:
    frames: int = 0
    bytes_in: int = 0
    messages_in: int = 0
    errors: list[Message] = field(default_factory=list)


FrameHook = Callable[["AgentClient", Any, float], None]


class AgentClient:
    def __init__(
        self,
        url: str,
        name: str = "Agent",
        token: str | None = None,
        resume: str | None = None,
        color: int | None = None,
        avatar: str = "round",
        join: bool = True,
        keep_messages: bool = True,
        citizen: str | None = None,
    ) -> None:
        self.url = url
        self.name = name
        self.token = token
        self.resume = resume
        self.color = color
        self.avatar = avatar
        self.auto_join = join
        self.citizen = citizen
        """The citizen key from the last welcome (kept private; presented again in hello)."""
        self.keep_messages = keep_messages
        self.ws: ClientConnection | None = None
        self.welcome: Message | None = None
        self.joined: Message | None = None
        self.others: dict[int, Seen] = {}
        self.messages: list[Message] = []
        self.stats = AgentStats()
        self.on_frame: FrameHook | None = None
        self.frame_decoder = StateFrameDecoder()
        """This connection's state frames: deltas apply to what earlier frames said."""
        self.track_positions = True
        """Update `others` from every frame; a swarm turns it off and uses `on_frame`."""
        self.seq = 0
        self.last_pong = 0
        self._pings = 0
        self.x = 0.0
        self.z = 0.0
        self.yaw = 0.0
        self.zone = ""
        self.closed: asyncio.Future[tuple[int | None, str]] | None = None
        self._reader: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()

    # -- connection ------------------------------------------------------

    async def connect_raw(self, **options: Any) -> None:
        """Open the socket only (no hello); ``options`` go to websockets' ``connect``."""
        options = {"max_size": 2**22, "compression": None, "open_timeout": 10, **options}
        self.ws = await connect(self.url, **options)
        self.frame_decoder = StateFrameDecoder()  # a new connection: no frames yet
        self.closed = asyncio.get_running_loop().create_future()
        self._reader = asyncio.create_task(self._read())

    def pause_reading(self) -> None:
        """Stop reading from the socket, as a stalled client would."""
        assert self.ws is not None and self.ws.transport is not None
        self.ws.transport.pause_reading()

    def resume_reading(self) -> None:
        """Read again after `pause_reading`."""
        assert self.ws is not None and self.ws.transport is not None
        self.ws.transport.resume_reading()

    async def connect(self) -> Message:
        """Open the socket, say hello, and (unless resumed or join=False) join."""
        await self.connect_raw()
        hello: dict[str, Any] = {"t": "hello", "v": PROTOCOL_VERSION, "lang": "en"}
        if self.token:
            hello["token"] = self.token
        if self.resume:
            hello["resume"] = self.resume
        if self.citizen and not self.token:
            hello["citizen"] = self.citizen
        await self.send(hello)
        self.welcome = await self.expect("welcome")
        self.resume = self.welcome["resume"]
        self.citizen = self.welcome.get("citizen", self.citizen)
        if self.welcome["resumed"]:
            self.joined = await self.expect("joined")
        elif self.auto_join:
            await self.join()
        return self.welcome

    async def join(self) -> Message:
        msg: dict[str, Any] = {"t": "join", "name": self.name, "avatar": self.avatar}
        if self.color is not None:
            msg["color"] = self.color
        await self.send(msg)
        self.joined = await self.expect("joined")
        return self.joined

    @property
    def id(self) -> int:
        assert self.joined is not None, "not joined"
        return int(self.joined["id"])

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader

    async def abort(self) -> None:
        """Drop the connection without a close handshake (a network loss)."""
        if self.ws is not None and self.ws.transport is not None:
            self.ws.transport.abort()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader

    async def __aenter__(self) -> AgentClient:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- sending ---------------------------------------------------------

    async def send(self, msg: dict[str, Any]) -> None:
        await self.send_raw(encode(msg))

    async def send_raw(self, data: bytes | str) -> None:
        assert self.ws is not None
        await self.ws.send(data)

    async def move(self, x: float, z: float, yaw: float | None = None) -> None:
        """Ask to be at (x, z). Positions are sent at centimetre precision."""
        self.seq = (self.seq + 1) & 0xFFFFFFFF
        self.x, self.z = round(x, 2), round(z, 2)
        if yaw is not None:
            self.yaw = yaw
        await self.send({"t": "move", "seq": self.seq, "x": self.x, "z": self.z, "yaw": self.yaw})

    async def sync(self, timeout: float = 10.0) -> None:
        """Round-trip a ping: everything sent before has been handled by the server."""
        self._pings += 1
        n = self._pings
        await self.send({"t": "ping", "n": n})
        found = False

        def pong() -> bool:
            nonlocal found
            found = found or self.last_pong >= n
            return found

        await self.wait_for(pong, timeout)

    async def chat(self, text: str, scope: str = "near") -> None:
        await self.send({"t": "chat", "scope": scope, "text": text})

    # -- receiving -------------------------------------------------------

    async def _read(self) -> None:
        assert self.ws is not None and self.closed is not None
        try:
            async for data in self.ws:
                assert isinstance(data, bytes)
                self.stats.messages_in += 1
                self.stats.bytes_in += len(data)
                self._on_message(decode_server(data), len(data))
        except websockets.ConnectionClosed:
            pass
        finally:
            rcvd = self.ws.close_code, self.ws.close_reason or ""
            if not self.closed.done():
                self.closed.set_result(rcvd)
            self._changed.set()

    def _on_message(self, msg: Message, size: int) -> None:
        t = msg["t"]
        if t == "f":
            self.stats.frames += 1
            frame = self.frame_decoder.decode(msg)
            if self.track_positions:
                xz = frame.positions.tolist()
                for i, entity in enumerate(frame.ids.tolist()):
                    seen = self.others.get(entity)
                    if seen is not None:
                        seen.x, seen.z = xz[i]
                        seen.frames += 1
            if self.on_frame is not None:
                self.on_frame(self, frame, time.monotonic())
        else:
            if t == "enter":
                for e in msg["e"]:
                    self.others[e["id"]] = Seen(
                        e["id"], e["name"], e["role"], e["x"], e["z"], e["yaw"]
                    )
            elif t == "leave":
                for entity in msg["ids"]:
                    self.others.pop(entity, None)
                self.frame_decoder.forget(msg["ids"])
            elif t in ("joined", "correct"):
                self.x, self.z = msg["x"], msg["z"]
                if t == "joined":
                    self.zone = msg["zone"]
            elif t == "zone":
                self.zone = msg["zone"]
            elif t == "pong":
                self.last_pong = max(self.last_pong, msg["n"])
            elif t == "error":
                self.stats.errors.append(msg)
            if self.keep_messages:
                self.messages.append(msg)
        self._changed.set()

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait until ``predicate()`` holds, checking after every message."""
        deadline = time.monotonic() + timeout
        while not predicate():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("condition not met in time")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)
            if self.closed is not None and self.closed.done() and not predicate():
                raise ConnectionError(f"connection closed: {self.closed.result()}")

    async def expect(self, t: str, timeout: float = 10.0, **match: Any) -> Message:
        """The first kept message of type ``t`` (matching ``match``) not yet taken."""
        found: list[Message] = []

        def check() -> bool:
            for i, m in enumerate(self.messages):
                if m["t"] == t and all(m.get(k) == v for k, v in match.items()):
                    found.append(self.messages.pop(i))
                    return True
            return False

        await self.wait_for(check, timeout)
        return found[0]

    def taken(self, t: str) -> list[Message]:
        """All kept messages of type ``t`` so far (not consumed)."""
        return [m for m in self.messages if m["t"] == t]

    async def wait_closed(self, timeout: float = 10.0) -> tuple[int | None, str]:
        assert self.closed is not None
        return await asyncio.wait_for(asyncio.shield(self.closed), timeout)
