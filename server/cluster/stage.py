"""`SharedStage`: the stage port (`server.staging.Staging`) across processes.

The events run at the feature home (`server.cluster.home`); their attendees may be
connected anywhere. What the events decide about an avatar (its event instance, its
audience and spotlight flags, the rider channel its frames carry) matters on every
process: on the avatar's own (whom it sees, which audio rides with its frames) and
wherever it is a replica (who sees it). So at the home this port records each
avatar's `Staged` state, applies it to the avatar's slot here if it has one, and
after the tick broadcasts one `Stage` message: what changed, and the tick's rider
payloads (an event's listen-only audio, encoded once at home). Once a second the
message carries everyone staged (a snapshot), which heals a lost message and tells
a process that just started.

Every other process applies the message to its own slots and keeps the map, so a
replica that comes into view later (a new slot) is staged as it arrives
(`added`). Rider payloads wait in a short queue per channel and go out one per
tick with the frames of this process's listeners: the audio crosses the bus once
per process, however many listen there, and is never re-encoded.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Mapping

from server.cluster.codec import PLAIN, Stage, Staged
from server.riders import Riders, Source
from server.space import Avatar, Space

RIDER_QUEUE = 5
"""Rider payloads kept per channel while this process's ticks lag the home's (a
quarter second at 20 Hz); older ones are dropped, so a listener stays near live."""


class SharedStage:
    def __init__(
        self,
        space: Space,
        riders: Riders,
        origin: str,
        *,
        is_home: Callable[[], bool],
        broadcast: Callable[[Stage], None],
        hz: int,
    ) -> None:
        self._space = space
        self._origin = origin
        self._is_home = is_home
        self._broadcast = broadcast
        self._hz = max(1, hz)
        self.staged: dict[int, Staged] = {}
        """Entity -> how it is staged (only entities that are)."""
        self._changed: dict[int, Staged] = {}
        self._sources: list[Source] = []
        self._outgoing: dict[str, bytes] = {}
        self._heard: dict[str, collections.deque[bytes]] = {}
        riders.add_source(self._collect)

    # -- the port (the events call these at home) ---------------------------------

    def set_layer(self, entity: int, layer: int) -> None:
        self._update(entity, layer=layer)

    def set_spotlight(self, entity: int, on: bool) -> None:
        self._update(entity, spotlight=on)

    def set_audience(self, entity: int, on: bool) -> None:
        self._update(entity, audience=on)

    def ride(self, entity: int, channel: str | None) -> None:
        self._update(entity, channel=channel or "")

    def add_source(self, source: Source) -> None:
        self._sources.append(source)

    def _update(self, entity: int, **change: int | bool | str) -> None:
        before = self.staged.get(entity, PLAIN)
        after = Staged(
            layer=int(change.get("layer", before.layer)),
            audience=bool(change.get("audience", before.audience)),
            spotlight=bool(change.get("spotlight", before.spotlight)),
            channel=str(change.get("channel", before.channel)),
        )
        if after == before:
            return
        self._set(entity, after)
        self._changed[entity] = after

    def _set(self, entity: int, staged: Staged) -> None:
        if staged.plain:
            self.staged.pop(entity, None)
        else:
            self.staged[entity] = staged
        avatar = self._space.by_id.get(entity)
        if avatar is not None:
            self._apply(avatar.slot, staged)

    def _apply(self, slot: int, staged: Staged) -> None:
        space = self._space
        space.layer[slot] = staged.layer
        space.audience[slot] = staged.audience
        space.spotlight[slot] = staged.spotlight
        space.channel[slot] = staged.channel or None

    # -- every process ---------------------------------------------------------------

    def added(self, avatar: Avatar) -> None:
        """A replica came into view here (a new slot): stage it as the home has it."""
        staged = self.staged.get(avatar.id)
        if staged is not None:
            self._apply(avatar.slot, staged)

    def _collect(self) -> Mapping[str, bytes]:
        """This tick's rider payloads: at home from the events, elsewhere from the bus."""
        if self._is_home():
            out: dict[str, bytes] = {}
            for source in self._sources:
                out.update(source())
            self._outgoing = out
            return out
        taken: dict[str, bytes] = {}
        for channel, queue in list(self._heard.items()):
            taken[channel] = queue.popleft()
            if not queue:
                del self._heard[channel]
        return taken

    def after_tick(self, tick: int) -> None:
        """At home: broadcast what changed and what rides (nothing to say: no message),
        and everyone staged once a second."""
        if not self._is_home():
            self._changed.clear()
            return
        snapshot = tick % self._hz == 0
        if not (snapshot or self._changed or self._outgoing):
            return
        staged = self.staged if snapshot else self._changed
        msg = Stage(
            self._origin,
            snapshot,
            tuple(staged.items()),
            tuple(self._outgoing.items()),
        )
        self._changed = {}
        self._outgoing = {}
        self._broadcast(msg)

    def reset(self) -> None:
        """This process just became the home: the events start afresh here, so nobody is
        staged any more (the next message says so to everyone)."""
        for entity in list(self.staged):
            self._set(entity, PLAIN)
            self._changed[entity] = PLAIN
        self._heard.clear()

    def receive(self, msg: Stage) -> None:
        """The home's `Stage` (the bus reader calls this)."""
        if self._is_home():
            return  # this process decides; an old home's last words do not count
        if msg.snapshot:
            fresh = dict(msg.staged)
            for entity in [e for e in self.staged if e not in fresh]:
                self._set(entity, PLAIN)
            for entity, staged in fresh.items():
                self._set(entity, staged)  # also a slot made since (a resume here)
        else:
            for entity, staged in msg.staged:
                self._set(entity, staged)
        for channel, payload in msg.riders:
            queue = self._heard.get(channel)
            if queue is None:
                queue = self._heard[channel] = collections.deque(maxlen=RIDER_QUEUE)
            queue.append(payload)
