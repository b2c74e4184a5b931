"""`VoicePeer`: a headless WebRTC voice client on aiortc, for tests and load runs.

It plays a sine tone (or a WAV file) as its microphone and records what it hears::

    peer = VoicePeer("citizen", tone_hz=440.0)
    await peer.connect(signal)          # signal(offer_sdp) -> answer_sdp, any transport
    await peer.wait_connected()
    await peer.wait_for_audio(1.0)      # at least 1 s of decoded audio received
    peer.dominant_frequency()           # ~440.0 if the other side sends 440 Hz
    await peer.close()

The microphone is encoded once, up front, with libopus (20 ms frames, mono, VBR) and
the packets are replayed in a loop at real-time pace: the client costs almost no CPU
to send, and every payload it sent is known (`sent_payloads`), so a test can tell a
forwarded payload from a re-encoded one. Each sent packet's send time is kept in
`send_times` (monotonic seconds, by packet index = RTP timestamp / 960).

It offers `receive_slots` audio m-lines (the first also carries its microphone), so
it can hear that many other speakers at once; each received track is recorded
separately (`pcm(track=i)`), the last `keep_seconds` of each. `tone_hz=0.0` sends
digital silence; `tone_hz=None` only listens (all m-lines recvonly).

With `audio_level=True` each packet carries the RFC 6464 audio level of its frame
(as a browser's does; computed from the PCM up front), `fixed_audio_level=n`
advertises level `n` on every packet whatever the audio (0 loudest .. 127 silence):
a server that picks the loudest speakers can be tested on either signal.

Only `aiortc`, `av` and `numpy`: agents never import the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import ipaddress
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import aioice.ice
import av
import numpy as np
import numpy.typing as npt
from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

SAMPLE_RATE = 48000
FRAME_SAMPLES = 960
FRAME_SECONDS = FRAME_SAMPLES / SAMPLE_RATE
TIME_BASE = fractions.Fraction(1, SAMPLE_RATE)

Signal = Callable[[str], Awaitable[str]]
"""Takes our SDP offer, returns the server's SDP answer (VoiceRouter.join, a WebSocket…)."""

FloatArray = npt.NDArray[np.float64]


