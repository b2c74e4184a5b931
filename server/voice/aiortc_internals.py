"""Everything in the voice path that relies on aiortc / aioice internals, in one place.

Why this module exists: aiortc has no public API to take the *encoded* payload of an
inbound RTP stream. Every `RTCRtpReceiver` pushes each packet through its jitter
buffer into a decoder thread, and the only public output is decoded PCM. To forward
Opus without decoding we take inbound SRTP where aioice hands a datagram to its
connection (`Connection.data_received`, replaced per connection), decrypt it with
the DTLS transport's SRTP session (`RTCDtlsTransport._rx_srtp`) and parse the RTP
header ourselves; DTLS and RTCP datagrams go on to aiortc unchanged. We keep
feeding the receiver's RTCP statistics (`RTCRtpReceiver.__remote_streams`), so the
remote sender still gets correct receiver reports (loss, jitter), which browsers
show in their WebRTC stats. For tests, `passthrough=True` instead wraps the private
`RTCRtpReceiver._handle_rtp_packet` and lets aiortc decode as usual.

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
import random
import struct
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, cast

import aioice.ice
import pylibsrtp
from aiortc import RTCDtlsTransport, RTCRtpReceiver, RTCRtpSender, clock
from aiortc.rtcrtpreceiver import StreamStatistics
from aiortc.rtp import is_rtcp
from aiortc.sdp import SessionDescription

OPUS_CLOCK_RATE = 48000

_RTP_HEADER = struct.Struct("!BBHLL")
_REMOTE_STREAMS = "_RTCRtpReceiver__remote_streams"
"""Name-mangled `RTCRtpReceiver.__remote_streams`: ssrc -> StreamStatistics, read by RTCP RR."""


class InboundRtp:
    """The fields of one inbound RTP packet that forwarding needs (parsed without
    aiortc's `RtpPacket`: header extensions are skipped, except the RFC 6464 audio
    level when its extension id is given)."""

    __slots__ = ("audio_level", "payload", "payload_type", "sequence_number", "ssrc", "timestamp")

    def __init__(
        self,
        payload_type: int,
        sequence_number: int,
        timestamp: int,
        ssrc: int,
        payload: bytes,
        audio_level: int = -1,
    ) -> None:
        self.payload_type = payload_type
        self.sequence_number = sequence_number
        self.timestamp = timestamp
        self.ssrc = ssrc
        self.payload = payload
        self.audio_level = audio_level
        """RFC 6464 level: 0 (0 dBov, loudest) .. 127 (-127 dBov, silence); -1 if the
        packet carries none (or its extension id was not asked for)."""


def parse_rtp(data: bytes, into: InboundRtp, audio_level_id: int = 0) -> bool:
    """Parse a decrypted RTP packet into `into`; False (and `into` untouched) if it
    is malformed. With `audio_level_id` (the negotiated id of
    `AUDIO_LEVEL_URI`), `into.audio_level` is read from the header extension."""
    if len(data) < 12 or data[0] >> 6 != 2:
        return False
    first, second, sequence, timestamp, ssrc = _RTP_HEADER.unpack_from(data)
    position = 12 + 4 * (first & 0x0F)
    end = len(data)
    level = -1
    if first & 0x10:  # header extension: skip it (reading the audio level if asked)
        if end < position + 4:
            return False
        start = position + 4
        position = start + 4 * int.from_bytes(data[position + 2 : start], "big")
        if audio_level_id and position <= end:
            level = _audio_level(data, start, position, audio_level_id)
    if first & 0x20:  # padding
        end -= data[-1]
    if position > end:
        return False
    into.payload_type = second & 0x7F
    into.sequence_number = sequence
    into.timestamp = timestamp
    into.ssrc = ssrc
    into.payload = data[position:end]
    into.audio_level = level
    return True


def _audio_level(data: bytes, start: int, stop: int, wanted: int) -> int:
    """The audio level element of an RFC 8285 header extension block (one-byte
    profile 0xBEDE or two-byte profile 0x100x), or -1."""
    profile = data[start - 4] << 8 | data[start - 3]
    two_byte = profile >> 4 == 0x100
    if profile != 0xBEDE and not two_byte:
        return -1
    i = start
    while i < stop:
        byte = data[i]
        if byte == 0:  # padding
            i += 1
            continue
        if two_byte:
            if i + 1 >= stop:
                return -1
            element, length, i = byte, data[i + 1], i + 2
        else:
            element, length, i = byte >> 4, (byte & 0x0F) + 1, i + 1
            if element == 15:  # reserved: stop parsing (RFC 8285 4.2)
                return -1
        if element == wanted:
            return data[i] & 0x7F if length >= 1 and i < stop else -1
        i += length
    return -1


RtpCallback = Callable[[Any], None]
"""Called with each inbound packet: an `InboundRtp` (fast path) or aiortc `RtpPacket`
(passthrough); both have `payload_type`, `sequence_number`, `timestamp`, `ssrc`,
`payload`."""


def tap_inbound_rtp(
    receiver: Any,
    on_packet: RtpCallback,
    *,
    passthrough: bool = False,
    audio_level_id: int | None = None,
) -> None:
    """Route every RTP packet arriving for `receiver` to `on_packet`, synchronously.

    The packet object passed to `on_packet` is only valid during the call (the fast
    path reuses one object). With `passthrough=False` (forwarding) the packet goes
    nowhere else: no jitter
    buffer, no decoder, so the receiver's `track` never yields a frame. It is taken
    as early as possible: in the ICE connection's datagram callback, decrypted and
    parsed right there, instead of being queued for the DTLS transport's task (that
    hop and aiortc's full RTP parse were the largest per-packet costs). Only the
    first SSRC seen is taken (one microphone per connection); RTCP and DTLS still
    take aiortc's usual path, and RTCP receiver statistics are still kept, so the
    remote sender gets correct receiver reports (loss, jitter).

    With `passthrough=True` (observing, for tests) the packet is then handled by
    aiortc as usual and decoded.

    `audio_level_id` (fast path only): the negotiated extension id of
    `AUDIO_LEVEL_URI` (see `header_extension_id`); each packet's `audio_level` is
    then read from it (-1 when absent).

    Call it once per receiver, after `setRemoteDescription` (when BUNDLE has settled
    the transport) and before media flows. `on_packet` must not block; an exception
    from it propagates into the event loop's datagram callback, so keep it total.
    """
    if passthrough:
        original: Callable[..., Awaitable[None]] = receiver._handle_rtp_packet

        async def observe(packet: Any, arrival_time_ms: int) -> None:
            on_packet(packet)
            await original(packet, arrival_time_ms=arrival_time_ms)

        receiver._handle_rtp_packet = observe
        return

    streams: dict[int, Any] = getattr(receiver, _REMOTE_STREAMS)
    dtls = receiver.transport
    connection = dtls.transport._connection
    queue_datagram: Callable[[bytes, int], None] = connection.data_received
    source: list[int] = []  # the SSRC we lock onto
    packet = InboundRtp(0, 0, 0, 0, b"")  # reused: no allocation per packet
    level_id = audio_level_id or 0

    def datagram(data: bytes, component: int) -> None:
        srtp = dtls._rx_srtp
        if srtp is None or not 127 < data[0] < 192 or is_rtcp(data):
            queue_datagram(data, component)  # DTLS, RTCP, or too early: aiortc's path
            return
        try:
            if not parse_rtp(srtp.unprotect(data), packet, level_id):
                return
        except pylibsrtp.Error:
            return
        if not source:
            source.append(packet.ssrc)
        elif packet.ssrc != source[0]:
            return
        stats = streams.get(packet.ssrc)
        if stats is None:
            stats = streams[packet.ssrc] = StreamStatistics(OPUS_CLOCK_RATE)
        stats.add(cast(Any, packet))  # duck-typed: reads sequence_number, timestamp
        on_packet(packet)

    connection.data_received = datagram


MID_URI = "urn:ietf:params:rtp-hdrext:sdes:mid"
AUDIO_LEVEL_URI = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
"""RFC 6464 client-to-mixer audio level: browsers send it on every audio packet."""
_COUNTERS = ("packet_count", "octet_count", "ntp_timestamp", "rtp_timestamp")


class RtpOutlet:
    """Sends Opus payloads as RTP on one `RTCRtpSender`, synchronously, bypassing the
    sender's task (no `MediaStreamTrack` queue, no `RtpPacket`, no per-packet
    coroutines: that path cost more per packet than the system calls).

    Guarantees: the stream uses the sender's SSRC (as signalled in our SDP answer),
    the negotiated payload type and, if negotiated, the MID header extension; sequence
    numbers are consecutive from a random start. The sender's own RTCP sender reports
    are kept right by updating its packet/octet counters and the last NTP/RTP
    timestamp pair (every `SR_EVERY` packets). The sender still runs (it answers RTCP)
    but must be given a track that never yields.
    """

    SR_EVERY = 16

    def __init__(
        self, sender: Any, payload_type: int, mid: str | None, mid_extension_id: int | None
    ) -> None:
        self._sender = sender
        self._ssrc: int = sender._ssrc
        self._payload_type = payload_type & 0x7F
        self._sequence = random.randrange(1 << 15)  # lower half, as aiortc: no early wrap
        self._origin = random.randrange(1 << 32)
        self._packets = 0
        self._octets = 0
        extension = b""
        if mid and mid_extension_id and 0 < mid_extension_id < 15 and len(mid) <= 16:
            element = bytes([(mid_extension_id << 4) | (len(mid) - 1)]) + mid.encode()
            element += b"\0" * (-len(element) % 4)
            extension = b"\xbe\xde" + (len(element) // 4).to_bytes(2, "big") + element
        self._extension = extension
        self._first_byte = 0x90 if extension else 0x80

    def send(self, timestamp: int, payload: bytes, *, marker: bool = False) -> bool:
        """Send one payload with RTP timestamp `timestamp` (relative; the outlet adds
        a random origin). Returns False (and sends nothing) while not connected."""
        dtls = self._sender.transport
        srtp = dtls._tx_srtp
        if srtp is None or dtls.state != "connected":
            return False
        pair = dtls.transport._connection._nominated.get(1)
        if pair is None:
            return False
        rtp_timestamp = (self._origin + timestamp) & 0xFFFFFFFF
        header = _RTP_HEADER.pack(
            self._first_byte,
            self._payload_type | (0x80 if marker else 0),
            self._sequence,
            rtp_timestamp,
            self._ssrc,
        )
        data = srtp.protect(header + self._extension + payload)
        pair.protocol.transport.sendto(data, pair.remote_addr)
        self._sequence = (self._sequence + 1) & 0xFFFF
        self._packets += 1
        self._octets += len(payload)
        if self._packets % self.SR_EVERY == 1:
            self._update_sender_report(rtp_timestamp)
        return True

    def _update_sender_report(self, rtp_timestamp: int) -> None:
        sender = self._sender
        sender._RTCRtpSender__packet_count = self._packets
        sender._RTCRtpSender__octet_count = self._octets
        sender._RTCRtpSender__ntp_timestamp = clock.current_ntp_time()
        sender._RTCRtpSender__rtp_timestamp = rtp_timestamp


def outlet_for(transceiver: Any, answer_sdp: str) -> RtpOutlet:
    """An `RtpOutlet` for a transceiver, with the payload type and MID extension id
    that our (already applied) SDP answer negotiated for its m-line."""
    description = SessionDescription.parse(answer_sdp)
    for media in description.media:
        if media.rtp.muxId == transceiver.mid:
            payload_type = media.rtp.codecs[0].payloadType
            if payload_type is None:
                raise ValueError(f"no payload type for mid {transceiver.mid!r}")
            mid_id = next((x.id for x in media.rtp.headerExtensions if x.uri == MID_URI), None)
            return RtpOutlet(transceiver.sender, payload_type, transceiver.mid, mid_id)
    raise ValueError(f"no m-line with mid {transceiver.mid!r} in the answer")


def header_extension_id(sdp: str, mid: str | None, uri: str) -> int | None:
    """The id of header extension `uri` on the m-line `mid` of `sdp`, or None. The
    client's offer will do: aiortc's answer keeps the offer's ids (and it takes
    `AUDIO_LEVEL_URI` for audio), and the client sends with them."""
    for media in SessionDescription.parse(sdp).media:
        if media.rtp.muxId == mid:
            return next((x.id for x in media.rtp.headerExtensions if x.uri == uri), None)
    return None


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
    recv_src = inspect.getsource(RTCDtlsTransport._recv_next)
    if "self._rx_srtp.unprotect(data)" not in recv_src:
        problems.append("RTCDtlsTransport._rx_srtp is no longer the inbound SRTP session")
    if "self._queue.put_nowait" not in inspect.getsource(aioice.ice.Connection.data_received):
        problems.append("aioice Connection.data_received no longer queues datagrams")
    if "self.receiver.data_received(" not in inspect.getsource(
        aioice.ice.StunProtocol.datagram_received
    ):
        problems.append("aioice StunProtocol no longer calls Connection.data_received")
    sender_src = inspect.getsource(RTCRtpSender.__init__)
    for counter in _COUNTERS:
        if f"self.__{counter} = " not in sender_src:
            problems.append(f"RTCRtpSender.__{counter} (RTCP SR) is gone")
    if "self._ssrc = " not in sender_src:
        problems.append("RTCRtpSender._ssrc is gone")
    if "self._tx_srtp.protect(data)" not in inspect.getsource(RTCDtlsTransport._send_rtp):
        problems.append("RTCDtlsTransport._tx_srtp is no longer the outbound SRTP session")
    if "self._nominated.get(component)" not in inspect.getsource(aioice.ice.Connection.sendto):
        problems.append("aioice Connection._nominated no longer holds the selected pairs")
    if not hasattr(StreamStatistics, "add"):
        problems.append("aiortc.rtcrtpreceiver.StreamStatistics.add is gone")
    gather_src = inspect.getsource(aioice.ice.Connection.gather_candidates)
    if "get_host_addresses(" not in gather_src:
        problems.append("aioice Connection.gather_candidates no longer calls get_host_addresses")
    if problems:
        raise RuntimeError("aiortc/aioice internals changed: " + "; ".join(problems))
