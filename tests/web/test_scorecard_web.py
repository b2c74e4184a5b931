"""The staff scorecard in real Chromium: "My progress" in the staff console, and the
dashboard's "Staff scorecard rules and team" section.

The server runs in this process (`running_server` on the agents' loop) with its own
copy of the shipped rules (so a test can break it) and a quick refresh. The staff
member is the browser page (a staff token in the link, then the join form); the
citizen is an `AgentClient`. The staff console's own buttons go on duty, call and
close the case; the citizen rates it 5; the panel shows the case's lines as
information ("Rated 5 by the citizen: +12 for quality.") and the points of the day
without a reload, and reads the feedback out politely. axe checks the panel in five
languages. No assertion is about time: every wait is for an event or a state.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agents.client import AgentClient
from server.app import ServicePoint
from server.features.scorecard.settings import SHIPPED_RULES
from tests.server.harness import mint
from tests.web.conftest import AgentLoop, join, own_server, state, url, wait_state
from tests.web.test_a11y import AXE, AXE_URL, TAGS, axe_violations
from tests.web.test_dashboard import paste_token

WAIT_MS = 20_000
LANGS = ["sv", "da", "de", "ja", "en"]


def start(tmp_path: Path, agents: AgentLoop, **scorecard: Any) -> Iterator[ServicePoint]:
    rules = tmp_path / "scorecard.toml"
    rules.write_text(SHIPPED_RULES.read_text(encoding="utf-8"), encoding="utf-8")
    sections = {"scorecard": {"refresh_s": 0.05, "rules": str(rules), **scorecard}}
    yield from own_server(agents, tmp_path / "data", features=sections)


@pytest.fixture
def sp(tmp_path: Path, agents: AgentLoop) -> Iterator[ServicePoint]:
    """A server of the test's own, in this process (list it before `open_page`)."""
    yield from start(tmp_path, agents)


@pytest.fixture
def sp_works(tmp_path: Path, agents: AgentLoop) -> Iterator[ServicePoint]:
    """The same in works-agreement mode (team figures only, groups of at least 5)."""
    yield from start(tmp_path, agents, works_agreement=True, min_group=5)


