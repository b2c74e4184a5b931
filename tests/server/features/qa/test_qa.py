"""Fast tests of the Q&A wall (`QaWall`): the memory store, fake ports, the real index.

Citizens' subjects are ``citizen-<n>``; staff are verified by role (``staff``).
Every message a handler is given is validated as the edge would, and every
message it sends is checked against the catalogue (``notify.invalid``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol.catalogue import CLIENT_MESSAGES
from protocol.codec import validate
from protocol.errors import ProtocolError
from protocol.messages.qa import QaError
from server.features.qa.feature import ACTIVITY, POSTS, REVISIONS, QaWall
from server.features.qa.settings import QaSettings
from server.plug import Caller, HttpRequest, Person
from server.store.memory import MemoryStore
from tests.server.features.fakes import Fakes, FakeSender, citizen, make_fakes, staff

E = QaError
SARA = staff(100, "id:sara.lind", "Sara Lind")
ADA, BO, CY = citizen(1, "Ada"), citizen(2, "Bo"), citizen(3, "Cy")
ADMIN = staff(101, "id:admin", "Admin", role="admin")
# A valid personnummer (Luhn check digit): the detector must hold it back.
PERSONNUMMER = "811218-9876"


@dataclass
class Wall:
    f: Fakes
    qa: QaWall

    senders: dict[int, FakeSender] = field(default_factory=dict)

    def sender(self, person: Person) -> FakeSender:
        """One sender (connection) per person, kept: watchers are held weakly."""
        if person.id not in self.senders:
            self.f.people.add(person)
            self.senders[person.id] = FakeSender(person, self.f.notify)
        return self.senders[person.id]

    async def send(self, person: Person, msg: dict[str, Any]) -> dict[str, Any]:
        """Handle ``msg`` from ``person``; the first message they got back (or an error)."""
        before = len(self.f.notify.messages(person.id))
        checked = validate(msg, CLIENT_MESSAGES)
        try:
            await self.qa.handlers()[msg["t"]](self.sender(person), checked)
        except ProtocolError as exc:
            return {"t": "error", "code": exc.code, "msg": exc.reason}
        got = self.f.notify.messages(person.id)[before:]
        assert got, f"no answer to {msg['t']}"
        return got[0]

    async def ask(self, person: Person, title: str, body: str = "", **kw: Any) -> int:
        msg = {
            "t": "qa_post",
            "type": "question",
            "title": title,
            "body": body or title,
            "lang": "sv",
        }
        answer = await self.send(person, {**msg, **kw})
        assert answer["t"] == "qa_posted", answer
        return int(answer["post"]["id"])

    async def answer(self, person: Person, topic: int, body: str, **kw: Any) -> int:
        got = await self.send(person, {"t": "qa_reply", "topic": topic, "body": body, **kw})
        assert got["t"] == "qa_posted", got
        return int(got["post"]["id"])


async def make_wall(store: MemoryStore | None = None, **settings: Any) -> Wall:
    f = make_fakes("qa", QaSettings(**settings), store=store)
    qa = QaWall(f.ctx)
    await qa.start()
    return Wall(f, qa)


@pytest.fixture
async def wall() -> AsyncIterator[Wall]:
    w = await make_wall(new_topic_rate="100/minute", new_reply_rate="100/minute")
    yield w
    await w.qa.stop()
    await w.f.tasks.close()
    assert not w.f.notify.invalid


async def test_ask_answer_official_and_search(wall: Wall) -> None:
    topic = await wall.ask(ADA, "Hur anmäler jag flytt?", "Jag har flyttat till en ny adress.")
    await wall.answer(BO, topic, "Du kan anmäla flytt på Skatteverkets webbplats.")
    official = await wall.answer(SARA, topic, "Anmäl flytten senast en vecka efter.", official=True)
    got = await wall.send(CY, {"t": "qa_get", "topic": topic})
    assert got["t"] == "qa_topic" and got["topic"]["status"] == "official"
    first = got["replies"][0]
    assert first["id"] == official
    assert first["official"]["staff_name"] == "Sara Lind"
    assert first["official"]["service"] == "general"
    # Search as you type: a prefix of the title already finds it, with the official excerpt.
    hits = await wall.send(CY, {"t": "qa_search", "q": "anmäler fl", "lang": "sv"})
    assert hits["t"] == "qa_results" and hits["hits"][0]["id"] == topic
    assert hits["hits"][0]["answer"]["official"] is True
    assert hits["hits"][0]["answer"]["staff_name"] == "Sara Lind"
    # The asker heard about both answers.
    notices = [m for m in wall.f.notify.messages(ADA.id) if m["t"] == "qa_notice"]
    assert [n["kind"] for n in notices] == ["answered", "official"]


async def test_only_staff_can_give_an_official_answer(wall: Wall) -> None:
    topic = await wall.ask(ADA, "Vart skickar jag blanketten?")
    got = await wall.send(
        BO, {"t": "qa_reply", "topic": topic, "body": "Officiellt: hit", "official": True}
    )
    assert got["code"] == E.NOT_OFFICIAL
    # A host, a manager or a bot is verified too, but not staff.
    host = Person(50, "id:host", "Host", "host")
    got = await wall.send(host, {"t": "qa_reply", "topic": topic, "body": "x", "official": True})
    assert got["code"] == E.NOT_OFFICIAL
    topic_view = await wall.send(CY, {"t": "qa_get", "topic": topic})
    assert topic_view["replies"] == [] and topic_view["topic"]["status"] == "open"


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["citizen", "staff", "admin", "host", "manager", "bot"]), st.booleans()
        ),
        min_size=1,
        max_size=8,
    )
)
async def test_property_official_badges_only_from_staff(roles: list[tuple[str, bool]]) -> None:
    w = await make_wall(
        new_topic_rate="1000/minute", new_reply_rate="1000/minute", reply_rate="1000/minute"
    )
    try:
        topic = await w.ask(ADA, "En fråga om pass")
        for i, (role, official) in enumerate(roles):
            who = Person(200 + i, f"s-{i}", f"P{i}", role)
            await w.send(
                who, {"t": "qa_reply", "topic": topic, "body": f"svar {i}", "official": official}
            )
        got = await w.send(BO, {"t": "qa_get", "topic": topic})
        for reply in got["replies"]:
            if "official" in reply:
                assert reply["author_role"] in ("staff", "admin")
        expected = sum(1 for role, off in roles if off and role in ("staff", "admin"))
        assert sum(1 for r in got["replies"] if "official" in r) == expected
    finally:
        await w.qa.stop()
        await w.f.tasks.close()


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.tuples(st.integers(0, 4), st.booleans()), min_size=1, max_size=40))
async def test_property_one_vote_per_identity(votes: list[tuple[int, bool]]) -> None:
    w = await make_wall(new_topic_rate="1000/minute", vote_rate="1000/minute")
    try:
        topic = await w.ask(ADA, "En idé om öppettider", type="idea")
        state: dict[int, bool] = {}
        for who, up in votes:
            voter = citizen(10 + who)
            got = await w.send(voter, {"t": "qa_vote", "post": topic, "up": up})
            assert got["t"] == "qa_update"
            state[who] = up
            assert got["topic"]["voted"] is up
        view = (await w.send(BO, {"t": "qa_get", "topic": topic}))["topic"]
        assert view["votes"] == sum(state.values())
        assert view["votes"] <= 5
        own = await w.send(ADA, {"t": "qa_vote", "post": topic, "up": True})
        assert own["code"] == E.OWN_POST
    finally:
        await w.qa.stop()
        await w.f.tasks.close()


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.integers(0, 5), min_size=2, max_size=6, unique=True), st.data())
async def test_property_a_merged_duplicate_redirects(order: list[int], data: st.DataObject) -> None:
    w = await make_wall(new_topic_rate="1000/minute")
    try:
        ids = [await w.ask(citizen(20 + i), f"Fråga nummer {i}") for i in range(6)]
        canonical = ids[order[0]]
        for i in order[1:]:
            got = await w.send(SARA, {"t": "qa_merge", "topic": ids[i], "into": canonical})
            assert got["t"] == "qa_update" and got["topic"]["merged_into"] == canonical
        for i in order[1:]:
            got = await w.send(BO, {"t": "qa_get", "topic": ids[i]})
            assert got["topic"]["id"] == canonical and got["redirected_from"] == ids[i]
        # Merging into a merged topic, or into itself, is refused.
        dup = ids[data.draw(st.sampled_from(order[1:]))]
        other = ids[next(i for i in range(6) if i not in order)] if len(order) < 6 else None
        if other is not None:
            got = await w.send(SARA, {"t": "qa_merge", "topic": other, "into": dup})
            assert got["code"] == E.BAD_MERGE
        got = await w.send(SARA, {"t": "qa_merge", "topic": canonical, "into": canonical})
        assert got["code"] == E.BAD_MERGE
    finally:
        await w.qa.stop()
        await w.f.tasks.close()


async def test_merge_moves_the_replies(wall: Wall) -> None:
    a = await wall.ask(ADA, "Hur byter jag adress?")
    b = await wall.ask(BO, "Adressändring, hur?")
    reply = await wall.answer(CY, b, "Via e-tjänsten.")
    assert (await wall.send(SARA, {"t": "qa_merge", "topic": b, "into": a}))["t"] == "qa_update"
    got = await wall.send(CY, {"t": "qa_get", "topic": a})
    assert [r["id"] for r in got["replies"]] == [reply]
    assert (await wall.send(CY, {"t": "qa_reply", "topic": b, "body": "sent"}))[
        "code"
    ] == E.READ_ONLY
    # Bo (the duplicate's author) was told.
    assert any(
        m["t"] == "qa_notice" and m["kind"] == "merged" for m in wall.f.notify.messages(BO.id)
    )


async def test_personal_data_is_held_and_never_stored(wall: Wall) -> None:
    got = await wall.send(
        ADA,
        {
            "t": "qa_post",
            "type": "question",
            "title": "Fråga om mitt ärende",
            "body": f"Mitt personnummer är {PERSONNUMMER}, varför?",
            "lang": "sv",
            "ref": 7,
        },
    )
    assert got["t"] == "qa_held" and got["ref"] == 7
    finding = got["findings"][0]
    body = f"Mitt personnummer är {PERSONNUMMER}, varför?"
    assert finding["field"] == "body"
    assert body[finding["start"] : finding["end"]] == PERSONNUMMER
    assert finding["reason"]
    assert await wall.f.store.keyspace("qa").hgetall(POSTS) == {}
    # A ticket number, a date and an amount are not personal data.
    ok = await wall.ask(ADA, "Min kölapp A-042 den 2026-12-01, 1 250 kr")
    assert ok > 0


async def test_edit_keeps_revisions_for_moderators_only(wall: Wall) -> None:
    topic = await wall.ask(ADA, "Första versionen", "Text ett")
    got = await wall.send(ADA, {"t": "qa_edit", "post": topic, "body": "Text två"})
    assert got["t"] == "qa_posted" and got["post"]["body"] == "Text två" and got["post"]["edited"]
    assert (await wall.send(BO, {"t": "qa_edit", "post": topic, "body": "hack"}))[
        "code"
    ] == E.NOT_AUTHOR
    assert (await wall.send(BO, {"t": "qa_revisions", "post": topic}))["code"] == E.NOT_OFFICIAL
    revs = await wall.send(SARA, {"t": "qa_revisions", "post": topic})
    assert [r["body"] for r in revs["revisions"]] == ["Text ett"]
    assert (await wall.send(ADA, {"t": "qa_edit", "post": topic, "body": "Text två"}))[
        "code"
    ] == E.EMPTY_EDIT
    held = await wall.send(ADA, {"t": "qa_edit", "post": topic, "body": f"nr {PERSONNUMMER}"})
    assert held["t"] == "qa_held"
    assert [
        r["body"]
        for r in (await wall.send(SARA, {"t": "qa_revisions", "post": topic}))["revisions"]
    ] == ["Text ett"]


async def test_accept_only_by_the_asker(wall: Wall) -> None:
    topic = await wall.ask(ADA, "Vem svarar?")
    reply = await wall.answer(BO, topic, "Jag vet!")
    assert (await wall.send(BO, {"t": "qa_accept", "topic": topic, "reply": reply}))[
        "code"
    ] == E.NOT_AUTHOR
    got = await wall.send(ADA, {"t": "qa_accept", "topic": topic, "reply": reply})
    assert got["topic"]["status"] == "answered"
    hits = await wall.send(CY, {"t": "qa_search", "q": "Vem svarar", "lang": "sv"})
    assert hits["hits"][0]["answer"]["accepted"] is True


async def test_flags_weigh_by_trust_and_staff_moderate(wall: Wall) -> None:
    topic = await wall.ask(ADA, "Köp billiga klockor här")
    # Three new identities (0.5 each) do not hide it; staff's flag weight (3) does.
    for i in range(3):
        got = await wall.send(citizen(30 + i), {"t": "qa_flag", "post": topic, "reason": "spam"})
        assert got["t"] == "qa_update"
    again = await wall.send(citizen(30), {"t": "qa_flag", "post": topic, "reason": "spam"})
    assert again["code"] == E.ALREADY_FLAGGED
    assert (await wall.send(BO, {"t": "qa_get", "topic": topic}))["t"] == "qa_topic"
    await wall.send(SARA, {"t": "qa_flag", "post": topic, "reason": "spam"})
    assert (await wall.send(BO, {"t": "qa_get", "topic": topic}))["code"] == E.NO_SUCH_POST
    # The author still sees it, with the reason; and was told.
    mine = await wall.send(ADA, {"t": "qa_get", "topic": topic})
    assert mine["topic"]["hidden"]["reason"] == "flagged"
    queue = await wall.send(SARA, {"t": "qa_queue"})
    assert topic in [p["id"] for p in queue["flagged"]]
    restored = await wall.send(
        SARA, {"t": "qa_moderate", "post": topic, "action": "restore", "reason": "ok"}
    )
    assert "hidden" not in restored["post"]
    assert (await wall.send(BO, {"t": "qa_get", "topic": topic}))["t"] == "qa_topic"
    kinds = [m["kind"] for m in wall.f.notify.messages(ADA.id) if m["t"] == "qa_notice"]
    assert kinds == ["hidden", "restored"]
    audit = [f for _i, f in await wall.f.store.keyspace("qa").read("audit")]
    assert [a["action"] for a in audit] == ["hide", "restore"]
    assert audit[1]["by"] == SARA.subject


async def test_premoderated_service_waits_for_approval() -> None:
    w = await make_wall(premoderate=["benefits"])
    try:
        topic = await w.ask(ADA, "Barnbidrag fråga", service="benefits")
        assert (await w.send(BO, {"t": "qa_get", "topic": topic}))["code"] == E.NO_SUCH_POST
        assert (await w.send(ADA, {"t": "qa_get", "topic": topic}))["topic"]["pending"] is True
        hits = await w.send(BO, {"t": "qa_search", "q": "Barnbidrag", "lang": "sv"})
        assert hits["hits"] == []
        await w.send(SARA, {"t": "qa_moderate", "post": topic, "action": "approve", "reason": ""})
        hits = await w.send(BO, {"t": "qa_search", "q": "Barnbidrag", "lang": "sv"})
        assert [h["id"] for h in hits["hits"]] == [topic]
    finally:
        await w.qa.stop()
        await w.f.tasks.close()


async def test_rate_limit_for_new_identities() -> None:
    w = await make_wall()  # the default: a new identity opens one topic per 10 minutes
    try:
        await w.ask(ADA, "Första frågan")
        got = await w.send(
            ADA, {"t": "qa_post", "type": "question", "title": "Andra", "body": "b", "lang": "sv"}
        )
        assert got["code"] == E.POST_LIMIT and "10 minutes" in got["msg"]
        # Another identity is not affected, and staff are not limited.
        await w.ask(BO, "Bos fråga")
        await w.ask(SARA, "Personalens fråga 1")
        await w.ask(SARA, "Personalens fråga 2")
    finally:
        await w.qa.stop()
        await w.f.tasks.close()


async def test_vote_flood_is_limited() -> None:
    w = await make_wall(vote_rate="5/minute")
    try:
        topic = await w.ask(ADA, "Omröstning", type="idea")
        codes = []
        for i in range(8):
            got = await w.send(BO, {"t": "qa_vote", "post": topic, "up": i % 2 == 0})
            codes.append(got.get("code", "ok"))
        assert codes[:5] == ["ok"] * 5 and set(codes[5:]) == {E.VOTE_LIMIT}
    finally:
        await w.qa.stop()
        await w.f.tasks.close()


async def test_bad_input(wall: Wall) -> None:
    topic = await wall.ask(ADA, "En fråga")
    for q in ("!!!", "?? ... ;;", "   "):
        got = await wall.send(BO, {"t": "qa_search", "q": q, "lang": "sv"})
        if q.strip():
            assert got["code"] == E.BAD_QUERY
        else:
            assert got["t"] == "qa_results"  # an empty query lists
    with pytest.raises(ProtocolError) as exc:
        validate({"t": "qa_search", "q": "x" * 201}, CLIENT_MESSAGES)
    assert exc.value.code == "too_long"
    with pytest.raises(ProtocolError) as exc:
        validate(
            {"t": "qa_post", "type": "question", "title": "t" * 161, "body": "b", "lang": "sv"},
            CLIENT_MESSAGES,
        )
    assert exc.value.code == "too_long"
    with pytest.raises(ProtocolError):
        validate({"t": "qa_reply", "topic": topic, "body": "b" * 5001}, CLIENT_MESSAGES)
    got = await wall.send(
        ADA, {"t": "qa_post", "type": "announcement", "title": "Nyhet", "body": "b", "lang": "sv"}
    )
    assert got["code"] == E.STAFF_ONLY_TYPE
    got = await wall.send(
        ADA,
        {
            "t": "qa_post",
            "type": "question",
            "title": "t",
            "body": "b",
            "lang": "sv",
            "service": "nope",
        },
    )
    assert got["code"] == E.UNKNOWN_SERVICE
    assert (await wall.send(BO, {"t": "qa_get", "topic": 999}))["code"] == E.NO_SUCH_POST
    reply = await wall.answer(BO, topic, "svar")
    nested = await wall.answer(CY, topic, "tråd", parent=reply)
    got = await wall.send(ADA, {"t": "qa_reply", "topic": topic, "body": "djupt", "parent": nested})
    assert got["code"] == E.BAD_PARENT
    # Markup is stored as the text it is (clients render text, never HTML).
    script = await wall.ask(BO, "<script>alert(1)</script>")
    got = await wall.send(CY, {"t": "qa_get", "topic": script})
    assert got["topic"]["title"] == "<script>alert(1)</script>"
    assert (await wall.send(CY, {"t": "qa_erase_me", "confirm": False}))["code"] == E.NOT_ERASED


async def test_archive_is_read_only(wall: Wall) -> None:
    topic = await wall.ask(ADA, "Gammal fråga")
    got = await wall.send(SARA, {"t": "qa_set", "topic": topic, "status": "archived"})
    assert got["topic"]["status"] == "archived"
    assert (await wall.send(BO, {"t": "qa_reply", "topic": topic, "body": "x"}))[
        "code"
    ] == E.READ_ONLY
    assert (await wall.send(BO, {"t": "qa_vote", "post": topic, "up": True}))["code"] == E.READ_ONLY
    assert (await wall.send(ADA, {"t": "qa_edit", "post": topic, "body": "y"}))[
        "code"
    ] == E.READ_ONLY
    assert (await wall.send(BO, {"t": "qa_get", "topic": topic}))["topic"]["status"] == "archived"


async def test_overdue_questions_come_first_for_staff() -> None:
    w = await make_wall(
        new_topic_rate="100/minute", answer_targets={"general": 3600.0, "permits": 86400.0}
    )
    try:
        late = await w.ask(ADA, "Bygglov fråga", service="permits")
        w.f.clock.advance(1800)
        early = await w.ask(BO, "Allmän fråga", service="general")
        w.f.clock.advance(4000)  # general is due 3600 s after asking: overdue now; permits not
        queue = await w.send(SARA, {"t": "qa_queue"})
        assert [t["id"] for t in queue["waiting"]] == [early, late]
        assert queue["waiting"][0]["overdue"] is True and queue["waiting"][1]["overdue"] is False
        await w.answer(SARA, early, "Svar.", official=True)
        queue = await w.send(SARA, {"t": "qa_queue"})
        assert [t["id"] for t in queue["waiting"]] == [late]
        entries = [f for _i, f in await w.f.store.keyspace("qa").read(ACTIVITY)]
        official = next(e for e in entries if e["type"] == "official_answer")
        assert official["staff"] == SARA.subject and float(official["wait_s"]) == pytest.approx(
            4000
        )
        report = json.loads(
            (await w.qa.http_report(HttpRequest("report", {}, Caller("m", "M", "manager")))).body
        )
        assert report["services"]["general"]["official_p50_s"] == pytest.approx(4000)
        assert report["services"]["permits"]["waiting"] == 1
    finally:
        await w.qa.stop()
        await w.f.tasks.close()


async def test_erasure_removes_text_revisions_votes_and_index() -> None:
    store = MemoryStore()
    w = await make_wall(store, new_topic_rate="100/minute", new_reply_rate="100/minute")
    topic = await w.ask(ADA, "Zebrafinkar i trapphuset", "Gäller zebrafinkarna hyresrätten?")
    await w.send(
        ADA, {"t": "qa_edit", "post": topic, "body": "Gäller zebrafinkarna bostadsrätten?"}
    )
    other = await w.ask(BO, "Bos egen fråga")
    await w.send(ADA, {"t": "qa_vote", "post": other, "up": True})
    reply = await w.answer(BO, topic, "Ja, det gör det.")
    exported = json.loads((await w.send(ADA, {"t": "qa_export_mine"}))["data"])
    assert [p["id"] for p in exported["posts"]] == [topic] and exported["votes"] == [other]
    assert exported["revisions"][str(topic)][0]["body"] == "Gäller zebrafinkarna hyresrätten?"
    got = await w.send(ADA, {"t": "qa_erase_me", "confirm": True})
    assert got == {"t": "qa_erased", "posts": 1, "votes": 1}
    ks = store.keyspace("qa")
    record = b"".join((await ks.hgetall(POSTS)).values()) + b"".join(
        (await ks.hgetall(REVISIONS)).values()
    )
    assert b"zebrafink" not in record
    assert ADA.subject.encode() not in record
    assert (await w.send(CY, {"t": "qa_search", "q": "zebrafinkar", "lang": "sv"}))["hits"] == []
    # Bo's answer and the vote count stay; the vote no longer points to Ada.
    view = await w.send(CY, {"t": "qa_get", "topic": other})
    assert view["topic"]["votes"] == 1
    thread = await w.send(CY, {"t": "qa_get", "topic": topic})
    assert thread["topic"]["erased"] is True and thread["topic"]["title"] == ""
    assert [r["id"] for r in thread["replies"]] == [reply]
    assert json.loads((await w.send(ADA, {"t": "qa_export_mine"}))["data"])["posts"] == []
    await w.qa.stop()
    await w.f.tasks.close()


async def test_restart_keeps_the_record_and_rebuilds_a_stale_index(tmp_path: Any) -> None:
    store = MemoryStore()
    w = await make_wall(store, new_topic_rate="100/minute")
    topic = await w.ask(ADA, "Parkeringstillstånd för boende")
    await w.answer(SARA, topic, "Ansök via e-tjänsten.", official=True)
    await w.qa.stop()
    # A new process over the same store: the memory index is missing, so it is rebuilt.
    w2 = await make_wall(store)
    hits = await w2.send(BO, {"t": "qa_search", "q": "parkering", "lang": "sv"})
    assert [h["id"] for h in hits["hits"]] == [topic]
    assert hits["hits"][0]["answer"]["official"] is True
    await w2.qa.stop()
    await w.f.tasks.close()
    await w2.f.tasks.close()


async def test_retention_archives_expired_announcements() -> None:
    w = await make_wall(
        retention_days={"announcement": 30.0, "idea": 10.0}, retention_action="archive"
    )
    try:
        news = await w.ask(SARA, "Nya öppettider", type="announcement")
        idea = await w.ask(ADA, "Längre öppettider", type="idea")
        question = await w.ask(BO, "När öppnar ni?")
        w.f.clock.advance(11 * 86400)
        await w.qa.apply_retention()
        statuses = {
            t: (await w.send(CY, {"t": "qa_get", "topic": t}))["topic"]["status"]
            for t in (news, idea, question)
        }
        assert statuses == {news: "open", idea: "archived", question: "open"}
    finally:
        await w.qa.stop()
        await w.f.tasks.close()


async def test_retention_purge_deletes() -> None:
    w = await make_wall(retention_days={"praise": 1.0}, retention_action="purge")
    try:
        praise = await w.ask(ADA, "Tack för hjälpen", type="praise")
        await w.answer(BO, praise, "Håller med")
        w.f.clock.advance(2 * 86400)
        await w.qa.apply_retention()
        assert (await w.send(CY, {"t": "qa_get", "topic": praise}))["code"] == E.NO_SUCH_POST
        assert await w.f.store.keyspace("qa").hgetall(POSTS) == {}
    finally:
        await w.qa.stop()
        await w.f.tasks.close()


async def test_export_for_the_agency_holds_history_but_no_identities(wall: Wall) -> None:
    topic = await wall.ask(ADA, '=HYPERLINK("x") fråga', "Första")
    await wall.send(ADA, {"t": "qa_edit", "post": topic, "body": "Andra"})
    await wall.answer(SARA, topic, "Officiellt svar", official=True)
    req = HttpRequest("export.jsonl", {}, Caller("id:m", "M", "manager"))
    lines = (await wall.qa.http_export_jsonl(req)).body.decode().splitlines()
    first = json.loads(lines[0])
    assert first["topic"]["id"] == topic and first["revisions"][0]["body"] == "Första"
    assert first["replies"][0]["official"] is True
    assert ADA.subject not in "\n".join(lines)
    csv_text = (await wall.qa.http_export_csv(req)).body.decode("utf-8-sig")
    assert "'=HYPERLINK" in csv_text  # no formula injection into spreadsheets
    public = json.loads(
        (
            await wall.qa.http_topic(HttpRequest("topic", {"id": str(topic)}, Caller("", "", "")))
        ).body
    )
    assert (
        public["topic"]["id"] == topic
        and public["replies"][0]["official"]["staff_name"] == "Sara Lind"
    )


async def test_the_wall_board_and_live_updates() -> None:
    w = await make_wall(new_topic_rate="100/minute", wall_every_s=0.01)
    try:
        w.f.people.add(CY)
        await w.qa.entered(CY, resumed=False)
        assert w.f.notify.last(CY.id, "qa_wall")["newest"] == []
        topic = await w.ask(ADA, "Fråga till tavlan")
        await w.send(BO, {"t": "qa_get", "topic": topic})
        await w.answer(SARA, topic, "Svaret", official=True)
        update = w.f.notify.last(BO.id, "qa_update")
        assert update["post"]["official"]["staff_name"] == "Sara Lind"
        # The board is redrawn for everyone in the world, at most every wall_every_s.
        for _ in range(200):
            boards = w.f.notify.messages(CY.id, "qa_wall")
            if len(boards) > 1:
                break
            await asyncio.sleep(0.01)
        assert [t["id"] for t in boards[-1]["newest"]] == [topic]
        assert boards[-1]["newest"][0]["status"] == "official"
    finally:
        await w.qa.stop()
        await w.f.tasks.close()


async def test_a_large_export_comes_in_parts(wall: Wall, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("protocol.messages.qa.EXPORT_PART", 200)
    for i in range(5):
        await wall.ask(ADA, f"Fråga nummer {i} om parkering", "En lång text " * 10)
    before = len(wall.f.notify.messages(ADA.id))
    await wall.qa.handlers()["qa_export_mine"](wall.sender(ADA), {"t": "qa_export_mine"})
    parts = [m for m in wall.f.notify.messages(ADA.id)[before:] if m["t"] == "qa_export"]
    assert len(parts) > 1 and [p["part"] for p in parts] == list(range(1, len(parts) + 1))
    assert {p["parts"] for p in parts} == {len(parts)}
    data = json.loads("".join(p["data"] for p in parts))
    assert len(data["posts"]) == 5
