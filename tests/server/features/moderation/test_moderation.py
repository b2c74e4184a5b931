"""Fast tests of `Moderation` over fake ports: announcements and removals."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from protocol.catalogue import CLIENT_MESSAGES
from protocol.codec import validate
from protocol.errors import ErrorCode, ProtocolError
from server.features.moderation.feature import Moderation
from server.plug import NoSettings, Person
from tests.server.features.fakes import Fakes, FakeSender, citizen, make_fakes, staff

HOST = staff(50, "hana.host", "Hana Host", role="host")
ADA, BO = citizen(1, "Ada"), citizen(2, "Bo")


class Rig:
    def __init__(self, fakes: Fakes) -> None:
        self.fakes = fakes
        self.feature = Moderation(fakes.ctx)
        self.people = fakes.people
        self.notify = fakes.notify

    async def send(self, person: Person, msg: dict[str, Any]) -> None:
        checked = validate(msg, CLIENT_MESSAGES)
        await self.feature.handlers()[checked["t"]](FakeSender(person, self.notify), checked)


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    rig = Rig(make_fakes("moderation", NoSettings()))
    rig.people.add(HOST, 0.0, 0.0, "hall")
    rig.people.add(ADA, 50.0, 0.0, "hall")
    rig.people.add(BO, -40.0, 0.0, "lobby")
    yield rig
    await rig.fakes.tasks.close()
    assert rig.notify.invalid == []


async def test_announce_reaches_the_senders_zone_only_redacted(rig: Rig) -> None:
    await rig.send(HOST, {"t": "announce", "text": "Desk 2 closes soon. Ref 19800101-1231"})
    assert rig.notify.recipients("announce") == {HOST.id, ADA.id}
    line = rig.notify.last(ADA.id, "announce")
    assert (line["id"], line["name"], line["role"]) == (HOST.id, "Hana Host", "host")
    assert line["text"] == "Desk 2 closes soon. Ref [id removed]"
    assert "19800101-1231" not in repr(rig.notify.sent)
    assert rig.notify.messages(BO.id) == []


@pytest.mark.parametrize("target", [999, HOST.id])
async def test_kick_of_an_unknown_or_self_id_is_refused(rig: Rig, target: int) -> None:
    with pytest.raises(ProtocolError) as caught:
        await rig.send(HOST, {"t": "kick", "id": target})
    assert caught.value.code == ErrorCode.UNKNOWN_ENTITY == "unknown_entity"
    assert caught.value.ref == "kick"
    assert rig.people.removed == []
    assert HOST.id in rig.people


async def test_kick_removes_someone_present(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="server.features"):
        await rig.send(HOST, {"t": "kick", "id": ADA.id, "reason": "spam"})
        await rig.send(HOST, {"t": "kick", "id": BO.id})
    assert rig.people.removed == [(ADA.id, "spam"), (BO.id, "removed by a moderator")]
    assert ADA.id not in rig.people and BO.id not in rig.people
    assert "avatar 1 removed by a host" in caplog.text
    assert "Ada" not in caplog.text and "spam" not in caplog.text
