"""Retention in `Events`: every personal-data kind expires; records after the limit stay."""

from __future__ import annotations

import pytest

from server.features.events.feature import Events
from server.plug import Person
from tests.server.features.events.test_events import HOST, Rig, _rig
from tests.server.features.fakes import citizen, store_text

DAY = 86_400.0
ZED = citizen(7, "Zelphine Orr", subject="subj-zed-9051")
BO = citizen(8, "Bo Quist", subject="subj-bo-4410")
CY = citizen(9, "Cyra Lind", subject="subj-cy-2207")
NEW = citizen(10, "Nova Fresh", subject="subj-nova-3318")


async def _event_with(rig: Rig, a: Person, v: Person) -> int:
    """A live event ``a`` registered for, where ``a``'s question gets ``v``'s vote and the
    host then bans ``a``; returns its id."""
    event_id = await rig.create(capacity=5)
    await rig.send(a, {"t": "event_register", "event": event_id, "on": True})
    for person in (HOST, a, v):
        await rig.send(person, {"t": "event_join", "event": event_id})
    await rig.send(a, {"t": "event_ask", "text": f"question from {a.name}"})
    [qid] = rig.feature.questions[event_id]
    await rig.send(v, {"t": "event_vote", "question": qid, "up": True})
    await rig.send(
        HOST, {"t": "event_ban", "id": a.id, "scope": "event", "reason": f"{a.name} shouted"}
    )
    return event_id


async def test_each_kind_expires_what_is_older_than_the_limit() -> None:
    rig = await _rig()
    feature: Events = rig.feature
    for person in (HOST, ZED, BO, CY, NEW):
        rig.people.add(person, 0, 0, "lobby")
    old = await _event_with(rig, ZED, BO)
    await rig.tick(3600)  # the old event ends
    rig.clock.advance(200 * DAY)
    new = await _event_with(rig, NEW, CY)
    before = rig.clock.time() - 180 * DAY

    votes = await feature.expire_data("question_votes", before)
    assert (votes.removed, votes.anonymised) == (0, 1)
    [old_q] = feature.questions[old].values()
    [new_q] = feature.questions[new].values()
    assert len(old_q.votes) == 1 and BO.subject not in old_q.votes  # the count stays
    assert new_q.votes == [CY.subject]

    questions = await feature.expire_data("event_questions", before)
    assert (questions.removed, questions.anonymised) == (1, 0)
    assert feature.questions[old] == {} and list(feature.questions[new]) == [new_q.id]

    registrations = await feature.expire_data("registrations", before)
    assert registrations.removed == 1
    assert feature.registered[old] == set() and feature.registered[new] == {NEW.subject}

    bans = await feature.expire_data("bans", before)
    assert bans.removed == 1
    assert list(feature.bans) == [f"event:{new}:{NEW.subject}"]

    hosted = await feature.expire_data("events_hosted", before)
    assert hosted.anonymised == 1
    assert feature.events[old].creator == "erased" and feature.events[new].creator == HOST.subject

    audit = await feature.expire_data("event_audit", before)
    assert audit.anonymised == 2  # the old event's create and ban
    entries = [f for _i, f in await rig.fakes.ctx.store.read("audit")]
    old_entries = [f for f in entries if f["event"] == str(old)]
    assert sorted(f["action"] for f in old_entries) == ["ban_event", "create"]
    assert all(f["actor"] == "erased" and f["ts"] for f in old_entries)
    assert next(f for f in old_entries if f["action"] == "ban_event")["reason"] == "erased"
    kept = [f for f in entries if f["event"] == str(new)]
    assert {f["actor"] for f in kept} == {HOST.subject} and len(kept) == 2

    attendance = await feature.expire_data("attendance", before)
    assert attendance.removed == 0  # the new event's attendees are there now

    # Nothing of the old event's people is left; the new event's people still are.
    store, memory = store_text(rig.fakes.store, ":quota:"), repr(vars(feature))
    for needle in (ZED.subject, ZED.name, BO.subject, BO.name):
        assert needle not in store, needle
        assert needle not in memory, needle
    assert NEW.subject in store and CY.subject in store

    # A second run finds nothing more to do.
    for kind in Events.personal_data or ():
        again = await feature.expire_data(kind, before)
        assert (kind, again.removed, again.anonymised) == (kind, 0, 0)
    with pytest.raises(ValueError):
        await feature.expire_data("chat_lines", before)
    await feature.stop()
    await rig.fakes.tasks.close()
    assert rig.notify.invalid == []


async def test_a_live_event_loses_old_hands_and_questions_and_tells_its_attendees() -> None:
    rig = await _rig()
    feature: Events = rig.feature
    for person in (HOST, ZED, BO):
        rig.people.add(person, 0, 0, "lobby")
    event_id = await rig.create(capacity=5)
    for person in (HOST, ZED, BO):
        await rig.send(person, {"t": "event_join", "event": event_id})
    await rig.send(ZED, {"t": "event_hand", "up": True})
    await rig.send(ZED, {"t": "event_ask", "text": "early question"})
    raised = rig.clock.time()
    rig.clock.advance(600)
    await rig.send(BO, {"t": "event_hand", "up": True})
    await rig.send(BO, {"t": "event_ask", "text": "later question"})

    # Questions of a live event: the attendees see the list without the expired one.
    asked = await feature.expire_data("event_questions", raised + 300)
    assert asked.removed == 1
    for person in (HOST, ZED, BO):
        shown = rig.notify.last(person.id, "event_questions")["questions"]
        assert [q["text"] for q in shown] == ["later question"]

    done = await feature.expire_data("attendance", raised + 300)
    assert (done.removed, done.anonymised) == (1, 0)
    live = feature.live[event_id]
    assert live.attendees[ZED.id].hand is None and live.attendees[BO.id].hand is not None
    assert [p["id"] for p in rig.notify.last(HOST.id, "event_hands")["queue"]] == [BO.id]
    assert rig.notify.last(ZED.id, "event_you")["hand"] is False
    assert ZED.id in live.attendees  # still attending: only the old hand went

    # Anyone still attending an event that ended before the limit leaves it.
    gone = await feature.expire_data("attendance", live.event.ends + 1)
    assert gone.removed == 3 and live.attendees == {}
    assert rig.notify.last(ZED.id, "event_left")["code"] == "ended"
    await feature.stop()
    await rig.fakes.tasks.close()
    assert rig.notify.invalid == []
