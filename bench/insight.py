"""Insight benchmark: the incremental dashboard refresh against a full recompute.

    python -m bench.insight --json                      # 90 days x 5,000 cases/day
    python -m bench.insight --days 3 --per-day 500 --json   # the same, small (seconds)
    python -m bench.insight --quick --json              # = --days 3 --per-day 500 --refreshes 200

It generates, directly as stream entries (no server), a service point's history in
Europe/Stockholm: ``--days`` days of ``--per-day`` cases over four services, open
08-18 local. Each case is a desk queue history (``arrived``, ``called``,
``started``, ``ended``), with transfers (~5%), no-shows (~3%) and abandons (~5%,
short and long); about 60% of the ended cases are offered a survey and ~30% of
all cases are rated; kiosks get a few answers a day; staff go available, on
break and off. Entry ids are ``<ms>-<seq>`` and strictly increase per stream.

It then measures, on one core:

(a) the refresh: an `Insight` is loaded with every entry up to the last day's
    ``--cut`` share of activity (so today already holds most of its cases), one
    dashboard is drawn (the cold one: it summarises the trend's days once), and
    then, ``--refreshes`` times, the next 1-10 entries (in time order, across the
    three streams: the entries of about one busy second) are applied and
    `Insight.dashboard` is called. ``refresh_ms_p50`` / ``refresh_ms_p99`` are
    over those refreshes (apply + dashboard, wall time, perf_counter).
(b) the full recompute: `recompute` over every entry applied so far (a fresh
    `Insight` built from the whole log, then its dashboard), ``full_recompute_ms``
    (best of ``--repeat``). ``ratio_vs_full`` = full / refresh p50; ``matches``
    says the incremental dashboard equals the recomputed one exactly.

The goal of the issue: refresh <= 20 ms and >= 50x faster than the full recompute
(``goals``). The last line printed is one JSON object. It never fails on a time.
"""

from __future__ import annotations

import argparse
import gc
import heapq
import json
import math
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from bench.machine import cpu_model
from server.features.insight.stats import Calendar, Insight, recompute

TZ = ZoneInfo("Europe/Stockholm")
SERVICES = ("general", "registration", "benefits", "permits")
SERVICE_SHARE = (0.4, 0.25, 0.2, 0.15)
TARGETS = {"general": 600.0, "registration": 600.0, "benefits": 900.0, "permits": 1200.0}
MEAN_WAIT_S = {"general": 300.0, "registration": 360.0, "benefits": 540.0, "permits": 600.0}
OPEN_HOUR, CLOSE_HOUR = 8, 18
HOUR_PROFILE = (0.6, 1.0, 1.2, 1.1, 0.9, 1.0, 1.1, 1.0, 0.8, 0.5)  # arrivals 08..17
STAFF = 24
KIOSK_PER_DAY = 40
RATINGS = (0.05, 0.07, 0.13, 0.35, 0.40)

Entry = tuple[str, dict[str, str]]
Stream = list[tuple[float, Entry]]


def calendar() -> Calendar:
    return Calendar(tz=TZ, targets=TARGETS, hours={d: (OPEN_HOUR, CLOSE_HOUR) for d in range(7)})


# -- the history --------------------------------------------------------------------


class History:
    """The three streams, each a list of (ts, (entry id, fields)) in id order."""

    def __init__(self) -> None:
        self.raw: dict[str, list[tuple[float, int, dict[str, str]]]] = {
            "queue": [],
            "duty": [],
            "feedback": [],
        }
        self.n = 0
        self.cases = 0
        self.streams: dict[str, Stream] = {}

    def add(self, stream: str, ts: float, fields: dict[str, str]) -> None:
        fields["ts"] = f"{ts:.3f}"
        self.n += 1
        self.raw[stream].append((ts, self.n, fields))

    def finish(self) -> None:
        for name, items in self.raw.items():
            items.sort(key=lambda x: (x[0], x[1]))
            out: Stream = []
            last_ms, seq = -1, 0
            for ts, _n, fields in items:
                ms = int(ts * 1000)
                if ms <= last_ms:
                    ms, seq = last_ms, seq + 1
                else:
                    seq = 0
                last_ms = ms
                out.append((ts, (f"{ms}-{seq}", fields)))
            self.streams[name] = out
        self.raw = {}

    @property
    def events(self) -> int:
        return sum(len(s) for s in self.streams.values())


