"""Orientation in real Chromium: the overview map, "Describe surroundings" and the
route of a walk (features/orient).

The page joins a server of its own (`hall`); the world is the shipped world file,
read here to know what the page must show. An agent walks up to the page's avatar
to be "near". Every wait is for a state of the page, never for a time.
"""

from __future__ import annotations

import asyncio
import math
import re
import tomllib
from typing import Any

from agents.client import AgentClient
from tests.web.conftest import ROOT, AgentLoop, Server, join, node_json, state, wait_state
from tests.web.test_a11y import axe_violations

WORLD = tomllib.loads((ROOT / "server" / "data" / "world.toml").read_text(encoding="utf-8"))
WALK_MS = 40_000  # the walk across the lobby to a desk (about 40 m at 3.8 m/s)


def ahead(thing: dict[str, Any], m: float) -> tuple[float, float]:
    """`m` metres in front of a desk (forward is (-sin yaw, -cos yaw))."""
    x, z = thing["position"]
    yaw = thing.get("yaw", 0.0)
    return x - math.sin(yaw) * m, z - math.cos(yaw) * m


def nearest_desk(x: float, z: float) -> tuple[dict[str, Any], int]:
    """The desk whose counter (1 m in front of it) is nearest, and the whole metres to it."""
    desk = min(WORLD["desks"], key=lambda d: math.dist((x, z), ahead(d, 1)))
    return desk, max(1, round(math.dist((x, z), ahead(desk, 1))))


def live_text(page: Any, needle: str) -> str:
    """The live region's text once it contains `needle`."""
    page.wait_for_function(
        "n => document.getElementById('orient-live').textContent.includes(n)", arg=needle
    )
    text: str = page.text_content("#orient-live")
    return text


def switch_language(page: Any, lang: str) -> None:
    page.select_option("#lang-select", lang)
    page.wait_for_function("lang => document.documentElement.lang === lang", arg=lang)


async def walk_next_to(agent: AgentClient, x: float, z: float) -> None:
    """Walk in steps the server's speed limit allows, to 1 m east of (x, z)."""
    await agent.connect()
    tx, tz = x + 1.0, z
    while (d := math.dist((agent.x, agent.z), (tx, tz))) > 0.05:
        k = min(1.0, 0.5 / d)
        await agent.move(agent.x + (tx - agent.x) * k, agent.z + (tz - agent.z) * k)
        await asyncio.sleep(0.15)  # pacing: 0.5 m per step stays under 4 m/s


