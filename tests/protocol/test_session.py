"""The session table: what may be sent in which state, and by whom."""

from __future__ import annotations

import pytest

from protocol.catalogue import CLIENT_MESSAGES
from protocol.errors import ProtocolError
from protocol.session import CLIENT_TRANSITIONS, Session, SessionState


def test_happy_path() -> None:
    s = Session()
    assert s.receive({"t": "hello"}) is SessionState.AWAIT_JOIN
    assert s.receive({"t": "join"}) is SessionState.IN_WORLD
    assert s.receive({"t": "move"}) is SessionState.IN_WORLD
    assert s.receive({"t": "bye"}) is SessionState.CLOSED


def test_resume_skips_join() -> None:
    s = Session()
    s.receive({"t": "hello"})
    assert s.server_event("resumed") is SessionState.IN_WORLD


@pytest.mark.parametrize("t", ["move", "chat", "join", "announce"])
def test_nothing_before_hello(t: str) -> None:
    s = Session()
    with pytest.raises(ProtocolError) as err:
        s.receive({"t": t})
    assert err.value.code == "bad_state"
    assert s.state is SessionState.AWAIT_HELLO


@pytest.mark.parametrize(("role", "allowed"), [("citizen", False), ("staff", True), ("host", True)])
def test_announce_needs_a_role(role: str, allowed: bool) -> None:
    s = Session()
    s.receive({"t": "hello"})
    s.receive({"t": "join"})
    s.role = role
    if allowed:
        s.receive({"t": "announce"})
    else:
        with pytest.raises(ProtocolError) as err:
            s.receive({"t": "announce"})
        assert err.value.code == "forbidden"


def test_every_client_message_is_reachable_and_known() -> None:
    types = {t for (_, t) in CLIENT_TRANSITIONS}
    assert types == set(CLIENT_MESSAGES)


def test_closed_accepts_nothing() -> None:
    s = Session()
    s.receive({"t": "bye"})
    for t in CLIENT_MESSAGES:
        with pytest.raises(ProtocolError):
            s.receive({"t": t})
