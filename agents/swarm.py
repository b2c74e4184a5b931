"""A swarm of walking avatars, and what they measure of a server.

    python -m agents.swarm --url ws://127.0.0.1:8000/ws --count 200 --seconds 15 --json
    python -m agents.swarm --count 2000 --processes 4 --server-pid PID  # also the server's CPU

Each avatar plays a part: walks to a desk and waits in front of it, wanders
the lobby and hall, or gathers before the stage. A few are *observers*: they
decode every state frame and match what they see against the moves the
agents of their own process sent (move-to-seen latency). The rest are
*walkers*: they move the same way but only count the bytes and frames they
receive, without decoding frames, so one core drives many of them. Agents are
spread over ``--processes`` worker processes, and on a loopback server each
connection is bound to its own source address in 127.0.0.0/8, so thousands of
clients do not run out of ephemeral ports.

Agents connect during a ramp; then one measurement window of ``--seconds``
starts, common to every process. Rates are taken over that window, from the
agents connected through all of it (``measured``); agents that connected late,
dropped in the window or never connected are counted apart. Prints one JSON
object (on its last line):

- ``connected``: agents that joined (at any time); ``measured``, ``late``,
  ``dropped``, ``failed``: each agent is in exactly one of ``measured + late +
  dropped == connected``, ``connected + failed == count``; ``walking``: agents
  that sent at least one move;
- ``frames_per_s`` (and ``frames_per_s_min``): state frames received per
  measured agent per second; ``bytes_per_s_per_client``: bytes likewise;
  ``by_role``: the same for observers and walkers apart;
- ``latency_ms`` ``p50``/``p99``/``samples``: move-to-seen latency in the
  window, from the moment an agent sends a move until an observer receives a
  frame showing it there (movers within `NEAR_M` of the observer: farther ones
  are sent at a lower rate on purpose);
- ``errors``: error messages, failed connects, agent failures and
  unexpected closes (``close_codes`` by code);
- ``server``: from the server's ``/metrics`` (its URL derived from ``--url``),
  as deltas over the window: tick time p50/p99/mean, ticks per second,
  ``frames_skipped`` and ``closes_4003`` (send-buffer drops), open
  connections, and with ``--server-pid`` its CPU seconds and cores used;
- ``swarm``: the worker processes' own CPU use and event-loop lag;
- ``limited_by``: ``"client"`` when the swarm processes used at least 90 % of
  their cores, ``"server"`` when the server process used 90 % of its core,
  ``"machine"`` when neither did but the host's cores were 90 % busy (swarm
  and server compete for them), ``"server"`` when it ticked late or dropped
  frames, ``"client"`` when a worker lagged a tick, else ``"none"``; ``limits``
  lists every sign seen (see `limits`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import json
import math
import multiprocessing
import os
import random
import socket
import sys
import time
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, Literal, TypedDict, TypeVar

import numpy as np
import websockets
from prometheus_client.parser import text_string_to_metric_families

from agents.client import AgentClient
from agents.navigation import Navigator
from protocol.codec import decode_server

RING = 16
"""Moves remembered per agent for latency matching."""

FRAME_TYPE = b"\xa1t\xa1f"
"""The bytes after the map header of every state frame: the first key "t" = "f".

