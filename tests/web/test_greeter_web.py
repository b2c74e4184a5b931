"""The greeter in real Chromium: an automated assistant at the entrance that hands over.

The server runs in this process (`running_server` on the agents' loop) with the
greeter agent (`agents.greeter.GreeterBot`) as a task on the same loop, joined
with a `bot` role token; the citizen and the staff member are browser pages.
Every wait is for an event or a state, never for an amount of time.

* The greeter's avatar is marked as automated (role `bot`); near it the
  conversation panel opens; its greeting says it is automated and every line
  of it is marked "Automated assistant".
* "Talk to a person" brings the consent question; yes takes a queue ticket
  (the desks' ticket panel shows it) and the staff member who calls it sees
  the conversation in the desk console.
* An answer from the Q&A wall links its topic (the Q&A panel opens on it) and
  can be rated helpful.
* axe-core finds nothing with the panel, the consent question and the console.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from agents.client import AgentClient
from agents.greeter import GreeterBot
from server.app import ServicePoint
from tests.server.harness import mint, running_server, ws_url
from tests.web.conftest import AgentLoop, join, url, wait_state
from tests.web.test_a11y import axe_violations

WAIT_MS = 20_000


@contextlib.asynccontextmanager
async def greeter_bot(sp: ServicePoint) -> AsyncIterator[GreeterBot]:
    """The greeter agent as a task, connected and serving (as agents/greeter.py runs it)."""
    client = AgentClient(ws_url(sp), name="Greeter", token=mint("bot", "Greeter", "greeter"))
    await client.connect()
    bot = GreeterBot(client)
    task = asyncio.create_task(bot.run())
    feature: Any = sp.feature("greeter")
    while feature.bot is None or feature.bot.id != client.id:
        await asyncio.sleep(0.01)
    try:
        yield bot
    finally:
        bot.stopping.set()
        await task
        await client.close()


@pytest.fixture
def sp(tmp_path: Path, agents: AgentLoop) -> Iterator[ServicePoint]:
    """A server of the test's own with the greeter serving (list it before `open_page`)."""
    cm = running_server(tmp_path)
    server: ServicePoint = agents.run(cm.__aenter__())
    bot = greeter_bot(server)
    try:
        agents.run(bot.__aenter__())
        try:
            yield server
        finally:
            agents.run(bot.__aexit__(None, None, None))
    finally:
        agents.run(cm.__aexit__(None, None, None))


def at_the_greeter(page: Any) -> None:
    """Walk to the greeter with the keyboard ("Walk to"), until its panel shows."""
    page.focus("#places button[data-place=greeter]")
    page.keyboard.press("Enter")
    wait_state(page, "s.greeter.near && s.greeter.visible")


