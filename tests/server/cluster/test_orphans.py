"""A process that starts into a running cluster gives an expiry only to the resume
records of avatars nobody holds any more (a process that crashed), never to the live
records of people connected to another process: those have no expiry because they are
live, and must still be there for their next resume."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import msgpack

from agents.client import AgentClient
from server.store.redis_store import EmbeddedRedis
from tests.server.harness import running_server, ws_url


async def test_a_starting_process_expires_only_the_records_nobody_holds(tmp_path: Path) -> None:
    redis = EmbeddedRedis(tmp_path / "redis")
    settings = {
        "redis_url": f"unix://{redis.socket_path}",
        "cluster": True,
        "cluster_lease_s": 0.5,
    }
    try:
        async with contextlib.AsyncExitStack() as stack:
            a = await stack.enter_async_context(running_server(tmp_path / "a", **settings))
            ada = await stack.enter_async_context(AgentClient(ws_url(a), name="Ada"))
            sessions = a.store.keyspace("session")
            live = "resume:" + ada.resume
            assert await sessions.ttl(live) is None  # live: no expiry while connected
            crashed = "resume:left-by-a-crashed-process"
            record = {"id": 4_000_000, "name": "Gone", "role": "citizen", "x": 0.0, "z": 0.0}
            await sessions.set(crashed, msgpack.packb(record), None)

            b = await stack.enter_async_context(running_server(tmp_path / "b", **settings))
            watcher = await stack.enter_async_context(AgentClient(ws_url(b), name="W"))
            await watcher.wait_for(lambda: ada.id in watcher.others, timeout=30.0)
            # After b's settle time (two leases and a directory beat):
            async with asyncio.timeout(15):
                while await sessions.ttl(crashed) is None:
                    await asyncio.sleep(0.05)
            assert await sessions.ttl(live) is None  # Ada's, live on a, is left alone
    finally:
        redis.shutdown()
