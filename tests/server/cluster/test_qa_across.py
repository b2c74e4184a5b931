"""The Q&A wall across processes: a question asked on one server is found on the other
(its board and search index follow the shared store), an official answer given there
reaches the asker live on the first, a vote on one counts on both, and an erasure on
one leaves none of the words on the other."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agents.client import AgentClient
from server.app import ServicePoint
from server.features.qa import feature as qa_feature
from server.features.qa.feature import QaWall
from tests.server.cluster.conftest import shared_space, until
from tests.server.harness import staff_agent, ws_url

FEATURES = {
    "qa": {"new_topic_rate": "100/minute", "new_reply_rate": "100/minute", "follow_every_s": 0.1}
}
TITLE = "Hur lång tid tar en flyttanmälan?"


async def search(client: AgentClient, q: str, ref: int) -> list[dict[str, Any]]:
    await client.send({"t": "qa_search", "q": q, "lang": "sv", "ref": ref})
    hits: list[dict[str, Any]] = (await client.expect("qa_results", ref=ref))["hits"]
    return hits


async def test_a_question_asked_on_one_process_is_answered_on_the_other(tmp_path: Path) -> None:
    async with (
        shared_space(tmp_path, features=FEATURES) as (a, b),
        AgentClient(ws_url(a), name="Ada") as ada,
        AgentClient(ws_url(b), name="Cy", join=False) as cy,
        staff_agent(b) as sara,
    ):
        await ada.send(
            {
                "t": "qa_post",
                "type": "question",
                "title": TITLE,
                "body": "Jag flyttar i mars.",
                "lang": "sv",
                "service": "registration",
            }
        )
        topic = (await ada.expect("qa_posted"))["post"]["id"]
        ada_subject = a.hub.by_avatar[ada.id].subject
        qa_b = b.feature("qa")
        assert isinstance(qa_b, QaWall)
        await until(lambda: topic in qa_b.board.posts)
        assert [h["id"] for h in await search(cy, "flyttanmälan", 1)] == [topic]
        await cy.send({"t": "qa_get", "topic": topic})
        assert (await cy.expect("qa_topic"))["topic"]["title"] == TITLE

        await sara.send(
            {
                "t": "qa_reply",
                "topic": topic,
                "body": "Flyttanmälan handläggs inom en vecka.",
                "official": True,
            }
        )
        official = (await sara.expect("qa_posted"))["post"]

        # Ada asked on a: a followed b's write and tells its author live.
        def with_answer(client: AgentClient) -> list[dict[str, Any]]:
            return [
                m
                for m in client.taken("qa_update")
                if m.get("post", {}).get("id") == official["id"]
            ]

        await ada.wait_for(lambda: bool(with_answer(ada)))
        update = with_answer(ada)[0]
        assert update["topic"]["id"] == topic
        assert update["post"]["official"]["staff_name"] == "Sara Lind"
        # Cy watches on b, where the answer was given.
        await cy.wait_for(lambda: bool(with_answer(cy)))

        # A vote on a counts on b.
        await ada.send({"t": "qa_vote", "post": official["id"], "up": True})
        await until(lambda: len(qa_b.board.posts[official["id"]].voters) == 1)

        # Both rev counters agree (one store), and b's index holds the official answer.
        qa_a = a.feature("qa")
        assert isinstance(qa_a, QaWall)
        await until(lambda: qa_a.rev == qa_b.rev)
        [hit] = await search(cy, "flyttanmälan", 2)
        assert hit["answer"]["official"] is True

        # Ada erases her data on a: b's board and index lose her words too.
        assert [h["id"] for h in await search(cy, "mars", 3)] == [topic]
        await ada.send({"t": "my_data_erase", "confirm": True})
        await ada.expect("my_data_erased")
        await until(lambda: qa_b.board.posts[topic].erased)
        assert qa_b.board.posts[topic].body == "" and not qa_b.board.authored(ada_subject)
        assert await search(cy, "mars", 4) == []


SLOW_FOLLOW = {"qa": {**FEATURES["qa"], "follow_every_s": 60}}
"""Neither process follows the other during the test: each changes a post it read
before the other's write, as two processes do when their writes cross."""


