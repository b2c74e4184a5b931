"""`VoiceError`: what a client can get wrong in voice signalling, with a stable code.

The codes are declared with the voice feature's messages
(``protocol/messages/voice.py``; the stage's two with the event messages,
``protocol/messages/events.py``), so they are in the exported catalogue; a
`VoiceError` is a `ProtocolError`, so the edge answers it like any refusal.
"""

from __future__ import annotations

from typing import Final

from protocol.errors import ProtocolError
from protocol.messages.events import EventError
from protocol.messages.voice import VoiceErrorCode

BAD_SDP: Final = VoiceErrorCode.BAD_SDP
"""The offer is not SDP aiortc can parse, is not an offer, or offers non-audio media."""
NO_AUDIO: Final = VoiceErrorCode.NO_AUDIO
"""The offer has no audio m-line the client would send or receive on."""
NO_OPUS: Final = VoiceErrorCode.NO_OPUS
"""The offer's audio does not include Opus (we forward Opus as is)."""
BAD_CANDIDATE: Final = VoiceErrorCode.BAD_CANDIDATE
"""A trickled ICE candidate dict is malformed; the participant's connection is closed."""
NO_ROOM: Final = VoiceErrorCode.NO_ROOM
"""No open room has this id."""
NOT_MEMBER: Final = VoiceErrorCode.NOT_MEMBER
"""The participant has not joined this room (or has left it)."""
ROOM_FULL: Final = VoiceErrorCode.ROOM_FULL
"""The room already has its maximum number of participants."""
CLOSED: Final = VoiceErrorCode.CLOSED
"""The router is shut down."""

# The stage's own codes (`server/voice/stage.py`), declared with the event messages.
NOT_SPEAKER: Final = EventError.NOT_SPEAKER
"""A publish offer (or a listen offer that sends) from someone not allowed to speak."""
LISTENER_BUDGET: Final = EventError.LISTENER_BUDGET
"""This process's WebRTC listener budget is used up: listen over the WebSocket."""

CODES: Final = frozenset(
    {
        BAD_SDP,
        NO_AUDIO,
        NO_OPUS,
        BAD_CANDIDATE,
        NO_ROOM,
        NOT_MEMBER,
        ROOM_FULL,
        CLOSED,
        NOT_SPEAKER,
        LISTENER_BUDGET,
    }
)


class VoiceError(ProtocolError):
    """A refused voice request. `code` is one of `CODES` and never changes meaning;
    `message` is for a person. The router guarantees that raising one never leaves a
    peer connection open that was opened for the refused request."""

    def __init__(self, code: str, message: str) -> None:
        assert code in CODES, code
        super().__init__(code, message)
        self.message = message
