"""A crowd arriving while the ticks run late is let in within a few ticks.

uvloop accepts one connection per turn of the event loop, and ticks that run back to
back left one turn between them: a process let in one connection per tick while it
was busy, and a crowd's opening handshakes timed out in the accept queue. Counted in
ticks, not seconds: the test slows every tick to make them late.
"""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import uvloop

from server.app import ServicePoint
from tests.server.harness import running_server

CROWD = 120


def slow_tick(_tick: int) -> None:
    time.sleep(0.06)  # longer than the 50 ms period: every tick is late


async def accepted_after_ticks(sp: ServicePoint, ticks: int) -> int:
    """Open CROWD TCP connections at once; how many the server accepted ``ticks`` later.
    The test adds no turns of its own to the loop: it connects without awaiting (the
    kernel completes a loopback connect into the accept queue) and then waits on the
    ticks alone."""
    socks = [socket.create_connection(("127.0.0.1", sp.port)) for _ in range(CROWD)]
    done = asyncio.Event()
    start = sp.tick.tick

    def count(tick: int) -> None:
        if tick >= start + ticks:
            done.set()

    sp.tick.after_tick.append(count)
    await done.wait()
    sp.tick.after_tick.remove(count)
    server = sp._server  # websockets' Server: one handler task per accepted connection
    assert server is not None
    accepted = len(server.handler_tasks)
    for s in socks:
        s.close()
    return accepted


def test_a_crowd_is_accepted_within_a_few_late_ticks(tmp_path: Path) -> None:
    """On uvloop, which `servicepoint run` runs on (the other tests run on asyncio's own
    loop, which accepts the whole queue each turn)."""

    async def crowd() -> int:
        async with running_server(tmp_path) as sp:
            sp.tick.after_tick.append(slow_tick)
            return await accepted_after_ticks(sp, 4)

    # One connection per late tick would be 4.
    assert uvloop.run(crowd()) >= 4 * 16
