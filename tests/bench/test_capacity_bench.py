"""Smoke test: ``python -m bench.capacity`` at a tiny size against a real server process.

Times are printed by the benchmark but never asserted here: only that every run line
and the summary carry their figures, that the counts add up, and that the summary is
taken from the step that held.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# A few agents may all be farther apart than the 6 m latency is measured in, so the
# tiny run widens the server's near_m (and the swarm's radius) to see every move.
TINY = (
    *("--steps", "3", "--seated", "5", "--seconds", "1", "--p99-ms", "60000"),
    *("--near-m", "1000"),
)
KEYS = ("clients_per_process", "tick_ms_p99", "bytes_per_s_per_client", "bytes_ratio_vs_full")


def test_tiny_capacity_run_reports_its_figures() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "bench.capacity", "--json", *TINY],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = [json.loads(line) for line in proc.stdout.strip().splitlines()]
    assert lines[0]["bench"] == "machine" and lines[0]["cpu"]
    runs = {line.get("run"): line for line in lines if "run" in line}
    assert set(runs) == {"idle", "walking", "seated", "full"}
    for run in runs.values():
        assert run["connected"] == run["clients"] and run["errors"] == 0
        assert run["latency_samples"] > 0 and run["bytes_per_s_per_client"] > 0
    summary = lines[-1]
    assert summary["bench"] == "capacity" and all(k in summary for k in KEYS)
    assert summary["clients_per_process"] == 3 and summary["seated_clients_per_process"] == 5
    assert summary["bytes_per_s_per_client"] == runs["walking"]["bytes_per_s_per_client"]
    # the delta encoding against the same walking step at the full rate
    ratio = runs["walking"]["bytes_per_s_per_client"] / runs["full"]["bytes_per_s_per_client"]
    assert summary["bytes_ratio_vs_full"] == round(ratio, 3)
    assert 0 < summary["bytes_ratio_vs_full"] < 1
