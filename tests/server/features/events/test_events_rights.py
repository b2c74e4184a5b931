"""Data rights in `Events`: export and erase questions, votes, registrations, hands, bans."""

from __future__ import annotations

from server.features.events.feature import Events
from tests.server.features.events.test_events import HOST, _rig
from tests.server.features.fakes import citizen


async def test_export_then_erase_leaves_no_trace_of_the_attendee() -> None:
    rig = await _rig()
    rig.people.add(HOST, 0, 0, "lobby")
    zed = rig.people.add(citizen(7, "Zelphine Orr", subject="subj-zed-9051"), 0, 0, "lobby")
    bo = rig.people.add(citizen(8, "Bo Quist", subject="subj-bo-4410"), 0, 0, "lobby")
    event_id = await rig.create(capacity=5, starts_in=120)
    await rig.send(zed, {"t": "event_register", "event": event_id, "on": True})
    await rig.tick(120)
    for person in (HOST, zed, bo):
        await rig.send(person, {"t": "event_join", "event": event_id})
    text = "why do marmalade permits cost so much"
    await rig.send(zed, {"t": "event_ask", "text": text})
    await rig.send(bo, {"t": "event_ask", "text": "and parking?"})
    feature: Events = rig.feature
    qs = feature.questions[event_id]
    mine = next(q.id for q in qs.values() if q.author == zed.subject)
    theirs = next(q.id for q in qs.values() if q.author == bo.subject)
    await rig.send(zed, {"t": "event_vote", "question": theirs, "up": True})
    await rig.send(bo, {"t": "event_vote", "question": mine, "up": True})
    await rig.send(zed, {"t": "event_hand", "up": True})

    exported = await feature.export_data(zed.subject)
    assert set(exported) == set(Events.personal_data or ())
    [asked] = exported["event_questions"]
    assert asked["text"] == text and asked["votes"] == 1
    assert exported["question_votes"] == [{"question": theirs, "event": event_id}]
    assert exported["registrations"] == [event_id]
    [seat] = exported["attendance"]
    assert seat["event"] == event_id and seat["hand_since"] is not None
    assert bo.subject not in repr(exported) and HOST.subject not in repr(exported)

    reason = "kept shouting about jam"
    await rig.send(HOST, {"t": "event_ban", "id": zed.id, "scope": "event", "reason": reason})
    exported = await feature.export_data(zed.subject)
    assert [b["role"] for b in exported["bans"]] == ["banned"]
    assert [a["action"] for a in exported["event_audit"]] == ["ban_event"]

    erased = await feature.erase_data(zed.subject)
    assert erased.removed >= 3 and erased.anonymised >= 2
    assert await feature.export_data(zed.subject) == {k: [] for k in Events.personal_data or ()}
    assert len(qs[theirs].votes) == 1 and mine not in qs  # the count stays, the vote is nobody's
    store = repr(rig.fakes.store._data)
    memory = repr(vars(feature))
    for needle in (zed.subject, zed.name, text, reason):
        assert needle not in store, needle
        assert needle not in memory, needle
    audit = await rig.fakes.ctx.store.read("audit")
    entry = next(f for _i, f in audit if f["action"] == "ban_event")
    assert entry["action"] == "ban_event" and entry["target"] == "erased" and entry["ts"]
    await feature.stop()
    await rig.fakes.tasks.close()
    assert rig.notify.invalid == []
