"""Voice benchmark: concurrent 2-party desk calls through one `VoiceRouter` process.

    python -m bench.voice --json

For each mode, forwarding (Opus relayed as is) then transcoding (aiortc's default
decode + re-encode per listener), it starts a fresh server process running only a
`VoiceRouter` (uvloop, as `server.cli` runs it), and drives it from this process
with real aiortc peers (`agents.voice_peer.VoicePeer`): every call is a citizen and
a staff member each sending 20 ms Opus frames (~32 kbit/s) to the other. Clients run
in this process, so their CPU is not charged to the server; they send and receive
through the same direct RTP path the forwarding server uses, so the load generator
is about as cheap as the server it drives.

It ramps the number of calls N; at each step it measures over a fixed window:

- server CPU: the server process's user+system time (all threads) / wall time, so
  1.0 = one core busy; also CPU per call (ms of CPU per second of call).
- loss: of the packets sent in the window, the fraction that did not arrive within
  0.5 s (both directions of every call).
- added one-way latency: arrival time at the receiving client minus send time at the
  sending client (same clock), by packet index. Senders start once the server
  reports both legs connected, so the server's n-th outbound packet carries the
  sender's n-th frame; in forwarding mode this is checked per packet (payload sizes
  must match the sender's sequence: `aligned`).
- send rate: packets the clients managed to send / packets due. Below 0.99 the
  load generator fell behind (this machine's 2 cores are shared) and the step is
  not counted (`client_cpu`).

A step is valid with loss <= 1%, packets flowing both ways on every call and a full
send rate. A failed step is measured once more (other processes share the machine),
then the ramp steps back to the midpoint between the last valid and the failed N,
up to three times. It stops when the server saturates a core, at the cap, or when
the time budget for the mode runs out. Per mode it reports `calls_per_core` = the
largest valid N, divided by the server cores it used if that exceeded one (a
measured figure, never extrapolated), and `calls_per_core_by_cpu` = 1 / server CPU
per call at that step (an extrapolation to a fully busy core). The last line is JSON
with `calls_per_core` (forwarding) and `ratio_vs_transcode` (both measured). It
never fails on a time.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import gc
import json
import os
import random
import resource
import statistics
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any

LOSS_LIMIT = 0.01
LATE_SECONDS = 0.5
"""A packet arriving later than this counts as lost: it is useless for a conversation."""
SATURATED_CORES = 0.9
FRAME_SAMPLES = 960


# -- the server process ------------------------------------------------------------


async def _serve(forward: bool) -> None:
    """Run a VoiceRouter driven by JSON lines on stdin; answers on stdout."""
    from server.voice import VoiceRouter

    router = VoiceRouter(forward=forward, host_addresses=["127.0.0.1"], connect_timeout=120)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    tasks: set[asyncio.Task[None]] = set()

    def reply(message: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()

    async def handle(request: dict[str, Any]) -> None:
        op = request["op"]
        answer: dict[str, Any] = {"id": request["id"]}
        try:
            if op == "open":
                await router.open_room(request["room"])
            elif op == "join":
                answer["sdp"] = await router.join(request["room"], request["who"], request["sdp"])
            elif op == "wait_connected":
                deadline = time.monotonic() + request["timeout"]
                pending = list(request["rooms"])
                while pending and time.monotonic() < deadline:
                    pending = [
                        r
                        for r in pending
                        if any(s != "connected" for s in router.connection_states(r).values())
                    ]
                    if pending:
                        await asyncio.sleep(0.02)
                answer["pending"] = pending
            elif op == "usage":
                answer.update(_usage())
                answer["pcs"] = router.open_peer_connections
                answer["stats"] = asdict(router.stats)
                answer["threads"] = threading.active_count()
            elif op == "close":
                await router.close()
            else:
                answer["error"] = f"unknown op {op!r}"
        except Exception as exc:  # report, keep serving
            answer["error"] = repr(exc)
        reply(answer)

    while line := await reader.readline():
        task = asyncio.ensure_future(handle(json.loads(line)))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    await router.close()


def _usage() -> dict[str, float]:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return {"cpu": ru.ru_utime + ru.ru_stime, "wall": time.monotonic()}


def _raise_fd_limit() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class ServerProcess:
    """The router in its own process, spoken to in JSON lines."""

    def __init__(self, forward: bool) -> None:
        self.forward = forward
        self._proc: asyncio.subprocess.Process | None = None
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._next = 0
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        mode = "forward" if self.forward else "transcode"
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.voice",
            "--serve",
            mode,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=1 << 20,
        )
        self._reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        while line := await self._proc.stdout.readline():
            message = json.loads(line)
            future = self._pending.pop(message["id"], None)
            if future is not None and not future.done():
                future.set_result(message)
        for future in self._pending.values():
            if not future.done():
                future.set_exception(RuntimeError("the server process exited"))

    async def call(self, op: str, **args: Any) -> dict[str, Any]:
        assert self._proc is not None and self._proc.stdin is not None
        self._next += 1
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[self._next] = future
        self._proc.stdin.write((json.dumps({"id": self._next, "op": op, **args}) + "\n").encode())
        await self._proc.stdin.drain()
        message = await future
        if "error" in message:
            raise RuntimeError(f"server {op}: {message['error']}")
        return message

    async def stop(self) -> None:
        if self._proc is None:
            return
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.call("close"), 30)
        assert self._proc.stdin is not None
        self._proc.stdin.close()
        try:
            await asyncio.wait_for(self._proc.wait(), 30)
        except TimeoutError:
            self._proc.kill()
            await self._proc.wait()
        if self._reader is not None:
            await self._reader


# -- the clients -------------------------------------------------------------------


@dataclass(eq=False)
class Leg:
    """One participant's client: its peer, what it sent and what it received.

    Sending: the peer's encoded tone is paced by the event loop's timers (one
    `call_at` per 20 ms frame, no task) and sent through the same direct RTP outlet
    the server forwards with, so the load generator costs less than the server it
    drives. Receiving: the fast inbound tap (no decoding); arrivals are kept by
    packet index (RTP timestamp / 960 from the first packet).
    """

    peer: Any  # agents.voice_peer.VoicePeer
    payloads: list[bytes] = field(default_factory=list)
    send_times: list[float] = field(default_factory=list)
    first_ts: int | None = None
    arrivals: dict[int, float] = field(default_factory=dict)
    sizes: dict[int, int] = field(default_factory=dict)
    stopped: bool = False
    _outlet: Any = None
    _origin: float = 0.0
    _loop: asyncio.AbstractEventLoop | None = None

    def on_packet(self, packet: Any) -> None:
        now = time.monotonic()
        if self.first_ts is None:
            self.first_ts = packet.timestamp
        k = ((packet.timestamp - self.first_ts) & 0xFFFFFFFF) // FRAME_SAMPLES
        self.arrivals[k] = now
        self.sizes[k] = len(packet.payload)

    def start(self, delay: float) -> None:
        from server.voice.aiortc_internals import outlet_for

        answer = self.peer.pc.remoteDescription
        self._outlet = outlet_for(self.peer.pc.getTransceivers()[0], answer.sdp)
        self._loop = asyncio.get_running_loop()
        self._origin = self._loop.time() + delay
        self._loop.call_at(self._origin, self._tick)

    def _tick(self) -> None:
        if self.stopped or self._loop is None:
            return
        k = len(self.send_times)
        self._outlet.send(k * FRAME_SAMPLES, self.payloads[k % len(self.payloads)])
        self.send_times.append(time.monotonic())
        self._loop.call_at(self._origin + (k + 1) * FRAME_SAMPLES / 48000, self._tick)


@dataclass(eq=False)
class Call:
    room: str
    citizen: Leg
    staff: Leg


async def _open_calls(server: ServerProcess, first: int, count: int) -> list[Call]:
    from agents.voice_peer import VoicePeer
    from server.voice.aiortc_internals import tap_inbound_rtp

    limit = asyncio.Semaphore(16)

    async def leg(room: str, who: str, tone_hz: float) -> Leg:
        peer = VoicePeer(
            who, tone_hz=tone_hz, receive_slots=1, autostart=False, record=False, keep_seconds=0
        )
        result = Leg(peer, payloads=peer.sent_payloads)
        for receiver in peer.pc.getReceivers():
            tap_inbound_rtp(receiver, result.on_packet)

        async def signal(offer: str) -> str:
            answer = await server.call("join", room=room, who=who, sdp=offer)
            return str(answer["sdp"])

        await peer.connect(signal)
        return result

    async def one(i: int) -> Call:
        async with limit:
            room = f"desk:{i}"
            await server.call("open", room=room)
            citizen, staff = await asyncio.gather(
                leg(room, "citizen", 440.0), leg(room, "staff", 660.0)
            )
            await asyncio.gather(citizen.peer.wait_connected(30), staff.peer.wait_connected(30))
            return Call(room, citizen, staff)

    calls = list(await asyncio.gather(*(one(i) for i in range(first, first + count))))
    waited = await server.call("wait_connected", rooms=[c.room for c in calls], timeout=30)
    if waited["pending"]:
        raise RuntimeError(f"server never connected rooms {waited['pending'][:5]}")
    # Senders start once both legs are up on both ends, each at a random phase of
    # the 20 ms frame clock, as independent browsers would (not all in one burst).
    for call in calls:
        for leg_ in (call.citizen, call.staff):
            leg_.start(random.uniform(0, 0.02))
    await asyncio.sleep(0.05)
    # This process is only a load generator: keep its garbage collector out of the way.
    gc.collect()
    gc.freeze()
    return calls


async def _close_calls(calls: list[Call]) -> None:
    for call in calls:
        call.citizen.stopped = call.staff.stopped = True
    await asyncio.gather(
        *(leg.peer.close() for c in calls for leg in (c.citizen, c.staff)),
        return_exceptions=True,
    )


@dataclass
class Step:
    calls: int
    server_cores: float
    client_cores: float
    server_cpu_ms_per_call_second: float
    loss: float
    packets_sent: int
    packets_lost: int
    flowing_both_ways: bool
    latency_ms: dict[str, float]
    aligned: float | None
    server_threads: int
    window_s: float
    send_rate: float
    """Packets the clients sent / packets due (100 per call per second)."""

    @property
    def valid(self) -> bool:
        return self.verdict == "ok"

    @property
    def verdict(self) -> str:
        if self.send_rate < 0.99:
            return "client_cpu"  # the load generator fell behind: the step says nothing
        if self.loss > LOSS_LIMIT or not self.flowing_both_ways:
            return "loss"
        return "ok"


def _analyse(
    calls: list[Call], t0: float, t1: float, forward: bool
) -> tuple[int, int, list[float], bool, float | None]:
    sent = lost = 0
    latencies: list[float] = []
    flowing = True
    matched = aligned = 0
    for call in calls:
        for src, dst in ((call.citizen, call.staff), (call.staff, call.citizen)):
            times = src.send_times
            k0, k1 = bisect.bisect_left(times, t0), bisect.bisect_left(times, t1)
            got = 0
            for k in range(k0, k1):
                arrival = dst.arrivals.get(k)
                if arrival is None or arrival - times[k] > LATE_SECONDS:
                    lost += 1
                    continue
                got += 1
                latencies.append(arrival - times[k])
                if forward:
                    matched += 1
                    aligned += dst.sizes[k] == len(src.payloads[k % len(src.payloads)])
            sent += k1 - k0
            flowing = flowing and got > 0
            for k in [k for k in dst.arrivals if k < k1]:  # forget what was analysed
                del dst.arrivals[k]
                dst.sizes.pop(k, None)
    return sent, lost, latencies, flowing, (aligned / matched if matched else None)


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)

    return {
        "p50": at(0.5),
        "p95": at(0.95),
        "p99": at(0.99),
        "max": round(1000 * ordered[-1], 2),
        "mean": round(1000 * statistics.fmean(ordered), 2),
    }


async def _measure(
    server: ServerProcess, calls: list[Call], forward: bool, warmup: float, window: float
) -> Step:
    await asyncio.sleep(warmup)
    s0, c0 = await server.call("usage"), _usage()
    await asyncio.sleep(window)
    s1, c1 = await server.call("usage"), _usage()
    await asyncio.sleep(LATE_SECONDS + 0.1)
    t0, t1 = c0["wall"], c1["wall"]
    sent, lost, latencies, flowing, aligned = _analyse(calls, t0, t1, forward)
    wall = s1["wall"] - s0["wall"]
    server_cpu = s1["cpu"] - s0["cpu"]
    return Step(
        calls=len(calls),
        server_cores=round(server_cpu / wall, 3),
        client_cores=round((c1["cpu"] - c0["cpu"]) / (t1 - t0), 3),
        server_cpu_ms_per_call_second=round(1000 * server_cpu / wall / len(calls), 3),
        loss=round(lost / sent, 5) if sent else 1.0,
        packets_sent=sent,
        packets_lost=lost,
        flowing_both_ways=flowing,
        latency_ms=_percentiles(latencies),
        aligned=None if aligned is None else round(aligned, 4),
        server_threads=int(s1["threads"]),
        window_s=round(t1 - t0, 2),
        send_rate=round(sent / (len(calls) * 100 * (t1 - t0)), 4),
    )


def _next_calls(step: Step, cap: int) -> int:
    """Double while far from a busy core, then approach it in steps of ~1/8."""
    n = step.calls
    projected = int(0.85 * n / max(step.server_cores, 0.02))
    return min(cap, max(n + max(1, n // 8), min(2 * n, projected)))


async def _ramp(
    forward: bool,
    start: int,
    cap: int,
    budget: float,
    warmup: float,
    window: float,
    log: Callable[[str], None],
) -> dict[str, Any]:
    mode = "forward" if forward else "transcode"
    began = time.monotonic()
    server = ServerProcess(forward)
    await server.start()
    calls: list[Call] = []
    steps: list[Step] = []
    limited_by = "cap"
    setup_seconds: list[float] = []
    try:
        n = start
        good: Step | None = None
        refinements = 0
        while True:
            if n > len(calls):
                t = time.monotonic()
                calls += await _open_calls(server, len(calls), n - len(calls))
                setup_seconds.append(time.monotonic() - t)
            elif n < len(calls):  # stepping back between a good and a failed step
                await _close_calls(calls[n:])
                del calls[n:]
                await asyncio.sleep(0.5)
            step = await _measure(server, calls, forward, warmup, window)
            if not step.valid:
                # Other processes share this machine: measure a failed step once more
                # before believing it.
                log(f"{mode:9} calls={step.calls:4} {step.verdict}: measuring again")
                step = await _measure(server, calls, forward, warmup, window)
            steps.append(step)
            log(
                f"{mode:9} calls={step.calls:4} server_cores={step.server_cores:5.2f} "
                f"client_cores={step.client_cores:5.2f} loss={step.loss:.4f} "
                f"sent={step.send_rate:.3f} latency_p50={step.latency_ms.get('p50')}ms "
                f"p99={step.latency_ms.get('p99')}ms aligned={step.aligned} -> {step.verdict}"
            )
            elapsed = time.monotonic() - began
            out_of_time = elapsed + (elapsed / len(steps)) * 1.5 > budget
            if not step.valid:
                limited_by = step.verdict
                low = good.calls if good is not None else 0
                if refinements < 3 and step.calls - low > max(2, low // 10) and not out_of_time:
                    refinements += 1
                    n = (low + step.calls) // 2 if low else max(1, step.calls // 2)
                    continue
                break
            good = step
            if step.server_cores >= SATURATED_CORES:
                limited_by = "server_cpu"
                break
            if step.client_cores >= SATURATED_CORES:
                limited_by = "client_cpu"
                break
            if n >= cap:
                limited_by = "cap"
                break
            if out_of_time:
                limited_by = "time_budget"
                break
            failed = [x.calls for x in steps if not x.valid]
            n = _next_calls(step, min([cap, *(f - 1 for f in failed)]))
            if n <= step.calls:
                break  # the next step up already failed: this is as far as it goes
    finally:
        await _close_calls(calls)
        await server.stop()
    valid = [s for s in steps if s.valid]
    best = max(valid, key=lambda s: s.calls / max(1.0, s.server_cores), default=None)
    return {
        "mode": mode,
        "calls_per_core": 0.0
        if best is None
        else round(best.calls / max(1.0, best.server_cores), 1),
        "calls_per_core_by_cpu": (
            0.0 if best is None else round(1000 / best.server_cpu_ms_per_call_second, 1)
        ),
        "best_step_calls": None if best is None else best.calls,
        "limited_by": limited_by,
        "seconds": round(time.monotonic() - began, 1),
        "setup_seconds": [round(s, 1) for s in setup_seconds],
        "steps": [{**asdict(s), "verdict": s.verdict} for s in steps],
    }


async def _bench(args: argparse.Namespace) -> dict[str, Any]:
    _raise_fd_limit()
    gc.set_threshold(50_000, 50, 50)

    def log(line: str) -> None:
        print(line, file=sys.stderr if args.json else sys.stdout, flush=True)

    began = time.monotonic()
    forward = await _ramp(
        True, args.start_forward, args.cap, args.budget, args.warmup, args.window, log
    )
    transcode = await _ramp(
        False, args.start_transcode, args.cap, args.budget, args.warmup, args.window, log
    )
    ratio = (
        forward["calls_per_core"] / transcode["calls_per_core"]
        if transcode["calls_per_core"]
        else None
    )
    ratio_cpu = (
        forward["calls_per_core_by_cpu"] / transcode["calls_per_core_by_cpu"]
        if transcode["calls_per_core_by_cpu"]
        else None
    )
    return {
        "bench": "voice",
        "calls_per_core": forward["calls_per_core"],
        "ratio_vs_transcode": None if ratio is None else round(ratio, 2),
        "ratio_vs_transcode_by_cpu": None if ratio_cpu is None else round(ratio_cpu, 2),
        "goals": {
            "calls_per_core>=100": forward["calls_per_core"] >= 100,
            "ratio_vs_transcode>=5": ratio is not None and ratio >= 5,
        },
        "forward": forward,
        "transcode": transcode,
        "cpus": os.cpu_count(),
        "seconds": round(time.monotonic() - began, 1),
    }


def _run(coro: Awaitable[Any]) -> Any:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux/macOS
        return asyncio.run(coro)  # type: ignore[arg-type]
    return uvloop.run(coro)  # type: ignore[arg-type]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench.voice", description=__doc__.split("\n")[0])
    p.add_argument("--json", action="store_true", help="progress to stderr, JSON on stdout")
    p.add_argument("--serve", choices=["forward", "transcode"], help=argparse.SUPPRESS)
    p.add_argument("--start-forward", type=int, default=50)
    p.add_argument("--start-transcode", type=int, default=4)
    p.add_argument("--cap", type=int, default=400, help="never more calls than this")
    p.add_argument("--budget", type=float, default=240.0, help="seconds per mode, at most")
    p.add_argument("--warmup", type=float, default=1.0)
    p.add_argument("--window", type=float, default=4.0)
    args = p.parse_args(argv)
    if args.serve:
        _raise_fd_limit()
        _run(_serve(args.serve == "forward"))
        return 0
    result = _run(_bench(args))
    if not args.json:
        for mode in ("forward", "transcode"):
            r = result[mode]
            print(
                f"{mode}: calls_per_core={r['calls_per_core']} "
                f"(by cpu {r['calls_per_core_by_cpu']}), limited by {r['limited_by']}"
            )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
