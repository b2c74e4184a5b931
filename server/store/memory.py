"""`MemoryStore`: the store's primitives in plain dicts, for one process and fast tests.

Nothing is durable: the data lives as long as the object. Behaviour follows
Redis (the contract suite checks both against each other): expiry is lazy,
by the injected clock, so tests can move time without sleeping; stream ids
are ``"<ms>-<seq>"`` from the wall clock and strictly increase; pub/sub goes
through asyncio queues. Every method completes without yielding to the event
loop, so each call is atomic among coroutines. Use it from one event loop.
"""

from __future__ import annotations

import bisect
import math
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from server.store.base import (
    KEY_PREFIX,
    MAX_STREAM_ID,
    StreamEntry,
    as_bytes,
    check_count,
    check_namespace,
    parse_stream_id,
)
from server.store.queued import QueuedSubscription

_INT = re.compile(rb"0|-?[1-9][0-9]*")
_I64_MIN, _I64_MAX = -(2**63), 2**63 - 1

_Id = tuple[int, int]


class _Stream:
    def __init__(self) -> None:
        self.entries: list[tuple[_Id, dict[str, str]]] = []
        self.last: _Id = (0, 0)


class _ZSet(dict[str, float]):
    pass


class _Hash(dict[str, bytes]):
    pass


class _List(list[bytes]):
    pass


_Value = bytes | _List | _Stream | _ZSet | _Hash
_V = TypeVar("_V", _List, _Stream, _ZSet, _Hash)


@dataclass
class _Item:
    value: _Value
    expires_at: float | None = None


def glob_to_regex(pattern: str) -> re.Pattern[str]:
    """A regex matching exactly what the Redis glob ``pattern`` matches (as SCAN MATCH does)."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            while i + 1 < n and pattern[i + 1] == "*":
                i += 1
            out.append(".*")
        elif c == "?":
            out.append(".")
        elif c == "[":
            i += 1
            negate = i < n and pattern[i] == "^"
            if negate:
                i += 1
            parts: list[str] = []
            while i < n and pattern[i] != "]":  # an unclosed class ends with the pattern
                if pattern[i] == "\\" and i + 1 < n:
                    i += 1
                    parts.append(re.escape(pattern[i]))
                elif i + 2 < n and pattern[i + 1] == "-":
                    lo, hi = sorted((pattern[i], pattern[i + 2]))
                    parts.append(f"{re.escape(lo)}-{re.escape(hi)}")
                    i += 2
                else:
                    parts.append(re.escape(pattern[i]))
                i += 1
            if parts:
                out.append(("[^" if negate else "[") + "".join(parts) + "]")
            else:
                out.append("." if negate else "(?!)")
        elif c == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out), re.DOTALL)


def _rank_slice(length: int, start: int, stop: int) -> slice:
    """Redis's inclusive, negative-from-the-end range as a Python slice."""
    if start < 0:
        start = max(start + length, 0)
    if stop < 0:
        stop += length
    if start > stop or start >= length:
        return slice(0, 0)
    return slice(start, min(stop, length - 1) + 1)


def _check_score(score: float) -> float:
    score = float(score)
    if math.isnan(score):
        raise ValueError("score is not a number (NaN)")
    return score


