"""Bad input gets a clear error or a specific close; other clients never notice."""

from __future__ import annotations

import asyncio
import math
import socket
from pathlib import Path
from typing import Any

import msgpack
import pytest

from agents.client import AgentClient
from protocol.catalogue import MAX_MESSAGE_BYTES, PROTOCOL_VERSION
from protocol.codec import encode
from tests.server.harness import running_server, ws_url

BAD_MESSAGES: list[tuple[str, bytes | str, str]] = [
    ("not msgpack", b"\xc1\xff\x00", "bad_msgpack"),
    ("truncated", encode({"t": "chat", "scope": "near", "text": "hi"})[:-1], "bad_msgpack"),
    ("a list", msgpack.packb([1, 2, 3]), "not_a_message"),
    ("text frame", "hello", "not_a_message"),
    ("no type", msgpack.packb({"x": 1}), "not_a_message"),
    ("unknown type", msgpack.packb({"t": "fly"}), "unknown_type"),
    ("missing field", msgpack.packb({"t": "chat", "scope": "near"}), "missing_field"),
    ("unknown field", msgpack.packb({"t": "ping", "n": 1, "evil": 1}), "unknown_field"),
    ("wrong type", msgpack.packb({"t": "ping", "n": "one"}), "bad_field"),
    ("bool for int", msgpack.packb({"t": "ping", "n": True}), "bad_field"),
    ("bad enum", msgpack.packb({"t": "chat", "scope": "all", "text": "x"}), "bad_field"),
    ("huge string", msgpack.packb({"t": "chat", "scope": "zone", "text": "x" * 5000}), "too_long"),
    (
        "huge array",
        msgpack.packb({"t": "chat", "scope": list(range(3000)), "text": "x"}),
        "bad_field",
    ),
    (
        "NaN",
        msgpack.packb({"t": "move", "seq": 1, "x": math.nan, "z": 0.0, "yaw": 0.0}),
        "not_finite",
    ),
    (
        "inf",
        msgpack.packb({"t": "move", "seq": 1, "x": 0.0, "z": math.inf, "yaw": 0.0}),
        "not_finite",
    ),
    (
        "out of range",
        msgpack.packb({"t": "move", "seq": -1, "x": 0.0, "z": 0.0, "yaw": 0.0}),
        "out_of_range",
    ),
    ("second hello", encode({"t": "hello", "v": PROTOCOL_VERSION}), "bad_state"),
    ("nested bomb", msgpack.packb({"t": "ping", "n": [[[[[[1]]]]]]}), "bad_field"),
]


async def _observer_keeps_receiving(observer: AgentClient, during: Any) -> None:
    before = observer.stats.frames
    await during
    # nothing may move: frames still come, a heartbeat at least once a second
    await observer.wait_for(lambda: observer.stats.frames >= before + 3, timeout=10)
    assert observer.closed is not None and not observer.closed.done()


@pytest.mark.parametrize(("case", "data", "code"), BAD_MESSAGES, ids=[c[0] for c in BAD_MESSAGES])
async def test_bad_message_gets_error_code(
    tmp_path: Path, case: str, data: bytes | str, code: str
) -> None:
    async with (
        running_server(tmp_path) as sp,
        AgentClient(ws_url(sp), name="Mallory") as mallory,
        AgentClient(ws_url(sp), name="Olga") as olga,
    ):

        async def abuse() -> None:
            await mallory.send_raw(data)
            err = await mallory.expect("error")
            assert err["code"] == code, err
            assert len(err["msg"]) > 10  # a sentence a person can read
            await mallory.send({"t": "ping", "n": 1})
            await mallory.expect("pong", n=1)  # the connection stays usable

        await _observer_keeps_receiving(olga, abuse())
        assert sp.metrics.errors[code] >= 1


async def test_acting_before_join_is_refused(tmp_path: Path) -> None:
    async with running_server(tmp_path) as sp:
        client = AgentClient(ws_url(sp), name="Early", join=False)
        await client.connect()
        await client.send({"t": "move", "seq": 1, "x": 0.0, "z": 0.0, "yaw": 0.0})
        err = await client.expect("error")
        assert err["code"] == "bad_state" and "join" in err["msg"]
        await client.join()
        await client.close()