def generate(days: int, per_day: int, seed: int, last_day: date) -> History:
    rng = np.random.default_rng(seed)
    h = History()
    staff = [f"staff-{i:02d}" for i in range(STAFF)]
    desks = [f"desk-{i % 12 + 1:02d}" for i in range(STAFF)]
    skills = [sorted({SERVICES[i % 4], SERVICES[(i * 7 + 1) % 4], "general"}) for i in range(STAFF)]
    able = {s: [i for i in range(STAFF) if s in skills[i]] for s in SERVICES}
    profile = np.asarray(HOUR_PROFILE) / sum(HOUR_PROFILE)
    cumulative = np.cumsum(RATINGS)
    letters = {s: "ABCD"[i] for i, s in enumerate(SERVICES)}
    counters = dict.fromkeys(SERVICES, 0)
    survey = 0
    for k in range(days):
        day = last_day - timedelta(days=days - 1 - k)
        opening = datetime(day.year, day.month, day.day, OPEN_HOUR, tzinfo=TZ).timestamp()
        # duty: on at opening, a lunch break, off after closing
        for i in range(STAFF):
            common = {"staff": staff[i], "desk": desks[i], "services": ",".join(skills[i])}
            lunch = opening + 4 * 3600 + float(rng.uniform(0, 3600))
            h.add("duty", opening - 300 + i, {"type": "available", **common})
            h.add("duty", lunch, {"type": "break", **common})
            h.add("duty", lunch + 1800, {"type": "available", **common})
            h.add(
                "duty", opening + (CLOSE_HOUR - OPEN_HOUR) * 3600 + 600, {"type": "off", **common}
            )
        n = per_day
        hours = rng.choice(len(HOUR_PROFILE), size=n, p=profile)
        arrivals = np.sort(opening + hours * 3600.0 + rng.uniform(0, 3600, n))
        services = rng.choice(4, size=n, p=SERVICE_SHARE)
        fates = rng.random(n)
        waits = rng.exponential(1.0, n)
        handles = rng.lognormal(math.log(300), 0.5, n)
        extra = rng.random((n, 8))
        for j in range(n):
            a = float(arrivals[j])
            service = SERVICES[int(services[j])]
            counters[service] += 1
            ticket = f"{letters[service]}-{counters[service]:05d}"
            h.cases += 1
            h.add(
                "queue",
                a,
                {
                    "type": "arrived",
                    "ticket": ticket,
                    "service": service,
                    "lang": "sv",
                    "citizen": str(1000 + j),
                    "name": "Citizen",
                },
            )
            fate = float(fates[j])
            wait = float(waits[j]) * MEAN_WAIT_S[service]
            x = extra[j]
            if fate < 0.05:  # left while waiting: half short, half long abandons
                h.add(
                    "queue",
                    a + float(x[0]) * 2 * TARGETS[service],
                    {"type": "left", "ticket": ticket},
                )
                continue
            who = able[service][int(x[1] * len(able[service]))]
            called = a + wait
            h.add(
                "queue",
                called,
                {"type": "called", "ticket": ticket, "staff": staff[who], "desk": desks[who]},
            )
            if fate < 0.08:  # called, never came
                h.add(
                    "queue",
                    called + 120.0,
                    {"type": "no_show", "ticket": ticket, "outcome": "no_show"},
                )
                continue
            started = called + 15.0 + 45.0 * float(x[2])
            h.add("queue", started, {"type": "started", "ticket": ticket})
            if fate < 0.13:  # served, then sent to another service's queue
                moved = SERVICES[(SERVICES.index(service) + 1 + int(x[3] * 3)) % 4]
                back = started + 60.0 + 120.0 * float(x[3])
                h.add("queue", back, {"type": "transferred", "ticket": ticket, "service": moved})
                who = able[moved][int(x[4] * len(able[moved]))]
                called = back + float(x[5]) * MEAN_WAIT_S[moved]
                h.add(
                    "queue",
                    called,
                    {"type": "called", "ticket": ticket, "staff": staff[who], "desk": desks[who]},
                )
                started = called + 20.0
                h.add("queue", started, {"type": "started", "ticket": ticket})
                service = moved
            ended = started + float(handles[j])
            outcome = "resolved" if x[2] < 0.85 else "referred"
            h.add("queue", ended, {"type": "ended", "ticket": ticket, "outcome": outcome})
            r = float(x[0])
            if r < 0.6:  # a survey is offered
                survey += 1
                sid = f"c{survey}"
                common = {
                    "survey": sid,
                    "kind": "case",
                    "ticket": ticket,
                    "service": service,
                    "desk": desks[who],
                    "staff": staff[who],
                    "outcome": outcome,
                }
                h.add("feedback", ended + 1.0, {"type": "offered", **common})
                if r < 0.33:
                    rating = 1 + min(4, int(np.searchsorted(cumulative, x[6], side="right")))
                    answer = {"type": "answered", **common, "rating": str(rating)}
                    if x[5] < 0.7:
                        answer["easy"] = str(max(1, min(5, rating + int(x[7] * 3) - 1)))
                    h.add("feedback", ended + 10.0 + 110.0 * float(x[3]), answer)
                elif r < 0.45:
                    h.add("feedback", ended + 20.0, {"type": "dismissed", **common})
        for i in range(KIOSK_PER_DAY):
            survey += 1
            t = opening + float(rng.uniform(0, (CLOSE_HOUR - OPEN_HOUR) * 3600))
            common = {"survey": f"k{survey}", "kind": "kiosk"}
            h.add("feedback", t, {"type": "offered", **common, "zone": "hall"})
            if i % 3:
                stars = str(int(rng.integers(1, 6)))
                h.add("feedback", t + 30.0, {"type": "answered", **common, "rating": stars})
    h.finish()
    return h


