"""The audience end to end: a real server with events, a host bot on the stage, listeners
on both paths (WebSocket ``event_audio`` and WebRTC), heard by FFT.

Negative checks ("nobody hears 660 Hz") are bounded by progress on a positive
channel (the listeners heard more of the host meanwhile), never by a timer. Also:
the send clock and the figures on synthetic packets, and ``bench.events --quick``'s
JSON (no time thresholds anywhere).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from agents.audience import (
    AudienceGroup,
    Figures,
    RtcAttendee,
    SendClock,
    WsAttendee,
    analyse,
    audience,
    clock_origin,
    decode_opus,
    dominant_frequency,
)
from agents.client import AgentClient
from agents.host_bot import HostBot
from agents.voice_peer import (
    FRAME_SAMPLES,
    FRAME_SECONDS,
    VoicePeer,
    encode_opus,
    spectrum_has,
    tone,
)
from server.app import ServicePoint
from tests.server.harness import mint, running_server, ws_url

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.timeout(180)


def near(frequency: float, expected: float) -> bool:
    return abs(frequency - expected) <= 10.0


# -- the clock and the figures, on synthetic packets -------------------------------------


def payloads(n: int = 10) -> list[bytes]:
    return [bytes([i]) * 20 for i in range(n)]


def stream(
    clock: SendClock, ts0: int, seq0: int, delays: dict[int, float], places: bool = True
) -> list[Any]:
    """Packets n (with their delay) as a listener keeps them, in arrival order."""
    out = []
    for n, delay in delays.items():
        payload = clock.payloads[n % len(clock.payloads)]
        ts = (ts0 + n * FRAME_SAMPLES) & 0xFFFFFFFF
        out.append((clock.due(n) + delay, (seq0 + n) & 0xFFFF, ts, clock.mark(payload)))
    return sorted(out)


def test_clock_finds_each_packet_by_timestamp_and_payload_even_across_wraps() -> None:
    clock = SendClock(100.0, payloads(10))
    assert clock.period == 10
    # Delays up to 273 ms, beyond one 200 ms loop of payloads (one packet came early
    # enough to pin the stream), and the RTP timestamp and sequence number wrap inside
    # the window.
    delays = {n: 0.003 + 0.3 * ((n * 7) % 10) / 10 for n in range(100, 200) if n != 150}
    ts0 = 2**32 - 120 * FRAME_SAMPLES
    packets = stream(clock, ts0=ts0, seq0=65536 - 150, delays=delays)
    assert clock.align([(a, ts, p) for a, _s, ts, p in packets]) == ts0
    figures = Figures()
    window = (clock.due(100), clock.due(200))
    analyse([(packets, None)], figures, window, clock)
    assert figures.due == 100
    assert figures.lost == 1  # packet 150 never came
    # Sequence figures count what arrived in the window; over all arrivals the one gap shows.
    assert figures.seq_received == figures.packets
    everything = Figures()
    analyse([(packets, None)], everything, (clock.due(90), clock.due(220)), clock)
    assert everything.seq_expected == 100 and everything.seq_received == 99
    delay = figures.delay_ms()
    assert delay is not None and delay["samples"] == 99
    assert 270 <= delay["max"] <= 275


def test_late_packets_count_as_lost_and_other_speakers_have_no_clock() -> None:
    clock = SendClock(0.0, payloads(50))
    late = {n: (0.7 if n % 10 == 0 else 0.001) for n in range(50, 100)}
    host = stream(clock, ts0=12345, seq0=7, delays=late)
    noise = stream(clock, 999, 1, {n: 0.0 for n in range(50, 100)})
    guest = [(a, s, ts, None) for a, s, ts, _p in noise]
    figures = Figures()
    analyse([(host, None), (guest, None)], figures, (clock.due(50), clock.due(100)), clock)
    assert figures.due == 50 and figures.lost == 5
    assert figures.loss_schedule == pytest.approx(0.1)
    merged = Figures().merge(Figures.from_wire(figures.to_wire()))
    assert merged.summary()["lost"] == 5


def test_clock_origin_and_payload_period() -> None:
    assert clock_origin([10.004, 10.021, 10.0405]) == pytest.approx(10.0005)
    loop = payloads(5) * 4
    assert SendClock(0.0, loop).period == 5
    tone_loop = encode_opus(tone(441.0, 1.0))
    assert SendClock(0.0, tone_loop).period == 50  # the benchmark's host: distinct payloads


def test_decode_and_fft_of_opus_payloads() -> None:
    pcm = decode_opus(encode_opus(tone(440.0, 1.0)))
    assert near(dominant_frequency(pcm), 440.0)


# -- end to end -------------------------------------------------------------------


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[ServicePoint]:
    async with running_server(tmp_path) as sp:
        yield sp


@pytest.fixture
async def host(server: ServicePoint) -> AsyncIterator[HostBot]:
    bot = HostBot(ws_url(server), mint("host", "Hedda Host"), create=True, tone_hz=440.0)
    await bot.start()
    yield bot
    await bot.stop()


async def test_the_swarm_hears_the_host_on_both_paths(server: ServicePoint, host: HostBot) -> None:
    clock = await host.clock()
    result = await audience(
        ws_url(server),
        ws=2,
        webrtc=1,
        verify=1,
        seconds=2.0,
        event=host.event,
        clock=clock,
        processes=1,
    )
    assert result["error_count"] == 0, result["errors"]
    for path in ("ws", "webrtc"):
        figures = result[path]
        assert figures["connected"] == figures["listeners"] == (2 if path == "ws" else 1), result
        assert figures["flowing"] == figures["listeners"], result
        assert figures["due"] > 0 and figures["delay_ms"] is not None, result
        [heard] = figures["frequencies"]
        assert [near(f, 440.0) for f in heard.values()] == [True], result
    assert result["ws"]["frequencies"] == [{str(host.client.id): pytest.approx(440.0, abs=10)}]
    assert result["ws"]["frames_per_s"] > 0


class Heard:
    """What the verified listeners of a group heard since `start`."""

    def __init__(self, group: AudienceGroup) -> None:
        self.group = group
        self.since = time.monotonic()

    def start(self) -> None:
        self.group.clear()
        self.since = time.monotonic()

    @property
    def ws(self) -> WsAttendee:
        return self.group.verify_ws[0]

    @property
    def rtc(self) -> RtcAttendee:
        return next(r for r in self.group.webrtc if r.verify)

    async def progress(self, speaker: str, seconds: float = 1.0) -> None:
        """Wait until both verified listeners heard ``seconds`` of ``speaker`` (WS) and
        of the stage (WebRTC) since `start`."""
        need = int(seconds / FRAME_SECONDS)
        deadline = time.monotonic() + 30.0
        while len(self.ws.streams().get(speaker, [])) < need:
            assert time.monotonic() < deadline, f"no {seconds} s of {speaker} on the WebSocket"
            await asyncio.sleep(0.05)
        await self.rtc.peer.wait_for_audio(seconds, timeout=30.0)

    def ws_speakers(self) -> dict[str, float]:
        return self.ws.frequencies(self.since)

    def rtc_has(self, frequency: float) -> bool:
        peer = self.rtc.peer
        return any(spectrum_has(peer.pcm(i), frequency) for i in range(len(peer.tracks)))

    def nobody_hears(self, frequency: float) -> bool:
        everyone = [a.pcm(s, self.since) for a in self.group.ws for s in a.streams()]
        return not self.rtc_has(frequency) and not any(
            len(pcm) and spectrum_has(pcm, frequency) for pcm in everyone
        )


class Publisher:
    """An attendee's microphone: a `VoicePeer` publishing over its client's signalling."""

    def __init__(self, client: AgentClient, hz: float) -> None:
        self.client = client
        self.peer = VoicePeer("attendee", tone_hz=hz, receive_slots=0)

    async def offer(self, mode: str = "publish") -> dict[str, Any]:
        """Offer to the stage; the server's answer (applied) or its error message."""
        await self.peer.pc.setLocalDescription(await self.peer.pc.createOffer())
        description = self.peer.pc.localDescription
        assert description is not None
        await self.client.send({"t": "event_rtc_offer", "mode": mode, "sdp": description.sdp})
        reply = await self.first("event_rtc_answer", "error")
        if reply["t"] == "event_rtc_answer":
            from aiortc import RTCSessionDescription

            await self.peer.pc.setRemoteDescription(RTCSessionDescription(reply["sdp"], "answer"))
        return reply

    async def first(self, *types: str) -> dict[str, Any]:
        found: list[dict[str, Any]] = []

        def check() -> bool:
            for i, m in enumerate(self.client.messages):
                if m["t"] in types:
                    found.append(self.client.messages.pop(i))
                    return True
            return False

        await self.client.wait_for(check, 15.0)
        return found[0]

    async def close(self) -> None:
        await self.peer.close()


