"""An event attended inside an immersive WebXR session, in real Chromium.

The citizen's page gets an emulated Meta Quest 3 (iwer, as in test_training_xr) and
enters VR with the page's own button. A host (a minted role token, in a second page)
runs a live event and attends it. In VR the citizen teleports to the events board in
the lobby; the in-world panel (features/events/xr-panel.js) offers the live event's
"Join", selected with the controller's ray and trigger. Attending, the panel shows the
title and the room, "Raise my hand" / "Lower my hand" and "Leave". The raised hand
reaches the host (event_hands, the host's queue), the lowered one leaves it; the host
promotes the citizen, the consent question floats in VR (xr-consent.js, the panel put
away meanwhile) and nothing opens the microphone until "Accept" is selected there:
the server then has the citizen on stage (the host's event_stage). "Leave" on the
panel ends the attendance (the host's stage and queue are empty again). Every wait is
for a state or a message.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from server.app import ServicePoint
from tests.server.harness import mint
from tests.web.conftest import AgentLoop, join, own_server
from tests.web.test_events_web import create_event, join_event, open_hall, wait_level
from tests.web.test_scorecard_web import state, url, wait_state
from tests.web.test_training_xr import (
    INSTALL_DEVICE,
    IWER,
    WAIT_MS,
    enter_vr,
    pull_trigger,
    quaternion_towards,
    teleport,
    xr_browser,  # noqa: F401  (the fixture)
)

BOARD_STAND = (-42.5, -8.0)  # in front of the lobby's events board (board.js: boardSpot)
HOP_M = 5.0  # a teleport within the controller ray's reach (xr.js: 8 m)


@pytest.fixture
def sp(tmp_path: Path, agents: AgentLoop) -> Iterator[ServicePoint]:
    """A server of the test's own, in this process (listed before `open_page`)."""
    yield from own_server(agents, tmp_path / "data")


def aim(page: Any, targets: str, hovered: str, button_id: str) -> None:
    """Point the right controller at ``button_id`` from 40 cm in front of it (``targets``:
    a state expression giving [{id, at, normal}] in rig space), the left one at the
    floor; waits until the page reports the ray on it (``hovered``: a list of ids)."""
    s = wait_state(page, f"({targets}).some((b) => b.id === '{button_id}')")
    for key in targets.split(".")[1:]:
        s = s[key]
    [found] = [b for b in s if b["id"] == button_id]
    at, normal = found["at"], found["normal"]
    position = [a + n * 0.4 for a, n in zip(at, normal, strict=True)]
    q = quaternion_towards((-normal[0], -normal[1], -normal[2]))
    page.evaluate(
        """([p, q]) => {
          const { left, right } = window.__xrDevice.controllers;
          right.position.set(p[0], p[1], p[2]);
          right.quaternion.set(q[0], q[1], q[2], q[3]);
          left.position.set(-0.3, 1.0, -0.1);
          left.quaternion.set(-Math.SQRT1_2, 0, 0, Math.SQRT1_2);
        }""",
        [position, list(q)],
    )
    wait_state(page, f"({hovered}).includes('{button_id}')", WAIT_MS)


def press(page: Any, button_id: str) -> None:
    """Select a button of the events VR panel."""
    aim(page, "s.events.xr.buttons", "s.events.xr.hovered", button_id)
    pull_trigger(page)


def answer_consent(page: Any, button_id: str) -> None:
    """Select "accept" or "decline" in the VR consent prompt."""
    aim(page, "s.events.consent.xr.at", "s.events.consent.xr.hovered", button_id)
    pull_trigger(page)


def walk_to(page: Any, x: float, z: float) -> None:
    """Teleport in hops the controller's ray reaches."""
    for _ in range(6):
        me = state(page)["self"]
        d = math.hypot(x - me["x"], z - me["z"])
        if d < 0.3:
            return
        k = min(1.0, HOP_M / d)
        teleport(page, me["x"] + (x - me["x"]) * k, me["z"] + (z - me["z"]) * k)
    me = state(page)["self"]
    assert math.hypot(me["x"] - x, me["z"] - z) < 0.3, (me, (x, z))


