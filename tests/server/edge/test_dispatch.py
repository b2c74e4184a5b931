"""The handler table: every client message has exactly one handler, checked at start-up."""

from __future__ import annotations

import pytest

from protocol.catalogue import CLIENT_MESSAGES
from server.edge.connection import CORE_MESSAGES
from server.edge.dispatch import DispatchError, check_handlers
from server.features import FEATURES


def feature_tables() -> list[tuple[str, set[str]]]:
    return [(cls.name, {s.type for s in cls.protocol.client}) for cls in FEATURES]


def test_the_real_table_covers_the_catalogue_once() -> None:
    owner = check_handlers(CORE_MESSAGES, feature_tables())
    assert set(owner) == set(CLIENT_MESSAGES)
    assert owner["hello"] == "edge" and owner["chat"] == "chat"
    assert owner["kick"] == "moderation" and owner["call_next"] == "desks"
    assert owner["rtc_offer"] == "voice"


def test_a_message_without_a_handler_stops_the_start() -> None:
    tables = [(n, t - {"call_next"}) for n, t in feature_tables()]
    with pytest.raises(DispatchError, match="call_next"):
        check_handlers(CORE_MESSAGES, tables)


def test_two_handlers_for_one_message_stop_the_start() -> None:
    tables = [*feature_tables(), ("echo", {"chat"})]
    with pytest.raises(DispatchError, match="'chat' is handled by both chat and echo"):
        check_handlers(CORE_MESSAGES, tables)


def test_a_handler_for_an_unknown_message_stops_the_start() -> None:
    tables = [*feature_tables(), ("ghost", {"haunt"})]
    with pytest.raises(DispatchError, match="haunt"):
        check_handlers(CORE_MESSAGES, tables)


async def test_every_feature_handles_exactly_its_declared_messages(tmp_path: object) -> None:
    from server.store import MemoryStore
    from tests.server.features.fakes import make_context

    for cls in FEATURES:
        feature = cls(make_context(cls.name, cls.Settings(), store=MemoryStore()))
        assert set(feature.handlers()) == {s.type for s in cls.protocol.client}, cls.name