def use_host_addresses(addresses: Sequence[str] | None) -> None:
    """Gather ICE host candidates only on these literal addresses (process-wide).

    aioice never gathers on loopback and has no per-connection setting, so tests and
    load runs on one machine call `use_host_addresses(["127.0.0.1"])`.
    """
    if addresses is None:
        aioice.ice.get_host_addresses = _AIOICE_DEFAULT
        return
    parsed = [ipaddress.ip_address(a) for a in addresses]

    def chosen(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return [
            str(a) for a in parsed if (a.version == 4 and use_ipv4) or (a.version == 6 and use_ipv6)
        ]

    aioice.ice.get_host_addresses = chosen


_AIOICE_DEFAULT = aioice.ice.get_host_addresses


def tone(frequency: float, seconds: float = 1.0, amplitude: float = 0.3) -> FloatArray:
    """Mono PCM in [-1, 1] at 48 kHz. A whole number of cycles loops without a click."""
    t = np.arange(round(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return amplitude * np.sin(2 * np.pi * frequency * t)


def read_wav(path: str | Path) -> FloatArray:
    """Decode an audio file (WAV or anything FFmpeg reads) to mono 48 kHz PCM in [-1, 1]."""
    resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    chunks: list[FloatArray] = []
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1).astype(np.float64))
    for out in resampler.resample(None):
        chunks.append(out.to_ndarray().reshape(-1).astype(np.float64))
    if not chunks:
        raise ValueError(f"{path}: no audio")
    return np.concatenate(chunks) / 32768.0


def encode_opus(pcm: FloatArray, bitrate: int = 32000) -> list[bytes]:
    """Encode mono 48 kHz PCM to one Opus payload per 20 ms (the tail is zero-padded).

    The signal is encoded twice in a row and the second pass kept, so a payload list
    played in a loop starts from a warmed-up encoder state.
    """
    frames = -(-len(pcm) // FRAME_SAMPLES)
    padded = np.zeros(frames * FRAME_SAMPLES)
    padded[: len(pcm)] = pcm
    samples = (np.clip(padded, -1, 1) * 32767).astype(np.int16)
    codec = av.CodecContext.create("libopus", "w")
    assert isinstance(codec, av.AudioCodecContext)
    codec.sample_rate = SAMPLE_RATE
    codec.layout = "mono"
    codec.format = "s16"
    codec.bit_rate = bitrate
    codec.time_base = TIME_BASE
    codec.options = {"application": "voip", "frame_duration": "20"}
    payloads: list[bytes] = []
    for i in range(2 * frames):
        chunk = samples[(i % frames) * FRAME_SAMPLES : (i % frames + 1) * FRAME_SAMPLES]
        frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = i * FRAME_SAMPLES
        frame.time_base = TIME_BASE
        payloads.extend(bytes(p) for p in codec.encode(frame))
    payloads.extend(bytes(p) for p in codec.encode(None))
    return payloads[-frames:]


def audio_levels(pcm: FloatArray) -> list[int]:
    """RFC 6464 level of each 20 ms frame of mono PCM in [-1, 1], as RFC 6465
    Appendix A (and aiortc) compute it: 0 = 0 dBov (loudest) .. 127 = silence."""
    frames = -(-len(pcm) // FRAME_SAMPLES)
    padded = np.zeros(frames * FRAME_SAMPLES)
    padded[: len(pcm)] = np.clip(pcm, -1, 1)
    rms = np.sqrt(np.mean(padded.reshape(frames, FRAME_SAMPLES) ** 2, axis=1))
    with np.errstate(divide="ignore"):
        dbov = np.where(rms > 0, 20 * np.log10(np.maximum(rms, 1e-12)), -127.0)
    levels: list[int] = np.rint(-np.clip(dbov, -127.0, 0.0)).astype(int).tolist()
    return levels


class Microphone(MediaStreamTrack):
    """Replays pre-encoded Opus payloads at 20 ms pace, from `start()` to `stop_sending()`.

    Yields `av.Packet`s (aiortc's sender packs them without encoding). Records the
    monotonic time each packet was handed to the sender in `send_times`.
    """

    kind = "audio"

    def __init__(self, payloads: Sequence[bytes], levels: Sequence[int] | None = None) -> None:
        super().__init__()
        if not payloads:
            raise ValueError("a microphone needs at least one payload")
        if levels is not None and len(levels) != len(payloads):
            raise ValueError("one audio level per payload")
        self.payloads = list(payloads)
        self.levels = None if levels is None else list(levels)
        """RFC 6464 level of each payload, sent with it (None: no audio level)."""
        self.last_level: int | None = None
        """The level of the packet `recv` returned last."""
        self.send_times: list[float] = []
        self._started = asyncio.Event()
        self._sending = False
        self._origin = 0.0

    @property
    def sending(self) -> bool:
        return self._sending

    def start(self) -> None:
        """Start (or resume) sending; timing continues from now."""
        if not self._sending:
            self._sending = True
            self._origin = time.monotonic() - len(self.send_times) * FRAME_SECONDS
            self._started.set()

    def stop_sending(self) -> None:
        """Pause sending (no packets, not silence packets), as a muted browser would."""
        self._sending = False
        self._started.clear()

    async def recv(self) -> av.Packet[Any]:
        while True:
            if self.readyState != "live":
                raise MediaStreamError
            if not self._sending:
                await self._started.wait()
                continue
            index = len(self.send_times)
            delay = self._origin + index * FRAME_SECONDS - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
                if not self._sending:
                    continue
            packet = av.Packet(self.payloads[index % len(self.payloads)])
            if self.levels is not None:
                self.last_level = self.levels[index % len(self.levels)]
            packet.pts = index * FRAME_SAMPLES
            packet.time_base = TIME_BASE
            self.send_times.append(time.monotonic())
            return packet

    def stop(self) -> None:
        super().stop()
        self._started.set()


class VoicePeer:
    """One voice participant. See the module docstring for the life cycle.

    `tone_hz` or `wav` chooses the microphone; with neither (`tone_hz=None`) the
    peer only listens and all its m-lines are recvonly. `autostart=False` keeps the
    microphone silent until `start_microphone()` (the benchmark starts all senders
    at once). `record=False` leaves received tracks unread (the benchmark taps RTP
    instead of decoding).
    """

    def __init__(
        self,
        name: str = "peer",
        *,
        tone_hz: float | None = 440.0,
        wav: str | Path | None = None,
        amplitude: float = 0.3,
        bitrate: int = 32000,
        receive_slots: int = 2,
        autostart: bool = True,
        record: bool = True,
        keep_seconds: float = 10.0,
        host_addresses: Sequence[str] | None = ("127.0.0.1",),
        audio_level: bool = False,
        fixed_audio_level: int | None = None,
    ) -> None:
        if host_addresses is not None:
            use_host_addresses(host_addresses)
        self.name = name
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.microphone: Microphone | None = None
        pcm: FloatArray | None = None
        if wav is not None:
            pcm = read_wav(wav) * amplitude / 0.3
        elif tone_hz is not None:
            pcm = tone(tone_hz, 1.0, amplitude)
        if pcm is not None:
            payloads = encode_opus(pcm, bitrate)
            levels: list[int] | None = None
            if fixed_audio_level is not None:
                levels = [fixed_audio_level & 0x7F] * len(payloads)
            elif audio_level:
                levels = audio_levels(pcm)[: len(payloads)]
            self.microphone = Microphone(payloads, levels)
        for i in range(max(receive_slots, 1)):
            if i == 0 and self.microphone is not None:
                direction = "sendrecv" if receive_slots > 0 else "sendonly"
                transceiver = self.pc.addTransceiver(self.microphone, direction=direction)
                if self.microphone.levels is not None:
                    _send_audio_levels(transceiver.sender, self.microphone)
            else:
                self.pc.addTransceiver("audio", direction="recvonly")
        self.autostart = autostart
        self.record = record
        self.keep_samples = int(keep_seconds * SAMPLE_RATE)
        self.tracks: list[deque[FloatArray]] = []
        self.samples_received: list[int] = []
        self.frames_received = 0
        self._readers: list[asyncio.Task[None]] = []
        self._connected = asyncio.Event()
        self._failed = False
        self.pc.on("track", self._on_track)
        self.pc.on("connectionstatechange", self._on_state)

    @property
    def sent_payloads(self) -> list[bytes]:
        """Every distinct Opus payload this peer sends (they repeat in a loop)."""
        return [] if self.microphone is None else list(self.microphone.payloads)

    @property
    def send_times(self) -> list[float]:
        return [] if self.microphone is None else self.microphone.send_times

    async def connect(self, signal: Signal) -> None:
        """Make an offer (with all ICE candidates), pass it to `signal`, apply the answer."""
        await self.pc.setLocalDescription(await self.pc.createOffer())
        description = self.pc.localDescription
        assert description is not None
        answer = await signal(description.sdp)
        await self.pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))

    async def wait_connected(self, timeout: float = 10.0) -> None:
        """Wait until ICE and DTLS are up; then the microphone starts if `autostart`."""
        await asyncio.wait_for(self._connected.wait(), timeout)
        if self._failed:
            raise ConnectionError(f"{self.name}: connection {self.pc.connectionState}")
        if self.autostart:
            self.start_microphone()

    def start_microphone(self) -> None:
        if self.microphone is not None:
            self.microphone.start()

    def stop_microphone(self) -> None:
        if self.microphone is not None:
            self.microphone.stop_sending()

    # -- what was heard ----------------------------------------------------------

    def clear(self) -> None:
        """Forget everything recorded so far (counters too)."""
        for chunks in self.tracks:
            chunks.clear()
        self.samples_received = [0 for _ in self.samples_received]
        self.frames_received = 0

    def pcm(self, track: int | None = None) -> FloatArray:
        """Recorded mono PCM of one received track, or of all tracks end to end."""
        chosen = self.tracks if track is None else [self.tracks[track]]
        parts = [c for chunks in chosen for c in chunks]
        return np.concatenate(parts) if parts else np.zeros(0)

    def rms(self, track: int | None = None) -> float:
        """Root mean square of what was recorded (0.0 if nothing was)."""
        pcm = self.pcm(track)
        return float(np.sqrt(np.mean(pcm**2))) if len(pcm) else 0.0

    def dominant_frequency(self, track: int | None = None) -> float:
        """Frequency (Hz) of the strongest spectral peak, by FFT; 0.0 if nothing was heard.

        With `track=None`, the magnitude spectra of all tracks are summed.
        """
        chosen = range(len(self.tracks)) if track is None else [track]
        spectra = [s for s in (_spectrum(self.pcm(i)) for i in chosen) if s is not None]
        if not spectra:
            return 0.0
        n = min(len(s) for s in spectra)
        return _peak(sum((s[:n] for s in spectra), np.zeros(n)), 2 * (n - 1))

    def track_frequencies(self, min_rms: float = 0.01) -> list[float]:
        """The dominant frequency of each received track that carries sound."""
        return [
            self.dominant_frequency(i) for i in range(len(self.tracks)) if self.rms(i) >= min_rms
        ]

    async def wait_for_audio(
        self, seconds: float, *, tracks: int = 1, timeout: float = 15.0
    ) -> None:
        """Wait until at least `tracks` received tracks each recorded `seconds` of audio."""
        need = int(seconds * SAMPLE_RATE)
        deadline = time.monotonic() + timeout
        while sum(n >= need for n in self.samples_received) < tracks:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{self.name}: heard {self.samples_received} samples, wanted {tracks}x{need}"
                )
            await asyncio.sleep(0.05)

    async def close(self) -> None:
        """Close the connection and stop recording."""
        for task in self._readers:
            task.cancel()
        await self.pc.close()
        for task in self._readers:
            with contextlib.suppress(asyncio.CancelledError, MediaStreamError):
                await task

    # -- internals ---------------------------------------------------------------

    def _on_state(self) -> None:
        state = self.pc.connectionState
        if state == "connected":
            self._connected.set()
        elif state in ("failed", "closed"):
            self._failed = True
            self._connected.set()

    def _on_track(self, track: MediaStreamTrack) -> None:
        if track.kind != "audio":
            return
        index = len(self.tracks)
        self.tracks.append(deque())
        self.samples_received.append(0)
        if self.record:
            self._readers.append(asyncio.ensure_future(self._read(index, track)))

    async def _read(self, index: int, track: MediaStreamTrack) -> None:
        chunks = self.tracks[index]
        kept = 0
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                if not isinstance(frame, av.AudioFrame):
                    continue
                mono = _to_mono(frame)
                if not chunks:
                    kept = 0
                chunks.append(mono)
                kept += len(mono)
                while kept - len(chunks[0]) >= self.keep_samples:
                    kept -= len(chunks.popleft())
                self.samples_received[index] += len(mono)
                self.frames_received += 1


