"""The pieces of the voice path that can break without an end-to-end symptom.

`check_aiortc_compatible` fails loudly if an aiortc upgrade moves the internals the
forwarding tap relies on; `OutboundVoice` keeps output timestamps monotonic whatever
the sources do; `check_offer`/`parse_candidate` accept what browsers send.
"""

from __future__ import annotations

import aioice.ice
import av
import pytest

from server.voice.aiortc_internals import check_aiortc_compatible, restrict_host_addresses
from server.voice.errors import VoiceError
from server.voice.signalling import parse_candidate
from server.voice.tracks import FRAME_SAMPLES, OutboundVoice


def test_aiortc_internals_used_by_forwarding_are_still_there() -> None:
    check_aiortc_compatible()


def test_host_addresses_are_restricted_and_restored() -> None:
    default = aioice.ice.get_host_addresses
    try:
        restrict_host_addresses(["127.0.0.1", "::1"])
        assert aioice.ice.get_host_addresses(use_ipv4=True, use_ipv6=False) == ["127.0.0.1"]
        assert aioice.ice.get_host_addresses(use_ipv4=True, use_ipv6=True) == ["127.0.0.1", "::1"]
        with pytest.raises(ValueError):
            restrict_host_addresses(["localhost"])
    finally:
        restrict_host_addresses(None)
    assert aioice.ice.get_host_addresses is default


async def test_outbound_timestamps_follow_the_source_and_only_move_forward() -> None:
    slot = OutboundVoice(capacity=100)
    a, b = object(), object()
    base = 4_000_000_000  # wraps past 2**32
    for i in range(3):
        slot.push_payload(a, (base + i * FRAME_SAMPLES) & 0xFFFFFFFF, b"x")
    slot.push_payload(a, (base + FRAME_SAMPLES) & 0xFFFFFFFF, b"late")  # dropped
    slot.push_payload(a, (base + 2 * FRAME_SAMPLES) & 0xFFFFFFFF, b"dup")  # dropped
    slot.push_payload(a, (base + 10 * FRAME_SAMPLES) & 0xFFFFFFFF, b"after-dtx")
    slot.push_payload(b, 123, b"other")  # `a` holds the slot: refused
    pts = [(await slot.recv()).pts for _ in range(4)]
    assert pts == [0, FRAME_SAMPLES, 2 * FRAME_SAMPLES, 10 * FRAME_SAMPLES]
    assert not slot._items
    slot.stop()


async def test_outbound_queue_is_bounded() -> None:
    slot = OutboundVoice(capacity=5)
    for i in range(8):
        slot.push_payload(slot, i * FRAME_SAMPLES, bytes([i]))
    assert slot.dropped == 3
    received = [await slot.recv() for _ in range(5)]
    assert [bytes(p) for p in received if isinstance(p, av.Packet)] == [
        bytes([i]) for i in range(3, 8)
    ]
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
