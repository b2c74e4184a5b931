"""Feedback in real Chromium: the survey after a case, answered by keyboard, and the kiosk.

The server runs in this process (`running_server` on the agents' loop), so the
test reads the feedback feature's stream (`answers`) from its store. A staff
agent serves the citizen, who is the browser page; closing the case offers the
survey, which the page shows as a modal dialog with focus inside it. No
assertion is about time: every wait is for an event or a state.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from agents.client import AgentClient
from server.app import ServicePoint
from tests.server.harness import staff_agent
from tests.web.conftest import AgentLoop, join, own_server, state, url, wait_state
from tests.web.test_a11y import axe_violations

WAIT_MS = 20_000
LANGS = ["sv", "da", "de", "ja", "en"]


@pytest.fixture
def sp(tmp_path: Path, agents: AgentLoop) -> Iterator[ServicePoint]:
    """A server of the test's own, in this process (list it before `open_page`)."""
    yield from own_server(agents, tmp_path)


async def _answers(sp: ServicePoint) -> list[dict[str, str]]:
    return [fields for _id, fields in await sp.store.keyspace("feedback").read("answers")]


def answers(agents: AgentLoop, sp: ServicePoint) -> list[dict[str, str]]:
    """The feedback feature's stream, oldest first (its fields only)."""
    result: list[dict[str, str]] = agents.run(_answers(sp))
    return result


def answers_until(
    agents: AgentLoop, sp: ServicePoint, ok: Callable[[list[dict[str, str]]], bool]
) -> list[dict[str, str]]:
    """The stream once `ok` holds for it (the page's message may still be on its way)."""

    async def poll() -> list[dict[str, str]]:
        while not ok(entries := await _answers(sp)):
            await asyncio.sleep(0.05)
        return entries

    result: list[dict[str, str]] = agents.run(poll(), timeout=20)
    return result


def switch_language(page: Any, lang: str) -> None:
    """The language select is behind the modal dialog (inert): change it as a script would."""
    page.evaluate(
        """lang => { const sel = document.getElementById('lang-select');
                     sel.value = lang; sel.dispatchEvent(new Event('change')); }""",
        lang,
    )
    page.wait_for_function("lang => document.documentElement.lang === lang", arg=lang)


def focus_in_dialog(page: Any) -> bool:
    inside: bool = page.evaluate("() => Boolean(document.activeElement?.closest('#survey-dialog'))")
    return inside


async def on_duty(staff: AgentClient) -> None:
    await staff.connect()
    await staff.send({"t": "duty", "status": "available", "desk": "desk-2"})
    await staff.expect("duty", status="available")


def test_case_survey_answered_by_keyboard(
    sp: ServicePoint, open_page: Any, agents: AgentLoop
) -> None:
    page = open_page(base=url(sp))
    join(page, "Ada")
    sara = staff_agent(sp, "Sara Lind")
    try:
        agents.run(on_duty(sara))
        page.check("#service-choices input[value=general]")
        page.select_option("#service-lang", "en")
        page.click("#service-take")
        wait_state(page, "s.ticket && s.ticket.status === 'waiting'")
        agents.run(sara.send({"t": "call_next"}))
        agents.run(sara.expect("case", timeout=15))
        page.wait_for_selector("#called-panel", state="visible", timeout=WAIT_MS)
        page.click("#called-coming")
        agents.run(sara.expect("call", timeout=15, active=True))
        wait_state(page, "s.call && s.ticket.status === 'serving'")
        agents.run(sara.send({"t": "close_case", "outcome": "resolved"}))

        # The survey: a modal dialog, with the focus moved into it.
        page.wait_for_selector("#survey-dialog[open]", timeout=WAIT_MS)
        s = wait_state(page, "s.survey.open && s.survey.survey")
        assert s["survey"]["survey"]["kind"] == "case"
        assert focus_in_dialog(page)
        assert page.get_attribute("#survey-dialog", "aria-labelledby") == "survey-heading"
        assert page.text_content("#survey-heading") == "How was your visit?"
        assert "Registration" in page.text_content("#survey-intro")  # the desk's name
        labels = page.eval_on_selector_all(
            "#survey-rating .scale-text", "els => els.map(e => e.textContent)"
        )
        assert labels == [
            "Very dissatisfied",
            "Dissatisfied",
            "Neither satisfied nor dissatisfied",
            "Satisfied",
            "Very satisfied",
        ]
        assert page.is_visible("#survey-share-row")
        assert page.text_content("#survey-share-label") == "Share my comment with Sara Lind"

        # axe on the open dialog, in every language (the page's own switcher logic).
        for lang in LANGS:
            switch_language(page, lang)
            assert page.text_content("#survey-heading") != ""
            assert axe_violations(page) == [], lang
        switch_language(page, "en")

        # Sending without a rating says why, next to the faces.
        page.focus("#survey-send")
        page.keyboard.press("Enter")
        page.wait_for_function(
            "() => document.getElementById('survey-error').textContent.length > 0"
        )
        assert page.text_content("#survey-error") == "Please choose how satisfied you are."
        assert page.get_attribute("#survey-rating", "aria-invalid") == "true"

        # Keyboard only: the focus is on the first face; Space chooses it, arrows move to 4.
        page.focus("#survey-heading")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.name") == "survey-rating"
        page.keyboard.press("Space")
        for _ in range(3):
            page.keyboard.press("ArrowRight")
        assert page.input_value("#survey-rating input:checked") == "4"
        page.keyboard.press("Tab")  # "Was it easy?"
        assert page.evaluate("document.activeElement.name") == "survey-easy"
        page.keyboard.press("Tab")  # the comment
        assert page.evaluate("document.activeElement.id") == "survey-comment"
        page.keyboard.type("Quick and friendly")
        assert page.text_content("#survey-count") == "Characters: 18 of 1000"
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "survey-share"
        page.keyboard.press("Space")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "survey-send"
        page.keyboard.press("Enter")

        # survey_done: the dialog closes and the page says thanks.
        s = wait_state(page, "!s.survey.open && s.survey.state === 'answered'")
        page.wait_for_function(
            """() => document.getElementById('chat-lines').textContent
                       .includes('Thank you for your feedback')""",
            timeout=WAIT_MS,
        )
        shared = agents.run(sara.expect("feedback_shared", timeout=15))
        assert shared["rating"] == 4 and shared["comment"] == "Quick and friendly"
        assert shared["service"] == "general"

        # The server's stream holds the answer.
        got = [a for a in answers(agents, sp) if a.get("type") == "answered"]
        assert len(got) == 1
        answer = got[0]
        assert answer["kind"] == "case" and answer["rating"] == "4"
        assert answer["comment"] == "Quick and friendly" and answer.get("shared") == "1"
        assert "easy" not in answer
        assert answer["service"] == "general" and answer["desk"] == "desk-2"
    finally:
        agents.run(sara.close())


