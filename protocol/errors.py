"""Error codes and close codes: what a client is told when something is refused.

An *error* answers one bad message; the connection stays open. A *close*
ends a connection that abuses the protocol. Both carry a stable code that
clients can switch on and a sentence a person can read.
"""

from __future__ import annotations

from enum import IntEnum


class ErrorCode:
    """Stable error codes sent in ``error`` messages (``code`` field)."""

    BAD_MSGPACK = "bad_msgpack"
    NOT_A_MESSAGE = "not_a_message"
    UNKNOWN_TYPE = "unknown_type"
    MISSING_FIELD = "missing_field"
    UNKNOWN_FIELD = "unknown_field"
    BAD_FIELD = "bad_field"
    TOO_LONG = "too_long"
    OUT_OF_RANGE = "out_of_range"
    NOT_FINITE = "not_finite"
    BAD_STATE = "bad_state"
    BAD_VERSION = "bad_version"
    BAD_TOKEN = "bad_token"
    FORBIDDEN = "forbidden"
    RATE_LIMITED = "rate_limited"
    MOVE_TOO_FAR = "move_too_far"
    UNKNOWN_ENTITY = "unknown_entity"
    SPACE_FULL = "space_full"
    UNKNOWN_SERVICE = "unknown_service"
    UNKNOWN_DESK = "unknown_desk"
    UNSUPPORTED_LANGUAGE = "unsupported_language"
    ALREADY_QUEUED = "already_queued"
    NO_TICKET = "no_ticket"
    DESK_TAKEN = "desk_taken"
    NOT_ON_DUTY = "not_on_duty"
    CASE_OPEN = "case_open"
    NO_CASE = "no_case"
    QUEUE_EMPTY = "queue_empty"
    NOT_IN_CALL = "not_in_call"
    BUSY = "busy"
    BAD_SDP = "bad_sdp"
    NO_AUDIO = "no_audio"
    NO_OPUS = "no_opus"
    NO_ROOM = "no_room"
    BAD_CANDIDATE = "bad_candidate"
    NOT_MEMBER = "not_member"
    ROOM_FULL = "room_full"
    VOICE_UNAVAILABLE = "voice_unavailable"
    INTERNAL = "internal"


ALL_ERROR_CODES: tuple[str, ...] = tuple(
    v for k, v in vars(ErrorCode).items() if not k.startswith("_") and isinstance(v, str)
)


class CloseCode(IntEnum):
    """WebSocket close codes the server uses (4000-4999 are ours)."""

    NORMAL = 1000
    GOING_AWAY = 1001
    MESSAGE_TOO_BIG = 1009
    BAD_VERSION = 4000
    HELLO_TIMEOUT = 4001
    TOO_MANY_ERRORS = 4002
    SLOW_CONSUMER = 4003
    KICKED = 4004
    BAD_TOKEN = 4005
    FLOOD = 4008
    REPLACED = 4009


class ProtocolError(Exception):
    """A message was refused. ``code`` is an `ErrorCode`, ``reason`` is readable.

    ``ref`` names the message type that caused it, when known.
    """

    def __init__(self, code: str, reason: str, ref: str | None = None) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason
        self.ref = ref
