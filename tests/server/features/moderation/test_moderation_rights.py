"""Data rights in `Moderation`: export and erase the reports a person filed or that name them."""

from __future__ import annotations

from server.features.moderation.feature import Moderation
from server.plug import NoSettings
from tests.server.features.fakes import FakeSender, citizen, make_fakes

ADA = citizen(1, "Adalind Zorn", "subj-ada-7731")
BO = citizen(2, "Bo Quist", "subj-bo-4410")


def _blob(store: object) -> str:
    return repr(store._data)  # type: ignore[attr-defined]


async def test_export_then_erase_leaves_no_trace_of_the_reporter() -> None:
    fakes = make_fakes("moderation", NoSettings())
    fakes.people.add(ADA, 0.0, 0.0, "hall")
    fakes.people.add(BO, 1.0, 0.0, "hall")
    mod = Moderation(fakes.ctx)
    report = mod.handlers()["report"]
    text = "glowering ferocious sentence"
    await report(
        FakeSender(ADA, fakes.notify), {"t": "report", "id": BO.id, "reason": "spam", "text": text}
    )
    exported = await mod.export_data(ADA.subject)
    [entry] = exported["moderation_reports"]
    assert entry["role"] == "actor" and entry["name"] == ADA.name and text in entry["reason"]
    assert BO.subject not in repr(exported)
    assert (await mod.export_data(BO.subject))["moderation_reports"][0]["role"] == "target"

    erased = await mod.erase_data(ADA.subject)
    assert erased.anonymised == 1
    blob = _blob(fakes.store)
    for needle in (ADA.subject, ADA.name, text):
        assert needle not in blob
    assert await mod.export_data(ADA.subject) == {"moderation_reports": []}
    [(_id, kept)] = await fakes.ctx.store.read("audit")
    assert kept["action"] == "report" and kept["ts"] and kept["target"] == BO.subject
    await fakes.tasks.close()
