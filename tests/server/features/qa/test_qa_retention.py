"""Retention in `QaWall` (`expire_data`): each personal-data kind made before the limit is
deleted or unlinked from its identity; what was made after it stays."""

from __future__ import annotations

import json

import pytest

from server.features.qa.feature import IDENTITIES, NOTICES, POSTS, REVISIONS, QaWall
from tests.server.features.fakes import citizen, store_text
from tests.server.features.qa.test_qa import SARA, Wall, make_wall

DAY = 86_400.0
ZED = citizen(7, "Zelphine Orr", "subj-zed-9051")
BO = citizen(8, "Bo Quist", "subj-bo-4410")
NOVA = citizen(9, "Nova Fresh", "subj-nova-3318")


async def _hash(w: Wall, key: str) -> dict[str, bytes]:
    return await w.f.store.keyspace("qa").hgetall(key)


async def test_posts_last_active_before_the_limit_are_purged() -> None:
    w = await make_wall(new_topic_rate="100/minute", new_reply_rate="100/minute")
    qa: QaWall = w.qa
    try:
        old_text = "Marmeladtillstånd för balkongen"
        old = await w.ask(ZED, old_text)
        await w.send(ZED, {"t": "qa_edit", "post": old, "body": "Gäller det radhus också?"})
        await w.answer(SARA, old, "Ja, ansök i e-tjänsten.", official=True)  # a notice to Zed
        kept = await w.ask(BO, "Parkering vid stationen")
        w.f.clock.advance(100 * DAY)
        await w.answer(NOVA, kept, "Det finns en infartsparkering.")  # keeps Bo's topic alive
        w.f.clock.advance(100 * DAY)
        fresh = await w.ask(NOVA, "Öppettider i juli")
        before = w.f.clock.time() - 180 * DAY

        done = await qa.expire_data("qa_posts", before)
        assert (done.removed, done.anonymised) == (3, 0)  # topic, official answer, notice
        assert old not in qa.board.posts and {kept, fresh} <= set(qa.board.posts)
        assert str(old) not in await _hash(w, POSTS) and await _hash(w, REVISIONS) == {}
        assert ZED.subject not in await _hash(w, NOTICES)
        assert ZED.subject not in await _hash(w, IDENTITIES) and ZED.subject not in repr(
            vars(qa.board)
        )
        assert BO.subject in await _hash(w, IDENTITIES)
        got = await w.send(BO, {"t": "qa_search", "q": "marmeladtillstånd", "lang": "sv"})
        assert got["hits"] == []
        assert old_text not in store_text(w.f.store, ":quota:")
        [purge] = [f for _i, f in await w.f.store.keyspace("qa").read("audit") if "posts" in f]
        assert purge["action"] == "purge" and purge["by"] == "retention" and purge["posts"] == "2"

        again = await qa.expire_data("qa_posts", before)
        assert (again.removed, again.anonymised) == (0, 0)
        with pytest.raises(ValueError):
            await qa.expire_data("chat_lines", before)
    finally:
        await qa.stop()
        await w.f.tasks.close()
    assert not w.f.notify.invalid


async def test_revisions_votes_flags_and_notices_before_the_limit_expire() -> None:
    w = await make_wall(new_topic_rate="100/minute", new_reply_rate="100/minute")
    qa: QaWall = w.qa
    try:
        topic = await w.ask(ZED, "Sophämtning i kvarteret", "Första versionen")
        reply = await w.answer(BO, topic, "Svar från Bo")
        await w.send(ZED, {"t": "qa_edit", "post": topic, "body": "Andra versionen"})
        await w.send(ZED, {"t": "qa_vote", "post": reply, "up": True})
        await w.send(ZED, {"t": "qa_flag", "post": reply, "reason": "off_topic"})
        w.f.clock.advance(200 * DAY)
        await w.send(ZED, {"t": "qa_edit", "post": topic, "body": "Tredje versionen"})
        await w.send(ZED, {"t": "qa_edit", "post": topic, "body": "Fjärde versionen"})
        await w.send(NOVA, {"t": "qa_vote", "post": reply, "up": True})
        await w.send(NOVA, {"t": "qa_flag", "post": reply, "reason": "spam"})
        await w.answer(SARA, topic, "Officiellt svar", official=True)  # a fresh notice
        before = w.f.clock.time() - 180 * DAY
        notices = json.loads((await _hash(w, NOTICES))[ZED.subject])
        assert len(notices) == 2  # Bo's answer (old) and Sara's (fresh)

        # A revision is dated when its text was written: the first two are old.
        revisions = await qa.expire_data("qa_revisions", before)
        assert revisions.removed == 2
        assert [r["body"] for r in qa.revisions[topic]] == ["Tredje versionen"]
        stored = json.loads((await _hash(w, REVISIONS))[str(topic)])
        assert [r["body"] for r in stored] == ["Tredje versionen"]

        votes = await qa.expire_data("qa_votes", before)
        assert votes.anonymised == 1
        post = qa.board.posts[reply]
        assert len(post.voters) == 2 and ZED.subject not in post.voters + post.counted
        assert NOVA.subject in post.voters and set(post.voted_at) == {NOVA.subject}

        flags = await qa.expire_data("qa_flags", before)
        assert flags.anonymised == 1
        assert len(post.flags) == 2 and ZED.subject not in post.flags
        assert post.flags[NOVA.subject].startswith("spam:")
        assert sorted(v.partition(":")[0] for v in post.flags.values()) == ["off_topic", "spam"]

        gone = await qa.expire_data("qa_notices", before)
        assert gone.removed == 1
        [left] = json.loads((await _hash(w, NOTICES))[ZED.subject])
        assert left["kind"] == "official"

        record = b"".join((await _hash(w, POSTS)).values())
        assert ZED.subject.encode() in record  # Zed's own topic is recent: it stays theirs
        assert record.count(ZED.subject.encode()) == 1
        history = b"".join((await _hash(w, REVISIONS)).values()).decode()
        assert "Första" not in history and "Andra" not in history
        for kind in QaWall.personal_data or ():
            if kind != "qa_posts":
                again = await qa.expire_data(kind, before)
                assert (kind, again.removed, again.anonymised) == (kind, 0, 0)
    finally:
        await qa.stop()
        await w.f.tasks.close()
    assert not w.f.notify.invalid