def test_staff_sees_shared_feedback(sp: ServicePoint, open_page: Any, agents: AgentLoop) -> None:
    """The staff console's page shows "A citizen rated 4/5: ..." from `feedback_shared`."""
    staff = open_page(f"/?token={_token('staff', 'Sara Lind')}", base=url(sp))
    join(staff, "Sara Lind")
    assert staff.is_visible("#shared-panel")
    staff.select_option("#duty-desk", "desk-2")
    staff.click("#duty-submit")
    wait_state(staff, "s.staff.duty.status === 'available'")

    citizen = AgentClient(f"ws://127.0.0.1:{sp.port}/ws", name="Bo")
    try:
        agents.run(citizen.connect())
        agents.run(citizen.send({"t": "take_ticket", "service": "general", "lang": "en"}))
        agents.run(citizen.expect("ticket"))
        staff.click("#call-next")
        agents.run(citizen.expect("called", timeout=15))
        agents.run(citizen.send({"t": "respond"}))
        wait_state(staff, "s.staff.case && s.staff.case.status === 'serving'")
        staff.click("#close-submit")
        survey = agents.run(citizen.expect("survey", timeout=15))
        assert survey["kind"] == "case" and survey["staff_name"] == "Sara Lind"
        agents.run(
            citizen.send(
                {
                    "t": "survey_answer",
                    "survey": survey["survey"],
                    "rating": 4,
                    "comment": "Very helpful",
                    "share": True,
                }
            )
        )
        staff.wait_for_selector("#shared-list li", timeout=WAIT_MS)
        line = staff.text_content("#shared-list li")
        assert "A citizen rated 4/5" in line and "Very helpful" in line
        assert staff.get_attribute("#shared-log", "role") == "log"
        assert axe_violations(staff) == []
    finally:
        agents.run(citizen.close())


def test_kiosk_button_near_the_kiosk(sp: ServicePoint, open_page: Any, agents: AgentLoop) -> None:
    page = open_page(base=url(sp))
    join(page, "Ada")
    assert page.is_hidden("#fkiosk-panel")  # far from the kiosk at the entrance

    # "Walk to" the kiosk with the keyboard; its panel appears on arrival.
    page.focus("#places button[data-place=kiosk-hall]")
    page.keyboard.press("Enter")
    wait_state(page, "s.feedbackKiosk === 'kiosk-hall'", timeout=45_000)
    page.wait_for_selector("#fkiosk-panel", state="visible")
    assert page.text_content("#fkiosk-heading") == "Feedback kiosk"
    s = state(page)
    assert abs(s["self"]["x"] - 0.0) < 3 and abs(s["self"]["z"] - 20.0) < 3
    assert axe_violations(page) == []

    # The button is reachable by keyboard; a kiosk survey opens (nobody to share with).
    page.focus("#fkiosk-give")
    page.keyboard.press("Enter")
    page.wait_for_selector("#survey-dialog[open]", timeout=WAIT_MS)
    s = wait_state(page, "s.survey.open && s.survey.survey")
    assert s["survey"]["survey"]["kind"] == "kiosk"
    assert page.is_hidden("#survey-share-row")
    assert focus_in_dialog(page)

    # Escape declines it (survey_dismiss): the dialog closes, the server records it.
    page.keyboard.press("Escape")
    wait_state(page, "!s.survey.open && s.survey.state === 'dismissed'")
    page.wait_for_function("() => !document.getElementById('survey-dialog').open")

    entries = answers_until(agents, sp, lambda es: any(e["type"] == "dismissed" for e in es))
    assert [e["kind"] for e in entries if e["type"] == "dismissed"] == ["kiosk"]

    # Asked again: a new survey, answered 5 by clicks; a third request is refused politely.
    page.click("#fkiosk-give")
    wait_state(page, "s.survey.open && s.survey.state === 'open'")
    page.click("#survey-rating .scale-choice:nth-child(5)")
    page.click("#survey-send")
    wait_state(page, "s.survey.state === 'answered'")
    got = [a for a in answers(agents, sp) if a.get("type") == "answered"]
    assert [(a["kind"], a["rating"]) for a in got] == [("kiosk", "5")]
    page.click("#fkiosk-give")
    page.wait_for_function(
        "() => document.getElementById('fkiosk-error').textContent.length > 0", timeout=WAIT_MS
    )
    assert "a short while ago" in page.text_content("#fkiosk-error")


def _token(role: str, name: str) -> str:
    from tests.server.harness import mint

    return mint(role, name)