`protocol.frames` fixes the frame's wire format (one map, first key t; the
number of keys varies since protocol v4: absent bins are left out) and its
encoders write these bytes by hand, so a walker tells a frame from any other
message by its first five bytes (a fixmap header, then these), with no
allocation, instead of unpacking the frame (its bins) or even its first key
(an ``Unpacker`` per message). No other message has type "f", so there are no
false positives; `tests/agents` checks this against the encoders.
"""

VIEW_TYPES = (b"\xa1t\xa5enter", b"\xa1t\xa5leave")
"""The bytes after the map header of an enter or a leave (first key "t", as every
message the server encodes with `protocol.codec.encode`). A walker keeps no view of
the others, so it counts these without unpacking them (at hundreds of walkers, unpacking
them and forgetting left entities in the frame decoder was a tenth of a swarm
process's time)."""

NEAR_M = 6.0
"""Latency is measured on movers this close to the observer: the server's default
``near_m``, within which every tick carries their changes (farther ones come every
2, 4 or 8 ticks by design)."""

RAMP_PER_S = 250.0
"""Agents connecting per second during the ramp (at least one second)."""
SETTLE_S = 1.0
"""Pause between every worker's agents having connected and the start of the window."""
CONNECT_TIMEOUT_S = 15.0
CLOSE_TIMEOUT_S = 3.0
SOURCE_ADDRESSES = 254
"""Loopback source addresses used: 127.0.0.1 .. 127.0.0.254."""
READY_WAIT_S = 120.0
"""How long the parent and a worker wait for each other to start."""
SETTLE_WAIT_S = 120.0
"""How long a settled worker waits for the window (the slowest worker may still connect)."""
STOP_WAIT_S = 60.0
"""How long a worker stays connected after the window, waiting for "stop"."""
LAG_INTERVAL_S = 0.05
MOVE_HZ = 10.0
PLACE_SPEED = 3.5
"""m/s an idle agent walks to its place at (the server allows 4)."""
PLACE_HZ = 2.0
"""Its moves per second on the way: a crowd arriving all at once sends thousands of moves
a second on its way in, and at 10 Hz the opening handshakes of those still arriving
timed out behind them."""

Role = Literal["observer", "walker"]
State = Literal["measured", "late", "dropped", "failed"]
T = TypeVar("T")


# -- latency -----------------------------------------------------------------


class LatencyBook:
    """Recent moves of the agents of one process, matched against what its observers see.

    Moves are kept at centimetre precision, as the state frame quantises them,
    so a frame showing agent A at a remembered position was caused by that
    move. Each (observer, mover, move) pair is counted once, at first sight,
    and only while `active` (the measurement window).
    """

    def __init__(self, capacity: int, observers: int) -> None:
        self.index = np.full(1, -1, dtype=np.int64)  # entity id -> agent index
        self.qx = np.zeros((capacity, RING), dtype=np.int32)
        self.qz = np.zeros((capacity, RING), dtype=np.int32)
        self.t = np.zeros((capacity, RING), dtype=np.float64)
        self.seq = np.zeros((capacity, RING), dtype=np.int64)
        self.head = np.zeros(capacity, dtype=np.int64)
        self.seen_seq = np.zeros((observers, capacity), dtype=np.int64)  # observer x mover
        self.samples: list[float] = []
        self.active = False

    def register(self, agent: int, entity: int) -> None:
        if entity >= self.index.size:
            grown = np.full(max(entity + 1, self.index.size * 2), -1, dtype=np.int64)
            grown[: self.index.size] = self.index
            self.index = grown
        self.index[entity] = agent

    def moved(self, agent: int, x: float, z: float, seq: int, now: float) -> None:
        h = self.head[agent] % RING
        self.qx[agent, h] = round(x * 100)
        self.qz[agent, h] = round(z * 100)
        self.t[agent, h] = now
        self.seq[agent, h] = seq
        self.head[agent] += 1

    def observed(
        self,
        observer: int,
        ids: np.ndarray,
        qpos: np.ndarray,
        now: float,
        near: tuple[float, float, float] | None = None,
    ) -> None:
        """Count first sightings in a frame; ``near`` ``(x, z, metres)``: only of movers
        that close to the observer (farther ones are sent at a lower rate on purpose)."""
        if ids.size == 0 or not self.active:
            return
        ids = ids.astype(np.int64)
        ok = ids < self.index.size
        if near is not None:
            x, z, r = near
            d2 = (qpos[:, 0] - x * 100.0) ** 2 + (qpos[:, 1] - z * 100.0) ** 2
            ok &= d2 <= (r * 100.0) ** 2
        ids, qpos = ids[ok], qpos[ok]
        movers = self.index[ids]
        known = movers >= 0
        movers, qpos = movers[known], qpos[known]
        if movers.size == 0:
            return
        hit = (self.qx[movers] == qpos[:, :1]) & (self.qz[movers] == qpos[:, 1:2])
        rows = np.flatnonzero(hit.any(axis=1))
        if rows.size == 0:
            return
        cols = hit[rows].argmax(axis=1)
        m = movers[rows]
        seqs = self.seq[m, cols]
        fresh = seqs > self.seen_seq[observer, m]
        if not fresh.any():
            return
        self.seen_seq[observer, m[fresh]] = seqs[fresh]
        self.samples.extend((now - self.t[m[fresh], cols[fresh]]).tolist())


# -- clients -------------------------------------------------------------------


def is_state_frame(data: bytes) -> bool:
    """Whether a server message is a state frame (see `FRAME_TYPE`)."""
    return data.startswith(FRAME_TYPE, 1) and 0x82 <= data[0] <= 0x8F


def is_view_change(data: bytes) -> bool:
    """Whether a server message is an enter or a leave (see `VIEW_TYPES`)."""
    return 0x82 <= data[0] <= 0x8F and data.startswith(VIEW_TYPES, 1)


def source_address(url: str, index: int) -> str | None:
    """The local address agent ``index`` binds to: spread over 127.0.0.x for a loopback
    IPv4 server, else None (the kernel chooses)."""
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost":
        host = "127.0.0.1"
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        return None
    if addr.version != 4 or not addr.is_loopback:
        return None
    return f"127.0.0.{1 + index % SOURCE_ADDRESSES}"


async def connect_from(source: str, url: str) -> socket.socket:
    """A TCP socket bound to ``source`` (port chosen at connect) and connected to the
    server of ``url``; ready for websockets' ``connect(sock=...)``."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    host = "127.0.0.1" if host == "localhost" else host
    port = parts.port or (443 if parts.scheme == "wss" else 80)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        # Linux: pick the port at connect time, per (source, destination) pair, so
        # binding does not reserve one ephemeral port per address for good.
        no_port = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24 if sys.platform == "linux" else 0)
        if no_port:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_IP, no_port, 1)
        sock.bind((source, 0))
        await asyncio.get_running_loop().sock_connect(sock, (host, port))
    except BaseException:
        sock.close()
        raise
    return sock


class BoundClient(AgentClient):
    """An `AgentClient` whose connection starts from a chosen local address (if any)."""

    def __init__(self, url: str, source: str | None = None, **kwargs: Any) -> None:
        super().__init__(url, **kwargs)
        self.source = source

    async def connect_raw(self, **options: Any) -> None:
        options.setdefault("close_timeout", CLOSE_TIMEOUT_S)
        if self.source is not None and "sock" not in options:
            options["sock"] = await connect_from(self.source, self.url)
        await super().connect_raw(**options)


class Walker(BoundClient):
    """A client that counts state frames and their bytes without decoding them, and
    counts enters and leaves without keeping a view.

    Every other message is decoded and handled as by `AgentClient` (welcome,
    joined, corrections, errors), so a walker joins and moves like any agent.
    """

    async def _read(self) -> None:
        ws, closed, stats = self.ws, self.closed, self.stats
        assert ws is not None and closed is not None
        try:
            async for data in ws:
                assert isinstance(data, bytes)
                stats.messages_in += 1
                stats.bytes_in += len(data)
                if is_state_frame(data):
                    stats.frames += 1
                elif not is_view_change(data):
                    self._on_message(decode_server(data), len(data))
        except websockets.ConnectionClosed:
            pass
        finally:
            if not closed.done():
                closed.set_result((ws.close_code, ws.close_reason or ""))
            self._changed.set()


# -- the messages between processes (plain dicts: they pickle under any __main__) ---


class AgentPlan(TypedDict):
    index: int
    observer: bool
    late: bool
    idle: bool


class WorkerSpec(TypedDict):
    url: str
    count: int
    seed: int
    agents: list[AgentPlan]
    near_m: float
    """Latency is measured on movers within this many metres of an observer."""


class Ramp(TypedDict):
    """Parent to worker, after "ready": when to start connecting, and for how long.

    Times here and in `Window` are ``time.monotonic()`` values: CLOCK_MONOTONIC
    on Linux (mach_absolute_time on macOS), one clock for every process.
    """

    start: float
    seconds: float


class Window(TypedDict):
    """Parent to worker, once every worker is "settled": the common measurement window."""

    start: float
    end: float
    late_start: float


class AgentResult(TypedDict):
    index: int
    role: Role
    state: State
    walking: bool
    frames: int | None
    """State frames received in the window (measured agents only)."""
    bytes: int | None


class WorkerPart(TypedDict):
    pid: int
    agents: list[AgentResult]
    window: list[float] | None
    """[start, end] of this process's snapshots (monotonic clock), None if not reached."""
    cpu_s: float
    latency_s: list[float]
    loop_lag_ms: dict[str, float | None]
    errors: int
    connect_errors: int
    run_errors: int
    unexpected_closes: int
    close_codes: dict[str, int]
    last_error: str | None
    tick_hz: int | None


# -- one worker process ------------------------------------------------------------


@dataclass
class _Run:
    plan: AgentPlan
    local: int
    source: str | None
    observer_row: int
    tried: asyncio.Event = field(default_factory=asyncio.Event)
    """Set once the agent's connect has succeeded or failed."""
    client: AgentClient | None = None
    walking: bool = False
    at_start: tuple[int, int] | None = None
    at_end: tuple[int, int] | None = None
    dropped: bool = False


class _Channel:
    """The worker's end of its pipe, awaited without blocking the event loop."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def send(self, obj: object) -> None:
        self.conn.send(obj)

    async def recv(self, timeout: float) -> Any:
        return await _recv(self.conn, timeout)


@dataclass
class _Worker:
    spec: WorkerSpec
    ramp: Ramp
    channel: _Channel
    runs: list[_Run] = field(default_factory=list)
    errors: int = 0
    connect_errors: int = 0
    run_errors: int = 0
    unexpected_closes: int = 0
    close_codes: Counter[str] = field(default_factory=Counter)
    last_error: str | None = None
    tick_hz: int | None = None
    lags: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        rows = 0
        for local, plan in enumerate(self.spec["agents"]):
            row = rows if plan["observer"] else -1
            rows += plan["observer"]
            source = source_address(self.spec["url"], plan["index"])
            self.runs.append(_Run(plan, local, source, row))
        self.book = LatencyBook(len(self.runs), rows)
        self.window: asyncio.Future[Window] = asyncio.get_running_loop().create_future()
        self.ended = asyncio.Event()

    async def run(self) -> WorkerPart:
        """Connect (ramp), say "settled", measure the window, hold until "stop", close."""
        ramp, count = self.ramp, max(self.spec["count"], 1)
        tasks = [
            asyncio.create_task(
                self._agent(r, ramp["start"] + ramp["seconds"] * r.plan["index"] / count)
            )
            for r in self.runs
        ]
        lag: asyncio.Task[None] | None = None
        window: list[float] | None = None
        cpu = 0.0
        try:
            on_time = [r.tried.wait() for r in self.runs if not r.plan["late"]]
            settle = ramp["start"] + ramp["seconds"] + CONNECT_TIMEOUT_S - time.monotonic()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*on_time), max(settle, 0.0) + 1.0)
            self.channel.send("settled")
            w: Window = await self.channel.recv(SETTLE_WAIT_S)
            self.window.set_result(w)
            lag = asyncio.create_task(self._watch_lag(w["start"], w["end"]))
            await _sleep_until(w["start"])
            t0, cpu0 = time.monotonic(), time.process_time()
            for r in self.runs:
                r.at_start = _counters(r.client)
            self.book.active = True
            await _sleep_until(w["end"])
            for r in self.runs:
                if r.at_start is not None:
                    r.at_end = _counters(r.client)
                    r.dropped = r.at_end is None
            self.book.active = False
            t1, cpu = time.monotonic(), time.process_time() - cpu0
            window = [t0, t1]
            # Stay connected while the parent samples the server, then stop.
            await self.channel.recv(STOP_WAIT_S)
        finally:
            self.ended.set()
            if lag is not None:
                lag.cancel()
            if tasks:
                _done, pending = await asyncio.wait(tasks, timeout=CONNECT_TIMEOUT_S)
                for task in pending:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
            if lag is not None:
                await asyncio.gather(lag, return_exceptions=True)
        lags = np.array(self.lags) * 1000.0
        return {
            "pid": os.getpid(),
            "agents": [_result(r) for r in self.runs],
            "window": window,
            "cpu_s": round(cpu, 4),
            "latency_s": self.book.samples,
            "loop_lag_ms": {
                "p99": round(float(np.percentile(lags, 99)), 2) if lags.size else None,
                "max": round(float(lags.max()), 2) if lags.size else None,
            },
            "errors": self.errors,
            "connect_errors": self.connect_errors,
            "run_errors": self.run_errors,
            "unexpected_closes": self.unexpected_closes,
            "close_codes": dict(self.close_codes),
            "last_error": self.last_error,
            "tick_hz": self.tick_hz,
        }

    async def _watch_lag(self, start: float, end: float) -> None:
        """How late the event loop wakes up in the window: a busy worker lags."""
        await _sleep_until(start)
        while time.monotonic() < end:
            due = time.monotonic() + LAG_INTERVAL_S
            await asyncio.sleep(LAG_INTERVAL_S)
            self.lags.append(max(0.0, time.monotonic() - due))

    async def _agent(self, r: _Run, start_at: float) -> None:
        try:
            if r.plan["late"]:
                ended = asyncio.create_task(self.ended.wait())
                either: list[asyncio.Future[Any]] = [self.window, ended]
                await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
                ended.cancel()
                if not self.window.done():
                    return
                start_at = self.window.result()["late_start"]
            await _sleep_until(start_at)
            if self.ended.is_set():
                return
            await self._connected(r)
        finally:
            r.tried.set()
            if r.client is None:
                self.connect_errors += 1
                self.last_error = self.last_error or "not started before the run ended"

    async def _connected(self, r: _Run) -> None:
        i = r.plan["index"]
        cls = BoundClient if r.plan["observer"] else Walker
        client = cls(self.spec["url"], source=r.source, name=f"Agent {i}", avatar="round")
        try:
            await asyncio.wait_for(client.connect(), CONNECT_TIMEOUT_S)
        except Exception as exc:  # counted, not raised: a swarm reports, it does not crash
            self.last_error = repr(exc)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.close(), CLOSE_TIMEOUT_S)
            return
        r.client = client
        client.keep_messages = False  # a swarm only counts; it keeps no message log
        client.track_positions = False
        client.messages.clear()
        assert client.welcome is not None
        self.tick_hz = self.tick_hz or int(client.welcome.get("tick_hz", 0)) or None
        self.book.register(r.local, client.id)
        if r.observer_row >= 0:
            book, row, near_m = self.book, r.observer_row, self.spec["near_m"]

            def on_frame(c: AgentClient, frame: Any, now: float) -> None:
                q = np.round(frame.positions * 100).astype(np.int32)
                book.observed(row, frame.ids, q, now, near=(c.x, c.z, near_m))

            client.on_frame = on_frame
        try:
            if r.plan["idle"]:
                await self._take_place(client)
            r.tried.set()  # connected (and, if idle, in place): the window may start
            if not r.plan["idle"]:
                await self._walk(r, client)
            await self.ended.wait()
        except Exception as exc:
            self.run_errors += 1
            self.last_error = repr(exc)
        finally:
            self.errors += len(client.stats.errors)
            if client.closed is not None and client.closed.done():
                code, _reason = client.closed.result()
                self.unexpected_closes += 1
                self.close_codes[str(code)] += 1
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.close(), CLOSE_TIMEOUT_S)

    async def _take_place(self, client: AgentClient) -> None:
        """Walk briskly to a spot of the entrance zone (`Navigator.goal` "place") and
        stand there: a still crowd spread as one stands, about one person per square
        metre at 2,000, not a heap on the spawn point (the spawn's few metres held
        everyone before, and each walker among them changed every still view)."""
        assert client.welcome is not None and client.closed is not None
        rng = random.Random(self.spec["seed"] * 1_000_003 + client.id)
        nav = Navigator(client.welcome["world"])
        gx, gz = nav.goal("place", rng)
        route = nav.route(client.x, client.z, gx, gz)
        await self._go(client, client.x, client.z, route, PLACE_SPEED, PLACE_HZ)

    async def _go(
        self,
        client: AgentClient,
        x: float,
        z: float,
        route: list[tuple[float, float]],
        speed: float,
        hz: float,
        moved: Callable[[], None] | None = None,
    ) -> tuple[float, float]:
        """Walk ``route`` from (x, z) at ``speed`` m/s, ``hz`` moves a second (``moved``
        after each), until the run ends or the client closes; returns where it got."""
        assert client.closed is not None
        for wx, wz in route:
            while not self.ended.is_set() and not client.closed.done():
                dx, dz = wx - x, wz - z
                d = math.hypot(dx, dz)
                if d < 0.05:
                    break
                step = min(d, speed / hz)
                x, z = x + dx / d * step, z + dz / d * step
                await client.move(x, z, math.atan2(-dx, -dz))
                if moved is not None:
                    moved()
                await asyncio.sleep(1 / hz)
        return x, z

    async def _walk(self, r: _Run, client: AgentClient) -> None:
        assert client.welcome is not None and client.closed is not None
        rng = random.Random(self.spec["seed"] * 1_000_003 + r.plan["index"])
        nav = Navigator(client.welcome["world"])
        part = rng.choice(["desk", "desk", "wander", "stage", "stage"])
        speed = rng.uniform(1.0, 1.5)
        x, z = client.x, client.z
        ended, closed, book = self.ended, client.closed, self.book

        def moved() -> None:
            r.walking = True
            book.moved(r.local, client.x, client.z, client.seq, time.monotonic())

        while not ended.is_set() and not closed.done():
            goal = nav.goal(part, rng)
            route = nav.route(x, z, goal[0], goal[1])
            x, z = await self._go(client, x, z, route, speed, MOVE_HZ, moved)
            # Stand a while: queueing, listening, chatting.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ended.wait(), rng.uniform(0.5, 3.0))


def _counters(client: AgentClient | None) -> tuple[int, int] | None:
    """(frames, bytes) received so far by an open client; None if it is not connected."""
    if client is None or client.closed is None or client.closed.done():
        return None
    return client.stats.frames, client.stats.bytes_in


def _result(r: _Run) -> AgentResult:
    state: State
    frames = nbytes = None
    if r.client is None:
        state = "failed"
    elif r.at_start is None:
        state = "late"
    elif r.at_end is None:
        state = "dropped"
    else:
        state = "measured"
        frames, nbytes = r.at_end[0] - r.at_start[0], r.at_end[1] - r.at_start[1]
    return {
        "index": r.plan["index"],
        "role": "observer" if r.plan["observer"] else "walker",
        "state": state,
        "walking": r.walking,
        "frames": frames,
        "bytes": nbytes,
    }


async def _sleep_until(t: float) -> None:
    delay = t - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)


def _run_loop(main: Callable[[], Awaitable[T]]) -> T:
    async def go() -> T:
        return await main()

    try:
        import uvloop
    except ImportError:  # pragma: no cover
        return asyncio.run(go())
    result: T = uvloop.run(go())
    return result


def _worker_main(conn: Connection, spec: WorkerSpec) -> None:
    """A worker process: say ready, take the ramp, run its agents, send its part."""
    try:
        conn.send("ready")
        if not conn.poll(READY_WAIT_S):
            return
        ramp: Ramp = conn.recv()

        async def work() -> WorkerPart:
            return await _Worker(spec, ramp, _Channel(conn)).run()

        conn.send(_run_loop(work))
    except (EOFError, BrokenPipeError, TimeoutError, KeyboardInterrupt):
        pass  # the parent is gone or gave up: nothing to report to
    finally:
        conn.close()


# -- figures ------------------------------------------------------------------------


def window_rates(agents: Iterable[AgentResult], elapsed: float) -> list[tuple[float, float]]:
    """(frames/s, bytes/s) of every measured agent over a window of ``elapsed`` seconds.

    Agents not connected through the whole window (late, dropped, failed: no
    counts) are left out, as is everything when the window is empty, so nothing
    is ever divided by a vanishing time.
    """
    if not elapsed > 0:
        return []
    return [
        (a["frames"] / elapsed, a["bytes"] / elapsed)
        for a in agents
        if a["state"] == "measured" and a["frames"] is not None and a["bytes"] is not None
    ]


def _rate_figures(rates: Sequence[tuple[float, float]]) -> dict[str, Any]:
    fps = [f for f, _ in rates]
    bps = [b for _, b in rates]
    return {
        "measured": len(rates),
        "frames_per_s": round(float(np.mean(fps)), 2) if fps else 0.0,
        "frames_per_s_min": round(min(fps), 2) if fps else 0.0,
        "bytes_per_s_per_client": round(float(np.mean(bps))) if bps else 0,
    }


def client_figures(parts: Sequence[WorkerPart], count: int) -> dict[str, Any]:
    """The swarm's own figures, merged from its processes' parts."""
    rates: dict[Role, list[tuple[float, float]]] = {"observer": [], "walker": []}
    states: Counter[str] = Counter()
    walking = 0
    windows: list[float] = []
    for part in parts:
        w = part["window"]
        elapsed = w[1] - w[0] if w is not None else 0.0
        if w is not None:
            windows.append(elapsed)
        for a in part["agents"]:
            states[a["state"]] += 1
            walking += a["walking"]
        for role, found in rates.items():
            found += window_rates((a for a in part["agents"] if a["role"] == role), elapsed)
    failed = count - states["measured"] - states["late"] - states["dropped"]
    lat = np.array([s for p in parts for s in p["latency_s"]]) * 1000.0
    codes: Counter[str] = Counter()
    for p in parts:
        codes.update(p["close_codes"])
    everyone = _rate_figures(rates["observer"] + rates["walker"])
    out: dict[str, Any] = {
        "connected": count - failed,
        "measured": everyone.pop("measured"),
        "walking": walking,
        "late": states["late"],
        "dropped": states["dropped"],
        "failed": failed,
        "window_s": round(float(np.mean(windows)), 3) if windows else 0.0,
        **everyone,
        "by_role": {role: _rate_figures(found) for role, found in rates.items()},
        "latency_ms": {
            "p50": round(float(np.percentile(lat, 50)), 2) if lat.size else None,
            "p99": round(float(np.percentile(lat, 99)), 2) if lat.size else None,
            "samples": int(lat.size),
        },
        "errors": sum(
            p["errors"] + p["connect_errors"] + p["run_errors"] + p["unexpected_closes"]
            for p in parts
        )
        + max(0, count - sum(len(p["agents"]) for p in parts)),
        "close_codes": dict(codes),
    }
    last = [p["last_error"] for p in parts if p["last_error"]]
    if last:
        out["last_error"] = last[-1]
    return out


def histogram_quantile(q: float, buckets: Sequence[tuple[float, float]]) -> float | None:
    """The ``q`` quantile of a Prometheus histogram given as (upper bound, cumulative count).

    Interpolates linearly within the bucket, as PromQL's ``histogram_quantile``;
    a quantile in the +Inf bucket is the highest finite bound. None if empty.
    """
    ordered = sorted(buckets)
    if not ordered or ordered[-1][1] <= 0:
        return None
    rank = q * ordered[-1][1]
    lower, below = 0.0, 0.0
    for upper, cum in ordered:
        if cum >= rank and cum > below:
            if math.isinf(upper):
                return lower
            return lower + (upper - lower) * (rank - below) / (cum - below)
        lower, below = (lower if math.isinf(upper) else upper), cum
    return lower


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse_metrics(text: str) -> Samples:
    """Every sample of a Prometheus text exposition, by (name, sorted labels)."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): float(s.value)
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def metrics_url(ws_url: str) -> str:
    """The server's ``/metrics`` URL beside its WebSocket URL."""
    parts = urllib.parse.urlsplit(ws_url)
    scheme = "https" if parts.scheme == "wss" else "http"
    return urllib.parse.urlunsplit((scheme, parts.netloc, "/metrics", "", ""))


@dataclass
class ServerSample:
    at: float
    metrics: Samples | None
    cpu_s: float | None = None
    children: dict[tuple[int, float], float] | None = None
    host: tuple[float, float] | None = None
    """(busy, total) CPU seconds of the whole machine."""
    wait_s: float | None = None
    """How long /metrics took to answer."""
    error: str | None = None


def _cpu_tree(pid: int) -> tuple[float, dict[tuple[int, float], float]]:
    """CPU seconds of ``pid`` and of each of its descendants (by pid and start time)."""
    import psutil  # type: ignore[import-untyped]

    proc = psutil.Process(pid)
    t = proc.cpu_times()
    own = float(t.user + t.system)
    children: dict[tuple[int, float], float] = {}
    for child in proc.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            ct = child.cpu_times()
            children[(int(child.pid), float(child.create_time()))] = float(ct.user + ct.system)
    return own, children


def _host_cpu() -> tuple[float, float] | None:
    try:
        import psutil  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover
        return None
    t = psutil.cpu_times()
    # guest time is already counted in user time (Linux); idle and iowait are not busy
    total = float(sum(t)) - float(getattr(t, "guest", 0.0)) - float(getattr(t, "guest_nice", 0.0))
    return total - float(t.idle) - float(getattr(t, "iowait", 0.0)), total


def sample_server(url: str, server_pid: int | None) -> ServerSample:
    """Scrape ``url`` (a /metrics URL) and the server's CPU counters, now."""
    asked = time.monotonic()
    sample = ServerSample(asked, None)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=10.0) as r:
            text = r.read().decode("utf-8")
        sample.at = time.monotonic()  # nearer the moment a busy server rendered it
        sample.wait_s = sample.at - asked
        sample.metrics = parse_metrics(text)
    except (OSError, ValueError) as exc:
        sample.error = repr(exc)
    if server_pid is not None:
        try:
            sample.cpu_s, sample.children = _cpu_tree(server_pid)
        except Exception as exc:  # psutil missing, or no such process
            sample.error = repr(exc)
    sample.host = _host_cpu()
    return sample


