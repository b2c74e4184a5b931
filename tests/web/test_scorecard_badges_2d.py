"""A staff member's badges in the 2D map view (no WebGL), as on the 3D name tag.

The server runs in this process (`running_server` on the agents' loop). The staff
member (a staff token in the link, then the join form) has finished the
angry-citizen scenario (one `completed` entry in the training feature's shared
stream, as a finished run writes it), so the scorecard awards "Training: difficult
conversation". A citizen's page in Chromium without WebGL draws the map; every
text the page draws on the view's canvas is recorded (`fillText`, wrapped by an
init script). The badge line is drawn under the staff member's label only while
the staff member chooses to show badges. Every wait is for an event or a state.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from server.app import ServicePoint
from server.features.scorecard.settings import SHIPPED_RULES
from tests.server.harness import mint
from tests.web.conftest import AgentLoop, join, own_server
from tests.web.test_scorecard_web import settle, url, wait_state

WAIT_MS = 20_000
SUBJECT = "sara.lind"
BADGE_EN = "Training: difficult conversation"
BADGE_SV = "Utbildning: svårt samtal"

# Records every text drawn on the view's canvas (the 2D map draws a whole frame each
# time, so after clear() the set holds what the next frames drew).
DRAWN_TEXTS = """(() => {
  const texts = new Set();
  const fillText = CanvasRenderingContext2D.prototype.fillText;
  CanvasRenderingContext2D.prototype.fillText = function (text, ...rest) {
    if (this.canvas && this.canvas.id === 'view') texts.add(String(text));
    return fillText.call(this, text, ...rest);
  };
  window.__drawn = { has: (t) => texts.has(t), clear: () => texts.clear(), all: () => [...texts] };
})();"""


@pytest.fixture
def sp(tmp_path: Path, agents: AgentLoop) -> Iterator[ServicePoint]:
    """A server of the test's own, in this process (list it before `open_page`)."""
    rules = tmp_path / "scorecard.toml"
    rules.write_text(SHIPPED_RULES.read_text(encoding="utf-8"), encoding="utf-8")
    sections: dict[str, dict[str, Any]] = {
        "scorecard": {"refresh_s": 0.05, "rules": str(rules)},
        "training": {"pregenerate": False},
    }
    yield from own_server(agents, tmp_path / "data", features=sections)


def finished_angry_citizen(sp: ServicePoint, agents: AgentLoop) -> None:
    """What a finished run appends to the training feature's shared stream."""
    training: Any = sp.feature("training")
    entry = {
        "type": "completed",
        "staff": "id:" + SUBJECT,  # a token's subject, as the server names the person
        "scenario": "angry-citizen",
        "score": "1.0000",
        "ts": repr(time.time()),
    }
    agents.run(training.ctx.store.append("completed", entry))
    agents.run(settle(sp))


def drawn(page: Any, text: str) -> bool:
    """Is `text` drawn in the frames after now? (waits until a whole frame was drawn)"""
    page.evaluate("window.__drawn.clear()")
    # The staff member's own label is in every frame: once it is drawn again, so is the rest.
    page.wait_for_function("() => window.__drawn.all().some((t) => t.startsWith('Sara Lind'))")
    return bool(page.evaluate("(t) => window.__drawn.has(t)", text))


def test_a_shown_badge_is_drawn_under_the_staff_label_in_the_2d_view(
    sp: ServicePoint, open_page: Any, agents: AgentLoop, browser_without_webgl: Any
) -> None:
    finished_angry_citizen(sp, agents)
    staff = open_page(
        f"/?token={mint('staff', 'Sara Lind', SUBJECT)}",
        base=url(sp),
        on=browser_without_webgl,
        init_script=DRAWN_TEXTS,
    )
    join(staff, "Sara Lind")
    s = wait_state(
        staff,
        "s.scorecard.progress && s.scorecard.progress.badges"
        " && s.scorecard.progress.badges.some((b) => b.id === 'training-difficult-conversation')",
    )
    assert s["view"] == "2d"
    assert s["scorecard"]["progress"]["settings"]["show_badges"] is False

    citizen = open_page("/", base=url(sp), on=browser_without_webgl, init_script=DRAWN_TEXTS)
    join(citizen, "Ada")
    staff_id = s["selfId"]
    wait_state(citizen, f"{staff_id} in s.others")
    assert wait_state(citizen, "true")["view"] == "2d"
    # Not chosen: the label is drawn, the badge is not.
    assert not drawn(citizen, BADGE_EN)
    assert citizen.evaluate("window.__drawn.has('Sara Lind · Staff')")

    # The staff member chooses to show their badges: the citizen's map draws the line.
    staff.check("#sc-badges-toggle")
    wait_state(citizen, f"(s.scorecard.tagBadges[{staff_id}] || []).length === 1")
    assert drawn(citizen, BADGE_EN)
    assert drawn(staff, BADGE_EN)  # and the staff member's own map
    # In the citizen's language.
    citizen.select_option("#lang-select", "sv")
    citizen.wait_for_function("() => document.documentElement.lang === 'sv'")
    assert drawn(citizen, BADGE_SV)

    # Opted out again: the line is gone from the map.
    staff.uncheck("#sc-badges-toggle")
    wait_state(citizen, f"!({staff_id} in s.scorecard.tagBadges)")
    assert not drawn(citizen, BADGE_SV)
    assert not drawn(citizen, BADGE_EN)
    assert not drawn(staff, BADGE_EN)