# -- the measurement ----------------------------------------------------------------


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=np.float64), q, method="linear"))


def run(args: argparse.Namespace, log: Callable[[str], None]) -> dict[str, Any]:
    began = time.perf_counter()
    last_day = date.fromisoformat(args.today)
    history = generate(args.days, args.per_day, args.seed, last_day)
    generated_s = time.perf_counter() - began
    log(f"generated {history.cases} cases, {history.events} entries in {generated_s:.1f} s")

    cal = calendar()
    day_open = datetime(last_day.year, last_day.month, last_day.day, OPEN_HOUR, tzinfo=TZ)
    cut = day_open.timestamp() + args.cut * (CLOSE_HOUR - OPEN_HOUR) * 3600
    order = ("queue", "duty", "feedback")
    merged = list(
        heapq.merge(
            *(
                [(ts, k, entry) for ts, entry in history.streams[name]]
                for k, name in enumerate(order)
            ),
            key=lambda x: (x[0], x[1]),
        )
    )
    split = next((i for i, item in enumerate(merged) if item[0] >= cut), len(merged))

    insight = Insight(cal)
    apply: list[Callable[[str, Mapping[str, str]], None]] = [
        insight.apply_queue,
        insight.apply_duty,
        insight.apply_feedback,
    ]
    t0 = time.perf_counter()
    for _ts, k, (entry_id, fields) in merged[:split]:
        apply[k](entry_id, fields)
    load_ms = (time.perf_counter() - t0) * 1000
    now = merged[split - 1][0] if split else cut
    t0 = time.perf_counter()
    insight.dashboard(now)
    first_ms = (time.perf_counter() - t0) * 1000
    log(f"loaded {split} entries in {load_ms:.0f} ms; first (cold) dashboard {first_ms:.1f} ms")

    rng = np.random.default_rng(args.seed + 1)
    sizes = rng.integers(1, 11, size=max(1, args.refreshes))
    times: list[float] = []
    applied = 0
    pos = split
    gc.collect()
    full_before = gc.get_stats()[2]["collections"]
    for size in sizes:
        if pos >= len(merged):
            break
        chunk = merged[pos : pos + int(size)]
        t0 = time.perf_counter()
        for _ts, k, (entry_id, fields) in chunk:
            apply[k](entry_id, fields)
        insight.dashboard(chunk[-1][0])
        times.append((time.perf_counter() - t0) * 1000)
        applied += len(chunk)
        pos += len(chunk)
        now = chunk[-1][0]
    full_gcs = gc.get_stats()[2]["collections"] - full_before
    p50 = _pct(times, 50) if times else math.nan
    p99 = _pct(times, 99) if times else math.nan
    log(f"{len(times)} refreshes of {applied} entries: p50 {p50:.2f} ms, p99 {p99:.2f} ms")

    # (b) the full recompute over exactly what the incremental state has seen
    seen: dict[str, list[Entry]] = {name: [] for name in order}
    for _ts, k, entry in merged[:pos]:
        seen[order[k]].append(entry)
    del merged
    best = math.inf
    full: dict[str, Any] = {}
    for _ in range(max(1, args.repeat)):
        gc.collect()
        t0 = time.perf_counter()
        full = recompute(cal, seen["queue"], seen["duty"], seen["feedback"], now)
        best = min(best, (time.perf_counter() - t0) * 1000)
    log(f"full recompute of {pos} entries: {best:.0f} ms")
    matches = insight.dashboard(now) == full
    today = full["totals"]["today"]
    ratio = best / p50 if p50 > 0 else math.nan
    return {
        "bench": "insight",
        "refresh_ms_p50": round(p50, 3),
        "refresh_ms_p99": round(p99, 3),
        "refresh_ms_mean": round(statistics.fmean(times), 3) if times else None,
        "refresh_ms_max": round(max(times), 3) if times else None,
        "full_recompute_ms": round(best, 1),
        "ratio_vs_full": round(ratio, 1),
        "ratio_vs_full_p99": round(best / p99, 1) if p99 > 0 else None,
        "first_dashboard_ms": round(first_ms, 2),
        "load_ms": round(load_ms, 1),
        "refreshes": len(times),
        "entries_per_refresh": round(applied / len(times), 2) if times else 0.0,
        "gc_full_collections": full_gcs,
        "matches": matches,
        "days": args.days,
        "per_day": args.per_day,
        "cases": history.cases,
        "events": history.events,
        "events_by_stream": {name: len(s) for name, s in history.streams.items()},
        "today_cases": today["volume"],
        "today_service_level": today["service_level"],
        "goals": {
            "refresh_ms_p99<=20": p99 <= 20,
            "ratio_vs_full>=50": ratio >= 50,
        },
        "cpu": cpu_model(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "seconds": round(time.perf_counter() - began, 1),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.insight", description=__doc__.split("\n")[0])
    p.add_argument("--json", action="store_true", help="progress to stderr, JSON on stdout")
    p.add_argument("--quick", action="store_true", help="--days 3 --per-day 500 --refreshes 200")
    p.add_argument("--days", type=int, default=90)
    p.add_argument("--per-day", type=int, default=5000)
    p.add_argument("--refreshes", type=int, default=1000)
    p.add_argument("--repeat", type=int, default=1, help="full recomputes (the best counts)")
    p.add_argument("--cut", type=float, default=0.8, help="share of the last day loaded first")
    p.add_argument("--today", default="2026-12-02", help="the last (local) day of the history")
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args(argv)
    if args.quick:
        args.days, args.per_day, args.refreshes = 3, 500, 200

    def log(line: str) -> None:
        print(line, file=sys.stderr if args.json else sys.stdout, flush=True)

    result = run(args, log)
    if not args.json:
        print(
            f"refresh p50 {result['refresh_ms_p50']} ms, p99 {result['refresh_ms_p99']} ms; "
            f"full recompute {result['full_recompute_ms']} ms; x{result['ratio_vs_full']}"
        )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
