"""Smoke test: ``python -m bench.spatial --quick --json`` runs and meets the quality goals.

Times are printed by the benchmark but never asserted here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CONFIG_KEYS = {
    "workload",
    "n",
    "observers",
    "ms_median",
    "ms_p99",
    "baseline_ms_median",
    "ratio",
    "recall",
    "recall_5m",
    "max_visible",
    "flicker",
    "flicker_exact",
    "peak_mb",
    "quality_ok",
    "fixed_ms_median",
    "phases_ms",
    "rows_per_tick",
}


def test_quick_bench_reports_quality() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "bench.spatial", "--quick", "--json", "--sizes", "600"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    # The machine comes first: the CPU model and what numba compiles for.
    assert rows[0]["bench"] == "machine" and rows[0]["cpu"] and "numba_target" in rows[0]
    configs = [r for r in rows if "bench" not in r]
    assert {r["workload"] for r in configs} == {"uniform", "crowd", "queues"}
    for r in configs:
        assert not CONFIG_KEYS - set(r), CONFIG_KEYS - set(r)
        assert r["n"] == 600 and r["observers"] == 600
        assert r["recall"] >= 0.99
        assert r["recall_5m"] == 1.0
        assert 0 < r["max_visible"] <= 64
        assert r["flicker"] < r["flicker_exact"]
        assert r["quality_ok"] is True
        assert set(r["phases_ms"]) == {"band", "lists", "output", "other"}
        assert set(r["rows_per_tick"]) == {"rebased", "reanchored", "rebuilt"}
        assert r["truth_agreement"] is None or r["truth_agreement"] >= 0.999
    frames = [r for r in rows if r.get("bench") == "frames"]
    assert len(frames) == 1 and frames[0]["observers"] == 600 and frames[0]["bytes_per_tick"] > 0
    assert rows[-1]["bench"] == "total" and rows[-1]["ok"] is True
