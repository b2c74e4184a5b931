"""The practice desk in real Chromium: a staff member trains with a simulated citizen.

The server runs in this process (`running_server` on the agents' loop); the staff
member is the browser page (a staff token in the link, then the join form) in
Chromium with a fake microphone. The page's own controls pick a practice desk
with "Walk to", choose the angry-citizen scenario in Swedish and start it; the
server spawns the simulated citizen (``agents.training.citizen``), which walks up,
connects voice through the practice desk's `call` and speaks its lines. The page
shows the line and the answers, hears the citizen (WebRTC inbound audio energy
above zero), and the test clicks through to the debrief (score and rubric).
axe checks the open panel in five languages. Every wait is for an event or a state.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from server.app import ServicePoint
from tests.server.harness import mint
from tests.web.conftest import AgentLoop, join, own_server
from tests.web.test_scorecard_web import axe_in, state, url, wait_state

WAIT_MS = 30_000
LANGS = ["sv", "da", "de", "ja", "en"]
OPENING_SV = "Jag har väntat i en timme och ingen hjälper mig!"

HEARS_THE_CITIZEN = """async () => {
  const st = await window.servicepoint.voiceStats();
  return Boolean(st && st.inbound.some((i) => i.totalAudioEnergy > 0 && i.bytesReceived > 0));
}"""


@pytest.fixture
def sp(tmp_path: Path, agents: AgentLoop) -> Iterator[ServicePoint]:
    """A server of the test's own, in this process (list it before `open_page`)."""
    yield from own_server(agents, tmp_path / "data", features={"training": {"pregenerate": False}})


def staff_page(open_page: Any, sp: ServicePoint, media_browser: Any) -> Any:
    page = open_page(f"/?token={mint('staff', 'Sara Lind')}", base=url(sp), on=media_browser)
    join(page, "Sara Lind")
    wait_state(page, "s.training.visible && s.training.scenarios.length && s.training.desks.length")
    return page


def clean_axe(page: Any) -> None:
    for lang in LANGS:
        page.select_option("#lang-select", lang)
        page.wait_for_function("l => document.documentElement.lang === l", arg=lang)
        violations = axe_in(page, "#training-panel")
        assert not violations, f"{lang}: {violations}"
    page.select_option("#lang-select", "sv")


def test_angry_citizen_in_swedish_to_the_debrief_with_voice(
    sp: ServicePoint, open_page: Any, media_browser: Any
) -> None:
    page = staff_page(open_page, sp, media_browser)
    page.select_option("#lang-select", "sv")
    assert page.is_visible("#training-panel")
    # Titles in the UI language; the practice desks are in "Walk to".
    assert "Arg medborgare" in page.text_content("#tr-scenario")
    page.click("#places button[data-place=practice-2]")
    assert page.input_value("#tr-desk") == "practice-2"
    clean_axe(page)  # the form

    page.select_option("#tr-scenario", "angry-citizen")
    page.select_option("#tr-lang", "sv")
    page.focus("#tr-start")
    page.keyboard.press("Enter")

    s = wait_state(page, "s.training.line && s.training.line.node === 'opening'", WAIT_MS)
    assert s["training"]["running"]["desk"] == "practice-2"
    assert page.text_content("#tr-line") == OPENING_SV
    assert page.get_attribute("#tr-line", "aria-live") == "polite"
    choices = page.locator("#tr-choices button")
    assert choices.count() == 3
    assert "Jag förstår" in choices.first.text_content()

    # Voice as in a desk call: the practice desk's `call` connects it.
    s = wait_state(
        page, "s.call && s.call.desk === 'practice-2' && s.voice.state === 'connected'", WAIT_MS
    )
    assert s["voice"]["joined"]
    # The citizen says its line again, now that the voice is connected: the page hears it.
    page.click("#tr-repeat")
    page.wait_for_function(HEARS_THE_CITIZEN, timeout=WAIT_MS, polling=200)

    clean_axe(page)  # the line and the answers

    page.click("#tr-choices button[data-choice=acknowledge]")
    wait_state(page, "s.training.line.node === 'calmer'", WAIT_MS)
    page.click("#tr-choices button[data-choice=explain]")
    s = wait_state(page, "s.training.debrief", WAIT_MS)
    assert s["training"]["debrief"]["score"] == 1.0
    assert s["training"]["error"] is None
    assert "100" in page.text_content("#tr-score")
    rows = page.locator("#tr-rubric tbody tr")
    assert rows.count() == 3
    assert "Empati" in page.text_content("#tr-rubric")
    assert page.evaluate("document.activeElement.id") == "tr-debrief-heading"
    wait_state(page, "s.training.live.includes('100')")

    clean_axe(page)  # the debrief
    assert state(page)["training"]["debrief"] is not None

    # The scenario earned the training badge; shown on the avatar only when chosen.
    s = wait_state(
        page,
        "s.scorecard.progress && s.scorecard.progress.badges"
        " && s.scorecard.progress.badges.some((b) => b.id === 'training-difficult-conversation')",
        WAIT_MS,
    )
    assert s["scorecard"]["tagBadges"] == {}
    page.check("#sc-badges-toggle")
    s = wait_state(page, "Object.keys(s.scorecard.tagBadges).length > 0", WAIT_MS)
    [lines] = s["scorecard"]["tagBadges"].values()
    assert lines == ["Utbildning: svårt samtal"]
    page.uncheck("#sc-badges-toggle")
    wait_state(page, "Object.keys(s.scorecard.tagBadges).length === 0", WAIT_MS)


def test_errors_are_shown_in_the_panel(
    sp: ServicePoint, open_page: Any, media_browser: Any
) -> None:
    page = staff_page(open_page, sp, media_browser)
    page.select_option("#lang-select", "en")
    # "Repeat" with no scenario running (the button is hidden: clicked by script):
    # the server refuses it, and the panel says why in the UI language.
    page.evaluate("document.getElementById('tr-repeat').click()")
    s = wait_state(page, "s.training.error === 'not_training'")
    assert s["training"]["error"] == "not_training"
    assert page.text_content("#tr-error") == "You are not running a scenario right now."
