"""`VoiceError`: what a client can get wrong in voice signalling, with a stable code."""

from __future__ import annotations

from typing import Final

BAD_SDP: Final = "bad_sdp"
"""The offer is not SDP aiortc can parse, is not an offer, or offers non-audio media."""
NO_AUDIO: Final = "no_audio"
"""The offer has no audio m-line the client would send or receive on."""
NO_OPUS: Final = "no_opus"
"""The offer's audio does not include Opus (we forward Opus as is)."""
BAD_CANDIDATE: Final = "bad_candidate"
"""A trickled ICE candidate dict is malformed; the participant's connection is closed."""
NO_ROOM: Final = "no_room"
"""No open room has this id."""
NOT_MEMBER: Final = "not_member"
"""The participant has not joined this room (or has left it)."""
ROOM_FULL: Final = "room_full"
"""The room already has its maximum number of participants."""
CLOSED: Final = "closed"
"""The router is shut down."""

CODES: Final = frozenset(
    {BAD_SDP, NO_AUDIO, NO_OPUS, BAD_CANDIDATE, NO_ROOM, NOT_MEMBER, ROOM_FULL, CLOSED}
)


class VoiceError(Exception):
    """A refused voice request. `code` is one of `CODES` and never changes meaning;
    `message` is for a person. The router guarantees that raising one never leaves a
    peer connection open that was opened for the refused request."""

    def __init__(self, code: str, message: str) -> None:
        assert code in CODES, code
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
