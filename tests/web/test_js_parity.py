"""The browser's copies of server rules agree with the Python originals.

* State frames encoded by protocol/frames.py decode in the browser
  (clients/web/src/protocol/frames.js) to the same ids, centimetres and yaw;
  so do v4 delta frames (protocol/delta.py), decoded in sequence with one
  connection's state on each side, some frames skipped by the server.
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

from protocol.delta import DeltaFrameEncoder
from protocol.frames import StateFrameDecoder, StateFrameEncoder, decode_state_frame
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


def test_delta_frames_decode_alike_in_sequence() -> None:
    rng = np.random.default_rng(9)
    cap = 48
    ids = (np.arange(cap, dtype=np.uint64) * 89_478_485 + 1).astype(np.uint32)  # spread, unique
    pos = rng.uniform(-25, 25, size=(cap, 2)).astype(np.float32)
    pos[0] = 0.0  # the observer
    yaw = rng.uniform(-20, 20, size=cap).astype(np.float32)
    enc = DeltaFrameEncoder(near_m=6.0)
    obs = np.array([0], dtype=np.int32)
    frames: list[bytes] = []
    row = np.arange(1, 30, dtype=np.int32)
    for tick in range(120):
        step = rng.normal(0, 0.3 if tick % 17 else 3.0, size=(cap, 2)).astype(np.float32)
        pos[1:] += step[1:] * (rng.random((cap - 1, 1)) < 0.6)
        yaw[rng.random(cap) < 0.1] += np.float32(0.5)
        if tick % 25 == 24:  # the view changes: new ones start absolute
            row = np.sort(rng.choice(np.arange(1, cap, dtype=np.int32), 30, replace=False))
        ptr = np.array([0, row.size], dtype=np.int64)
        (frame,) = enc.encode(tick, ids, pos, yaw, obs, ptr, row)
        written = frame is not None and rng.random() > 0.15  # some skipped for a full buffer
        if written:
            assert frame is not None
            frames.append(frame)
        enc.commit([written])
    assert any(b"\xa1d" in f for f in frames) and any(b"\xa2ri" in f for f in frames)
    got = node(
        READ_STDIN
        + """
import { decode, validate } from './src/protocol/codec.js';
import { FrameDecoder } from './src/protocol/frames.js';
const dec = new FrameDecoder();
const out = input.map((hex) => {
  const bytes = Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));
  const msg = decode(bytes);
  const problem = validate(msg, 'server');
  const f = dec.decode(msg);
  return { problem: problem?.code ?? null, tick: f.tick, ids: [...f.ids], x: [...f.x],
           z: [...f.z], rateIds: [...f.rateIds], rateShifts: [...f.rateShifts] };
});
console.log(JSON.stringify(out));
""",
        [f.hex() for f in frames],
    )
    py_dec = StateFrameDecoder()
    for raw, js in zip(frames, got, strict=True):
        py = py_dec.decode(msgpack.unpackb(raw, raw=False))
        assert js["problem"] is None
        assert js["tick"] == py.tick
        assert js["ids"] == py.ids.tolist()
        np.testing.assert_allclose(js["x"], py.positions[:, 0], atol=1e-4)
        np.testing.assert_allclose(js["z"], py.positions[:, 1], atol=1e-4)
        assert js["rateIds"] == py.rate_ids.tolist()
        assert js["rateShifts"] == py.rate_shifts.tolist()


def test_sparse_updates_interpolate_over_their_own_interval() -> None:
    """A far avatar sent every 4th tick moves smoothly (drawn 0.15 s further back);
    one that stood still and then moves starts from where it stood one update before."""
    got = node(
        """
import { Others } from './src/others.js';
const others = new Others(20);
others.enter([{ id: 7, name: 'far', x: 0, z: 0, yaw: 0 },
              { id: 8, name: 'near', x: 0, z: 0, yaw: 0 }], 0);
const frame = (tick, ids, xs, rateIds = [], rateShifts = []) => others.frame({
  tick, count: ids.length, ids: Uint32Array.from(ids), x: Float32Array.from(xs),
  z: new Float32Array(ids.length), yaw: new Float32Array(ids.length),
  rateIds: Uint32Array.from(rateIds), rateShifts: Uint8Array.from(rateShifts) }, tick / 20);
frame(0, [], [], [7], [2]);
for (let k = 4; k <= 40; k += 4) frame(k, [7], [k * 0.05]);   // 1 m/s, every 4th tick
frame(40, [8], [1]);                                             // still since tick 0, then moves
frame(41, [8], [1.05]);
const far = others.all.get(7).buffer, near = others.all.get(8).buffer;
const xs = [];
for (let t = 1.2; t <= 1.9; t += 0.01) { far.slewLag(t); }      // the lag has reached its target
for (let t = 1.9; t <= 2.1; t += 0.01) {
  const lag = far.slewLag(t);
  xs.push({ t, lag, x: far.sampleAt(t - lag).x });
}
const nearAt = [near.sampleAt(1.9).x, near.sampleAt(1.975).x, near.sampleAt(2.0).x];
console.log(JSON.stringify({ xs, nearAt }));
""",
        None,
    )
    for s in got["xs"]:
        assert s["lag"] == pytest.approx(0.15)
        # drawn where the 1 m/s walk was at (t - lag), not held at a sample
        assert s["x"] == pytest.approx(min(s["t"] - s["lag"], 2.0), abs=1e-6)
    # tick 39 (1.95 s): still at 0; then one tick's walk to 1 m (a jump the server sent)
    assert (
        got["nearAt"][0] == 0 and got["nearAt"][1] == pytest.approx(0.5) and got["nearAt"][2] == 1
    )


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
    pairs: list[list[list[float]]] = []
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
