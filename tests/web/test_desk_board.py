"""The public queue display in real Chromium: desk signs, the hall's board and the
accessible "Now serving" list follow the server's ``desk_board``.

Two citizen pages in two languages: English in the 3D view (WebGL through
SwiftShader) and Japanese in the 2D map (a browser without WebGL). A staff
agent goes on duty at desk-2 (Registration: services B and A) and calls the
English citizen's ticket; both pages must show A-001 at that desk, in the
exposed state (`window.servicepoint.state().deskBoard`) and in the HTML list.
Every wait is for a state, never for a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agents.client import AgentClient
from server.app import ServicePoint
from tests.server.harness import staff_agent
from tests.web.conftest import AgentLoop, join, own_server, url, wait_state
from tests.web.test_a11y import axe_violations

DESK2 = "s.deskBoard.desks.find(d => d.desk === 'desk-2')"


@pytest.fixture
def sp(tmp_path: Path, agents: AgentLoop) -> Iterator[ServicePoint]:
    """A server of the test's own, in this process (list it before `open_page`)."""
    yield from own_server(agents, tmp_path)


async def on_duty(staff: AgentClient) -> None:
    await staff.connect()
    await staff.send({"t": "duty", "status": "available", "desk": "desk-2"})
    await staff.expect("duty", status="available")


def board_text(page: Any) -> dict[str, Any]:
    """What the accessible HTML equivalent says."""
    result: dict[str, Any] = page.evaluate(
        """() => ({
          calls: [...document.querySelectorAll('#board-calls li')].map(li => li.textContent),
          desks: Object.fromEntries([...document.querySelectorAll('#board-desks li')]
                                    .map(li => [li.dataset.desk, li.textContent])),
          live: document.getElementById('board-calls').getAttribute('aria-live'),
          visible: !document.getElementById('board-panel').hidden,
        })"""
    )
    return result


def test_desk_sign_and_board_show_the_called_ticket(
    sp: ServicePoint, open_page: Any, agents: AgentLoop, browser_without_webgl: Any
) -> None:
    en = open_page(base=url(sp))
    ja = open_page(base=url(sp), lang="ja-JP", on=browser_without_webgl)
    join(en, "Ada")
    join(ja, "Ken")
    s = wait_state(en, "s.deskBoard.received")
    assert s["deskBoard"]["view"] == "3d"
    assert s["deskBoard"]["signs"]["desk-2"][-1] == "Closed"
    assert s["deskBoard"]["display"] == ["Now serving", "No ticket has been called yet."]
    assert board_text(en)["desks"]["desk-2"] == "Registration (B, A) Closed"
    assert wait_state(ja, "s.deskBoard.received")["deskBoard"]["view"] == "2d"

    sara = staff_agent(sp, "Sara Lind")
    try:
        agents.run(on_duty(sara))
        s = wait_state(en, f"{DESK2}.staffed")
        assert s["deskBoard"]["signs"]["desk-2"] == [
            "Registration",
            "B · Address and registration",
            "A · General enquiries",
            "Open",
        ]
        assert board_text(en)["desks"]["desk-2"] == "Registration (B, A) Open"

        en.check("#service-choices input[value=general]")
        en.select_option("#service-lang", "en")
        en.click("#service-take")
        wait_state(en, "s.ticket && s.ticket.status === 'waiting'")
        agents.run(sara.send({"t": "call_next"}))
        agents.run(sara.expect("case", timeout=15))

        # English, 3D: the desk's sign, the hall's display and the HTML list.
        s = wait_state(en, f"{DESK2}.serving === 'A-001'")
        board = s["deskBoard"]
        assert board["calls"] == [{"ticket": "A-001", "desk": "desk-2"}]
        assert board["signs"]["desk-2"][-1] == "Now serving A-001"
        assert board["signs"]["desk-1"][-1] == "Closed"
        assert board["display"][:2] == ["Now serving", "Now serving A-001 at Registration"]
        text = board_text(en)
        assert text["visible"] and text["live"] == "polite"
        assert text["calls"] == ["A-001 at Registration"]
        assert text["desks"]["desk-2"] == "Registration (B, A) Now serving A-001"
        assert axe_violations(en) == []

        # Japanese, 2D map: the same facts in Japanese.
        s = wait_state(ja, f"{DESK2}.serving === 'A-001'")
        board = s["deskBoard"]
        assert board["signs"]["desk-2"] == [
            "住民登録",
            "B · 住所・住民登録",
            "A · 総合案内",
            "呼び出し中：A-001番",
        ]
        assert board["display"][1] == "A-001番の方は住民登録へどうぞ"
        # Japanese renders without a CJK font on the machine: the page ships Noto Sans JP.
        ja.wait_for_function(
            """() => [...document.fonts].some(f => f.family.includes('Noto Sans JP')
                                                 && f.status === 'loaded')"""
        )
        text = board_text(ja)
        assert text["calls"] == ["A-001番 → 住民登録"]
        assert text["desks"]["desk-2"] == "住民登録 (B, A) 呼び出し中：A-001番"

        # The English page switches to Swedish: signs and list follow at once.
        en.select_option("#lang-select", "sv")
        s = wait_state(en, "s.lang === 'sv'")
        assert s["deskBoard"]["signs"]["desk-2"][-1] == "Nu betjänas A-001"
        assert board_text(en)["calls"] == ["A-001 till Folkbokföring"]
    finally:
        agents.run(sara.close())