def _histogram(m: Samples, name: str) -> dict[float, float]:
    return {float(dict(labels)["le"]): v for (n, labels), v in m.items() if n == name + "_bucket"}


def server_figures(a: ServerSample, b: ServerSample, tick_hz: int | None) -> dict[str, Any]:
    """The server's figures over the window between samples ``a`` and ``b``."""
    elapsed = b.at - a.at
    out: dict[str, Any] = {"tick_hz": tick_hz, "window_s": round(elapsed, 3)}
    waits = [s.wait_s for s in (a, b) if s.wait_s is not None]
    if waits:
        out["scrape_ms"] = round(max(waits) * 1000, 1)
    if a.metrics is not None and b.metrics is not None and elapsed > 0:
        m0, m1 = a.metrics, b.metrics

        def delta(name: str, **labels: str) -> float:
            key = (name, tuple(sorted(labels.items())))
            return m1.get(key, 0.0) - m0.get(key, 0.0)

        h0, h1 = (
            _histogram(m0, "servicepoint_tick_seconds"),
            _histogram(m1, "servicepoint_tick_seconds"),
        )
        buckets = [(le, h1[le] - h0.get(le, 0.0)) for le in h1]
        ticks = delta("servicepoint_tick_seconds_count")
        p50, p99 = histogram_quantile(0.5, buckets), histogram_quantile(0.99, buckets)
        tick_sum = delta("servicepoint_tick_seconds_sum")
        out |= {
            "ticks": int(ticks),
            "ticks_per_s": round(ticks / elapsed, 2),
            "tick_ms": {
                "p50": round(p50 * 1000, 3) if p50 is not None else None,
                "p99": round(p99 * 1000, 3) if p99 is not None else None,
                "mean": round(tick_sum / ticks * 1000, 3) if ticks > 0 else None,
            },
            "frames_skipped": int(delta("servicepoint_frames_skipped_total")),
            "closes_4003": int(delta("servicepoint_closes_total", code="4003")),
            "connections": int(m1.get(("servicepoint_connections", ()), 0.0)),
        }
    if a.cpu_s is not None and b.cpu_s is not None and elapsed > 0:
        cpu = b.cpu_s - a.cpu_s
        kids = sum(
            v - (a.children or {})[k]
            for k, v in (b.children or {}).items()
            if k in (a.children or {})
        )
        out |= {
            "cpu_s": round(cpu, 3),
            "cpu_cores": round(cpu / elapsed, 3),
            "cpu_s_children": round(kids, 3),
        }
    error = b.error or a.error
    if error:
        out["error"] = error
    return out


