"""The session state machine: everything that affects a session's state lives here.

As in h11's ``_state.py``, transitions are data in one table. The server
feeds every validated client message through `Session.receive`; a message
that is not allowed in the current state raises `ProtocolError(bad_state)`,
and a message whose spec is limited to some roles raises
`ProtocolError(forbidden)` unless the session holds one of them.

States::

    AWAIT_HELLO --hello--> AWAIT_JOIN --join--> IN_WORLD
                           AWAIT_JOIN --(server: resumed)--> IN_WORLD
    any --bye--> CLOSED          (server: closed) --> CLOSED
"""

from __future__ import annotations

from enum import Enum

from protocol.catalogue import CLIENT_MESSAGES
from protocol.codec import Message
from protocol.errors import ErrorCode, ProtocolError


class SessionState(Enum):
    AWAIT_HELLO = "await_hello"
    AWAIT_JOIN = "await_join"
    IN_WORLD = "in_world"
    CLOSED = "closed"


S = SessionState

# (state, client message type) -> next state. Absent pairs are refused.
CLIENT_TRANSITIONS: dict[tuple[SessionState, str], SessionState] = {
    (S.AWAIT_HELLO, "hello"): S.AWAIT_JOIN,
    (S.AWAIT_HELLO, "ping"): S.AWAIT_HELLO,
    (S.AWAIT_HELLO, "bye"): S.CLOSED,
    (S.AWAIT_JOIN, "join"): S.IN_WORLD,
    (S.AWAIT_JOIN, "ping"): S.AWAIT_JOIN,
    (S.AWAIT_JOIN, "bye"): S.CLOSED,
    (S.IN_WORLD, "move"): S.IN_WORLD,
    (S.IN_WORLD, "chat"): S.IN_WORLD,
    (S.IN_WORLD, "announce"): S.IN_WORLD,
    (S.IN_WORLD, "kick"): S.IN_WORLD,
    (S.IN_WORLD, "ping"): S.IN_WORLD,
    (S.IN_WORLD, "duty"): S.IN_WORLD,
    (S.IN_WORLD, "take_ticket"): S.IN_WORLD,
    (S.IN_WORLD, "leave_queue"): S.IN_WORLD,
    (S.IN_WORLD, "respond"): S.IN_WORLD,
    (S.IN_WORLD, "call_next"): S.IN_WORLD,
    (S.IN_WORLD, "auto_call"): S.IN_WORLD,
    (S.IN_WORLD, "transfer"): S.IN_WORLD,
    (S.IN_WORLD, "close_case"): S.IN_WORLD,
    (S.IN_WORLD, "invite"): S.IN_WORLD,
    (S.IN_WORLD, "desk_say"): S.IN_WORLD,
    (S.IN_WORLD, "rtc_offer"): S.IN_WORLD,
    (S.IN_WORLD, "rtc_ice"): S.IN_WORLD,
    (S.IN_WORLD, "mute"): S.IN_WORLD,
    (S.IN_WORLD, "hangup"): S.IN_WORLD,
    (S.IN_WORLD, "bye"): S.CLOSED,
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
    """One client's protocol state and role. Pure: no I/O, no clock."""

    def __init__(self) -> None:
        self.state = SessionState.AWAIT_HELLO
        self.role = "citizen"

    def receive(self, msg: Message) -> SessionState:
        """Advance on a validated client message; return the new state.

        Raises `ProtocolError` (``bad_state`` or ``forbidden``) and leaves the
        state unchanged when the message is not allowed now or for this role.
        """
        t: str = msg["t"]
        nxt = CLIENT_TRANSITIONS.get((self.state, t))
        if nxt is None:
            raise ProtocolError(
                ErrorCode.BAD_STATE, f"'{t}' is not allowed now. {_HINTS[self.state]}", t
            )
        if self.role not in CLIENT_MESSAGES[t].roles:
            raise ProtocolError(ErrorCode.FORBIDDEN, f"Your role may not send '{t}'.", t)
        self.state = nxt
        return nxt

    def server_event(self, event: str) -> SessionState:
        """Advance on a server-side event (``resumed``, ``closed``)."""
        nxt = SERVER_TRANSITIONS.get((self.state, event))
        if nxt is None:
            raise ValueError(f"event {event!r} is not valid in state {self.state.value}")
        self.state = nxt
        return nxt
