"""Retention in `Moderation`: audit entries older than the limit are anonymised."""

from __future__ import annotations

import pytest

from server.features.moderation.feature import Moderation
from server.plug import NoSettings
from tests.server.features.fakes import FakeSender, citizen, make_fakes, store_text

ADA = citizen(1, "Adalind Zorn", "subj-ada-7731")
BO = citizen(2, "Bo Quist", "subj-bo-4410")
DAY = 86_400.0


async def test_reports_before_the_limit_are_anonymised_recent_ones_stay() -> None:
    fakes = make_fakes("moderation", NoSettings())
    fakes.people.add(ADA, 0.0, 0.0, "hall")
    fakes.people.add(BO, 1.0, 0.0, "hall")
    mod = Moderation(fakes.ctx)
    report = mod.handlers()["report"]
    old_text = "glowering ferocious sentence"
    await report(
        FakeSender(ADA, fakes.notify),
        {"t": "report", "id": BO.id, "reason": "spam", "text": old_text},
    )
    old_ts = fakes.clock.time()
    fakes.clock.advance(500 * DAY)
    new_text = "recent rudeness"
    await report(
        FakeSender(BO, fakes.notify),
        {"t": "report", "id": ADA.id, "reason": "abuse", "text": new_text},
    )
    before = fakes.clock.time() - 400 * DAY

    done = await mod.expire_data("moderation_reports", before)
    assert (done.removed, done.anonymised) == (0, 1)
    entries = {f["ts"]: f for _i, f in await fakes.ctx.store.read("audit")}
    assert len(entries) == 2
    old = entries[f"{old_ts:.3f}"]
    assert old["action"] == "report" and old["actor_role"] == "citizen"
    assert {old[k] for k in ("actor", "actor_name", "target", "target_name", "reason")} == {
        "erased"
    }
    blob = store_text(fakes.store)
    assert old_text not in blob and new_text in blob
    recent = entries[f"{fakes.clock.time():.3f}"]
    assert recent["actor"] == BO.subject and recent["target"] == ADA.subject

    # Already anonymised entries are not counted again; an erasure's leftover side is.
    again = await mod.expire_data("moderation_reports", before)
    assert again.anonymised == 0
    with pytest.raises(ValueError):
        await mod.expire_data("chat_lines", before)
    await fakes.tasks.close()


async def test_an_entry_half_erased_for_one_person_is_completed_by_retention() -> None:
    fakes = make_fakes("moderation", NoSettings())
    fakes.people.add(ADA, 0.0, 0.0, "hall")
    fakes.people.add(BO, 1.0, 0.0, "hall")
    mod = Moderation(fakes.ctx)
    await mod.handlers()["report"](
        FakeSender(ADA, fakes.notify), {"t": "report", "id": BO.id, "reason": "spam"}
    )
    await mod.erase_data(ADA.subject)
    fakes.clock.advance(401 * DAY)
    done = await mod.expire_data("moderation_reports", fakes.clock.time() - 400 * DAY)
    assert done.anonymised == 1
    [(_id, kept)] = await fakes.ctx.store.read("audit")
    assert kept["target"] == "erased" and kept["target_name"] == "erased" and kept["ts"]
    assert BO.subject not in store_text(fakes.store)
    await fakes.tasks.close()
