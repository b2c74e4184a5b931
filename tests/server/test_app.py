"""The lifespan: graceful shutdown cancels what is left before closing the store."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from agents.client import AgentClient
from server.app import ServicePoint
from server.config import Config
from server.plug import Person
from tests.server.harness import SECRET, desk_events, running_server, ws_url


def config(tmp_path: Path, **kw: Any) -> Config:
    return Config(
        host="127.0.0.1",
        port=0,
        data_dir=tmp_path,
        secret=SECRET,
        features={"voice": {"hosts": "127.0.0.1"}},
        **kw,
    )


async def test_shutdown_cancels_stuck_handlers_before_closing_the_store(tmp_path: Path) -> None:
    sp = ServicePoint(config(tmp_path, shutdown_timeout_s=0.3))
    await sp.start()
    stuck = asyncio.Event()

    async def hang(person: Person, for_good: bool) -> None:
        stuck.set()
        await asyncio.Event().wait()  # a handler that never finishes its clean-up

    assert sp.edge is not None
    sp.edge.dispatch.left = hang  # type: ignore[method-assign]
    order: list[str] = []
    close_store = sp.store.close

    async def recording_close() -> None:
        order.append("handlers running" if any(not t.done() for t in sp._handlers) else "idle")
        await close_store()

    sp.store.close = recording_close  # type: ignore[method-assign]
    ada = AgentClient(ws_url(sp), name="Ada")
    await ada.connect()
    await sp.stop()
    assert stuck.is_set()
    assert order == ["idle"]  # every handler was cancelled and awaited first
    assert all(t.done() for t in sp._handlers)
    await ada.close()


async def test_a_second_signal_stops_waiting(tmp_path: Path) -> None:
    sp = ServicePoint(config(tmp_path, shutdown_timeout_s=120))
    await sp.start()

    async def hang(person: Person, for_good: bool) -> None:
        await asyncio.Event().wait()

    assert sp.edge is not None
    sp.edge.dispatch.left = hang  # type: ignore[method-assign]
    ada = AgentClient(ws_url(sp), name="Ada")
    await ada.connect()
    stopping = asyncio.create_task(sp.stop())
    await asyncio.sleep(0.2)
    assert not stopping.done()  # waiting for the stuck handler, as it should
    sp.force_exit.set()  # what the second SIGINT/SIGTERM does
    await stopping  # the per-test timeout catches a stop that keeps waiting
    await ada.close()


async def test_a_citizen_who_never_comes_back_leaves_the_queue_after_a_restart(
    tmp_path: Path,
) -> None:
    """Defect: a ticket whose citizen dropped stayed 'waiting' forever (a ghost)."""
    async with running_server(tmp_path, resume_s=1) as sp:
        ada = AgentClient(ws_url(sp), name="Ada")
        await ada.connect()
        await ada.send({"t": "take_ticket", "service": "general", "lang": "sv"})
        await ada.expect("ticket")
        await ada.abort()  # dropped without bye: may resume within resume_s
    # The server restarts while Ada is away; nobody resumes.
    async with running_server(tmp_path, resume_s=1) as sp:
        desks: Any = sp.feature("desks")

        def waiting() -> list[Any]:
            return [t for t in desks.service.queue.tickets.values() if t.status == "waiting"]

        # The log is written before the queue applies it: wait for both.
        for _ in range(100):
            events = [e["type"] for e in await desk_events(sp)]
            if events[-1] == "left" and not waiting():
                break
            await asyncio.sleep(0.05)
        assert events == ["arrived", "left"]
        assert not waiting()
