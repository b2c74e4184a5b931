"""The swarm's figures: sound with late, idle and failed agents, and beside the server's own."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import msgpack
import numpy as np
import pytest

from agents.swarm import (
    FRAME_TYPE,
    AgentResult,
    ServerSample,
    WorkerPart,
    client_figures,
    histogram_quantile,
    is_state_frame,
    is_view_change,
    limits,
    metrics_url,
    parse_metrics,
    plan_agents,
    server_figures,
    source_address,
    swarm,
    window_rates,
)
from protocol.codec import encode
from protocol.delta import DeltaFrameEncoder
from protocol.frames import StateFrameEncoder
from server.metrics import Metrics
from tests.server.harness import running_server, ws_url

ROOT = Path(__file__).resolve().parents[2]


def agent(
    index: int,
    state: str,
    frames: int | None = None,
    nbytes: int | None = None,
    role: str = "walker",
    walking: bool = True,
) -> AgentResult:
    return {
        "index": index,
        "role": role,  # type: ignore[typeddict-item]
        "state": state,  # type: ignore[typeddict-item]
        "walking": walking,
        "frames": frames,
        "bytes": nbytes,
    }


def part(agents: list[AgentResult], window: list[float] | None, **kw: Any) -> WorkerPart:
    out: WorkerPart = {
        "pid": 1,
        "agents": agents,
        "window": window,
        "cpu_s": 0.5,
        "latency_s": [],
        "loop_lag_ms": {"p99": 1.0, "max": 2.0},
        "errors": 0,
        "connect_errors": 0,
        "run_errors": 0,
        "unexpected_closes": 0,
        "close_codes": {},
        "last_error": None,
        "tick_hz": 20,
    }
    out.update(kw)  # type: ignore[typeddict-item]
    return out


# -- frames -----------------------------------------------------------------------


def test_the_frame_prefix_is_what_the_encoders_write() -> None:
    ids = np.arange(1, 6, dtype=np.uint32)
    pos = np.linspace(-30, 30, 10, dtype=np.float32).reshape(5, 2)
    yaw = np.zeros(5, dtype=np.float32)
    ptr = np.array([0, 0, 2, 5], dtype=np.int64)
    vis = np.array([1, 2, 0, 3, 4], dtype=np.int32)
    delta = DeltaFrameEncoder()
    seen = 0
    for tick in (0, 1, 200, 70_000, 2**32 - 1):
        frames: list[bytes | None] = [*StateFrameEncoder().encode(tick, ids, pos, yaw, ptr, vis)]
        pos[:, 0] += np.float32(0.5)
        frames += delta.encode(tick, ids, pos, yaw, np.array([0, 1, 2], np.int32), ptr, vis)
        delta.commit([True, True, True])
        for frame in frames:
            if frame is None:
                continue
            seen += 1
            assert frame[1:5] == FRAME_TYPE and is_state_frame(frame)
            assert msgpack.unpackb(frame)["t"] == "f"
    assert seen > 15
    # msgpack itself writes the same header for the documented key order
    for frame_map in ({"t": "f", "k": 1, "i": b"", "p": b"", "r": b""}, {"t": "f", "k": 1}):
        assert is_state_frame(msgpack.packb(frame_map))


def test_no_other_message_looks_like_a_frame() -> None:
    for msg in (
        {"t": "pong", "n": 1},
        {"t": "joined", "id": 1, "name": "f", "x": 0.0, "z": 0.0, "yaw": 0.0, "zone": "f"},
        {"t": "enter", "e": []},
        {"t": "leave", "ids": [1, 2]},
        {"t": "error", "code": "f", "message": "f"},
        {"t": "fx", "k": 1, "i": b"", "p": b""},
    ):
        assert not is_state_frame(encode(msg))
        assert is_view_change(encode(msg)) == (msg["t"] in ("enter", "leave"))


# -- rates and counts --------------------------------------------------------------


def test_rates_leave_out_agents_that_never_started() -> None:
    agents = [
        agent(0, "measured", 60, 6_000),
        agent(1, "failed"),  # never connected: no counts at all
        agent(2, "late"),  # connected inside the window
        agent(3, "dropped"),
        agent(4, "measured", 60, 6_000, walking=False),  # connected, never walked
    ]
    assert window_rates(agents, 3.0) == [(20.0, 2_000.0), (20.0, 2_000.0)]
    assert window_rates(agents, 0.0) == []  # an empty window: nothing, not a blow-up
    assert window_rates(agents, float("nan")) == []


def test_a_process_whose_window_never_came_counts_but_divides_nothing() -> None:
    never = part([agent(10, "failed"), agent(11, "late")], None, connect_errors=1)
    ran = part([agent(0, "measured", 300, 30_000), agent(1, "measured", 297, 29_700)], [5, 20])
    out = client_figures([never, ran], count=4)
    assert out["frames_per_s"] == pytest.approx(19.9)
    assert out["frames_per_s_min"] == pytest.approx(19.8)
    assert out["bytes_per_s_per_client"] == 1990
    assert (out["measured"], out["late"], out["failed"], out["connected"]) == (2, 1, 1, 3)
    assert out["window_s"] == 15.0
    assert out["errors"] == 1


def test_counts_add_up_and_a_lost_process_counts_as_failed() -> None:
    a = part(
        [
            agent(0, "measured", 100, 1000, role="observer"),
            agent(2, "dropped"),
            agent(4, "late", walking=False),
        ],
        [0.0, 5.0],
        unexpected_closes=1,
        close_codes={"4003": 1},
        latency_s=[0.01, 0.02, 0.03],
    )
    b = part([agent(1, "measured", 100, 2000), agent(3, "failed", walking=False)], [0.01, 5.01])
    out = client_figures([a, b], count=8)  # a third process (3 agents) never answered
    assert out["connected"] + out["failed"] == 8
    assert out["measured"] + out["late"] + out["dropped"] == out["connected"]
    assert (out["measured"], out["late"], out["dropped"], out["failed"]) == (2, 1, 1, 4)
    assert out["walking"] == 3
    assert out["by_role"]["observer"]["measured"] == 1
    assert out["by_role"]["walker"]["bytes_per_s_per_client"] == 400
    assert out["latency_ms"]["samples"] == 3 and out["latency_ms"]["p50"] == 20.0
    assert out["close_codes"] == {"4003": 1}
    assert out["errors"] == 1 + 3


def test_plan_spreads_observers_and_puts_late_and_idle_walkers_last() -> None:
    plans = plan_agents(10, 3, observers=3, late=2, idle=1)
    flat = sorted((a for p in plans for a in p), key=lambda a: a["index"])
    assert [len(p) for p in plans] == [4, 3, 3]
    assert all(p[0]["observer"] for p in plans)
    assert [a["index"] for a in flat if a["late"]] == [8, 9]
    assert [a["index"] for a in flat if a["idle"]] == [7]


def test_addresses() -> None:
    assert metrics_url("ws://127.0.0.1:8799/ws") == "http://127.0.0.1:8799/metrics"
    assert metrics_url("wss://example.org/ws") == "https://example.org/metrics"
    assert source_address("ws://127.0.0.1:1/ws", 0) == "127.0.0.1"
    assert source_address("ws://localhost:1/ws", 300) == "127.0.0.47"
    assert source_address("ws://10.0.0.1:1/ws", 3) is None
    assert source_address("ws://example.org/ws", 3) is None


# -- the server's figures ----------------------------------------------------------


def test_histogram_quantile_interpolates_like_promql() -> None:
    inf = float("inf")
    buckets = [(0.001, 0.0), (0.002, 50.0), (0.005, 100.0), (inf, 100.0)]
    assert histogram_quantile(0.5, buckets) == pytest.approx(0.002)
    assert histogram_quantile(0.99, buckets) == pytest.approx(0.002 + 0.003 * 49 / 50)
    assert histogram_quantile(0.5, [(0.25, 0.0), (inf, 4.0)]) == 0.25  # beyond the top bound
    assert histogram_quantile(0.5, [(0.25, 0.0), (inf, 0.0)]) is None
    assert histogram_quantile(0.5, []) is None


def test_server_figures_are_deltas_over_the_window() -> None:
    m = Metrics()
    for _ in range(10):
        m.observe_tick(0.5)  # before the window: must not count
    m.frames_skipped = 3
    m.close(4003)
    before = ServerSample(100.0, parse_metrics(m.render().decode()), cpu_s=10.0, children={})
    for s in [0.0015] * 98 + [0.03] * 2:
        m.observe_tick(s)
    m.frames_skipped = 10
    m.close(4003)
    m.close(4000)
    m.connection_opened()
    after = ServerSample(105.0, parse_metrics(m.render().decode()), cpu_s=12.5, children={})
    out = server_figures(before, after, tick_hz=20)
    assert out["ticks"] == 100 and out["ticks_per_s"] == 20.0
    assert 1.0 <= out["tick_ms"]["p50"] <= 2.0
    assert 20.0 <= out["tick_ms"]["p99"] <= 50.0
    assert out["tick_ms"]["mean"] == pytest.approx(2.07, abs=0.01)
    assert (out["frames_skipped"], out["closes_4003"], out["connections"]) == (7, 1, 1)
    assert (out["cpu_s"], out["cpu_cores"]) == (2.5, 0.5)


def test_without_metrics_or_pid_the_figures_are_left_out() -> None:
    out = server_figures(
        ServerSample(0.0, None, error="refused"), ServerSample(1.0, None), tick_hz=20
    )
    assert "tick_ms" not in out and "cpu_s" not in out and out["error"] == "refused"


def test_limits_say_who_was_the_bottleneck() -> None:
    calm = {"tick_hz": 20, "ticks_per_s": 20.0, "tick_ms": {"p99": 5.0}, "frames_skipped": 0}
    proc = {"cpu_cores": 0.3, "loop_lag_ms": {"p99": 2.0, "max": 3.0}}
    idle = {"utilisation": 0.3, "cores": 2, "per_process": [proc, proc]}
    assert limits(calm, idle, {"busy": 0.4, "cpus": 2}) == ("none", [])
    busy = {"utilisation": 0.95, "cores": 2, "per_process": [proc, proc]}
    assert limits(calm, busy, None)[0] == "client"
    hot = {**calm, "cpu_cores": 0.97, "ticks_per_s": 12.0}
    assert limits(hot, idle, {"busy": 0.95, "cpus": 2})[0] == "server"
    late = {**calm, "ticks_per_s": 12.0}
    assert limits(late, idle, {"busy": 0.95, "cpus": 2})[0] == "machine"
    assert limits(late, idle, {"busy": 0.5, "cpus": 2})[0] == "server"
    lagging = {**idle, "per_process": [{**proc, "loop_lag_ms": {"p99": 80.0, "max": 90.0}}]}
    assert limits(calm, lagging, None)[0] == "client"


# -- against a real server -------------------------------------------------------


async def test_a_small_swarm_with_late_and_idle_walkers_stays_sane(tmp_path: Path) -> None:
    async with running_server(tmp_path) as sp:
        out = await swarm(
            ws_url(sp),
            count=22,
            seconds=3.0,
            processes=2,
            observers=2,
            late=2,
            idle=2,
            server_pid=os.getpid(),
        )
    hz = sp.config.tick_hz
    assert (out["count"], out["processes"], out["observers"], out["walkers"]) == (22, 2, 2, 20)
    assert out["connected"] + out["failed"] == 22
    assert out["measured"] + out["late"] + out["dropped"] == out["connected"]
    assert out["failed"] == 0 and out["dropped"] == 0 and out["errors"] == 0, out
    assert out["late"] == 2  # the late ones never enter the rates
    assert 1 <= out["walking"] <= out["connected"] - 2  # the idle ones never walk
    assert out["window_s"] > 0
    for figures in (out, out["by_role"]["observer"], out["by_role"]["walker"]):
        assert 0 < figures["frames_per_s_min"] <= figures["frames_per_s"] <= hz * 1.2
        # at most interest_k entities of 10 bytes each per frame, plus enter/leave traffic
        assert 0 < figures["bytes_per_s_per_client"] < hz * 1.2 * (64 * 10 + 64) + 20_000
    assert out["by_role"]["observer"]["measured"] == 2
    assert out["by_role"]["walker"]["measured"] == 18
    assert set(out["latency_ms"]) == {"p50", "p99", "samples"}
    server = out["server"]
    assert server["tick_hz"] == hz and server["ticks"] > 0 and server["ticks_per_s"] > 0
    assert server["tick_ms"]["p50"] is not None and server["tick_ms"]["p99"] is not None
    assert server["frames_skipped"] >= 0 and server["closes_4003"] >= 0
    assert server["connections"] >= out["measured"]
    assert server["cpu_s"] >= 0 and "cpu_cores" in server
    assert len(out["swarm"]["per_process"]) == 2 and out["swarm"]["cpu_s"] > 0
    assert out["limited_by"] in {"client", "server", "machine", "none"}


async def test_the_command_line_prints_one_json_object(tmp_path: Path) -> None:
    async with running_server(tmp_path) as sp:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "agents.swarm",
            "--url",
            ws_url(sp),
            "--count",
            "4",
            "--seconds",
            "1",
            "--processes",
            "2",
            "--json",
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
        )
        stdout, _ = await asyncio.wait_for(proc.communicate(), 90)
    assert proc.returncode == 0
    out = json.loads(stdout.decode().strip().splitlines()[-1])
    for key in ("count", "seconds", "connected", "frames_per_s", "bytes_per_s_per_client"):
        assert key in out
    assert set(out["latency_ms"]) == {"p50", "p99", "samples"}
    assert (out["count"], out["connected"], out["errors"]) == (4, 4, 0)
    assert {"server", "swarm", "limited_by", "measured", "walking", "failed"} <= set(out)
