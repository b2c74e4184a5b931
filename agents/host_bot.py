"""A host bot: attends a live event (or creates one) and speaks from the stage.

    SERVICEPOINT_HOST_TOKEN="$(python -m server token --role host --name 'Hedda Host')" \\
    python -m agents.host_bot --url ws://127.0.0.1:8000/ws --create --tone 440 --seconds 60

The token is read from the environment (``SERVICEPOINT_HOST_TOKEN``), never from
the command line, where every user of the machine could read it. The bot signs
in with it, joins the event given (``--event``), the first live one, or with
``--create`` a new one that starts now, and publishes its microphone with
``event_rtc_offer`` mode ``publish``: a tone (``--tone 440``) or a sound file
(``--wav path``: WAV or anything FFmpeg reads, any rate, resampled to 48 kHz
with av), encoded once up front to 20 ms Opus and replayed in a loop at real-time
pace (`agents.voice_peer.VoicePeer`), so it costs almost no CPU.

``--clock-file path`` writes its send clock once it is sending: when packet n is
due on CLOCK_MONOTONIC and the payloads it loops over, so listeners on the same
machine (``agents.audience --clock-file``) can tell the delay of every packet.
It prints one JSON line when it is on the air (``{"event": id, ...}``) and one
when it stops (at ``--seconds``, or on SIGINT/SIGTERM) with what it sent.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from agents.audience import SendClock, clock_origin
from agents.client import AgentClient
from agents.voice_peer import FRAME_SECONDS, VoicePeer

TOKEN_ENV = "SERVICEPOINT_HOST_TOKEN"


class HostBot:
    """One host on one event's stage. `start` joins and publishes; `stop` leaves."""

    def __init__(
        self,
        url: str,
        token: str,
        *,
        name: str = "Host Bot",
        event: int | None = None,
        create: bool = False,
        title: str = "Host bot's event",
        capacity: int = 10_000,
        minutes: int = 120,
        tone_hz: float | None = 440.0,
        wav: str | Path | None = None,
        bitrate: int = 32000,
    ) -> None:
        self.client = AgentClient(url, name=name, token=token)
        self.event = event
        self.create = create
        self.title = title
        self.capacity = capacity
        self.minutes = minutes
        self.peer = VoicePeer(name, tone_hz=tone_hz, wav=wav, bitrate=bitrate, receive_slots=0)
        self.joined: dict[str, Any] | None = None

    async def start(self, timeout: float = 30.0) -> int:
        """Sign in, join (or create) the event, publish; returns the event id."""
        client = self.client
        await client.connect()
        if self.create:
            self.event = await self._create(timeout)
        elif self.event is None:
            await client.send({"t": "event_schedule"})
            schedule = await client.expect("event_schedule", timeout)
            live = [e for e in schedule["events"] if e["status"] == "live"]
            if not live:
                raise LookupError("no live event to host (use --create)")
            self.event = int(live[0]["id"])
        await client.send({"t": "event_join", "event": self.event})
        self.joined = await client.expect("event_joined", timeout)
        await self.peer.connect(self._signal)
        await self.peer.wait_connected(timeout)
        return self.event

    async def _create(self, timeout: float) -> int:
        client = self.client
        await client.send({"t": "event_schedule"})
        tz = ZoneInfo((await client.expect("event_schedule", timeout))["tz"])
        now = datetime.now(tz).replace(second=0, microsecond=0, tzinfo=None)
        await client.send(
            {
                "t": "event_create",
                "title": {"en": self.title},
                "starts": now.isoformat("T", "minutes"),
                "ends": (now + timedelta(minutes=self.minutes)).isoformat("T", "minutes"),
                "capacity": self.capacity,
            }
        )
        info = await client.expect("event_info", timeout)
        return int(info["event"]["id"])

    async def _signal(self, offer: str) -> str:
        await self.client.send({"t": "event_rtc_offer", "mode": "publish", "sdp": offer})
        answer = await self.client.expect("event_rtc_answer", 30.0, mode="publish")
        return str(answer["sdp"])

    async def clock(self, packets: int = 25, timeout: float = 10.0) -> SendClock:
        """The send clock, once ``packets`` packets went out (the origin is taken from
        the earliest-sent of them)."""
        deadline = time.monotonic() + timeout
        while len(self.peer.send_times) < packets:
            if time.monotonic() > deadline:
                raise TimeoutError("the microphone is not sending")
            await asyncio.sleep(0.05)
        return SendClock(clock_origin(self.peer.send_times), self.peer.sent_payloads)

    def sent(self) -> dict[str, Any]:
        """What went out: packets, and how late the sends were against the schedule."""
        times = self.peer.send_times
        if not times:
            return {"packets": 0}
        t0 = clock_origin(times)
        lag = sorted(t - (t0 + n * FRAME_SECONDS) for n, t in enumerate(times))
        return {
            "packets": len(times),
            "send_lag_ms": {
                "p50": round(1000 * lag[len(lag) // 2], 3),
                "p99": round(1000 * lag[min(len(lag) - 1, int(0.99 * len(lag)))], 3),
                "max": round(1000 * lag[-1], 3),
            },
        }

    async def stop(self) -> None:
        with contextlib.suppress(Exception):
            await self.client.send({"t": "event_rtc_leave"})
        await self.peer.close()
        await self.client.close()


async def run(args: argparse.Namespace, token: str) -> dict[str, Any]:
    bot = HostBot(
        args.url,
        token,
        name=args.name,
        event=args.event,
        create=args.create,
        title=args.title,
        capacity=args.capacity,
        minutes=args.minutes,
        tone_hz=None if args.wav else args.tone,
        wav=args.wav,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        event = await bot.start()
        clock = await bot.clock()
        if args.clock_file:
            clock.save(args.clock_file)
        print(json.dumps({"event": event, "on_air": True, "payloads": len(clock.payloads)}))
        sys.stdout.flush()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), args.seconds if args.seconds > 0 else None)
        return {"event": event, **bot.sent()}
    finally:
        await bot.stop()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="agents.host_bot", description=__doc__.splitlines()[0])
    p.add_argument("--url", default="ws://127.0.0.1:8000/ws")
    p.add_argument("--name", default="Host Bot", help="display name (the token may fix it)")
    p.add_argument("--event", type=int, default=None, help="event id (default: the first live)")
    p.add_argument("--create", action="store_true", help="create an event starting now")
    p.add_argument("--title", default="Host bot's event", help="title of a created event")
    p.add_argument("--capacity", type=int, default=10_000, help="seats of a created event")
    p.add_argument("--minutes", type=int, default=120, help="length of a created event")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--tone", type=float, default=440.0, help="sine tone, Hz (default 440)")
    source.add_argument("--wav", default=None, help="sound file to play in a loop")
    p.add_argument("--seconds", type=float, default=0.0, help="stop after this long (0: never)")
    p.add_argument("--clock-file", default=None, help="write the send clock here")
    args = p.parse_args(argv)
    token = os.environ.get(TOKEN_ENV, "")
    if not token:
        p.error(f"set {TOKEN_ENV} to a host token (python -m server token --role host ...)")
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux/macOS
        result = asyncio.run(run(args, token))
    else:
        result = uvloop.run(run(args, token))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
