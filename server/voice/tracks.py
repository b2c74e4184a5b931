"""The audio the server sends a listener on one m-line (a "slot").

`ForwardedVoice` (forwarding mode) takes Opus payloads from speakers and sends each
at once as RTP through an `RtpOutlet` (see `aiortc_internals`): no queue, no task,
no encoder. `OutboundVoice` (transcoding mode) is an aiortc `MediaStreamTrack` fed
decoded `AudioFrame`s, which aiortc's sender re-encodes, as aiortc does by default;
in forwarding mode an `OutboundVoice` that is never fed keeps the sender idle.

One slot normally carries one speaker. If a listener offered fewer receive m-lines
than there are other speakers, several speakers share a slot and it carries one of
them at a time: the current speaker keeps the slot until they have been silent (sent
nothing) for `HOLD_SECONDS`.

Guarantees: `push_*` never blocks and never grows memory beyond a small bound;
forwarded timestamps only move forward and follow the speaker's own timestamps
(so silence gaps are kept).
"""

from __future__ import annotations

import asyncio
import fractions
import time
from collections import deque
from typing import Any, Protocol, TypeAlias

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

SAMPLE_RATE = 48000
TIME_BASE = fractions.Fraction(1, SAMPLE_RATE)
FRAME_SAMPLES = 960
"""20 ms at 48 kHz: the step used when a timestamp gap cannot be trusted."""
MAX_GAP_SAMPLES = 10 * SAMPLE_RATE
"""A source timestamp jump larger than this (10 s) is treated as a restart."""
HOLD_SECONDS = 0.3

_Item: TypeAlias = "av.Packet[Any] | av.AudioFrame"


class Outlet(Protocol):
    """Where a `ForwardedVoice` sends: `aiortc_internals.RtpOutlet`."""

    def send(self, timestamp: int, payload: bytes, *, marker: bool = False) -> bool: ...


class ForwardedVoice:
    """One outbound slot in forwarding mode. `outlet` is set once the answer is made;
    until then (and while the connection is not up) payloads are dropped."""

    def __init__(self) -> None:
        self.outlet: Outlet | None = None
        self.idle_track = OutboundVoice()
        """Given to aiortc's sender for this m-line so that it runs (RTCP) but idles."""
        self._source: object = None
        self._source_ts = 0
        self._last_push = 0.0
        self._pts = -FRAME_SAMPLES
        self.sent = 0

    def accepts(self, source: object) -> bool:
        """Whether `source` may speak on this slot now (see the module docstring)."""
        return (
            self._source is source
            or self._source is None
            or time.monotonic() - self._last_push >= HOLD_SECONDS
        )

    def push_payload(self, source: object, timestamp: int, payload: bytes) -> None:
        """Send one Opus payload from `source` whose RTP timestamp is `timestamp`.

        The output timestamp advances by the source's own timestamp step, so silence
        gaps (DTX, mute) are preserved; a late or duplicate packet is dropped.
        """
        now = time.monotonic()
        marker = False
        if source is self._source:
            step = (timestamp - self._source_ts) & 0xFFFFFFFF
            if step == 0 or step >= 1 << 31:
                return  # duplicate or reordered-late: the listener's jitter buffer moved on
            if step > MAX_GAP_SAMPLES:
                step = FRAME_SAMPLES
        elif not self.accepts(source):
            return
        elif self._source is None:
            step = FRAME_SAMPLES  # first packet on this slot: output starts at 0
            self._source = source
            marker = True
        else:  # another speaker takes the slot: advance by the wall-clock gap
            gap = round((now - self._last_push) * SAMPLE_RATE / FRAME_SAMPLES)
            step = FRAME_SAMPLES * min(max(gap, 1), MAX_GAP_SAMPLES // FRAME_SAMPLES)
            self._source = source
            marker = True
        self._source_ts = timestamp
        self._last_push = now
        self._pts += step
        outlet = self.outlet
        if outlet is not None and outlet.send(self._pts, payload, marker=marker):
            self.sent += 1

    def stop(self) -> None:
        self.outlet = None
        self.idle_track.stop()


class OutboundVoice(MediaStreamTrack):
    """One outbound audio slot fed decoded frames (transcoding mode), or an idle track."""

    kind = "audio"

    def __init__(self, capacity: int = 25) -> None:
        super().__init__()
        self._items: deque[_Item] = deque(maxlen=capacity)
        self._waiter: asyncio.Future[None] | None = None
        self._source: object = None
        self._last_push = 0.0
        self.dropped = 0
        """Items dropped because the sender fell `capacity` items behind."""

    def accepts(self, source: object) -> bool:
        """Whether `source` may speak on this slot now (see the module docstring)."""
        return (
            self._source is source
            or self._source is None
            or time.monotonic() - self._last_push >= HOLD_SECONDS
        )

    def push_frame(self, source: object, frame: av.AudioFrame) -> None:
        """Queue one decoded frame from `source` (transcoding mode)."""
        if not self.accepts(source):
            return
        self._source = source
        self._last_push = time.monotonic()
        self._put(frame)

    def _put(self, item: _Item) -> None:
        if len(self._items) == self._items.maxlen:
            self.dropped += 1
        self._items.append(item)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def recv(self) -> _Item:
        """Next item for aiortc's sender; waits while there is none.

        Raises `MediaStreamError` once the track is stopped (ends the sender loop).
        """
        while not self._items:
            if self.readyState != "live":
                raise MediaStreamError
            self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter
        return self._items.popleft()

    def stop(self) -> None:
        """End the track; a pending `recv` raises `MediaStreamError`."""
        super().stop()
        self._items.clear()
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
