"""`ClientLink`: writes to one client without awaiting, and drops slow consumers.

The tick loop writes to every observer in one pass; it must never wait on a
client. Each write goes through the websockets sans-I/O protocol object and
straight to the transport (the same two calls `Connection.send` makes, minus
its wait for the buffer to drain). While a client's transport buffer is above
``limit`` bytes, state frames to it are skipped (the next frame supersedes
them); if it stays above the limit for ``slow_s`` seconds, or any write would
take it past four times the limit, the client is dropped with close code 4003.
Memory per client is therefore bounded by about ``4 * limit``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.protocol import State

from protocol.codec import encode
from protocol.errors import CloseCode
from server.metrics import Metrics

log = logging.getLogger(__name__)


class ClientLink:
    def __init__(self, ws: ServerConnection, metrics: Metrics, limit: int, slow_s: float) -> None:
        self.ws = ws
        self.metrics = metrics
        self.limit = limit
        self.slow_s = slow_s
        self.full_since: float | None = None
        self.dropped = False

    @property
    def open(self) -> bool:
        return not self.dropped and self.ws.protocol.state is State.OPEN

    def buffered(self) -> int:
        transport = self.ws.transport
        return int(transport.get_write_buffer_size()) if transport is not None else 0

    def send(self, msg: dict[str, Any]) -> bool:
        """Encode and write a message that must arrive (chat, enter, leave, ...)."""
        return self.write(encode(msg), droppable=False)

    def write(self, payload: bytes, droppable: bool = False, now: float = 0.0) -> bool:
        """Write one binary message now. Returns False if it was not written.

        ``droppable`` payloads (state frames) are skipped while the buffer is
        full, and the client is dropped once it has been full for ``slow_s``
        (``now`` is the caller's monotonic clock); others are written unless
        that would exceed the hard cap.
        """
        if not self.open:
            return False
        buffered = self.buffered()
        if buffered > self.limit:
            if self.full_since is None:
                self.full_since = now
            if droppable:
                self.metrics.frames_skipped += 1
                if now - self.full_since > self.slow_s:
                    self.drop("slow consumer")
                return False
            if buffered + len(payload) > 4 * self.limit:
                self.drop("send buffer overflow")
                return False
        else:
            self.full_since = None
        self.ws.protocol.send_binary(payload)
        self.ws.send_data()
        self.metrics.messages_out += 1
        self.metrics.bytes_out += len(payload)
        return True

    def drop(self, reason: str) -> None:
        """Close with 4003 and abort: a slow consumer gets no more of our memory."""
        if self.dropped:
            return
        self.dropped = True
        self.metrics.closes[int(CloseCode.SLOW_CONSUMER)] += 1
        log.info("dropping client: %s", reason)
        try:
            if self.ws.protocol.state is State.OPEN:
                self.ws.protocol.send_close(int(CloseCode.SLOW_CONSUMER), reason)
                self.ws.send_data()
        finally:
            if self.ws.transport is not None:
                self.ws.transport.abort()


def broadcast(links: Iterable[ClientLink | None], msg: dict[str, Any] | bytes) -> int:
    """Encode ``msg`` once and write the same bytes to every link; returns how many took it."""
    payload = msg if isinstance(msg, bytes) else encode(msg)
    return sum(1 for link in links if link is not None and link.write(payload))
