"""The simulated citizen of a training scenario: an agent process on the protocol.

The server's training feature starts it for one run::

    SERVICEPOINT_TRAINING_SESSION=SECRET python -m agents.training.citizen \\
        --url ws://127.0.0.1:8000/ws --scenario angry-citizen --lang sv \\
        --audio-dir DATA/training/audio

The one-time secret comes in the environment, not on the command line: a
command line is readable by every local user (``ps``), and a secret that starts
with ``-`` would be taken for an option.

It joins as a citizen, claims the run with ``training_join {session}``, connects
voice when the server sends the practice desk's ``call`` (``rtc_offer`` as in a
desk call), and for each ``training_say`` plays that line's clip (a WAV under
``--audio-dir``) once through its microphone. After the last line (``end``) it
says bye and exits; it also exits when its connection or the call ends.

Only the protocol, aiortc and numpy: agents never import the server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError

from agents.client import AgentClient
from agents.voice_peer import (
    FRAME_SAMPLES,
    FRAME_SECONDS,
    TIME_BASE,
    Microphone,
    VoicePeer,
    encode_opus,
    read_wav,
)

log = logging.getLogger("agents.training.citizen")

SILENCE = encode_opus(np.zeros(FRAME_SAMPLES))

SESSION_ENV = "SERVICEPOINT_TRAINING_SESSION"


class Speaker(Microphone):
    """A microphone that plays each clip once (`say`), then sends nothing until the next."""

    def __init__(self) -> None:
        super().__init__(SILENCE)
        self._clip_start = 0

    def say(self, payloads: Sequence[bytes]) -> float:
        """Start playing ``payloads`` now (cutting off any clip still playing); its seconds."""
        self.payloads = list(payloads) or SILENCE
        self._clip_start = len(self.send_times)
        self.start()
        return len(self.payloads) * FRAME_SECONDS

    async def recv(self) -> av.Packet[Any]:
        while True:
            if self.readyState != "live":
                raise MediaStreamError
            if not self.sending:
                await self._started.wait()
                continue
            index = len(self.send_times)
            if index - self._clip_start >= len(self.payloads):
                self.stop_sending()
                continue
            delay = self._origin + index * FRAME_SECONDS - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
                continue  # a new clip may have started meanwhile
            packet = av.Packet(self.payloads[index - self._clip_start])
            packet.pts = index * FRAME_SAMPLES
            packet.time_base = TIME_BASE
            self.send_times.append(time.monotonic())
            return packet


class SimulatedCitizen:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.audio_dir = Path(args.audio_dir).resolve()
        self.client = AgentClient(args.url, name=args.name)
        self.speaker = Speaker()
        self.peer: VoicePeer | None = None
        self.voice_up = asyncio.Event()
        self.voice_task: asyncio.Task[None] | None = None
        self.say_task: asyncio.Task[None] | None = None
        self.done = asyncio.Event()

    async def run(self) -> None:
        await self.client.connect()
        await self.client.send({"t": "training_join", "session": self.args.session})
        try:
            while not self.done.is_set():
                msg = await self._next()
                if msg is None:
                    break
                self._handle(msg)
        finally:
            for task in (self.voice_task, self.say_task):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task
            if self.peer is not None:
                await self.peer.close()
            with contextlib.suppress(Exception):
                await self.client.send({"t": "bye", "reason": "the scenario is over"})
            await self.client.close()

    async def _next(self) -> dict[str, Any] | None:
        wanted = ("call", "training_say", "error", "bye")
        found: list[dict[str, Any]] = []

        def check() -> bool:
            if self.done.is_set():
                return True
            for i, m in enumerate(self.client.messages):
                if m["t"] in wanted:
                    found.append(dict(self.client.messages.pop(i)))
                    return True
            # Keep only what signalling still waits for.
            self.client.messages[:] = [m for m in self.client.messages if m["t"] == "rtc_answer"]
            return False

        waiting = asyncio.ensure_future(self.client.wait_for(check, timeout=24 * 3600))
        stop = asyncio.ensure_future(self.done.wait())
        try:
            await asyncio.wait({waiting, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for f in (waiting, stop):
                f.cancel()
        if waiting.done() and not waiting.cancelled() and waiting.exception() is not None:
            return None  # the connection closed
        return found[0] if found else None

    def _handle(self, msg: dict[str, Any]) -> None:
        t = msg["t"]
        if t == "call":
            if msg["active"] and self.voice_task is None:
                self.voice_task = asyncio.create_task(self._connect_voice())
            elif not msg["active"]:
                self.done.set()
        elif t == "training_say":
            if self.say_task is not None:
                self.say_task.cancel()
            self.say_task = asyncio.create_task(self._say(msg))
        elif t == "error":
            log.warning("server refused %s: %s", msg.get("ref"), msg.get("code"))
            if msg.get("ref") == "training_join":
                self.done.set()
        elif t == "bye":
            self.done.set()

    async def _connect_voice(self) -> None:
        peer = VoicePeer(
            "simulated citizen",
            tone_hz=440.0,
            autostart=False,
            record=False,
            receive_slots=1,
            host_addresses=(self.args.host_address,),
        )
        old = peer.microphone
        peer.pc.getTransceivers()[0].sender.replaceTrack(self.speaker)
        if old is not None:
            old.stop()
        peer.microphone = self.speaker
        self.peer = peer

        async def signal(offer: str) -> str:
            await self.client.send({"t": "rtc_offer", "sdp": offer})
            answer = await self.client.expect("rtc_answer", timeout=15)
            return str(answer["sdp"])

        try:
            await peer.connect(signal)
            await peer.wait_connected(15)
            self.voice_up.set()
        except (TimeoutError, ConnectionError) as exc:
            log.warning("no voice: %s", exc)

    async def _say(self, msg: dict[str, Any]) -> None:
        seconds = 0.0
        clip = msg.get("clip")
        path = (self.audio_dir / clip).resolve() if clip else None
        if path is not None and path.is_relative_to(self.audio_dir) and path.is_file():
            payloads = await asyncio.to_thread(lambda: encode_opus(read_wav(path)))
            if self.voice_task is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.voice_up.wait(), 15)
            if self.voice_up.is_set():
                seconds = self.speaker.say(payloads)
        if msg.get("end"):
            await asyncio.sleep(seconds + 0.5)
            self.done.set()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument(
        "--session",
        default=os.environ.get(SESSION_ENV),
        help=f"the one-time secret of the run (default: ${SESSION_ENV})",
    )
    parser.add_argument("--scenario", required=True)
    parser.add_argument("--lang", required=True)
    parser.add_argument("--audio-dir", required=True)
    parser.add_argument("--name", default="Simulated citizen")
    parser.add_argument("--host-address", default="127.0.0.1", help="ICE host address")
    args = parser.parse_args(argv)
    if not args.session:
        parser.error(f"no session secret: set {SESSION_ENV} or pass --session=SECRET")
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(SimulatedCitizen(args).run())


if __name__ == "__main__":
    main()
