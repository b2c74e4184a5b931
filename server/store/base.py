"""The store as primitives: what every backend offers, namespaced per feature.

Features never talk to a backend directly. Each takes a `Keyspace` from
``store.keyspace("<feature>")`` and builds on its primitives (key/value with
expiry, counters, capped lists, append-only streams, sorted sets, hashes and
live pub/sub). Two backends implement this: `server.store.RedisStore` (the
durable one) and `server.store.MemoryStore` (one process, fast tests); one
contract suite (``tests/server/store/test_contract.py``) holds both to the
same behaviour, which is Redis's.

Conventions every implementation guarantees:

* Keys and channels given to a `Keyspace` are relative; the full Redis key is
  ``sp:<namespace>:<key>``, so two namespaces never see each other's data.
* Values are bytes; keys, hash fields, sorted-set members, stream ids and
  stream fields are str.
* Every single call is atomic (``push`` including its trim).
* Using a key as the wrong kind (a list as a hash, ...) raises `TypeError`;
  a malformed argument (a bad stream id, ``incr`` on a non-integer, ...)
  raises `ValueError`.
* Containers (lists, sorted sets, hashes) that become empty cease to exist,
  as in Redis; a stream stays (empty) until deleted.
* Pub/sub is live fan-out only: at most once, nothing is kept for
  subscribers that are not listening.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Protocol

KEY_PREFIX = "sp:"
_NAMESPACE = re.compile(r"[a-z0-9_]+")
_STREAM_ID = re.compile(r"(\d+)(?:-(\d+))?")
_U64 = 2**64 - 1

StreamEntry = tuple[str, dict[str, str]]
"""A stream entry: its id ``"<ms>-<seq>"`` and its fields."""


def check_namespace(namespace: str) -> str:
    """Return ``namespace`` if it is ``[a-z0-9_]+``; otherwise raise `ValueError`."""
    if not isinstance(namespace, str) or not _NAMESPACE.fullmatch(namespace):
        raise ValueError(f"namespace must match [a-z0-9_]+, not {namespace!r}")
    return namespace


def parse_stream_id(entry_id: str) -> tuple[int, int]:
    """``"<ms>-<seq>"`` (or ``"<ms>"``, meaning seq 0) as a pair; `ValueError` if malformed."""
    match = _STREAM_ID.fullmatch(entry_id) if isinstance(entry_id, str) else None
    if match is None:
        raise ValueError(f"not a stream id: {entry_id!r}")
    ms, seq = int(match[1]), int(match[2] or 0)
    if ms > _U64 or seq > _U64:
        raise ValueError(f"stream id out of range: {entry_id!r}")
    return ms, seq


MAX_STREAM_ID = (_U64, _U64)


def check_count(name: str, value: int | None, *, minimum: int) -> None:
    """Raise `ValueError` unless ``value`` is None or an int >= ``minimum``."""
    if value is not None and value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, not {value}")


def as_bytes(value: bytes) -> bytes:
    """``value`` as immutable bytes; `TypeError` for anything that is not bytes-like."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    raise TypeError(f"store values are bytes, not {type(value).__name__}")


def ttl_ms(ttl_s: float) -> int:
    """A positive ``ttl_s`` as whole milliseconds (at least 1)."""
    return max(1, round(ttl_s * 1000))


class Subscription(Protocol):
    """Live messages on some channels of one `Keyspace`.

    Use as ``async with ks.subscribe("a", "b") as sub: async for channel, data in sub: ...``.
    By the time ``__aenter__`` returns the subscription is in place: anything
    published afterwards is delivered, in publish order per publisher.
    Messages wait in the subscription until read. Leaving the ``async with``
    unsubscribes (later publishes do not count it) and ends any iteration;
    closing the store does the same. Iterate from one task at a time.
    """

    async def __aenter__(self) -> Subscription: ...

    async def __aexit__(self, *exc: object) -> None: ...

    def __aiter__(self) -> AsyncIterator[tuple[str, bytes]]:
        """``(relative channel, data)`` pairs as they arrive, until unsubscribed."""
        ...