async def stored_post(sp: ServicePoint, post: int) -> dict[str, Any]:
    raw = await sp.store.keyspace("qa").hget("posts", str(post))
    assert raw is not None
    stored: dict[str, Any] = json.loads(raw)
    return stored


async def test_crossing_writes_of_one_post_on_two_processes_lose_nothing(tmp_path: Path) -> None:
    """Before, each process wrote the whole post as its board had it: a vote on b undid a
    vote cast on a a moment before, and brought back the vote of someone erased on a."""
    async with (
        shared_space(tmp_path, features=SLOW_FOLLOW) as (a, b),
        AgentClient(ws_url(a), name="Ada", join=False) as ada,
        AgentClient(ws_url(a), name="Bo", join=False) as bo,
        AgentClient(ws_url(b), name="Cy", join=False) as cy,
        AgentClient(ws_url(b), name="Dee", join=False) as dee,
    ):
        qa_a, qa_b = a.feature("qa"), b.feature("qa")
        assert isinstance(qa_a, QaWall) and isinstance(qa_b, QaWall)
        idea = {"t": "qa_post", "type": "idea", "title": "Öppna på lördagar", "lang": "sv"}
        await ada.send({**idea, "body": "Många arbetar på vardagar."})
        topic = (await ada.expect("qa_posted"))["post"]["id"]
        await qa_b.follow()
        assert topic in qa_b.board.posts

        # Bo votes on a; Cy votes on b, whose board still has the topic without Bo's vote.
        await bo.send({"t": "qa_vote", "post": topic, "up": True})
        assert (await bo.expect("qa_update"))["topic"]["votes"] == 1
        await cy.send({"t": "qa_vote", "post": topic, "up": True})
        assert (await cy.expect("qa_update"))["topic"]["votes"] == 2
        both = set((await stored_post(a, topic))["voters"])
        assert len(both) == 2
        await qa_a.follow()
        assert set(qa_a.board.posts[topic].voters) == both

        # Bo erases himself on a (his vote still counts, unlinked from him); Dee then votes
        # on b, whose board still names Bo: Dee's vote lands, and Bo's name does not come
        # back with it.
        await bo.send({"t": "qa_erase_me", "confirm": True})
        await bo.expect("qa_erased")
        [bo_subject] = both - set((await stored_post(a, topic))["voters"])
        assert bo_subject in qa_b.board.posts[topic].voters  # b has not followed
        await dee.send({"t": "qa_vote", "post": topic, "up": True})
        assert (await dee.expect("qa_update"))["topic"]["votes"] == 3
        voters = set((await stored_post(a, topic))["voters"])
        assert bo_subject not in voters and len(voters) == 3
        assert bo_subject not in qa_b.board.posts[topic].voters


ONE_REPLY = {"qa": {**SLOW_FOLLOW["qa"], "new_reply_rate": "1/minute"}}


async def test_a_change_made_anew_takes_its_quota_once(tmp_path: Path) -> None:
    """A new identity may reply once a minute. Its reply on b is written against a topic
    that a vote on a changed first, so it is made anew on the fresh topic; the second
    attempt must not take the minute's one reply again (it would refuse itself)."""
    async with (
        shared_space(tmp_path, features=ONE_REPLY) as (a, b),
        AgentClient(ws_url(a), name="Ada", join=False) as ada,
        AgentClient(ws_url(a), name="Bo", join=False) as bo,
        AgentClient(ws_url(b), name="Cy", join=False) as cy,
    ):
        qa_b = b.feature("qa")
        assert isinstance(qa_b, QaWall)
        await ada.send(
            {"t": "qa_post", "type": "question", "title": TITLE, "body": "Snart.", "lang": "sv"}
        )
        topic = (await ada.expect("qa_posted"))["post"]["id"]
        await qa_b.follow()
        await bo.send({"t": "qa_vote", "post": topic, "up": True})
        await bo.expect("qa_update")

        await cy.send({"t": "qa_reply", "topic": topic, "body": "En vecka, tror jag."})
        reply = (await cy.expect("qa_posted"))["post"]["id"]
        stored = await stored_post(a, topic)
        assert len(stored["voters"]) == 1  # Bo's vote, not undone by the reply
        assert (await stored_post(a, reply))["body"] == "En vecka, tror jag."
        # The quota still holds: the minute's one reply is spent.
        await cy.send({"t": "qa_reply", "topic": topic, "body": "Eller två."})
        error = await cy.expect("error", ref="qa_reply")
        assert error["code"] == "post_limit"


