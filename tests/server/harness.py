"""One way to start a real server for a test: `running_server`.

A real `ServicePoint` on a free port, with a real embedded Redis under a
temporary directory (or the given one, to test restarts).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from agents.client import AgentClient
from server import auth
from server.app import ServicePoint
from server.config import Config

SECRET = "test-secret-not-for-production"


@contextlib.asynccontextmanager
async def running_server(data_dir: Path, **settings: Any) -> AsyncIterator[ServicePoint]:
    settings.setdefault("voice_hosts", "127.0.0.1")  # ICE over loopback only
    config = Config(host="127.0.0.1", port=0, data_dir=data_dir, secret=SECRET, **settings)
    async with ServicePoint(config) as sp:
        yield sp


def staff_agent(sp: ServicePoint, name: str = "Sara Lind", role: str = "staff") -> AgentClient:
    """A client signed in with a role token (not yet connected)."""
    return AgentClient(ws_url(sp), name="x", token=auth.mint(SECRET, role, name))


def ws_url(sp: ServicePoint) -> str:
    return f"ws://127.0.0.1:{sp.port}/ws"


def http_url(sp: ServicePoint, path: str) -> str:
    return f"http://127.0.0.1:{sp.port}{path}"


async def open_desk_call(
    staff: AgentClient,
    citizen: AgentClient,
    desk: str = "desk-2",
    service: str = "general",
    lang: str = "sv",
) -> dict[str, Any]:
    """Staff goes on duty, the citizen takes a ticket, is called and responds.

    Returns the citizen's ``call`` message (the desk call is open for both).
    """
    await staff.send({"t": "duty", "status": "available", "desk": desk})
    await staff.expect("duty")
    await citizen.send({"t": "take_ticket", "service": service, "lang": lang})
    await citizen.expect("ticket")
    await staff.send({"t": "call_next"})
    await citizen.expect("called")
    await citizen.send({"t": "respond"})
    call = await citizen.expect("call", active=True)
    await staff.expect("call", active=True)
    return call
