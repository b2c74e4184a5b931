"""Everything in the voice path that relies on aiortc / aioice internals, in one place.

Why this module exists: aiortc has no public API to take the *encoded* payload of an
inbound RTP stream. Every `RTCRtpReceiver` pushes each packet through its jitter
buffer into a decoder thread, and the only public output is decoded PCM. To forward
Opus without decoding we replace one private method per receiver instance,
`RTCRtpReceiver._handle_rtp_packet(packet, arrival_time_ms)`, which the DTLS
transport calls for every routed RTP packet. We keep feeding the receiver's RTCP
receive statistics, so the remote sender still gets correct receiver reports
(loss, jitter), which browsers show in their WebRTC stats.

Second reason: aioice gathers host candidates on every interface but never on
loopback, and has no per-connection option to choose addresses. A server must
advertise only its public address(es), and tests must stay on 127.0.0.1, so
`restrict_host_addresses` replaces `aioice.ice.get_host_addresses` (process-wide).

`check_aiortc_compatible()` asserts that every internal we touch still exists with
the expected shape; `tests/server/test_voice_internals.py` calls it so an aiortc
upgrade that moves them fails loudly instead of silently decoding again.

The sending side needs no internals: a sender whose track yields `av.Packet`
objects packs them as they are (`Encoder.pack`, public behaviour since aiortc 1.4).
"""

from __future__ import annotations

import inspect
import ipaddress
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

import aioice.ice
from aiortc import RTCDtlsTransport, RTCRtpReceiver
from aiortc.rtcrtpreceiver import StreamStatistics

OPUS_CLOCK_RATE = 48000

_REMOTE_STREAMS = "_RTCRtpReceiver__remote_streams"
"""Name-mangled `RTCRtpReceiver.__remote_streams`: ssrc -> StreamStatistics, read by RTCP RR."""


class RtpPacketLike(Protocol):
    """The fields of `aiortc.rtp.RtpPacket` the voice path reads."""

    payload_type: int
    sequence_number: int
    timestamp: int
    ssrc: int
    payload: bytes


RtpCallback = Callable[[Any], None]
"""Called with each inbound `aiortc.rtp.RtpPacket` (typed `Any`: aiortc is untyped)."""


def tap_inbound_rtp(receiver: Any, on_packet: RtpCallback, *, passthrough: bool = False) -> None:
    """Route every RTP packet arriving at `receiver` to `on_packet`, synchronously.

    With `passthrough=False` (forwarding) the packet goes nowhere else: no jitter
    buffer, no decoder, so the receiver's `track` never yields a frame. RTCP receiver
    statistics are still kept. With `passthrough=True` (observing, for tests and the
    benchmark) the packet is then handled by aiortc as usual and decoded.

    Call it once per receiver, before media flows (after `setRemoteDescription`).
    `on_packet` must not block; exceptions from it propagate into aiortc's
    receive loop and would end the connection, so keep it total.
    """
    original: Callable[..., Awaitable[None]] = receiver._handle_rtp_packet
    if passthrough:

        async def observe(packet: Any, arrival_time_ms: int) -> None:
            on_packet(packet)
            await original(packet, arrival_time_ms=arrival_time_ms)

        receiver._handle_rtp_packet = observe
        return

    streams: dict[int, Any] = getattr(receiver, _REMOTE_STREAMS)

    async def forward(packet: Any, arrival_time_ms: int) -> None:
        stats = streams.get(packet.ssrc)
        if stats is None:
            stats = streams[packet.ssrc] = StreamStatistics(OPUS_CLOCK_RATE)
        stats.add(packet)
        on_packet(packet)

    receiver._handle_rtp_packet = forward


def restrict_host_addresses(addresses: Sequence[str] | None) -> None:
    """Make every ICE agent in this process gather host candidates only on `addresses`.

    Process-wide (aioice has no per-connection setting). `None` restores aioice's
    default (all non-loopback interfaces). Addresses must be literal IPv4/IPv6.
    """
    if addresses is None:
        aioice.ice.get_host_addresses = _AIOICE_DEFAULT
        return
    parsed = [ipaddress.ip_address(a) for a in addresses]

    def chosen(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return [
            str(a) for a in parsed if (use_ipv4 and a.version == 4) or (use_ipv6 and a.version == 6)
        ]

    aioice.ice.get_host_addresses = chosen


_AIOICE_DEFAULT = aioice.ice.get_host_addresses


def check_aiortc_compatible() -> None:
    """Raise `RuntimeError` naming what changed if an internal used here is gone.

    Cheap; the router calls it once at construction so a bad upgrade fails at start,
    not by silently dropping audio.
    """
    problems: list[str] = []
    handler = getattr(RTCRtpReceiver, "_handle_rtp_packet", None)
    if handler is None or not inspect.iscoroutinefunction(handler):
        problems.append("RTCRtpReceiver._handle_rtp_packet is no longer a coroutine method")
    else:
        params = list(inspect.signature(handler).parameters)
        if params[:3] != ["self", "packet", "arrival_time_ms"]:
            problems.append(f"RTCRtpReceiver._handle_rtp_packet signature is now {params}")
    dispatch_src = inspect.getsource(RTCDtlsTransport._handle_rtp_data)
    if "receiver._handle_rtp_packet(" not in dispatch_src:
        problems.append("RTCDtlsTransport no longer dispatches via receiver._handle_rtp_packet")
    init_src = inspect.getsource(RTCRtpReceiver.__init__)
    if "self.__remote_streams" not in init_src:
        problems.append("RTCRtpReceiver.__remote_streams (RTCP statistics) is gone")
    if not hasattr(StreamStatistics, "add"):
        problems.append("aiortc.rtcrtpreceiver.StreamStatistics.add is gone")
    gather_src = inspect.getsource(aioice.ice.Connection.gather_candidates)
    if "get_host_addresses(" not in gather_src:
        problems.append("aioice Connection.gather_candidates no longer calls get_host_addresses")
    if problems:
        raise RuntimeError("aiortc/aioice internals changed: " + "; ".join(problems))
