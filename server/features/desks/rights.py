"""Data rights for the desks (``personal_data = ("tickets", "case_notes", "duty")``).

- ``tickets``: the tickets a citizen took that the desks can still tie to them (open
  tickets by their subject, or any ticket of their current avatar), with the ticket's
  event times, service, language, status and outcome;
- ``case_notes``: the staff-only notes and the greeter transcript kept with those tickets;
- ``duty``: for staff, their entries in the ``duty`` log and the cases they called.

Tickets are found by `holder_of` the citizen's subject, recorded on ``arrived`` (so a
ticket from an earlier session is found too), or by the current avatar's entity id.

Erase: an open waiting/called ticket is given up (``left``); the notes and transcript
are deleted; every event of the citizen's tickets in the ``queue`` log is rewritten
without ``citizen`` and ``name`` (the whole ticket's events are trimmed and appended
again, in order, so the desks' replay stays valid; insight skips the repeated events as
already seen, so its counts stay as they were). A staff member's subject is replaced by
a random ``erased-<hex>`` pseudonym in the ``queue`` and ``duty`` logs (consistent within
one erasure, so duty spans and per-staff counts still add up).

Retention (`expire`): tickets over and older than the limit lose ``citizen``, ``name``
and ``holder`` in the log and in memory; their notes and transcript are deleted; old
``duty`` entries are deleted.
"""

from __future__ import annotations

import secrets
from typing import Any

import msgpack

from server.features.desks.queue import ACTIVE, holder_of
from server.features.desks.service import DUTY_STREAM, STREAM, DeskService, notes_key
from server.plug import Erased
from server.store import rewrite_entries

KINDS = ("tickets", "case_notes", "duty")
CITIZEN_FIELDS = ("citizen", "name", "holder")


def _entities_of(service: DeskService, subject: str) -> set[int]:
    ids = {e for e, s in service._subjects.items() if s == subject}
    person = service.ctx.people.by_subject(subject)
    if person is not None:
        ids.add(person.id)
    return ids


def citizen_tickets(service: DeskService, subject: str) -> list[str]:
    """The citizen's tickets: by `holder_of` their subject (any session), or by the
    entity id of their current avatar (tickets logged before holders were)."""
    entities = _entities_of(service, subject)
    holder = holder_of(subject)
    return sorted(
        t.id
        for t in service.queue.tickets.values()
        if (t.holder and t.holder == holder) or (t.citizen and t.citizen in entities)
    )


def staff_tickets(service: DeskService, subject: str) -> list[str]:
    return sorted(t.id for t in service.queue.tickets.values() if t.staff == subject)


async def export(service: DeskService, subject: str) -> dict[str, Any]:
    store = service.ctx.store
    mine = set(citizen_tickets(service, subject))
    events = await store.read(STREAM)
    tickets: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    for ticket_id in sorted(mine):
        t = service.queue.tickets[ticket_id]
        tickets.append(
            {
                "ticket": t.id,
                "service": t.service,
                "lang": t.lang,
                "name": t.name,
                "status": t.status,
                "outcome": t.outcome,
                "arrived": t.arrived,
                "called_at": t.called_at,
                "started_at": t.started_at,
                "desk": t.desk,
                "events": [
                    {
                        k: v
                        for k, v in f.items()
                        if k in ("type", "ts", "service", "lang", "desk", "outcome")
                    }
                    for _id, f in events
                    if f.get("ticket") == ticket_id
                ],
            }
        )
        stored = await service.stored_notes(ticket_id)
        transcript = service.transcripts.get(ticket_id)
        if stored or transcript is not None:
            notes.append(
                {
                    "ticket": ticket_id,
                    "notes": [{"ts": n.get("ts"), "text": n.get("text", "")} for n in stored],
                    "greeter_transcript": transcript["lines"] if transcript else [],
                }
            )
    duty: list[dict[str, Any]] = [
        {k: v for k, v in f.items() if k != "staff"}
        for _id, f in await store.read(DUTY_STREAM)
        if f.get("staff") == subject
    ]
    duty += [
        {"type": "case", "ticket": t, "service": service.queue.tickets[t].service}
        for t in staff_tickets(service, subject)
    ]
    return {"tickets": tickets, "case_notes": notes, "duty": duty}


