"""`ClientLink`: writes to one client without awaiting, and drops slow consumers.

The tick loop writes to every observer in one pass; it must never wait on a
client. Each write goes through the websockets sans-I/O protocol object and
straight to the transport (the same two calls `Connection.send` makes, minus
its wait for the buffer to drain). A tick's messages to one client (its leaves,
enters, state frame and event audio) go in one ``writelines``, one system call,
framed here (`frame_header`) when no extension is in use. While a client's transport buffer is above
``limit`` bytes, state frames to it are skipped (the next frame supersedes
them); if it stays above the limit for ``slow_s`` seconds, or any write would
take it past four times the limit, the client is dropped with close code 4003.
The cap counts frame headers and keeps room for the close frame, so a
client's buffer never holds more than ``4 * limit`` bytes.

A dropped client gets nothing more, but its close frame (4003) is queued
behind what is already buffered, and the transport is aborted only if the
client has not read it all within ``close_s`` seconds. So a client that
reads again in time sees the buffered messages and then close 4003, as the
protocol promises; one that never reads costs no more memory than before.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.protocol import State

from protocol.codec import encode
from protocol.errors import CloseCode
from server.metrics import Metrics

log = logging.getLogger(__name__)

# A server frame's header is at most 10 bytes (unmasked, 64-bit length). A
# control frame (the close we queue, a pong the protocol answers with) carries
# at most 125 bytes; room for two is kept below the cap.
_FRAME_OVERHEAD = 10
_CONTROL_RESERVE = 2 * (_FRAME_OVERHEAD + 125)


def frame_header(size: int) -> bytes:
    """The header of one final, unmasked binary WebSocket frame of ``size`` bytes
    (RFC 6455 §5.2: a server's frames carry no mask)."""
    if size < 126:
        return bytes((0x82, size))
    if size < 1 << 16:
        return b"\x82\x7e" + size.to_bytes(2, "big")
    return b"\x82\x7f" + size.to_bytes(8, "big")


class ClientLink:
    def __init__(
        self,
        ws: ServerConnection,
        metrics: Metrics,
        limit: int,
        slow_s: float,
        close_s: float = 5.0,
    ) -> None:
        self.ws = ws
        self.metrics = metrics
        self.limit = limit
        self.slow_s = slow_s
        self.close_s = close_s
        self.full_since: float | None = None
        self.dropped = False
        self._plain = not ws.protocol.extensions
        """No extension (the server turns compression off): a tick's frames are framed
        here (`frame_header`) instead of by the protocol object, one object less each."""

    @property
    def open(self) -> bool:
        return not self.dropped and self.ws.protocol.state is State.OPEN

    def buffered(self) -> int:
        transport = self.ws.transport
        return int(transport.get_write_buffer_size()) if transport is not None else 0

    def send(self, msg: Mapping[str, Any]) -> bool:
        """Encode and write a message that must arrive (chat, enter, leave, ...)."""
        return self.write(encode(msg), droppable=False)

    def write(self, payload: bytes, droppable: bool = False, now: float = 0.0) -> bool:
        """Write one binary message now. Returns False if it was not written.

        ``droppable`` payloads (state frames) are skipped while the buffer is
        full, and the client is dropped once it has been full for ``slow_s``
        (``now`` is the caller's monotonic clock); others are written unless
        that would exceed the hard cap. (The tick writes with `write_tick`.)
        """
        if not self.open:
            return False
        buffered = self.buffered()
        if self._skip(buffered, droppable, now):
            return False
        if buffered + len(payload) + _FRAME_OVERHEAD + _CONTROL_RESERVE > 4 * self.limit:
            self.drop("send buffer overflow")
            return False
        self.ws.protocol.send_binary(payload)
        self.ws.send_data()
        self.metrics.messages_out += 1
        self.metrics.bytes_out += len(payload)
        return True

    def _skip(self, buffered: int, droppable: bool, now: float) -> bool:
        """The slow-consumer policy: True if a droppable write is skipped because the
        buffer is over ``limit`` (the client is dropped once full for ``slow_s``)."""
        if buffered <= self.limit:
            self.full_since = None
            return False
        if not droppable:
            return False
        # Only the tick's frames carry a clock: they start and judge the full period.
        if self.full_since is None:
            self.full_since = now
        self.metrics.frames_skipped += 1
        if now - self.full_since > self.slow_s:
            self.drop("slow consumer")
        return True

    def write_tick(
        self,
        must: Sequence[bytes],
        frame: bytes | None,
        now: float,
        extra: bytes | None = None,
    ) -> bool:
        """Write one tick's messages to this client in one system call; True if ``frame``
        was written.

        ``must`` (encoded leave and enter messages) must arrive and go first;
        ``frame`` (the state frame) and ``extra`` (event audio riding with it) are
        droppable and skipped together while the buffer is full, as in `write`. One
        `writelines` per client per tick, instead of one write per message: at
        hundreds of walking clients the enters and leaves cost as many system calls
        as the frames.
        """
        if not self.open:
            return False
        droppable = [p for p in (frame, extra) if p is not None]
        buffered = self.buffered()
        if self._skip(buffered, bool(droppable), now):
            if self.dropped:
                return False
            droppable, frame = [], None
        parts = [*must, *droppable]
        if not parts:
            return False
        size = sum(len(part) for part in parts)
        if buffered + size + len(parts) * _FRAME_OVERHEAD + _CONTROL_RESERVE > 4 * self.limit:
            self.drop("send buffer overflow")
            return False
        protocol = self.ws.protocol
        transport = self.ws.transport
        if self._plain:
            chunks = protocol.data_to_send()  # anything queued before (a pong) goes first
            for part in parts:
                chunks += (frame_header(len(part)), part)
        else:
            for part in parts:
                protocol.send_binary(part)
            chunks = protocol.data_to_send()
        if transport is not None:
            transport.writelines(chunks)
        self.metrics.messages_out += len(parts)
        self.metrics.bytes_out += size
        return frame is not None

    def drop(self, reason: str) -> None:
        """Queue close 4003 behind the buffer; abort if unread after ``close_s``.

        Nothing else is written to a dropped client, so its memory stays bounded.
        """
        if self.dropped:
            return
        self.dropped = True
        self.metrics.close(int(CloseCode.SLOW_CONSUMER))
        log.info("dropping client: %s", reason)
        transport = self.ws.transport
        try:
            if self.ws.protocol.state is State.OPEN:
                self.ws.protocol.send_close(int(CloseCode.SLOW_CONSUMER), reason)
                self.ws.send_data()
        except Exception:
            log.debug("could not queue the close frame", exc_info=True)
            if transport is not None:
                transport.abort()
            return
        if transport is not None:
            asyncio.get_running_loop().call_later(self.close_s, transport.abort)


def broadcast(links: Iterable[ClientLink | None], msg: Mapping[str, Any] | bytes) -> int:
    """Encode ``msg`` once and write the same bytes to every link; returns how many took it."""
    payload = msg if isinstance(msg, bytes) else encode(msg)
    return sum(1 for link in links if link is not None and link.write(payload))