def test_the_greeter_is_automated_and_hands_over_with_consent(
    sp: ServicePoint, open_page: Any
) -> None:
    page = open_page(base=url(sp), lang="sv-SE")
    join(page, "Ada")
    # The greeter's avatar: a bot, shown as an automated assistant.
    s = wait_state(page, "s.greeter.bots.length === 1")
    bot = s["others"][str(s["greeter"]["bots"][0])]
    assert bot["role"] == "bot"
    at_the_greeter(page)
    assert page.text_content("#greeter-title") == "Värd (automatisk assistent)"
    assert "automatisk assistent, inte en människa" in page.text_content("#greeter-disclosure")

    # Enter in the hall view near it goes to its text field.
    page.focus("#view")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "greeter-input"
    page.keyboard.type("Hej!")
    page.keyboard.press("Enter")
    s = wait_state(page, "s.greeter.lines.some(l => l.from === 'greeter' && l.kind === 'greeting')")
    assert s["greeter"]["lines"][0] == {
        "from": "me",
        "text": "Hej!",
        "kind": None,
        "topic": None,
        "official": False,
        "rated": None,
    }
    greeting = page.locator(".greeter-from-bot[data-kind=greeting]").first
    assert greeting.get_attribute("data-automated") == "true"
    assert greeting.locator(".greeter-tag").text_content() == "Automatisk assistent"
    assert greeting.locator(".greeter-tag svg.greeter-icon").count() == 1
    assert "automatisk assistent" in greeting.locator(".greeter-text").text_content()
    assert page.get_attribute("#greeter-log", "role") == "log"

    # Asking for a person: the consent question, and no ticket before "yes".
    page.focus("#greeter-person")
    page.keyboard.press("Enter")
    s = wait_state(page, "s.greeter.offer")
    assert s["greeter"]["offer"]["reason"] == "asked"
    assert s["ticket"] is None or not s["ticket"].get("ticket")
    assert page.is_visible("#greeter-offer")
    assert page.evaluate("document.activeElement.id") == "greeter-offer-q"
    assert page.text_content("#greeter-offer-q") == "Ta en kölapp för Allmänna frågor?"
    assert axe_violations(page) == [], "greeter panel with the consent question"

    page.focus("#greeter-yes")
    page.keyboard.press("Enter")
    s = wait_state(page, "s.greeter.outcome && s.ticket && s.ticket.status === 'waiting'")
    assert s["greeter"]["outcome"]["handed_over"] is True
    ticket = s["greeter"]["outcome"]["ticket"]
    assert ticket == s["ticket"]["ticket"]
    assert page.is_visible("#ticket-panel")
    assert f"Du har kölapp {ticket}." in page.text_content("#greeter-log")
    assert not page.is_visible("#greeter-offer")

    # The staff member who calls the ticket sees the conversation in the desk console.
    staff = open_page(f"/?token={mint('staff', 'Sara Lind')}", base=url(sp), lang="sv-SE")
    join(staff, "Sara Lind")
    staff.select_option("#duty-desk", "desk-1")
    staff.click("#duty-submit")
    wait_state(staff, "s.staff && s.staff.duty && s.staff.duty.status === 'available'")
    staff.click("#call-next")
    s = wait_state(staff, f"s.greeter.transcript && s.greeter.transcript.ticket === '{ticket}'")
    assert s["greeter"]["transcript"]["lines"] >= 3
    box = staff.locator("#greeter-transcript")
    assert box.is_visible()
    about = staff.text_content("#greeter-transcript-about")
    assert ticket in about and "medborgaren bad om en person" in about
    lines = staff.locator("#greeter-transcript-lines li")
    assert lines.first.get_attribute("data-from") == "citizen"
    assert "Hej!" in lines.first.text_content()
    assert (
        staff.locator("#greeter-transcript-lines li[data-from=greeter] .greeter-tag").count() >= 1
    )
    assert axe_violations(staff) == [], "staff console with the greeter's transcript"


def test_an_answer_links_its_topic_and_can_be_rated(
    sp: ServicePoint, open_page: Any, agents: AgentLoop
) -> None:
    async def seed() -> int:
        async with (
            AgentClient(ws_url(sp), name="Asker") as asker,
            AgentClient(ws_url(sp), name="x", token=mint("staff", "Sara Lind")) as sara,
        ):
            await asker.send(
                {
                    "t": "qa_post",
                    "type": "question",
                    "title": "How do I change my address?",
                    "body": "I moved to a new flat. How do I register my new address?",
                    "lang": "en",
                }
            )
            topic = int((await asker.expect("qa_posted"))["post"]["id"])
            await sara.send(
                {
                    "t": "qa_reply",
                    "topic": topic,
                    "body": "Report the move online within a week of moving.",
                    "official": True,
                }
            )
            await sara.expect("qa_posted")
            return topic

    topic = agents.run(seed())
    page = open_page(base=url(sp), lang="en-US")
    join(page, "Bo")
    at_the_greeter(page)
    page.fill("#greeter-input", "How do I change my address when I move?")
    page.press("#greeter-input", "Enter")
    s = wait_state(page, "s.greeter.lines.some(l => l.kind === 'answer')")
    answer = next(line for line in s["greeter"]["lines"] if line["kind"] == "answer")
    assert answer["topic"] == topic and answer["official"] is True
    line = page.locator(".greeter-from-bot[data-kind=answer]").first
    assert line.locator(".greeter-tag").text_content() == "Automated assistant"
    assert "Report the move online" in line.text_content()

    line.locator("button[data-rate=yes]").click()
    s = wait_state(page, "s.greeter.lines.some(l => l.kind === 'answer' && l.rated === true)")
    assert line.locator("button[data-rate=yes]").get_attribute("aria-pressed") == "true"
    assert axe_violations(page) == [], "greeter panel with a rated answer"

    # The source: the Q&A panel opens on the topic, with the official answer.
    page.locator(".greeter-from-bot[data-kind=answer] .greeter-source").first.click()
    s = wait_state(page, f"s.qa.open && s.qa.view.topic && s.qa.view.topic.id === {topic}")
    assert page.locator("#qa-topic .qa-official-badge").count() == 1
