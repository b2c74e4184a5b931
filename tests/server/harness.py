"""One way to start a real server for a test: `running_server`.

A real `ServicePoint` on a free port, with a real embedded Redis under a
temporary directory (or the given one, to test restarts).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgpack

from agents.client import AgentClient
from server.app import ServicePoint
from server.config import Config
from server.identity import Keyring
from server.plug import Clock

SECRET = "test-secret-not-for-production-0123456789"
KEYRING = Keyring(SECRET)


def mint(role: str, name: str, subject: str | None = None, **kw: Any) -> str:
    """A role token signed with the test secret (as ``servicepoint token`` would)."""
    return KEYRING.mint(role, name, subject, **kw)


@contextlib.asynccontextmanager
async def running_server(
    data_dir: Path,
    features: dict[str, dict[str, Any]] | None = None,
    clock: Clock | None = None,
    **settings: Any,
) -> AsyncIterator[ServicePoint]:
    """A started server; ``features`` overrides feature settings, e.g. {"desks": {...}}.

    ``clock`` drives the features' wall and monotonic time (a scripted day).
    """
    sections = {k: dict(v) for k, v in (features or {}).items()}
    sections.setdefault("voice", {}).setdefault("hosts", "127.0.0.1")  # ICE over loopback
    config = Config(
        host="127.0.0.1", port=0, data_dir=data_dir, secret=SECRET, features=sections, **settings
    )
    async with ServicePoint(config, clock=clock) as sp:
        yield sp


def staff_agent(
    sp: ServicePoint, name: str = "Sara Lind", role: str = "staff", subject: str | None = None
) -> AgentClient:
    """A client signed in with a role token (not yet connected)."""
    return AgentClient(ws_url(sp), name="x", token=mint(role, name, subject))


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


async def desk_events(sp: ServicePoint) -> list[dict[str, str]]:
    """The desk feature's event log, oldest first (its fields only)."""
    return [fields for _id, fields in await sp.store.keyspace("desks").read("queue")]


async def desk_notes(sp: ServicePoint, ticket: str) -> list[dict[str, Any]]:
    """The staff-only notes stored for a ticket."""
    raw = await sp.store.keyspace("desks").slice("notes:" + ticket)
    return [msgpack.unpackb(r, raw=False) for r in raw]


async def zone_chat(sp: ServicePoint, zone: str, n: int) -> list[dict[str, Any]]:
    """The last ``n`` stored chat lines of a zone."""
    raw = await sp.store.keyspace("chat").slice("zone:" + zone, -n, -1)
    return [msgpack.unpackb(r, raw=False) for r in raw]