def _send_audio_levels(sender: Any, microphone: Microphone) -> None:
    """Make aiortc's sender put `microphone.last_level` in each packet's RFC 6464
    header extension. aiortc only does so for frames it encodes itself, not for
    pre-encoded packets, so this wraps the sender's private `_next_encoded_frame`
    (aiortc 1.x: it returns an `RTCEncodedFrame` whose `audio_level` is in -dBov).
    Test peers only; a browser sends the levels by itself."""
    original: Callable[[Any], Awaitable[Any]] = sender._next_encoded_frame

    async def with_level(codec: Any) -> Any:
        frame = await original(codec)
        if frame is not None and microphone.last_level is not None:
            frame.audio_level = -microphone.last_level
        return frame

    sender._next_encoded_frame = with_level


def _to_mono(frame: av.AudioFrame) -> FloatArray:
    data = frame.to_ndarray()
    channels = len(frame.layout.channels)
    if frame.format.is_planar:
        mono = data.astype(np.float64).mean(axis=0)
    else:
        mono = data.reshape(-1, channels).astype(np.float64).mean(axis=1)
    scale = 32768.0 if data.dtype == np.int16 else 1.0
    result: FloatArray = mono / scale
    return result


def _spectrum(pcm: FloatArray) -> FloatArray | None:
    if len(pcm) < FRAME_SAMPLES:
        return None
    windowed = pcm * np.hanning(len(pcm))
    return np.abs(np.fft.rfft(windowed))


