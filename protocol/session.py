"""The session state machine: phases and the few messages that change them.

Each client message declares the phases in which it may be sent
(`MessageSpec.phases`: ``hello``, ``join``, ``world``) and the roles that may
send it; this module maps states to phases and holds only the real
transitions, as data, as in h11's ``_state.py``. The server feeds every
validated client message through `Session.receive`: a message not allowed
in the current phase raises `ProtocolError(bad_state)`, one whose roles
exclude the session's raises `ProtocolError(forbidden)`.

States::

    AWAIT_HELLO --hello--> AWAIT_JOIN --join--> IN_WORLD
                           AWAIT_JOIN --(server: resumed)--> IN_WORLD
    any open state --bye--> CLOSED       (server: closed) --> CLOSED
"""

from __future__ import annotations

from enum import Enum

from protocol.catalogue import CLIENT_MESSAGES
from protocol.codec import Message
from protocol.errors import ErrorCode, ProtocolError

__all__ = [
    "CLIENT_TRANSITIONS",
    "PHASE_OF_STATE",
    "SERVER_TRANSITIONS",
    "Session",
    "SessionState",
]


class SessionState(Enum):
    AWAIT_HELLO = "await_hello"
    AWAIT_JOIN = "await_join"
    IN_WORLD = "in_world"
    CLOSED = "closed"


S = SessionState

PHASE_OF_STATE: dict[SessionState, str] = {
    S.AWAIT_HELLO: "hello",
    S.AWAIT_JOIN: "join",
    S.IN_WORLD: "world",
}
"""The phase of each open state; CLOSED has none (nothing may be sent)."""

# (state, client message type) -> next state. Only messages that change the
# state are listed; every other allowed message leaves it as it is.
CLIENT_TRANSITIONS: dict[tuple[SessionState, str], SessionState] = {
    (S.AWAIT_HELLO, "hello"): S.AWAIT_JOIN,
    (S.AWAIT_JOIN, "join"): S.IN_WORLD,
    **{(state, "bye"): S.CLOSED for state in PHASE_OF_STATE},
}

# Events the server itself causes.
SERVER_TRANSITIONS: dict[tuple[SessionState, str], SessionState] = {
    (S.AWAIT_JOIN, "resumed"): S.IN_WORLD,
    (S.AWAIT_HELLO, "closed"): S.CLOSED,
    (S.AWAIT_JOIN, "closed"): S.CLOSED,
    (S.IN_WORLD, "closed"): S.CLOSED,
    (S.CLOSED, "closed"): S.CLOSED,
}

_HINTS: dict[SessionState, str] = {
    S.AWAIT_HELLO: "Send hello first.",
    S.AWAIT_JOIN: "Send join before acting in the world.",
    S.IN_WORLD: "You have already joined.",
    S.CLOSED: "The session is closed.",
}


class Session:
    """One client's protocol state and role. Pure: no I/O, no clock.

    ``state`` starts at AWAIT_HELLO and ``role`` at ``"citizen"``; the server
    sets ``role`` when a token grants another.
    """

    def __init__(self) -> None:
        self.state = SessionState.AWAIT_HELLO
        self.role = "citizen"

    def receive(self, msg: Message) -> SessionState:
        """Advance on a validated client message; return the (possibly unchanged) state.

        Raises `ProtocolError` and leaves the state unchanged when the message
        may not be sent now: ``bad_state`` when the current phase is not among
        its phases (always, once CLOSED), ``forbidden`` when the session's
        role is not among its roles, ``unknown_type`` for a type the catalogue
        lacks. Every error's ``ref`` is the message type.
        """
        t: str = msg["t"]
        spec = CLIENT_MESSAGES.get(t)
        if spec is None:
            raise ProtocolError(ErrorCode.UNKNOWN_TYPE, f"Unknown message type '{t[:32]}'.", t[:32])
        phase = PHASE_OF_STATE.get(self.state)
        if phase is None or phase not in spec.phases:
            raise ProtocolError(
                ErrorCode.BAD_STATE, f"'{t}' is not allowed now. {_HINTS[self.state]}", t
            )
        if self.role not in spec.roles:
            raise ProtocolError(ErrorCode.FORBIDDEN, f"Your role may not send '{t}'.", t)
        self.state = CLIENT_TRANSITIONS.get((self.state, t), self.state)
        return self.state

    def server_event(self, event: str) -> SessionState:
        """Advance on a server-side event (``resumed``, ``closed``); return the new state.

        Raises ValueError for an event the current state does not allow.
        """
        nxt = SERVER_TRANSITIONS.get((self.state, event))
        if nxt is None:
            raise ValueError(f"event {event!r} is not valid in state {self.state.value}")
        self.state = nxt
        return nxt
