"""The session table: what may be sent in which phase, and by whom."""

from __future__ import annotations

import pytest

from protocol.catalogue import CLIENT_MESSAGES
from protocol.errors import ProtocolError
from protocol.session import (
    CLIENT_TRANSITIONS,
    PHASE_OF_STATE,
    SERVER_TRANSITIONS,
    Session,
    SessionState,
)
from protocol.spec import PHASES


def in_world(role: str = "citizen") -> Session:
    s = Session()
    s.receive({"t": "hello"})
    s.receive({"t": "join"})
    s.role = role
    return s


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


@pytest.mark.parametrize("t", ["move", "chat", "join", "announce", "take_ticket", "rtc_offer"])
def test_nothing_before_hello(t: str) -> None:
    s = Session()
    with pytest.raises(ProtocolError) as err:
        s.receive({"t": t})
    assert err.value.code == "bad_state"
    assert err.value.ref == t
    assert err.value.reason == f"'{t}' is not allowed now. Send hello first."
    assert s.state is SessionState.AWAIT_HELLO


def test_world_messages_wait_for_join() -> None:
    s = Session()
    s.receive({"t": "hello"})
    with pytest.raises(ProtocolError) as err:
        s.receive({"t": "move"})
    assert err.value.reason == "'move' is not allowed now. Send join before acting in the world."
    assert s.state is SessionState.AWAIT_JOIN


@pytest.mark.parametrize("t", ["hello", "join"])
def test_hello_and_join_only_once(t: str) -> None:
    s = in_world()
    with pytest.raises(ProtocolError) as err:
        s.receive({"t": t})
    assert err.value.code == "bad_state"
    assert err.value.reason.endswith("You have already joined.")
    assert s.state is SessionState.IN_WORLD


@pytest.mark.parametrize("state", list(PHASE_OF_STATE))
@pytest.mark.parametrize("t", ["ping", "bye"])
def test_ping_and_bye_in_every_open_state(state: SessionState, t: str) -> None:
    s = Session()
    s.state = state
    expected = SessionState.CLOSED if t == "bye" else state
    assert s.receive({"t": t}) is expected


@pytest.mark.parametrize(("role", "allowed"), [("citizen", False), ("staff", True), ("host", True)])
def test_announce_needs_a_role(role: str, allowed: bool) -> None:
    s = in_world(role)
    if allowed:
        s.receive({"t": "announce"})
    else:
        with pytest.raises(ProtocolError) as err:
            s.receive({"t": "announce"})
        assert err.value.code == "forbidden"
        assert err.value.ref == "announce"


def test_phase_is_checked_before_role() -> None:
    s = Session()
    with pytest.raises(ProtocolError) as err:
        s.receive({"t": "kick"})
    assert err.value.code == "bad_state"


def test_every_message_is_allowed_exactly_in_its_phases_for_its_roles() -> None:
    for state, phase in PHASE_OF_STATE.items():
        for t, spec in CLIENT_MESSAGES.items():
            for role in ("citizen", "staff", "host", "admin"):
                s = Session()
                s.state, s.role = state, role
                if phase in spec.phases and role in spec.roles:
                    assert s.receive({"t": t}) is CLIENT_TRANSITIONS.get((state, t), state)
                else:
                    with pytest.raises(ProtocolError):
                        s.receive({"t": t})
                    assert s.state is state


def test_every_client_message_has_a_phase_it_can_be_sent_in() -> None:
    assert tuple(PHASE_OF_STATE.values()) == PHASES
    for spec in CLIENT_MESSAGES.values():
        assert spec.phases and set(spec.phases) <= set(PHASES), spec.type


def test_transitions_are_real_and_reachable() -> None:
    for (state, t), nxt in CLIENT_TRANSITIONS.items():
        assert nxt is not state, (state, t)
        assert PHASE_OF_STATE[state] in CLIENT_MESSAGES[t].phases, (state, t)
    assert {t for (_, t) in CLIENT_TRANSITIONS} == {"hello", "join", "bye"}
    assert set(SERVER_TRANSITIONS.values()) <= set(SessionState)


def test_closed_accepts_nothing() -> None:
    s = Session()
    s.receive({"t": "bye"})
    for t in CLIENT_MESSAGES:
        with pytest.raises(ProtocolError) as err:
            s.receive({"t": t})
        assert err.value.code == "bad_state"
        assert err.value.reason.endswith("The session is closed.")


def test_unknown_type_is_refused() -> None:
    with pytest.raises(ProtocolError) as err:
        Session().receive({"t": "nope"})
    assert err.value.code == "unknown_type"


def test_server_events() -> None:
    s = Session()
    with pytest.raises(ValueError):
        s.server_event("resumed")
    assert s.server_event("closed") is SessionState.CLOSED
    assert s.server_event("closed") is SessionState.CLOSED
