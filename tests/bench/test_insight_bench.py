"""Smoke test: ``python -m bench.insight`` at a tiny size prints its JSON line.

Times are printed by the benchmark but never asserted here (nor ratios of times):
only the keys, the counts, that the figures are finite and positive, and that the
incremental dashboard equals the full recompute.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

TINY = ("--days", "2", "--per-day", "300", "--refreshes", "40")
TIMES = (
    "refresh_ms_p50",
    "refresh_ms_p99",
    "refresh_ms_mean",
    "refresh_ms_max",
    "full_recompute_ms",
    "ratio_vs_full",
    "first_dashboard_ms",
    "load_ms",
)


def test_tiny_bench_reports_its_figures() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "bench.insight", "--json", *TINY],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    need = {*TIMES, "cases", "events", "cpu", "refreshes", "matches", "goals", "events_by_stream"}
    assert not need - set(result), need - set(result)
    assert result["bench"] == "insight"
    assert result["cases"] == 600 and 0 < result["today_cases"] <= 300
    assert result["events"] == sum(result["events_by_stream"].values())
    assert result["events"] > 4 * result["cases"]  # arrive, call, start, end + feedback, duty
    assert set(result["events_by_stream"]) == {"queue", "duty", "feedback"}
    assert all(n > 0 for n in result["events_by_stream"].values())
    assert 0 < result["refreshes"] <= 40
    assert 1 <= result["entries_per_refresh"] <= 10
    for key in TIMES:
        value = result[key]
        assert isinstance(value, int | float) and math.isfinite(value) and value > 0, key
    assert result["matches"] is True
    assert isinstance(result["cpu"], str) and result["cpu"]
    assert set(result["goals"]) == {"refresh_ms_p99<=20", "ratio_vs_full>=50"}
