"""Smoke test: ``python -m bench.privacy`` prints its JSON line at a small size.

Times are printed but never asserted; the corpus figures are (recall and the
negatives are deterministic for the corpus, so they are checked against the goals).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_privacy_prints_json_with_the_goals_met() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "bench.privacy", "--json", "--lines", "200", "--repeat", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["bench"] == "privacy"
    assert result["corpus"]["positives"] > 1000 and result["corpus"]["negatives"] > 1000
    assert set(result["corpus"]["languages"]) == {"sv", "da", "de", "ja", "en"}
    assert result["recall_identity"] >= 0.99
    assert result["negatives_changed"] == 0
    assert result["baseline_old_regex"]
    assert result["cpu"]
