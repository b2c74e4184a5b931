"""Chat is redacted by the personal-data detector: spaced and grouped identity numbers,
phone numbers and e-mail addresses never reach a recipient or the stored history."""

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
from tests.server.features.fakes import Fakes, FakeSender, citizen, make_fakes

ADA, BO = citizen(1, "Ada"), citizen(2, "Bo")

# (what Ada types, what everyone sees): valid numbers, in the forms the old redactor missed
LINES = [
    ("mitt pnr är 800101 1231, hjälp", "mitt pnr är [id removed], hjälp"),
    ("Steuer-ID 86 095 742 719 bitte", "Steuer-ID [id removed] bitte"),
    ("マイナンバーは１２３４ ５６７８ ９０１８です", "マイナンバーは[id removed]です"),
    ("CPR 120385 1234", "CPR [id removed]"),
    ("ring mig på 070-123 45 67 efter 17", "ring mig på [phone removed] efter 17"),
    ("call +49 30 12345678", "call [phone removed]"),
    ("tlf. 20 30 40 50", "tlf. [phone removed]"),
    ("anna.berg@exempel.se skriver jag", "[e-mail removed] skriver jag"),
    ("ticket A-042 at desk 4, 2026-12-01 10:30, fee 1 250 kr", None),  # left alone
]


class Rig:
    def __init__(self, fakes: Fakes) -> None:
        self.fakes = fakes
        self.chat = Chat(fakes.ctx)
        self.notify = fakes.notify

    async def say(self, person: Person, scope: str, text: str) -> None:
        msg = validate({"t": "chat", "scope": scope, "text": text}, CLIENT_MESSAGES)
        await self.chat.handlers()["chat"](FakeSender(person, self.notify), msg)

    async def stored(self, zone: str) -> list[dict[str, Any]]:
        raw = await self.fakes.ctx.store.slice("zone:" + zone)
        return [msgpack.unpackb(r, raw=False) for r in raw]


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    rig = Rig(make_fakes("chat", ChatSettings(radius=15.0, history=20)))
    rig.fakes.people.add(ADA, 0.0, 0.0, "hall")
    rig.fakes.people.add(BO, 5.0, 0.0, "hall")
    await rig.chat.start()
    yield rig
    await rig.chat.stop()
    await rig.fakes.tasks.close()
    assert rig.notify.invalid == []


@pytest.mark.parametrize("scope", ["zone", "near"])
async def test_chat_redacts_spaced_numbers_phones_and_emails(rig: Rig, scope: str) -> None:
    for typed, _ in LINES:
        await rig.say(ADA, scope, typed)
    seen = [m["text"] for m in rig.notify.messages(BO.id, "chat")]
    assert seen == [shown or typed for typed, shown in LINES]
    sent = repr(rig.notify.sent)
    for secret in ("800101", "1231", "742 719", "９０１８", "120385", "45 67", "12345678"):
        assert secret not in sent
    assert "40 50" not in sent and "anna.berg" not in sent
    stored = [item["text"] for item in await rig.stored("hall")]
    assert stored == (seen if scope == "zone" else [])
