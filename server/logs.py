"""`SharedLogs`: the `Logs` port, read-only access to the streams features share.

A feature that derives figures from another's event log (the statistics
read the desks' queue log) reads it here instead of importing the other
feature or reaching into its keyspace. Only streams the owner lists in
``Feature.shares`` can be read; their fields are a documented contract
(docs/METRICS.md), like a message of the protocol.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from server.plug import Logs
from server.store import Store, StreamEntry


class SharedLogs:
    def __init__(self, store: Store, shares: Mapping[str, Iterable[str]]) -> None:
        self._store = store
        self._shared = {name: frozenset(streams) for name, streams in shares.items()}
        self._spaces = {name: store.keyspace(name) for name in self._shared}

    async def read(
        self, feature: str, stream: str, after: str = "0-0", count: int | None = None
    ) -> list[StreamEntry]:
        if stream not in self._shared.get(feature, ()):
            raise LookupError(f"{feature} does not share a stream called {stream!r}")
        return await self._spaces[feature].read(stream, after, count)


Source = tuple[str, str, str]
"""(cursor name, feature, stream): one shared stream a follower reads."""


async def catch_up(
    logs: Logs,
    sources: Iterable[Source],
    cursors: Mapping[str, str],
    apply: Callable[[str, str, Mapping[str, str]], None],
    batch: int = 5000,
) -> int:
    """Apply, in order, every entry appended to ``sources`` after ``cursors`` (which
    ``apply(cursor, entry_id, fields)`` is expected to advance); returns how many."""
    read = 0
    for cursor, feature, stream in sources:
        while True:
            entries = await logs.read(feature, stream, cursors.get(cursor, "0-0"), batch)
            for entry_id, fields in entries:
                apply(cursor, entry_id, fields)
            read += len(entries)
            if len(entries) < batch:
                break
    return read
