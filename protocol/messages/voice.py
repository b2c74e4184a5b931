"""Voice: WebRTC signalling for the audio of a desk call (the call itself is a desks message)."""

from __future__ import annotations

from typing import Final

from protocol.spec import FeatureProtocol, Field, c2s, documented, optional, s2c


class VoiceErrorCode:
    """Error codes of voice signalling (the server's ``VoiceError`` carries one of them)."""

    BAD_SDP: Final = "bad_sdp"
    NO_AUDIO: Final = "no_audio"
    NO_OPUS: Final = "no_opus"
    NO_ROOM: Final = "no_room"
    BAD_CANDIDATE: Final = "bad_candidate"
    NOT_MEMBER: Final = "not_member"
    ROOM_FULL: Final = "room_full"
    VOICE_UNAVAILABLE: Final = "voice_unavailable"
    CLOSED: Final = "closed"


E = VoiceErrorCode

ERRORS = documented(
    VoiceErrorCode,
    {
        E.BAD_SDP: "The offer is not an audio-only SDP offer the server can parse.",
        E.NO_AUDIO: "The offer has no active audio m-line.",
        E.NO_OPUS: "The offer's audio does not include Opus.",
        E.NO_ROOM: "The desk call's voice room does not exist or was closed.",
        E.BAD_CANDIDATE: "A trickled ICE candidate is malformed or unsupported.",
        E.NOT_MEMBER: "The sender has not joined this voice room, or has left it.",
        E.ROOM_FULL: "The voice room already has its maximum number of participants.",
        E.VOICE_UNAVAILABLE: "This server has no voice support.",
        E.CLOSED: "The voice router is shut down (the server is stopping).",
    },
)

SDP = Field("str", min_len=1, max_len=12000, doc="session description")

CLIENT = (
    c2s(
        "rtc_offer",
        {"sdp": SDP},
        "WebRTC offer for one's desk call; answered by rtc_answer.",
    ),
    c2s(
        "rtc_ice",
        {
            "candidate": Field("str", min_len=1, max_len=1024, doc="an a=candidate line's value"),
            "mid": optional(Field("str", max_len=32, doc="sdpMid")),
            "mline": optional(Field("int", min=0, max=16, doc="sdpMLineIndex")),
        },
        "A trickled ICE candidate (optional: offers may carry them all).",
    ),
    c2s("mute", {"muted": Field("bool")}, "Mute or unmute one's microphone."),
    c2s("hangup", {}, "Leave the voice part of one's desk call."),
)

SERVER = (s2c("rtc_answer", {"sdp": SDP}, "The server's WebRTC answer."),)

PROTOCOL = FeatureProtocol(
    "voice",
    CLIENT,
    SERVER,
    ERRORS,
    doc="WebRTC signalling for the audio of a desk call; see docs/VOICE.md.",
)