def limits(
    server: Mapping[str, Any], swarm: Mapping[str, Any], host: Mapping[str, Any] | None
) -> tuple[str, list[str]]:
    """What limited the run, and every sign of strain seen.

    In order: ``"client"`` when the swarm processes used at least 90 % of their
    cores (or one of them 90 % of its core); ``"server"`` when the server
    process used 90 % of its core; ``"machine"`` when neither did but the
    host's cores were 90 % busy (swarm and server compete for them: the figures
    say little about the server); ``"server"`` when it ticked late or slow or
    dropped frames; ``"client"`` when a worker's event loop lagged a tick
    period on an otherwise idle machine; else ``"none"``.
    """
    hz = server.get("tick_hz") or 0
    period_ms = 1000.0 / hz if hz else None
    client: list[str] = []
    if swarm["utilisation"] >= 0.9:
        client.append(f"swarm processes used {swarm['utilisation']:.0%} of {swarm['cores']} cores")
    for i, p in enumerate(swarm["per_process"]):
        if p["cpu_cores"] >= 0.9:
            client.append(f"swarm process {i} used {p['cpu_cores']:.0%} of a core")
    lagged: list[str] = []
    for i, p in enumerate(swarm["per_process"]):
        lag = p["loop_lag_ms"]["p99"]
        if period_ms is not None and lag is not None and lag >= period_ms:
            lagged.append(f"swarm process {i} event loop lagged {lag:.0f} ms (p99)")
    server_cpu: list[str] = []
    if server.get("cpu_cores", 0.0) >= 0.9:
        server_cpu.append(f"server process used {server['cpu_cores']:.0%} of a core")
    machine: list[str] = []
    if host is not None and host.get("busy", 0.0) >= 0.9:
        machine.append(f"the machine was {host['busy']:.0%} busy over {host['cpus']} cores")
    strain: list[str] = []
    if hz and server.get("ticks_per_s") is not None and server["ticks_per_s"] < 0.9 * hz:
        strain.append(f"server ticked {server['ticks_per_s']}/s of {hz}")
    p99 = (server.get("tick_ms") or {}).get("p99")
    if period_ms is not None and p99 is not None and p99 >= period_ms:
        strain.append(f"server tick p99 {p99} ms over the {period_ms:.0f} ms period")
    if server.get("frames_skipped"):
        strain.append(f"server skipped {server['frames_skipped']} frames (full send buffers)")
    if server.get("closes_4003"):
        strain.append(f"server closed {server['closes_4003']} slow consumers (4003)")
    ranked = [
        (client, "client"),
        (server_cpu, "server"),
        (machine, "machine"),
        (strain, "server"),
        (lagged, "client"),
    ]
    verdict = next((name for reasons, name in ranked if reasons), "none")
    return verdict, [*client, *server_cpu, *machine, *strain, *lagged]