class Keyspace(Protocol):
    """One feature's share of the store: every key here is ``sp:<namespace>:<key>``."""

    namespace: str

    # -- key/value --------------------------------------------------------

    async def get(self, key: str) -> bytes | None:
        """The value at ``key``; None if there is none (or it expired)."""
        ...

    async def set(
        self, key: str, value: bytes, ttl_s: float | None = None, *, only_new: bool = False
    ) -> bool:
        """Store ``value`` at ``key`` (replacing whatever is there, and its expiry).

        ``ttl_s`` (> 0, else `ValueError`): the key vanishes after that many
        seconds; None: no expiry. ``only_new``: set only if ``key`` does not
        exist (Redis NX). Returns whether it was set.
        """
        ...

    async def take(self, key: str) -> bytes | None:
        """Get and delete ``key`` atomically: of concurrent callers at most one gets it."""
        ...

    async def delete(self, *keys: str) -> int:
        """Delete keys of any kind; returns how many existed."""
        ...

    async def expire(self, key: str, ttl_s: float) -> bool:
        """Let ``key`` vanish after ``ttl_s`` seconds (<= 0: now); False if there is no key."""
        ...

    async def ttl(self, key: str) -> float | None:
        """Seconds ``key`` has left; None if it has no expiry; `KeyError` if it does not exist."""
        ...

    async def scan(self, pattern: str = "*") -> list[str]:
        """Relative keys matching the Redis glob ``pattern`` (``* ? [abc] [^a-z] \\x``).

        Any order, no duplicates. Not a snapshot: keys changed meanwhile may
        or may not be listed.
        """
        ...

    # -- counters ---------------------------------------------------------

    async def incr(self, key: str, by: int = 1) -> int:
        """Add ``by`` to the integer at ``key`` (missing: 0) and return the result.

        The value is stored as its decimal bytes (``get`` gives ``b"3"``);
        `ValueError` if the value there is not a 64-bit integer.
        """
        ...

    # -- lists ------------------------------------------------------------

    async def push(self, key: str, *values: bytes, keep: int | None = None) -> int:
        """Append ``values`` (at least one) to the list at ``key``.

        ``keep`` (>= 1): then keep only the last ``keep`` items, in the same
        atomic step. Returns the length afterwards.
        """
        ...

    async def slice(self, key: str, start: int = 0, stop: int = -1) -> list[bytes]:
        """Items ``start``..``stop`` inclusive; negative counts from the end (Redis LRANGE)."""
        ...

    # -- streams (append-only logs) ---------------------------------------

    async def append(self, stream: str, fields: Mapping[str, str]) -> str:
        """Append an entry (``fields`` non-empty) and return its id ``"<ms>-<seq>"``.

        Ids in a stream strictly increase (even if the clock steps back).
        """
        ...

    async def read(
        self, stream: str, after: str = "0-0", count: int | None = None
    ) -> list[StreamEntry]:
        """Entries with id greater than ``after``, oldest first, at most ``count`` (>= 1)."""
        ...

    async def tail(self, stream: str, n: int) -> list[StreamEntry]:
        """The last ``n`` (>= 0) entries, oldest first."""
        ...

    async def length(self, stream: str) -> int:
        """How many entries ``stream`` holds (0 if there is no stream)."""
        ...

    async def trim(self, stream: str, entry_ids: Sequence[str]) -> int:
        """Delete those entries (for erasure); returns how many were there.

        Their data is really gone (not just flagged), so after `Store.compact`
        it is on no disk either. Later ids still increase past the deleted
        ones; the stream keeps its expiry. Costs O(length of the stream).
        """
        ...

    # -- sorted sets ------------------------------------------------------

    async def zadd(self, key: str, scores: Mapping[str, float]) -> int:
        """Set members' scores; returns how many members are new."""
        ...

    async def zincr(self, key: str, member: str, by: float) -> float:
        """Add ``by`` to ``member``'s score (missing: 0) and return the new score."""
        ...

    async def zscore(self, key: str, member: str) -> float | None:
        """``member``'s score; None if it is not in the set."""
        ...

    async def zrange(
        self, key: str, start: int = 0, stop: int = -1, *, desc: bool = False
    ) -> list[tuple[str, float]]:
        """Members with scores by rank ``start``..``stop`` inclusive (negative: from the end).

        Ascending by score, ties by member (as bytes); ``desc`` reverses both.
        """
        ...

    async def zrem(self, key: str, *members: str) -> int:
        """Remove members; returns how many were there."""
        ...

    # -- hashes -----------------------------------------------------------

    async def hset(self, key: str, mapping: Mapping[str, bytes]) -> int:
        """Set fields of the hash at ``key``; returns how many fields are new."""
        ...

    async def hget(self, key: str, field: str) -> bytes | None:
        """One field's value; None if absent."""
        ...

    async def hgetall(self, key: str) -> dict[str, bytes]:
        """Every field of the hash (empty if there is none)."""
        ...

    async def hdel(self, key: str, *fields: str) -> int:
        """Remove fields; returns how many were there."""
        ...

    async def hset_versioned(
        self,
        key: str,
        versions: str,
        changes: Mapping[str, bytes | None],
        expected: Mapping[str, int],
    ) -> dict[str, int] | None:
        """Compare and set fields of the hash at ``key`` (a value of None deletes the
        field) against their versions, kept in the hash ``versions`` (a field never
        written is at version 0). If every field of ``changes`` is at its ``expected``
        version, all are written and each version goes up by one, atomically, and the
        new versions are returned; otherwise nothing is written and the answer is
        None: another writer (another process of a cluster) changed one of them since
        the caller read it."""
        ...

    # -- pub/sub ----------------------------------------------------------

    async def publish(self, channel: str, data: bytes) -> int:
        """Send ``data`` to the current subscribers of ``channel``; returns how many."""
        ...

    def subscribe(self, *channels: str) -> Subscription:
        """A `Subscription` to ``channels`` (at least one); enter it to subscribe."""
        ...


class Store(Protocol):
    """A storage backend: hands out namespaced `Keyspace` objects."""

    async def ping(self) -> bool:
        """True when the backend answers (never raises)."""
        ...

    async def close(self) -> None:
        """Close open subscriptions and release the backend. Call once, at the end."""
        ...

    def keyspace(self, namespace: str) -> Keyspace:
        """The `Keyspace` for ``namespace`` (``[a-z0-9_]+``, else `ValueError`)."""
        ...

    async def compact(self) -> None:
        """Rewrite persistence so that deleted data no longer lingers on disk.

        Returns once done (Redis: the append-only file and the RDB snapshot
        are rewritten from memory; the in-memory store: nothing to do).
        For erasure: delete / `Keyspace.trim`, then compact.
        """
        ...
