"""Smoke test: ``python -m bench.search`` at a small size prints its JSON line.

Times are printed by the benchmark but never asserted here (nor ratios of times):
only the keys, the counts, that the figures are finite and positive, and that our
analyzer finds Japanese that plain FTS5 cannot.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

from bench.search_corpus import LANGS, generate, needles

ROOT = Path(__file__).resolve().parents[2]
POSTS = 2000
TIMES = ("type_ms_p50", "type_ms_p90", "type_ms_p99", "type_ms_max", "type_cpu_ms_p99")


def test_corpus_is_seeded_and_plants_every_needle() -> None:
    a, b = generate(500, seed=3), generate(500, seed=3)
    assert a == b
    assert generate(500, seed=4) != a
    planted = {(p.lang, p.needle) for p in a if p.needle is not None}
    assert planted == {(lang, i) for lang in LANGS for i in range(len(needles(lang)))}
    for lang in LANGS:
        assert len(needles(lang)) >= 30
        assert sum(len(n.queries) for n in needles(lang)) >= 30
        assert all(" " not in q for n in needles("ja") for q, _ in n.queries)


def test_small_bench_reports_its_figures() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "bench.search", "--json", "--posts", str(POSTS)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    need = {
        "bench",
        "posts",
        "queries",
        "ours",
        "baseline",
        "baseline_any_word",
        "latency_ratio_p50",
        "latency_ratio_p99",
        "recall_gain",
        "goals",
        "cpu",
        "sqlite",
    }
    assert not need - set(result), need - set(result)
    assert result["bench"] == "search" and result["posts"] == POSTS
    assert isinstance(result["cpu"], str) and result["cpu"]
    assert set(result["queries"]) == set(LANGS) and min(result["queries"].values()) >= 30
    assert set(result["goals"]) == {"type_ms_p99<=10", "recall_at_5>=0.9"}
    ours, base = result["ours"], result["baseline"]
    for side in (ours, base):
        for key in TIMES:
            assert isinstance(side[key], int | float) and math.isfinite(side[key]), key
        assert side["keystrokes"] > 30 * len(LANGS)
        assert side["build_docs_per_s"] > 0 and side["db_mb"] > 0
        assert set(side["recall_at_5"]) == set(LANGS)
        assert all(0.0 <= v <= 1.0 for v in side["recall_at_5"].values())
    assert ours["keystrokes"] == base["keystrokes"]
    # the default tokenizer makes one token of a Japanese run: it finds almost nothing
    assert ours["recall_at_5"]["ja"] > base["recall_at_5"]["ja"]
    assert ours["recall_at_5"]["ja"] > result["baseline_any_word"]["recall_at_5"]["ja"]
    assert result["recall_gain"]["ja"] > 0
