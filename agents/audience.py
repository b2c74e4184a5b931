"""An audience: attendees listening to a live event, and what each of them heard.

    python -m agents.audience --url ws://127.0.0.1:8000/ws --ws 200 --webrtc 5 --verify 2 \\
        --seconds 10 [--event 1] [--clock-file clock.json] [--processes 2] --json

Every attendee is a citizen: hello, join, ``event_join`` (the first live event
unless ``--event``). On the WebSocket path (``--ws N``) it then sends
``event_listen ws`` and takes the ``event_audio`` messages riding with its
state frames; on the WebRTC path (``--webrtc M``) it offers ``event_rtc_offer``
mode ``listen`` (recvonly m-lines, `agents.voice_peer.VoicePeer`'s listen side).

Nothing is decoded by default. Per attendee and speaker (a speaker's entity id
on the WebSocket, a receive m-line ``track<i>`` on WebRTC) it keeps each
packet's arrival time, RTP sequence number and timestamp, from which the report
gives packets, loss by sequence gaps, RFC 3550 inter-arrival jitter and, when
the sender's send clock is known (``--clock-file``, written by
``agents.host_bot --clock-file``), the added delay of every packet: the host's
n-th packet is due at ``t0 + n * 20 ms`` on CLOCK_MONOTONIC, which every process
of one machine shares, and a packet's n is recovered from the spacing of the RTP
timestamps plus one offset per stream, pinned by the Opus payloads (the host
loops a known list of payloads; forwarding keeps the bytes) and the arrival
times (`SendClock.align`). With a clock the report also gives loss against the send schedule (a
packet due in the window that did not arrive within `LATE_S`).

``--verify K``: K attendees of each path also decode what they heard (Opus
with av on the WebSocket; aiortc's own decoder on WebRTC) and report the
dominant frequency per speaker by FFT.

The WebSocket client is deliberately light (thousands per process): its own
frame parser on an asyncio ``Protocol`` (websockets' sans-I/O client only does
the opening handshake), msgpack, a state frame told by its first bytes
(`agents.swarm.is_state_frame`) and only counted, and one ``event_audio``
message parsed once per process (every listener of a stage gets the same
bytes in a tick). Attendees are spread over ``--processes`` worker processes,
each connection bound to its own loopback source address (as the swarm does).

Prints one JSON object (last line): per path ``listeners``, ``connected``,
``failed``, ``packets``, ``loss`` (sequence gaps), ``loss_schedule``,
``jitter_ms``, ``delay_ms`` (p50/p99/max), ``frames_per_s`` and
``frequencies``, plus ``errors``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import multiprocessing
import os
import time
import urllib.parse
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any, Final, TypeVar, cast

import av
import msgpack
import numpy as np
from websockets.client import ClientProtocol
from websockets.frames import Frame
from websockets.protocol import State
from websockets.uri import parse_uri
from websockets.utils import apply_mask

from agents.swarm import connect_from, is_state_frame, source_address
from agents.voice_peer import (
    FRAME_SAMPLES,
    FRAME_SECONDS,
    SAMPLE_RATE,
    FloatArray,
    VoicePeer,
    _peak,
    _spectrum,
    _to_mono,
)
from protocol.catalogue import PROTOCOL_VERSION

LATE_S: Final = 0.5
"""A packet arriving later than this after it was due counts as lost."""
DELAY_BIN_MS: Final = 0.1
DELAY_BINS: Final = 20_000
"""Delay histogram: 0.1 ms bins up to 2 s (later ones land in the last bin)."""
CONNECT_TIMEOUT_S: Final = 20.0
RAMP_PER_S: Final = 200.0
"""Attendees joining per second (all worker processes together)."""
KEEP_SECONDS: Final = 30.0
"""What an attendee keeps of what it heard (older arrivals are forgotten)."""
WORKER_WAIT_S: Final = 600.0
SHARED_ALIGN: Final = 32
"""Listeners whose arrivals pin a speaker's timestamps on the WebSocket path (the
earliest arrival of each packet among them)."""

T = TypeVar("T")
Places = frozenset[int] | None
"""Where a payload is in the send clock's loop (None: not the clock's sender)."""
Packet = tuple[float, int, int, Places]
"""(arrival, RTP sequence number, RTP timestamp, payload places)."""
Stream = tuple[Sequence[Packet], int | None]
"""One speaker's packets at one listener, and the RTP timestamp of the speaker's packet 0
if known (else `SendClock.align` finds it from these packets)."""


# -- the sender's clock ---------------------------------------------------------------


@dataclass
class SendClock:
    """When a looping sender sends each packet: packet n at ``t0 + n * frame_s``
    (monotonic seconds), with payload ``payloads[n % len(payloads)]``.

    A listener tells which packet it got from the RTP timestamp (its spacing
    counts packets, on both paths: the stage keeps the speaker's spacing) plus
    one offset per stream, found by `align`: the largest offset that puts no
    packet before it was due and agrees with the payloads' places in the loop.
    It is exact unless every packet of the stream came more than `period_s`
    late (1 s for a loop of distinct payloads, 100 ms for a 440 Hz tone, whose
    payloads repeat every 5 frames).
    """

    t0: float
    payloads: list[bytes]
    frame_s: float = FRAME_SECONDS
    places: dict[bytes, frozenset[int]] = field(init=False, repr=False)
    period: int = field(init=False)
    """Frames after which the payload sequence repeats (divides len(payloads))."""

    def __post_init__(self) -> None:
        if not self.payloads:
            raise ValueError("a send clock needs the payloads")
        found: dict[bytes, set[int]] = {}
        for i, payload in enumerate(self.payloads):
            found.setdefault(payload, set()).add(i)
        self.places = {k: frozenset(v) for k, v in found.items()}
        n = len(self.payloads)
        self.period = next(
            q
            for q in range(1, n + 1)
            if n % q == 0 and all(self.payloads[i] == self.payloads[i % q] for i in range(n))
        )

    @property
    def period_s(self) -> float:
        return self.period * self.frame_s

    def mark(self, payload: bytes) -> frozenset[int] | None:
        """The payload's places in the loop; None if the sender never sends it."""
        return self.places.get(payload)

    def due(self, n: int) -> float:
        return self.t0 + n * self.frame_s

    def align(self, points: Sequence[tuple[float, int, frozenset[int]]]) -> int | None:
        """The RTP timestamp of packet 0 of a stream, from (arrival, RTP timestamp,
        payload places) of its clocked packets; None if they fit no offset."""
        if not points:
            return None
        n = len(self.payloads)
        ref = points[0][1]
        rel = [_signed(ts - ref) // FRAME_SAMPLES for _a, ts, _p in points]
        bound = min(
            math.floor((a - self.t0 + 0.002) / self.frame_s) - r
            for (a, _ts, _p), r in zip(points, rel, strict=True)
        )
        step = max(1, len(points) // 50)
        sample = list(zip(points[::step], rel[::step], strict=True))
        for offset in range(bound, bound - n, -1):
            fits = sum(((offset + r) % n) in places for (_a, _ts, places), r in sample)
            if fits >= 0.9 * len(sample):
                return (ref - offset * FRAME_SAMPLES) & 0xFFFFFFFF
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "t0": self.t0,
            "frame_s": self.frame_s,
            "payloads": [p.hex() for p in self.payloads],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SendClock:
        payloads = [bytes.fromhex(p) for p in data["payloads"]]
        return cls(float(data["t0"]), payloads, float(data.get("frame_s", FRAME_SECONDS)))

    def save(self, path: str | Path) -> None:
        """Write atomically (a reader never sees half a file)."""
        target = Path(path)
        temp = target.with_name(target.name + f".{os.getpid()}.tmp")
        temp.write_text(json.dumps(self.to_json()), encoding="utf-8")
        temp.replace(target)

    @classmethod
    async def load(cls, path: str | Path, timeout: float = 30.0) -> SendClock:
        """Read a clock file, waiting up to ``timeout`` for it to appear."""
        target = Path(path)
        deadline = time.monotonic() + timeout
        while not target.exists():
            if time.monotonic() > deadline:
                raise TimeoutError(f"no send clock at {target}")
            await asyncio.sleep(0.1)
        return cls.from_json(json.loads(target.read_text(encoding="utf-8")))


def clock_origin(send_times: Sequence[float], frame_s: float = FRAME_SECONDS) -> float:
    """The schedule origin of a paced sender from its actual send times: a packet
    is never sent before it is due, so the earliest ``t - n * frame_s`` is nearest."""
    if not send_times:
        raise ValueError("nothing was sent yet")
    return min(t - n * frame_s for n, t in enumerate(send_times))


# -- figures ---------------------------------------------------------------------------


@dataclass
class Figures:
    """What a set of listeners received in one window; figures from many merge."""

    listeners: int = 0
    flowing: int = 0
    """Listeners that received at least one packet in the window."""
    packets: int = 0
    seq_expected: int = 0
    seq_received: int = 0
    due: int = 0
    """Clocked packets due in the window, summed over listeners."""
    lost: int = 0
    """Of those, packets that did not arrive within `LATE_S`."""
    delays: list[int] = field(default_factory=lambda: [0] * DELAY_BINS)
    jitter_ms: list[float] = field(default_factory=list)
    frames: int = 0
    """State frames received (WebSocket connections)."""
    window_s: float = 0.0
    frequencies: list[dict[str, float]] = field(default_factory=list)
    """Per verified listener: speaker -> dominant frequency (Hz)."""

    def merge(self, other: Figures) -> Figures:
        self.listeners += other.listeners
        self.flowing += other.flowing
        self.packets += other.packets
        self.seq_expected += other.seq_expected
        self.seq_received += other.seq_received
        self.due += other.due
        self.lost += other.lost
        self.delays = [a + b for a, b in zip(self.delays, other.delays, strict=True)]
        self.jitter_ms += other.jitter_ms
        self.frames += other.frames
        self.window_s = max(self.window_s, other.window_s)
        self.frequencies += other.frequencies
        return self

    @property
    def loss(self) -> float | None:
        """Loss by sequence gaps (what a listener can tell without a clock)."""
        if not self.seq_expected:
            return None
        return max(0.0, 1.0 - self.seq_received / self.seq_expected)

    @property
    def loss_schedule(self) -> float | None:
        return self.lost / self.due if self.due else None

    def delay_ms(self) -> dict[str, float] | None:
        counts = np.asarray(self.delays, dtype=np.int64)
        total = int(counts.sum())
        if not total:
            return None
        cumulative = np.cumsum(counts)

        def at(q: float) -> float:
            k = int(np.searchsorted(cumulative, max(1, math.ceil(q * total))))
            return round((k + 0.5) * DELAY_BIN_MS, 2)

        return {"p50": at(0.5), "p95": at(0.95), "p99": at(0.99), "max": at(1.0), "samples": total}

    def summary(self) -> dict[str, Any]:
        jitter = sorted(self.jitter_ms)
        loss, scheduled = self.loss, self.loss_schedule
        return {
            "listeners": self.listeners,
            "flowing": self.flowing,
            "packets": self.packets,
            "loss": None if loss is None else round(loss, 5),
            "loss_schedule": None if scheduled is None else round(scheduled, 5),
            "due": self.due,
            "lost": self.lost,
            "jitter_ms": {
                "p50": round(jitter[len(jitter) // 2], 3),
                "max": round(jitter[-1], 3),
            }
            if jitter
            else None,
            "delay_ms": self.delay_ms(),
            "frames_per_s": round(self.frames / self.listeners / self.window_s, 2)
            if self.listeners and self.window_s > 0
            else None,
            "frequencies": self.frequencies,
        }

    def to_wire(self) -> dict[str, Any]:
        """A compact picklable form (the delay histogram as (bin, count) pairs)."""
        out = dict(self.__dict__)
        out["delays"] = [(i, c) for i, c in enumerate(self.delays) if c]
        return out

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> Figures:
        fields = dict(data)
        delays = [0] * DELAY_BINS
        for i, c in fields.pop("delays"):
            delays[i] = c
        return cls(delays=delays, **fields)


def analyse(
    streams: Iterable[Stream],
    figures: Figures,
    window: tuple[float, float],
    clock: SendClock | None,
) -> None:
    """Add one listener's streams (one per speaker) to ``figures`` for ``window``.

    Sequence loss and jitter use the packets that arrived in the window; with a
    clock, the clock's sender's packets due in the window give the delays and the
    schedule loss (a packet due in the window and not received within `LATE_S`
    of being due is lost).
    """
    w0, w1 = window
    got_any = False
    due: set[int] = set()
    received: set[int] = set()
    if clock is not None:
        first = max(0, math.ceil((w0 - clock.t0) / clock.frame_s))
        due = set(range(first, max(first, math.ceil((w1 - clock.t0) / clock.frame_s))))
    for packets, known in streams:
        arrived = [p for p in packets if w0 <= p[0] < w1]
        if arrived:
            got_any = True
            figures.packets += len(arrived)
            seqs = _extended(p[1] for p in arrived)
            figures.seq_expected += max(seqs) - min(seqs) + 1
            figures.seq_received += len(set(seqs))
            figures.jitter_ms.append(1000.0 * _jitter(arrived))
        if clock is None:
            continue
        recent = [p for p in packets if p[0] >= w0]  # what is due in the window comes later
        ts0 = known if known is not None else clock.align(_points(recent))
        if ts0 is None:
            continue
        for arrival, _seq, ts, places in recent:
            if places is None:
                continue
            n = (_signed(ts - ts0) + FRAME_SAMPLES // 2) // FRAME_SAMPLES
            if n not in due or n in received:
                continue
            delay = arrival - clock.due(n)
            if delay <= LATE_S:
                received.add(n)
            b = min(DELAY_BINS - 1, max(0, int(delay * 1000.0 / DELAY_BIN_MS)))
            figures.delays[b] += 1
    figures.due += len(due)
    figures.lost += len(due - received)
    figures.listeners += 1
    figures.flowing += got_any
    figures.window_s = max(figures.window_s, w1 - w0)


def _points(packets: Iterable[Packet]) -> list[tuple[float, int, frozenset[int]]]:
    return [(a, ts, places) for a, _seq, ts, places in packets if places is not None]


def shared_origin(clock: SendClock, streams: Iterable[Sequence[Packet]]) -> int | None:
    """`SendClock.align` over several listeners' streams of one speaker that carry the
    speaker's own RTP timestamps (the WebSocket path): each timestamp at its
    earliest arrival."""
    first: dict[int, tuple[float, frozenset[int]]] = {}
    for packets in streams:
        for a, _seq, ts, places in packets:
            if places is not None and (ts not in first or a < first[ts][0]):
                first[ts] = (a, places)
    return clock.align([(a, ts, places) for ts, (a, places) in first.items()])


def _signed(delta: int) -> int:
    """A difference of 32-bit RTP timestamps, in -2**31 .. 2**31 - 1."""
    return (delta + 2**31) % 2**32 - 2**31


def _extended(seqs: Iterable[int]) -> list[int]:
    """16-bit RTP sequence numbers unwrapped (arrival order, small reordering)."""
    out: list[int] = []
    last = -1
    for s in seqs:
        if last < 0:
            x = s
        else:
            base = last & ~0xFFFF
            x = base | s
            if x < last - 0x8000:
                x += 0x10000
            elif x > last + 0x8000:
                x -= 0x10000
        out.append(x)
        last = max(last, x)
    return out


def _jitter(packets: Sequence[Packet]) -> float:
    """RFC 3550 inter-arrival jitter (seconds) of packets in arrival order."""
    j = 0.0
    previous: float | None = None
    for arrival, _seq, ts, _mark in packets:
        transit = arrival - ts / SAMPLE_RATE
        if previous is not None:
            d = transit - previous
            # RTP timestamps wrap at 2**32 samples (~24.8 h): take the nearest.
            period = 2**32 / SAMPLE_RATE
            d = (d + period / 2) % period - period / 2
            j += (abs(d) - j) / 16.0
        previous = transit
    return j


# -- decoding --------------------------------------------------------------------------


def decode_opus(payloads: Iterable[bytes]) -> FloatArray:
    """Decode 48 kHz Opus payloads (in order) to mono PCM in [-1, 1] with av."""
    codec = av.CodecContext.create("libopus", "r")
    assert isinstance(codec, av.AudioCodecContext)
    codec.sample_rate = SAMPLE_RATE
    codec.layout = "stereo"
    chunks: list[FloatArray] = []
    for payload in payloads:
        try:
            frames = codec.decode(av.Packet(payload))
        except av.FFmpegError:
            continue
        chunks.extend(_to_mono(frame) for frame in frames)
    return np.concatenate(chunks) if chunks else np.zeros(0)


def dominant_frequency(pcm: FloatArray) -> float:
    """The strongest spectral peak (Hz) by FFT; 0.0 for less than 20 ms of audio."""
    magnitude = _spectrum(pcm)
    return 0.0 if magnitude is None else _peak(magnitude, len(pcm))


# -- the WebSocket client --------------------------------------------------------------


class WsLink(asyncio.Protocol):
    """A minimal WebSocket client connection, for thousands per process.

    The opening handshake is websockets' sans-I/O `ClientProtocol`; after it the
    frames are parsed here (the server neither masks nor compresses), each binary
    message is handed to ``on_message(data, arrival)`` with the time its bytes
    were read, pings are answered, a close is echoed. Sends are masked frames.
    """

    def __init__(self, url: str, on_message: Callable[[bytes, float], None]) -> None:
        self.url = url
        self.on_message = on_message
        self.transport: asyncio.Transport | None = None
        self.closed: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._handshake: ClientProtocol | None = None
        self._opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        # A connection lost after `open` gave up must not warn "exception never retrieved".
        self._opened.add_done_callback(lambda f: f.cancelled() or f.exception())
        self._buffer = b""
        self._fragments: list[bytes] = []

    async def open(self, source: str | None = None, timeout: float = CONNECT_TIMEOUT_S) -> None:
        loop = asyncio.get_running_loop()
        parts = urllib.parse.urlsplit(self.url)

        async def connect() -> None:
            if source is not None:
                sock = await connect_from(source, self.url)
                await loop.create_connection(lambda: self, sock=sock)
            else:
                await loop.create_connection(
                    lambda: self, parts.hostname or "127.0.0.1", parts.port or 80
                )
            shake = self._handshake = ClientProtocol(parse_uri(self.url), max_size=None)
            shake.send_request(shake.connect())
            self._flush_handshake()
            await self._opened

        await asyncio.wait_for(connect(), timeout)

    def _flush_handshake(self) -> None:
        assert self._handshake is not None and self.transport is not None
        for data in self._handshake.data_to_send():
            if data:
                self.transport.write(data)

    def send(self, message: Mapping[str, Any]) -> None:
        self._send_frame(0x2, msgpack.packb(message, use_bin_type=True))

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            with contextlib.suppress(Exception):
                self._send_frame(0x8, (1000).to_bytes(2, "big"))
            self.transport.close()

    def _send_frame(self, opcode: int, payload: bytes) -> None:
        if self.transport is None or self.transport.is_closing():
            raise ConnectionError("the connection is closed")
        n = len(payload)
        if n < 126:
            header = bytes((0x80 | opcode, 0x80 | n))
        elif n < 1 << 16:
            header = bytes((0x80 | opcode, 0xFE)) + n.to_bytes(2, "big")
        else:
            header = bytes((0x80 | opcode, 0xFF)) + n.to_bytes(8, "big")
        mask = os.urandom(4)
        self.transport.write(header + mask + apply_mask(payload, mask))

    # -- asyncio.Protocol -------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def connection_lost(self, exc: Exception | None) -> None:
        reason = "closed" if exc is None else repr(exc)
        if not self._opened.done():
            self._opened.set_exception(ConnectionError(reason))
        if not self.closed.done():
            self.closed.set_result(reason)

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        if self._handshake is not None:
            self._shake(data, now)
            return
        buf = self._buffer + data if self._buffer else data
        end = len(buf)
        i = 0
        while end - i >= 2:
            b0, b1 = buf[i], buf[i + 1]
            n, h = b1 & 0x7F, 2
            if n == 126:
                if end - i < 4:
                    break
                n, h = int.from_bytes(buf[i + 2 : i + 4], "big"), 4
            elif n == 127:
                if end - i < 10:
                    break
                n, h = int.from_bytes(buf[i + 2 : i + 10], "big"), 10
            if b1 & 0x80:  # a server never masks
                self._fail("masked frame from the server")
                return
            if end - i - h < n:
                break
            self._frame(b0 & 0x0F, bool(b0 & 0x80), buf[i + h : i + h + n], now)
            i += h + n
        self._buffer = buf[i:] if i < end else b""

    def _shake(self, data: bytes, now: float) -> None:
        shake = self._handshake
        assert shake is not None
        shake.receive_data(data)
        events = shake.events_received()
        if shake.state is State.CONNECTING:
            return
        self._handshake = None
        if shake.state is not State.OPEN or shake.handshake_exc is not None:
            self._fail(f"handshake failed: {shake.handshake_exc!r}")
            return
        self._opened.set_result(None)
        for event in events:  # frames that came in the same read as the response
            if isinstance(event, Frame):
                self._frame(int(event.opcode), event.fin, bytes(event.data), now)

    def _frame(self, opcode: int, fin: bool, payload: bytes, now: float) -> None:
        if opcode == 0x0 or not fin:  # fragmented message
            self._fragments.append(payload)
            if not fin:
                return
            payload, self._fragments = b"".join(self._fragments), []
            opcode = 0x2
        if opcode == 0x2:
            self.on_message(payload, now)
        elif opcode == 0x9:
            with contextlib.suppress(ConnectionError):
                self._send_frame(0xA, payload)
        elif opcode == 0x8:
            self.close()

    def _fail(self, reason: str) -> None:
        if not self._opened.done():
            self._opened.set_exception(ConnectionError(reason))
        if self.transport is not None:
            self.transport.abort()


class Refused(Exception):
    """The server answered with an error."""

    def __init__(self, message: Mapping[str, Any]) -> None:
        super().__init__(f"{message.get('code')}: {message.get('msg')}")
        self.code = str(message.get("code"))
        self.message = dict(message)


AudioBatch = tuple[tuple[str, int, int, Places, bytes], ...]
"""One ``event_audio``: (speaker entity id, seq, ts, payload places, Opus) per packet."""


class BatchBook:
    """``event_audio`` messages parsed once per process: every WebSocket listener of
    a stage receives the same bytes in a tick."""

    def __init__(self, clock: SendClock | None) -> None:
        self.clock = clock
        self._parsed: dict[bytes, AudioBatch] = {}

    def set_clock(self, clock: SendClock | None) -> None:
        self.clock = clock
        self._parsed.clear()

    def mark(self, payload: bytes) -> Places:
        """The payload's places in the send clock's loop (None: not the clock's)."""
        return None if self.clock is None else self.clock.mark(payload)

    def get(self, data: bytes) -> AudioBatch | None:
        return self._parsed.get(data)

    def add(self, data: bytes, message: Mapping[str, Any]) -> AudioBatch:
        mark = self.mark
        batch = tuple(
            (str(speaker), int(seq), int(ts), mark(opus), bytes(opus))
            for speaker, seq, ts, opus in message.get("p", ())
        )
        if len(self._parsed) >= 256:
            self._parsed.clear()
        self._parsed[data] = batch
        return batch


class WsAttendee:
    """A citizen in the event over a `WsLink`: joins, listens on the WebSocket if
    ``listen``, counts state frames, keeps the audio batches it received (by
    arrival) and the other messages for `expect`."""

    def __init__(
        self,
        url: str,
        name: str,
        *,
        event: int | None,
        book: BatchBook,
        listen: bool = True,
        source: str | None = None,
        token: str | None = None,
    ) -> None:
        self.url = url
        self.name = name
        self.event = event
        self.book = book
        self.listen = listen
        self.source = source
        self.token = token
        self.id = 0
        self.frames = 0
        self.heard: list[tuple[float, AudioBatch]] = []
        self.messages: deque[dict[str, Any]] = deque(maxlen=100)
        self.errors: list[dict[str, Any]] = []
        self.link: WsLink | None = None
        self._changed = asyncio.Event()
        self._keep = int(KEEP_SECONDS * 50)  # batches: at most one per packet, 50 a second

    async def join(self, timeout: float = CONNECT_TIMEOUT_S) -> None:
        """Connect, say hello, enter the world, attend the event (and listen)."""
        link = self.link = WsLink(self.url, self._on_message)
        await link.open(self.source, timeout)
        hello: dict[str, Any] = {"t": "hello", "v": PROTOCOL_VERSION, "lang": "en"}
        if self.token:
            hello["token"] = self.token
        link.send(hello)
        await self.expect("welcome", timeout)
        link.send({"t": "join", "name": self.name, "avatar": "round"})
        joined = await self.expect("joined", timeout)
        self.id = int(joined["id"])
        if self.event is None:
            link.send({"t": "event_schedule"})
            schedule = await self.expect("event_schedule", timeout)
            self.event = live_event(schedule)
        link.send({"t": "event_join", "event": self.event})
        await self.expect("event_joined", timeout)
        if self.listen:
            link.send({"t": "event_listen", "path": "ws"})

    def send(self, message: Mapping[str, Any]) -> None:
        assert self.link is not None
        self.link.send(message)

    def _on_message(self, data: bytes, now: float) -> None:
        if is_state_frame(data):
            self.frames += 1
            return
        batch = self.book.get(data)
        if batch is None:
            message = msgpack.unpackb(data, raw=False)
            t = message.get("t")
            if t != "event_audio":
                if t == "error":
                    self.errors.append(message)
                self.messages.append(message)
                self._changed.set()
                return
            batch = self.book.add(data, message)
        heard = self.heard
        heard.append((now, batch))
        if len(heard) > 2 * self._keep:
            del heard[: len(heard) - self._keep]

    async def expect(self, t: str, timeout: float = 10.0, **match: Any) -> dict[str, Any]:
        """The first message of type ``t`` (matching ``match``) not yet taken; an error
        message arriving first raises `Refused`."""
        assert self.link is not None
        deadline = time.monotonic() + timeout
        errors_seen = len(self.errors)
        while True:
            for message in self.messages:
                if message.get("t") == t and all(message.get(k) == v for k, v in match.items()):
                    self.messages.remove(message)
                    return message
            if len(self.errors) > errors_seen and t != "error":
                raise Refused(self.errors[-1])
            if self.link.closed.done():
                raise ConnectionError(f"{self.name}: connection {self.link.closed.result()}")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{self.name}: no {t!r} in {timeout} s")
            self._changed.clear()
            closed: asyncio.Future[Any] = asyncio.ensure_future(asyncio.shield(self.link.closed))
            changed = asyncio.ensure_future(self._changed.wait())
            await asyncio.wait({closed, changed}, timeout=remaining, return_when="FIRST_COMPLETED")
            closed.cancel()
            changed.cancel()

    def streams(self, since: float = 0.0) -> dict[str, list[Packet]]:
        """Packets heard per speaker (since ``since``), in arrival order."""
        out: dict[str, list[Packet]] = {}
        for now, batch in self.heard:
            if now < since:
                continue
            for speaker, seq, ts, mark, _opus in batch:
                out.setdefault(speaker, []).append((now, seq, ts, mark))
        return out

    def pcm(self, speaker: str, since: float = 0.0) -> FloatArray:
        """What ``speaker`` said (heard since ``since``), decoded in sequence order."""
        packets = [
            (seq, opus)
            for now, batch in self.heard
            if now >= since
            for who, seq, _ts, _mark, opus in batch
            if who == speaker
        ]
        ordered = sorted(
            zip(_extended(s for s, _ in packets), (o for _, o in packets), strict=True)
        )
        return decode_opus(opus for _seq, opus in ordered)

    def frequencies(self, since: float = 0.0) -> dict[str, float]:
        speakers = sorted({who for now, b in self.heard if now >= since for who, *_ in b})
        return {s: round(dominant_frequency(self.pcm(s, since)), 1) for s in speakers}

    def clear(self) -> None:
        self.heard.clear()

    def forget(self, before: float) -> None:
        """Forget what arrived before ``before``."""
        self.heard = [h for h in self.heard if h[0] >= before]

    async def close(self) -> None:
        if self.link is not None:
            self.link.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self.link.closed), 3.0)


def live_event(schedule: Mapping[str, Any]) -> int:
    """The id of the first live event of an ``event_schedule`` message."""
    for event in schedule.get("events", ()):
        if event.get("status") == "live":
            return int(event["id"])
    raise LookupError("no live event in the schedule")


class RtcAttendee:
    """A citizen in the event listening over WebRTC (`VoicePeer` recvonly), its
    signalling on a `WsAttendee`. Each receive m-line is a stream ``track<i>``;
    its packets are counted at the receiver and, unless ``verify``, go no further
    (no jitter buffer, no decoder)."""

    def __init__(
        self,
        url: str,
        name: str,
        *,
        event: int | None,
        book: BatchBook,
        verify: bool = False,
        slots: int = 3,
        source: str | None = None,
    ) -> None:
        self.ws = WsAttendee(url, name, event=event, book=book, listen=False, source=source)
        self.name = name
        self.verify = verify
        self.book = book
        self.peer = VoicePeer(
            name, tone_hz=None, receive_slots=slots, record=verify, keep_seconds=KEEP_SECONDS
        )
        self.tracks: list[list[Packet]] = []
        for receiver in self.peer.pc.getReceivers():
            self.tracks.append(self._count(receiver))

    def _count(self, receiver: Any) -> list[Packet]:
        """Count every RTP packet of ``receiver`` (aiortc's private per-packet hook);
        pass it on to aiortc (jitter buffer, decoder) only when verifying."""
        packets: list[Packet] = []
        original: Callable[..., Awaitable[None]] = receiver._handle_rtp_packet
        mark = self.book.mark
        keep = int(KEEP_SECONDS / FRAME_SECONDS)
        verify = self.verify

        async def counted(packet: Any, arrival_time_ms: int) -> None:
            packets.append(
                (time.monotonic(), packet.sequence_number, packet.timestamp, mark(packet.payload))
            )
            if len(packets) > 2 * keep:
                del packets[: len(packets) - keep]
            if verify:
                await original(packet, arrival_time_ms=arrival_time_ms)

        receiver._handle_rtp_packet = counted
        return packets

    async def join(self, timeout: float = CONNECT_TIMEOUT_S) -> None:
        await self.ws.join(timeout)

        async def signal(offer: str) -> str:
            self.ws.send({"t": "event_rtc_offer", "mode": "listen", "sdp": offer})
            answer = await self.ws.expect("event_rtc_answer", timeout, mode="listen")
            return str(answer["sdp"])

        await self.peer.connect(signal)
        await self.peer.wait_connected(timeout)

    def streams(self) -> dict[str, list[Packet]]:
        return {f"track{i}": list(p) for i, p in enumerate(self.tracks) if p}

    def frequencies(self) -> dict[str, float]:
        peer = self.peer
        return {
            f"track{i}": round(peer.dominant_frequency(i), 1)
            for i in range(len(peer.tracks))
            if peer.rms(i) >= 0.01
        }

    def clear(self) -> None:
        for packets in self.tracks:
            packets.clear()
        self.peer.clear()
        self.ws.clear()

    def forget(self, before: float) -> None:
        for packets in self.tracks:
            packets[:] = [p for p in packets if p[0] >= before]

    async def close(self) -> None:
        await self.peer.close()
        await self.ws.close()


# -- a group of attendees in one process ----------------------------------------------


@dataclass
class Report:
    ws: Figures
    webrtc: Figures
    connected: dict[str, int]
    failed: dict[str, int]
    errors: list[str]
    event: int | None = None

    def to_wire(self) -> dict[str, Any]:
        return {
            "ws": self.ws.to_wire(),
            "webrtc": self.webrtc.to_wire(),
            "connected": self.connected,
            "failed": self.failed,
            "errors": self.errors,
            "event": self.event,
        }

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> Report:
        return cls(
            Figures.from_wire(data["ws"]),
            Figures.from_wire(data["webrtc"]),
            dict(data["connected"]),
            dict(data["failed"]),
            list(data["errors"]),
            data.get("event"),
        )

    def merge(self, other: Report) -> Report:
        self.ws.merge(other.ws)
        self.webrtc.merge(other.webrtc)
        for path in ("ws", "webrtc"):
            self.connected[path] = self.connected.get(path, 0) + other.connected.get(path, 0)
            self.failed[path] = self.failed.get(path, 0) + other.failed.get(path, 0)
        self.errors += other.errors
        self.event = self.event if self.event is not None else other.event
        return self


class AudienceGroup:
    """Attendees of one process: add them, then `report` on a window."""

    def __init__(self, url: str, event: int | None, clock: SendClock | None) -> None:
        self.url = url
        self.event = event
        self.book = BatchBook(clock)
        self.ws: list[WsAttendee] = []
        self.webrtc: list[RtcAttendee] = []
        self.verify_ws: list[WsAttendee] = []
        self.failed = {"ws": 0, "webrtc": 0}
        self.errors: list[str] = []
        self._marks: list[dict[str, float]] = []

    @property
    def clock(self) -> SendClock | None:
        return self.book.clock

    @clock.setter
    def clock(self, clock: SendClock | None) -> None:
        self.book.set_clock(clock)

    async def add(
        self,
        *,
        ws: int = 0,
        webrtc: int = 0,
        first: int = 0,
        verify_ws: int = 0,
        verify_webrtc: int = 0,
        rate: float = RAMP_PER_S,
    ) -> None:
        """Join ``ws`` WebSocket and ``webrtc`` WebRTC attendees (numbered from
        ``first``, which also picks their source addresses), ``rate`` per second."""
        plan = [("webrtc", i) for i in range(webrtc)] + [("ws", i) for i in range(ws)]
        began = time.monotonic()

        async def one(k: int, path: str, i: int) -> None:
            delay = began + k / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            index = first + k
            name = f"Listener {index}"
            source = source_address(self.url, index)
            attendee: WsAttendee | RtcAttendee
            if path == "ws":
                attendee = WsAttendee(
                    self.url, name, event=self.event, book=self.book, source=source
                )
            else:
                attendee = RtcAttendee(
                    self.url,
                    name,
                    event=self.event,
                    book=self.book,
                    verify=i < verify_webrtc,
                    source=source,
                )
            try:
                await attendee.join()
            except Exception as exc:  # counted, not raised: an audience reports
                self.failed[path] += 1
                self.errors.append(f"{path} {name}: {exc!r}")
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(attendee.close(), 5.0)
                return
            joined = attendee if isinstance(attendee, WsAttendee) else attendee.ws
            self.event = self.event if self.event is not None else joined.event
            if isinstance(attendee, WsAttendee):
                self.ws.append(attendee)
                if i < verify_ws:
                    self.verify_ws.append(attendee)
            else:
                self.webrtc.append(attendee)

        await asyncio.gather(*(one(k, path, i) for k, (path, i) in enumerate(plan)))

    async def remove(self, count: int) -> None:
        """Leave with ``count`` attendees: those whose connection closed first, then
        the last to join."""

        def closed(a: WsAttendee) -> bool:
            return a.link is not None and a.link.closed.done()

        everyone: list[WsAttendee | RtcAttendee] = [*self.webrtc, *self.ws]
        everyone.sort(key=lambda a: not closed(a if isinstance(a, WsAttendee) else a.ws))
        gone = everyone[:count] if count > 0 else []
        for attendee in gone:
            if isinstance(attendee, WsAttendee):
                self.ws.remove(attendee)
                if attendee in self.verify_ws:
                    self.verify_ws.remove(attendee)
            else:
                self.webrtc.remove(attendee)
        await asyncio.gather(*(a.close() for a in gone), return_exceptions=True)

    def clear(self) -> None:
        """Forget everything heard so far (a window starts)."""
        for a in self.ws:
            a.clear()
        for r in self.webrtc:
            r.clear()

    def mark(self) -> dict[str, float]:
        """Now, this process's CPU seconds and the state frames received so far: the
        parent takes one at each end of a window."""
        frames = sum(a.frames for a in self.ws)
        mark = {"t": time.monotonic(), "cpu": time.process_time(), "frames": float(frames)}
        self._marks = [*self._marks[-1:], mark]
        return mark

    def report(self, window: tuple[float, float], *, verify_since: float | None = None) -> Report:
        """Figures of ``window`` (call it `LATE_S` after the window's end). State frames
        are those between the last two `mark`s; frequencies from what was heard since
        ``verify_since`` (default: the window's start)."""
        ws, rtc = Figures(), Figures()
        clock = self.clock
        heard = [a.streams(since=window[0] - 1.0) for a in self.ws]
        origins: dict[str, int | None] = {}
        if clock is not None:  # one timestamp origin per speaker, shared by every listener
            for speaker in {s for streams in heard for s in streams}:
                some = [h[speaker] for h in heard if speaker in h][:SHARED_ALIGN]
                origins[speaker] = shared_origin(clock, some)
        for streams in heard:
            analyse(((p, origins.get(s)) for s, p in streams.items()), ws, window, clock)
        for r in self.webrtc:
            analyse(((p, None) for p in r.streams().values()), rtc, window, clock)
        if len(self._marks) == 2:
            ws.frames = int(self._marks[1]["frames"] - self._marks[0]["frames"])
        since = window[0] if verify_since is None else verify_since
        ws.frequencies = [a.frequencies(since) for a in self.verify_ws]
        rtc.frequencies = [r.frequencies() for r in self.webrtc if r.verify]
        refused = [
            f"error {e.get('code')}"
            for a in [*self.ws, *(r.ws for r in self.webrtc)]
            for e in a.errors
        ]
        return Report(
            ws,
            rtc,
            {"ws": len(self.ws), "webrtc": len(self.webrtc)},
            dict(self.failed),
            self.errors + refused,
            self.event,
        )

    def forget(self, before: float) -> None:
        """Forget what arrived before ``before`` (a ramp's next window)."""
        for a in self.ws:
            a.forget(before)
        for r in self.webrtc:
            r.forget(before)

    def closed(self) -> int:
        """Attendees whose connection closed (they are still counted as connected)."""
        links = [a.link for a in self.ws] + [r.ws.link for r in self.webrtc]
        return sum(1 for link in links if link is not None and link.closed.done())

    async def close(self) -> None:
        await asyncio.gather(
            *(a.close() for a in self.ws), *(r.close() for r in self.webrtc), return_exceptions=True
        )


# -- worker processes ------------------------------------------------------------------


async def _recv(conn: Connection, timeout: float) -> Any:
    def get() -> Any:
        if not conn.poll(timeout):
            raise TimeoutError("no answer in time")
        return conn.recv()

    return await asyncio.to_thread(get)


async def _serve(conn: Connection, url: str, event: int | None, clock: Any) -> None:
    """A worker: an `AudienceGroup` driven by requests on ``conn``, answered in order."""
    group = AudienceGroup(url, event, None if clock is None else SendClock.from_json(clock))
    try:
        while True:
            request: dict[str, Any] = await _recv(conn, WORKER_WAIT_S)
            op = request.pop("op")
            answer: Any = None
            if op == "add":
                await group.add(**request)
                answer = {"connected": len(group.ws) + len(group.webrtc), **group.failed}
            elif op == "remove":
                await group.remove(int(request["count"]))
                answer = {"connected": len(group.ws) + len(group.webrtc)}
            elif op == "clock":
                group.clock = SendClock.from_json(request["clock"])
            elif op == "clear":
                group.clear()
            elif op == "mark":
                answer = group.mark()
            elif op == "report":
                window = (float(request["window"][0]), float(request["window"][1]))
                report = group.report(window, verify_since=request.get("verify_since"))
                answer = {**report.to_wire(), "closed": group.closed()}
                group.forget(window[1])
            elif op == "stop":
                break
            conn.send(answer)
    finally:
        await group.close()
        with contextlib.suppress(OSError):
            conn.send("stopped")


def _worker_main(conn: Connection, url: str, event: int | None, clock: Any) -> None:
    try:
        _run_loop(lambda: _serve(conn, url, event, clock))
    except (EOFError, BrokenPipeError, TimeoutError, KeyboardInterrupt):
        pass  # the parent is gone or gave up
    finally:
        conn.close()


def _run_loop(main: Callable[[], Awaitable[T]]) -> T:
    async def go() -> T:
        return await main()

    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux/macOS
        return asyncio.run(go())
    result: T = uvloop.run(go())
    return result


def _shares(total: int, parts: int) -> list[int]:
    return [total // parts + (i < total % parts) for i in range(parts)]


class AudienceProcesses:
    """Attendees spread over worker processes (spawned), driven from this one."""

    def __init__(
        self, url: str, event: int | None, clock: SendClock | None, processes: int
    ) -> None:
        self.url = url
        self.event = event
        self.clock = clock
        self.count = max(1, processes)
        self.procs: list[BaseProcess] = []
        self.conns: list[Connection] = []
        self.joined = 0
        self.marks: list[list[dict[str, float]]] = []

    async def start(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        clock = None if self.clock is None else self.clock.to_json()
        for _ in range(self.count):
            mine, theirs = ctx.Pipe()
            proc = ctx.Process(
                target=_worker_main, args=(theirs, self.url, self.event, clock), daemon=True
            )
            proc.start()
            theirs.close()
            self.procs.append(proc)
            self.conns.append(mine)

    async def _all(self, requests: Sequence[dict[str, Any] | None], timeout: float) -> list[Any]:
        asked = [(c, r) for c, r in zip(self.conns, requests, strict=True) if r is not None]
        for conn, request in asked:
            conn.send(request)
        return list(await asyncio.gather(*(_recv(conn, timeout) for conn, _ in asked)))

    async def add(
        self, *, ws: int = 0, webrtc: int = 0, verify: int = 0, rate: float = RAMP_PER_S
    ) -> None:
        """Join more attendees, shared out evenly; the verified ones in the first process."""
        n = self.count
        requests: list[dict[str, Any] | None] = []
        first = self.joined
        for i, (w, r) in enumerate(zip(_shares(ws, n), _shares(webrtc, n), strict=True)):
            requests.append(
                {
                    "op": "add",
                    "ws": w,
                    "webrtc": r,
                    "first": first,
                    "verify_ws": verify if i == 0 else 0,
                    "verify_webrtc": verify if i == 0 else 0,
                    "rate": rate / n,
                }
                if w or r
                else None
            )
            first += w + r
        self.joined = first
        timeout = (ws + webrtc) / rate + 2 * CONNECT_TIMEOUT_S + 30.0
        await self._all(requests, timeout)

    async def remove(self, count: int) -> None:
        """Leave with ``count`` attendees, taken evenly from the processes."""
        requests: list[dict[str, Any] | None] = [
            {"op": "remove", "count": k} if k else None for k in _shares(count, self.count)
        ]
        await self._all(requests, 120.0)

    async def set_clock(self, clock: SendClock) -> None:
        self.clock = clock
        await self._all([{"op": "clock", "clock": clock.to_json()}] * self.count, 30.0)

    async def mark(self) -> list[dict[str, float]]:
        marks: list[dict[str, float]] = await self._all([{"op": "mark"}] * self.count, 30.0)
        self.marks = [*self.marks[-1:], marks]
        return marks

    async def report(
        self, window: tuple[float, float], verify_since: float | None = None
    ) -> tuple[Report, list[float], int]:
        """The merged report, each process's CPU cores between the last two marks, and
        how many attendees' connections closed."""
        request = {"op": "report", "window": list(window), "verify_since": verify_since}
        parts = await self._all([request] * self.count, 120.0)
        merged = Report(Figures(), Figures(), {}, {}, [])
        closed = 0
        for part in parts:
            merged.merge(Report.from_wire(part))
            closed += int(part["closed"])
        cores: list[float] = []
        if len(self.marks) == 2:
            for a, b in zip(self.marks[0], self.marks[1], strict=True):
                cores.append(round((b["cpu"] - a["cpu"]) / max(b["t"] - a["t"], 1e-9), 3))
            merged.ws.frames = int(
                sum(b["frames"] - a["frames"] for a, b in zip(*self.marks, strict=True))
            )
        return merged, cores, closed

    async def stop(self) -> None:
        for conn in self.conns:
            with contextlib.suppress(OSError):
                conn.send({"op": "stop"})
        for conn in self.conns:
            with contextlib.suppress(Exception):
                while await _recv(conn, 30.0) != "stopped":
                    pass
            conn.close()
        for proc in self.procs:
            await asyncio.to_thread(proc.join, 10.0)
            if proc.is_alive():  # only our own worker, by its handle
                proc.terminate()
                await asyncio.to_thread(proc.join, 5.0)


# -- the command ----------------------------------------------------------------------


async def audience(
    url: str,
    *,
    ws: int,
    webrtc: int,
    verify: int = 0,
    seconds: float = 10.0,
    event: int | None = None,
    clock: SendClock | None = None,
    processes: int | None = None,
) -> dict[str, Any]:
    """Join the attendees, listen for a window of ``seconds``, and report."""
    total = ws + webrtc
    count = processes if processes is not None else max(1, min(2, os.cpu_count() or 1, total // 50))
    fleet = AudienceProcesses(url, event, clock, count)
    began = time.monotonic()
    await fleet.start()
    try:
        await fleet.add(ws=ws, webrtc=webrtc, verify=verify)
        joined_s = time.monotonic() - began
        await asyncio.sleep(1.0)  # settle: the first batches and frames arrive
        start = (await fleet.mark())[0]["t"]
        await asyncio.sleep(seconds)
        end = (await fleet.mark())[0]["t"]
        await asyncio.sleep(LATE_S + 0.1)
        report, cores, closed = await fleet.report((start, end))
    finally:
        await fleet.stop()
    return {
        "url": url,
        "event": report.event,
        "seconds": round(end - start, 2),
        "join_s": round(joined_s, 2),
        "processes": count,
        "clock": clock is not None,
        "ws": {
            **report.ws.summary(),
            "connected": report.connected.get("ws", 0),
            "failed": report.failed.get("ws", 0),
        },
        "webrtc": {
            **{k: v for k, v in report.webrtc.summary().items() if k != "frames_per_s"},
            "connected": report.connected.get("webrtc", 0),
            "failed": report.failed.get("webrtc", 0),
        },
        "closed": closed,
        "errors": report.errors[:20],
        "error_count": len(report.errors),
        "cpu_cores": cores,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="agents.audience", description=__doc__.splitlines()[0])
    p.add_argument("--url", default="ws://127.0.0.1:8000/ws")
    p.add_argument("--event", type=int, default=None, help="event id (default: the first live)")
    p.add_argument("--ws", type=int, default=10, help="WebSocket listeners")
    p.add_argument("--webrtc", type=int, default=0, help="WebRTC listeners")
    p.add_argument("--verify", type=int, default=0, help="listeners per path that decode + FFT")
    p.add_argument("--seconds", type=float, default=10.0, help="the measurement window")
    p.add_argument("--clock-file", default=None, help="the host's send clock (agents.host_bot)")
    p.add_argument("--processes", type=int, default=None, help="worker processes")
    p.add_argument("--json", action="store_true", help="print one JSON object (the default)")
    args = p.parse_args(argv)

    async def run() -> dict[str, Any]:
        clock = None if args.clock_file is None else await SendClock.load(args.clock_file)
        return await audience(
            args.url,
            ws=args.ws,
            webrtc=args.webrtc,
            verify=args.verify,
            seconds=args.seconds,
            event=args.event,
            clock=clock,
            processes=args.processes,
        )

    result = _run_loop(run)
    print(json.dumps(result))
    ok = result["ws"]["failed"] == 0 and result["webrtc"]["failed"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
