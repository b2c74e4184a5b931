"""One contract for every store backend: the in-memory one, the embedded Redis and
a Redis reached by URL must behave alike (as colyseus runs one suite over
LocalPresence and RedisPresence).

The backends are started once per module; each test works in a fresh
namespace, so tests stay independent of each other and of test order.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from server.store import Keyspace, MemoryStore, Store, Subscription, open_store

pytestmark = pytest.mark.asyncio(loop_scope="module")

TTL = 0.2  # a short expiry, in seconds
SLACK = 0.15  # how much later than due an expired key may still be seen as gone


class FakeClock:
    """A monotonic clock that only moves when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Backend:
    name: str
    store: Store
    wait: Callable[[float], Awaitable[None]]  # let that many seconds pass for expiry


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=["memory", "embedded", "url"])
async def backend(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Backend]:
    name: str = request.param
    store: Store
    if name == "memory":
        clock = FakeClock()

        async def advance(seconds: float) -> None:
            clock.now += seconds
            await asyncio.sleep(0)

        store, wait = MemoryStore(clock=clock), advance
    else:
        url = request.getfixturevalue("external_redis_url") if name == "url" else None
        data_dir: Path = tmp_path_factory.mktemp(f"store-{name}")

        async def sleep(seconds: float) -> None:
            await asyncio.sleep(seconds)

        store, wait = await open_store(url, data_dir), sleep
    try:
        yield Backend(name, store, wait)
    finally:
        await store.close()


@pytest.fixture
def ks(backend: Backend) -> Keyspace:
    """A namespace no other test uses."""
    return backend.store.keyspace("t" + uuid.uuid4().hex)


@pytest.fixture
def store(backend: Backend) -> Store:
    return backend.store


# -- the store ------------------------------------------------------------


async def test_ping_answers(store: Store) -> None:
    assert await store.ping() is True


@pytest.mark.parametrize("bad", ["", "Chat", "a-b", "a:b", "a b", "ä", "a*"])
async def test_invalid_namespaces_are_refused(store: Store, bad: str) -> None:
    with pytest.raises(ValueError):
        store.keyspace(bad)


async def test_namespaces_are_isolated(store: Store) -> None:
    tag = uuid.uuid4().hex
    a, b = store.keyspace("a" + tag), store.keyspace("b" + tag)
    assert a.namespace == "a" + tag
    await a.set("k", b"in a")
    await b.set("k", b"in b")
    await a.push("l", b"1")
    assert await a.get("k") == b"in a"
    assert await b.get("k") == b"in b"
    assert await b.slice("l") == []
    assert await b.delete("k", "l") == 1
    assert await a.get("k") == b"in a"
    assert sorted(await a.scan()) == ["k", "l"]
    assert await b.scan() == []


async def test_a_burst_of_more_commands_than_connections_all_land(ks: Keyspace) -> None:
    """Hundreds of people joining at once each save a record: the Redis backends queue
    for a free connection (redis-py's default pool refused the 101st command)."""
    burst = 500
    await asyncio.gather(*(ks.set(f"k{i}", str(i).encode()) for i in range(burst)))
    counts = await asyncio.gather(*(ks.incr("n") for _ in range(burst)))
    assert sorted(counts) == list(range(1, burst + 1))
    assert await ks.get(f"k{burst - 1}") == str(burst - 1).encode()


async def test_compact_completes(store: Store, ks: Keyspace) -> None:
    await ks.set("k", b"v")
    await store.compact()
    assert await ks.get("k") == b"v"


# -- key/value ------------------------------------------------------------


async def test_set_get_and_replace(ks: Keyspace) -> None:
    assert await ks.get("k") is None
    assert await ks.set("k", b"\x00\xffbinary") is True
    assert await ks.get("k") == b"\x00\xffbinary"
    assert await ks.set("k", b"") is True
    assert await ks.get("k") == b""


async def test_only_new_sets_once(ks: Keyspace) -> None:
    assert await ks.set("lock", b"first", only_new=True) is True
    assert await ks.set("lock", b"second", only_new=True) is False
    assert await ks.get("lock") == b"first"
    await ks.delete("lock")
    assert await ks.set("lock", b"third", ttl_s=60, only_new=True) is True
    assert await ks.get("lock") == b"third"


