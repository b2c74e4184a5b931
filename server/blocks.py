"""`Blocks`: who blocked whom, by durable identity, kept in the store.

A citizen may block another person (``block`` in the moderation protocol):
from then on neither sees the other's chat nor hears the other's voice. A
block is between subjects (a citizen key's pseudonym, a role token's
subject), never display names, so it outlasts reconnects and new names; it
lives in the hash ``sp:blocks:by`` (subject -> JSON list of blocked subjects)
and survives a restart. Chat and event voice ask `between` / `involving`.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from server.store import Keyspace

KEY = "by"
MAX_BLOCKS = 1000
"""Blocks one identity may hold; the oldest is lifted beyond it."""


class Blocks:
    def __init__(self, keyspace: Keyspace) -> None:
        self._ks = keyspace
        self._by: dict[str, list[str]] = {}
        self._involving: dict[str, set[str]] = {}
        self._handlers: list[Callable[[str, str, bool], None]] = []
        self.on_change: Callable[[str, str, bool], None] | None = None
        """Told of every block set or lifted here (in a cluster: sent to the other
        processes, which `apply` it)."""

    async def load(self) -> None:
        self._by.clear()
        self._involving.clear()
        for subject, raw in (await self._ks.hgetall(KEY)).items():
            for other in json.loads(raw):
                self._add(subject, str(other))

    def _add(self, subject: str, other: str) -> None:
        self._by.setdefault(subject, []).append(other)
        self._involving.setdefault(subject, set()).add(other)
        self._involving.setdefault(other, set()).add(subject)

    def _reindex(self) -> None:
        self._involving = {}
        for s, others in self._by.items():
            for o in others:
                self._involving.setdefault(s, set()).add(o)
                self._involving.setdefault(o, set()).add(s)

    def between(self, a: str, b: str) -> bool:
        return b in self._involving.get(a, ())

    def involving(self, subject: str) -> frozenset[str]:
        return frozenset(self._involving.get(subject, ()))

    def blocked_by(self, subject: str) -> frozenset[str]:
        return frozenset(self._by.get(subject, ()))

    async def set(self, subject: str, other: str, on: bool) -> bool:
        if subject == other:
            return False
        mine = self._changed(subject, other, on)
        if mine is None:
            return False
        if mine:
            await self._ks.hset(KEY, {subject: json.dumps(mine).encode()})
        else:
            await self._ks.hdel(KEY, subject)
        self._told(subject, other, on)
        if self.on_change is not None:
            self.on_change(subject, other, on)
        return True

    def apply(self, subject: str, other: str, on: bool) -> None:
        """Another process set or lifted a block (and stored it): follow it here."""
        if subject != other and self._changed(subject, other, on) is not None:
            self._told(subject, other, on)

    def _changed(self, subject: str, other: str, on: bool) -> list[str] | None:
        """Change the copy held here; the subject's new list (None: nothing changed)."""
        mine = self._by.get(subject, [])
        if on == (other in mine):
            return None
        mine = [*mine, other][-MAX_BLOCKS:] if on else [o for o in mine if o != other]
        if mine:
            self._by[subject] = mine
        else:
            self._by.pop(subject, None)
        self._reindex()
        return mine

    def _told(self, subject: str, other: str, on: bool) -> None:
        for handler in self._handlers:
            handler(subject, other, on)

    async def forget(self, subject: str) -> None:
        """Erasure: drop every block ``subject`` made and every block of them."""
        for holder in list(self._involving.get(subject, ())):
            await self.set(holder, subject, False)
        for other in list(self._by.get(subject, ())):
            await self.set(subject, other, False)

    def subscribe(self, handler: Callable[[str, str, bool], None]) -> None:
        self._handlers.append(handler)
