"""`rewrite_entries`: anonymise stream entries for erasure, keeping the rest of the stream."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from server.store.base import Keyspace


async def rewrite_entries(
    ks: Keyspace,
    stream: str,
    selected: Callable[[Mapping[str, str]], bool],
    change: Callable[[dict[str, str]], dict[str, str] | None],
) -> int:
    """Really delete the entries of ``stream`` whose fields are ``selected`` (`Keyspace.trim`)
    and append each again as ``change`` makes it (``None`` or empty: not again), in their
    order; returns how many were selected.

    The copies get new ids at the end of the stream: readers that order by time use the
    entries' ``ts`` field. Costs O(length of the stream); for erasure, not the hot path.
    """
    entries = [(i, f) for i, f in await ks.read(stream) if selected(f)]
    if not entries:
        return 0
    await ks.trim(stream, [i for i, _f in entries])
    for _i, fields in entries:
        changed = change(dict(fields))
        if changed:
            await ks.append(stream, changed)
    return len(entries)
