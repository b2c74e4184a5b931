"""Avatars people read as people, in real Chromium (issue 15): humanoid bodies drawn
as a crowd of instanced meshes (clients/web/src/crowd.js), the walk animation, and
the speaking indicator fed from real audio.

- 500 real agents (`Bystander`s: `agents.swarm.Walker`s, joined avatars that count
  frames without decoding them, and leave `enter`/`leave` undecoded too) stand in a
  grid in front of the page's camera on a server whose interest settings let one
  page see them all; the page must show them all in at
  most 60 draw calls a frame. The figures (draw calls, the page's time per frame,
  the time between frames) are printed as one JSON line, never asserted.
- The walk animation: the page's own avatar swings its legs while it walks and
  not while it stands; with prefers-reduced-motion it never swings.
- The speaking indicator: a desk call between the page (Chromium's fake
  microphone) and an aiortc staff peer sending a tone; the staff avatar shows the
  indicator while the tone arrives and loses it when the peer stops sending.

Every wait is for a state of the page (window.servicepoint.state().avatars, and
window.servicepoint.avatarDebug(id)), never a sleep.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import websockets

from agents.client import AgentClient
from agents.swarm import Walker, is_state_frame, source_address
from agents.voice_peer import VoicePeer
from protocol.codec import decode_server
from server.identity import Keyring
from tests.web.conftest import (
    BASE_ARGS,
    CHROMIUM,
    MEDIA_ARGS,
    SECRET,
    WEBGL_ARGS,
    AgentLoop,
    Server,
    ServerProcess,
    docs_screenshot,
    join,
    state,
    wait_state,
)

CROWD = 500
COLS = 25  # the grid the agents stand in: 25 x 20, 1.1 m apart
SPACING = 1.1
GRID_X0, GRID_Z0 = -56.0, -14.0  # its north-west corner, in the lobby
MAX_CALLS = 60


def crowd_server(tmp: Path, **env: str) -> Iterator[Server]:
    """A server process whose every observer sees the whole lobby (`interest_*`),
    where an agent may step straight to its place (`max_speed`)."""
    proc = ServerProcess(tmp)
    proc.env.update(
        {
            "SERVICEPOINT_INTEREST_RADIUS": "200",
            "SERVICEPOINT_INTEREST_K": "1024",
            "SERVICEPOINT_MAX_SPEED": "400",
            # 10 state frames a second: 500 observers of 500 avatars stay cheap to send.
            "SERVICEPOINT_TICK_HZ": "10",
            **env,
        }
    )
    try:
        yield proc.start()
    finally:
        proc.stop()


@pytest.fixture
def crowd_hall(tmp_path: Path) -> Iterator[Server]:
    yield from crowd_server(tmp_path)


@pytest.fixture(scope="module")
def media_webgl_browser(playwright: Any) -> Iterator[Any]:
    """Chromium with WebGL (the 3D view) and the fake microphone, for the speaking test."""
    b = playwright.chromium.launch(
        executable_path=CHROMIUM, args=[*BASE_ARGS, *WEBGL_ARGS, *MEDIA_ARGS]
    )
    yield b
    b.close()


# `enter` and `leave` start with these bytes (a 2-entry msgpack map, "t" first).
CROWD_NEWS = (b"\x82\xa1t\xa5enter", b"\x82\xa1t\xa5leave")


class Bystander(Walker):
    """A walker that stands in the crowd and watches nobody: like a `Walker` it counts
    state frames undecoded, and it leaves `enter` and `leave` (500 arrivals for each
    of 500 agents) undecoded too, so one test process can hold the crowd."""

    async def _read(self) -> None:
        ws, closed = self.ws, self.closed
        assert ws is not None and closed is not None
        try:
            async for data in ws:
                assert isinstance(data, bytes)
                self.stats.messages_in += 1
                if is_state_frame(data):
                    self.stats.frames += 1
                elif not data.startswith(CROWD_NEWS):
                    self._on_message(decode_server(data), len(data))
        except websockets.ConnectionClosed:
            pass
        finally:
            if not closed.done():
                closed.set_result((ws.close_code, ws.close_reason or ""))
            self._changed.set()


def grid_spot(i: int) -> tuple[float, float]:
    return GRID_X0 + (i % COLS) * SPACING, GRID_Z0 + (i // COLS) * SPACING


async def stand_crowd(url: str, count: int) -> list[Walker]:
    """`count` walkers joined and standing in the grid (a few connecting at a time)."""
    gate = asyncio.Semaphore(32)
    walkers: list[Walker] = []

    async def one(i: int) -> None:
        w = Bystander(
            url,
            source=source_address(url, i),
            name=f"Person {i}",
            avatar=("round", "tall", "box")[i % 3],
            color=(0x1D4ED8, 0xB91C1C, 0x15803D, 0xA16207, 0x7E22CE)[i % 5],
        )
        async with gate:
            await w.connect()
        w.keep_messages = False
        w.track_positions = False
        w.messages.clear()
        walkers.append(w)
        x, z = grid_spot(i)
        await w.move(x, z, math.pi)  # facing south, towards the camera

    results = await asyncio.gather(*(one(i) for i in range(count)), return_exceptions=True)
    failed = [r for r in results if isinstance(r, BaseException)]
    if failed:
        await close_all(walkers)
        raise AssertionError(f"{len(failed)} agents failed, e.g. {failed[0]!r}")
    return walkers


async def close_all(clients: list[Walker]) -> None:
    async def close(c: Walker) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(c.close(), 5)

    await asyncio.gather(*(close(c) for c in clients))


FRAME_GAPS_JS = """async (n) => {
  // The time between the frames the view draws (it skips some on a CPU renderer).
  const frames = () => window.servicepoint.drawnFrames();
  const at = [];
  let seen = frames();
  await new Promise((done) => {
    const step = () => {
      const now = frames();
      if (now !== seen) { seen = now; at.push(performance.now()); }
      if (at.length > n) done(); else requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
  });
  const gaps = at.slice(1).map((t, i) => t - at[i]).sort((a, b) => a - b);
  return { median: gaps[gaps.length >> 1], p90: gaps[Math.floor(gaps.length * 0.9)] };
}"""


def measure(page: Any) -> dict[str, Any]:
    """The avatars' state and the figures of the last frames (for the JSON line)."""
    s = state(page)["avatars"]
    gaps = page.evaluate(FRAME_GAPS_JS, 20)
    after = state(page)["avatars"]
    return {
        "avatars_shown": s["shown"],
        "near": s["near"],
        "far": s["far"],
        "tags": s["tags"],
        "draw_calls": page.evaluate("window.servicepoint.drawCalls()"),
        "crowd_calls": after["calls"],
        "page_ms_per_frame": round(after["frameMs"], 2),
        "frame_gap_ms_median": round(gaps["median"], 1),
        "frame_gap_ms_p90": round(gaps["p90"], 1),
    }


def test_five_hundred_avatars_in_view_in_at_most_60_draw_calls(
    crowd_hall: Server, open_page: Any, agents: AgentLoop
) -> None:
    started = time.monotonic()
    # The crowd gathers while the page loads and joins.
    gathering = asyncio.run_coroutine_threadsafe(stand_crowd(crowd_hall.ws_url, CROWD), agents.loop)
    walkers: list[Walker] = []
    try:
        page = open_page(base=crowd_hall.url)
        join(page, "Watcher")
        walkers = gathering.result(timeout=120)
        gathered_s = time.monotonic() - started
        # Everyone in view: the page holds them all (and itself).
        wait_state(page, f"s.avatars.count >= {CROWD + 1}", timeout=60_000)
        # The camera over the grid's south edge, looking north across it.
        cx = GRID_X0 + (COLS - 1) * SPACING / 2
        rows = math.ceil(CROWD / COLS)
        page.evaluate(
            "([from, at]) => window.servicepoint.viewpoint(from, at)",
            [[cx, 16.0, GRID_Z0 + rows * SPACING + 12.0], [cx, 0.0, GRID_Z0 + rows * SPACING / 2]],
        )
        wait_state(page, f"s.avatars.shown >= {CROWD} && s.avatars.drawCalls > 0")
        # Every avatar of the grid projects inside the canvas: they are in view.
        inside = page.evaluate(
            "(ids) => ids.filter((id) => window.servicepoint.avatarDebug(id)?.onScreen).length",
            [w.id for w in walkers],
        )
        assert inside >= CROWD, f"only {inside} of {CROWD} avatars are on screen"
        # At each picture quality the view offers (the top bar's select), else its default.
        first = state(page).get("quality")
        qualities = (
            [first]
            if first is None or not page.is_visible("#quality-select")
            else ([first, *(q for q in ("high", "low") if q != first)])
        )
        figures: dict[str, Any] = {}
        for quality in qualities:
            if quality != first:
                page.select_option("#quality-select", quality)
                wait_state(page, f"s.quality === '{quality}' && s.avatars.shown >= {CROWD}")
                page.evaluate(FRAME_GAPS_JS, 5)  # a few frames at the new quality
            got = measure(page)
            figures[str(quality or "default")] = got
            docs_screenshot(page, f"crowd-{quality or 'default'}")
            assert got["avatars_shown"] >= CROWD, got
            assert got["draw_calls"] <= MAX_CALLS, got
            # Some are near (limbs) and the rest far (one shape): both kinds are drawn.
            assert got["near"] > 0 and got["far"] > 0, got
        print(
            json.dumps(
                {
                    "test": "avatars_500",
                    "avatars": CROWD,
                    "gathered_s": round(gathered_s, 1),
                    **figures,
                }
            )
        )
    finally:
        if not walkers and gathering.done() and not gathering.exception():
            walkers = gathering.result()
        gathering.cancel()
        agents.run(close_all(walkers), timeout=60)


def leg(page: Any, who: int) -> dict[str, Any]:
    d: dict[str, Any] = page.evaluate("id => window.servicepoint.avatarDebug(id)", who)
    return d


def test_legs_swing_when_walking_and_not_when_standing(open_page: Any) -> None:
    page = open_page()
    me = join(page, "Walker", avatar="tall")["selfId"]
    standing = leg(page, me)
    assert standing["shape"] == "tall" and standing["near"] and standing["tag"]
    assert standing["speed"] == 0 and standing["leg"] == 0 and standing["bob"] == 0
    # Walk: hold the forward key until the legs have swung out (either way).
    page.focus("#view")
    page.keyboard.down("ArrowUp")
    try:
        page.wait_for_function(
            "id => Math.abs(window.servicepoint.avatarDebug(id).leg) > 0.15", arg=me
        )
        walking = leg(page, me)
        assert walking["speed"] > 1
        # The instance matrix drawn for the left leg is turned about the x axis.
        assert walking["leftLeg"] != standing["leftLeg"]
    finally:
        page.keyboard.up("ArrowUp")
    # Standing again: the legs come together.
    page.wait_for_function(
        "id => { const d = window.servicepoint.avatarDebug(id);"
        " return d.speed === 0 && Math.abs(d.leg) < 1e-3; }",
        arg=me,
    )


def test_reduced_motion_walks_without_swinging(open_page: Any) -> None:
    page = open_page()
    page.emulate_media(reduced_motion="reduce")
    me = join(page, "Still walker", avatar="box")["selfId"]
    page.focus("#view")
    page.keyboard.down("ArrowUp")
    try:
        page.wait_for_function("id => window.servicepoint.avatarDebug(id).speed > 1", arg=me)
        seen = [leg(page, me) for _ in range(5)]
    finally:
        page.keyboard.up("ArrowUp")
    assert all(d["speed"] > 0 for d in seen)
    assert all(d["leg"] == 0 and d["arm"] == 0 and d["bob"] == 0 for d in seen), seen


def staff_agent(hall: Server, name: str = "Sara Lind") -> AgentClient:
    return AgentClient(hall.ws_url, name="ignored", token=Keyring(SECRET).mint("staff", name))


def test_speaking_indicator_follows_the_staff_voice_in_a_desk_call(
    crowd_hall: Server, open_page: Any, agents: AgentLoop, media_webgl_browser: Any
) -> None:
    page = open_page(base=crowd_hall.url, on=media_webgl_browser)
    me = join(page, "Vera")["selfId"]
    sara = staff_agent(crowd_hall)
    peer = VoicePeer("staff", tone_hz=660.0)

    async def signal(offer: str) -> str:
        await sara.send({"t": "rtc_offer", "sdp": offer})
        answer = await sara.expect("rtc_answer", timeout=15)
        return str(answer["sdp"])

    async def start_call() -> None:
        await sara.connect()
        await sara.send({"t": "duty", "status": "available", "desk": "desk-2"})
        await sara.expect("duty")

    try:
        agents.run(start_call())
        page.check("#service-choices input[value=general]")
        page.select_option("#service-lang", "en")
        page.click("#service-take")
        wait_state(page, "s.ticket && s.ticket.status === 'waiting'")
        agents.run(sara.send({"t": "call_next"}))
        agents.run(sara.expect("case", timeout=15))
        page.wait_for_selector("#called-panel", state="visible")
        page.click("#called-coming")
        agents.run(sara.expect("call", timeout=15, active=True))
        # Nobody speaks before the voice call is up.
        assert sara.id not in state(page)["avatars"]["speaking"]
        agents.run(peer.connect(signal))
        agents.run(peer.wait_connected(20))
        wait_state(page, "s.voice.state === 'connected'", timeout=30_000)

        # The tone arrives: Sara's avatar shows the ring and a line on her tag.
        wait_state(page, f"s.avatars.speaking.includes({sara.id})", timeout=30_000)
        page.wait_for_function("id => window.servicepoint.avatarDebug(id).tag", arg=sara.id)
        wait_state(page, "s.avatars.rings >= 1")  # the ring around her head is drawn
        d = leg(page, sara.id)
        assert d["speaking"] and d["tag"] and "Speaking" in d["tagLines"], d
        assert page.evaluate("window.servicepoint.drawCalls()") <= MAX_CALLS
        # Our own fake microphone (a beep) is heard too, and not once muted.
        wait_state(page, f"s.avatars.speaking.includes({me})", timeout=30_000)
        page.click("#call-mute")
        wait_state(page, f"s.voice.muted && !s.avatars.speaking.includes({me})")

        # The peer stops sending: the indicator goes away.
        peer.stop_microphone()
        wait_state(page, f"!s.avatars.speaking.includes({sara.id})")
        d = leg(page, sara.id)
        assert not d["speaking"] and "Speaking" not in d["tagLines"], d
        # And comes back when she speaks again; the call's end clears it.
        peer.start_microphone()
        wait_state(page, f"s.avatars.speaking.includes({sara.id})", timeout=30_000)
        agents.run(sara.send({"t": "close_case", "outcome": "resolved"}))
        wait_state(page, "s.call === null && s.avatars.speaking.length === 0")
        wait_state(page, "s.avatars.rings === 0")
    finally:
        agents.run(peer.close())
        agents.run(sara.close())