class MemoryStore:
    """`Store` in memory. ``clock`` (seconds, monotonic) drives expiry; inject one in tests."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._data: dict[str, _Item] = {}
        self._channels: dict[str, set[_MemorySubscription]] = {}
        self._keyspaces: dict[str, MemoryKeyspace] = {}
        self._closed = False

    async def ping(self) -> bool:
        return not self._closed

    async def close(self) -> None:
        self._closed = True
        for subs in list(self._channels.values()):
            for sub in list(subs):
                sub._end()

    def keyspace(self, namespace: str) -> MemoryKeyspace:
        check_namespace(namespace)
        ks = self._keyspaces.get(namespace)
        if ks is None:
            ks = self._keyspaces[namespace] = MemoryKeyspace(self, namespace)
        return ks

    async def compact(self) -> None:
        """Nothing to do: deleted data is gone from memory at once."""

    # -- internals shared by the keyspaces --------------------------------

    def _live(self, full: str) -> _Item | None:
        item = self._data.get(full)
        if item is not None and item.expires_at is not None and item.expires_at <= self._clock():
            del self._data[full]
            return None
        return item

    def _get(self, full: str, kind: type[_V]) -> _V | None:
        item = self._live(full)
        if item is None:
            return None
        if not isinstance(item.value, kind):
            raise TypeError("WRONGTYPE Operation against a key holding the wrong kind of value")
        return item.value

    def _get_or_create(self, full: str, kind: type[_V]) -> _V:
        value = self._get(full, kind)
        if value is None:
            value = kind()
            self._data[full] = _Item(value)
        return value

    def _drop_if_empty(self, full: str, value: _List | _ZSet | _Hash) -> None:
        if not value:
            del self._data[full]

    def _get_string(self, full: str) -> bytes | None:
        item = self._live(full)
        if item is None:
            return None
        if not isinstance(item.value, bytes):
            raise TypeError("WRONGTYPE Operation against a key holding the wrong kind of value")
        return item.value


class MemoryKeyspace:
    """`Keyspace` over a `MemoryStore`; get one from `MemoryStore.keyspace`."""

    def __init__(self, store: MemoryStore, namespace: str) -> None:
        self.namespace = namespace
        self._s = store
        self._prefix = f"{KEY_PREFIX}{namespace}:"

    def _k(self, key: str) -> str:
        return self._prefix + key

    # -- key/value --------------------------------------------------------

    async def get(self, key: str) -> bytes | None:
        return self._s._get_string(self._k(key))

    async def set(
        self, key: str, value: bytes, ttl_s: float | None = None, *, only_new: bool = False
    ) -> bool:
        value = as_bytes(value)
        if ttl_s is not None and ttl_s <= 0:
            raise ValueError(f"ttl_s must be positive, not {ttl_s}")
        full = self._k(key)
        if only_new and self._s._live(full) is not None:
            return False
        expires = None if ttl_s is None else self._s._clock() + ttl_s
        self._s._data[full] = _Item(value, expires)
        return True

    async def take(self, key: str) -> bytes | None:
        full = self._k(key)
        value = self._s._get_string(full)
        if value is not None:
            del self._s._data[full]
        return value

    async def delete(self, *keys: str) -> int:
        count = 0
        for full in dict.fromkeys(self._k(k) for k in keys):
            if self._s._live(full) is not None:
                del self._s._data[full]
                count += 1
        return count

    async def expire(self, key: str, ttl_s: float) -> bool:
        full = self._k(key)
        item = self._s._live(full)
        if item is None:
            return False
        if ttl_s <= 0:
            del self._s._data[full]
        else:
            item.expires_at = self._s._clock() + ttl_s
        return True

    async def ttl(self, key: str) -> float | None:
        item = self._s._live(self._k(key))
        if item is None:
            raise KeyError(key)
        if item.expires_at is None:
            return None
        return max(round(item.expires_at - self._s._clock(), 3), 0.0)  # ms, as Redis has it

    async def scan(self, pattern: str = "*") -> list[str]:
        match = glob_to_regex(pattern).fullmatch
        n = len(self._prefix)
        return [
            full[n:]
            for full in list(self._s._data)
            if full.startswith(self._prefix) and match(full[n:]) and self._s._live(full) is not None
        ]

    # -- counters ---------------------------------------------------------

    async def incr(self, key: str, by: int = 1) -> int:
        if not _I64_MIN <= by <= _I64_MAX:
            raise ValueError("increment is not a 64-bit integer")
        full = self._k(key)
        item = self._s._live(full)
        raw = self._s._get_string(full)
        if raw is None:
            current = 0
        elif _INT.fullmatch(raw) and _I64_MIN <= int(raw) <= _I64_MAX:
            current = int(raw)
        else:
            raise ValueError("value is not an integer or out of range")
        result = current + by
        if not _I64_MIN <= result <= _I64_MAX:
            raise ValueError("increment or decrement would overflow")
        encoded = str(result).encode()
        if item is None:
            self._s._data[full] = _Item(encoded)
        else:
            item.value = encoded  # keeps its expiry, as INCR does
        return result

    # -- lists ------------------------------------------------------------

    async def push(self, key: str, *values: bytes, keep: int | None = None) -> int:
        if not values:
            raise ValueError("push needs at least one value")
        check_count("keep", keep, minimum=1)
        items = [as_bytes(v) for v in values]
        full = self._k(key)
        lst = self._s._get_or_create(full, _List)
        lst.extend(items)
        if keep is not None and len(lst) > keep:
            del lst[:-keep]
        return len(lst)

    async def slice(self, key: str, start: int = 0, stop: int = -1) -> list[bytes]:
        lst = self._s._get(self._k(key), _List)
        if lst is None:
            return []
        return lst[_rank_slice(len(lst), start, stop)]

    # -- streams ----------------------------------------------------------

    async def append(self, stream: str, fields: Mapping[str, str]) -> str:
        if not fields:
            raise ValueError("a stream entry needs at least one field")
        entry = {str(k): str(v) for k, v in fields.items()}
        st = self._s._get_or_create(self._k(stream), _Stream)
        now_ms = time.time_ns() // 1_000_000
        ms, seq = st.last
        new: _Id = (now_ms, 0) if now_ms > ms else (ms, seq + 1)
        st.entries.append((new, entry))
        st.last = new
        return f"{new[0]}-{new[1]}"

    async def read(
        self, stream: str, after: str = "0-0", count: int | None = None
    ) -> list[StreamEntry]:
        check_count("count", count, minimum=1)
        start = parse_stream_id(after)
        st = self._s._get(self._k(stream), _Stream)
        if st is None or start == MAX_STREAM_ID:
            return []
        i = bisect.bisect_right(st.entries, start, key=lambda e: e[0])
        chosen = st.entries[i:] if count is None else st.entries[i : i + count]
        return [(f"{ms}-{seq}", dict(f)) for (ms, seq), f in chosen]

    async def tail(self, stream: str, n: int) -> list[StreamEntry]:
        check_count("n", n, minimum=0)
        st = self._s._get(self._k(stream), _Stream)
        if st is None or n == 0:
            return []
        return [(f"{ms}-{seq}", dict(f)) for (ms, seq), f in st.entries[-n:]]

    async def length(self, stream: str) -> int:
        st = self._s._get(self._k(stream), _Stream)
        return 0 if st is None else len(st.entries)

    async def trim(self, stream: str, entry_ids: Sequence[str]) -> int:
        doomed = {parse_stream_id(e) for e in entry_ids}
        st = self._s._get(self._k(stream), _Stream)
        if st is None or not doomed:
            return 0
        before = len(st.entries)
        st.entries = [e for e in st.entries if e[0] not in doomed]
        return before - len(st.entries)

    # -- sorted sets ------------------------------------------------------

    async def zadd(self, key: str, scores: Mapping[str, float]) -> int:
        checked = {str(m): _check_score(s) for m, s in scores.items()}
        if not checked:
            return 0
        zset = self._s._get_or_create(self._k(key), _ZSet)
        added = sum(1 for m in checked if m not in zset)
        zset.update(checked)
        return added

    async def zincr(self, key: str, member: str, by: float) -> float:
        by = _check_score(by)
        full = self._k(key)
        zset = self._s._get(full, _ZSet)
        score = (zset.get(member, 0.0) if zset is not None else 0.0) + by
        if math.isnan(score):
            raise ValueError("resulting score is not a number (NaN)")
        self._s._get_or_create(full, _ZSet)[member] = score
        return score

    async def zscore(self, key: str, member: str) -> float | None:
        zset = self._s._get(self._k(key), _ZSet)
        return None if zset is None else zset.get(member)

    async def zrange(
        self, key: str, start: int = 0, stop: int = -1, *, desc: bool = False
    ) -> list[tuple[str, float]]:
        zset = self._s._get(self._k(key), _ZSet)
        if zset is None:
            return []
        ordered = sorted(zset.items(), key=lambda ms: (ms[1], ms[0].encode()), reverse=desc)
        return ordered[_rank_slice(len(ordered), start, stop)]

    async def zrem(self, key: str, *members: str) -> int:
        full = self._k(key)
        zset = self._s._get(full, _ZSet)
        if zset is None:
            return 0
        removed = sum(1 for m in set(members) if zset.pop(m, None) is not None)
        self._s._drop_if_empty(full, zset)
        return removed

    # -- hashes -----------------------------------------------------------

    async def hset(self, key: str, mapping: Mapping[str, bytes]) -> int:
        checked = {str(f): as_bytes(v) for f, v in mapping.items()}
        if not checked:
            return 0
        h = self._s._get_or_create(self._k(key), _Hash)
        added = sum(1 for f in checked if f not in h)
        h.update(checked)
        return added

    async def hget(self, key: str, field: str) -> bytes | None:
        h = self._s._get(self._k(key), _Hash)
        return None if h is None else h.get(field)

    async def hgetall(self, key: str) -> dict[str, bytes]:
        h = self._s._get(self._k(key), _Hash)
        return {} if h is None else dict(h)

    async def hdel(self, key: str, *fields: str) -> int:
        full = self._k(key)
        h = self._s._get(full, _Hash)
        if h is None:
            return 0
        removed = sum(1 for f in set(fields) if h.pop(f, None) is not None)
        self._s._drop_if_empty(full, h)
        return removed

    async def hset_versioned(
        self,
        key: str,
        versions: str,
        changes: Mapping[str, bytes | None],
        expected: Mapping[str, int],
    ) -> dict[str, int] | None:
        checked = {str(f): None if v is None else as_bytes(v) for f, v in changes.items()}
        held = self._s._get(self._k(versions), _Hash)
        for field in checked:
            have = int(held[field]) if held is not None and field in held else 0
            if have != int(expected.get(field, 0)):
                return None
        if not checked:
            return {}
        full = self._k(key)
        h = self._s._get_or_create(full, _Hash)
        counts = self._s._get_or_create(self._k(versions), _Hash)
        out: dict[str, int] = {}
        for field, value in checked.items():
            if value is None:
                h.pop(field, None)
            else:
                h[field] = value
            out[field] = int(counts.get(field, b"0")) + 1
            counts[field] = str(out[field]).encode()
        self._s._drop_if_empty(full, h)
        return out

    # -- pub/sub ----------------------------------------------------------

    async def publish(self, channel: str, data: bytes) -> int:
        data = as_bytes(data)
        full = self._k(channel)
        subs = self._s._channels.get(full, set())
        for sub in subs:
            sub._deliver(full, data)
        return len(subs)

    def subscribe(self, *channels: str) -> _MemorySubscription:
        if not channels:
            raise ValueError("subscribe needs at least one channel")
        return _MemorySubscription(self._s, {self._k(c): c for c in channels})


class _MemorySubscription(QueuedSubscription):
    """`Subscription` over a `MemoryStore`: one unbounded queue per subscription."""

    def __init__(self, store: MemoryStore, channels: dict[str, str]) -> None:
        super().__init__(channels)
        self._store = store

    async def __aenter__(self) -> _MemorySubscription:
        self._check_new()
        if self._store._closed:
            raise RuntimeError("the store is closed")
        for full in self._channels:
            self._store._channels.setdefault(full, set()).add(self)
        self._state = "open"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._end()

    def _deliver(self, full: str, data: bytes) -> None:
        self._queue.put_nowait((self._channels[full], data))

    def _end(self) -> None:
        if self._state == "closed":
            return
        for full in self._channels:
            subs = self._store._channels.get(full)
            if subs is not None:
                subs.discard(self)
                if not subs:
                    del self._store._channels[full]
        self._state = "closed"
        self._finish()
