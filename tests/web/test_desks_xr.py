"""A citizen takes a queue ticket and answers "It's your turn" inside an immersive
WebXR session, in real Chromium with an emulated headset (iwer, as in
test_training_xr).

The hall is the shipped one with the spawn moved a few metres from the Reception
desk (so the walk stays short). In VR the citizen teleports (the controller's ray
on the floor, the trigger) to the spot in front of the desk: the desk's kiosk opens
(the same ServicePanel as in 2D) and the in-world panel (features/desks/xr-panel.js)
offers its services and the languages. Selecting Swedish and then the service
button sends the same `take_ticket` as the DOM form: the server's queue has the
ticket, the panel shows its number and place. A staff agent calls it: the panel says
"It's your turn" with the desk; "Walk me there" walks there and answers, so the
ticket is being served (on the server too) and the panel shows the desk call's
members. The staff member's voice (a real aiortc peer sending a tone) then plays
in the call while the VR session runs. Every wait is for an event or a state.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agents.voice_peer import VoicePeer
from server.app import ServicePoint
from tests.server.harness import staff_agent
from tests.web.conftest import AgentLoop, docs_screenshot, join, own_server, url, wait_state
from tests.web.test_desk import call_next, on_duty
from tests.web.test_events_xr import aim, walk_to
from tests.web.test_training_xr import (
    INSTALL_DEVICE,
    IWER,
    WAIT_MS,
    enter_vr,
    pull_trigger,
    xr_browser,  # noqa: F401  (the fixture)
)

WORLD = Path(__file__).parents[2] / "server" / "data" / "world.toml"
SPAWN = (-12.0, -21.0)  # 7 m in front of Reception (desk-1), out of its kiosk's reach


@pytest.fixture
def sp(tmp_path: Path, agents: AgentLoop) -> Iterator[ServicePoint]:
    """A server of the test's own with the spawn near Reception (listed before `open_page`)."""
    world = tmp_path / "world.toml"
    text = WORLD.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^spawn = .*$", f"spawn = [{SPAWN[0]}, {SPAWN[1]}]", text, count=1)
    text = re.sub(r"(?m)^spawn_radius = .*$", "spawn_radius = 0.5", text, count=1)
    world.write_text(text, encoding="utf-8")
    yield from own_server(agents, tmp_path / "data", world_path=world)


def press(page: Any, button_id: str) -> None:
    """Select a button of the desks' VR panel with the right controller."""
    aim(page, "s.deskXr.buttons", "s.deskXr.hovered", button_id)
    pull_trigger(page)


def server_ticket(sp: ServicePoint, agents: AgentLoop, number: str) -> tuple[str, str, str]:
    """The server's ticket ``number``: (status, service, lang)."""
    desks: Any = sp.feature("desks")

    async def snapshot() -> tuple[str, str, str]:
        t = desks.service.queue.tickets[number]
        return (t.status, t.service, t.lang)

    found: tuple[str, str, str] = agents.run(snapshot())
    return found