async def test_a_ttl_expires_the_key(backend: Backend, ks: Keyspace) -> None:
    await ks.set("short", b"v", ttl_s=TTL)
    await ks.set("long", b"v", ttl_s=60)
    left = await ks.ttl("short")
    assert left is not None and 0 < left <= TTL
    await backend.wait(TTL + SLACK)
    assert await ks.get("short") is None
    assert await ks.take("short") is None
    with pytest.raises(KeyError):
        await ks.ttl("short")
    assert await ks.scan() == ["long"]
    assert await ks.set("short", b"again", only_new=True) is True  # expired counts as absent


async def test_set_replaces_the_expiry(ks: Keyspace) -> None:
    await ks.set("k", b"v", ttl_s=60)
    await ks.set("k", b"w")
    assert await ks.ttl("k") is None


@pytest.mark.parametrize("bad", [0, -1])
async def test_set_refuses_a_non_positive_ttl(ks: Keyspace, bad: float) -> None:
    with pytest.raises(ValueError):
        await ks.set("k", b"v", ttl_s=bad)
    assert await ks.get("k") is None


async def test_expire_and_ttl(backend: Backend, ks: Keyspace) -> None:
    assert await ks.expire("missing", 10) is False
    with pytest.raises(KeyError):
        await ks.ttl("missing")
    await ks.set("k", b"v")
    assert await ks.ttl("k") is None
    assert await ks.expire("k", 30) is True
    left = await ks.ttl("k")
    assert left is not None and 29 < left <= 30
    await ks.push("list", b"x")
    assert await ks.expire("list", TTL) is True  # any kind of key
    await backend.wait(TTL + SLACK)
    assert await ks.slice("list") == []
    assert await ks.expire("k", 0) is True  # now: gone
    assert await ks.get("k") is None


async def test_take_is_once_only(ks: Keyspace) -> None:
    await ks.set("token", b"resume me")
    assert await ks.take("token") == b"resume me"
    assert await ks.take("token") is None
    assert await ks.get("token") is None
    await ks.set("token", b"again")
    got = await asyncio.gather(*(ks.take("token") for _ in range(20)))
    assert [g for g in got if g is not None] == [b"again"]


async def test_delete_counts_what_existed(ks: Keyspace) -> None:
    await ks.set("s", b"v")
    await ks.push("l", b"v")
    await ks.hset("h", {"f": b"v"})
    await ks.append("x", {"f": "v"})
    assert await ks.delete() == 0
    assert await ks.delete("s", "l", "h", "x", "nope") == 4
    assert await ks.scan() == []


async def test_scan_matches_redis_globs(ks: Keyspace) -> None:
    for key in ["a:1", "a:2", "a:10", "b:1", "star*", "stars", "q[x]"]:
        await ks.set(key, b"v")
    await ks.push("a:list", b"v")
    assert sorted(await ks.scan()) == sorted(
        ["a:1", "a:2", "a:10", "b:1", "star*", "stars", "q[x]", "a:list"]
    )
    assert sorted(await ks.scan("a:*")) == ["a:1", "a:10", "a:2", "a:list"]
    assert sorted(await ks.scan("?:1")) == ["a:1", "b:1"]
    assert sorted(await ks.scan("a:[12]")) == ["a:1", "a:2"]
    assert sorted(await ks.scan("a:[^1]")) == ["a:2"]
    assert sorted(await ks.scan("a:[0-9]*")) == ["a:1", "a:10", "a:2"]
    assert await ks.scan("star\\*") == ["star*"]
    assert await ks.scan("q\\[x\\]") == ["q[x]"]
    assert await ks.scan("nothing*") == []


# -- counters -------------------------------------------------------------


async def test_incr_counts(ks: Keyspace) -> None:
    assert await ks.incr("n") == 1
    assert await ks.incr("n") == 2
    assert await ks.incr("n", 5) == 7
    assert await ks.incr("n", -10) == -3
    assert await ks.get("n") == b"-3"
    await ks.set("m", b"10")
    assert await ks.incr("m") == 11


