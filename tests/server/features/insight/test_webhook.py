"""The alert webhook against a real HTTP receiver on 127.0.0.1 (no wall-clock assertions:
events, polling on counters and the per-test timeout)."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import socket
from collections.abc import AsyncIterator

import pytest

from server.features.insight.webhook import Webhook
from server.tasks import Tasks

pytestmark = pytest.mark.timeout(30)


class Receiver:
    """A minimal HTTP/1.1 server: answers each POST with the next status of ``script``
    (then 200), one request per connection."""

    def __init__(self, script: list[int] | None = None) -> None:
        self.script = list(script or [])
        self.requests: list[tuple[int, bytes]] = []  # (status answered, body)
        self.got = asyncio.Event()
        self.server: asyncio.Server | None = None

    @property
    def accepted(self) -> list[dict[str, object]]:
        return [json.loads(body) for status, body in self.requests if status == 200]

    async def start(self, port: int = 0) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", port)
        return int(self.server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.decode("latin-1").split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            body = await reader.readexactly(length)
            status = self.script.pop(0) if self.script else 200
            self.requests.append((status, body))
            reason = {200: "OK", 503: "Service Unavailable", 400: "Bad Request"}.get(status, "X")
            writer.write(
                f"HTTP/1.1 {status} {reason}\r\nContent-Length: 0\r\n"
                "Connection: close\r\n\r\n".encode("latin-1")
            )
            await writer.drain()
            self.got.set()
        finally:
            writer.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def tasks() -> AsyncIterator[Tasks]:
    t = Tasks()
    yield t
    await t.close()


async def until(condition: object) -> None:
    assert callable(condition)
    while not condition():
        await asyncio.sleep(0.005)


def fast(url: str, tasks: Tasks, max_attempts: int = 8, max_queue: int = 100) -> Webhook:
    return Webhook(
        url,
        tasks,
        max_queue=max_queue,
        max_attempts=max_attempts,
        backoff=0.01,
        max_backoff=0.05,
        rng=random.Random(1),
    )


async def test_retries_while_the_receiver_is_down_then_delivers_once(
    tasks: Tasks, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="server.features.insight.webhook")
    port = free_port()  # closed: connections are refused
    hook = fast(f"http://alice:s3cret@127.0.0.1:{port}/hook?token=abc123", tasks, max_attempts=1000)
    payload = {"version": "4", "groupKey": '{}:{rule="long-queue"}', "status": "firing"}
    hook.send(payload)
    await until(lambda: hook.retried >= 2)
    assert hook.delivered == 0 and hook.failed == 0
    # the receiver comes up, but answers 503 twice before it takes the payload
    receiver = Receiver(script=[503, 503])
    await receiver.start(port)
    try:
        await until(lambda: hook.delivered == 1)
        await hook.drain()
        assert [status for status, _ in receiver.requests] == [503, 503, 200]
        assert receiver.accepted == [payload]
        assert hook.retried >= 4 and hook.failed == 0 and hook.dropped == 0
        await hook.close()
        assert len(receiver.accepted) == 1  # exactly once
    finally:
        await receiver.stop()
    text = caplog.text
    assert "delivered" in text and "retrying" in text
    assert f"127.0.0.1:{port}" in text
    assert "s3cret" not in text and "abc123" not in text and "/hook" not in text
    assert "s3cret" not in repr(hook)


async def test_gives_up_after_max_attempts_and_at_once_on_a_4xx(tasks: Tasks) -> None:
    receiver = Receiver(script=[503, 503, 503, 400])
    port = await receiver.start()
    try:
        hook = fast(f"http://127.0.0.1:{port}/", tasks, max_attempts=3)
        hook.send({"groupKey": "a"})
        await until(lambda: hook.failed == 1)
        assert hook.retried == 2 and hook.delivered == 0
        hook.send({"groupKey": "b"})  # refused with 400: no retry
        await until(lambda: hook.failed == 2)
        assert hook.retried == 2
        hook.send({"groupKey": "c"})
        await until(lambda: hook.delivered == 1)
        assert receiver.accepted == [{"groupKey": "c"}]
        await hook.close()
    finally:
        await receiver.stop()


async def test_the_bounded_queue_drops_the_oldest(tasks: Tasks) -> None:
    receiver = Receiver()
    port = await receiver.start()
    try:
        hook = fast(f"http://127.0.0.1:{port}/", tasks, max_queue=3)
        for n in range(1, 6):  # the sender has not run yet: all five wait
            hook.send({"groupKey": str(n)})
        assert hook.dropped == 2 and hook.queued == 3
        await until(lambda: hook.delivered == 3)
        await hook.drain()
        assert [p["groupKey"] for p in receiver.accepted] == ["3", "4", "5"]
        await hook.close()
        assert hook.dropped == 2
    finally:
        await receiver.stop()


async def test_close_counts_what_is_left_and_refuses_more(tasks: Tasks) -> None:
    hook = fast(f"http://127.0.0.1:{free_port()}/", tasks, max_attempts=1000)
    hook.send({"groupKey": "1"})
    hook.send({"groupKey": "2"})
    await until(lambda: hook.retried >= 1)  # "1" in flight, "2" waiting
    await hook.close()
    assert hook.dropped == 2 and hook.delivered == 0
    hook.send({"groupKey": "3"})
    assert hook.dropped == 3 and hook.queued == 0


def test_backoff_is_exponential_with_jitter_and_capped() -> None:
    hook = Webhook(
        "http://127.0.0.1:9/", Tasks(), backoff=1.0, max_backoff=8.0, rng=random.Random(7)
    )
    for attempt, full in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (9, 8.0)]:
        delays = {hook._delay(attempt, None) for _ in range(20)}
        assert all(full / 2 <= d <= full for d in delays) and len(delays) > 1
    assert hook._delay(1, 5.0) >= 5.0 and hook._delay(1, 99.0) <= 8.0  # Retry-After, capped


def test_only_http_urls() -> None:
    for url in ("ftp://example.org/", "example.org/hook", "http:///nohost"):
        with pytest.raises(ValueError):
            Webhook(url, Tasks())
