"""Metrics: prometheus_client families, per-app registries, multiprocess aggregation."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.parser import text_string_to_metric_families

from server.metrics import CONTENT_TYPE, TICK_BUCKETS, Metrics
from spatial.interest import InterestStats

ROOT = Path(__file__).resolve().parents[2]


def samples(m: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """``{(sample name, sorted labels): value}`` from ``m.render()``."""
    out = {}
    for family in text_string_to_metric_families(m.render().decode()):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(m: Metrics, name: str, **labels: str) -> float:
    return samples(m)[(name, tuple(sorted(labels.items())))]


def test_every_family_with_values() -> None:
    m = Metrics()
    m.connection_opened()
    m.connection_opened()
    m.connection_closed()
    m.set_avatars(7)
    m.messages_in += 3
    m.messages_out += 5
    m.bytes_in += 100
    m.bytes_out += 250
    m.frames_skipped += 2
    m.error("bad_message")
    m.error("bad_message")
    m.error("rate_limited")
    m.close(4008)
    m.observe_tick(0.003)
    m.observe_tick(0.3)
    m.interest = InterestStats(rows=10, rebased=2, reanchored=1, rebuilt=3)
    m.interest.band_ns, m.interest.lists_ns, m.interest.output_ns = 10**9, 2 * 10**9, 5 * 10**8
    m.interest.total_ns = 4 * 10**9

    text = m.render().decode()
    got = samples(m)
    assert got[("servicepoint_connections", ())] == 1
    assert got[("servicepoint_avatars", ())] == 7
    assert got[("servicepoint_messages_in_total", ())] == 3
    assert got[("servicepoint_messages_out_total", ())] == 5
    assert got[("servicepoint_bytes_in_total", ())] == 100
    assert got[("servicepoint_bytes_out_total", ())] == 250
    assert got[("servicepoint_frames_skipped_total", ())] == 2
    assert got[("servicepoint_errors_total", (("code", "bad_message"),))] == 2
    assert got[("servicepoint_errors_total", (("code", "rate_limited"),))] == 1
    assert got[("servicepoint_closes_total", (("code", "4008"),))] == 1
    assert got[("servicepoint_tick_seconds_bucket", (("le", "0.002"),))] == 0
    assert got[("servicepoint_tick_seconds_bucket", (("le", "0.005"),))] == 1
    assert got[("servicepoint_tick_seconds_bucket", (("le", "0.25"),))] == 1
    assert got[("servicepoint_tick_seconds_bucket", (("le", "+Inf"),))] == 2
    assert got[("servicepoint_tick_seconds_count", ())] == 2
    assert got[("servicepoint_tick_seconds_sum", ())] == pytest.approx(0.303)
    for work, n in (("band", 4), ("rebased", 2), ("reanchored", 1), ("rebuilt", 3)):
        assert got[("servicepoint_interest_rows_total", (("work", work),))] == n
    for phase, s in (("band", 1.0), ("lists", 2.0), ("output", 0.5), ("other", 0.5)):
        assert got[("servicepoint_interest_seconds_total", (("phase", phase),))] == s
    # Exposition details: the family headers as before, all buckets, no _created.
    assert "# TYPE servicepoint_connections gauge" in text
    assert "# TYPE servicepoint_messages_in_total counter" in text
    assert "# TYPE servicepoint_tick_seconds histogram" in text
    for b in TICK_BUCKETS:
        assert f'servicepoint_tick_seconds_bucket{{le="{b}"}}' in text
    assert "_created" not in text
    assert CONTENT_TYPE.startswith("text/plain")
    # Read-back for tests.
    assert (m.errors["bad_message"], m.errors["nope"], m.closes[4008], m.closes[4003]) == (
        2,
        0,
        1,
        0,
    )
    assert (m.connections, m.avatars) == (1, 7)


def test_labelled_families_present_before_any_sample() -> None:
    text = Metrics().render().decode()
    assert "# TYPE servicepoint_errors_total counter" in text
    assert "# TYPE servicepoint_closes_total counter" in text
    assert "servicepoint_errors_total{" not in text


def test_int_counters_flush_deltas() -> None:
    m = Metrics()
    m.messages_in += 2
    m.flush()
    m.flush()
    assert value(m, "servicepoint_messages_in_total") == 2
    m.messages_in += 5
    assert value(m, "servicepoint_messages_in_total") == 7  # render flushes
    assert value(m, "servicepoint_messages_in_total") == 7
    m.messages_in = 0  # a reset is not exported, counting resumes from it
    assert value(m, "servicepoint_messages_in_total") == 7
    m.messages_in += 1
    assert value(m, "servicepoint_messages_in_total") == 8


def test_instances_do_not_share_values() -> None:
    a, b = Metrics(), Metrics()
    a.messages_in += 4
    a.connection_opened()
    a.error("x")
    a.close(4001)
    a.feature("desks").counter("calls", "Calls.").inc()
    assert value(a, "servicepoint_messages_in_total") == 4
    got = samples(b)
    assert got[("servicepoint_messages_in_total", ())] == 0
    assert got[("servicepoint_connections", ())] == 0
    assert ("servicepoint_errors_total", (("code", "x"),)) not in got
    assert ("servicepoint_desks_calls_total", ()) not in got
    assert (b.errors["x"], b.closes[4001]) == (0, 0)


def test_feature_metrics_prefixed_and_idempotent() -> None:
    m = Metrics()
    desks = m.feature("desks")
    assert m.feature("desks") is desks
    calls = desks.counter("calls", "Calls made.", labels=("outcome",))
    assert isinstance(calls, Counter)
    assert desks.counter("calls", "Calls made.", labels=("outcome",)) is calls
    waiting = desks.gauge("waiting", "Citizens waiting.")
    assert isinstance(waiting, Gauge) and desks.gauge("waiting", "x") is waiting
    wait = desks.histogram("wait_seconds", "Wait.", buckets=(1, 10, 60))
    assert isinstance(wait, Histogram) and desks.histogram("wait_seconds", "x") is wait
    with pytest.raises(TypeError):
        desks.gauge("calls", "Not a gauge.")
    calls.labels(outcome="served").inc(3)
    waiting.set(4)
    wait.observe(5)
    got = samples(m)
    assert got[("servicepoint_desks_calls_total", (("outcome", "served"),))] == 3
    assert got[("servicepoint_desks_waiting", ())] == 4
    assert got[("servicepoint_desks_wait_seconds_bucket", (("le", "10.0"),))] == 1
    assert got[("servicepoint_desks_wait_seconds_count", ())] == 1
    # Another feature's same name is a different metric.
    m.feature("chat").counter("calls", "Other.").inc()
    assert value(m, "servicepoint_chat_calls_total") == 1


def test_interest_deltas_across_flushes() -> None:
    m = Metrics()
    st = InterestStats()
    m.interest = st
    st.rows, st.rebased, st.rebuilt = 10, 1, 2
    st.band_ns, st.lists_ns, st.output_ns, st.total_ns = 100, 200, 300, 1000
    m.flush()
    st.rows, st.rebased, st.reanchored, st.rebuilt = 25, 3, 4, 2
    st.band_ns, st.lists_ns, st.output_ns, st.total_ns = 150, 500, 300, 2000
    m.flush()
    m.flush()
    got = samples(m)

    def rows(w: str) -> float:
        return got[("servicepoint_interest_rows_total", (("work", w),))]

    def secs(p: str) -> float:
        return got[("servicepoint_interest_seconds_total", (("phase", p),))]

    assert (rows("band"), rows("rebased"), rows("reanchored"), rows("rebuilt")) == (16, 3, 4, 2)
    assert secs("band") == pytest.approx(150e-9)
    assert secs("lists") == pytest.approx(500e-9)
    assert secs("output") == pytest.approx(300e-9)
    assert secs("other") == pytest.approx(1050e-9)
    # A new stats object (a new manager) is counted from zero, on top.
    m.interest = InterestStats(rows=5, rebuilt=5, lists_ns=10**9, total_ns=10**9)
    got = samples(m)
    assert (rows("band"), rows("rebuilt")) == (16, 7)
    assert secs("lists") == pytest.approx(1 + 500e-9)


WORKER = textwrap.dedent(
    """
    import json, os, sys
    from server.metrics import Metrics, mark_process_dead

    role = sys.argv[1]
    m = Metrics()
    if role == "a":
        m.connection_opened(); m.connection_opened()
        m.set_avatars(5)
        m.messages_in += 3
        m.bytes_out += 10
        m.error("bad"); m.close(4008)
        m.observe_tick(0.003)
        m.feature("desks").counter("calls", "Calls.").inc(2)
        m.flush()
        print(json.dumps({"pid": os.getpid()}))
    else:
        dead = int(sys.argv[2])
        m.connection_opened()
        m.set_avatars(1)
        m.messages_in += 4
        m.error("bad"); m.error("other")
        m.observe_tick(0.03)
        m.feature("desks").counter("calls", "Calls.").inc()
        live = m.render().decode()
        mark_process_dead(dead)
        after = m.render().decode()
        print(json.dumps({"live": live, "after": after}))
    """
)


def _run(tmp_path: Path, *args: str) -> dict[str, object]:
    env = dict(os.environ, PROMETHEUS_MULTIPROC_DIR=str(tmp_path))
    done = subprocess.run(
        [sys.executable, "-c", WORKER, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


def _parse(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_multiprocess_render_sums_processes(tmp_path: Path) -> None:
    pid_a = _run(tmp_path, "a")["pid"]
    out = _run(tmp_path, "b", str(pid_a))
    live = _parse(str(out["live"]))
    assert live[("servicepoint_messages_in_total", ())] == 7
    assert live[("servicepoint_bytes_out_total", ())] == 10
    assert live[("servicepoint_connections", ())] == 3
    assert live[("servicepoint_avatars", ())] == 6
    assert live[("servicepoint_errors_total", (("code", "bad"),))] == 2
    assert live[("servicepoint_errors_total", (("code", "other"),))] == 1
    assert live[("servicepoint_closes_total", (("code", "4008"),))] == 1
    assert live[("servicepoint_tick_seconds_count", ())] == 2
    assert live[("servicepoint_tick_seconds_bucket", (("le", "0.005"),))] == 1
    assert live[("servicepoint_tick_seconds_bucket", (("le", "0.05"),))] == 2
    assert live[("servicepoint_desks_calls_total", ())] == 3
    # A dead worker's gauges go; its counts stay.
    after = _parse(str(out["after"]))
    assert after[("servicepoint_connections", ())] == 1
    assert after[("servicepoint_avatars", ())] == 1
    assert after[("servicepoint_messages_in_total", ())] == 7


def test_multiproc_dir_set_after_import_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "/nonexistent")
    with pytest.raises(RuntimeError, match="PROMETHEUS_MULTIPROC_DIR"):
        Metrics()
