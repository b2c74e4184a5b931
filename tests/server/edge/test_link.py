"""`ClientLink`'s slow-consumer policy, directly: skip, drop, bounded memory, close 4003."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from websockets.frames import Frame, Opcode
from websockets.protocol import State

from server.edge.link import ClientLink, broadcast, frame_header
from server.metrics import Metrics


class FakeTransport:
    def __init__(self) -> None:
        self.buffer = 0
        self.aborted = False
        self.writes = 0  # writelines calls: one system call each
        self.framed: list[bytes] = []

    def get_write_buffer_size(self) -> int:
        return self.buffer

    def abort(self) -> None:
        self.aborted = True

    def writelines(self, chunks: list[bytes]) -> None:
        """Frames written here (`frame_header` then payload) are kept, unframed."""
        self.writes += 1
        self.buffer += sum(len(c) for c in chunks)
        self.framed += chunks[1::2]


class FakeProtocol:
    def __init__(self, transport: FakeTransport) -> None:
        self.state = State.OPEN
        self.transport = transport
        self.sent: list[bytes] = []
        self.close_code: int | None = None
        self.extensions: list[Any] = []

    def send_binary(self, payload: bytes) -> None:
        self.sent.append(payload)
        self.transport.buffer += len(payload)

    def data_to_send(self) -> list[bytes]:
        return []

    def send_close(self, code: int, reason: str) -> None:
        self.close_code = code
        self.state = State.CLOSING


class FakeWs:
    def __init__(self) -> None:
        self.transport = FakeTransport()
        self.protocol = FakeProtocol(self.transport)

    def send_data(self) -> None:
        pass


def link(limit: int = 1000, slow_s: float = 2.0, close_s: float = 0.05) -> tuple[ClientLink, Any]:
    ws = FakeWs()
    return ClientLink(ws, Metrics(), limit, slow_s, close_s), ws  # type: ignore[arg-type]


async def test_frames_are_skipped_while_the_buffer_is_full_and_others_still_go() -> None:
    lk, ws = link()
    assert lk.write(b"x" * 900, droppable=True, now=0.0)
    assert lk.write(b"y" * 200, droppable=True, now=0.1)  # 900 <= limit: still written
    assert not lk.write(b"f" * 10, droppable=True, now=0.2)  # 1100 > limit: a frame is skipped
    assert lk.metrics.frames_skipped == 1
    assert lk.send({"t": "chat"})  # a message that must arrive still goes
    ws.transport.buffer = 0  # the client read everything
    assert lk.write(b"f", droppable=True, now=0.3) and lk.full_since is None


async def test_a_client_full_for_slow_s_is_dropped_with_4003_queued_then_aborted() -> None:
    lk, ws = link(slow_s=1.0)
    ws.transport.buffer = 5000
    assert not lk.write(b"f", droppable=True, now=10.0)
    assert not lk.dropped
    assert not lk.write(b"f", droppable=True, now=11.5)
    assert lk.dropped and ws.protocol.close_code == 4003
    assert lk.metrics.closes[4003] == 1
    assert not ws.transport.aborted  # the close frame waits behind the buffer
    sent = len(ws.protocol.sent)
    assert not lk.send({"t": "chat"}) and len(ws.protocol.sent) == sent  # nothing more
    await asyncio.sleep(0.1)
    assert ws.transport.aborted  # never read within close_s: aborted


async def test_a_write_past_four_times_the_limit_drops_at_once() -> None:
    lk, ws = link(limit=1000)
    ws.transport.buffer = 3500
    assert not lk.write(b"z" * 600, now=0.0)
    assert lk.dropped and ws.protocol.close_code == 4003
    assert ws.transport.buffer <= 4 * 1000


async def test_broadcast_encodes_once_and_skips_absent_links() -> None:
    a, wa = link()
    b, wb = link()
    assert broadcast([a, None, b], {"t": "announce", "text": "hi"}) == 2
    assert wa.protocol.sent == wb.protocol.sent


async def test_a_message_sent_while_full_does_not_start_the_slow_clock_at_zero() -> None:
    """Regression: send() has no clock; it must not make the next frame look 'full for ages'."""
    lk, ws = link(limit=1000, slow_s=2.0)
    ws.transport.buffer = 1500
    assert lk.send({"t": "chat"})  # must arrive; written under the hard cap
    assert not lk.write(b"f", droppable=True, now=5000.0)  # first full frame: skipped
    assert not lk.dropped
    assert not lk.write(b"f", droppable=True, now=5001.0)
    assert not lk.dropped
    assert not lk.write(b"f", droppable=True, now=5002.5)  # full for 2.5 s > slow_s
    assert lk.dropped


async def test_a_tick_write_is_one_system_call_and_skips_only_the_frame_while_full() -> None:
    lk, ws = link(limit=1000, slow_s=1.0)
    assert lk.write_tick([b"leave", b"enter"], b"frame", now=0.0, extra=b"audio")
    assert ws.transport.framed == [b"leave", b"enter", b"frame", b"audio"]
    assert ws.transport.writes == 1
    assert lk.metrics.messages_out == 4
    ws.transport.buffer = 1500  # over the limit
    # The enter must arrive; the frame and its rider are skipped together.
    assert not lk.write_tick([b"enter2"], b"frame2", now=1.0, extra=b"audio2")
    assert ws.transport.framed[-1] == b"enter2" and lk.metrics.frames_skipped == 1
    assert not lk.dropped
    assert not lk.write_tick([], b"frame3", now=2.5)  # full for 1.5 s > slow_s
    assert lk.dropped and ws.protocol.close_code == 4003
    sent = len(ws.transport.framed)
    assert not lk.write_tick([b"enter3"], b"frame4", now=3.0)  # nothing more once dropped
    assert len(ws.transport.framed) == sent


async def test_a_tick_write_past_four_times_the_limit_drops_at_once() -> None:
    lk, ws = link(limit=1000)
    ws.transport.buffer = 900
    enters = [b"e" * 1000] * 3  # must arrive, but 900 + 3000 + headers passes the cap
    assert not lk.write_tick(enters, None, now=0.0)
    assert lk.dropped and ws.protocol.close_code == 4003
    assert ws.transport.buffer <= 4 * 1000


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65535, 65536, 70000])
def test_frame_header_is_what_websockets_writes_for_a_server(size: int) -> None:
    payload = bytes(size)
    wire = Frame(Opcode.BINARY, payload).serialize(mask=False, extensions=[])
    assert frame_header(size) + payload == wire
