"""End-to-end load: a real server process and a swarm of agents.

    python -m bench.swarm [--count 200] [--seconds 15] --json

Starts ``python -m server run`` on a free port with a fresh embedded Redis,
runs a 2-agent swarm (the baseline: latency with no load) and then the full
swarm, against the same server, and prints one JSON line each plus a summary
line with the ratio of the loaded p99 to the idle p99, the server's tick p99
and what limited the run (``limited_by``: client, server, machine or none).
The swarm is given the server's pid, so its CPU is reported. It never fails on
a time; it exits non-zero only when agents failed to connect or saw errors.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from typing import Any


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_healthy(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("server did not become healthy")


@contextlib.contextmanager
def server_process(*args: str, env: dict[str, str] | None = None) -> Iterator[tuple[int, int]]:
    """``python -m server run`` on a free port with a fresh embedded Redis and a throwaway
    signing secret (``env``: more environment, e.g. settings); yields (port, pid) once
    healthy, and stops it afterwards."""
    port = _free_port()
    extra = env or {}
    with tempfile.TemporaryDirectory() as data:
        env = {**os.environ, "SERVICEPOINT_SECRET": secrets.token_urlsafe(32), **extra}
        server = subprocess.Popen(
            [sys.executable, "-m", "server", "run", "--port", str(port), "--data-dir", data, *args],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_healthy(port)
            yield port, server.pid
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=20)


def run_swarm(
    port: int,
    count: int,
    seconds: float,
    server_pid: int,
    processes: int | None,
    *extra: str,
) -> dict[str, Any]:
    """One ``agents.swarm`` run against the server on ``port``; its JSON figures."""
    cmd = [
        sys.executable,
        "-m",
        "agents.swarm",
        "--url",
        f"ws://127.0.0.1:{port}/ws",
        "--count",
        str(count),
        "--seconds",
        str(seconds),
        "--server-pid",
        str(server_pid),
        "--json",
    ]
    if processes is not None:
        cmd += ["--processes", str(processes)]
    cmd += list(extra)
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench.swarm")
    p.add_argument("--count", type=int, default=200)
    p.add_argument("--seconds", type=float, default=15.0)
    p.add_argument("--processes", type=int, default=None, help="swarm worker processes")
    p.add_argument("--json", action="store_true", help="JSON lines (the default)")
    args = p.parse_args(argv)
    with server_process() as (port, pid):
        idle = run_swarm(port, 2, min(args.seconds, 5.0), pid, None)
        loaded = run_swarm(port, args.count, args.seconds, pid, args.processes)
    print(json.dumps({"run": "baseline", **idle}))
    print(json.dumps({"run": "swarm", **loaded}))
    idle_p99 = (idle.get("latency_ms") or {}).get("p99")
    p99 = (loaded.get("latency_ms") or {}).get("p99")
    summary = {
        "bench": "swarm",
        "count": args.count,
        "p99_ms": p99,
        "baseline_p99_ms": idle_p99,
        "ratio": round(p99 / idle_p99, 2) if p99 and idle_p99 else None,
        "tick_p99_ms": (loaded.get("server", {}).get("tick_ms") or {}).get("p99"),
        "limited_by": loaded.get("limited_by"),
        "errors": loaded["errors"],
        "connected": loaded["connected"],
    }
    print(json.dumps(summary))
    return 0 if loaded["errors"] == 0 and loaded["connected"] == args.count else 1


if __name__ == "__main__":
    raise SystemExit(main())
