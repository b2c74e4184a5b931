"""Retention in `Greeter`: open conversations idle past the limit are dropped."""

from __future__ import annotations

import pytest

from tests.server.features.fakes import citizen
from tests.server.features.greeter.test_greeter import BOT, Rig

OLD = citizen(7, "Odile Vane", "subj-old-1203")
NEW = citizen(8, "Nils Fresh", "subj-new-5521")
DAY = 86_400.0


async def test_conversations_idle_before_the_limit_are_dropped_recent_ones_stay() -> None:
    rig = await Rig().start()
    await rig.join(BOT, OLD, NEW)
    old_text = "how do I apply for a quince allotment"
    old = await rig.ask(OLD, old_text)
    rig.fakes.clock.advance(2 * DAY)
    new = await rig.ask(NEW, "opening hours?")
    await rig.answer(new["conv"], "Nine to five.")
    before = rig.fakes.clock.time() - DAY

    done = await rig.greeter.expire_data("greeter_conversations", before)
    assert (done.removed, done.anonymised) == (1, 0)
    assert old["conv"] not in rig.greeter.convs and new["conv"] in rig.greeter.convs
    assert OLD.subject not in repr(vars(rig.greeter)) and old_text not in repr(vars(rig.greeter))
    # Idempotent; dropped like erasure: no outcome is written, leaving later raises nothing.
    again = await rig.greeter.expire_data("greeter_conversations", before)
    assert (again.removed, again.anonymised) == (0, 0)
    await rig.drop(OLD, for_good=True)
    assert await rig.conversations() == []

    # A reply keeps a conversation active: it goes only once its newest line is old.
    rig.fakes.clock.advance(DAY / 2)
    kept = await rig.greeter.expire_data("greeter_conversations", rig.fakes.clock.time() - DAY)
    assert kept.removed == 0
    rig.fakes.clock.advance(DAY)
    gone = await rig.greeter.expire_data("greeter_conversations", rig.fakes.clock.time() - DAY)
    assert gone.removed == 1 and rig.greeter.convs == {}

    with pytest.raises(ValueError):
        await rig.greeter.expire_data("chat_lines", before)
    await rig.greeter.stop()
    await rig.fakes.tasks.close()
    rig.check()
