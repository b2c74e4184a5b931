"""Events benchmark: one host speaks 20 ms Opus to many listeners (issue 10).

    python -m bench.events --json            # full run, ~6 minutes
    python -m bench.events --quick --json    # under a minute, small N

Three ramps, each with its server in its own process and the listeners in two
other worker processes (the host: this process, or ``agents.host_bot`` for ``ws``):

- ``webrtc``: the server is a `StageVoice` (uvloop, as `server.cli` runs it)
  with one publishing host, driven over a JSON-lines control socket. The host
  sends a pre-encoded tone through the same direct RTP path the stage forwards
  with (`bench.voice.Leg`); each listener is an aiortc peer with one recvonly
  m-line whose packets are tapped as they arrive (no decoding).
- ``default``: aiortc's default path in the same run: a plain
  `RTCPeerConnection` server relaying the host's track to each listener through
  `aiortc.contrib.media.MediaRelay`, so aiortc decodes the host once and
  re-encodes per listener (a sink keeps reading the relay, so the first
  listener does not get a backlog).
- ``ws``: the real server (``python -m server run`` on a free port, embedded
  defaults), `agents.host_bot` publishing with ``event_rtc_offer``, and N
  WebSocket attendees (`agents.audience`: raw WebSocket frames and msgpack, no
  decoding) that join the event and ``event_listen ws`` while the server keeps
  sending them its 20 Hz state frames.

At each step N (listeners) it measures over a fixed window:

- server CPU: the server process's user+system time (all threads) / wall time
  (1.0 = one core); CPU per listener-second; the listener processes' CPU and the
  machine's busy share (2 cores shared by everything);
- loss: of the host's packets due in the window, those that did not reach a
  listener within 0.5 s (``webrtc``, ``ws``). On the ``default`` path the
  payloads are re-encoded and carry no index, so loss is the larger of the
  sequence-gap loss and the shortfall of packets received against 50 a second;
- added mouth-to-ear latency: arrival at the listener minus the moment the host
  sent the packet. Every process of one machine shares CLOCK_MONOTONIC; the
  host's n-th packet is due at ``t0 + n * 20 ms`` and a listener recovers n
  from the RTP timestamp spacing and the payload's place in the host's loop
  (`agents.audience.SendClock`). The host's own send lag is reported apart;
- ``ws`` also: state frames received per client per second and the server's
  tick figures from /metrics (`agents.swarm.server_figures`).

A step is valid with loss <= 1 % and every listener receiving (``ws``: also p99
added delay <= 150 ms, every attendee joined, none dropped). A failed step is
measured once more, then the ramp steps back to the midpoint between the last
valid and the failed N (up to three times); only a ``loss`` failure caps later
steps. Listener connections that failed (an overloaded machine can starve ICE
consent checks) are replaced before a step, and a lost host publishes again
(``listeners_replaced``, ``host_reconnects``). A ramp ends at a failed step
(``limited_by``: ``loss``, or ``client_cpu``/``machine`` when the listener
processes or the whole machine were saturated, so the step says little about
the server), when the server saturates a core (``server_cpu``), at the cap or
when its time budget runs out. ``listeners_per_core`` is the largest valid N
divided by the server cores it used if that exceeded one (measured);
``listeners_per_core_by_cpu`` is 1 / server CPU per listener-second at that
step (an extrapolation to a fully busy core). The last line is one JSON object
with ``webrtc_listeners_per_core``, ``ws_listeners_per_process``,
``ratio_vs_default``, the loss figures and ``machine``. It never fails on a
time; the goals (>= 600 listeners per core, >= 10x the default path, 5,000 WS
listeners) are printed, not enforced.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import multiprocessing
import os
import resource
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any, TypeVar

from agents.audience import (
    LATE_S,
    AudienceProcesses,
    Figures,
    Packet,
    SendClock,
    analyse,
    clock_origin,
)
from bench.machine import machine

T = TypeVar("T")

LOSS_LIMIT = 0.01
WS_DELAY_P99_LIMIT_MS = 150.0
SATURATED = 0.9
"""A process at this share of a core (or the machine at this share of all) is saturated."""
PACKETS_PER_S = 50
TONE_HZ = 441.0
"""The host's tone: 441 Hz makes every 20 ms payload of its 1 s loop distinct."""
STAGE = "bench"
WORKERS = 2
"""Listener processes (one per core of the 2-core development machine)."""


# -- the server process of the webrtc and default ramps ----------------------------------


class _Stage:
    """The stage under test: a `StageVoice` with one stage."""

    def __init__(self) -> None:
        from server.voice.stage import StageVoice

        self.voice = StageVoice(
            host_addresses=["127.0.0.1"], connect_timeout=120, webrtc_listener_budget=100_000
        )

    async def start(self) -> None:
        await self.voice.open_stage(STAGE)
        self.voice.allow(STAGE, "host", True)

    async def publish(self, who: str, sdp: str) -> str:
        return await self.voice.publish(STAGE, who, sdp)

    async def listen(self, who: str, sdp: str) -> str:
        return await self.voice.listen(STAGE, who, sdp)

    async def leave(self, who: str) -> None:
        await self.voice.leave(STAGE, who)

    def stats(self) -> dict[str, Any]:
        return {**asdict(self.voice.stats), "pcs": self.voice.open_peer_connections}

    async def close(self) -> None:
        await self.voice.close()


