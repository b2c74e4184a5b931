"""Data rights of the desks: export a citizen's and a staff member's data, then erase it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from server.features.desks.feature import Desks
from server.features.desks.settings import DeskSettings
from server.plug import Person
from server.store.memory import MemoryStore
from tests.server.features.fakes import (
    Fakes,
    FakeSender,
    ManualClock,
    citizen,
    make_fakes,
    staff,
    store_text,
)

ADA = citizen(1, "Ada Secretname", "subject-ada-123")
SARA = staff(100, "sara.lind", "Sara Lind")
NOTE = "Moved house last spring"


Send = Callable[[Person, dict[str, Any]], Awaitable[None]]


async def _served_case(
    clock: ManualClock, store: MemoryStore, *others: Person
) -> tuple[Fakes, Desks, Send]:
    """Sara on duty serves Ada's ticket A-001 and closes it with a note."""
    fakes = make_fakes("desks", DeskSettings(call_timeout_s=60.0), store=store, clock=clock)
    feature = Desks(fakes.ctx)
    await feature.start()
    for p in (ADA, SARA, *others):
        fakes.people.add(p)
        await feature.entered(p, resumed=False)
    h = feature.handlers()

    async def send(p: Person, msg: dict[str, Any]) -> None:
        await h[msg["t"]](FakeSender(p, fakes.notify), msg)

    await send(SARA, {"t": "duty", "status": "available", "desk": "desk-1"})
    await send(ADA, {"t": "take_ticket", "service": "general", "lang": "sv"})
    await send(SARA, {"t": "call_next"})
    await send(ADA, {"t": "respond"})
    await send(SARA, {"t": "close_case", "outcome": "resolved", "notes": NOTE})
    return fakes, feature, send


async def test_export_then_erase_leaves_no_trace() -> None:
    clock = ManualClock()
    store = MemoryStore(clock=clock.monotonic)
    fakes, feature, send = await _served_case(clock, store)
    await send(SARA, {"t": "duty", "status": "off"})

    exported = await feature.export_data(ADA.subject)
    assert set(exported) == {"tickets", "case_notes", "duty"}
    assert [t["ticket"] for t in exported["tickets"]] == ["A-001"]
    assert exported["case_notes"][0]["notes"][0]["text"] == NOTE
    assert SARA.subject not in repr(exported)
    staff_export = await feature.export_data(SARA.subject)
    assert staff_export["duty"] and not staff_export["tickets"]

    types_before = [f["type"] for _id, f in await fakes.ctx.store.read("queue")]
    erased = await feature.erase_data(ADA.subject)
    assert erased.removed == 1 and erased.anonymised == 1
    await feature.erase_data(SARA.subject)
    await store.compact()
    text = store_text(store)
    for secret in (ADA.subject, ADA.name, NOTE, SARA.subject, SARA.name):
        assert secret not in text, secret
    # The statistics still see the same events, in order.
    assert [f["type"] for _id, f in await fakes.ctx.store.read("queue")] == types_before
    assert len(await fakes.ctx.store.read("duty")) == 2
    memory = repr(feature.service.queue.tickets) + repr(feature.service.notes)
    memory += repr(feature.service._subjects) + repr(feature.service.on_duty)
    for secret in (ADA.subject, ADA.name, NOTE, SARA.subject):
        assert secret not in memory, secret
    after = await feature.export_data(ADA.subject)
    assert after == {"tickets": [], "case_notes": [], "duty": []}
    assert (await feature.export_data(SARA.subject))["duty"] == []
    # Replaying the rewritten log gives the same ticket.
    again = Desks(
        make_fakes("desks", DeskSettings(call_timeout_s=60.0), store=store, clock=clock).ctx
    )
    await again.start()
    assert again.service.queue.tickets["A-001"].status == "done"


async def test_retention_expires_old_cases_and_keeps_open_ones() -> None:
    """Tickets over and older than the limit lose who held them, their notes go, old duty
    entries go; a ticket still waiting, and anything newer, stays as it was."""
    clock = ManualClock()
    bo = citizen(2, "Bo Waiting", "subject-bo-456")
    fakes, feature, send = await _served_case(clock, MemoryStore(clock=clock.monotonic), bo)
    await send(bo, {"t": "take_ticket", "service": "general", "lang": "sv"})
    clock.advance(3600.0)
    cutoff = clock.time()
    await send(SARA, {"t": "duty", "status": "off"})  # after the cutoff: stays

    tickets = await feature.expire_data("tickets", cutoff)
    notes = await feature.expire_data("case_notes", cutoff)
    duty = await feature.expire_data("duty", cutoff)
    assert (tickets.anonymised, notes.removed, duty.removed) == (1, 1, 1)
    queue = [f for _id, f in await fakes.ctx.store.read("queue")]
    a1 = [f for f in queue if f["ticket"] == "A-001"]
    assert a1 and not any({"citizen", "name", "holder"} & set(f) for f in a1)
    assert any(f.get("name") == "Bo Waiting" for f in queue)  # still waiting: kept
    assert ADA.name not in repr(feature.service.queue.tickets)
    assert await feature.service.stored_notes("A-001") == []
    assert [f["type"] for _id, f in await fakes.ctx.store.read("duty")] == ["off"]
    again = await feature.expire_data("tickets", cutoff)  # idempotent
    assert again.anonymised == 0
