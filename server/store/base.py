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

    async def save_resume(self, token: str, record: dict[str, Any], ttl_s: int) -> None:
        """Keep an avatar's state under its resume token for ``ttl_s`` seconds."""
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

    async def close(self) -> None: ...