def test_an_event_is_joined_and_spoken_at_from_the_vr_panel(
    sp: ServicePoint,
    open_page: Any,
    xr_browser: Any,  # noqa: F811
) -> None:
    assert IWER.is_file(), "iwer is missing: run `npm ci` in clients/web"
    host = open_hall(open_page, sp, xr_browser, "Hanna", token=mint("host", "Hanna Värd"))
    event = create_event(host, "Town hall in VR")
    join_event(host, event)
    wait_state(host, "s.events.host.host && s.events.host.hands.length === 0")

    page = open_page(
        "/",
        base=url(sp),
        on=xr_browser,
        init_script=IWER.read_text(encoding="utf-8") + INSTALL_DEVICE,
    )
    me = join(page, "Cilla")["selfId"]
    wait_state(page, f"s.events.schedule.some((e) => e.id === {event} && e.status === 'live')")
    # Outside VR there is no 3D panel.
    assert state(page)["events"]["xr"]["visible"] is False

    enter_vr(page)
    walk_to(page, *BOARD_STAND)
    s = wait_state(page, "s.events.near && s.events.xr.visible && s.events.xr.mode === 'join'")
    xr = s["events"]["xr"]
    assert xr["title"] == "Town hall in VR"
    assert [(b["id"], b["label"]) for b in xr["buttons"]] == [("join", "Join the event")]
    # In front of the headset, facing it.
    for b in xr["buttons"]:
        bx, by, bz = b["at"]
        assert -1.6 < bz < -0.9 and 0.6 < by < 1.8 and abs(bx) < 0.6
        assert b["normal"][2] > 0.8
    before = s["self"]

    press(page, "join")
    s = wait_state(page, f"s.events.attending && s.events.attending.event === {event}")
    s = wait_state(page, "s.events.xr.visible && s.events.xr.mode === 'attend'")
    # Seated by the server in the auditorium (a select on a button never walks).
    assert s["walkingTo"] is None and s["self"] != before and s["self"]["x"] > 20
    xr = s["events"]["xr"]
    assert xr["title"] == "Town hall in VR"
    assert xr["room"] == "Main auditorium"
    assert [(b["id"], b["label"]) for b in xr["buttons"]] == [
        ("hand", "Raise my hand"),
        ("leave", "Leave"),
    ]
    # The stage's sound plays in VR: the host (on stage, the fake microphone's beep)
    # is heard on the page's listening path, and the host's avatar shows it.
    host_id = state(host)["selfId"]
    wait_state(host, "s.events.sound.publish === 'connected' && s.events.sound.micOpen")
    wait_level(page, host_id, above=0.001)
    wait_state(page, f"s.avatars.speaking.includes({host_id})")
    assert state(page)["events"]["xr"]["visible"]  # still in the VR session, panel shown

    # The hand, up: the host's queue (event_hands) has the citizen; down: it is empty.
    press(page, "hand")
    s = wait_state(host, f"s.events.host.hands.some((p) => p.id === {me})")
    assert [p["name"] for p in s["events"]["host"]["hands"]] == ["Cilla"]
    s = wait_state(page, "s.events.you && s.events.you.hand")
    s = wait_state(page, "s.events.xr.buttons.some((b) => b.label === 'Lower my hand')")
    press(page, "hand")
    wait_state(host, "s.events.host.hands.length === 0")
    wait_state(page, "s.events.xr.buttons.some((b) => b.label === 'Raise my hand')")
    press(page, "hand")
    wait_state(host, f"s.events.host.hands.some((p) => p.id === {me})")

    # The host invites the citizen on stage: the consent question floats in VR, the
    # panel is put away; the microphone stays closed until the answer.
    host.click(f"#ev-host-hands li[data-id='{me}'] button[data-action=promote]")
    s = wait_state(page, "s.events.consent.open && s.events.consent.xr.visible")
    assert s["events"]["consent"]["mode"] == "invite"
    assert s["events"]["consent"]["xr"]["buttons"] == ["accept", "decline"]
    assert s["events"]["consent"]["consented"] is False
    assert s["events"]["sound"]["micOpen"] is False
    s = wait_state(page, "!s.events.xr.visible")
    assert s["events"]["xr"]["mode"] is None
    assert s["events"]["sound"]["micOpen"] is False
    assert me not in [p["id"] for p in state(host)["events"]["stage"]["speakers"]]

    answer_consent(page, "accept")
    s = wait_state(host, f"s.events.stage.speakers.some((p) => p.id === {me})")
    assert "Cilla" in [p["name"] for p in s["events"]["stage"]["speakers"]]
    s = wait_state(page, "s.events.you.speaker && s.events.consent.consented")
    assert not s["events"]["consent"]["open"] and not s["events"]["consent"]["xr"]["visible"]
    # On stage: no hand to raise, only "Leave".
    s = wait_state(page, "s.events.xr.visible && s.events.xr.buttons.length === 1")
    assert [b["id"] for b in s["events"]["xr"]["buttons"]] == ["leave"]

    press(page, "leave")
    wait_state(page, "s.events.attending === null")
    wait_state(host, f"!s.events.stage.speakers.some((p) => p.id === {me})")
    # Still at the board, the event still live: "Join" again.
    wait_state(page, "s.events.xr.visible && s.events.xr.mode === 'join'")
