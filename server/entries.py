"""Reading entries of the streams features share (`server.logs`), as pure helpers.

Entries come as string maps with ids ``"<ms>-<seq>"``. Figures derived from
them (the statistics, the scorecard) apply each entry once, in order, and
skip what does not parse rather than raise: `Cursors` remembers how far each
stream was applied, `entry_time` and `answer` read the common fields.
No I/O and no clock.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Final

TS_RANGE: Final = (-1e10, 2.5e11)
"""Plausible ``ts`` values (seconds since the epoch); anything else is unreadable."""


def entry_order(entry_id: str) -> tuple[int, int] | None:
    """``"<ms>-<seq>"`` as a sortable pair; None if it is not one."""
    ms, sep, seq = entry_id.partition("-")
    try:
        return (int(ms), int(seq) if sep else 0)
    except ValueError:
        return None


def entry_time(fields: Mapping[str, str]) -> float | None:
    """The entry's ``ts`` (seconds since the epoch), or None when missing or unreadable."""
    try:
        ts = float(fields.get("ts", ""))
    except (TypeError, ValueError):
        return None
    return ts if math.isfinite(ts) and TS_RANGE[0] < ts < TS_RANGE[1] else None


def answer(value: str | None) -> int:
    """A survey's 1..5 answer, or 0 when absent or not one."""
    try:
        n = int(value or "")
    except ValueError:
        return 0
    return n if 1 <= n <= 5 else 0


class Cursors:
    """How far each stream has been applied: ``ids`` (for reading on) by stream."""

    def __init__(self, streams: Iterable[str]) -> None:
        self.ids: dict[str, str] = dict.fromkeys(streams, "0-0")
        self._last: dict[str, tuple[int, int]] = dict.fromkeys(self.ids, (0, 0))

    def take(self, stream: str, entry_id: str) -> bool:
        """Advance the stream's cursor; False for an id at or before it (already applied)."""
        key = entry_order(entry_id)
        if key is None or key <= self._last[stream]:
            return False
        self._last[stream] = key
        self.ids[stream] = entry_id
        return True
