"""The browser's copies of server rules agree with the Python originals.

* State frames encoded by protocol/frames.py decode in the browser
  (clients/web/src/protocol/frames.js) to the same ids, centimetres and yaw.
* The page's wall test (clients/web/src/movement.js ``crossesWall``) gives the
  same answer as spatial/movement.py, so an honest client is rarely corrected.
* Routes planned by clients/web/src/path.js never walk through a wall.
* Snapshot interpolation (clients/web/src/interp.js) stays between snapshots.

Node runs small ES module snippets; inputs go in as JSON on stdin.
"""

from __future__ import annotations

import json
import math
import random
import subprocess
import tomllib
from typing import Any

import msgpack
import numpy as np
import pytest

from protocol.frames import StateFrameEncoder, decode_state_frame
from spatial.movement import MovementRules
from tests.web.conftest import ROOT, WEB

WORLD = tomllib.loads((ROOT / "server/data/world.toml").read_text(encoding="utf-8"))


def node(script: str, data: Any) -> Any:
    out = subprocess.run(
        ["node", "--input-type=module", "-e", script],
        cwd=WEB,
        input=json.dumps(data),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(out.stdout)


READ_STDIN = """
const chunks = []; for await (const c of process.stdin) chunks.push(c);
const input = JSON.parse(chunks.join(''));
"""


def test_state_frames_decode_alike() -> None:
    rng = np.random.default_rng(5)
    enc = StateFrameEncoder()
    frames: list[bytes] = []
    for tick in (0, 1, 2**32 - 1):
        n = int(rng.integers(0, 40))
        ids = rng.integers(1, 2**32, size=n, dtype=np.uint64).astype(np.uint32)
        pos = rng.uniform(-327, 327, size=(n, 2)).astype(np.float32)
        yaw = rng.uniform(-20, 20, size=n).astype(np.float32)
        ptr = np.array([0, n], dtype=np.int64)
        vis = np.arange(n, dtype=np.int32)
        frames += enc.encode(tick, ids, pos, yaw, ptr, vis)
    got = node(
        READ_STDIN
        + """
import { decode } from './src/protocol/codec.js';
import { decodeFrame } from './src/protocol/frames.js';
const out = input.map((hex) => {
  const bytes = Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));
  const f = decodeFrame(decode(bytes));
  return { tick: f.tick, ids: [...f.ids], x: [...f.x], z: [...f.z], yaw: [...f.yaw] };
});
console.log(JSON.stringify(out));
""",
        [f.hex() for f in frames],
    )
    for raw, js in zip(frames, got, strict=True):
        py = decode_state_frame(msgpack.unpackb(raw, raw=False))
        assert js["tick"] == py.tick
        assert js["ids"] == py.ids.tolist()
        np.testing.assert_allclose(js["x"], py.positions[:, 0], atol=1e-4)
        np.testing.assert_allclose(js["z"], py.positions[:, 1], atol=1e-4)
        # The page keeps yaw in (-pi, pi]; the wire decodes to [0, 2pi).
        diff = (np.array(js["yaw"]) - py.yaw + math.pi) % (2 * math.pi) - math.pi
        assert np.all(np.abs(diff) < 1e-4)
        assert all(-math.pi < y <= math.pi for y in js["yaw"])


def test_wall_rule_matches_the_server() -> None:
    walls = np.array(WORLD["walls"], dtype=np.float64)
    rules = MovementRules(tuple(WORLD["bounds"]), walls, 4.0)
    r = random.Random(11)
    cases = []
    for _ in range(3000):
        wx0, wz0, wx1, wz1 = r.choice(WORLD["walls"])
        t = r.random()
        cx, cz = wx0 + (wx1 - wx0) * t, wz0 + (wz1 - wz0) * t
        ax, az = cx + r.uniform(-1.5, 1.5), cz + r.uniform(-1.5, 1.5)
        bx, bz = ax + r.uniform(-1, 1), az + r.uniform(-1, 1)
        cases.append([ax, az, bx, bz])
    got = node(
        READ_STDIN
        + """
import { crossesWall } from './src/movement.js';
const hit = ([ax, az, bx, bz]) => crossesWall(input.walls, ax, az, bx, bz);
console.log(JSON.stringify(input.cases.map(hit)));
""",
        {"walls": WORLD["walls"], "cases": cases},
    )
    want = [rules.crosses_wall(*c) for c in cases]
    assert sum(want) > 100  # the cases do test walls
    assert got == want


def test_routes_never_cross_walls() -> None:
    walls = np.array(WORLD["walls"], dtype=np.float64)
    rules = MovementRules(tuple(WORLD["bounds"]), walls, 4.0)
    x0, z0, x1, z1 = WORLD["bounds"]
    r = random.Random(3)
    pairs = []
    while len(pairs) < 200:
        a = [r.uniform(x0 + 1, x1 - 1), r.uniform(z0 + 1, z1 - 1)]
        b = [r.uniform(x0 + 1, x1 - 1), r.uniform(z0 + 1, z1 - 1)]
        # Start and goal must be places an avatar may stand.
        if not rules.crosses_wall(a[0], a[1], a[0] + 1e-6, a[1]) and not rules.crosses_wall(
            b[0], b[1], b[0] + 1e-6, b[1]
        ):
            pairs.append([a, b])
    world = {"bounds": WORLD["bounds"], "walls": WORLD["walls"]}
    routes = node(
        READ_STDIN
        + """
import { findPath } from './src/path.js';
console.log(JSON.stringify(input.pairs.map(([a, b]) =>
  findPath(input.world, { x: a[0], z: a[1] }, { x: b[0], z: b[1] }))));
""",
        {"world": world, "pairs": pairs},
    )
    for (a, b), route in zip(pairs, routes, strict=True):
        assert route, f"no route from {a} to {b}"
        assert route[-1] == {"x": b[0], "z": b[1]}
        px, pz = a
        for p in route:
            # Walk the leg in 0.2 m steps, as the page sends moves.
            n = max(1, math.ceil(math.hypot(p["x"] - px, p["z"] - pz) / 0.2))
            for k in range(n):
                sx = px + (p["x"] - px) * k / n
                sz = pz + (p["z"] - pz) * k / n
                ex = px + (p["x"] - px) * (k + 1) / n
                ez = pz + (p["z"] - pz) * (k + 1) / n
                assert not rules.crosses_wall(sx, sz, ex, ez), (
                    f"route {a}->{b} hits a wall at {ex},{ez}"
                )
            px, pz = p["x"], p["z"]


def test_interpolation_stays_between_snapshots() -> None:
    got = node(
        """
import { SnapshotBuffer, ServerClock, angleDelta } from './src/interp.js';
const b = new SnapshotBuffer(0, 0, 3.1, 0);
b.push(0.05, 1, 2, -3.1);
b.push(0.10, 2, 4, -3.0);
const clock = new ServerClock(20);
clock.observe(100, 10.0); clock.observe(101, 10.08); clock.observe(102, 10.1);
console.log(JSON.stringify({
  mid: b.sample(0.025), end: b.sample(1), start: b.sample(-1), q: b.sample(0.075),
  wrap: angleDelta(3.1, -3.1), now: clock.now(10.1), render: clock.renderTime(10.1),
}));
""",
        None,
    )
    assert got["mid"]["x"] == pytest.approx(0.5) and got["mid"]["z"] == pytest.approx(1)
    # Yaw goes the short way round through pi, not back through zero.
    assert abs(got["mid"]["yaw"]) > 3.1
    assert got["end"] == {"x": 2, "z": 4, "yaw": -3.0}
    assert got["start"]["x"] == 0
    assert got["q"]["x"] == pytest.approx(1.5)
    assert got["wrap"] == pytest.approx(2 * math.pi - 6.2)
    # The clock follows the least delayed frame: tick 102 at 10.1 s.
    assert got["now"] == pytest.approx(5.1)
    assert got["render"] == pytest.approx(5.0)