async def erase(service: DeskService, subject: str) -> Erased:
    store = service.ctx.store
    removed = anonymised = 0
    entities = _entities_of(service, subject)
    for entity in entities:
        await service.citizen_gone(entity, erasing=True)  # an open ticket is given up
    mine = set(citizen_tickets(service, subject))
    for ticket_id in mine:
        if await service.stored_notes(ticket_id) or ticket_id in service.transcripts:
            removed += 1
        await service.delete_notes(ticket_id)
        t = service.queue.tickets[ticket_id]
        t.name, t.citizen, t.holder = "", 0, ""
        service._last_sent.pop(ticket_id, None)
    for entity in entities:
        service._subjects.pop(entity, None)
        service._back(entity)

    if mine:
        await rewrite_entries(store, STREAM, lambda f: f.get("ticket", "") in mine, _strip_citizen)
        anonymised += len(mine)

    # As staff: a pseudonym in the logs and in memory.
    theirs = set(staff_tickets(service, subject))
    pseudonym = "erased-" + secrets.token_hex(6)

    def rename(fields: dict[str, str]) -> dict[str, str]:
        if fields.get("staff") == subject:
            fields["staff"] = pseudonym
        return fields

    if theirs:
        await rewrite_entries(store, STREAM, lambda f: f.get("ticket", "") in theirs, rename)
        for ticket_id in theirs:
            service.queue.tickets[ticket_id].staff = pseudonym
        anonymised += len(theirs)
    anonymised += await rewrite_entries(
        store, DUTY_STREAM, lambda f: f.get("staff") == subject, rename
    )
    state = service.on_duty.pop(subject, None)
    service._cancel_timer("duty:" + subject)
    if state is not None:
        await _scrub_notes_by(service, state.person.name)
    else:
        person = service.ctx.people.by_subject(subject)
        if person is not None:
            await _scrub_notes_by(service, person.name)
    return Erased(removed=removed, anonymised=anonymised)


def _strip_citizen(fields: dict[str, str]) -> dict[str, str]:
    """A queue event without who the citizen was (times, service and outcome stay)."""
    for key in CITIZEN_FIELDS:
        fields.pop(key, None)
    return fields


async def expire(service: DeskService, kind: str, before: float) -> Erased:
    """Retention: ``tickets`` that arrived before ``before`` and are over lose who held them
    (the queue statistics stay); their ``case_notes`` and greeter transcript are deleted;
    ``duty`` log entries older than that are deleted. Open tickets are left alone."""
    store = service.ctx.store
    old = {
        t.id
        for t in service.queue.tickets.values()
        if t.arrived < before and t.status not in ACTIVE
    }
    if kind == "tickets":
        held = {i for i in old if (t := service.queue.tickets[i]).citizen or t.name or t.holder}
        if held:
            await rewrite_entries(
                store, STREAM, lambda f: f.get("ticket", "") in held, _strip_citizen
            )
        for ticket_id in held:
            t = service.queue.tickets[ticket_id]
            t.name, t.citizen, t.holder = "", 0, ""
            service._last_sent.pop(ticket_id, None)
        return Erased(anonymised=len(held))
    if kind == "case_notes":
        removed = 0
        for ticket_id in sorted(old):
            if await service.stored_notes(ticket_id) or ticket_id in service.transcripts:
                removed += 1
                await service.delete_notes(ticket_id)
        return Erased(removed=removed)
    if kind == "duty":
        removed = await rewrite_entries(
            store, DUTY_STREAM, lambda f: float(f.get("ts", "0")) < before, lambda _f: None
        )
        return Erased(removed=removed)
    raise ValueError(f"the desks keep no {kind!r}")


async def _scrub_notes_by(service: DeskService, name: str) -> None:
    """Notes a staff member wrote keep their text (about the citizen) but not their name."""
    if not name:
        return
    store = service.ctx.store
    for ticket_id in list(service.queue.tickets):
        stored = await service.stored_notes(ticket_id)
        if not any(n.get("by") == name for n in stored):
            continue
        for n in stored:
            if n.get("by") == name:
                n["by"] = "erased"
        await store.delete(notes_key(ticket_id))
        await store.push(notes_key(ticket_id), *(msgpack.packb(n) for n in stored))
        service.notes[ticket_id] = [f"{n.get('by', '')}: {n.get('text', '')}" for n in stored]
