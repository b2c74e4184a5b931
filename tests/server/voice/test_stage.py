"""Stage audio between real aiortc peers on loopback, through a real `StageVoice`.

Each client is an `agents.voice_peer.VoicePeer` (pre-encoded tone, FFT of what it
hears). Negative checks ("hears nothing", "no longer hears 660 Hz") are bounded by
progress on a positive channel (someone else heard N seconds meanwhile), never by a
timer. Forwarding is checked as in the router tests: Opus decoders and encode calls
in the process are counted, and the WebSocket batch carries the speaker's bytes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from itertools import pairwise
from typing import Any

import pytest
from aiortc.codecs.opus import OpusDecoder, OpusEncoder
from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpParameters
from aiortc.rtp import HeaderExtensionsMap, RtpPacket

from agents.voice_peer import VoicePeer, describe, spectrum_has
from server.voice import VoiceError
from server.voice import stage as stage_module
from server.voice.aiortc_internals import AUDIO_LEVEL_URI, InboundRtp, parse_rtp
from server.voice.stage import StageVoice

pytestmark = pytest.mark.timeout(90)

S = "event:1"


@pytest.fixture
async def stage() -> AsyncIterator[StageVoice]:
    s = StageVoice(host_addresses=["127.0.0.1"])
    await s.open_stage(S)
    yield s
    await s.close()
    assert s.open_peer_connections == 0


class Peers:
    """Connects `VoicePeer`s to a stage; closes them all at the end of the test."""

    def __init__(self) -> None:
        self.all: list[VoicePeer] = []

    async def publish(self, stage: StageVoice, who: str, **options: Any) -> VoicePeer:
        options.setdefault("receive_slots", 0)  # sendonly: no decoding unless asked
        return await self._connect(stage.publish, who, options)

    async def listen(self, stage: StageVoice, who: str, **options: Any) -> VoicePeer:
        options.setdefault("tone_hz", None)
        options.setdefault("receive_slots", 3)
        return await self._connect(stage.listen, who, options)

    async def _connect(self, call: Any, who: str, options: dict[str, Any]) -> VoicePeer:
        peer = VoicePeer(who, **options)
        self.all.append(peer)

        async def signal(offer: str) -> str:
            answer: str = await call(S, who, offer)
            return answer

        await peer.connect(signal)
        await peer.wait_connected()
        return peer


@pytest.fixture
async def peers() -> AsyncIterator[Peers]:
    p = Peers()
    yield p
    for peer in p.all:
        await peer.close()


def near(frequency: float, expected: float) -> bool:
    return abs(frequency - expected) <= 10.0


def heard(peer: VoicePeer) -> list[float]:
    return sorted(round(f, -1) for f in peer.track_frequencies())


async def offer(**options: Any) -> str:
    """A real aiortc offer (its peer is closed again: the offer is all we want)."""
    peer = VoicePeer("offerer", **options)
    await peer.pc.setLocalDescription(await peer.pc.createOffer())
    description = peer.pc.localDescription
    assert description is not None
    await peer.close()
    return str(description.sdp)


async def all_closed(stage: StageVoice) -> None:
    """Wait until the stage has dropped every connection (bounded by the test timeout)."""
    while stage.open_peer_connections:
        await asyncio.sleep(0.05)


async def expect(code: str, call: Any) -> None:
    with pytest.raises(VoiceError) as info:
        await call
    assert info.value.code == code, info.value


async def test_host_is_heard_by_three_listeners_without_decoding(
    stage: StageVoice, peers: Peers, monkeypatch: pytest.MonkeyPatch
) -> None:
    decoders = 0
    encodes = 0
    decoder_init = OpusDecoder.__init__
    encode = OpusEncoder.encode

    def counting_init(self: OpusDecoder) -> None:
        nonlocal decoders
        decoders += 1
        decoder_init(self)

    def counting_encode(self: OpusEncoder, *args: Any, **kwargs: Any) -> Any:
        nonlocal encodes
        encodes += 1
        return encode(self, *args, **kwargs)

    monkeypatch.setattr(OpusDecoder, "__init__", counting_init)
    monkeypatch.setattr(OpusEncoder, "encode", counting_encode)

    stage.allow(S, "host", True)
    host = await peers.publish(stage, "host", tone_hz=440.0, receive_slots=3)
    listeners = [await peers.listen(stage, f"guest-{i}") for i in range(3)]
    for listener in listeners:
        await listener.wait_for_audio(1.0)

    for listener in listeners:
        assert heard(listener) == [440.0], describe(listener)
    assert host.frames_received == 0, describe(host)  # a speaker does not hear themselves
    # The only Opus decoders in the process are the three listeners' own (one track
    # each); the server never decodes nor encodes.
    assert decoders == 3
    assert encodes == 0
    assert stage.stats.packets_forwarded >= 150
    assert stage.stats.publishers == 1 and stage.stats.webrtc_listeners == 3
    assert stage.speaking(S) == ["host"]
    assert stage.open_peer_connections == 4


async def test_speaking_is_a_permission_checked_per_packet(stage: StageVoice, peers: Peers) -> None:
    stage.allow(S, "host", True)
    host = await peers.publish(stage, "host", tone_hz=440.0, receive_slots=3)
    listener = await peers.listen(stage, "guest")

    # Not allowed: the publish offer is refused and leaves no connection.
    await expect("not_speaker", peers.publish(stage, "speaker", tone_hz=660.0))
    assert stage.open_peer_connections == 2

    stage.allow(S, "speaker", True)
    speaker = await peers.publish(stage, "speaker", tone_hz=660.0, receive_slots=3)
    await listener.wait_for_audio(1.0, tracks=2)
    await host.wait_for_audio(1.0)
    await speaker.wait_for_audio(1.0)
    assert heard(listener) == [440.0, 660.0], describe(listener)
    # Publishers hear the other speakers, never themselves.
    assert heard(host) == [660.0], describe(host)
    assert heard(speaker) == [440.0], describe(speaker)

    stage.allow(S, "speaker", False)
    dropped = stage.stats.dropped_not_allowed
    listener.clear()
    await listener.wait_for_audio(0.3)  # what was in flight drains
    listener.clear()
    host.clear()
    await listener.wait_for_audio(1.0)  # the host went on for a second meanwhile
    assert heard(listener) == [440.0], describe(listener)
    assert not spectrum_has(listener.pcm(), 660.0), describe(listener)
    assert host.frames_received == 0, describe(host)
    assert stage.stats.dropped_not_allowed >= dropped + 40
    assert stage.speaking(S) == ["host"]

    stage.allow(S, "speaker", True)
    listener.clear()
    await listener.wait_for_audio(0.5, tracks=2)
    assert heard(listener) == [440.0, 660.0], describe(listener)
    assert sorted(stage.speaking(S)) == ["host", "speaker"]


@pytest.mark.parametrize("signal", ["audio_level", "payload_size"])
async def test_a_listener_hears_the_three_loudest_and_slots_are_kept(
    stage: StageVoice, peers: Peers, signal: str
) -> None:
    levels = signal == "audio_level"
    for who in ("quiet", "a", "b", "c", "d"):
        stage.allow(S, who, True)
    if levels:  # a loud tone whose RFC 6464 level says silence: the level wins
        quiet = await peers.publish(stage, "quiet", tone_hz=1000.0, fixed_audio_level=127)
    else:  # digital silence: small Opus payloads
        quiet = await peers.publish(stage, "quiet", tone_hz=0.0)
    tones = {"a": 440.0, "b": 550.0, "c": 660.0, "d": 770.0}
    speakers = {
        who: await peers.publish(stage, who, tone_hz=hz, audio_level=levels)
        for who, hz in tones.items()
    }
    # Four receive m-lines, but the stage forwards at most three speakers.
    listener = await peers.listen(stage, "guest", receive_slots=4)
    await listener.wait_for_audio(1.0, tracks=3)

    # The first three talkers hold the slots; the fourth waits, the quiet one never talks.
    assert heard(listener) == [440.0, 550.0, 660.0], describe(listener)
    assert not spectrum_has(listener.pcm(), 1000.0)
    assert stage.speaking(S) == ["a", "b", "c"]
    assert stage.stats.dropped_not_loudest > 0
    if levels:
        assert stage.stats.packets_with_audio_level >= stage.stats.packets_received // 2
    else:
        assert stage.stats.packets_with_audio_level == 0

    # "a" stops: after 300 ms of silence its slot goes to "d", not to "quiet".
    speakers["a"].stop_microphone()
    listener.clear()
    await listener.wait_for_audio(0.3, tracks=3)  # the slot changed hands meanwhile
    listener.clear()
    await listener.wait_for_audio(1.0, tracks=3)
    assert heard(listener) == [550.0, 660.0, 770.0], describe(listener)
    assert sorted(stage.speaking(S)) == ["b", "c", "d"]
    assert quiet.microphone is not None and quiet.microphone.sending


async def test_websocket_batches_carry_the_speakers_own_bytes(
    stage: StageVoice, peers: Peers, monkeypatch: pytest.MonkeyPatch
) -> None:
    for who in ("host", "speaker", "quiet"):
        stage.allow(S, who, True)
    stage.attach_ws(S, "ws-1")
    stage.attach_ws(S, "ws-2")
    assert stage.stats.ws_listeners == 2
    host = await peers.publish(stage, "host", tone_hz=440.0)
    speaker = await peers.publish(stage, "speaker", tone_hz=660.0)
    await peers.publish(stage, "quiet", tone_hz=0.0)

    async def collect(until: dict[str, int]) -> list[tuple[str, int, int, bytes]]:
        packets: list[tuple[str, int, int, bytes]] = []
        while any(sum(p[0] == who for p in packets) < n for who, n in until.items()):
            await asyncio.sleep(0.05)  # the lead's tick: 20 Hz
            packets.extend(stage.take_ws_batch(S))
        return packets

    packets = await collect({"host": 50, "speaker": 50})
    sent = {"host": set(host.sent_payloads), "speaker": set(speaker.sent_payloads)}
    assert {who for who, *_ in packets} == {"host", "speaker"}  # the quiet one is not loudest
    for who in ("host", "speaker"):
        mine = [p for p in packets if p[0] == who]
        assert all(payload in sent[who] for _, _, _, payload in mine)  # byte-identical
        for (_, seq_a, ts_a, _), (_, seq_b, ts_b, _) in pairwise(mine):
            assert 0 < (seq_b - seq_a) & 0xFFFF < 0x8000  # sequence numbers increase
            assert 0 < (ts_b - ts_a) & 0xFFFFFFFF < 1 << 31
            assert (ts_b - ts_a) % 960 == 0

    # Permission taken: from the next packet on, the speaker is not in the batches.
    stage.allow(S, "speaker", False)
    stage.take_ws_batch(S)
    later = await collect({"host": 50})
    assert {who for who, *_ in later} == {"host"}

    # Nobody takes the batch: it keeps the last WS_BACKLOG_SECONDS (1 s), not more.
    monkeypatch.setattr(stage_module, "WS_BACKLOG_SECONDS", 0.2)  # a shorter wait
    stage.detach_ws(S, "ws-1")
    stage.detach_ws(S, "ws-2")
    assert stage.take_ws_batch(S) == [] and stage.stats.ws_listeners == 0
    stage.attach_ws(S, "ws-1")  # a fresh batch, bounded at 0.2 s x 3 slots = 30 packets
    while stage.stats.ws_dropped < 20:
        await asyncio.sleep(0.05)
    backlog = stage.take_ws_batch(S)
    assert len(backlog) == 30
    assert stage.take_ws_batch(S) == []
    packets_received = stage.stats.packets_received
    stage.detach_ws(S, "ws-1")
    while stage.stats.packets_received < packets_received + 20:
        await asyncio.sleep(0.05)
    assert stage.take_ws_batch(S) == []


async def test_block_stops_forwarding_both_ways(stage: StageVoice, peers: Peers) -> None:
    stage.allow(S, "host", True)
    await peers.publish(stage, "host", tone_hz=440.0)
    blocker = await peers.listen(stage, "blocker")
    other = await peers.listen(stage, "other")
    await blocker.wait_for_audio(0.2)

    stage.block("blocker", "host", True)
    assert stage.ws_blocked("blocker") == {"host"}
    assert stage.ws_blocked("host") == {"blocker"}
    blocker.clear()
    await other.wait_for_audio(0.3)  # in flight drains
    blocker.clear()
    other.clear()
    await other.wait_for_audio(1.0)
    assert heard(other) == [440.0], describe(other)
    assert blocker.frames_received == 0, describe(blocker)

    stage.block("blocker", "host", False)
    assert stage.ws_blocked("blocker") == frozenset()
    await blocker.wait_for_audio(0.5)
    assert heard(blocker) == [440.0], describe(blocker)


# -- refusals and connection lifetime -------------------------------------------------


async def test_refusals_leave_no_connection(stage: StageVoice, peers: Peers) -> None:
    good_listen = await offer(tone_hz=None, receive_slots=3)
    sending = await offer(tone_hz=440.0, receive_slots=2)
    receive_only = good_listen

    for call in (stage.publish, stage.listen):
        await expect("bad_sdp", call(S, "x", "garbage"))
        await expect("bad_sdp", call(S, "x", 42))  # type: ignore[arg-type]
        await expect("no_audio", call(S, "x", "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"))
        await expect("no_room", call("event:404", "x", good_listen))
    # A listen offer that sends, from someone not allowed to speak.
    await expect("not_speaker", stage.listen(S, "x", sending))
    stage.allow(S, "x", True)
    # Publishing needs a microphone; passes our checks but fails inside aiortc:
    await expect("no_audio", stage.publish(S, "x", receive_only))
    await expect("bad_sdp", stage.publish(S, "x", sending.replace("opus/48000", "opus/8000")))
    await expect("bad_sdp", stage.listen(S, "y", good_listen.replace("opus/48000", "opus/8000")))
    assert stage.open_peer_connections == 0
    with pytest.raises(VoiceError, match="no_room"):
        stage.allow("event:404", "x", True)
    with pytest.raises(VoiceError, match="no_room"):
        stage.attach_ws("event:404", "x")
    assert stage.take_ws_batch("event:404") == [] and stage.speaking("event:404") == []

    # An allowed participant may offer sendrecv to listen; nothing it sends is taken.
    answer = await stage.listen(S, "x", sending)
    assert "a=sendonly" in answer and "a=sendrecv" not in answer
    assert stage.stats.webrtc_listeners == 1 and stage.open_peer_connections == 1
    # A sendonly publisher connection beside it: leave closes both.
    await stage.publish(S, "x", await offer(tone_hz=440.0, receive_slots=0))
    assert stage.stats.publishers == 1 and stage.open_peer_connections == 2

    # Leave (twice), then a publisher and a listener go with close_stage.
    await stage.leave(S, "x")
    await stage.leave(S, "x")
    await stage.leave("event:404", "x")
    assert stage.open_peer_connections == 0 and stage.stats.webrtc_listeners == 0
    stage.allow(S, "host", True)
    await peers.publish(stage, "host", tone_hz=440.0)
    await peers.listen(stage, "guest")
    stage.attach_ws(S, "ws")
    assert stage.open_peer_connections == 2
    await stage.close_stage(S)
    await stage.close_stage(S)  # idempotent
    assert stage.open_peer_connections == 0
    assert (stage.stats.publishers, stage.stats.webrtc_listeners, stage.stats.ws_listeners) == (
        0,
        0,
        0,
    )
    await expect("no_room", stage.listen(S, "guest", good_listen))
    await stage.close()
    await expect("closed", stage.open_stage(S))
    await expect("closed", stage.listen(S, "guest", good_listen))


async def test_listener_budget_and_replacing_a_listener(peers: Peers) -> None:
    stage = StageVoice(host_addresses=["127.0.0.1"], webrtc_listener_budget=2)
    try:
        await stage.open_stage(S)
        await stage.open_stage(S)  # idempotent
        await peers.listen(stage, "guest-1")
        await peers.listen(stage, "guest-2")
        await expect("listener_budget", stage.listen(S, "guest-3", await offer(tone_hz=None)))
        assert stage.open_peer_connections == 2
        # Listening again (a page reload) replaces, within the budget.
        again = await peers.listen(stage, "guest-1")
        assert stage.open_peer_connections == 2 and stage.stats.webrtc_listeners == 2
        assert again.pc.connectionState == "connected"
        await stage.leave(S, "guest-2")
        assert stage.open_peer_connections == 1
        await peers.listen(stage, "guest-3")
        assert stage.open_peer_connections == 2
        # Publishers do not count against the listener budget.
        stage.allow(S, "host", True)
        await peers.publish(stage, "host", tone_hz=440.0)
        assert stage.stats.publishers == 1 and stage.open_peer_connections == 3
        # A listener promoted to speaker publishes with receive m-lines: that
        # connection hears the stage, so it replaces their listener connection.
        stage.allow(S, "guest-3", True)
        await peers.publish(stage, "guest-3", tone_hz=660.0, receive_slots=2)
        assert (stage.stats.publishers, stage.stats.webrtc_listeners) == (2, 1)
        assert stage.open_peer_connections == 3
    finally:
        await stage.close()
    assert stage.open_peer_connections == 0


async def test_failed_and_never_connected_clients_are_dropped(peers: Peers) -> None:
    stage = StageVoice(host_addresses=["127.0.0.1"], connect_timeout=0.5)
    try:
        await stage.open_stage(S)
        stage.allow(S, "ghost", True)
        await stage.listen(S, "ghost-listener", await offer(tone_hz=None))  # peer closed
        await stage.publish(S, "ghost", await offer(tone_hz=440.0))
        assert stage.open_peer_connections == 2
        await all_closed(stage)
        assert stage.stats.webrtc_listeners == 0 and stage.stats.publishers == 0

        # A connected listener whose client closes is dropped too.
        listener = await peers.listen(stage, "guest")
        assert stage.open_peer_connections == 1
        await listener.close()
        await all_closed(stage)
        assert stage.stats.webrtc_listeners == 0
    finally:
        await stage.close()


def test_audio_level_is_read_from_either_header_extension_profile() -> None:
    packet = RtpPacket(payload_type=111, sequence_number=9, timestamp=960, ssrc=7)
    packet.extensions.mid = "0"
    packet.extensions.audio_level = (True, 42)
    packet.payload = b"\xfc\x01\x02opus"
    extensions = HeaderExtensionsMap()
    extensions.configure(
        RTCRtpParameters(
            headerExtensions=[
                RTCRtpHeaderExtensionParameters(id=1, uri="urn:ietf:params:rtp-hdrext:sdes:mid"),
                RTCRtpHeaderExtensionParameters(id=5, uri=AUDIO_LEVEL_URI),
            ]
        )
    )
    data = packet.serialize(extensions)
    parsed = InboundRtp(0, 0, 0, 0, b"")
    assert parse_rtp(data, parsed, 5) and parsed.audio_level == 42
    assert parsed.payload == packet.payload
    assert parse_rtp(data, parsed, 3) and parsed.audio_level == -1  # another id
    assert parse_rtp(data, parsed) and parsed.audio_level == -1  # not asked for
    # Two-byte profile (RFC 8285 4.3): id 5, length 1, V=1 level 127, padding.
    two_byte = bytes([0x90, 111, 0, 9, 0, 0, 3, 192, 0, 0, 0, 7, 0x10, 0x00, 0, 1])
    two_byte += bytes([5, 1, 0x80 | 127, 0]) + b"opus"
    assert parse_rtp(two_byte, parsed, 5) and parsed.audio_level == 127
    assert parsed.payload == b"opus"
    # A truncated extension block is malformed.
    assert not parse_rtp(two_byte[:14], parsed, 5)
