"""The Q&A wall on a real server: real Redis, real WebSocket clients, the SQLite index.

The "done when" path of issue 11 over the protocol: a citizen asks in Swedish,
another answers, staff give the official answer, a third citizen — on the 2D
page's path, never joining the world — finds it while typing. Then: the record
survives a restart, a stale index is rebuilt, an erasure leaves no trace of the
text in the store or the index file, the public link and the agency's exports.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx

from agents.client import AgentClient
from server.app import ServicePoint
from tests.server.harness import http_url, mint, running_server, staff_agent, ws_url

FEATURES = {"qa": {"new_topic_rate": "100/minute", "new_reply_rate": "100/minute"}}
TITLE = "Hur lång tid tar en flyttanmälan?"


def reader(sp: ServicePoint) -> AgentClient:
    """A citizen on the 2D page: hello, but never join."""
    return AgentClient(ws_url(sp), name="Reader", join=False)


async def test_ask_answer_official_then_found_while_typing(tmp_path: Path) -> None:
    async with running_server(tmp_path, features=FEATURES) as sp:
        async with (
            AgentClient(ws_url(sp), name="Ada") as ada,
            AgentClient(ws_url(sp), name="Bo") as bo,
            staff_agent(sp) as sara,
            reader(sp) as cy,
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
            await bo.send({"t": "qa_reply", "topic": topic, "body": "Oftast några dagar."})
            await bo.expect("qa_posted")
            await sara.send(
                {
                    "t": "qa_reply",
                    "topic": topic,
                    "body": "Flyttanmälan handläggs inom en vecka.",
                    "official": True,
                }
            )
            official = (await sara.expect("qa_posted"))["post"]
            assert official["official"]["staff_name"] == "Sara Lind"
            # Ada hears it live, in the world.
            notice = await ada.expect("qa_notice", kind="official")
            assert notice["topic"] == topic
            # Cy types the question letter by letter on the 2D page (no avatar).
            seen_official = False
            for n in range(3, len("Hur lång tid tar en flytt") + 1):
                await cy.send(
                    {"t": "qa_search", "q": "Hur lång tid tar en flytt"[:n], "lang": "sv", "ref": n}
                )
                got = await cy.expect("qa_results", ref=n)
                if got["hits"] and got["hits"][0]["id"] == topic:
                    assert got["hits"][0]["answer"]["official"] is True
                    seen_official = True
            assert seen_official
            # Citizens cannot forge the badge.
            await cy.send(
                {"t": "qa_reply", "topic": topic, "body": "Officiellt svar!", "official": True}
            )
            assert (await cy.expect("error"))["code"] == "not_official"

        # The public link needs no token.
        async with httpx.AsyncClient() as http:
            r = await http.get(http_url(sp, f"/api/qa/topic?id={topic}"))
            assert r.status_code == 200
            assert r.json()["replies"][0]["official"]["staff_name"] == "Sara Lind"
            r = await http.get(http_url(sp, "/api/qa/export.jsonl"))
            assert r.status_code == 401
            manager = {"Authorization": "Bearer " + mint("manager", "Mia")}
            r = await http.get(http_url(sp, "/api/qa/export.jsonl"), headers=manager)
            assert r.status_code == 200 and TITLE in r.text
            r = await http.get(http_url(sp, "/api/qa/report"), headers=manager)
            assert r.json()["services"]["registration"]["official"] == 1

    # A restart: the record is in Redis and the index file is current.
    async with running_server(tmp_path, features=FEATURES) as sp, reader(sp) as cy:
        await cy.send({"t": "qa_search", "q": "flyttanmälan", "lang": "sv"})
        hits = (await cy.expect("qa_results"))["hits"]
        assert [h["id"] for h in hits] == [topic]

    # A stale index (it applied fewer writes than the store holds) is rebuilt on start.
    index = tmp_path / "qa" / "search.sqlite"
    with sqlite3.connect(index) as db:
        tables = [r[0] for r in db.execute("select name from sqlite_master where type='table'")]
        assert tables
    async with running_server(tmp_path, features=FEATURES) as sp:
        qa = sp.feature("qa")
        qa.index.set_generation("stale")  # type: ignore[attr-defined]
    async with running_server(tmp_path, features=FEATURES) as sp, reader(sp) as cy:
        assert sp.feature("qa").index.generation != "stale"  # type: ignore[attr-defined]
        await cy.send({"t": "qa_search", "q": "flyttanmälan", "lang": "sv"})
        assert [h["id"] for h in (await cy.expect("qa_results"))["hits"]] == [topic]


async def test_erasure_leaves_no_text_in_redis_or_the_index_file(tmp_path: Path) -> None:
    word = "kvastfeningen"
    async with running_server(tmp_path, features=FEATURES) as sp:
        async with AgentClient(ws_url(sp), name="Ada") as ada, reader(sp) as bo:
            await ada.send(
                {
                    "t": "qa_post",
                    "type": "idea",
                    "title": f"Förslag om {word}",
                    "body": f"Mer {word} i hallen",
                    "lang": "sv",
                }
            )
            topic = (await ada.expect("qa_posted"))["post"]["id"]
            await ada.send({"t": "qa_edit", "post": topic, "body": f"Ännu mer {word}"})
            await ada.expect("qa_posted")
            await bo.send({"t": "qa_search", "q": word, "lang": "sv"})
            assert (await bo.expect("qa_results"))["hits"]
            await ada.send({"t": "qa_erase_me", "confirm": True})
            assert (await ada.expect("qa_erased"))["posts"] == 1
            await bo.send({"t": "qa_search", "q": word, "lang": "sv"})
            assert (await bo.expect("qa_results"))["hits"] == []
        ks = sp.store.keyspace("qa")
        dump = b"".join((await ks.hgetall("posts")).values()) + b"".join(
            (await ks.hgetall("revisions")).values()
        )
        assert word.encode() not in dump
    data = (tmp_path / "qa" / "search.sqlite").read_bytes()
    assert word.encode() not in data


async def test_bad_input_gets_codes_and_others_are_unaffected(tmp_path: Path) -> None:
    async with (
        running_server(tmp_path, features=FEATURES) as sp,
        AgentClient(ws_url(sp), name="Ada") as ada,
        AgentClient(ws_url(sp), name="Bo") as bo,
    ):
        await ada.send({"t": "qa_search", "q": "x" * 5000})
        assert (await ada.expect("error"))["code"] == "too_long"
        await ada.send({"t": "qa_search", "q": "?!.,;"})
        assert (await ada.expect("error"))["code"] == "bad_query"
        await ada.send(
            {"t": "qa_post", "type": "question", "title": "t" * 500, "body": "b", "lang": "sv"}
        )
        assert (await ada.expect("error"))["code"] == "too_long"
        await ada.send(
            {
                "t": "qa_post",
                "type": "question",
                "title": "Ring mig",
                "body": "Mitt nummer är 070-123 45 67",
                "lang": "sv",
            }
        )
        held = await ada.expect("qa_held")
        assert held["findings"][0]["kind"] == "phone"
        await ada.send({"t": "qa_moderate", "post": 1, "action": "hide", "reason": "x"})
        assert (await ada.expect("error"))["code"] == "forbidden"
        await bo.send({"t": "qa_search", "q": "", "sort": "newest"})
        assert (await bo.expect("qa_results"))["total"] == 0
        assert not [m for m in bo.messages if m["t"] == "error"]


async def test_an_official_answer_counts_in_the_scorecard(tmp_path: Path) -> None:
    async with (
        running_server(tmp_path, features=FEATURES) as sp,
        AgentClient(ws_url(sp), name="Ada") as ada,
        AgentClient(ws_url(sp), name="Bo") as bo,
        staff_agent(sp) as sara,
    ):
        await ada.send(
            {"t": "qa_post", "type": "question", "title": "Var hämtar jag mitt pass?",
             "body": "Passet är klart.", "lang": "sv"}
        )  # fmt: skip
        topic = (await ada.expect("qa_posted"))["post"]["id"]
        await sara.send(
            {"t": "qa_reply", "topic": topic, "body": "I receptionen.", "official": True}
        )
        answer = (await sara.expect("qa_posted"))["post"]["id"]
        await bo.send({"t": "qa_vote", "post": answer, "up": True})
        await bo.expect("qa_update")
        card = sp.feature("scorecard")
        await card.refreshed()  # type: ignore[attr-defined]
        await card.refreshed()  # type: ignore[attr-defined]
        await sara.send({"t": "scorecard_get"})
        await sara.sync()
        progress = [m for m in sara.messages if m["t"] == "scorecard"][-1]["progress"]
        # An official answer (4) and a helpful vote on it (1).
        assert progress["today"]["metrics"]["qa_answers"]["points"] == 5
        assert "first-official-answer" in {b["id"] for b in progress["badges"]}


async def test_overdue_questions_reach_the_insight_alerts(tmp_path: Path) -> None:
    features = {
        "qa": {**FEATURES["qa"], "answer_targets": {"general": 0.5}, "overdue_every_s": 0.1}
    }
    async with (
        running_server(tmp_path, features=features) as sp,
        AgentClient(ws_url(sp), name="Ada") as ada,
        staff_agent(sp) as sara,
    ):
        insight = sp.feature("insight")
        now = sp.clock.time
        assert insight.figures(now())["general"].qa_overdue == 0  # type: ignore[attr-defined]
        await ada.send(
            {"t": "qa_post", "type": "question", "title": "Öppettider i jul?",
             "body": "Har ni öppet?", "lang": "sv", "service": "general"}
        )  # fmt: skip
        topic = (await ada.expect("qa_posted"))["post"]["id"]

        def overdue() -> int | None:
            return insight.figures(now())["general"].qa_overdue  # type: ignore[attr-defined,no-any-return]

        await ada.wait_for(lambda: overdue() == 1, timeout=15)
        await sara.send({"t": "qa_reply", "topic": topic, "body": "Ja.", "official": True})
        await sara.expect("qa_posted")
        await ada.wait_for(lambda: overdue() == 0, timeout=15)
