"""The practice desk inside an immersive WebXR session, in real Chromium.

Chromium has no headset here, so the page gets an emulated Meta Quest 3: iwer
(clients/web/node_modules/iwer, the Immersive Web Emulation Runtime) is loaded by
an init script before the page's own modules and installs its WebXR runtime as
`navigator.xr`. The staff member starts the angry-citizen scenario in the DOM panel
and enters VR with the page's own "Enter VR" button; the in-world panel
(features/training/xr-panel.js) then shows the citizen's line and the answers as 3D
buttons. The test points the emulated right controller at a button (its position
and facing come from the test hook, in the headset's reference space), waits until
the page reports the ray on it, and pulls the trigger: the page raycasts on the
`select` event and sends the same `training_choice` as the DOM button, so the
server's next line arrives; the second answer ends the run and the panel shows the
debrief. Selecting a button never teleports.

A scenario is also started entirely in VR: in the session, the staff member
teleports (the controller's ray on the floor, the trigger) to a practice desk; the
panel offers the scenarios, the citizen's languages and "Start", chosen with the
controller, and the run starts at that desk (the server has it; the first line is
on the panel). A desk another staff member holds is refused by the server and the
panel says so in the UI language. Every wait is for an event or a state.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from server.app import ServicePoint
from tests.server.harness import mint
from tests.web.conftest import MEDIA_ARGS, WEB, WEBGL_ARGS, AgentLoop, _launch, join, own_server
from tests.web.test_scorecard_web import state, url, wait_state

WAIT_MS = 30_000
WALK_MS = 90_000  # a walk across the hall (at walking speed, around walls)
IWER = WEB / "node_modules" / "iwer" / "build" / "iwer.js"
OPENING_EN = "I have waited for an hour and nobody helps me!"
OPENING_SV = "Jag har väntat i en timme och ingen hjälper mig!"
CALMER_EN = "Fine. I need a new ID card, my old one was stolen."

# After iwer's bundle (the global IWER): an emulated Quest 3 as navigator.xr, also
# over Chromium's own (which has no device to offer).
INSTALL_DEVICE = """
(() => {
  const device = new IWER.XRDevice(IWER.metaQuest3);
  device.installRuntime({ forceInstall: true });
  window.__xrDevice = device;
})();
"""


@pytest.fixture(scope="module")
def xr_browser(playwright: Any) -> Iterator[Any]:
    """Chromium with WebGL (SwiftShader: the 3D view, hence VR) and a fake microphone
    (the practice desk's call connects voice, as in test_training_web)."""
    b = _launch(playwright, [*WEBGL_ARGS, *MEDIA_ARGS])
    yield b
    b.close()


@pytest.fixture
def sp(tmp_path: Path, agents: AgentLoop) -> Iterator[ServicePoint]:
    """A server of the test's own, in this process (list it before `open_page`)."""
    yield from own_server(agents, tmp_path / "data", features={"training": {"pregenerate": False}})


def quaternion_towards(d: tuple[float, float, float]) -> tuple[float, float, float, float]:
    """The rotation turning the controller's ray (0, 0, -1) towards ``d``: (x, y, z, w)."""
    n = math.sqrt(sum(c * c for c in d))
    dx, dy, dz = (c / n for c in d)
    # a = (0, 0, -1): cross(a, d) = (dy, -dx, 0), dot(a, d) = -dz.
    x, y, z, w = dy, -dx, 0.0, 1.0 - dz
    if w < 1e-9:  # opposite: half a turn about y
        return (0.0, 1.0, 0.0, 0.0)
    m = math.sqrt(x * x + y * y + z * z + w * w)
    return (x / m, y / m, z / m, w / m)


def aim_at(page: Any, button_id: str) -> None:
    """Point the right controller at the panel's button from 40 cm in front of it; the
    left one at the floor. Waits until the page reports the right ray on the button."""
    s = wait_state(page, f"s.training.xr.buttons.some((b) => b.id === '{button_id}')")
    [button] = [b for b in s["training"]["xr"]["buttons"] if b["id"] == button_id]
    at, normal = button["at"], button["normal"]
    position = [a + n * 0.4 for a, n in zip(at, normal, strict=True)]
    q = quaternion_towards((-normal[0], -normal[1], -normal[2]))
    page.evaluate(
        """([p, q]) => {
          const { left, right } = window.__xrDevice.controllers;
          right.position.set(p[0], p[1], p[2]);
          right.quaternion.set(q[0], q[1], q[2], q[3]);
          left.position.set(-0.3, 1.0, -0.1);
          left.quaternion.set(-Math.SQRT1_2, 0, 0, Math.SQRT1_2);  // straight down
        }""",
        [position, list(q)],
    )
    wait_state(page, f"s.training.xr.hovered.includes('{button_id}')", WAIT_MS)


def pull_trigger(page: Any) -> None:
    """Press the right trigger (iwer fires `select` on the press) and let it go again."""
    page.evaluate("window.__xrDevice.controllers.right.updateButtonValue('trigger', 1)")
    # Two animation frames: iwer applies the value at a frame's start.
    page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
    page.evaluate("window.__xrDevice.controllers.right.updateButtonValue('trigger', 0)")
    page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")


def test_choices_are_selected_with_the_controller_in_vr(
    sp: ServicePoint, open_page: Any, xr_browser: Any
) -> None:
    assert IWER.is_file(), "iwer is missing: run `npm ci` in clients/web"
    page = open_page(
        f"/?token={mint('staff', 'Sara Lind')}",
        base=url(sp),
        on=xr_browser,
        init_script=IWER.read_text(encoding="utf-8") + INSTALL_DEVICE,
    )
    join(page, "Sara Lind")
    s = wait_state(page, "s.training.visible && s.training.scenarios.length")
    assert s["view"] == "3d"
    page.wait_for_selector("#vr-button", state="visible")
    assert page.text_content("#vr-button") == "Enter VR"
    # Outside VR there is no 3D panel: the DOM panel is the UI.
    assert s["training"]["xr"]["visible"] is False

    page.select_option("#tr-scenario", "angry-citizen")
    page.select_option("#tr-lang", "en")
    page.click("#tr-start")
    wait_state(page, "s.training.line && s.training.line.node === 'opening'", WAIT_MS)
    assert page.text_content("#tr-line") == OPENING_EN

    # Into VR with the page's own button: the run is now shown in the world.
    page.click("#vr-button")
    s = wait_state(page, "s.training.xr.visible && s.training.xr.mode === 'line'", WAIT_MS)
    assert page.text_content("#vr-button") == "Exit VR"
    xr = s["training"]["xr"]
    assert xr["text"] == OPENING_EN
    ids = [b["id"] for b in xr["buttons"]]
    assert ids == ["acknowledge", "calm_down", "rules", "repeat", "stop"]
    labels = {b["id"]: b["label"] for b in xr["buttons"]}
    assert labels["acknowledge"].startswith("I understand")
    assert labels["stop"] == "Stop"
    # In front of the headset (iwer's starts at (0, 1.6, 0) facing -z), facing it.
    for b in xr["buttons"]:
        x, y, z = b["at"]
        assert -1.6 < z < -0.9 and 0.6 < y < 1.8 and abs(x) < 0.6
        assert b["normal"][2] > 0.9
    before = s["self"]

    aim_at(page, "acknowledge")
    pull_trigger(page)
    s = wait_state(page, "s.training.line.node === 'calmer'", WAIT_MS)
    assert s["training"]["error"] is None
    s = wait_state(page, f"s.training.xr.text === {CALMER_EN!r}", WAIT_MS)
    ids = [b["id"] for b in s["training"]["xr"]["buttons"]]
    assert ids == ["explain", "refer", "repeat", "stop"]
    # The select went to the button: the avatar did not walk.
    assert s["walkingTo"] is None
    assert s["self"] == before

    aim_at(page, "explain")
    pull_trigger(page)
    s = wait_state(page, "s.training.debrief && s.training.xr.mode === 'debrief'", WAIT_MS)
    assert s["training"]["debrief"]["score"] == 1.0
    xr = s["training"]["xr"]
    assert xr["visible"]
    assert "100" in xr["score"]
    assert [row[0] for row in xr["rubric"]] == ["Empathy", "De-escalation", "Resolution"]
    assert [b["id"] for b in xr["buttons"]] == ["close"]

    # "Close" puts the debrief away (the DOM keeps it); standing at the practice desk,
    # the panel offers to practise again; its "Close" puts that away too.
    aim_at(page, "close")
    pull_trigger(page)
    s = wait_state(page, "s.training.xr.visible && s.training.xr.mode === 'start'")
    assert s["training"]["debrief"] is not None
    assert s["walkingTo"] is None
    assert s["training"]["xr"]["start"]["desk"] == s["training"]["running"]["desk"]
    aim_at(page, "close")
    pull_trigger(page)
    s = wait_state(page, "!s.training.xr.visible")
    assert s["training"]["xr"]["mode"] is None
    assert s["walkingTo"] is None

    # Out of VR again.
    page.evaluate("document.getElementById('vr-button').click()")
    page.wait_for_function("() => document.getElementById('vr-button').textContent === 'Enter VR'")


def next_frames(page: Any) -> None:
    """Two animation frames (iwer applies a pose or a button at a frame's start)."""
    page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")


def enter_vr(page: Any, exit_label: str = "Exit VR") -> None:
    """The page's own "Enter VR" button; waits until the session runs (the button then
    says ``exit_label``)."""
    page.wait_for_selector("#vr-button", state="visible")
    page.click("#vr-button")
    page.wait_for_function(
        "(l) => document.getElementById('vr-button').textContent === l", arg=exit_label
    )


def teleport(page: Any, x: float, z: float) -> None:
    """Point the right controller at the floor at (x, z) and pull the trigger: the avatar
    walks there (xr.js). The rig stands where the avatar does, so the ray aims from
    the controller (in rig space) at the point's offset from the avatar. Waits until
    the avatar arrived; when the walk stopped short (the server corrected a step by
    more than a metre, which ends a walk), points and pulls again from there."""
    position = (0.2, 1.2, -0.2)
    for _ in range(5):
        me = state(page)["self"]
        if math.hypot(me["x"] - x, me["z"] - z) < 0.3:
            return
        q = quaternion_towards((x - me["x"] - position[0], -position[1], z - me["z"] - position[2]))
        page.evaluate(
            """([p, q]) => {
              const { right } = window.__xrDevice.controllers;
              right.position.set(p[0], p[1], p[2]);
              right.quaternion.set(q[0], q[1], q[2], q[3]);
            }""",
            [list(position), list(q)],
        )
        next_frames(page)
        pull_trigger(page)
        there = f"Math.hypot(s.self.x - ({x}), s.self.z - ({z})) < 0.3"
        s = wait_state(page, f"s.walkingTo || {there}")
        goal = s["walkingTo"]
        if goal:  # the ray's floor point is where it walks
            assert math.hypot(goal["x"] - x, goal["z"] - z) < 0.05, (goal, (x, z))
        wait_state(page, "!s.walkingTo", WALK_MS)
    me = state(page)["self"]
    assert math.hypot(me["x"] - x, me["z"] - z) < 0.3, (me, (x, z))


def desk_position(sp: ServicePoint, desk_id: str) -> tuple[float, float]:
    training: Any = sp.feature("training")
    desk = training.ctx.world.practice_desk(desk_id)
    return float(desk.position[0]), float(desk.position[1])


def server_runs(sp: ServicePoint, agents: AgentLoop) -> list[tuple[str, str, str, str, str]]:
    """The server's training runs: (staff name, desk, scenario, lang, ui)."""
    training: Any = sp.feature("training")

    async def snapshot() -> list[tuple[str, str, str, str, str]]:
        return [
            (r.staff.name, r.desk.id, r.scenario.id, r.lang, r.ui) for r in training.runs.values()
        ]

    runs: list[tuple[str, str, str, str, str]] = agents.run(snapshot())
    return runs


def vr_staff(sp: ServicePoint, open_page: Any, xr_browser: Any, name: str) -> Any:
    assert IWER.is_file(), "iwer is missing: run `npm ci` in clients/web"
    page = open_page(
        f"/?token={mint('staff', name)}",
        base=url(sp),
        on=xr_browser,
        init_script=IWER.read_text(encoding="utf-8") + INSTALL_DEVICE,
    )
    join(page, name)
    wait_state(page, "s.training.visible && s.training.scenarios.length && s.training.desks.length")
    return page


def test_a_scenario_is_started_in_vr_at_a_practice_desk(
    sp: ServicePoint, open_page: Any, xr_browser: Any, agents: AgentLoop
) -> None:
    page = vr_staff(sp, open_page, xr_browser, "Sara Lind")
    enter_vr(page)
    # At the entrance, far from the practice desks: no panel.
    s = wait_state(page, "s.self && s.walkingTo === null")
    assert s["training"]["xr"]["visible"] is False
    assert s["training"]["xr"]["mode"] is None

    x, z = desk_position(sp, "practice-2")
    teleport(page, x, z)
    s = wait_state(page, "s.training.xr.visible && s.training.xr.mode === 'start'", WAIT_MS)
    xr = s["training"]["xr"]
    ids = [b["id"] for b in xr["buttons"]]
    scenario_ids = [sc["id"] for sc in s["training"]["scenarios"]]
    assert ids == [
        *(f"scenario:{i}" for i in scenario_ids),
        *(f"lang:{lang}" for lang in ["sv", "da", "de", "ja", "en"]),
        "start",
        "close",
    ]
    labels = {b["id"]: b["label"] for b in xr["buttons"]}
    assert labels["scenario:angry-citizen"] == "Angry citizen"
    assert labels["lang:sv"] == "Swedish" and labels["lang:ja"] == "Japanese"
    assert labels["start"] == "Start"
    # The first scenario and the UI language are chosen to begin with; marked as chosen.
    assert xr["start"] == {"desk": "practice-2", "scenario": scenario_ids[0], "lang": "en"}
    chosen = {b["id"] for b in xr["buttons"] if b["selected"]}
    assert chosen == {f"scenario:{scenario_ids[0]}", "lang:en"}
    # In front of the headset, facing it.
    for b in xr["buttons"]:
        bx, by, bz = b["at"]
        assert -1.6 < bz < -0.9 and 0.4 < by < 1.8 and abs(bx) < 0.6
        assert b["normal"][2] > 0.9
    before = s["self"]

    # Another scenario, then the one to run, then the citizen's language.
    aim_at(page, "scenario:complex-permit")
    pull_trigger(page)
    wait_state(page, "s.training.xr.start && s.training.xr.start.scenario === 'complex-permit'")
    aim_at(page, "scenario:angry-citizen")
    pull_trigger(page)
    wait_state(page, "s.training.xr.start && s.training.xr.start.scenario === 'angry-citizen'")
    aim_at(page, "lang:sv")
    pull_trigger(page)
    s = wait_state(page, "s.training.xr.start && s.training.xr.start.lang === 'sv'")
    chosen = {b["id"] for b in s["training"]["xr"]["buttons"] if b["selected"]}
    assert chosen == {"scenario:angry-citizen", "lang:sv"}
    # Choosing never walks.
    assert s["walkingTo"] is None
    assert s["self"] == before
    assert server_runs(sp, agents) == []

    aim_at(page, "start")
    pull_trigger(page)
    s = wait_state(page, "s.training.running && s.training.running.desk === 'practice-2'")
    assert s["training"]["running"] == {
        "scenario": "angry-citizen",
        "desk": "practice-2",
        "lang": "sv",
    }
    # The simulated citizen arrives and says its first line: on the panel.
    s = wait_state(
        page, f"s.training.xr.mode === 'line' && s.training.xr.text === {OPENING_SV!r}", WAIT_MS
    )
    assert s["training"]["error"] is None
    assert s["training"]["line"]["node"] == "opening"
    ids = [b["id"] for b in s["training"]["xr"]["buttons"]]
    assert ids == ["acknowledge", "calm_down", "rules", "repeat", "stop"]
    assert server_runs(sp, agents) == [("Sara Lind", "practice-2", "angry-citizen", "sv", "en")]

    # "Stop" on the panel ends it (the server says so); after "Close", at the (free)
    # desk, the start view is back.
    aim_at(page, "stop")
    pull_trigger(page)
    wait_state(page, "s.training.ended && s.training.xr.mode === 'ended'", WAIT_MS)
    assert server_runs(sp, agents) == []
    aim_at(page, "close")
    pull_trigger(page)
    s = wait_state(page, "s.training.xr.visible && s.training.xr.mode === 'start'")
    assert s["training"]["xr"]["start"]["desk"] == "practice-2"

    page.evaluate("document.getElementById('vr-button').click()")
    page.wait_for_function("() => document.getElementById('vr-button').textContent === 'Enter VR'")
    s = wait_state(page, "!s.training.xr.visible")
    assert s["training"]["xr"]["buttons"] == []


def test_a_refused_start_in_vr_is_shown_on_the_panel(
    sp: ServicePoint, open_page: Any, xr_browser: Any, agents: AgentLoop
) -> None:
    # Another staff member runs a scenario at practice desk 2 (the DOM form), then
    # walks off to the entrance: the run, and the desk, stay theirs.
    omar = open_page(f"/?token={mint('staff', 'Omar Berg')}", base=url(sp), on=xr_browser)
    join(omar, "Omar Berg")
    wait_state(omar, "s.training.visible && s.training.scenarios.length && s.training.desks.length")
    omar.select_option("#tr-scenario", "angry-citizen")
    omar.select_option("#tr-lang", "en")
    omar.select_option("#tr-desk", "practice-2")
    omar.click("#tr-start")
    wait_state(omar, "s.training.line && s.training.line.node === 'opening'", WAIT_MS)
    omar.click("#places button[data-place=entrance]")
    wait_state(omar, "s.walkingTo")
    wait_state(omar, "!s.walkingTo", WALK_MS)
    assert server_runs(sp, agents) == [("Omar Berg", "practice-2", "angry-citizen", "en", "en")]

    # Sara, in German, in VR at that desk: nobody stands at it, so the panel offers it.
    page = vr_staff(sp, open_page, xr_browser, "Sara Lind")
    page.select_option("#lang-select", "de")
    page.wait_for_function("() => document.documentElement.lang === 'de'")
    enter_vr(page, "VR beenden")
    x, z = desk_position(sp, "practice-2")
    teleport(page, x, z)
    s = wait_state(page, "s.training.xr.visible && s.training.xr.mode === 'start'", WAIT_MS)
    labels = {b["id"]: b["label"] for b in s["training"]["xr"]["buttons"]}
    assert labels["start"] == "Starten"
    assert labels["lang:sv"] == "Schwedisch"
    assert s["training"]["xr"]["start"]["desk"] == "practice-2"

    aim_at(page, "start")
    pull_trigger(page)
    wait_state(page, "s.training.error === 'practice_desk_taken'", WAIT_MS)
    de = json.loads((WEB / "src/features/training/messages/de.json").read_text(encoding="utf-8"))
    s = wait_state(page, "s.training.xr.error !== null && s.training.xr.mode === 'start'")
    assert s["training"]["xr"]["error"] == de["error.practice_desk_taken"]
    assert s["training"]["xr"]["visible"]
    assert s["training"]["running"] is None
    assert server_runs(sp, agents) == [("Omar Berg", "practice-2", "angry-citizen", "en", "en")]
