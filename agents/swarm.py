"""A swarm of walking avatars, and what they measure.

    python -m agents.swarm --url ws://127.0.0.1:8000/ws --count 200 --seconds 15 --json

Each avatar plays a part: walks to a desk and waits in front of it, wanders
the lobby and hall, or gathers before the stage. It prints one JSON object:

- ``connected``: agents that joined;
- ``frames_per_s``: state frames received per agent per second;
- ``latency_ms`` ``p50``/``p99``: move-to-seen latency, from the moment an
  agent sends a move until an agent observing it receives a frame showing
  it there (every agent is both a mover and an observer);
- ``bytes_per_s_per_client``: bytes received per agent per second;
- ``errors``: error messages plus unexpected closes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import sys
import time
from typing import Any

import numpy as np

from agents.client import AgentClient
from agents.navigation import Navigator

RING = 16
"""Moves remembered per agent for latency matching."""


class LatencyBook:
    """Recent moves of every agent, matched against what observers see.

    Moves are kept at centimetre precision, as the state frame quantises them,
    so a frame showing agent A at a remembered position was caused by that
    move. Each (observer, mover, move) pair is counted once, at first sight.
    """

    def __init__(self, capacity: int) -> None:
        self.index = np.full(1, -1, dtype=np.int64)  # entity id -> agent index
        self.qx = np.zeros((capacity, RING), dtype=np.int32)
        self.qz = np.zeros((capacity, RING), dtype=np.int32)
        self.t = np.zeros((capacity, RING), dtype=np.float64)
        self.seq = np.zeros((capacity, RING), dtype=np.int64)
        self.head = np.zeros(capacity, dtype=np.int64)
        self.seen_seq = np.zeros((capacity, capacity), dtype=np.int64)  # observer x mover
        self.samples: list[float] = []

    def register(self, agent: int, entity: int) -> None:
        if entity >= self.index.size:
            grown = np.full(max(entity + 1, self.index.size * 2), -1, dtype=np.int64)
            grown[: self.index.size] = self.index
            self.index = grown
        self.index[entity] = agent

    def moved(self, agent: int, x: float, z: float, seq: int, now: float) -> None:
        h = self.head[agent] % RING
        self.qx[agent, h] = round(x * 100)
        self.qz[agent, h] = round(z * 100)
        self.t[agent, h] = now
        self.seq[agent, h] = seq
        self.head[agent] += 1

    def observed(self, observer: int, ids: np.ndarray, qpos: np.ndarray, now: float) -> None:
        if ids.size == 0:
            return
        ids = ids.astype(np.int64)
        ok = ids < self.index.size
        ids, qpos = ids[ok], qpos[ok]
        movers = self.index[ids]
        known = movers >= 0
        movers, qpos = movers[known], qpos[known]
        if movers.size == 0:
            return
        hit = (self.qx[movers] == qpos[:, :1]) & (self.qz[movers] == qpos[:, 1:2])
        rows = np.flatnonzero(hit.any(axis=1))
        if rows.size == 0:
            return
        cols = hit[rows].argmax(axis=1)
        m = movers[rows]
        seqs = self.seq[m, cols]
        fresh = seqs > self.seen_seq[observer, m]
        if not fresh.any():
            return
        self.seen_seq[observer, m[fresh]] = seqs[fresh]
        self.samples.extend((now - self.t[m[fresh], cols[fresh]]).tolist())


async def run_agent(
    i: int,
    url: str,
    book: LatencyBook,
    stop_at: float,
    rng: random.Random,
    report: dict[str, Any],
) -> None:
    client = AgentClient(url, name=f"Agent {i}", avatar="round")
    try:
        await client.connect()
    except Exception as exc:  # counted, not raised: a swarm reports, it does not crash
        report["connect_errors"] += 1
        report["last_error"] = repr(exc)
        return
    report["connected"] += 1
    client.keep_messages = False  # a swarm only counts; it keeps no message log
    client.track_positions = False
    client.messages.clear()
    book.register(i, client.id)

    def on_frame(c: AgentClient, frame: Any, now: float) -> None:
        q = np.round(frame.positions * 100).astype(np.int32)
        book.observed(i, frame.ids, q, now)

    client.on_frame = on_frame
    assert client.welcome is not None
    nav = Navigator(client.welcome["world"])
    part = rng.choice(["desk", "desk", "wander", "stage", "stage"])
    speed = rng.uniform(1.0, 1.5)
    hz = 10.0
    x, z = client.x, client.z
    started = time.monotonic()
    try:
        while time.monotonic() < stop_at and client.closed is not None and not client.closed.done():
            goal = nav.goal(part, rng)
            for wx, wz in nav.route(x, z, goal[0], goal[1]):
                while time.monotonic() < stop_at:
                    dx, dz = wx - x, wz - z
                    d = math.hypot(dx, dz)
                    if d < 0.05:
                        break
                    step = min(d, speed / hz)
                    x, z = x + dx / d * step, z + dz / d * step
                    yaw = math.atan2(-dx, -dz)
                    await client.move(x, z, yaw)
                    book.moved(i, client.x, client.z, client.seq, time.monotonic())
                    await asyncio.sleep(1 / hz)
            # Stand a while: queueing, listening, chatting.
            await asyncio.sleep(rng.uniform(0.5, 3.0))
    except Exception as exc:
        report["run_errors"] += 1
        report["last_error"] = repr(exc)
    finally:
        elapsed = max(1e-9, time.monotonic() - started)
        report["frames"].append(client.stats.frames / elapsed)
        report["bytes"].append(client.stats.bytes_in / elapsed)
        report["errors"] += len(client.stats.errors)
        if client.closed is not None and client.closed.done():
            report["unexpected_closes"] += 1
        await client.close()


async def swarm(url: str, count: int, seconds: float, seed: int = 1) -> dict[str, Any]:
    rng = random.Random(seed)
    book = LatencyBook(count)
    report: dict[str, Any] = {
        "connected": 0,
        "connect_errors": 0,
        "run_errors": 0,
        "unexpected_closes": 0,
        "errors": 0,
        "frames": [],
        "bytes": [],
    }
    # Ramp up over a second so the server sees arrivals, not a thundering herd.
    stop_at = time.monotonic() + seconds + 1.0
    tasks = []
    for i in range(count):
        tasks.append(
            asyncio.create_task(
                run_agent(i, url, book, stop_at, random.Random(rng.random()), report)
            )
        )
        await asyncio.sleep(1.0 / max(count, 1))
    await asyncio.gather(*tasks)
    lat = np.array(book.samples) * 1000.0
    out: dict[str, Any] = {
        "count": count,
        "seconds": seconds,
        "connected": report["connected"],
        "frames_per_s": round(float(np.mean(report["frames"])) if report["frames"] else 0.0, 2),
        "latency_ms": {
            "p50": round(float(np.percentile(lat, 50)), 2) if lat.size else None,
            "p99": round(float(np.percentile(lat, 99)), 2) if lat.size else None,
            "samples": int(lat.size),
        },
        "bytes_per_s_per_client": round(
            float(np.mean(report["bytes"])) if report["bytes"] else 0.0
        ),
        "errors": report["errors"]
        + report["connect_errors"]
        + report["run_errors"]
        + report["unexpected_closes"],
    }
    if "last_error" in report:
        out["last_error"] = report["last_error"]
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="agents.swarm", description=__doc__.splitlines()[0])
    p.add_argument("--url", default="ws://127.0.0.1:8000/ws")
    p.add_argument("--count", type=int, default=50)
    p.add_argument("--seconds", type=float, default=15.0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", action="store_true", help="print one JSON object (the default)")
    args = p.parse_args(argv)
    try:
        import uvloop

        result = uvloop.run(swarm(args.url, args.count, args.seconds, args.seed))
    except ImportError:  # pragma: no cover
        result = asyncio.run(swarm(args.url, args.count, args.seconds, args.seed))
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0 if result["errors"] == 0 and result["connected"] == args.count else 1


if __name__ == "__main__":
    raise SystemExit(main())