async def test_only_a_promoted_consenting_unmuted_attendee_is_heard(
    server: ServicePoint, host: HostBot
) -> None:
    url = ws_url(server)
    group = AudienceGroup(url, host.event, None)
    attendee = AgentClient(url, name="Sam Speaker")
    publisher: Publisher | None = None
    try:
        await group.add(ws=2, webrtc=1, verify_ws=1, verify_webrtc=1)
        assert group.failed == {"ws": 0, "webrtc": 0}, group.errors
        heard = Heard(group)
        host_id = str(host.client.id)
        await heard.progress(host_id)
        assert list(heard.ws_speakers()) == [host_id]
        assert near(heard.ws_speakers()[host_id], 440.0)
        assert [round(f, -1) for f in heard.rtc.peer.track_frequencies()] == [440.0]

        # Not promoted: both a publish offer and a listen offer that sends are refused.
        await attendee.connect()
        await attendee.send({"t": "event_join", "event": host.event})
        await attendee.expect("event_joined")
        sam = str(attendee.id)
        publisher = Publisher(attendee, 660.0)
        refused = await publisher.offer("publish")
        assert (refused["t"], refused.get("code")) == ("error", "not_speaker")
        await publisher.close()
        publisher = Publisher(attendee, 660.0)
        refused = await publisher.offer("listen")
        assert (refused["t"], refused.get("code")) == ("error", "not_speaker")
        await publisher.close()
        publisher = None
        heard.start()
        await heard.progress(host_id, 1.5)
        assert heard.nobody_hears(660.0)
        assert sam not in heard.ws_speakers()

        # Promoted by the host and accepted: heard on both paths.
        await host.client.send({"t": "event_promote", "id": attendee.id})
        invited = await attendee.expect("event_you", 15.0)
        while invited.get("invited") is None:
            invited = await attendee.expect("event_you", 15.0)
        await attendee.send({"t": "event_accept", "accept": True})
        you = await attendee.expect("event_you", 15.0, speaker=True)
        assert you["muted"] is False
        publisher = Publisher(attendee, 660.0)
        answer = await publisher.offer("publish")
        assert answer["t"] == "event_rtc_answer", answer
        await publisher.peer.wait_connected(15.0)
        heard.start()
        await heard.progress(sam, 1.0)
        await heard.rtc.peer.wait_for_audio(1.0, tracks=2, timeout=30.0)
        speakers = heard.ws_speakers()
        assert near(speakers[host_id], 440.0) and near(speakers[sam], 660.0), speakers
        frequencies = sorted(round(f, -1) for f in heard.rtc.peer.track_frequencies())
        assert frequencies == [440.0, 660.0]

        # Muted by the host: 660 Hz stops at the server, the host goes on.
        await host.client.send({"t": "event_mute", "id": attendee.id, "muted": True})
        await attendee.expect("event_you", 15.0, muted=True)
        heard.start()
        await heard.progress(host_id, 0.5)  # what was in flight when the mute landed
        heard.start()
        await heard.progress(host_id, 1.5)
        assert heard.nobody_hears(660.0)
        assert sam not in heard.ws_speakers()
        assert near(heard.ws_speakers()[host_id], 440.0)
    finally:
        if publisher is not None:
            await publisher.close()
        await attendee.close()
        await group.close()


# -- the benchmark ------------------------------------------------------------------------


@pytest.mark.timeout(420)
async def test_bench_events_quick_prints_its_figures_as_json() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.events",
        "--quick",
        "--json",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()[-3000:]
    result = json.loads(out.decode().strip().splitlines()[-1])
    assert result["bench"] == "events" and result["quick"] is True
    for key in (
        "webrtc_listeners_per_core",
        "ws_listeners_per_process",
        "ratio_vs_default",
        "loss",
        "latency_ms",
        "limited_by",
        "goals",
    ):
        assert key in result, key
    assert result["machine"]["cpus"] == os.cpu_count()
    assert set(result["loss"]) == {"webrtc", "default", "ws"}
    for mode in ("webrtc", "default", "ws"):
        ramp = result[mode]
        assert ramp["steps"], mode
        assert ramp["limited_by"] in {
            "cap",
            "time_budget",
            "server_cpu",
            "client_cpu",
            "machine",
            "loss",
        }
        for step in ramp["steps"]:
            assert step["listeners"] > 0 and step["server_cores"] >= 0
            assert step["verdict"] in {"ok", "loss", "client_cpu", "machine"}
