"""`Staging`: the stage port: event instances, the stage spotlight, audiences, rider channels.

The events feature stages people through this port, by entity id; the space
keeps the per-slot arrays the tick reads (`Space.layer`, `spotlight`,
`audience`, `channel`) and the interest manager (`spatial.audience`) turns
them into visibility: an observer sees the k nearest of its own layer (its
event instance), and an audience member also sees everyone spotlit on the
stage. An entity that leaves the space is unstaged with its slot.
"""

from __future__ import annotations

from server.riders import Riders, Source
from server.space import Space


class Staging:
    def __init__(self, space: Space, riders: Riders) -> None:
        self._space = space
        self._riders = riders

    def _slot(self, entity: int) -> int | None:
        avatar = self._space.by_id.get(entity)
        return avatar.slot if avatar is not None else None

    def set_layer(self, entity: int, layer: int) -> None:
        """Put ``entity`` in event instance ``layer`` (0: the shared space)."""
        if (slot := self._slot(entity)) is not None:
            self._space.layer[slot] = layer

    def set_spotlight(self, entity: int, on: bool) -> None:
        """On stage: seen by every audience member in every instance."""
        if (slot := self._slot(entity)) is not None:
            self._space.spotlight[slot] = on

    def set_audience(self, entity: int, on: bool) -> None:
        if (slot := self._slot(entity)) is not None:
            self._space.audience[slot] = on

    def ride(self, entity: int, channel: str | None) -> None:
        """Attach ``entity``'s frames to a rider channel (None: detach)."""
        if (slot := self._slot(entity)) is not None:
            self._space.channel[slot] = channel

    def add_source(self, source: Source) -> None:
        self._riders.add_source(source)
