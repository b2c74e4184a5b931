"""Data rights in `Greeter`: export and erase a citizen's open conversation."""

from __future__ import annotations

from tests.server.features.fakes import citizen
from tests.server.features.greeter.test_greeter import BOT, Rig

ZED = citizen(7, "Zelphine Orr", "subj-zed-9051")


async def test_export_then_erase_leaves_no_trace_of_the_citizen() -> None:
    rig = await Rig().start()
    await rig.join(BOT, ZED)
    text = "where do I renew my marmalade permit"
    asked = await rig.ask(ZED, text)
    await rig.answer(asked["conv"], "At desk two.")
    await rig.send(ZED, {"t": "greeter_rate", "conv": asked["conv"], "helpful": True})

    exported = await rig.greeter.export_data(ZED.subject)
    [conv] = exported["greeter_conversations"]
    assert conv["conv"] == asked["conv"] and conv["transcript"][0]["text"] == text
    assert conv["ratings"] == {"1": True}
    assert ZED.subject not in repr(exported)

    erased = await rig.greeter.erase_data(ZED.subject)
    assert erased.removed == 1
    assert await rig.greeter.export_data(ZED.subject) == {"greeter_conversations": []}
    memory = repr(vars(rig.greeter))
    store = repr(rig.store._data)
    for needle in (ZED.subject, ZED.name, text):
        assert needle not in memory and needle not in store
    # Nothing dangles: leaving afterwards writes no outcome and raises nothing.
    await rig.drop(ZED, for_good=True)
    assert await rig.conversations() == []
    await rig.greeter.stop()
    await rig.fakes.tasks.close()
    rig.check()