async def test_incr_keeps_the_expiry(ks: Keyspace) -> None:
    await ks.set("n", b"1", ttl_s=60)
    assert await ks.incr("n") == 2
    assert await ks.ttl("n") is not None


@pytest.mark.parametrize("bad", [b"abc", b"1.5", b" 1", b"01", b"", b"99999999999999999999"])
async def test_incr_refuses_a_non_integer(ks: Keyspace, bad: bytes) -> None:
    await ks.set("n", bad)
    with pytest.raises(ValueError):
        await ks.incr("n")
    assert await ks.get("n") == bad


# -- lists ----------------------------------------------------------------


async def test_push_and_slice(ks: Keyspace) -> None:
    assert await ks.push("l", b"a") == 1
    assert await ks.push("l", b"b", b"c", b"d") == 4
    assert await ks.slice("l") == [b"a", b"b", b"c", b"d"]
    assert await ks.slice("l", 1, 2) == [b"b", b"c"]
    assert await ks.slice("l", -2) == [b"c", b"d"]
    assert await ks.slice("l", -2, -2) == [b"c"]
    assert await ks.slice("l", 0, -3) == [b"a", b"b"]
    assert await ks.slice("l", -100, 100) == [b"a", b"b", b"c", b"d"]
    assert await ks.slice("l", 3, 1) == []
    assert await ks.slice("l", 10) == []
    assert await ks.slice("missing") == []


async def test_push_keeps_only_the_last(ks: Keyspace) -> None:
    for i in range(5):
        assert await ks.push("chat", str(i).encode(), keep=3) == min(i + 1, 3)
    assert await ks.slice("chat") == [b"2", b"3", b"4"]
    assert await ks.push("chat", b"5", b"6", b"7", b"8", keep=2) == 2
    assert await ks.slice("chat") == [b"7", b"8"]


async def test_push_refuses_bad_arguments(ks: Keyspace) -> None:
    with pytest.raises(ValueError):
        await ks.push("l")
    with pytest.raises(ValueError):
        await ks.push("l", b"x", keep=0)
    assert await ks.slice("l") == []


async def test_using_a_key_as_the_wrong_kind_is_a_type_error(ks: Keyspace) -> None:
    await ks.set("s", b"v")
    await ks.push("l", b"v")
    with pytest.raises(TypeError):
        await ks.push("s", b"x")
    with pytest.raises(TypeError):
        await ks.get("l")
    with pytest.raises(TypeError):
        await ks.hget("l", "f")
    with pytest.raises(TypeError):
        await ks.zadd("l", {"m": 1})
    with pytest.raises(TypeError):
        await ks.append("l", {"f": "v"})
    with pytest.raises(TypeError):
        await ks.incr("l")
    assert await ks.get("s") == b"v"


# -- streams --------------------------------------------------------------


def _id(entry_id: str) -> tuple[int, int]:
    ms, seq = entry_id.split("-")
    return int(ms), int(seq)


async def test_stream_append_and_read(ks: Keyspace) -> None:
    ids = [await ks.append("log", {"n": str(i), "kind": "x"}) for i in range(30)]
    assert [_id(i) for i in ids] == sorted({_id(i) for i in ids})  # strictly increasing
    entries = await ks.read("log")
    assert [e[0] for e in entries] == ids
    assert entries[3][1] == {"n": "3", "kind": "x"}
    assert [e[0] for e in await ks.read("log", after=ids[27])] == ids[28:]
    assert [e[0] for e in await ks.read("log", after=ids[5], count=2)] == ids[6:8]
    assert await ks.read("log", after=ids[-1]) == []
    assert await ks.read("log", count=1) == entries[:1]
    assert await ks.read("missing") == []
    assert await ks.length("log") == 30
    assert await ks.length("missing") == 0


async def test_stream_tail(ks: Keyspace) -> None:
    ids = [await ks.append("log", {"n": str(i)}) for i in range(5)]
    assert [e[0] for e in await ks.tail("log", 2)] == ids[3:]
    assert [e[1]["n"] for e in await ks.tail("log", 99)] == ["0", "1", "2", "3", "4"]
    assert await ks.tail("log", 0) == []
    assert await ks.tail("missing", 3) == []