class _Relay:
    """aiortc's default path: the host's track through a `MediaRelay` to every
    listener's sender, which encodes it (decode once, encode per listener)."""

    def __init__(self) -> None:
        from aiortc.contrib.media import MediaRelay

        from server.voice.aiortc_internals import restrict_host_addresses

        restrict_host_addresses(["127.0.0.1"])
        self.relay = MediaRelay()
        self.source: Any = None
        self.pcs: dict[str, Any] = {}
        self.sink: asyncio.Task[None] | None = None
        self.frames = 0

    async def start(self) -> None:
        return None

    async def _answer(self, who: str, sdp: str, add: Callable[[Any], None]) -> str:
        from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

        old = self.pcs.pop(who, None)
        if old is not None:
            await old.close()
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.pcs[who] = pc
        add(pc)
        await pc.setRemoteDescription(RTCSessionDescription(sdp, "offer"))
        if who != "host":
            pc.addTrack(self.relay.subscribe(self.source))
        await pc.setLocalDescription(await pc.createAnswer())
        return str(pc.localDescription.sdp)

    async def publish(self, who: str, sdp: str) -> str:
        def on_track(pc: Any) -> None:
            @pc.on("track")  # type: ignore[untyped-decorator]
            def track(track: Any) -> None:
                if self.sink is not None:  # the host published again
                    self.sink.cancel()
                self.source = track
                self.sink = asyncio.ensure_future(self._drain(self.relay.subscribe(track)))

        return await self._answer(who, sdp, on_track)

    async def _drain(self, track: Any) -> None:
        from aiortc.mediastreams import MediaStreamError

        with contextlib.suppress(MediaStreamError):
            while True:
                await track.recv()
                self.frames += 1

    async def listen(self, who: str, sdp: str) -> str:
        if self.source is None:
            raise RuntimeError("no host track yet")
        return await self._answer(who, sdp, lambda pc: None)

    async def leave(self, who: str) -> None:
        pc = self.pcs.pop(who, None)
        if pc is not None:
            await pc.close()

    def stats(self) -> dict[str, Any]:
        return {"frames_relayed": self.frames, "pcs": len(self.pcs)}

    async def close(self) -> None:
        await asyncio.gather(*(pc.close() for pc in self.pcs.values()), return_exceptions=True)
        self.pcs.clear()
        if self.sink is not None:
            self.sink.cancel()
            await asyncio.gather(self.sink, return_exceptions=True)


def _usage() -> dict[str, float]:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return {"cpu": ru.ru_utime + ru.ru_stime, "wall": time.monotonic()}


async def _serve(mode: str) -> None:
    """The server process: a stage (or relay) behind a JSON-lines socket on
    127.0.0.1 (its port printed first); it ends when stdin closes."""
    backend: _Stage | _Relay = _Stage() if mode == "stage" else _Relay()
    await backend.start()
    tasks: set[asyncio.Task[None]] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def one(request: dict[str, Any]) -> None:
            answer: dict[str, Any] = {"id": request["id"]}
            try:
                op = request["op"]
                if op == "publish":
                    answer["sdp"] = await backend.publish(request["who"], request["sdp"])
                elif op == "listen":
                    answer["sdp"] = await backend.listen(request["who"], request["sdp"])
                elif op == "leave":
                    await backend.leave(request["who"])
                elif op == "usage":
                    answer |= _usage()
                    answer["stats"] = backend.stats()
                    answer["threads"] = threading.active_count()
                else:
                    answer["error"] = f"unknown op {op!r}"
            except Exception as exc:  # report, keep serving
                answer["error"] = repr(exc)
            writer.write((json.dumps(answer) + "\n").encode())

        while line := await reader.readline():
            task = asyncio.ensure_future(one(json.loads(line)))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, limit=1 << 20)
    port = server.sockets[0].getsockname()[1]
    sys.stdout.write(json.dumps({"port": port}) + "\n")
    sys.stdout.flush()
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    while await stdin.readline():
        pass
    server.close()
    await backend.close()


class Control:
    """A client of the server process's control socket."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader, self._writer = reader, writer
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._next = 0
        self._task = asyncio.ensure_future(self._read())

    @classmethod
    async def open(cls, port: int) -> Control:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
        return cls(reader, writer)

    async def _read(self) -> None:
        while line := await self._reader.readline():
            message = json.loads(line)
            future = self._pending.pop(message["id"], None)
            if future is not None and not future.done():
                future.set_result(message)
        for future in self._pending.values():
            if not future.done():
                future.set_exception(ConnectionError("the server process is gone"))

    async def call(self, op: str, **args: Any) -> dict[str, Any]:
        self._next += 1
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[self._next] = future
        self._writer.write((json.dumps({"id": self._next, "op": op, **args}) + "\n").encode())
        message = await future
        if "error" in message:
            raise RuntimeError(f"server {op}: {message['error']}")
        return message

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(Exception):
            await self._writer.wait_closed()
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


class ServerProcess:
    """``python -m bench.events --serve stage|relay`` and a control connection to it."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.proc: asyncio.subprocess.Process | None = None
        self.port = 0
        self.control: Control | None = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.events",
            "--serve",
            self.mode,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), 60)
        self.port = int(json.loads(line)["port"])
        self.control = await Control.open(self.port)

    async def call(self, op: str, **args: Any) -> dict[str, Any]:
        assert self.control is not None
        return await self.control.call(op, **args)

    async def stop(self) -> None:
        if self.control is not None:
            await self.control.close()
        if self.proc is None:
            return
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            await asyncio.wait_for(self.proc.wait(), 60)
        except TimeoutError:
            self.proc.kill()  # our own child, by its handle
            await self.proc.wait()


