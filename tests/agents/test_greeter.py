"""The greeter end to end: a real server, the greeter agent, citizens and staff as agents.

The greeter runs as a task (`GreeterBot`) in most tests, and as the real
process the server starts (``servicepoint run --greeter``) in one.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from agents.client import AgentClient
from agents.greeter import EXIT_REPLACED, GreeterBot, is_greeting, relevant, wants_person
from server.app import ServicePoint
from server.cli import with_greeter
from server.config import Config
from server.privacy import redact
from tests.server.harness import SECRET, desk_events, mint, running_server, staff_agent, ws_url

PNR = "811218-9876"
"""A Swedish personnummer with a valid check digit: it must reach staff redacted."""
AUTOMATED = {
    "sv": "automatisk assistent",
    "da": "automatisk assistent",
    "de": "automatischer Assistent",
    "ja": "自動アシスタント",
    "en": "automated assistant",
}
HELLO = {"sv": "Hej!", "da": "Goddag", "de": "Guten Tag", "ja": "こんにちは", "en": "Hello"}
ASK_FOR_PERSON = {
    "sv": "Jag vill prata med en människa, mitt personnummer är " + PNR,
    "da": "Jeg vil gerne tale med et menneske, mit nummer er " + PNR,
    "de": "Ich möchte mit einem Mitarbeiter sprechen, meine Nummer ist " + PNR,
    "ja": "担当者と話したいです。番号は" + PNR + "です",
    "en": "Can I talk to a human, please? My number is " + PNR,
}
WALL = {  # lang: (title, body, official answer, what a citizen asks the greeter)
    "sv": (
        "Hur förnyar jag mitt pass?",
        "Mitt pass går ut nästa månad. Hur förnyar jag det?",
        "Boka en tid hos passexpeditionen och ta med ditt gamla pass.",
        "Hur förnyar man ett pass som går ut?",
    ),
    "da": (
        "Hvordan får jeg et nyt sundhedskort?",
        "Jeg har mistet mit sundhedskort. Hvordan bestiller jeg et nyt?",
        "Bestil et nyt sundhedskort på borger.dk; det koster 180 kr.",
        "Jeg har mistet mit sundhedskort, hvad gør jeg?",
    ),
    "de": (
        "Wie melde ich meinen Wohnsitz an?",
        "Ich bin umgezogen. Wie melde ich meinen neuen Wohnsitz an?",
        "Melden Sie Ihren Wohnsitz innerhalb von zwei Wochen beim Bürgeramt an.",
        "Wie melde ich meinen Wohnsitz nach dem Umzug an?",
    ),
    "ja": (
        "住所変更の手続きを教えてください",
        "引っ越しました。住所変更はどうすればいいですか。",
        "転入届を14日以内に窓口で提出してください。",
        "住所変更の手続きはどうすればいいですか",
    ),
    "en": (
        "How do I apply for housing benefit?",
        "I rent a flat and my income is low. How do I apply for housing benefit?",
        "Apply for housing benefit online; you need your rental contract.",
        "How can I apply for housing benefit?",
    ),
}
STAFF_FOR = {  # who serves "general" in that language (server/data/world.toml)
    "sv": "Sara Lind",
    "da": "Sara Lind",
    "de": "Jonas Weber",
    "ja": "Yuki Tanaka",
    "en": "Sara Lind",
}


@contextlib.asynccontextmanager
async def greeter_bot(
    sp: ServicePoint, subject: str = "greeter", home: ServicePoint | None = None
) -> AsyncIterator[GreeterBot]:
    """The greeter agent as a task, connected to ``sp`` and serving (in a cluster: the
    greeter feature of ``home``, the feature home)."""
    client = AgentClient(ws_url(sp), name="Greeter", token=mint("bot", "Greeter", subject))
    await client.connect()
    bot = GreeterBot(client)
    task = asyncio.create_task(bot.run())
    feature: Any = (home or sp).feature("greeter")
    async with asyncio.timeout(15):
        while feature.bot is None or feature.bot.id != client.id:
            await asyncio.sleep(0.01)
    try:
        yield bot
    finally:
        bot.stopping.set()
        assert await task == 0
        await client.close()


async def ask(citizen: AgentClient, text: str, lang: str) -> None:
    await citizen.send({"t": "greeter_ask", "text": text, "lang": lang})


async def post_with_official_answer(
    sp: ServicePoint,
    title: str,
    body: str,
    answer: str,
    lang: str = "sv",
    service: str | None = None,
) -> int:
    """A citizen asks on the Q&A wall and staff give the official answer; the topic id."""
    async with (
        AgentClient(ws_url(sp), name="Asker") as asker,
        staff_agent(sp, "Sara Lind") as sara,
    ):
        post: dict[str, Any] = {
            "t": "qa_post",
            "type": "question",
            "title": title,
            "body": body,
            "lang": lang,
        }
        if service:
            post["service"] = service
        await asker.send(post)
        topic = int((await asker.expect("qa_posted"))["post"]["id"])
        await sara.send({"t": "qa_reply", "topic": topic, "body": answer, "official": True})
        await sara.expect("qa_posted")
        return topic


# -- the detector (no server) --------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        *ASK_FOR_PERSON.values(),
        "human",
        "Agent please",
        "I want a real person",
        "Kan jag få prata med en handläggare?",
        "Finns det någon människa här?",
        "Jeg vil tale med en medarbejder",
        "Kann ich bitte einen Menschen sprechen?",
        "MENSCH!",
        "人間と話したい",
        "人と話したい",
        "オペレーターをお願いします",
        "ｽﾀｯﾌと話したい",  # half-width katakana (NFKC)
    ],
)
def test_asking_for_a_person_is_recognised(text: str) -> None:
    assert wants_person(text)


@pytest.mark.parametrize(
    "text",
    [
        "How do I register a person who moved in with me?",
        "Can another person collect my passport?",
        "Welche Leistungen gibt es für Menschen mit Behinderung?",
        "Vad är ett personnummer?",
        "I want to update my personal details",
        "Hvordan får jeg et nyt sundhedskort?",
        "人間ドックの予約はどこですか",
        "住所変更の手続きを教えてください",
    ],
)
def test_questions_about_people_are_not_requests_for_one(text: str) -> None:
    assert not wants_person(text)


def test_only_a_topic_about_the_question_is_answered_from() -> None:
    hit = {
        "title": "Hur byter jag adress?",
        "body": "Jag har flyttat och undrar hur jag anmäler min nya adress.",
        "answer": {"body": "Anmäl flytten på webben.", "official": True},
    }
    assert relevant("Hur byter jag adress när jag flyttar?", hit)
    assert not relevant("Hur byter jag körkort?", hit)  # one word in common is not enough
    assert not relevant("Hur?", hit)
    for title, body, answer, question in WALL.values():
        assert relevant(question, {"title": title, "body": body, "answer": {"body": answer}})


def test_a_greeting_alone_is_recognised() -> None:
    assert all(is_greeting(t) for t in HELLO.values())
    assert not is_greeting("Hej, hur byter jag adress?")


# -- live ------------------------------------------------------------------------------------


async def test_the_greeter_says_it_is_automated_in_each_language(tmp_path: Path) -> None:
    async with running_server(tmp_path) as sp, greeter_bot(sp):
        for lang, hello in HELLO.items():
            async with AgentClient(ws_url(sp), name="Visitor") as visitor:
                await ask(visitor, hello, lang)
                said = await visitor.expect("greeter_said")
                assert said["kind"] == "greeting" and said["automated"] is True
                assert AUTOMATED[lang] in said["text"], (lang, said["text"])
        async with AgentClient(ws_url(sp), name="Visitor") as visitor:
            await ask(visitor, "Hei", "fi")  # not one of the five: English
            assert AUTOMATED["en"] in (await visitor.expect("greeter_said"))["text"]


async def test_without_the_greeter_a_citizen_is_told_so(tmp_path: Path) -> None:
    async with running_server(tmp_path) as sp, AgentClient(ws_url(sp), name="Ada") as ada:
        await ask(ada, "Hej", "sv")
        assert (await ada.expect("error"))["code"] == "no_greeter"


async def test_the_greeter_answers_from_the_wall_with_the_source_topic(tmp_path: Path) -> None:
    async with running_server(tmp_path) as sp:
        topic = await post_with_official_answer(
            sp,
            "Hur byter jag adress?",
            "Jag har flyttat och undrar hur jag anmäler min nya adress.",
            "Anmäl flytten på webben senast en vecka efter flytten.",
        )
        async with greeter_bot(sp), AgentClient(ws_url(sp), name="Bo") as bo:
            await ask(bo, "Hur byter jag adress när jag flyttar?", "sv")
            assert (await bo.expect("greeter_said"))["kind"] == "greeting"
            said = await bo.expect("greeter_said")
            assert said["kind"] == "answer" and said["automated"] is True
            assert said["topic"] == topic and said["official"] is True
            assert "Anmäl flytten på webben" in said["text"] and "officiella" in said["text"]
            await bo.send({"t": "greeter_rate", "conv": said["conv"], "helpful": True})
            await bo.expect("greeter_said", kind="greeting")  # glad it helped

            # Nothing on the wall about it: it says so and offers a person, no ticket yet.
            await ask(bo, "Hur byter jag körkort?", "sv")
            assert (await bo.expect("greeter_said"))["kind"] == "no_answer"
            offer = await bo.expect("greeter_offer")
            assert offer["reason"] == "no_answer" and offer["service"] == "general"
            assert not await desk_events(sp)
            await bo.send({"t": "bye"})
            await bo.wait_closed()
        feature: Any = sp.feature("greeter")
        while feature.convs:
            await asyncio.sleep(0.01)
        records = [f for _id, f in await sp.store.keyspace("greeter").read("conversations")]
        assert [(r["outcome"], r["helpful"]) for r in records] == [("resolved", "1")]


@pytest.mark.parametrize("lang", list(WALL))
async def test_the_greeter_answers_in_each_language(tmp_path: Path, lang: str) -> None:
    title, body, answer, question = WALL[lang]
    async with running_server(tmp_path) as sp:
        topic = await post_with_official_answer(sp, title, body, answer, lang=lang)
        async with greeter_bot(sp), AgentClient(ws_url(sp), name="Bo") as bo:
            await ask(bo, question, lang)
            said = await bo.expect("greeter_said", kind="answer")
            assert said["topic"] == topic and said["official"] is True
            assert answer in said["text"] and said["automated"] is True


@pytest.mark.parametrize("lang", list(ASK_FOR_PERSON))
async def test_the_greeter_hands_over_on_request(tmp_path: Path, lang: str) -> None:
    async with (
        running_server(tmp_path) as sp,
        greeter_bot(sp),
        AgentClient(ws_url(sp), name="Ada") as ada,
        staff_agent(sp, STAFF_FOR[lang]) as staff,
    ):
        await ask(ada, ASK_FOR_PERSON[lang], lang)
        greeting = await ada.expect("greeter_said")
        assert greeting["kind"] == "greeting" and AUTOMATED[lang] in greeting["text"]
        offer = await ada.expect("greeter_offer")
        assert offer["reason"] == "asked" and offer["service"] == "general"
        assert not await desk_events(sp)  # no ticket without consent

        await ada.send({"t": "greeter_consent", "conv": offer["conv"], "yes": True})
        ticket = await ada.expect("ticket")
        assert ticket["ticket"] == "A-001" and ticket["status"] == "waiting"
        outcome = await ada.expect("greeter_outcome")
        assert outcome == {
            "t": "greeter_outcome",
            "conv": offer["conv"],
            "handed_over": True,
            "ticket": "A-001",
        }
        [arrived] = await desk_events(sp)
        assert (arrived["type"], arrived["service"], arrived["lang"]) == (
            "arrived",
            "general",
            lang,
        )

        await staff.send({"t": "duty", "status": "available", "desk": "desk-1"})
        await staff.expect("duty")
        await staff.send({"t": "call_next"})
        case = await staff.expect("case")
        assert case["ticket"] == "A-001" and case["citizen"] == ada.id
        transcript = await staff.expect("greeter_transcript")
        assert transcript["ticket"] == "A-001" and transcript["reason"] == "asked"
        assert transcript["lang"] == lang
        lines = transcript["lines"]
        assert lines[0]["from"] == "citizen" and lines[0]["text"] == redact(ASK_FOR_PERSON[lang])
        assert PNR not in repr(lines) and "[id removed]" in lines[0]["text"]
        assert {line["from"] for line in lines[1:]} == {"greeter"}
        assert not ada.taken("greeter_transcript")
        await ada.expect("called")


async def test_two_unhelpful_answers_bring_an_offer_and_declining_stays_out_of_the_queue(
    tmp_path: Path,
) -> None:
    async with running_server(tmp_path) as sp:
        topic = await post_with_official_answer(
            sp,
            "Wie beantrage ich Kindergeld?",
            "Wir haben ein Baby bekommen. Wie beantrage ich Kindergeld?",
            "Den Antrag auf Kindergeld stellen Sie online bei der Familienkasse.",
            lang="de",
            service="benefits",
        )
        async with greeter_bot(sp), AgentClient(ws_url(sp), name="Cy") as cy:
            for question in ("Wie beantrage ich Kindergeld?", "Kindergeld beantragen, wo?"):
                await ask(cy, question, "de")
                said = await cy.expect("greeter_said", kind="answer")
                assert said["topic"] == topic
                await cy.send({"t": "greeter_rate", "conv": said["conv"], "helpful": False})
            offer = await cy.expect("greeter_offer")
            assert offer["reason"] == "not_helpful" and offer["service"] == "benefits"
            assert "automatischer Assistent" in offer["text"]
            assert "Leistungen und Familie" in offer["text"]
            await cy.expect("greeter_said", kind="no_answer")  # after the first: "sorry"

            await cy.send({"t": "greeter_consent", "conv": offer["conv"], "yes": False})
            outcome = await cy.expect("greeter_outcome")
            assert outcome["handed_over"] is False and "ticket" not in outcome
            declined = await cy.expect("greeter_said", kind="declined")
            assert declined["automated"] is True
            await cy.sync()
            assert not await desk_events(sp) and not cy.taken("ticket")
            assert len(cy.taken("greeter_offer")) == 0  # one offer, taken above


async def test_a_topic_that_needs_a_case_is_handed_over(tmp_path: Path) -> None:
    async with running_server(tmp_path) as sp:
        topic = await post_with_official_answer(
            sp,
            "Bygglov för altan",
            "Behöver jag bygglov för en altan på min tomt?",
            "Det beror på höjden; en handläggare måste titta på ditt ärende.",
            service="permits",
        )
        async with staff_agent(sp, "Jonas Weber") as jonas:
            await jonas.send({"t": "qa_set", "topic": topic, "needs_case": True})
            await jonas.expect("qa_update")
        async with greeter_bot(sp), AgentClient(ws_url(sp), name="Di") as di:
            await ask(di, "Behöver jag bygglov för altan?", "sv")
            said = await di.expect("greeter_said", kind="answer")
            assert said["topic"] == topic
            offer = await di.expect("greeter_offer")
            assert offer["reason"] == "needs_case" and offer["service"] == "permits"


async def test_greeter_metrics_are_exported(tmp_path: Path) -> None:
    async with running_server(tmp_path) as sp:
        async with greeter_bot(sp), AgentClient(ws_url(sp), name="Ada") as ada:
            await ask(ada, "human", "en")
            offer = await ada.expect("greeter_offer")
            await ada.send({"t": "greeter_consent", "conv": offer["conv"], "yes": True})
            await ada.expect("greeter_outcome")
        async with httpx.AsyncClient() as http:
            text = (await http.get(f"http://127.0.0.1:{sp.port}/metrics")).text
        assert 'servicepoint_greeter_handoffs_total{reason="asked"} 1.0' in text
        assert 'servicepoint_greeter_conversations_total{outcome="handoff"} 1.0' in text
        assert "servicepoint_greeter_resolved_total 0.0" in text
        assert 'servicepoint_greeter_offers_total{by="bot",reason="asked"} 1.0' in text


@pytest.mark.parametrize("subject", ["greeter", "greeter.2"])
async def test_a_newer_greeter_takes_over(tmp_path: Path, subject: str) -> None:
    """Another bot identity: the older one is told ``greeter_taken``; the same identity:
    the edge closes the older connection (4009). Either way the older one exits with 3."""
    async with running_server(tmp_path) as sp:
        first = AgentClient(ws_url(sp), name="Greeter", token=mint("bot", "Greeter", "greeter"))
        await first.connect()
        task = asyncio.create_task(GreeterBot(first).run())
        feature: Any = sp.feature("greeter")
        while feature.bot is None:
            await asyncio.sleep(0.01)
        async with (
            greeter_bot(sp, subject) as newer,
            AgentClient(ws_url(sp), name="Ada") as ada,
        ):
            assert await task == EXIT_REPLACED
            await first.close()
            await ask(ada, "Hello", "en")
            assert (await ada.expect("greeter_said"))["kind"] == "greeting"
            assert feature.bot.id == newer.client.id


async def test_the_server_starts_and_stops_the_greeter_process(tmp_path: Path) -> None:
    config = Config(
        host="127.0.0.1",
        port=0,
        data_dir=tmp_path,
        secret=SECRET,
        features={"voice": {"hosts": "127.0.0.1"}},
    )
    sp: Any = with_greeter(config)
    async with sp:
        feature: Any = sp.feature("greeter")
        while feature.bot is None:
            await asyncio.sleep(0.05)
        assert feature.bot.role == "bot"
        async with AgentClient(ws_url(sp), name="Eve") as eve:
            await ask(eve, "Goddag", "da")
            said = await eve.expect("greeter_said", timeout=30)
            assert said["automated"] and AUTOMATED["da"] in said["text"]
        proc = sp.greeter.proc
        assert proc is not None and proc.returncode is None
    assert proc.returncode is not None  # stopped with the server
    assert sp.greeter.starts == 1