def test_minimap_description_and_route_by_keyboard(
    hall: Server, open_page: Any, agents: AgentLoop
) -> None:
    page = open_page(base=hall.url)
    join(page, "Ada")

    # The overview map shows the world's desks, kiosks, practice desks, the stage and you.
    s = wait_state(page, "s.orient.minimap.visible && s.orient.minimap.drawn.self === 1")
    drawn = s["orient"]["minimap"]["drawn"]
    assert drawn["desks"] == len(WORLD["desks"]) == 4
    assert drawn["kiosks"] == len(WORLD["kiosks"])
    assert drawn["practice"] == len(WORLD["practice_desks"])
    assert drawn["stage"] == 1 and drawn["landmarks"] == 2
    assert page.get_attribute("#orient-map", "role") == "img"
    assert page.get_attribute("#orient-map", "aria-label").startswith("Overview map")

    # L in the hall view: the nearest desk with its distance, and who is near.
    me = s["self"]
    desk, metres = nearest_desk(me["x"], me["z"])
    page.focus("#view")
    page.keyboard.press("l")
    text = live_text(page, "nearest desk")
    assert f"The nearest desk is {desk['names']['en']}, {metres} metres " in text, text
    assert "You are in: Entrance lobby." in text
    assert "Nobody is near you." in text  # the greeter is a bot, not a person
    assert page.evaluate("document.activeElement.id") == "view"  # the focus stays

    # An agent walks up next to the page's avatar: one person near.
    bo = AgentClient(hall.ws_url, name="Bo")
    try:
        agents.run(walk_next_to(bo, me["x"], me["z"]))
        wait_state(
            page,
            f"Object.values(s.others).some(o => o.name === 'Bo'"
            f" && Math.hypot(o.x - {me['x']}, o.z - {me['z']}) < 1.5)",
        )
        page.keyboard.press("l")
        assert "1 person near you." in live_text(page, "1 person")

        # Another language, by the button (keyboard): the same facts, in Swedish.
        switch_language(page, "sv")
        page.focus("#orient-describe")
        page.keyboard.press("Enter")
        text = live_text(page, "nära dig")
        assert "1 person nära dig." in text, text
        assert f"Närmaste disk är {desk['names']['sv']}, {metres} meter " in text, text
    finally:
        agents.run(bo.close())
    switch_language(page, "en")

    # M hides the overview map (and says so); the toggle button brings it back.
    page.focus("#view")
    page.keyboard.press("m")
    wait_state(page, "!s.orient.minimap.visible")
    assert "The overview map is hidden." in live_text(page, "hidden")
    assert page.get_attribute("#orient-map-toggle", "aria-pressed") == "false"
    page.focus("#orient-map-toggle")
    page.keyboard.press("Enter")
    wait_state(page, "s.orient.minimap.visible")
    assert page.get_attribute("#orient-map-toggle", "aria-pressed") == "true"

    # "Walk to" the Reception desk: the route goes round the lobby wall to the desk,
    # on the floor of the 3D view and on the overview map.
    reception = next(d for d in WORLD["desks"] if d["id"] == "desk-1")
    spot = ahead(reception, 2)  # where citizens are served
    page.focus("#places button[data-place=desk-1]")
    page.keyboard.press("Enter")
    s = wait_state(
        page, "s.orient.route && s.orient.routeShown.view && s.orient.routeShown.minimap"
    )
    assert s["view"] == "3d"
    route = s["orient"]["route"]
    assert len(route) >= 2, route  # through the doorway, not through the wall
    assert math.dist((route[-1]["x"], route[-1]["z"]), spot) < 0.01, route
    assert axe_violations(page) == []

    # On arrival the route is gone, and the page says where one is.
    s = wait_state(page, "s.orient.route === null && !s.walkingTo", timeout=WALK_MS)
    assert s["orient"]["routeShown"] == {"view": False, "minimap": False}
    assert math.dist((s["self"]["x"], s["self"]["z"]), spot) < 0.6
    assert "You have arrived: Reception" in live_text(page, "arrived")
    page.focus("#orient-describe")
    page.keyboard.press("Enter")
    assert "The nearest desk is Reception, right next to you." in live_text(page, "right next")


def test_route_on_the_map_fallback_clears_when_cancelled(
    open_page: Any, browser_without_webgl: Any
) -> None:
    page = open_page(on=browser_without_webgl, lang="de-DE")  # the session's server
    join(page, "Ada")
    s = wait_state(page, "s.orient.bar")
    # The view is a map already: the overview map waits to be asked for (M).
    assert s["view"] == "2d" and not s["orient"]["minimap"]["visible"]
    page.focus("#view")
    page.keyboard.press("m")
    s = wait_state(page, "s.orient.minimap.visible && s.orient.minimap.drawn.self === 1")
    assert s["orient"]["minimap"]["drawn"]["desks"] == 4

    page.focus("#places button[data-place=desk-3]")
    page.keyboard.press("Enter")
    s = wait_state(
        page, "s.orient.route && s.orient.routeShown.view && s.orient.routeShown.minimap"
    )
    spot = ahead(next(d for d in WORLD["desks"] if d["id"] == "desk-3"), 2)
    assert math.dist((s["orient"]["route"][-1]["x"], s["orient"]["route"][-1]["z"]), spot) < 0.01

    # An arrow key in the map view takes over: the walk and its route are cancelled.
    page.focus("#view")
    page.keyboard.down("ArrowLeft")
    wait_state(page, "s.orient.route === null")
    page.keyboard.up("ArrowLeft")
    s = state(page)
    assert s["orient"]["routeShown"] == {"view": False, "minimap": False}

    page.keyboard.press("l")
    text = live_text(page, "Nächster Schalter")
    assert re.search(r"Nächster Schalter: \w+, \d+ Meter ", text), text
    assert axe_violations(page) == []