# -- the listener processes of the webrtc and default ramps ---------------------------


@dataclass(eq=False)
class _Listener:
    who: str
    peer: Any  # agents.voice_peer.VoicePeer
    packets: list[Packet] = field(default_factory=list)


async def _listeners(conn: Connection, port: int, index: int, payloads: list[str] | None) -> None:
    """A listener process: aiortc listeners of the server at ``port``, driven by
    requests on ``conn``. With ``payloads`` (the host's), each packet's place in
    the host's loop is kept, for the delay."""
    from agents.voice_peer import VoicePeer
    from server.voice.aiortc_internals import tap_inbound_rtp

    # aioice prints every stray datagram it cannot parse (RTP the server still sends
    # to a port a replaced listener had); count them instead.
    loop_errors: list[str] = []

    def quiet(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        loop_errors.append(repr(context.get("exception") or context.get("message")))

    asyncio.get_running_loop().set_exception_handler(quiet)
    control = await Control.open(port)
    places = (
        SendClock(0.0, [bytes.fromhex(p) for p in payloads]).places if payloads is not None else {}
    )
    listeners: list[_Listener] = []
    limit = asyncio.Semaphore(16)

    made = 0

    async def add(count: int) -> int:
        nonlocal made
        first, made = made, made + count

        async def one(i: int) -> _Listener | None:
            async with limit:
                who = f"listener-{index}-{i}"
                peer = VoicePeer(who, tone_hz=None, receive_slots=1, record=False, keep_seconds=0)
                listener = _Listener(who, peer)
                append, clock, get = listener.packets.append, time.monotonic, places.get

                def on_packet(p: Any) -> None:
                    append((clock(), p.sequence_number, p.timestamp, get(p.payload)))

                for receiver in peer.pc.getReceivers():
                    tap_inbound_rtp(receiver, on_packet)

                async def signal(offer: str) -> str:
                    return str((await control.call("listen", who=who, sdp=offer))["sdp"])

                try:
                    await peer.connect(signal)
                    await peer.wait_connected(60)
                except Exception:
                    await peer.close()
                    return None
                return listener

        joined = await asyncio.gather(*(one(i) for i in range(first, first + count)))
        listeners.extend(x for x in joined if x is not None)
        gc.collect()
        gc.freeze()  # a load generator: keep the collector out of the way
        return sum(x is None for x in joined)

    async def drop(gone: list[_Listener]) -> None:
        for x in gone:
            listeners.remove(x)
        await asyncio.gather(*(control.call("leave", who=x.who) for x in gone))
        await asyncio.gather(*(x.peer.close() for x in gone), return_exceptions=True)

    async def resize(target: int) -> dict[str, int]:
        """Drop listeners whose connection failed, then add or drop to ``target``."""
        dead = [x for x in listeners if x.peer.pc.connectionState != "connected"]
        await drop(dead)
        failed = 0
        if target > len(listeners):
            failed = await add(target - len(listeners))
        elif target < len(listeners):
            await drop(listeners[target:])
        return {"count": len(listeners), "failed": failed, "pruned": len(dead)}

    try:
        while True:
            request: dict[str, Any] = await _recv(conn, 900.0)
            op = request["op"]
            answer: Any = None
            if op == "resize":
                answer = await resize(request["target"])
            elif op == "mark":
                answer = {"t": time.monotonic(), "cpu": time.process_time()}
            elif op == "report":
                w0, w1 = request["window"]
                clock = SendClock.from_json(request["clock"]) if request["clock"] else None
                figures = Figures()
                for x in listeners:
                    # Only what arrived from the window on: the host may have
                    # reconnected before it (a new stream, new timestamps).
                    x.packets[:] = [p for p in x.packets if p[0] >= w0]
                    analyse([(x.packets, None)], figures, (w0, w1), clock)
                    x.packets.clear()
                answer = {"figures": figures.to_wire(), "loop_errors": len(loop_errors)}
            elif op == "stop":
                break
            conn.send(answer)
    finally:
        await asyncio.gather(*(x.peer.close() for x in listeners), return_exceptions=True)
        await control.close()
        with contextlib.suppress(OSError):
            conn.send("stopped")


def _listener_main(conn: Connection, port: int, index: int, payloads: list[str] | None) -> None:
    _raise_fd_limit()
    try:
        _run(lambda: _listeners(conn, port, index, payloads))
    except (EOFError, BrokenPipeError, TimeoutError, KeyboardInterrupt):
        pass
    finally:
        conn.close()


async def _recv(conn: Connection, timeout: float) -> Any:
    def get() -> Any:
        if not conn.poll(timeout):
            raise TimeoutError("a process did not answer in time")
        return conn.recv()

    return await asyncio.to_thread(get)


class ListenerProcesses:
    def __init__(self, port: int, payloads: list[bytes] | None) -> None:
        self.port = port
        self.payloads = None if payloads is None else [p.hex() for p in payloads]
        self.procs: list[BaseProcess] = []
        self.conns: list[Connection] = []
        self.counts = [0] * WORKERS
        self.loop_errors = 0
        """Event-loop errors in the listener processes so far (stray datagrams)."""
        self.marks: list[list[dict[str, float]]] = []

    async def start(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        for index in range(WORKERS):
            mine, theirs = ctx.Pipe()
            proc = ctx.Process(
                target=_listener_main,
                args=(theirs, self.port, index, self.payloads),
                daemon=True,
            )
            proc.start()
            theirs.close()
            self.procs.append(proc)
            self.conns.append(mine)

    @property
    def total(self) -> int:
        return sum(self.counts)

    async def _each(self, requests: list[dict[str, Any] | None], timeout: float) -> list[Any]:
        asked = [(c, r) for c, r in zip(self.conns, requests, strict=True) if r is not None]
        for conn, request in asked:
            conn.send(request)
        return list(await asyncio.gather(*(_recv(c, timeout) for c, _ in asked)))

    async def resize(self, n: int) -> tuple[int, int]:
        """Grow (or shrink) to ``n`` listeners, evenly spread, replacing those whose
        connection failed; returns (failed connects, failed connections replaced)."""
        requests: list[dict[str, Any] | None] = [
            {"op": "resize", "target": n // WORKERS + (i < n % WORKERS)} for i in range(WORKERS)
        ]
        answers = await self._each(requests, 600.0)
        self.counts = [int(a["count"]) for a in answers]
        return sum(int(a["failed"]) for a in answers), sum(int(a["pruned"]) for a in answers)

    async def mark(self) -> None:
        self.marks = [*self.marks[-1:], await self._each([{"op": "mark"}] * WORKERS, 60.0)]

    def cores(self) -> list[float]:
        a, b = self.marks
        return [
            round((y["cpu"] - x["cpu"]) / (y["t"] - x["t"]), 3) for x, y in zip(a, b, strict=True)
        ]

    async def report(self, window: tuple[float, float], clock: SendClock | None) -> Figures:
        request = {
            "op": "report",
            "window": list(window),
            "clock": None if clock is None else clock.to_json(),
        }
        merged = Figures()
        self.loop_errors = 0
        for part in await self._each([request] * WORKERS, 300.0):
            merged.merge(Figures.from_wire(part["figures"]))
            self.loop_errors += int(part["loop_errors"])
        return merged

    async def stop(self) -> None:
        for conn in self.conns:
            with contextlib.suppress(OSError):
                conn.send({"op": "stop"})
        for conn in self.conns:
            with contextlib.suppress(Exception):
                while await _recv(conn, 60.0) != "stopped":
                    pass
            conn.close()
        for proc in self.procs:
            await asyncio.to_thread(proc.join, 10.0)
            if proc.is_alive():  # only our own worker, by its handle
                proc.terminate()
                await asyncio.to_thread(proc.join, 5.0)


# -- steps and ramps ------------------------------------------------------------------


@dataclass
class Step:
    listeners: int
    server_cores: float
    client_cores: list[float]
    host_busy: float | None
    """Share of all the machine's CPUs busy over the window (everything on it)."""
    server_cpu_ms_per_listener_second: float
    loss: float
    loss_detail: dict[str, Any]
    flowing: int
    latency_ms: dict[str, float] | None
    jitter_ms: dict[str, float] | None
    window_s: float
    extra: dict[str, Any] = field(default_factory=dict)
    failed_joins: int = 0
    delay_limit_ms: float | None = None

    @property
    def verdict(self) -> str:
        bad = (
            self.loss > LOSS_LIMIT
            or self.flowing < self.listeners
            or self.failed_joins > 0
            or self.extra.get("closed", 0) > 0
        )
        if self.delay_limit_ms is not None:
            p99 = (self.latency_ms or {}).get("p99")
            bad = bad or p99 is None or p99 > self.delay_limit_ms
        if not bad:
            return "ok"
        if any(c >= SATURATED for c in self.client_cores):
            return "client_cpu"  # the listeners fell behind: the step says little
        if self.host_busy is not None and self.host_busy >= 0.95:
            return "machine"
        return "loss"

    @property
    def valid(self) -> bool:
        return self.verdict == "ok"

    def row(self) -> dict[str, Any]:
        return {**asdict(self), "verdict": self.verdict}


def _host_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far."""
    import psutil  # type: ignore[import-untyped]

    t = psutil.cpu_times()
    total = float(sum(t)) - float(getattr(t, "guest", 0.0)) - float(getattr(t, "guest_nice", 0.0))
    return total - float(t.idle) - float(getattr(t, "iowait", 0.0)), total


def _busy(a: tuple[float, float], b: tuple[float, float]) -> float | None:
    return round((b[0] - a[0]) / (b[1] - a[1]), 3) if b[1] > a[1] else None


def _next(step: Step, cap: int, ceiling: int) -> int:
    """Double while far from a busy core (or a busy machine), then approach in ~1/8."""
    n = step.listeners
    used = step.server_cores + sum(step.client_cores)
    cpus = os.cpu_count() or 1
    projected = min(
        int(0.85 * n / max(step.server_cores, 0.02)),
        int(0.9 * cpus * n / max(used, 0.02)),
        int(0.9 * n / max(step.host_busy or 0.0, 0.02)),  # other work on the machine too
    )
    return min(cap, ceiling, max(n + max(1, n // 8), min(2 * n, projected)))


@dataclass
class Ramp:
    """Runs steps up to a limit: `measure(n)` sets up n listeners and measures."""

    name: str
    start: int
    cap: int
    budget: float
    log: Callable[[str], None]
    steps: list[Step] = field(default_factory=list)
    limited_by: str = "cap"

    async def run(self, measure: Callable[[int], Awaitable[Step]]) -> None:
        began = time.monotonic()
        n, good, refinements = self.start, None, 0
        while True:
            step = await measure(n)
            if not step.valid:
                self.log(
                    f"{self.name:8} n={n:5} {step.verdict} (loss={step.loss:.4f} "
                    f"flowing={step.flowing}/{step.listeners} failed={step.failed_joins} "
                    f"p99={(step.latency_ms or {}).get('p99')}ms busy={step.host_busy} "
                    f"errors={step.extra.get('errors', [])[:2]}): measuring again"
                )
                if step.verdict == "machine":
                    await asyncio.sleep(3.0)  # other work on the machine: let it pass
                step = await measure(n)
            self.steps.append(step)
            self.log(
                f"{self.name:8} n={n:5} server_cores={step.server_cores:5.2f} "
                f"clients={step.client_cores} busy={step.host_busy} loss={step.loss:.4f} "
                f"p50={(step.latency_ms or {}).get('p50')}ms "
                f"p99={(step.latency_ms or {}).get('p99')}ms -> {step.verdict}"
            )
            elapsed = time.monotonic() - began
            out_of_time = elapsed + 1.5 * elapsed / len(self.steps) > self.budget
            if not step.valid:
                self.limited_by = step.verdict
                low = good.listeners if good is not None else 0
                room = step.listeners - low > max(2, low // 10)
                if refinements < 3 and room and not out_of_time:
                    refinements += 1
                    n = (low + step.listeners) // 2 if low else max(1, step.listeners // 2)
                    continue
                break
            good = step
            if step.server_cores >= SATURATED:
                self.limited_by = "server_cpu"
                break
            if any(c >= SATURATED for c in step.client_cores):
                self.limited_by = "client_cpu"
                break
            if n >= self.cap:
                self.limited_by = "cap"
                break
            if out_of_time:
                self.limited_by = "time_budget"
                break
            # Only a failure the server answers for caps the ramp; one where the machine
            # or the listeners were saturated (often by other work) may pass.
            failed = [s.listeners for s in self.steps if s.verdict == "loss"]
            n = _next(step, self.cap, min([self.cap, *(f - 1 for f in failed)]))
            if n <= step.listeners:
                break  # the next step up already failed

    def result(self, seconds: float) -> dict[str, Any]:
        valid = [s for s in self.steps if s.valid]
        best = max(valid, key=lambda s: s.listeners / max(1.0, s.server_cores), default=None)
        per_core = 0.0 if best is None else round(best.listeners / max(1.0, best.server_cores), 1)
        by_cpu = (
            round(1000 / best.server_cpu_ms_per_listener_second, 1)
            if best is not None and best.server_cpu_ms_per_listener_second > 0
            else 0.0
        )
        return {
            "mode": self.name,
            "listeners_per_core": per_core,
            "listeners_per_core_by_cpu": by_cpu,
            "best_step_listeners": None if best is None else best.listeners,
            "best": None if best is None else best.row(),
            "limited_by": self.limited_by,
            "seconds": round(seconds, 1),
            "steps": [s.row() for s in self.steps],
        }


# -- the webrtc and default ramps --------------------------------------------------------


class _Host:
    """The host of the webrtc and default ramps: a `VoicePeer` publishing to the
    server process, sending through the direct RTP path (`bench.voice.Leg`). If
    its connection drops (an overloaded machine can starve ICE consent checks for
    30 s), `keep` publishes again; `reconnects` counts it."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.leg: Any = None
        self.sent: list[float] = []
        """Send times of every packet so far (all connections)."""
        self.reconnects = -1

    async def keep(self) -> None:
        from agents.voice_peer import VoicePeer
        from bench.voice import Leg

        if self.leg is not None and self.leg.peer.pc.connectionState == "connected":
            return
        await self.close()
        peer = VoicePeer("host", tone_hz=TONE_HZ, receive_slots=0, autostart=False, record=False)
        self.leg = Leg(peer, payloads=peer.sent_payloads)

        async def signal(offer: str) -> str:
            return str((await self.server.call("publish", who="host", sdp=offer))["sdp"])

        await peer.connect(signal)
        await peer.wait_connected(30)
        self.leg.start(0.05)
        self.reconnects += 1
        await asyncio.sleep(0.2)

    @property
    def payloads(self) -> list[bytes]:
        return list(self.leg.payloads)

    def clock(self) -> SendClock:
        return SendClock(clock_origin(self.leg.send_times), self.payloads)

    async def close(self) -> None:
        if self.leg is not None:
            self.leg.stopped = True
            self.sent += self.leg.send_times
            await self.leg.peer.close()


async def _webrtc_ramp(mode: str, args: argparse.Namespace, log: Callable[[str], None]) -> Any:
    began = time.monotonic()
    name = "webrtc" if mode == "stage" else "default"
    server = ServerProcess(mode)
    await server.start()
    host = _Host(server)
    listeners: ListenerProcesses | None = None
    ramp = Ramp(
        name,
        args.start_webrtc if mode == "stage" else args.start_default,
        args.cap_webrtc if mode == "stage" else args.cap_default,
        args.budget_webrtc if mode == "stage" else args.budget_default,
        log,
    )
    setup: list[float] = []
    try:
        await host.keep()
        listeners = ListenerProcesses(server.port, host.payloads if mode == "stage" else None)
        await listeners.start()

        async def measure(n: int) -> Step:
            assert listeners is not None
            t = time.monotonic()
            failed, replaced = await listeners.resize(n)
            setup.append(round(time.monotonic() - t, 1))
            await host.keep()
            await asyncio.sleep(args.warmup)
            s0, h0, c0 = await server.call("usage"), _host_cpu(), time.process_time()
            await listeners.mark()
            await asyncio.sleep(args.window)
            s1, h1, c1 = await server.call("usage"), _host_cpu(), time.process_time()
            await listeners.mark()
            await asyncio.sleep(LATE_S + 0.1)
            w0, w1 = s0["wall"], s1["wall"]
            clock = host.clock()
            figures = await listeners.report((w0, w1), clock if mode == "stage" else None)
            wall = w1 - w0
            cpu = s1["cpu"] - s0["cpu"]
            count = max(listeners.total, 1)
            if mode == "stage":
                loss = figures.loss_schedule if figures.loss_schedule is not None else 1.0
            else:
                rate = figures.packets / (count * wall * PACKETS_PER_S)
                loss = max(figures.loss or 0.0, 1.0 - rate)
            summary = figures.summary()
            due = [t for t in host.leg.send_times if w0 <= t < w1]
            return Step(
                listeners=listeners.total,
                server_cores=round(cpu / wall, 3),
                client_cores=listeners.cores(),
                host_busy=_busy(h0, h1),
                server_cpu_ms_per_listener_second=round(1000 * cpu / wall / count, 3),
                loss=round(max(0.0, loss), 5),
                loss_detail={
                    "schedule": summary["loss_schedule"],
                    "sequence": summary["loss"],
                    "due": summary["due"],
                    "lost": summary["lost"],
                    "packets": summary["packets"],
                },
                flowing=figures.flowing,
                latency_ms=summary["delay_ms"],
                jitter_ms=summary["jitter_ms"],
                window_s=round(wall, 2),
                failed_joins=failed,
                extra={
                    "host_cores": round((c1 - c0) / wall, 3),
                    "host_sent_per_s": round(len(due) / wall, 1),
                    "server_threads": s1["threads"],
                    "server": s1["stats"],
                    "setup_s": setup[-1],
                    "host_reconnects": host.reconnects,
                    "listeners_replaced": replaced,
                    "listener_loop_errors": listeners.loop_errors,
                },
            )

        await ramp.run(measure)
    finally:
        if listeners is not None:
            await listeners.stop()
        await host.close()
        await server.stop()
    out = ramp.result(time.monotonic() - began)
    out["setup_s"] = setup
    out["host_send_lag_ms"] = _lag(host.sent)
    out["host_reconnects"] = host.reconnects
    return out


def _lag(times: list[float]) -> dict[str, float] | None:
    if not times:
        return None
    t0 = clock_origin(times)
    lag = sorted(t - (t0 + n / PACKETS_PER_S) for n, t in enumerate(times))
    return {
        "p50": round(1000 * lag[len(lag) // 2], 3),
        "p99": round(1000 * lag[min(len(lag) - 1, int(0.99 * len(lag)))], 3),
        "max": round(1000 * lag[-1], 3),
    }


# -- the ws ramp ------------------------------------------------------------------------


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _wait_healthy(port: int, server: subprocess.Popen[bytes], timeout: float = 180.0) -> None:
    import urllib.request

    def ok() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                return bool(r.status == 200)
        except OSError:
            return False

    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(ok):
        if server.poll() is not None:
            raise RuntimeError(f"the server exited ({server.returncode})")
        if time.monotonic() > deadline:
            raise RuntimeError("the server did not become healthy")
        await asyncio.sleep(0.2)


def _host_token(secret: str) -> str:
    from server.config import from_env
    from server.identity import Keyring

    cfg = from_env(env={"SERVICEPOINT_SECRET": secret})
    ring = Keyring(cfg.ensure_secret(), issuer=cfg.token_issuer, audience=cfg.token_audience)
    return ring.mint("host", "Bench Host", "bench.host", ttl_s=3600)


async def _ws_ramp(args: argparse.Namespace, log: Callable[[str], None]) -> dict[str, Any]:
    from agents.swarm import metrics_url, sample_server, server_figures

    began = time.monotonic()
    ramp = Ramp("ws", args.start_ws, args.cap_ws, args.budget_ws, log)
    host_out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as data:
        secret = secrets.token_urlsafe(32)
        env = {**os.environ, "SERVICEPOINT_SECRET": secret, "SERVICEPOINT_VOICE_HOSTS": "127.0.0.1"}
        port = _free_port()
        url = f"ws://127.0.0.1:{port}/ws"
        log_file = open(Path(data) / "server.log", "wb")  # noqa: SIM115 - closed below
        server = subprocess.Popen(
            [
                *(sys.executable, "-m", "server", "run", "--port", str(port)),
                *("--data-dir", data, "--no-greeter", "--log-level", "WARNING"),
            ],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        host: asyncio.subprocess.Process | None = None
        fleet: AudienceProcesses | None = None
        try:
            await _wait_healthy(port, server)
            clock_file = Path(data) / "clock.json"
            host = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "agents.host_bot",
                "--url",
                url,
                "--create",
                "--capacity",
                "20000",
                "--tone",
                str(TONE_HZ),
                "--clock-file",
                str(clock_file),
                env={**env, "SERVICEPOINT_HOST_TOKEN": _host_token(secret)},
                stdout=asyncio.subprocess.PIPE,
            )
            assert host.stdout is not None
            line = await asyncio.wait_for(host.stdout.readline(), 60)
            if not line:
                raise RuntimeError("the host bot did not go on air")
            event = int(json.loads(line)["event"])
            clock = await SendClock.load(clock_file)
            fleet = AudienceProcesses(url, event, clock, WORKERS)
            await fleet.start()
            metrics = metrics_url(url)
            joined = failed_before = 0

            async def measure(n: int) -> Step:
                nonlocal joined, failed_before
                assert fleet is not None
                t = time.monotonic()
                if n > joined:
                    await fleet.add(ws=n - joined)
                elif n < joined:
                    await fleet.remove(joined - n)
                joined = n
                setup = round(time.monotonic() - t, 1)
                await asyncio.sleep(args.warmup + 1.0)
                a = await asyncio.to_thread(sample_server, metrics, server.pid)
                h0 = _host_cpu()
                await fleet.mark()
                await asyncio.sleep(args.window)
                b = await asyncio.to_thread(sample_server, metrics, server.pid)
                h1 = _host_cpu()
                marks = await fleet.mark()
                await asyncio.sleep(LATE_S + 0.1)
                w0, w1 = fleet.marks[0][0]["t"], marks[0]["t"]
                t = time.monotonic()
                report, cores, closed = await fleet.report((w0, w1))
                report_s = round(time.monotonic() - t, 1)
                failed = report.failed.get("ws", 0) - failed_before
                failed_before += failed
                joined -= failed
                figures = report.ws
                summary = figures.summary()
                tick = server_figures(a, b, 20)
                wall = b.at - a.at
                cpu = float(tick.get("cpu_s", 0.0))
                count = max(figures.listeners, 1)
                return Step(
                    listeners=figures.listeners,
                    server_cores=round(cpu / wall, 3) if wall > 0 else 0.0,
                    client_cores=cores,
                    host_busy=_busy(h0, h1),
                    server_cpu_ms_per_listener_second=round(1000 * cpu / wall / count, 3),
                    loss=summary["loss_schedule"] if summary["loss_schedule"] is not None else 1.0,
                    loss_detail={
                        "schedule": summary["loss_schedule"],
                        "sequence": summary["loss"],
                        "due": summary["due"],
                        "lost": summary["lost"],
                        "packets": summary["packets"],
                    },
                    flowing=figures.flowing,
                    latency_ms=summary["delay_ms"],
                    jitter_ms=summary["jitter_ms"],
                    window_s=round(w1 - w0, 2),
                    failed_joins=failed,
                    delay_limit_ms=WS_DELAY_P99_LIMIT_MS,
                    extra={
                        "asked": n,
                        "frames_per_client_per_s": summary["frames_per_s"],
                        "closed": closed,
                        "errors": report.errors[:5],
                        "tick": {k: tick.get(k) for k in ("ticks_per_s", "tick_ms")},
                        "frames_skipped": tick.get("frames_skipped"),
                        "closes_4003": tick.get("closes_4003"),
                        "setup_s": setup,
                        "report_s": report_s,
                        "scrape_ms": tick.get("scrape_ms"),
                    },
                )

            await ramp.run(measure)
        finally:
            if fleet is not None:
                await fleet.stop()
            if host is not None:
                if host.returncode is None:
                    host.send_signal(signal.SIGTERM)
                with contextlib.suppress(Exception):
                    said, _ = await asyncio.wait_for(host.communicate(), 30)
                    lines = said.decode().strip().splitlines()
                    host_out = json.loads(lines[-1]) if lines else {}
                if host.returncode is None:
                    host.kill()  # our own child, by its handle
                    await host.wait()
            server.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(server.wait, 30)
            except subprocess.TimeoutExpired:
                server.kill()  # our own child, by its handle
                server.wait()
            log_file.close()
    out = ramp.result(time.monotonic() - began)
    valid = [s for s in ramp.steps if s.valid]
    best = max(valid, key=lambda s: s.listeners, default=None)
    out["ws_listeners_per_process"] = 0 if best is None else best.listeners
    out["host"] = host_out
    return out


# -- the whole run ------------------------------------------------------------------


def _raise_fd_limit() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _figures_at(ramp: dict[str, Any] | None) -> dict[str, Any] | None:
    best = None if ramp is None else ramp.get("best")
    if best is None:
        return None
    return {
        "listeners": best["listeners"],
        "loss": best["loss"],
        "latency_ms": best["latency_ms"],
        "jitter_ms": best["jitter_ms"],
        "server_cores": best["server_cores"],
    }


async def _bench(args: argparse.Namespace) -> dict[str, Any]:
    _raise_fd_limit()
    gc.set_threshold(50_000, 50, 50)

    def log(line: str) -> None:
        print(line, file=sys.stderr if args.json else sys.stdout, flush=True)

    began = time.monotonic()
    parts = set(args.parts.split(","))
    stage = await _webrtc_ramp("stage", args, log) if "webrtc" in parts else None
    default = await _webrtc_ramp("relay", args, log) if "default" in parts else None
    ws = await _ws_ramp(args, log) if "ws" in parts else None

    def ratio(key: str) -> float | None:
        if stage is None or default is None or not default[key]:
            return None
        return round(float(stage[key]) / float(default[key]), 2)

    per_core = None if stage is None else stage["listeners_per_core"]
    r = ratio("listeners_per_core")
    ws_n = None if ws is None else ws["ws_listeners_per_process"]
    at = {"webrtc": _figures_at(stage), "default": _figures_at(default), "ws": _figures_at(ws)}
    return {
        "bench": "events",
        "webrtc_listeners_per_core": per_core,
        "webrtc_listeners_per_core_by_cpu": None
        if stage is None
        else stage["listeners_per_core_by_cpu"],
        "default_listeners_per_core": None if default is None else default["listeners_per_core"],
        "default_listeners_per_core_by_cpu": None
        if default is None
        else default["listeners_per_core_by_cpu"],
        "ratio_vs_default": r,
        "ratio_vs_default_by_cpu": ratio("listeners_per_core_by_cpu"),
        "ws_listeners_per_process": ws_n,
        "ws_frames_per_client_per_s": None
        if ws is None or ws["best"] is None
        else ws["best"]["extra"]["frames_per_client_per_s"],
        "ws_server_cores": None if ws is None or ws["best"] is None else ws["best"]["server_cores"],
        "loss": {k: None if v is None else v["loss"] for k, v in at.items()},
        "latency_ms": {
            k: None
            if v is None or v["latency_ms"] is None
            else {"p50": v["latency_ms"]["p50"], "p99": v["latency_ms"]["p99"]}
            for k, v in at.items()
        },
        "limited_by": {
            k: None if v is None else v["limited_by"]
            for k, v in (("webrtc", stage), ("default", default), ("ws", ws))
        },
        "goals": {
            "webrtc_listeners_per_core>=600": per_core is not None and per_core >= 600,
            "ratio_vs_default>=10": r is not None and r >= 10,
            "ws_listeners_per_process>=5000": ws_n is not None and ws_n >= 5000,
        },
        "at_best": at,
        "webrtc": stage,
        "default": default,
        "ws": ws,
        "quick": args.quick,
        "machine": machine(),
        "seconds": round(time.monotonic() - began, 1),
    }


def _run(main: Callable[[], Awaitable[T]]) -> T:
    async def go() -> T:
        return await main()

    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux/macOS
        return asyncio.run(go())
    result: T = uvloop.run(go())
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench.events", description=__doc__.split("\n")[0])
    p.add_argument("--json", action="store_true", help="progress to stderr, JSON on stdout")
    p.add_argument("--quick", action="store_true", help="small N, short windows (< 60 s)")
    p.add_argument("--serve", choices=["stage", "relay"], help=argparse.SUPPRESS)
    p.add_argument("--parts", default="webrtc,default,ws", help="which ramps to run")
    p.add_argument("--start-webrtc", type=int, default=None)
    p.add_argument("--start-default", type=int, default=None)
    p.add_argument("--start-ws", type=int, default=None)
    p.add_argument("--cap-webrtc", type=int, default=None)
    p.add_argument("--cap-default", type=int, default=None)
    p.add_argument("--cap-ws", type=int, default=None)
    p.add_argument("--budget-webrtc", type=float, default=None, help="seconds, at most")
    p.add_argument("--budget-default", type=float, default=None)
    p.add_argument("--budget-ws", type=float, default=None)
    p.add_argument("--warmup", type=float, default=None)
    p.add_argument("--window", type=float, default=None)
    args = p.parse_args(argv)
    if args.serve:
        _raise_fd_limit()
        _run(lambda: _serve(args.serve))
        return 0
    quick = args.quick
    defaults = {
        "start_webrtc": 20 if quick else 200,
        "start_default": 2 if quick else 4,
        "start_ws": 20 if quick else 500,
        "cap_webrtc": 40 if quick else 2000,
        "cap_default": 4 if quick else 200,
        "cap_ws": 40 if quick else 5000,
        "budget_webrtc": 12.0 if quick else 120.0,
        "budget_default": 8.0 if quick else 50.0,
        "budget_ws": 12.0 if quick else 120.0,
        "warmup": 0.5 if quick else 1.0,
        "window": 1.5 if quick else 4.0,
    }
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    result = _run(lambda: _bench(args))
    if not args.json:
        for mode in ("webrtc", "default", "ws"):
            r = result[mode]
            if r is not None:
                print(
                    f"{mode}: listeners_per_core={r['listeners_per_core']} "
                    f"(by cpu {r['listeners_per_core_by_cpu']}), limited by {r['limited_by']}"
                )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
