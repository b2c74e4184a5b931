"""What the server needs from durable storage, and nothing more.

Feature modules talk to this interface, never to Redis directly, so a
different backend (or a test double where no real one can run) plugs in
without touching them.
"""

from __future__ import annotations

from typing import Any, Protocol


class Store(Protocol):
    async def ping(self) -> bool:
        """True when the backend answers."""
        ...

    async def next_entity_id(self) -> int:
        """A new entity id, never handed out before (survives restarts)."""
        ...

    async def save_resume(self, token: str, record: dict[str, Any], ttl_s: int | None) -> None:
        """Keep an avatar's state under its resume token for ``ttl_s`` seconds (None: no expiry)."""
        ...

    async def expire_orphans(self, ttl_s: int) -> int:
        """Give resume records without expiry (left by a crashed process) ``ttl_s`` to live."""
        ...

    async def take_resume(self, token: str) -> dict[str, Any] | None:
        """Fetch and forget a resume record; ``None`` if unknown or expired."""
        ...

    async def drop_resume(self, token: str) -> None: ...

    async def append_chat(self, zone: str, item: dict[str, Any], keep: int) -> None:
        """Record a zone chat line, keeping the last ``keep`` per zone."""
        ...

    async def recent_chat(self, zone: str, n: int) -> list[dict[str, Any]]:
        """The last ``n`` chat lines of ``zone``, oldest first."""
        ...

    async def append_event(self, stream: str, fields: dict[str, str]) -> str:
        """Append to a durable event log; returns the entry id once it is stored."""
        ...

    async def read_events(self, stream: str) -> list[dict[str, str]]:
        """Every entry of an event log, oldest first."""
        ...

    async def next_number(self, counter: str) -> int:
        """The next value of a durable counter (1, 2, ...)."""
        ...

    async def add_note(self, ticket: str, note: dict[str, Any]) -> None:
        """Keep a staff-only case note."""
        ...

    async def notes(self, ticket: str) -> list[dict[str, Any]]: ...

    async def close(self) -> None: ...
