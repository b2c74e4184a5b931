"""Smoke test: ``python -m bench.home`` at a tiny size (two real server processes on one
embedded Redis) prints its JSON line. Times are printed, never asserted: only that both
clients were answered every time and every figure is there."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_tiny_home_bench_reports_its_figures() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for name in ("REDIS_URL", "SERVICEPOINT_REDIS_URL", "SERVICEPOINT_CLUSTER"):
        env.pop(name, None)
    proc = subprocess.run(
        [sys.executable, "-m", "bench.home", "--json", "--rounds", "20"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    line = json.loads(proc.stdout.strip().splitlines()[-1])
    assert line["bench"] == "home" and line["rounds"] == 20
    for key in ("local_ms_p50", "local_ms_p99", "forwarded_ms_p50", "forwarded_ms_p99"):
        assert math.isfinite(line[key]) and line[key] > 0, key
    assert line["ratio_p50"] is not None and line["machine"]["cpu"]
