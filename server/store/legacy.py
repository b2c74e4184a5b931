"""Keys of the layout before the feature plug, moved once into the features' keyspaces.

Until 2026-12 the store's key layout was shared between the backend and the
feature code (``sp:log:queue``, ``sp:seq:ticket:<service>``, ...). Each
feature now has its own keyspace. So that acknowledged state survives the
upgrade, `migrate` renames every old key that exists (never over a new key)
when the server starts; on a store that has none it costs one SCAN.
"""

from __future__ import annotations

import logging

import redis.asyncio as aioredis

log = logging.getLogger(__name__)

EXACT = {
    "sp:log:queue": "sp:desks:queue",
    "sp:entity_seq": "sp:session:entity_seq",
}
PREFIXES = (
    ("sp:seq:ticket:", "sp:desks:ticket:"),
    ("sp:notes:", "sp:desks:notes:"),
    ("sp:resume:", "sp:session:resume:"),
    ("sp:chat:", "sp:chat:zone:"),
)


def new_name(key: str) -> str | None:
    """Where an old key lives now; None for keys of the current layout."""
    if key in EXACT:
        return EXACT[key]
    for old, new in PREFIXES:
        if key.startswith(old):
            rest = key[len(old) :]
            if old == "sp:chat:" and rest.startswith("zone:"):
                return None  # already the new layout
            return new + rest
    return None


async def migrate(client: aioredis.Redis) -> int:
    """Rename every old key to its new name; returns how many moved."""
    moved = 0
    patterns = [*EXACT, *(old + "*" for old, _ in PREFIXES)]
    for pattern in patterns:
        async for raw in client.scan_iter(match=pattern, count=500):
            key = raw.decode() if isinstance(raw, bytes) else str(raw)
            target = new_name(key)
            if target is not None and await client.renamenx(key, target):
                moved += 1
    if moved:
        log.info("moved %d keys of the earlier store layout into feature keyspaces", moved)
    return moved
