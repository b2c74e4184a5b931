"""The hall built from the world file, in real Chromium (hall3d.js, view2d.js).

The page joins a server; the hall it builds is read through the test hook
(``window.servicepoint.hallScene()``: what hall3d.js built, and
``hallDrawCalls()``: the draw calls of the hall alone, everything else hidden for
one render). The world file the server was given is read here to know what the
scene must hold. Every wait is for a page state; the draw-call bound is a count.
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import ROOT, Server, ServerProcess, join, wait_state

WORLD_TOML = ROOT / "server" / "data" / "world.toml"
WORLD = tomllib.loads(WORLD_TOML.read_text(encoding="utf-8"))
HALL_DRAW_CALLS_MAX = 25


def seat_count(world: dict[str, Any]) -> int:
    return sum(int(r["count"]) * int(r.get("rows", 1)) for r in world.get("seats", []))


def hall_scene(page: Any) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate("window.servicepoint.hallScene()")
    return result


def wait_hall(page: Any) -> dict[str, Any]:
    page.wait_for_function(
        "() => { const h = window.servicepoint?.hallScene?.(); return h && h.seats !== undefined; }"
    )
    return hall_scene(page)


def test_the_hall_holds_what_the_world_file_says(server: Server, open_page: Any) -> None:
    page = open_page()
    join(page, "Hedda")
    hall = wait_hall(page)
    assert hall["kind"] == "3d"
    kinds: dict[str, list[dict[str, Any]]] = {}
    for o in hall["objects"]:
        kinds.setdefault(o["kind"], []).append(o)

    # Desks: one counter per desk, 1 m in front of the staff spot (forward is (-sin, -cos) yaw).
    desks = {o["id"]: o for o in kinds["desk"]}
    assert set(desks) == {d["id"] for d in WORLD["desks"]}
    for d in WORLD["desks"]:
        x, z = d["position"]
        yaw = d.get("yaw", 0.0)
        assert (
            math.dist(
                (desks[d["id"]]["x"], desks[d["id"]]["z"]), (x - math.sin(yaw), z - math.cos(yaw))
            )
            < 1e-3
        )
    assert len(kinds["ticket-kiosk"]) == len(WORLD["desks"])
    assert len(kinds["feedback-kiosk"]) == len(WORLD["kiosks"])
    assert len(kinds["practice-desk"]) == len(WORLD["practice_desks"])
    assert {o["id"] for o in kinds["zone"]} == {z["id"] for z in WORLD["zones"]}

    # Walls: every inner wall of the file, and the outer edge open at the doors.
    inner = [[w["x0"], w["z0"], w["x1"], w["z1"]] for w in hall["walls"] if w["kind"] == "inner"]
    assert inner == WORLD["walls"]
    assert all(w["height"] >= 3 for w in hall["walls"])  # real height, not a kerb
    outer = [w for w in hall["walls"] if w["kind"] == "outer"]
    assert len(outer) == 4 + len(WORLD["doors"])  # the west side is cut in two by the entrance
    # Doorways: the gaps the file leaves between collinear inner walls (8 m at x = +-20).
    doorways = sorted((round(d["x0"]), round(d["width"])) for d in hall["doorways"])
    assert doorways == [(-20, 8), (20, 8)], hall["doorways"]
    # A level ray through a doorway meets no wall or glass; one beside it does.
    assert page.evaluate("window.servicepoint.hallHitsWall(-24, 0, -16, 0, 1.5)") is False
    assert page.evaluate("window.servicepoint.hallHitsWall(-24, -10, -16, -10, 1.5)") is True
    assert page.evaluate("window.servicepoint.hallHitsWall(16, 0, 24, 0, 1.5)") is False
    assert (
        page.evaluate("window.servicepoint.hallHitsWall(-58, 0, -62, 0, 1.5)") is False
    )  # the entrance
    assert page.evaluate("window.servicepoint.hallHitsWall(-58, 10, -62, 10, 1.5)") is True

    # Seats: as many as the file's rows hold, in one instanced mesh.
    assert hall["seats"] == seat_count(WORLD) > 0
    meshes = {m["name"]: m for m in hall["meshes"]}
    assert meshes["hall-seats"]["instances"] == hall["seats"]
    auditorium = next(z for z in WORLD["zones"] if z["id"] == "auditorium")["rect"]
    audience = sum(
        int(r["count"]) * int(r.get("rows", 1))
        for r in WORLD["seats"]
        if auditorium[0] <= r["position"][0] <= auditorium[2]
    )
    assert hall["audienceSeats"] == audience > 0

    # The auditorium: the stage with steps at its front (west, towards the audience) and the
    # screen's stand, and the features' screen standing on it.
    assert kinds["stage"][0]["front"] == "x"
    assert len(kinds["stage-steps"]) == 2
    assert all(o["x"] == WORLD["stage"]["rect"][0] for o in kinds["stage-steps"])
    assert kinds["screen-stand"][0]["top"] > WORLD["stage"]["height"] + 3
    # Following one's avatar, the walls cut away around the line from the camera to it.
    page.wait_for_function("() => window.servicepoint.hallScene().cutaway === true")


def test_quality_switch_is_labelled_keyboard_operable_and_toggles_shadows(
    server: Server, open_page: Any
) -> None:
    page = open_page()
    join(page, "Ivar")
    wait_hall(page)
    # The software renderer (SwiftShader) starts at low: no shadow maps.
    assert page.input_value("#quality-select") == "low"
    assert hall_scene(page)["shadows"] is False
    label = page.evaluate("document.querySelector('label[for=quality-select]').textContent.trim()")
    assert label == "Picture quality"
    assert page.get_attribute("#quality-field", "hidden") is None

    # Tab reaches it right after the language select; the keyboard changes it.
    page.focus("#lang-select")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "quality-select"
    page.keyboard.press("ArrowUp")  # low -> high
    page.wait_for_function("() => window.servicepoint.hallScene().shadows === true")
    assert page.input_value("#quality-select") == "high"
    assert page.evaluate("window.servicepoint.state().quality") == "high"
    meshes = {m["name"]: m for m in hall_scene(page)["meshes"]}
    assert meshes["hall-walls"]["castShadow"] and meshes["hall-floor"]["receiveShadow"]
    high_calls = page.evaluate("window.servicepoint.hallDrawCalls()")

    # Remembered: after leaving and a reload, the page starts at high.
    page.click("#leave-button")
    page.wait_for_function("() => !document.getElementById('join-panel').hidden")
    page.reload()
    page.wait_for_function(
        "() => window.servicepoint && !document.getElementById('join-panel').hidden"
    )
    join(page, "Ivar")
    wait_hall(page)
    assert page.input_value("#quality-select") == "high"
    assert hall_scene(page)["shadows"] is True
    page.focus("#quality-select")
    page.keyboard.press("ArrowDown")  # high -> low
    page.wait_for_function("() => window.servicepoint.hallScene().shadows === false")
    low_calls = page.evaluate("window.servicepoint.hallDrawCalls()")

    # In Swedish, the label and options follow the language.
    page.select_option("#lang-select", "sv")
    page.wait_for_function("() => document.documentElement.lang === 'sv'")
    assert page.text_content("label[for=quality-select]").strip() == "Bildkvalitet"
    assert page.text_content("#quality-select option[value=high]").strip() == "Hög (skuggor)"
    print(json.dumps({"hall_draw_calls": {"low": low_calls, "high": high_calls}}))


def test_hall_draw_calls_are_few(server: Server, open_page: Any) -> None:
    """The hall alone (no avatars, boards or signs), from the spawn and from a fixed view
    over the whole hall, at both qualities: a bound on a count."""
    page = open_page()
    join(page, "Jon")
    wait_hall(page)
    counts: dict[str, int] = {}
    for quality in ("low", "high"):
        page.select_option("#quality-select", quality)
        page.wait_for_function("q => window.servicepoint.state().quality === q", arg=quality)
        counts[quality] = page.evaluate("window.servicepoint.hallDrawCalls()")
    print(json.dumps({"hall_draw_calls_from_spawn": counts}))
    assert 0 < counts["low"] <= HALL_DRAW_CALLS_MAX
    assert counts["low"] < counts["high"] <= HALL_DRAW_CALLS_MAX  # the shadow pass adds a few


@pytest.fixture
def changed_world(tmp_path: Path) -> Iterator[tuple[Server, dict[str, Any]]]:
    """A server of its own on a changed copy of the world file: desk-3 moved 2 m east,
    a seat row added at the back of the hall, the entrance door gone."""
    text = WORLD_TOML.read_text(encoding="utf-8")
    text = text.replace("position = [4.0, -30.0]", "position = [6.0, -30.0]", 1)
    text = re.sub(r"doors = \[\n  \[-60\.0, -3\.0, -60\.0, 3\.0\],\n\]", "doors = []", text)
    text += (
        "\n[[seats]]\nposition = [0.0, 30.0]\nyaw = 0.0\ncount = 12\nspacing = 0.6\n"
        "rows = 2\nrow_spacing = 1.2\n"
    )
    assert "position = [6.0, -30.0]" in text and "doors = []" in text
    path = tmp_path / "world.toml"
    path.write_text(text, encoding="utf-8")
    data = tmp_path / "data"
    data.mkdir()
    proc = ServerProcess(data)
    proc.env["SERVICEPOINT_WORLD_PATH"] = str(path)
    try:
        yield proc.start(), tomllib.loads(text)
    finally:
        proc.stop()


def test_a_changed_world_file_changes_the_scene(
    changed_world: tuple[Server, dict[str, Any]], open_page: Any
) -> None:
    srv, world = changed_world
    page = open_page(base=srv.url)
    join(page, "Kaj")
    hall = wait_hall(page)
    desk3 = next(o for o in hall["objects"] if o["kind"] == "desk" and o["id"] == "desk-3")
    # The counter stands 1 m in front of the moved staff spot (yaw pi: 1 m south).
    assert math.dist((desk3["x"], desk3["z"]), (6.0, -29.0)) < 1e-3
    assert hall["seats"] == seat_count(world) == seat_count(WORLD) + 24
    # No door: the outer edge is four whole sides, and the west wall is closed at the spawn.
    assert len([w for w in hall["walls"] if w["kind"] == "outer"]) == 4
    assert page.evaluate("window.servicepoint.hallHitsWall(-58, 0, -62, 0, 1.5)") is True
    wait_state(page, "s.connected")


def test_the_2d_map_draws_the_seats(
    server: Server, open_page: Any, browser_without_webgl: Any
) -> None:
    page = open_page(on=browser_without_webgl)
    join(page, "Lis")
    hall = wait_hall(page)
    assert hall["kind"] == "2d"
    assert hall["seats"] == seat_count(WORLD)
    assert hall["doors"] == len(WORLD["doors"])
    # No 3D view, no quality to choose: the control is hidden.
    assert page.get_attribute("#quality-field", "hidden") is not None
