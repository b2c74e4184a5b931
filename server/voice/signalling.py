"""Validation of what a client sends in voice signalling: an SDP offer, ICE candidates.

Pure functions, no connection is touched: `check_offer` and `parse_candidate` either
return a value or raise `VoiceError` with a stable code, so the router can refuse
bad input *before* it opens a peer connection.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from aiortc import RTCIceCandidate
from aiortc.sdp import SessionDescription, candidate_from_sdp

from server.voice.errors import BAD_CANDIDATE, BAD_SDP, NO_AUDIO, NO_OPUS, VoiceError

MAX_SDP_BYTES = 16 * 1024
"""A two-track audio offer from a browser is ~3 KiB; anything far larger is refused."""
MAX_CANDIDATE_CHARS = 512

_SENDS = {"sendrecv", "sendonly"}
_RECEIVES = {"sendrecv", "recvonly"}


@dataclass(frozen=True)
class Offer:
    """What the router needs to know about a valid offer.

    `directions` maps each active audio m-line's mid to the direction the client
    offered (its own view: "sendrecv", "sendonly" or "recvonly"). `receive_slots`
    counts the m-lines the client can receive on: each carries one other member's
    voice. `sends` says whether the client offered to send audio at all (a
    listen-only client is allowed).
    """

    sdp: str
    audio_lines: int
    """All audio m-lines, active or not: the answer must have as many."""
    directions: dict[str, str]
    receive_slots: int
    sends: bool


def check_offer(sdp: object) -> Offer:
    """Validate an SDP offer for a voice room, or raise `VoiceError`.

    Codes: `bad_sdp` (not a string, too large, unparsable, missing ICE/DTLS/rtcp-mux
    attributes, or media other than audio next to the audio), `no_audio` (no audio
    m-line, or none active),
    `no_opus` (an active audio m-line without Opus).
    """
    if not isinstance(sdp, str):
        raise VoiceError(BAD_SDP, "The offer must be SDP text.")
    if len(sdp) > MAX_SDP_BYTES:
        raise VoiceError(BAD_SDP, f"The offer is larger than {MAX_SDP_BYTES} bytes.")
    if not sdp.lstrip().startswith("v=0"):
        raise VoiceError(BAD_SDP, "The offer is not SDP (it must start with v=0).")
    try:
        description = SessionDescription.parse(sdp)
    except Exception as exc:  # aiortc's parser raises bare AssertionError/ValueError/…
        raise VoiceError(BAD_SDP, f"The offer could not be parsed: {exc!r}") from None
    receive_slots = 0
    sends = False
    directions: dict[str, str] = {}
    if not any(m.kind == "audio" for m in description.media):
        raise VoiceError(NO_AUDIO, "The offer has no audio m-line.")
    for media in description.media:
        if media.kind != "audio":
            raise VoiceError(BAD_SDP, f"Only audio is supported, not {media.kind!r}.")
        if media.ice is None or not media.ice.usernameFragment or not media.ice.password:
            raise VoiceError(BAD_SDP, "The offer lacks ICE credentials (ice-ufrag/ice-pwd).")
        if media.dtls is None or not media.dtls.fingerprints:
            raise VoiceError(BAD_SDP, "The offer lacks a DTLS fingerprint.")
        if not media.rtcp_mux:
            raise VoiceError(BAD_SDP, "The offer must use rtcp-mux.")
        direction = media.direction or "sendrecv"
        if direction == "inactive" or media.port == 0:
            continue
        if media.rtp.muxId is None or media.rtp.muxId in directions:
            raise VoiceError(BAD_SDP, "Each audio m-line needs its own a=mid.")
        directions[media.rtp.muxId] = direction
        if not any(c.mimeType.lower() == "audio/opus" for c in media.rtp.codecs):
            raise VoiceError(NO_OPUS, "The offer's audio must include Opus.")
        receive_slots += direction in _RECEIVES
        sends = sends or direction in _SENDS
    if not directions:
        raise VoiceError(NO_AUDIO, "The offer has no active audio m-line.")
    return Offer(
        sdp=sdp,
        audio_lines=len(description.media),
        directions=directions,
        receive_slots=receive_slots,
        sends=sends,
    )


def parse_candidate(candidate: object) -> RTCIceCandidate | None:
    """Turn a browser `RTCIceCandidateInit` dict into an aiortc candidate, or raise.

    Accepts `{"candidate": "candidate:… typ host", "sdpMid": "0", "sdpMLineIndex": 0}`
    (either of sdpMid/sdpMLineIndex may be absent, not both). An empty `candidate`
    string means end-of-candidates and returns `None`. Anything else that is wrong
    raises `VoiceError("bad_candidate")`.
    """
    if not isinstance(candidate, dict):
        raise VoiceError(BAD_CANDIDATE, "A candidate must be an object.")
    text = candidate.get("candidate")
    mid = candidate.get("sdpMid")
    index = candidate.get("sdpMLineIndex")
    if not isinstance(text, str) or len(text) > MAX_CANDIDATE_CHARS:
        raise VoiceError(BAD_CANDIDATE, "candidate must be a string of SDP.")
    if mid is not None and not isinstance(mid, str):
        raise VoiceError(BAD_CANDIDATE, "sdpMid must be a string.")
    if index is not None and (
        not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < 64
    ):
        raise VoiceError(BAD_CANDIDATE, "sdpMLineIndex must be a small integer.")
    if mid is None and index is None:
        raise VoiceError(BAD_CANDIDATE, "A candidate needs sdpMid or sdpMLineIndex.")
    if text == "":
        return None
    body = text.removeprefix("a=").removeprefix("candidate:")
    try:
        parsed = candidate_from_sdp(body)
    except Exception as exc:  # bare AssertionError/ValueError/IndexError from aiortc
        raise VoiceError(BAD_CANDIDATE, f"The candidate could not be parsed: {exc!r}") from None
    _check_candidate(parsed)
    parsed.sdpMid = mid
    parsed.sdpMLineIndex = index
    return parsed


def _check_candidate(c: Any) -> None:
    if c.component != 1:
        raise VoiceError(BAD_CANDIDATE, "Only component 1 is used (rtcp-mux).")
    if str(c.protocol).lower() != "udp":
        raise VoiceError(BAD_CANDIDATE, "Only UDP candidates are supported.")
    if not isinstance(c.port, int) or not 0 < c.port < 65536:
        raise VoiceError(BAD_CANDIDATE, "The candidate port is out of range.")
    if c.type not in ("host", "srflx", "prflx", "relay"):
        raise VoiceError(BAD_CANDIDATE, f"Unknown candidate type {c.type!r}.")
    address = str(c.ip)
    if address.endswith(".local"):  # mDNS-obfuscated host candidate from a browser
        return
    try:
        ipaddress.ip_address(address)
    except ValueError:
        raise VoiceError(BAD_CANDIDATE, "The candidate address is not an IP address.") from None
