"""Error codes and close codes: what a client is told when something is refused.

An *error* answers one bad message; the connection stays open. A *close*
ends a connection that abuses the protocol. Both carry a stable code that
clients can switch on and a sentence a person can read.
"""

from __future__ import annotations

from enum import IntEnum

from protocol.messages.core import CoreError

__all__ = ["CloseCode", "ErrorCode", "ProtocolError"]

ErrorCode = CoreError
"""The core error codes (``ErrorCode.BAD_STATE``, ...), the same class as
`protocol.messages.core.CoreError`. Each feature's own codes live in its
module (``DeskError``, ``VoiceErrorCode``); `protocol.catalogue.ERROR_CODES`
lists them all."""


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
    REVOKED = 4010
    """The sign-in session ended or was revoked (by an admin, or by signing out)."""
    ERASED = 4011
    """The person's data was erased at their request; the client forgets its citizen key."""


class ProtocolError(Exception):
    """A message was refused. ``code`` is an error code, ``reason`` is readable.

    ``ref`` names the message type that caused it, when known.
    """

    def __init__(self, code: str, reason: str, ref: str | None = None) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason
        self.ref = ref