# -- the parent ---------------------------------------------------------------------


def plan_agents(
    count: int, processes: int, observers: int, late: int = 0, idle: int = 0
) -> list[list[AgentPlan]]:
    """Agents by process, round robin: observers first, late and idle walkers last."""
    plans: list[list[AgentPlan]] = [[] for _ in range(processes)]
    for i in range(count):
        from_end = count - 1 - i
        plans[i % processes].append(
            {
                "index": i,
                "observer": i < observers,
                "late": i >= observers and from_end < late,
                "idle": i >= observers and late <= from_end < late + idle,
            }
        )
    return plans


def default_processes(count: int) -> int:
    """min(4, cores), with at least ten agents per process (latency is matched per process)."""
    return max(1, min(4, os.cpu_count() or 1, count // 10))


async def _recv(conn: Connection, timeout: float) -> Any:
    def get() -> Any:
        if not conn.poll(timeout):
            raise TimeoutError("a swarm process did not answer in time")
        return conn.recv()

    return await asyncio.to_thread(get)


async def swarm(
    url: str,
    count: int,
    seconds: float,
    seed: int = 1,
    *,
    processes: int | None = None,
    observers: int | None = None,
    server_pid: int | None = None,
    ramp: float | None = None,
    late: int = 0,
    idle: int = 0,
    metrics: str | None = None,
    near_m: float = NEAR_M,
) -> dict[str, Any]:
    """Run ``count`` agents against ``url`` for a window of ``seconds``; the figures.

    ``late`` walkers connect only after the window started and ``idle`` ones
    never walk: both exist to check that the figures stay sound. ``near_m``: the
    radius latency is measured in (the server's ``near_m``, if it was changed).
    """
    processes = max(1, min(processes or default_processes(count), max(count, 1)))
    observers = min(count, 2 * processes if observers is None else observers)
    late = max(0, min(late, count - observers))
    idle = max(0, min(idle, count - observers - late))
    ramp_s = max(1.0, count / RAMP_PER_S) if ramp is None else max(0.0, ramp)
    metrics = metrics or metrics_url(url)
    plans = plan_agents(count, processes, observers, late, idle)

    ctx = multiprocessing.get_context("spawn")
    procs: list[BaseProcess] = []
    conns: list[Connection] = []
    parts: list[WorkerPart] = []
    try:
        for agents in plans:
            mine, theirs = ctx.Pipe()
            spec: WorkerSpec = {
                "url": url,
                "count": count,
                "seed": seed,
                "agents": agents,
                "near_m": near_m,
            }
            proc = ctx.Process(target=_worker_main, args=(theirs, spec), daemon=True)
            proc.start()
            theirs.close()
            procs.append(proc)
            conns.append(mine)
        for conn in conns:
            await _recv(conn, READY_WAIT_S)
        ramp_msg: Ramp = {"start": time.monotonic() + 0.1, "seconds": ramp_s}
        for conn in conns:
            conn.send(ramp_msg)
        # Every worker says "settled" once its agents connected or failed (bounded there).
        for conn in conns:
            await _recv(conn, ramp_s + CONNECT_TIMEOUT_S + SETTLE_WAIT_S)
        start = time.monotonic() + SETTLE_S
        window: Window = {
            "start": start,
            "end": start + seconds,
            "late_start": start + min(1.0, 0.25 * seconds),
        }
        for conn in conns:
            conn.send(window)
        await _sleep_until(window["start"])
        s0 = await asyncio.to_thread(sample_server, metrics, server_pid)
        await _sleep_until(window["end"])
        s1 = await asyncio.to_thread(sample_server, metrics, server_pid)
        for conn in conns:
            conn.send("stop")
        grace = 2 * CONNECT_TIMEOUT_S + 10.0
        for conn in conns:
            with contextlib.suppress(TimeoutError, EOFError, OSError):
                parts.append(await _recv(conn, grace))
    finally:
        for conn in conns:
            conn.close()
        for worker in procs:
            await asyncio.to_thread(worker.join, 10.0)
            if worker.is_alive():  # only our own worker, by its handle
                worker.terminate()
                await asyncio.to_thread(worker.join, 5.0)

    tick_hz = next((p["tick_hz"] for p in parts if p["tick_hz"]), None)
    out: dict[str, Any] = {
        "count": count,
        "seconds": seconds,
        "processes": processes,
        "observers": observers,
        "walkers": count - observers,
        **client_figures(parts, count),
    }
    server = server_figures(s0, s1, tick_hz)
    server["url"] = metrics
    cores = min(processes, os.cpu_count() or 1)
    per_process: list[dict[str, Any]] = []
    for part in parts:
        w = part["window"]
        elapsed = w[1] - w[0] if w else 0.0
        per_process.append(
            {
                "agents": len(part["agents"]),
                "cpu_s": part["cpu_s"],
                "cpu_cores": round(part["cpu_s"] / elapsed, 3) if elapsed > 0 else 0.0,
                "loop_lag_ms": part["loop_lag_ms"],
            }
        )
    used = sum(p["cpu_cores"] for p in per_process)
    swarm_cpu = {
        "cpu_s": round(sum(p["cpu_s"] for p in parts), 3),
        "cpu_cores": round(used, 3),
        "cores": cores,
        "utilisation": round(used / cores, 3),
        "per_process": per_process,
    }
    host: dict[str, Any] | None = None
    if s0.host is not None and s1.host is not None and s1.host[1] > s0.host[1]:
        busy = (s1.host[0] - s0.host[0]) / (s1.host[1] - s0.host[1])
        host = {"cpus": os.cpu_count() or 1, "busy": round(busy, 3)}
    limited_by, reasons = limits(server, swarm_cpu, host)
    out |= {"server": server, "swarm": swarm_cpu}
    if host is not None:
        out["host"] = host
    out |= {"limited_by": limited_by, "limits": reasons}
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="agents.swarm", description=__doc__.splitlines()[0])
    p.add_argument("--url", default="ws://127.0.0.1:8000/ws")
    p.add_argument("--count", type=int, default=50)
    p.add_argument("--seconds", type=float, default=15.0, help="the measurement window")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--processes", type=int, default=None, help="worker processes (default: min(4, cores))"
    )
    p.add_argument(
        "--observers", type=int, default=None, help="agents that decode frames (default: 2 each)"
    )
    p.add_argument("--server-pid", type=int, default=None, help="report this process's CPU")
    p.add_argument("--metrics-url", default=None, help="default: /metrics beside --url")
    p.add_argument("--ramp", type=float, default=None, help="seconds to connect everyone")
    p.add_argument("--late", type=int, default=0, help="walkers that join inside the window")
    p.add_argument(
        "--idle", type=int, default=0, help="agents that walk to a place and stand still"
    )
    p.add_argument(
        "--near-m", type=float, default=NEAR_M, help="measure latency on movers this near"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object (the default)")
    args = p.parse_args(argv)
    result = _run_loop(
        lambda: swarm(
            args.url,
            args.count,
            args.seconds,
            args.seed,
            processes=args.processes,
            observers=args.observers,
            server_pid=args.server_pid,
            ramp=args.ramp,
            late=args.late,
            idle=args.idle,
            metrics=args.metrics_url,
            near_m=args.near_m,
        )
    )
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0 if result["errors"] == 0 and result["connected"] == args.count else 1


if __name__ == "__main__":
    raise SystemExit(main())
