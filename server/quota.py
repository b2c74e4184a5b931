"""Per-identity rate limits with the `limits` library, counted in our own store.

`limits` brings the rule syntax ("1/10 minutes") and the window strategies;
`KeyspaceStorage` is its storage backend over a feature's `Keyspace`, so the
counters live where all durable state lives (the embedded or external Redis
in production, the memory store in fast tests) under ``sp:<feature>:quota:*``,
and are shared by every process that uses the same store.

    quota = Quota(ctx.store)
    wait = await quota.take("1/10 minutes", "post", subject)   # None: allowed
"""

from __future__ import annotations

import time

from limits import parse
from limits.aio.storage import Storage
from limits.aio.strategies import FixedWindowRateLimiter

from server.store import Keyspace

PREFIX = "quota:"


class KeyspaceStorage(Storage):
    """A `limits` async storage over a `Keyspace`: fixed-window counters with a TTL."""

    STORAGE_SCHEME = ["servicepoint+keyspace"]  # noqa: RUF012 (limits declares it so)

    def __init__(self, keyspace: Keyspace) -> None:
        super().__init__()
        self._ks = keyspace

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return (ConnectionError, OSError)

    async def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        value = await self._ks.incr(PREFIX + key, amount)
        if value == amount:  # a new window: it lasts ``expiry`` seconds from its first hit
            await self._ks.expire(PREFIX + key, float(expiry))
        return value

    async def get(self, key: str) -> int:
        raw = await self._ks.get(PREFIX + key)
        return int(raw) if raw is not None else 0

    async def get_expiry(self, key: str) -> float:
        ttl = await self._ks.ttl(PREFIX + key)
        return time.time() + (ttl if ttl is not None and ttl > 0 else 0.0)

    async def check(self) -> bool:
        try:
            await self._ks.get(PREFIX + "check")
        except Exception:
            return False
        return True

    async def reset(self) -> int | None:
        keys = await self._ks.scan(PREFIX + "*")
        return await self._ks.delete(*keys) if keys else 0

    async def clear(self, key: str) -> None:
        await self._ks.delete(PREFIX + key)


class Quota:
    """Take one unit of a rule for an identity; answer how long to wait when refused."""

    def __init__(self, keyspace: Keyspace) -> None:
        self.storage = KeyspaceStorage(keyspace)
        self._limiter = FixedWindowRateLimiter(self.storage)

    async def take(self, rule: str, action: str, subject: str) -> float | None:
        """``None`` if ``subject`` may do ``action`` under ``rule`` now (and count it), else
        the seconds until the window resets."""
        item = parse(rule)
        if await self._limiter.hit(item, action, subject):
            return None
        stats = await self._limiter.get_window_stats(item, action, subject)
        return max(0.0, stats.reset_time - time.time())

    async def forget(self, subject: str, actions: tuple[str, ...], rules: tuple[str, ...]) -> None:
        """Drop ``subject``'s counters (erasure): no key keeps their pseudonym."""
        for rule in rules:
            item = parse(rule)
            for action in actions:
                await self._limiter.clear(item, action, subject)