def axe_in(page: Any, selector: str) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.1 A/AA violations inside one element (a panel)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        assert AXE.is_file(), "axe-core is missing: run `npm ci` in clients/web"
        page.add_script_tag(url=AXE_URL)
    result: dict[str, Any] = page.evaluate(
        "([sel, tags]) => axe.run(document.querySelector(sel),"
        " { runOnly: { type: 'tag', values: tags } })",
        [selector, TAGS],
    )
    return [
        {"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
    ]


def staff_page(open_page: Any, sp: ServicePoint, name: str = "Sara Lind", **kw: Any) -> Any:
    page = open_page(f"/?token={mint('staff', name)}", base=url(sp), **kw)
    join(page, name)
    wait_state(page, "s.scorecard.visible && s.scorecard.progress")
    return page


_WRITES = itertools.count(1)


def write_rules(path: Path, text: str) -> None:
    """Rewrite the rules with an mtime the feature has not seen (a later second each time)."""
    path.write_text(text, encoding="utf-8")
    stamp = path.stat().st_mtime_ns + 1_000_000_000 * next(_WRITES)
    os.utime(path, ns=(stamp, stamp))


async def settle(sp: ServicePoint) -> None:
    """Two full refreshes of the scorecard: everything logged so far is scored."""
    card: Any = sp.feature("scorecard")
    await card.refreshed()
    await card.refreshed()


def test_progress_after_a_case_goals_settings_board_and_axe(
    sp: ServicePoint, open_page: Any, agents: AgentLoop
) -> None:
    page = staff_page(open_page, sp)
    assert page.is_visible("#scorecard-panel")
    s = state(page)["scorecard"]
    assert s["progress"]["participating"] is True
    assert s["progress"]["today"]["points"] == 0
    assert page.text_content("#sc-today") == "0 of 100 points"
    assert page.is_visible("#sc-last-none")
    assert page.locator("#sc-metrics tbody tr").count() == 7
    # The team's challenges: one labelled bar per goal, named by its sentence.
    bars = page.locator("#sc-challenges progress")
    assert bars.count() >= 2
    for i in range(bars.count()):
        label = bars.nth(i).get_attribute("aria-labelledby")
        assert label and page.text_content(f"#{label}"), label
    assert "Called within the target time" in page.text_content("#sc-challenges")
    # The board is opt-in: no board button until one chooses to appear on it.
    assert page.is_hidden("#sc-board-block")
    page.evaluate("window.__sameDocument = true")  # gone if the page reloaded

    # A case, with the console's own controls: duty, "Call next", "Close the case".
    page.select_option("#duty-desk", "desk-2")
    page.click("#duty-submit")
    wait_state(page, "s.staff.duty.status === 'available'")
    citizen = AgentClient(f"ws://127.0.0.1:{sp.port}/ws", name="Bo")
    try:
        agents.run(citizen.connect())
        agents.run(citizen.send({"t": "take_ticket", "service": "general", "lang": "en"}))
        ticket = agents.run(citizen.expect("ticket"))["ticket"]
        page.click("#call-next")
        agents.run(citizen.expect("called", timeout=15))
        agents.run(citizen.send({"t": "respond"}))
        wait_state(page, "s.staff.case && s.staff.case.status === 'serving'")
        page.click("#close-submit")
        survey = agents.run(citizen.expect("survey", timeout=15))
        # The case's first lines come as soon as it ended (no rating yet).
        s = wait_state(page, f"s.scorecard.lastCase && s.scorecard.lastCase.ticket === '{ticket}'")
        assert "rated" not in [line["reason"] for line in s["scorecard"]["lastCase"]["lines"]]
        agents.run(citizen.send({"t": "survey_answer", "survey": survey["survey"], "rating": 5}))
        agents.run(citizen.expect("survey_done", timeout=15))

        # The rating arrives: the line, the day's points, without a reload.
        s = wait_state(
            page,
            "s.scorecard.lastCase.lines.some(l => l.reason === 'rated')"
            " && s.scorecard.progress.today.metrics.satisfaction.points > 0",
        )
        assert page.evaluate("window.__sameDocument") is True
        progress = s["scorecard"]["progress"]
        assert progress["today"]["points"] > 0
        lines = page.eval_on_selector_all("#sc-lines li", "els => els.map(e => e.textContent)")
        assert "Rated 5 by the citizen: +12 for quality." in lines
        assert "Resolved at the first contact: +5 for the outcome." in lines
        assert any(line.startswith("Handle time ") for line in lines), lines
        assert page.text_content("#sc-last-ticket").startswith(f"Case {ticket} (+")
        points = progress["today"]["points"]
        assert page.text_content("#sc-today") == f"{round(points, 1):g} of 100 points"
        row = page.locator("#sc-metrics tbody tr[data-metric=satisfaction] td").first
        assert float(row.get_attribute("data-points")) > 0
        # Read out politely: a status region (not an alert) with the case's sentences.
        assert page.get_attribute("#sc-live", "role") == "status"
        page.wait_for_function(
            """() => document.getElementById('sc-live').textContent
                       .includes('Rated 5 by the citizen: +12 for quality.')""",
            timeout=WAIT_MS,
        )
        assert ticket in page.text_content("#sc-live")
    finally:
        agents.run(citizen.close())

    # A personal goal: a target out of range is refused next to the form, then one is set.
    page.select_option("#sc-goal-kind", "csat_week")
    page.fill("#sc-goal-target", "500")
    page.click("#sc-goal-submit")
    assert page.text_content("#sc-goal-error") == "Please type a goal from 1 to 100."
    assert page.get_attribute("#sc-goal-target", "aria-invalid") == "true"
    page.fill("#sc-goal-target", "90")
    page.click("#sc-goal-submit")
    s = wait_state(page, "s.scorecard.progress.goals.length === 1")
    goal = s["scorecard"]["progress"]["goals"][0]
    assert goal["kind"] == "csat_week" and goal["target"] == pytest.approx(0.9)
    text = page.text_content("#sc-goals li")
    assert "Share of your ratings 4–5 this week, goal 90%" in text and "Reached." in text
    assert page.text_content("#sc-goal-error") == ""
    page.click(f"#sc-goals button[data-goal='{goal['id']}']")
    wait_state(page, "s.scorecard.progress.goals.length === 0")
    assert page.is_visible("#sc-goals-none")

    # The board: shown only once opted in; top N and one's own rank by name.
    page.check("#sc-leaderboard")
    wait_state(page, "s.scorecard.progress.settings.leaderboard === true")
    page.wait_for_selector("#sc-board-block", state="visible")
    page.click("#sc-board-show")
    s = wait_state(page, "s.scorecard.board && s.scorecard.board.entries.length > 0")
    assert s["scorecard"]["board"]["viewer"]["rank"] == 1
    assert page.text_content("#sc-board tbody tr[data-you=true] td") == "Sara Lind (you)"

    # axe: the panel with every part showing, in five languages.
    for lang in LANGS:
        page.select_option("#lang-select", lang)
        assert page.evaluate("document.documentElement.lang") == lang
        assert page.text_content("#scorecard-heading") != "My progress" or lang == "en"
        assert axe_in(page, "#scorecard-panel") == [], lang
    assert axe_violations(page) == []

    # Leaving the scorecard: the figures go, the board with them; joining again works.
    page.uncheck("#sc-participate")
    wait_state(page, "s.scorecard.progress.participating === false")
    assert page.is_visible("#sc-off") and page.is_hidden("#sc-body")
    assert page.is_disabled("#sc-leaderboard")
    page.check("#sc-participate")
    wait_state(page, "s.scorecard.progress.participating === true")
    assert page.is_hidden("#sc-board-block")  # leaving turned the board entry off


def test_dashboard_rules_table_team_and_a_broken_rules_file(
    sp: ServicePoint, open_page: Any, agents: AgentLoop, tmp_path: Path
) -> None:
    page = open_page("/dashboard.html", base=url(sp))
    paste_token(page, mint("manager", "Mia Berg"))
    s = wait_state(page, "s.scorecard.rules && s.scorecard.team")
    rules = s["scorecard"]["rules"]
    assert rules["rules_error"] is None and rules["quality_share"] == pytest.approx(0.6)
    assert page.text_content("#dsc-heading") == "Staff scorecard rules and team"
    rows = page.locator("#dsc-rules tbody tr")
    assert rows.count() == len(rules["metrics"]) == 7
    satisfaction = page.locator("#dsc-rules tbody tr[data-metric=satisfaction]")
    assert satisfaction.locator("th").text_content() == "Citizens’ satisfaction"
    cells = satisfaction.locator("td")
    assert cells.nth(0).text_content() == "40" and cells.nth(1).text_content() == "40%"
    assert page.locator("#dsc-rules tfoot td").first.text_content() == "100"
    assert page.text_content("#dsc-quality").startswith("60% of the weight is on quality")
    assert page.is_hidden("#dsc-rules-error") and page.is_hidden("#dsc-suppressed")
    assert page.text_content("#dsc-team [data-figure=group_size]") == "0"
    assert page.locator("#dsc-challenges progress").count() >= 2

    # A broken rules file: the last good rules stay, and the section says why.
    path = tmp_path / "scorecard.toml"
    write_rules(path, path.read_text(encoding="utf-8") + "\n[[metric]]\nname = 'cases_per_hour'\n")
    agents.run(settle(sp))
    page.select_option("#dsc-period", "week")  # a new period: the rules are fetched again
    page.click("#dsc-refresh")
    s = wait_state(page, "s.scorecard.rules.rules_error && s.scorecard.team.period === 'week'")
    assert page.is_visible("#dsc-rules-error")
    error = page.text_content("#dsc-rules-error")
    assert error.startswith("The rules file has an error, so the last good rules stay in force:")
    assert "scorecard.toml" in error
    assert page.locator("#dsc-rules tbody tr").count() == 7
    assert "this week" in page.text_content("#dsc-rules thead")

    for lang in LANGS:
        page.select_option("#dash-lang", lang)
        assert page.evaluate("document.documentElement.lang") == lang
        assert axe_in(page, "#dsc-section") == [], lang


def test_works_agreement_hides_small_groups_and_boards(
    sp_works: ServicePoint, open_page: Any
) -> None:
    dash = open_page("/dashboard.html", base=url(sp_works))
    paste_token(dash, mint("manager", "Mia Berg"))
    s = wait_state(dash, "s.scorecard.rules && s.scorecard.team")
    assert s["scorecard"]["team"]["suppressed"] is True
    assert dash.is_visible("#dsc-works") and dash.is_visible("#dsc-suppressed")
    assert "at least 5 staff members" in dash.text_content("#dsc-suppressed")
    assert dash.is_hidden("#dsc-team") and dash.is_hidden("#dsc-challenges-block")
    assert dash.locator("#dsc-rules tbody tr").count() == 7  # the rules are no one's figures
    assert axe_in(dash, "#dsc-section") == []

    page = staff_page(open_page, sp_works)
    assert state(page)["scorecard"]["progress"]["works_agreement"] is True
    assert page.is_visible("#sc-works")
    assert page.is_hidden("#sc-leaderboard-row") and page.is_hidden("#sc-board-block")
    assert axe_in(page, "#scorecard-panel") == []