DESCRIBE = """
import { loadMessages, setLanguage } from './src/core/i18n.js';
import { bearing, sentence, surroundings } from './src/features/orient/describe.js';
const input = JSON.parse(await new Promise((ok) => {
  let s = ''; process.stdin.on('data', (d) => { s += d; }).on('end', () => ok(s));
}));
await loadMessages(new URL('./src/core/messages/', import.meta.url));
await loadMessages(new URL('./src/features/orient/messages/', import.meta.url));
const world = input.world;
const out = { bearings: input.bearings.map(([from, to]) => bearing(from, to)), sentences: {} };
for (const lang of ['en', 'ja']) {
  setLanguage(lang);
  const map = (o) => (o ? new Map(Object.entries(o)) : null);
  out.sentences[lang] = input.cases.map(({ me, people, waiting, ticket, board }) => sentence(
    surroundings(world, me, people, { waiting: map(waiting), ticket, board: map(board) })));
}
console.log(JSON.stringify(out));
"""


def test_directions_counts_and_queues_in_the_description() -> None:
    """describe.js on its own (node): directions relative to the facing, and the
    queue sentences only from what the page was told."""
    north = {"x": 0, "z": 0, "yaw": 0}  # yaw 0 faces -z
    east = {"x": 0, "z": 0, "yaw": -math.pi / 2}
    points = [(0, -10), (10, 0), (0, 10), (-10, 0), (7, -7)]
    cases = [
        {"me": {"x": -12, "z": -22, "yaw": 0}, "people": []},
        {  # staff on duty know the queue: 3 waiting for Reception's service
            "me": {"x": -12, "z": -22, "yaw": 0},
            "people": [{"x": -11, "z": -22, "role": "citizen"}, {"x": -13, "z": -21}],
            "waiting": {"desk-1": 3},
            "ticket": None,
        },
        {  # a citizen's own waiting ticket for a service of the nearest desk
            "me": {"x": -12, "z": -22, "yaw": math.pi},
            "people": [{"x": -12, "z": -20, "role": "bot"}, {"x": 0, "z": 0}],
            "waiting": None,
            "ticket": {"ticket": "A-004", "service": "general", "status": "waiting", "position": 3},
        },
        {  # the public queue display (desk_board): open or not, and whom it serves
            "me": {"x": -12, "z": -22, "yaw": 0},
            "people": [],
            "board": {"desk-1": {"desk": "desk-1", "staffed": True, "serving": "A-002"}},
        },
        {
            "me": {"x": -12, "z": -22, "yaw": 0},
            "people": [],
            "board": {"desk-1": {"desk": "desk-1", "staffed": False}},
        },
    ]
    got = node_json(
        DESCRIBE,
        {
            "world": {**WORLD, "desks": WORLD["desks"][:1]},
            "bearings": [[me, {"x": x, "z": z}] for me in (north, east) for x, z in points],
            "cases": cases,
        },
    )
    dirs = [(b["dir"], b["clock"], b["m"]) for b in got["bearings"]]
    assert dirs[:5] == [
        ("ahead", 12, 10),
        ("right", 3, 10),
        ("behind", 6, 10),
        ("left", 9, 10),
        ("ahead_right", 2, 10),
    ]
    assert [d for d, _, _ in dirs[5:]] == ["left", "ahead", "right", "behind", "ahead_left"]

    en = got["sentences"]["en"]
    # Reception's counter is at (-12, -29): 7 m north.
    assert en[0].startswith(
        "You are in: Service hall. The nearest desk is Reception, 7 metres ahead."
    )
    assert not re.search("waiting|ticket|open|closed|serving", en[0]), en[0]
    assert en[0].endswith("Nobody is near you.")
    assert "3 people are waiting there." in en[1] and en[1].endswith("2 people near you.")
    assert "7 metres behind you." in en[2]
    assert "That desk serves your ticket A-004: 2 people are ahead of you." in en[2]
    assert en[2].endswith("Nobody is near you. An automated assistant is near you.")
    assert "7 metres ahead. It is open. Now serving: A-002. " in en[3], en[3]
    assert "7 metres ahead. It is closed right now. " in en[4] and "serving" not in en[4]
    ja = got["sentences"]["ja"]
    assert "最寄りの窓口は受付、前方7メートルです。" in ja[0]
    assert "近くに2人います。" in ja[1] and "そこで3人が待っています。" in ja[1]
