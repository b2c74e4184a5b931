"""The pieces of the voice path that can break without an end-to-end symptom.

`check_aiortc_compatible` fails loudly if an aiortc upgrade moves the internals the
forwarding tap relies on; `OutboundVoice` keeps output timestamps monotonic whatever
the sources do; `check_offer`/`parse_candidate` accept what browsers send.
"""

from __future__ import annotations

import aioice.ice
import av
import pytest

from server.voice.aiortc_internals import (
    _AIOICE_DEFAULT,
    check_aiortc_compatible,
    restrict_host_addresses,
)
from server.voice.errors import VoiceError
from server.voice.signalling import parse_candidate
from server.voice.tracks import FRAME_SAMPLES, ForwardedVoice, OutboundVoice


def test_aiortc_internals_used_by_forwarding_are_still_there() -> None:
    check_aiortc_compatible()


def test_host_addresses_are_restricted_and_restored() -> None:
    saved = aioice.ice.get_host_addresses  # other tests in this process may have set it
    try:
        restrict_host_addresses(["127.0.0.1", "::1"])
        assert aioice.ice.get_host_addresses(use_ipv4=True, use_ipv6=False) == ["127.0.0.1"]
        assert aioice.ice.get_host_addresses(use_ipv4=True, use_ipv6=True) == ["127.0.0.1", "::1"]
        with pytest.raises(ValueError):
            restrict_host_addresses(["localhost"])
        restrict_host_addresses(None)
        assert aioice.ice.get_host_addresses is _AIOICE_DEFAULT
    finally:
        aioice.ice.get_host_addresses = saved


class Recorder:
    """Stands where `RtpOutlet` would: records what a slot sends."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, bytes, bool]] = []

    def send(self, timestamp: int, payload: bytes, *, marker: bool = False) -> bool:
        self.sent.append((timestamp, payload, marker))
        return True


async def test_forwarded_timestamps_follow_the_source_and_only_move_forward() -> None:
    slot = ForwardedVoice()
    slot.outlet = out = Recorder()
    a, b = object(), object()
    base = 4_000_000_000  # wraps past 2**32
    for i in range(3):
        slot.push_payload(a, (base + i * FRAME_SAMPLES) & 0xFFFFFFFF, b"x")
    slot.push_payload(a, (base + FRAME_SAMPLES) & 0xFFFFFFFF, b"late")  # dropped
    slot.push_payload(a, (base + 2 * FRAME_SAMPLES) & 0xFFFFFFFF, b"dup")  # dropped
    slot.push_payload(a, (base + 10 * FRAME_SAMPLES) & 0xFFFFFFFF, b"after-dtx")
    slot.push_payload(b, 123, b"other")  # `a` holds the slot: refused
    assert [t for t, _, _ in out.sent] == [0, FRAME_SAMPLES, 2 * FRAME_SAMPLES, 10 * FRAME_SAMPLES]
    assert [m for _, _, m in out.sent] == [True, False, False, False]
    assert out.sent[-1][1] == b"after-dtx"
    slot.stop()
    slot.push_payload(a, (base + 11 * FRAME_SAMPLES) & 0xFFFFFFFF, b"after-stop")
    assert len(out.sent) == 4


async def test_outbound_queue_is_bounded() -> None:
    slot = OutboundVoice(capacity=5)
    source = object()
    frames = [av.AudioFrame(format="s16", layout="stereo", samples=FRAME_SAMPLES) for _ in range(8)]
    for frame in frames:
        slot.push_frame(source, frame)
    assert slot.dropped == 3
    assert [await slot.recv() for _ in range(5)] == frames[3:]
    slot.stop()


def test_browser_candidates_parse() -> None:
    chrome = {
        "candidate": "candidate:3 1 udp 2122262783 9b36eaac-bb2e-49bb-bb78-21c41c499900.local "
        "54321 typ host generation 0 ufrag EsAw network-id 1",
        "sdpMid": "0",
        "sdpMLineIndex": 0,
        "usernameFragment": "EsAw",
    }
    parsed = parse_candidate(chrome)
    assert parsed is not None and parsed.port == 54321 and parsed.sdpMid == "0"
    assert parse_candidate({"candidate": "", "sdpMid": "0"}) is None
    with pytest.raises(VoiceError, match="bad_candidate"):
        parse_candidate({"candidate": "candidate:1 2 udp 1 1.2.3.4 5 typ host", "sdpMid": "0"})


def test_rtp_parse_matches_aiortc() -> None:
    from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpParameters
    from aiortc.rtp import HeaderExtensionsMap, RtpPacket

    from server.voice.aiortc_internals import InboundRtp, parse_rtp

    packet = RtpPacket(payload_type=111, sequence_number=65535, timestamp=4294967295, ssrc=7)
    packet.csrc = [1, 2]
    packet.extensions.abs_send_time = 123
    packet.payload = b"\xfc\x01\x02opus"
    extensions = HeaderExtensionsMap()
    uri = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
    extensions.configure(
        RTCRtpParameters(headerExtensions=[RTCRtpHeaderExtensionParameters(id=3, uri=uri)])
    )
    data = packet.serialize(extensions)
    parsed = InboundRtp(0, 0, 0, 0, b"")
    assert parse_rtp(data, parsed)
    assert (parsed.payload_type, parsed.sequence_number, parsed.timestamp, parsed.ssrc) == (
        111,
        65535,
        4294967295,
        7,
    )
    assert parsed.payload == packet.payload
    padded = bytes([data[0] | 0x20]) + data[1:] + b"\x00\x00\x03"
    assert parse_rtp(padded, parsed) and parsed.payload == packet.payload
    assert not parse_rtp(b"\x80" * 5, parsed)
    assert not parse_rtp(b"\x40" + data[1:], parsed)  # RTP version 1
