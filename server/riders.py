"""`Riders`: payloads that ride along with observers' state frames, one per channel per tick.

A feature that streams to many people at the tick's rate (an event's
listen-only audio) registers a *source*: once per tick it returns the payload
of each of its channels, already encoded, and an observer attached to a
channel gets that payload in the same transport write as its state frame
(`server.edge.link.ClientLink.write`'s ``extra``). So a payload is encoded once
per channel, however many listen, and costs each listener no extra system call.
Observers are attached through the stage port (`server.staging.Staging`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

Source = Callable[[], Mapping[str, bytes]]
"""Called once per tick: channel -> the payload for everyone attached to it."""


class Riders:
    def __init__(self) -> None:
        self._sources: list[Source] = []

    def add_source(self, source: Source) -> None:
        self._sources.append(source)

    def collect(self) -> dict[str, bytes]:
        """This tick's payloads of every source (an empty dict when nothing rides)."""
        out: dict[str, bytes] = {}
        for source in self._sources:
            out.update(source())
        return out
