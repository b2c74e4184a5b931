"""Voice between real aiortc peers on loopback, through a real `VoiceRouter`.

Each client is an `agents.voice_peer.VoicePeer` that sends a tone and records what it
hears; FFT peaks say who hears whom. Negative checks ("hears nothing") are bounded by
progress on a positive channel (someone else heard N seconds meanwhile), not by a
timer. Forwarding is checked twice: byte-identical Opus payloads arrive, and no
Opus decoder is created and no encode happens on the server.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiortc.codecs.opus import OpusDecoder, OpusEncoder

from agents.voice_peer import VoicePeer, describe, spectrum_has
from server.voice import VoiceError, VoiceRouter
from server.voice.aiortc_internals import tap_inbound_rtp

pytestmark = pytest.mark.timeout(60)

ROOM = "desk:1:A-001"


@pytest.fixture(params=[True, False], ids=["forward", "transcode"])
async def router(request: pytest.FixtureRequest) -> AsyncIterator[VoiceRouter]:
    r = VoiceRouter(forward=request.param, host_addresses=["127.0.0.1"])
    yield r
    await r.close()
    assert r.open_peer_connections == 0


@pytest.fixture
async def forwarding() -> AsyncIterator[VoiceRouter]:
    r = VoiceRouter(forward=True, host_addresses=["127.0.0.1"])
    yield r
    await r.close()
    assert r.open_peer_connections == 0


Join = Callable[..., Any]


@pytest.fixture
async def join() -> AsyncIterator[Join]:
    """join(router, room, who, tone_hz=…, **peer_options) -> connected VoicePeer."""
    peers: list[VoicePeer] = []

    async def _join(router: VoiceRouter, room: str, who: str, **options: Any) -> VoicePeer:
        peer = VoicePeer(who, **options)
        peers.append(peer)

        async def signal(offer: str) -> str:
            return await router.join(room, who, offer)

        await peer.connect(signal)
        await peer.wait_connected()
        return peer

    yield _join
    for peer in peers:
        await peer.close()


def near(frequency: float, expected: float) -> bool:
    return abs(frequency - expected) <= 10.0


async def test_citizen_and_staff_hear_each_other(router: VoiceRouter, join: Join) -> None:
    await router.open_room(ROOM)
    citizen = await join(router, ROOM, "citizen", tone_hz=440.0)
    staff = await join(router, ROOM, "staff", tone_hz=660.0)

    await staff.wait_for_audio(1.0)
    await citizen.wait_for_audio(1.0)

    assert near(staff.dominant_frequency(), 440.0), describe(staff)
    assert near(citizen.dominant_frequency(), 660.0), describe(citizen)
    assert router.members(ROOM) == ["citizen", "staff"]
    assert router.open_peer_connections == 2


async def test_bystanders_hear_nothing_from_another_room(router: VoiceRouter, join: Join) -> None:
    await router.open_room(ROOM)
    await router.open_room("desk:2:B-001")
    await router.open_room("desk:3:C-001")
    alone = await join(router, "desk:2:B-001", "bystander", tone_hz=880.0)
    other_a = await join(router, "desk:3:C-001", "other-a", tone_hz=1000.0)
    other_b = await join(router, "desk:3:C-001", "other-b", tone_hz=1200.0)
    citizen = await join(router, ROOM, "citizen", tone_hz=440.0)
    staff = await join(router, ROOM, "staff", tone_hz=660.0)

    await citizen.wait_for_audio(1.5)
    await staff.wait_for_audio(1.5)
    await other_a.wait_for_audio(1.5)
    await other_b.wait_for_audio(1.5)

    # Alone in a room: not one frame arrived while the desk talked for 1.5 s.
    assert alone.frames_received == 0, describe(alone)
    # The pair at the other desk hear each other and nothing of the first desk.
    assert near(other_a.dominant_frequency(), 1200.0), describe(other_a)
    assert near(other_b.dominant_frequency(), 1000.0), describe(other_b)
    for peer in (other_a, other_b, staff, citizen):
        for leaked in (440.0, 660.0, 880.0, 1000.0, 1200.0):
            heard_own_room = leaked in _room_tones(peer.name)
            assert heard_own_room or not spectrum_has(peer.pcm(), leaked), (peer.name, leaked)


def _room_tones(name: str) -> set[float]:
    return {
        "citizen": {660.0},
        "staff": {440.0},
        "other-a": {1200.0},
        "other-b": {1000.0},
    }[name]


async def test_mute_silences_and_unmute_restores(router: VoiceRouter, join: Join) -> None:
    await router.open_room(ROOM)
    citizen = await join(router, ROOM, "citizen", tone_hz=440.0)
    staff = await join(router, ROOM, "staff", tone_hz=660.0)
    await staff.wait_for_audio(0.5)

    router.set_muted(ROOM, "citizen", True)
    # Let what was already in flight drain: the citizen keeps hearing the staff.
    citizen.clear()
    await citizen.wait_for_audio(0.3)
    staff.clear()
    citizen.clear()
    await citizen.wait_for_audio(1.0)
    assert staff.frames_received == 0 and staff.rms() == 0.0, describe(staff)

    router.set_muted(ROOM, "citizen", False)
    await staff.wait_for_audio(0.5)
    assert near(staff.dominant_frequency(), 440.0), describe(staff)


async def test_third_participant_hears_both(router: VoiceRouter, join: Join) -> None:
    await router.open_room(ROOM)
    citizen = await join(router, ROOM, "citizen", tone_hz=440.0)
    staff = await join(router, ROOM, "staff", tone_hz=660.0)
    interpreter = await join(router, ROOM, "interpreter", tone_hz=880.0)

    await interpreter.wait_for_audio(1.0, tracks=2)
    await citizen.wait_for_audio(1.0, tracks=2)
    await staff.wait_for_audio(1.0, tracks=2)

    def heard(peer: VoicePeer) -> list[float]:
        return sorted(round(f, -1) for f in peer.track_frequencies())

    assert heard(interpreter) == [440.0, 660.0], describe(interpreter)
    assert heard(citizen) == [660.0, 880.0], describe(citizen)
    assert heard(staff) == [440.0, 880.0], describe(staff)

    await router.leave(ROOM, "interpreter")
    assert router.members(ROOM) == ["citizen", "staff"]
    assert router.open_peer_connections == 2


async def test_forwarding_relays_payloads_without_decoding(
    router: VoiceRouter, join: Join, monkeypatch: pytest.MonkeyPatch
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

    await router.open_room(ROOM)
    citizen = await join(router, ROOM, "citizen", tone_hz=440.0)
    staff = VoicePeer("staff", tone_hz=660.0)
    arrived: list[bytes] = []
    for receiver in staff.pc.getReceivers():
        tap_inbound_rtp(receiver, lambda p: arrived.append(bytes(p.payload)), passthrough=True)

    async def signal(offer: str) -> str:
        return await router.join(ROOM, "staff", offer)

    try:
        await staff.connect(signal)
        await staff.wait_connected()
        await staff.wait_for_audio(1.0)
        await citizen.wait_for_audio(1.0)
    finally:
        await staff.close()

    sent = set(citizen.sent_payloads)
    identical = sum(p in sent for p in arrived)
    assert len(arrived) >= 50
    if router.forward:
        # Every payload the staff received is byte for byte one the citizen encoded,
        # and the only Opus decoders in the process are the two clients' own.
        assert identical == len(arrived)
        assert decoders == 2
        assert encodes == 0
        assert router.stats.frames_decoded == 0
        assert router.stats.packets_forwarded >= 50
    else:
        # The slow path: the server decodes each speaker and re-encodes per listener.
        assert identical <= len(arrived) // 10
        assert decoders == 4
        assert encodes >= 50
        assert router.stats.frames_decoded >= 50


# -- bad input -------------------------------------------------------------------


async def _offer(**options: Any) -> str:
    """A real aiortc offer (the peer is closed again: its offer is all we want)."""
    peer = VoicePeer("offerer", **options)
    await peer.pc.setLocalDescription(await peer.pc.createOffer())
    description = peer.pc.localDescription
    assert description is not None
    await peer.close()
    return str(description.sdp)


async def expect(code: str, router: VoiceRouter, call: Any) -> None:
    with pytest.raises(VoiceError) as info:
        await call
    assert info.value.code == code, info.value
    assert router.open_peer_connections == 0


async def test_bad_offers_are_refused_without_leaking(forwarding: VoiceRouter) -> None:
    router = forwarding
    await router.open_room(ROOM)
    good = await _offer()

    await expect("bad_sdp", router, router.join(ROOM, "x", "garbage"))
    await expect("bad_sdp", router, router.join(ROOM, "x", "v=0\r\nm=audio x\r\n"))
    await expect("bad_sdp", router, router.join(ROOM, "x", 42))  # type: ignore[arg-type]
    await expect("bad_sdp", router, router.join(ROOM, "x", good + "a=x\r\n" * 9000))
    no_audio = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
    await expect("no_audio", router, router.join(ROOM, "x", no_audio))
    inactive = good.replace("a=sendrecv", "a=inactive").replace("a=recvonly", "a=inactive")
    await expect("no_audio", router, router.join(ROOM, "x", inactive))
    pcmu_only = "\r\n".join(
        line
        for line in good.split("\r\n")
        if "opus" not in line.lower() and not line.startswith("a=fmtp:96")
    )
    await expect("no_opus", router, router.join(ROOM, "x", pcmu_only))
    await expect("bad_sdp", router, router.join(ROOM, "x", good.replace("a=rtcp-mux\r\n", "")))
    no_ice = "\r\n".join(ln for ln in good.split("\r\n") if not ln.startswith("a=ice-pwd"))
    await expect("bad_sdp", router, router.join(ROOM, "x", no_ice))
    # Passes our checks, fails inside aiortc after the peer connection exists:
    await expect("bad_sdp", router, router.join(ROOM, "x", good.replace("opus/48000", "opus/8000")))
    assert router.members(ROOM) == []


async def test_bad_candidates_unknown_rooms_and_strangers(
    forwarding: VoiceRouter, join: Join
) -> None:
    router = forwarding
    await expect("no_room", router, router.join("nowhere", "x", await _offer()))
    await expect("no_room", router, router.leave("nowhere", "x"))
    await expect("no_room", router, router.add_ice("nowhere", "x", {}))
    with pytest.raises(VoiceError, match="no_room"):
        router.set_muted("nowhere", "x", True)
    with pytest.raises(VoiceError, match="no_room"):
        router.members("nowhere")

    await router.open_room(ROOM)
    await expect("not_member", router, router.leave(ROOM, "stranger"))
    await expect("not_member", router, router.add_ice(ROOM, "stranger", {"candidate": ""}))
    with pytest.raises(VoiceError, match="not_member"):
        router.set_muted(ROOM, "stranger", True)

    bad_candidates: list[Any] = [
        "candidate:1 1 udp 1 127.0.0.1 5000 typ host",  # not a dict
        {"candidate": "candidate:1 1 udp 1 127.0.0.1 5000 typ host"},  # no mid/index
        {"candidate": "garbage", "sdpMid": "0"},
        {"candidate": "candidate:1 1 udp x 127.0.0.1 5000 typ host", "sdpMid": "0"},
        {"candidate": "candidate:1 1 udp 1 127.0.0.1 99999 typ host", "sdpMid": "0"},
        {"candidate": "candidate:1 1 udp 1 not-an-ip 5000 typ host", "sdpMid": "0"},
        {"candidate": "candidate:1 1 tcp 1 127.0.0.1 5000 typ host", "sdpMid": "0"},
        {"candidate": 7, "sdpMLineIndex": 0},
        {"candidate": "", "sdpMLineIndex": True},
    ]
    for i, candidate in enumerate(bad_candidates):
        who = f"citizen-{i}"
        await join(router, ROOM, who, tone_hz=440.0)
        assert router.open_peer_connections == 1
        await expect("bad_candidate", router, router.add_ice(ROOM, who, candidate))
        assert router.members(ROOM) == []

    # A good trickled candidate and end-of-candidates are accepted.
    await join(router, ROOM, "citizen", tone_hz=440.0)
    good = {"candidate": "candidate:1 1 udp 2130706431 127.0.0.1 9 typ host", "sdpMid": "0"}
    await router.add_ice(ROOM, "citizen", good)
    await router.add_ice(ROOM, "citizen", {"candidate": "", "sdpMid": "0"})
    assert router.open_peer_connections == 1

    # Leave twice: the second is refused, nothing leaks.
    await router.leave(ROOM, "citizen")
    await expect("not_member", router, router.leave(ROOM, "citizen"))


async def test_room_full_rejoin_close_room_and_shutdown(
    forwarding: VoiceRouter, join: Join
) -> None:
    router = forwarding
    await router.open_room(ROOM)
    await router.open_room(ROOM)  # idempotent
    for who in ("citizen", "staff", "interpreter"):
        await join(router, ROOM, who, tone_hz=440.0)
    with pytest.raises(VoiceError, match="room_full"):
        await router.join(ROOM, "fourth", await _offer())
    assert router.open_peer_connections == 3

    # Joining again replaces the old connection (a page reload).
    again = await join(router, ROOM, "citizen", tone_hz=440.0)
    assert router.members(ROOM) == ["staff", "interpreter", "citizen"]
    assert router.open_peer_connections == 3
    await again.wait_for_audio(0.2)

    await router.close_room(ROOM)
    assert router.open_peer_connections == 0
    await router.close_room(ROOM)  # idempotent
    await router.close()
    with pytest.raises(VoiceError, match="closed"):
        await router.open_room(ROOM)


async def test_a_client_that_never_connects_is_dropped(join: Join) -> None:
    router = VoiceRouter(host_addresses=["127.0.0.1"], connect_timeout=0.5)
    try:
        await router.open_room(ROOM)
        await router.join(ROOM, "ghost", await _offer())  # its peer is already closed
        assert router.open_peer_connections == 1
        while router.open_peer_connections:
            await asyncio.sleep(0.05)
        assert router.members(ROOM) == []
    finally:
        await router.close()