async def test_stream_trim_deletes_entries_and_ids_keep_increasing(ks: Keyspace) -> None:
    ids = [await ks.append("log", {"n": str(i)}) for i in range(5)]
    await ks.expire("log", 60)
    assert await ks.trim("log", [ids[1], ids[4], ids[1]]) == 2
    assert await ks.trim("log", [ids[1]]) == 0
    assert await ks.trim("log", []) == 0
    assert await ks.trim("missing", [ids[0]]) == 0
    assert [e[0] for e in await ks.read("log")] == [ids[0], ids[2], ids[3]]
    assert await ks.length("log") == 3
    assert await ks.ttl("log") is not None  # the expiry survives
    later = await ks.append("log", {"n": "5"})
    assert _id(later) > _id(ids[4])  # past the deleted last entry
    assert await ks.trim("log", [ids[0], ids[2], ids[3], later]) == 4
    assert await ks.length("log") == 0
    assert _id(await ks.append("log", {"n": "6"})) > _id(later)


async def test_stream_refuses_bad_arguments(ks: Keyspace) -> None:
    with pytest.raises(ValueError):
        await ks.append("log", {})
    entry = await ks.append("log", {"n": "1"})
    for bad in ["nope", "1-2-3", "-1", ""]:
        with pytest.raises(ValueError):
            await ks.read("log", after=bad)
        with pytest.raises(ValueError):
            await ks.trim("log", [bad])
    with pytest.raises(ValueError):
        await ks.read("log", count=0)
    with pytest.raises(ValueError):
        await ks.tail("log", -1)
    assert [e[0] for e in await ks.read("log", after="0")] == [entry]
    assert await ks.read("log", after="18446744073709551615-18446744073709551615") == []


# -- sorted sets ----------------------------------------------------------


async def test_zsets_order_by_score_then_member(ks: Keyspace) -> None:
    assert await ks.zadd("z", {"carol": 2, "bob": 1, "alice": 1, "dave": 3.5}) == 4
    assert await ks.zadd("z", {"dave": 0.5, "erin": 2}) == 1  # dave only updated
    assert await ks.zadd("z", {}) == 0
    assert await ks.zrange("z") == [
        ("dave", 0.5),
        ("alice", 1.0),
        ("bob", 1.0),
        ("carol", 2.0),
        ("erin", 2.0),
    ]
    assert await ks.zrange("z", desc=True) == [
        ("erin", 2.0),
        ("carol", 2.0),
        ("bob", 1.0),
        ("alice", 1.0),
        ("dave", 0.5),
    ]
    assert await ks.zrange("z", 0, 1) == [("dave", 0.5), ("alice", 1.0)]
    assert await ks.zrange("z", -2) == [("carol", 2.0), ("erin", 2.0)]
    assert await ks.zrange("z", 0, 0, desc=True) == [("erin", 2.0)]
    assert await ks.zrange("z", 5) == []
    assert await ks.zrange("missing") == []


async def test_zincr_zscore_zrem(ks: Keyspace) -> None:
    assert await ks.zincr("z", "ada", 1.5) == 1.5
    assert await ks.zincr("z", "ada", -0.25) == 1.25
    assert await ks.zscore("z", "ada") == 1.25
    assert await ks.zscore("z", "nobody") is None
    assert await ks.zscore("missing", "ada") is None
    await ks.zadd("z", {"bob": 0.1})
    assert await ks.zrem("z", "bob", "nobody") == 1
    assert await ks.zrem("z") == 0
    assert await ks.zrange("z") == [("ada", 1.25)]
    assert await ks.zrem("z", "ada") == 1
    assert await ks.scan() == []  # an emptied set is gone


async def test_zsets_refuse_nan(ks: Keyspace) -> None:
    with pytest.raises(ValueError):
        await ks.zadd("z", {"m": float("nan")})
    await ks.zadd("z", {"m": float("inf")})
    with pytest.raises(ValueError):
        await ks.zincr("z", "m", float("-inf"))
    assert await ks.zscore("z", "m") == float("inf")


# -- hashes ---------------------------------------------------------------