def test_a_ticket_is_taken_and_answered_in_vr(
    sp: ServicePoint,
    open_page: Any,
    xr_browser: Any,  # noqa: F811
    agents: AgentLoop,
) -> None:
    assert IWER.is_file(), "iwer is missing: run `npm ci` in clients/web"
    page = open_page(
        "/",
        base=url(sp),
        on=xr_browser,
        init_script=IWER.read_text(encoding="utf-8") + INSTALL_DEVICE,
    )
    join(page, "Ada")
    enter_vr(page)
    s = wait_state(page, "s.self && s.walkingTo === null")
    assert s["deskXr"]["visible"] is False and s["kiosk"] is None

    # Teleport to the citizens' spot in front of Reception: its kiosk, in the world.
    walk_to(page, -12.0, -28.0)  # desk-1 at (-12, -30) faces +z: 2 m in front of it
    s = wait_state(page, "s.deskXr.visible && s.deskXr.mode === 'kiosk'", WAIT_MS)
    assert s["kiosk"] == "desk-1"
    xr = s["deskXr"]
    assert xr["title"] == "Ticket kiosk at the Reception desk"
    ids = [b["id"] for b in xr["buttons"]]
    langs = ["sv", "da", "de", "ja", "en", "fi", "ar", "so", "uk"]
    assert ids == [*(f"lang:{code}" for code in langs), "service:general"]
    labels = {b["id"]: b["label"] for b in xr["buttons"]}
    assert labels["service:general"] == "A General enquiries"
    assert labels["lang:sv"] == "Swedish"
    assert {b["id"] for b in xr["buttons"] if b["selected"]} == {"lang:en"}  # the UI language
    for b in xr["buttons"]:  # in front of the headset, facing it
        bx, by, bz = b["at"]
        assert -1.6 < bz < -0.9 and 0.3 < by < 1.8 and abs(bx) < 0.6
        assert b["normal"][2] > 0.9
    before = s["self"]

    press(page, "lang:sv")
    s = wait_state(page, "s.deskXr.buttons.some((b) => b.id === 'lang:sv' && b.selected)")
    assert s["self"] == before and s["walkingTo"] is None  # choosing never walks
    press(page, "service:general")
    s = wait_state(page, "s.ticket && s.ticket.status === 'waiting' && s.deskXr.mode === 'ticket'")
    assert s["ticket"]["ticket"] == "A-001" and s["ticket"]["lang"] == "sv"
    assert server_ticket(sp, agents, "A-001") == ("waiting", "general", "sv")
    docs_screenshot(page, "vr-ticket")
    xr = s["deskXr"]
    assert xr["title"] == "Ticket number: A-001"
    assert "Status: Waiting" in xr["lines"]
    assert any(line.startswith("Place in the queue: 1") for line in xr["lines"])
    assert [b["id"] for b in xr["buttons"]] == ["leave"]

    sara = staff_agent(sp)
    peer = VoicePeer("staff", tone_hz=660.0)

    async def signal(offer: str) -> str:
        await sara.send({"t": "rtc_offer", "sdp": offer})
        answer = await sara.expect("rtc_answer", timeout=15)
        return str(answer["sdp"])

    try:
        agents.run(on_duty(sara, "desk-1"))
        case = agents.run(call_next(sara))
        assert case["ticket"] == "A-001" and case["name"] == "Ada"
        s = wait_state(page, "s.called && s.deskXr.mode === 'called'", WAIT_MS)
        xr = s["deskXr"]
        assert xr["title"] == "It’s your turn!"
        assert "It’s your turn — go to the Reception desk. Ticket A-001." in xr["lines"]
        assert [b["id"] for b in xr["buttons"]] == ["walk", "coming"]
        assert {b["id"]: b["label"] for b in xr["buttons"]}["walk"] == "Walk me there"

        press(page, "walk")
        s = wait_state(page, "s.ticket.status === 'serving' && s.call", WAIT_MS)
        assert server_ticket(sp, agents, "A-001")[0] == "serving"
        assert s["called"] is None  # the call notice is gone
        s = wait_state(page, "s.deskXr.mode === 'call' && s.deskXr.visible")
        xr = s["deskXr"]
        assert xr["title"] == "Desk call: Reception"
        assert "• Ada (you)" in xr["lines"] and "• Sara Lind" in xr["lines"]
        assert xr["buttons"] == []

        # The desk's voice plays in VR: Sara's tone (a real aiortc peer) reaches the
        # page's call while the session runs, and her avatar shows that she speaks.
        agents.run(peer.connect(signal))
        agents.run(peer.wait_connected(20))
        wait_state(page, "s.voice.state === 'connected'", WAIT_MS)
        wait_state(page, f"s.avatars.speaking.includes({sara.id})", WAIT_MS)
        assert page.text_content("#vr-button") == "Exit VR"  # still in the VR session
    finally:
        agents.run(peer.close())
        agents.run(sara.close())