async def test_wrong_version_closes(tmp_path: Path) -> None:
    async with running_server(tmp_path) as sp:
        client = AgentClient(ws_url(sp), name="Old", join=False)
        await client.connect_raw()
        await client.send({"t": "hello", "v": PROTOCOL_VERSION + 1})
        err = await client.expect("error")
        assert err["code"] == "bad_version"
        assert (await client.wait_closed())[0] == 4000


async def test_oversized_frame_closes_1009(tmp_path: Path) -> None:
    async with (
        running_server(tmp_path) as sp,
        AgentClient(ws_url(sp), name="Mallory") as mallory,
        AgentClient(ws_url(sp), name="Olga") as olga,
    ):

        async def abuse() -> None:
            await mallory.send_raw(b"\x00" * (MAX_MESSAGE_BYTES + 1))
            assert (await mallory.wait_closed())[0] == 1009

        await _observer_keeps_receiving(olga, abuse())


async def test_flood_is_rate_limited_then_closed(tmp_path: Path) -> None:
    async with (
        running_server(tmp_path) as sp,
        AgentClient(ws_url(sp), name="Mallory") as mallory,
        AgentClient(ws_url(sp), name="Olga") as olga,
    ):

        async def abuse() -> None:
            ping = encode({"t": "ping", "n": 1})
            for _ in range(2000):
                if mallory.closed is not None and mallory.closed.done():
                    break
                await mallory.send_raw(ping)
            code, _ = await mallory.wait_closed()
            assert code == 4008
            assert any(e["code"] == "rate_limited" for e in mallory.stats.errors)

        await _observer_keeps_receiving(olga, abuse())
        assert sp.metrics.closes[4008] == 1


async def test_stream_of_errors_closes(tmp_path: Path) -> None:
    async with running_server(tmp_path) as sp, AgentClient(ws_url(sp), name="M") as mallory:
        for _ in range(sp.config.max_errors + 1):
            await mallory.send_raw(b"\xc1")
        assert (await mallory.wait_closed())[0] == 4002


async def test_no_hello_in_time_closes(tmp_path: Path) -> None:
    async with running_server(tmp_path, hello_timeout_s=0.5) as sp:
        client = AgentClient(ws_url(sp), name="Silent")
        await client.connect_raw()
        assert (await client.wait_closed())[0] == 4001


async def test_slow_consumer_is_dropped_with_bounded_memory(tmp_path: Path) -> None:
    async with running_server(
        tmp_path, send_buffer_limit=8192, slow_consumer_s=0.5, tcp_send_buffer=4096
    ) as sp:
        crowd = [AgentClient(ws_url(sp), name=f"C{i}") for i in range(30)]
        for c in crowd:
            await c.connect()
        # A client that stops reading: a tiny receive buffer and no reads.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
        sock.connect(("127.0.0.1", sp.port))
        slow = AgentClient(ws_url(sp), name="Slow")
        await slow.connect_raw(sock=sock, max_queue=1)
        await slow.send({"t": "hello", "v": PROTOCOL_VERSION})
        await slow.send({"t": "join", "name": "Slow"})
        slow.pause_reading()
        for _ in range(100):
            for c in crowd[:10]:
                await c.chat("x" * 400, scope="zone")
            await asyncio.sleep(0.05)
            if sp.metrics.closes[4003]:
                break
        assert sp.metrics.closes[4003] == 1
        assert all(not c.closed.done() for c in crowd if c.closed is not None)
        assert max(c.link.buffered() for c in sp.connections) <= 4 * 8192
        # Reading again (within slow_consumer_close_s): what was buffered, then the
        # documented close code, not an abort (1006).
        slow.resume_reading()
        code, reason = await slow.wait_closed()
        assert code == 4003, (code, reason)
        for c in crowd:
            await c.close()