def _peak(magnitude: FloatArray, n: int) -> float:
    low = int(20 * n / SAMPLE_RATE) + 1  # ignore DC and rumble below 20 Hz
    if len(magnitude) <= low + 1:
        return 0.0
    k = low + int(np.argmax(magnitude[low:-1]))
    a, b, c = magnitude[k - 1], magnitude[k], magnitude[k + 1]
    denominator = a - 2 * b + c
    offset = 0.5 * (a - c) / denominator if denominator else 0.0
    return float((k + offset) * SAMPLE_RATE / n)


def spectrum_has(pcm: FloatArray, frequency: float, *, tolerance: float = 10.0) -> bool:
    """Whether `pcm` has a spectral peak within `tolerance` Hz of `frequency` that is at
    least a tenth as strong as its strongest peak (helps check "hears both")."""
    magnitude = _spectrum(pcm)
    if magnitude is None:
        return False
    n = len(pcm)
    lo = max(int((frequency - tolerance) * n / SAMPLE_RATE), 1)
    hi = int((frequency + tolerance) * n / SAMPLE_RATE) + 1
    return bool(magnitude[lo:hi].max(initial=0.0) >= 0.1 * magnitude[1:].max(initial=0.0))


def describe(peer: VoicePeer) -> dict[str, Any]:
    """A small summary for logs and test failure messages."""
    return {
        "name": peer.name,
        "state": peer.pc.connectionState,
        "tracks": len(peer.tracks),
        "samples": list(peer.samples_received),
        "rms": round(peer.rms(), 4),
        "frequency": round(peer.dominant_frequency(), 1),
    }