async def test_hashes(ks: Keyspace) -> None:
    assert await ks.hset("h", {"name": b"Ada", "desk": b"3"}) == 2
    assert await ks.hset("h", {"desk": b"4", "zone": b"hall"}) == 1
    assert await ks.hset("h", {}) == 0
    assert await ks.hget("h", "desk") == b"4"
    assert await ks.hget("h", "nope") is None
    assert await ks.hget("missing", "desk") is None
    assert await ks.hgetall("h") == {"name": b"Ada", "desk": b"4", "zone": b"hall"}
    assert await ks.hgetall("missing") == {}
    assert await ks.hdel("h", "name", "nope") == 1
    assert await ks.hdel("h") == 0
    assert await ks.hdel("h", "desk", "zone") == 2
    assert await ks.scan() == []  # an emptied hash is gone


async def test_versioned_hash_writes_compare_and_set_all_or_nothing(ks: Keyspace) -> None:
    # Never written: version 0.
    assert await ks.hset_versioned("posts", "ver", {"1": b"a", "2": b"b"}, {}) == {"1": 1, "2": 1}
    assert await ks.hgetall("posts") == {"1": b"a", "2": b"b"}
    # A writer that read version 1 of both writes both.
    assert await ks.hset_versioned("posts", "ver", {"1": b"a2"}, {"1": 1}) == {"1": 2}
    # A stale writer (it read 1 of "1") writes nothing, not even the field that matched.
    assert await ks.hset_versioned("posts", "ver", {"1": b"x", "2": b"y"}, {"1": 1, "2": 1}) is None
    assert await ks.hgetall("posts") == {"1": b"a2", "2": b"b"}
    # A delete is a write: its version goes up, so a stale writer cannot bring it back.
    assert await ks.hset_versioned("posts", "ver", {"2": None}, {"2": 1}) == {"2": 2}
    assert await ks.hget("posts", "2") is None
    assert await ks.hset_versioned("posts", "ver", {"2": b"back"}, {"2": 1}) is None
    assert await ks.hset_versioned("posts", "ver", {"3": b"c"}, {"3": 1}) is None
    assert await ks.hset_versioned("posts", "ver", {}, {}) == {}
    assert await ks.hgetall("ver") == {"1": b"2", "2": b"2"}


# -- pub/sub --------------------------------------------------------------


async def _next(sub: Subscription) -> tuple[str, bytes]:
    async with asyncio.timeout(5):
        return await anext(aiter(sub))


async def test_publish_reaches_every_subscriber(store: Store, ks: Keyspace) -> None:
    other = store.keyspace(ks.namespace + "_other")
    assert await ks.publish("news", b"nobody listens") == 0
    async with ks.subscribe("news") as one, ks.subscribe("news", "alerts") as two:
        assert await other.publish("news", b"another namespace") == 0
        assert await ks.publish("news", b"hello") == 2
        assert await ks.publish("alerts", b"fire") == 1
        assert await _next(one) == ("news", b"hello")
        assert await _next(two) == ("news", b"hello")
        assert await _next(two) == ("alerts", b"fire")
        for i in range(20):
            await ks.publish("news", str(i).encode())
        assert [(await _next(one))[1] for _ in range(20)] == [str(i).encode() for i in range(20)]
    assert await ks.publish("news", b"after") == 0
    assert await ks.publish("alerts", b"after") == 0


async def test_leaving_a_subscription_ends_iteration(ks: Keyspace) -> None:
    got: list[tuple[str, bytes]] = []
    sub = ks.subscribe("c")
    async with sub:

        async def listen() -> None:
            async for message in sub:
                got.append(message)

        listener = asyncio.create_task(listen())
        assert await ks.publish("c", b"1") == 1
        for _ in range(200):
            if got:
                break
            await asyncio.sleep(0.01)
    async with asyncio.timeout(5):
        await listener
    assert got == [("c", b"1")]
    assert await ks.publish("c", b"2") == 0


async def test_subscribe_needs_a_channel(ks: Keyspace) -> None:
    with pytest.raises(ValueError):
        ks.subscribe()


async def test_a_subscription_is_entered_once(ks: Keyspace) -> None:
    sub = ks.subscribe("c")
    with pytest.raises(RuntimeError):
        aiter(sub)
    async with sub:
        pass
    with pytest.raises(RuntimeError):
        await sub.__aenter__()
