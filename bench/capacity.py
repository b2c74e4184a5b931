"""How many clients one server process holds: walking clients stepped up until the
move-to-seen latency or errors give out, and a seated crowd.

    python -m bench.capacity --json [--steps 250,500,1000,1500,2000,2500] [--seconds 10]
        [--seated 2000,5000] [--p99-ms 100]

One ``python -m server run`` process (fresh embedded Redis) serves every run. First
a two-agent run: the idle baseline, measured in the same run as everything else.
Then, for each step, a swarm of that many walking clients (`agents.swarm`: a few
observers decode every frame and measure move-to-seen latency, the rest only count
bytes) for a window of ``--seconds``; stepping stops at the first step whose p99
passes ``--p99-ms``, that sees errors, or that cannot connect everyone. Each step's
line: p50/p99 latency, the server's tick p50/p99 and CPU (from ``/metrics`` and
``/proc``), bytes per client per second, and ``limited_by`` (a step limited by the
swarm's own CPU says so: on a small machine the clients compete with the server).

The seated crowd: the same, with all but one client in twenty standing still
(``--idle``: each walks to a place spread over the entrance zone, then stands), as
attendees in an auditorium do, arriving at ``SEATED_RAMP_PER_S``.

The last line is one JSON object: ``clients_per_process`` (the largest walking step
that held), ``tick_ms_p99`` and ``bytes_per_s_per_client`` at that step,
``seated_clients_per_process``, ``p99_ratio_vs_idle`` (that step's p99 over the
idle baseline's), ``bytes_ratio_vs_full`` and the machine. State frames use the
server's default encoding (``delta``: distance rates, unchanged avatars left out,
int8 deltas); ``bytes_ratio_vs_full`` compares it with the full-rate encoding: the
first walking step is run once more (window at most 5 s) against a second server
with ``SERVICEPOINT_FRAME_ENCODING=full`` (its line: ``"run": "full"``), and the
ratio is the delta step's bytes per client per second over that run's.
Nothing here fails on a time; the exit status is non-zero only if no step held.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
from typing import Any

from bench.machine import machine
from bench.swarm import run_swarm, server_process

OBSERVERS = 4
"""The swarm's observers with its default two worker processes (two each)."""
SEATED_RAMP_PER_S = 150.0
"""A seated crowd arrives at this many a second, as an audience comes in over a while
(each arrival walks to its place; at the swarm's 250 a second the arrivals kept two
cores busy and the accept queue hundreds deep)."""


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def _raise_fd_limit() -> None:
    """Each client is a socket in the swarm and in the server (which inherits this)."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > _soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def step_figures(count: int, run: dict[str, Any]) -> dict[str, Any]:
    """One step's line from a swarm run's figures."""
    server = run.get("server", {})
    latency = run.get("latency_ms") or {}
    tick = server.get("tick_ms") or {}
    return {
        "clients": count,
        "connected": run.get("connected"),
        "errors": run.get("errors"),
        "latency_ms_p50": latency.get("p50"),
        "latency_ms_p99": latency.get("p99"),
        "latency_samples": latency.get("samples"),
        "tick_ms_p50": tick.get("p50"),
        "tick_ms_p99": tick.get("p99"),
        "server_cpu_cores": server.get("cpu_cores"),
        "frames_skipped": server.get("frames_skipped"),
        "bytes_per_s_per_client": run.get("bytes_per_s_per_client"),
        "swarm_cpu_cores": (run.get("swarm") or {}).get("cpu_cores"),
        "limited_by": run.get("limited_by"),
    }


def bytes_ratio(delta: dict[str, Any] | None, full: dict[str, Any] | None) -> float | None:
    """Bytes per client per second of a delta-encoded step over the same step at full rate."""
    a = delta.get("bytes_per_s_per_client") if delta else None
    b = full.get("bytes_per_s_per_client") if full else None
    return round(a / b, 3) if a and b else None


def held(step: dict[str, Any], p99_ms: float) -> bool:
    """Whether a step held: everyone connected, no errors, p99 within the bound."""
    p99 = step["latency_ms_p99"]
    return (
        step["errors"] == 0
        and step["connected"] == step["clients"]
        and p99 is not None
        and p99 <= p99_ms
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench.capacity", description=__doc__.splitlines()[0])
    p.add_argument("--steps", default="250,500,1000,1500,2000,2500")
    p.add_argument("--seated", default="2000,5000")
    p.add_argument("--seconds", type=float, default=10.0, help="each run's window")
    p.add_argument("--p99-ms", type=float, default=100.0)
    p.add_argument("--processes", type=int, default=None, help="swarm worker processes")
    p.add_argument(
        "--near-m",
        type=float,
        default=None,
        help="the server's near_m, and the radius latency is measured in (default: 6)",
    )
    p.add_argument("--json", action="store_true", help="JSON lines (the default)")
    args = p.parse_args(argv)
    near = [] if args.near_m is None else ["--near-m", str(args.near_m)]
    near_env = {} if args.near_m is None else {"SERVICEPOINT_NEAR_M": str(args.near_m)}
    _raise_fd_limit()
    info = machine()
    print(json.dumps({"bench": "machine", **info}), flush=True)
    walking: list[dict[str, Any]] = []
    seated: list[dict[str, Any]] = []
    with server_process(env=near_env) as (port, pid):
        idle = step_figures(2, run_swarm(port, 2, min(args.seconds, 5.0), pid, None, *near))
        print(json.dumps({"run": "idle", **idle}), flush=True)
        for count in _ints(args.steps):
            run = run_swarm(port, count, args.seconds, pid, args.processes, *near)
            step = step_figures(count, run)
            step["held"] = held(step, args.p99_ms)
            walking.append(step)
            print(json.dumps({"run": "walking", **step}), flush=True)
            if not step["held"]:
                break
        for count in _ints(args.seated):
            # Mostly still: a few walk (one in twenty, at least 16) so the observers,
            # which match the moves of their own process's agents, have moves to see.
            still = max(0, count - OBSERVERS - max(16, count // 20))
            ramp = ["--ramp", str(max(1.0, count / SEATED_RAMP_PER_S))]
            run = run_swarm(
                port, count, args.seconds, pid, args.processes, "--idle", str(still), *ramp, *near
            )
            step = step_figures(count, run)
            step["held"] = held(step, args.p99_ms)
            seated.append(step)
            print(json.dumps({"run": "seated", **step}), flush=True)
            if not step["held"]:
                break
    full: dict[str, Any] | None = None
    if walking:
        # The same walking step at the full rate, for bytes_ratio_vs_full (bytes do not
        # depend on the machine's load; a short window is enough).
        full_env = {**near_env, "SERVICEPOINT_FRAME_ENCODING": "full"}
        with server_process(env=full_env) as (port, pid):
            count = walking[0]["clients"]
            run = run_swarm(port, count, min(args.seconds, 5.0), pid, args.processes, *near)
            full = step_figures(count, run)
        print(json.dumps({"run": "full", **full}), flush=True)
    best = max((s for s in walking if s["held"]), key=lambda s: s["clients"], default=None)
    best_seated = max((s for s in seated if s["held"]), key=lambda s: s["clients"], default=None)
    idle_p99 = idle["latency_ms_p99"]
    summary = {
        "bench": "capacity",
        "cpu": info["cpu"],
        "p99_bound_ms": args.p99_ms,
        "clients_per_process": best["clients"] if best else 0,
        "tick_ms_p99": best["tick_ms_p99"] if best else None,
        "latency_ms_p99": best["latency_ms_p99"] if best else None,
        "bytes_per_s_per_client": best["bytes_per_s_per_client"] if best else None,
        "limited_by": best["limited_by"] if best else None,
        "first_failing_step": next((s["clients"] for s in walking if not s["held"]), None),
        "seated_clients_per_process": best_seated["clients"] if best_seated else 0,
        "idle_latency_ms_p99": idle_p99,
        "p99_ratio_vs_idle": (
            round(best["latency_ms_p99"] / idle_p99, 2)
            if best and best["latency_ms_p99"] and idle_p99
            else None
        ),
        "bytes_ratio_vs_full": bytes_ratio(walking[0] if walking else None, full),
        "encoding": "delta (distance rates, changes only, int8 deltas) vs full",
    }
    print(json.dumps(summary), flush=True)
    return 0 if best is not None else 1


if __name__ == "__main__":
    sys.exit(main())
