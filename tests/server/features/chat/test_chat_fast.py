"""Fast tests of `Chat` over the memory store and fake ports: storage, redaction, reach."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import msgpack
import pytest

from protocol.catalogue import CLIENT_MESSAGES
from protocol.codec import validate
from server.features.chat.feature import Chat
from server.features.chat.settings import ChatSettings
from server.plug import Person
from tests.server.features.fakes import Fakes, FakeSender, citizen, make_fakes, settle

ADA, BO, CY, DI = citizen(1, "Ada"), citizen(2, "Bo"), citizen(3, "Cy"), citizen(4, "Di")
PNR = "19800101-1231"


class Rig:
    def __init__(self, fakes: Fakes) -> None:
        self.fakes = fakes
        self.chat = Chat(fakes.ctx)
        self.people = fakes.people
        self.notify = fakes.notify

    async def say(self, person: Person, scope: str, text: str) -> None:
        msg = validate({"t": "chat", "scope": scope, "text": text}, CLIENT_MESSAGES)
        await self.chat.handlers()["chat"](FakeSender(person, self.notify), msg)

    async def stored(self, zone: str) -> list[dict[str, Any]]:
        raw = await self.fakes.ctx.store.slice("zone:" + zone)
        return [msgpack.unpackb(r, raw=False) for r in raw]


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    rig = Rig(make_fakes("chat", ChatSettings(radius=15.0, history=3)))
    rig.people.add(ADA, 0.0, 0.0, "hall")
    rig.people.add(BO, 5.0, 0.0, "hall")
    rig.people.add(CY, 30.0, 0.0, "hall")  # same zone, far away
    rig.people.add(DI, -40.0, 0.0, "lobby")
    await rig.chat.start()
    yield rig
    await rig.chat.stop()
    await rig.fakes.tasks.close()
    assert rig.notify.invalid == []


async def test_zone_chat_reaches_the_zone_and_is_stored_capped(rig: Rig) -> None:
    for n in range(5):
        await rig.say(ADA, "zone", f"line {n}")
    assert rig.notify.recipients("chat") == {ADA.id, BO.id, CY.id}  # not Di, in the lobby
    line = rig.notify.last(CY.id, "chat")
    assert {k: line[k] for k in ("id", "name", "role", "scope", "zone", "text")} == {
        "id": ADA.id,
        "name": "Ada",
        "role": "citizen",
        "scope": "zone",
        "zone": "hall",
        "text": "line 4",
    }
    stored = await rig.stored("hall")
    assert [item["text"] for item in stored] == ["line 2", "line 3", "line 4"]
    assert all(item["id"] == ADA.id and item["zone"] == "hall" for item in stored)
    assert await rig.stored("lobby") == []


async def test_identity_numbers_are_never_stored_or_sent(rig: Rig) -> None:
    await rig.say(ADA, "zone", f"my number is {PNR}, help")
    await rig.say(ADA, "near", f"psst {PNR}")
    assert rig.notify.last(BO.id, "chat")["text"] == "psst [id removed]"
    assert PNR not in repr(rig.notify.sent)
    stored = await rig.stored("hall")
    assert [item["text"] for item in stored] == ["my number is [id removed], help"]


async def test_near_chat_reaches_only_those_within_the_radius_and_is_not_stored(
    rig: Rig,
) -> None:
    reached = await rig.chat.say(ADA, "near", "is this the queue?")
    assert reached == 2
    assert rig.notify.recipients("chat") == {ADA.id, BO.id}
    assert rig.notify.last(BO.id, "chat")["scope"] == "near"
    assert await rig.fakes.ctx.store.scan("*") == []
    rig.people.discard(ADA.id)
    assert await rig.chat.say(ADA, "near", "gone") == 0


async def test_entering_sends_the_zone_history(rig: Rig) -> None:
    await rig.say(ADA, "zone", "first")
    await rig.say(BO, "zone", "second")
    newcomer = citizen(5, "Fi")
    rig.people.add(newcomer, 1.0, 1.0, "hall")
    await rig.chat.entered(newcomer, resumed=False)
    history = rig.notify.last(newcomer.id, "history")
    assert history["zone"] == "hall"
    assert [(i["id"], i["text"]) for i in history["items"]] == [
        (ADA.id, "first"),
        (BO.id, "second"),
    ]
    await rig.chat.entered(DI, resumed=True)
    assert rig.notify.last(DI.id, "history") == {"t": "history", "zone": "lobby", "items": []}


async def test_changing_zone_sends_the_new_zones_history(rig: Rig) -> None:
    await rig.say(DI, "zone", "lobby talk")
    await rig.say(ADA, "zone", "hall talk")
    rig.people.move(BO.id, -30.0, 0.0, zone="lobby")
    rig.chat.zone_changed(BO, "lobby")  # sent from a task
    await settle()
    history = rig.notify.last(BO.id, "history")
    assert history["zone"] == "lobby"
    assert [i["text"] for i in history["items"]] == ["lobby talk"]


async def test_no_history_kept_when_history_is_zero() -> None:
    fakes = make_fakes("chat", ChatSettings(radius=15.0, history=0))
    chat = Chat(fakes.ctx)
    fakes.people.add(ADA)
    assert await chat.say(ADA, "zone", "hello") == 1
    assert await fakes.ctx.store.scan("*") == []
    assert (await chat.history("hall"))["items"] == []
    assert chat.limits() == {"chat_radius": 15.0}
    await fakes.tasks.close()
