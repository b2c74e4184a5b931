"""The tick: interest, frames, enter/leave and zone changes, at ``tick_hz``.

One tick (see DESIGN.md §3): inputs are already in the `Space` arrays; the
interest manager updates who sees whom for the local observers; the frame
encoder turns the visible sets into one payload per observer (quantised
once, gathered per observer); each payload is one non-blocking write.
Enter/leave messages go only to observers whose set changed.

With ``frame_encoding="delta"`` (the default) frames are
`protocol.delta.DeltaFrameEncoder`'s: entities beyond ``near_m`` at a lower
rate, unchanged ones left out, small moves as int8 deltas, an observer with
nothing new gets no frame (a heartbeat at least once a second). What each
observer received is committed after the writes, only for frames that were
written. ``"full"`` sends every visible entity every tick
(`protocol.frames.StateFrameEncoder`), for comparison.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import numpy as np

from protocol.codec import encode
from protocol.delta import DeltaFrameEncoder
from protocol.frames import StateFrameEncoder
from server.metrics import Metrics
from server.riders import Riders
from server.space import Avatar, Space
from spatial.audience import AudienceInterest

log = logging.getLogger(__name__)

BUSY_BELOW = 0.8
"""Ticks run over ticks due in a second below which the hall is busy (clients are told)."""
CALM_FROM = 0.95
"""... and from which it is calm again (hysteresis: no flapping near the line)."""


LATE_TURNS = 16
"""Turns of the event loop given to I/O between two ticks that run back to back (late).
uvloop accepts one connection per turn: with a single turn between late ticks a process
let in about twenty connections a second while a crowd arrived, and at 2,000 clients
hundreds of opening handshakes timed out in the accept queue. A turn with nothing to do
costs microseconds."""


class TickLoop:
    def __init__(
        self,
        space: Space,
        interest: AudienceInterest,
        metrics: Metrics,
        hz: int,
        on_zone_change: Callable[[Avatar, int], None],
        riders: Riders | None = None,
        frame_encoding: str = "delta",
        near_m: float = 6.0,
    ) -> None:
        if frame_encoding not in ("delta", "full"):
            raise ValueError("frame_encoding must be 'delta' or 'full'")
        self.space = space
        self.interest = interest
        self.encoder = StateFrameEncoder()
        self.delta: DeltaFrameEncoder | None = (
            DeltaFrameEncoder(near_m=near_m, heartbeat=hz) if frame_encoding == "delta" else None
        )
        self.metrics = metrics
        self.hz = hz
        self.on_zone_change = on_zone_change
        self.riders = riders or Riders()
        self.tick = 0
        self._capacity = space.capacity
        self.after_tick: list[Callable[[int], None]] = []
        """Called with the tick's number once it is done (the cluster publishes then)."""
        self.rate = 1.0
        """Ticks run over ticks due in the last second."""
        self.busy = False
        self.on_load: Callable[[float, bool], None] | None = None
        """Called once a second while busy, and once when calm again, with the rate."""

    def step(self) -> None:
        """Run one tick now."""
        t0 = time.perf_counter()
        space = self.space
        if space.capacity != self._capacity:
            self.interest.grow(space.capacity)
            self._capacity = space.capacity
        observers = space.observer_slots()
        if space.staged():
            diff = self.interest.update(
                space.positions,
                space.active,
                observers,
                layer=space.layer,
                spotlight=space.spotlight,
                audience=space.audience,
            )
        else:
            diff = self.interest.update(space.positions, space.active, observers)
        payloads: list[bytes] | list[bytes | None]
        if self.delta is not None:
            payloads = self.delta.encode(
                self.tick,
                space.entity_ids,
                space.positions,
                space.yaw,
                observers,
                diff.visible_ptr,
                diff.visible,
                full_rate=space.spotlight,
            )
        else:
            payloads = self.encoder.encode(
                self.tick & 0xFFFFFFFF,
                space.entity_ids,
                space.positions,
                space.yaw,
                diff.visible_ptr,
                diff.visible,
            )
        written = [False] * len(payloads)
        try:
            avatars = space.avatars
            links = space.links[observers]  # a gather; every observer has a link
            ids = space.entity_ids

            # Each observer's leaves and enters go with its frame, in one write (leaves
            # before enters, so a slot that left and re-entered is never doubled).
            must: dict[int, list[bytes]] = {}
            for j in np.flatnonzero(np.diff(diff.left_ptr)).tolist():
                gone = diff.left[diff.left_ptr[j] : diff.left_ptr[j + 1]]
                must[j] = [encode({"t": "leave", "ids": ids[gone].tolist()})]
            for j in np.flatnonzero(np.diff(diff.entered_ptr)).tolist():
                new = diff.entered[diff.entered_ptr[j] : diff.entered_ptr[j + 1]].tolist()
                must.setdefault(j, []).append(
                    encode({"t": "enter", "e": [self._entry(s) for s in new]})
                )

            now = time.monotonic()
            riding = self.riders.collect()
            if riding:  # event audio rides in the same write as the frame
                channels = space.channel[observers]
                for j, (link, payload, channel) in enumerate(
                    zip(links, payloads, channels, strict=True)
                ):
                    extra = riding.get(channel) if channel is not None else None
                    first = must.get(j, ())
                    if payload is not None or extra is not None or first:
                        written[j] = link.write_tick(first, payload, now, extra)
            else:
                for j, (link, payload) in enumerate(zip(links, payloads, strict=True)):
                    first = must.get(j, ())
                    if payload is not None or first:  # one write per client
                        written[j] = link.write_tick(first, payload, now)
        finally:
            if self.delta is not None:
                self.delta.commit(written)

        zones = space.world.zone_index(space.positions)
        changed = observers[zones[observers] != space.zone[observers]]
        space.zone[:] = zones
        for slot in changed.tolist():
            avatar = avatars[slot]
            if avatar is not None:
                self.on_zone_change(avatar, int(zones[slot]))

        space.tick_done()
        for after in self.after_tick:
            after(self.tick)
        self.tick += 1
        self.metrics.interest = self.interest.stats
        self.metrics.set_avatars(len(space))
        self.metrics.observe_tick(time.perf_counter() - t0)
        self.metrics.flush()

    def _entry(self, slot: int) -> dict[str, object]:
        avatar = self.space.avatars[slot]
        assert avatar is not None
        x, z = self.space.positions[slot].tolist()
        return {**avatar.identity(), "x": x, "z": z, "yaw": float(self.space.yaw[slot])}

    def measured(self, ticks: int, seconds: float) -> None:
        """``ticks`` ran in ``seconds`` (due: ``seconds * hz``): update the rate and tell."""
        if seconds <= 0:
            return
        rate = min(1.0, ticks / (seconds * self.hz))
        was = self.busy
        if not was and rate < BUSY_BELOW:
            self.busy = True
            log.warning("the hall is busy: %.0f%% of ticks on time", rate * 100)
        elif was and rate >= CALM_FROM:
            self.busy = False
            log.info("the hall is calm again")
        self.rate = rate
        self.metrics.observe_tick_rate(rate, self.busy, seconds)
        if (self.busy or was) and self.on_load is not None:
            try:
                self.on_load(rate, self.busy)
            except Exception:
                log.exception("telling the load failed")

    async def run(self) -> None:
        """Tick forever at ``hz``; a late tick is not made up for (no bursts): under
        overload the tick stretches and the world runs slower, and once a second the
        achieved rate is measured (`measured`) so the clients can be told."""
        loop = asyncio.get_running_loop()
        period = 1.0 / self.hz
        deadline = loop.time()
        window_start, window_ticks = deadline, 0
        while True:
            try:
                self.step()
            except Exception:
                log.exception("tick failed")
            window_ticks += 1
            now = loop.time()
            if now - window_start >= 1.0:
                self.measured(window_ticks, now - window_start)
                window_start, window_ticks = now, 0
            deadline += period
            delay = deadline - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
                continue
            deadline = loop.time()
            for _ in range(LATE_TURNS):  # late: the next tick is due now (see LATE_TURNS)
                await asyncio.sleep(0)
