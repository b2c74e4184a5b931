"""Interpolation of delta state frames in real Chromium: an agent walks a known path
near the page's avatar, and where the page draws it matches the full-rate path.

The full-rate path is what the server held at every tick: a second agent stands
next to the walker (so it is due every tick for it too) and records the walker's
position from its own frames, at each frame's tick. The page's test hook
(``othersDrawn``) gives where it draws each avatar and at which server time; a
``requestAnimationFrame`` loop in the page records that every frame. Every wait
is for a state (of the page or of the walk), never for a time.
"""

from __future__ import annotations

import asyncio
import json
import math
from typing import Any

import numpy as np

from agents.client import AgentClient
from tests.web.conftest import AgentLoop, Server, join, wait_state
from tests.web.test_orientation import walk_next_to

HZ = 20
SPEED = 1.2  # m/s
TOLERANCE_M = 0.05

RECORD = """id => {
  window.__trace = [];
  const step = () => {
    const p = window.servicepoint.othersDrawn()[id];
    if (p && p.t !== null) window.__trace.push([p.t, p.x, p.z, p.newest]);
    window.__traceFrame = requestAnimationFrame(step);
  };
  step();
}"""


async def walk_path(agent: AgentClient, path: list[tuple[float, float]]) -> None:
    """Walk through ``path`` at SPEED, one move per tick (as a browser's walk sends)."""
    x, z = agent.x, agent.z
    for wx, wz in path:
        while (d := math.dist((x, z), (wx, wz))) > 1e-3:
            k = min(1.0, SPEED / HZ / d)
            x, z = x + (wx - x) * k, z + (wz - z) * k
            await agent.move(x, z, math.atan2(-(wx - x), -(wz - z)) if d > 0.01 else None)
            await asyncio.sleep(1 / HZ)
    await agent.sync()


def truth_at(ticks: np.ndarray, xz: np.ndarray, t: float) -> tuple[float, float]:
    """The full-rate path at server time ``t``: the tick positions (held between
    changes) linearly interpolated, as a client receiving every tick would draw it."""
    k = t * HZ
    k0 = math.floor(k)

    def at(tick: int) -> np.ndarray:
        i = int(np.searchsorted(ticks, tick, side="right")) - 1
        row: np.ndarray = xz[max(i, 0)]
        return row

    a, b = at(k0), at(k0 + 1)
    f = k - k0
    return float(a[0] + (b[0] - a[0]) * f), float(a[1] + (b[1] - a[1]) * f)


def test_a_near_walker_is_drawn_on_its_full_rate_path(
    hall: Server, open_page: Any, agents: AgentLoop
) -> None:
    page = open_page(base=hall.url)
    join(page, "Ada")
    me = wait_state(page, "s.self")["self"]
    x0, z0 = me["x"], me["z"]

    watcher = AgentClient(hall.ws_url, name="Watcher")
    walker = AgentClient(hall.ws_url, name="Walker")
    seen: list[tuple[int, float, float]] = []
    try:
        agents.run(walk_next_to(watcher, x0, z0 + 1.0))  # 1 m east, 1 m south of Ada
        agents.run(walk_next_to(walker, x0 + 0.5, z0 - 1.0))
        wid = walker.id

        def on_frame(_c: AgentClient, frame: Any, _now: float) -> None:
            hit = np.flatnonzero(frame.ids == wid)
            if hit.size:
                x, z = frame.positions[int(hit[0])].tolist()
                seen.append((frame.tick, x, z))

        watcher.on_frame = on_frame
        wait_state(page, f"s.others[{wid}] !== undefined")
        page.evaluate(RECORD, wid)
        # a loop with corners, within 4 m of Ada and of the watcher
        path = [
            (x0 + 3.0, z0 - 1.0),
            (x0 + 3.0, z0 + 1.5),
            (x0 + 1.5, z0 + 1.5),
            (x0 + 1.5, z0 - 1.0),
        ]
        agents.run(walk_path(walker, path), timeout=60)
        end = walker.x, walker.z
        agents.run(
            watcher.wait_for(lambda: bool(seen) and math.dist(seen[-1][1:], end) < 0.006),
            timeout=10,
        )
        last_t = seen[-1][0] / HZ
        page.wait_for_function(
            "t => window.__trace.length && window.__trace.at(-1)[0] > t + 0.2", arg=last_t
        )
        trace = page.evaluate("cancelAnimationFrame(window.__traceFrame), window.__trace")
    finally:
        agents.run(walker.close())
        agents.run(watcher.close())

    ticks = np.array([s[0] for s in seen], dtype=np.int64)
    xz = np.array([s[1:] for s in seen], dtype=np.float64)
    first_t = ticks[0] / HZ
    during = [p for p in trace if first_t <= p[0] <= last_t + 0.2]
    # Drawn times past the newest frame the page had are frames arriving late (a loaded
    # machine), which a full-rate stream suffers alike: they are counted, not judged.
    late = [p for p in during if p[3] is None or p[0] > p[3] + 1e-9]
    during = [p for p in during if p not in late]
    assert len(during) > 50  # the page drew the walk in many frames
    errors = [math.dist(p[1:3], truth_at(ticks, xz, p[0])) for p in during]
    worst = max(errors)
    print(
        json.dumps(
            {
                "interp_max_error_m": round(worst, 4),
                "interp_p50_error_m": round(float(np.median(errors)), 4),
                "drawn_frames": len(during),
                "drawn_late": len(late),
                "ticks_with_changes": len(seen),
            }
        )
    )
    if worst > TOLERANCE_M:
        bad = sorted(zip(errors, during, strict=True), reverse=True)[:8]
        print(
            [(round(e, 3), round(p[0] * HZ, 2), p[1:], truth_at(ticks, xz, p[0])) for e, p in bad]
        )
        print("ticks", ticks.tolist())
    assert worst <= TOLERANCE_M