async def test_a_change_that_keeps_losing_is_refused_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With one attempt allowed, a vote on b against a topic changed on a is refused with
    changed_elsewhere; nothing of it is stored, b's board now has the topic as stored,
    and the same vote sent again lands."""
    monkeypatch.setattr(qa_feature, "STALE_RETRIES", 1)
    async with (
        shared_space(tmp_path, features=SLOW_FOLLOW) as (a, b),
        AgentClient(ws_url(a), name="Ada", join=False) as ada,
        AgentClient(ws_url(a), name="Bo", join=False) as bo,
        AgentClient(ws_url(b), name="Cy", join=False) as cy,
    ):
        qa_b = b.feature("qa")
        assert isinstance(qa_b, QaWall)
        await ada.send(
            {
                "t": "qa_post",
                "type": "idea",
                "title": "Öppna på lördagar",
                "body": "Ja.",
                "lang": "sv",
            }
        )
        topic = (await ada.expect("qa_posted"))["post"]["id"]
        await qa_b.follow()
        await bo.send({"t": "qa_vote", "post": topic, "up": True})
        await bo.expect("qa_update")

        await cy.send({"t": "qa_vote", "post": topic, "up": True})
        error = await cy.expect("error", ref="qa_vote")
        assert error["code"] == "changed_elsewhere" and error["msg"]
        assert len((await stored_post(a, topic))["voters"]) == 1
        assert len(qa_b.board.posts[topic].voters) == 1  # read again: Bo's vote, not Cy's

        await cy.send({"t": "qa_vote", "post": topic, "up": True})
        assert (await cy.expect("qa_update"))["topic"]["votes"] == 2
        assert len((await stored_post(a, topic))["voters"]) == 2


async def test_a_merge_on_one_process_moves_the_replies_on_the_other(tmp_path: Path) -> None:
    """Before, the other process added a moved reply to the topic it merged into but kept
    it in the duplicate's replies as well."""
    async with (
        shared_space(tmp_path, features=FEATURES) as (a, b),
        AgentClient(ws_url(a), name="Ada", join=False) as ada,
        AgentClient(ws_url(b), name="Cy", join=False) as cy,
        staff_agent(a) as sara,
    ):
        qa_b = b.feature("qa")
        assert isinstance(qa_b, QaWall)
        ask = {"t": "qa_post", "type": "question", "lang": "sv", "body": "Snart."}
        await ada.send({**ask, "title": TITLE})
        canonical = (await ada.expect("qa_posted"))["post"]["id"]
        await ada.send({**ask, "title": "Hur lång tid tar flyttanmälan?"})
        dup = (await ada.expect("qa_posted"))["post"]["id"]
        await until(lambda: dup in qa_b.board.posts)
        await cy.send({"t": "qa_reply", "topic": dup, "body": "En vecka."})
        reply = (await cy.expect("qa_posted"))["post"]["id"]
        await until(lambda: reply in qa_b.board.replies.get(dup, []))

        await sara.send({"t": "qa_merge", "topic": dup, "into": canonical})
        await sara.expect("qa_update")
        qa_a = a.feature("qa")
        assert isinstance(qa_a, QaWall)
        await until(
            lambda: reply in qa_a.board.posts and qa_a.board.posts[reply].topic == canonical
        )
        await until(lambda: qa_b.board.posts[reply].topic == canonical)
        assert reply not in qa_b.board.replies.get(dup, [])
        assert qa_b.board.replies[canonical] == qa_a.board.replies[canonical] == [reply]
        await cy.send({"t": "qa_get", "topic": canonical})
        shown = (await cy.expect("qa_topic"))["replies"]
        assert [r["id"] for r in shown] == [reply]
