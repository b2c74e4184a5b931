"""Faults of the shared space: a Redis restart is survived by both servers without
restarting them (they reconnect, resubscribe and resync), and what was acknowledged
before it is still there."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path

from agents.client import AgentClient
from tests.server.cluster.conftest import redis_on, wait_socket
from tests.server.harness import running_server, ws_url


async def test_both_servers_survive_a_redis_restart_and_keep_the_queue(tmp_path: Path) -> None:
    # It hung once in CI until pytest-timeout's 120 s, whose dump shows no await: a
    # timeout of our own fails with the traceback of whatever it was waiting on.
    async with asyncio.timeout(90):
        await _survive_a_redis_restart(tmp_path)


async def _survive_a_redis_restart(tmp_path: Path) -> None:
    socket, data = tmp_path / "redis.sock", tmp_path / "redis"
    url = f"unix://{socket}"
    redis = redis_on(socket, data)
    redis.__enter__()
    try:
        await wait_socket(socket)
        async with (
            running_server(tmp_path / "a", redis_url=url, cluster=True) as a,
            running_server(tmp_path / "b", redis_url=url, cluster=True) as b,
            AgentClient(ws_url(a), name="Ada") as ada,
            AgentClient(ws_url(b), name="Bo") as bo,
        ):
            await ada.wait_for(lambda: bo.id in ada.others, timeout=30.0)
            await ada.send({"t": "take_ticket", "service": "general", "lang": "sv"})
            ticket = await ada.expect("ticket")

            redis.__exit__(None, None, None)  # Redis goes away (SIGTERM, as a restart does)
            socket.unlink(missing_ok=True)
            redis = redis_on(socket, data)
            redis.__enter__()
            await wait_socket(socket)

            # Both servers resubscribe: a move on b is seen on a again, without a restart.
            target = (bo.x - 1.0, bo.z + 1.0)
            await bo.move(*target)
            await ada.wait_for(
                lambda: (
                    bo.id in ada.others
                    and math.dist((ada.others[bo.id].x, ada.others[bo.id].z), target) < 0.05
                ),
                timeout=20,
            )
            assert a.replication is not None and a.replication.connected
            # The ticket acknowledged before the restart is still in the log.
            events = await a.store.keyspace("desks").read("queue")
            arrived = [f for _, f in events if f["type"] == "arrived"]
            assert [f["ticket"] for f in arrived] == [ticket["ticket"]]
            desks = a.feature("desks")
            assert ticket["ticket"] in {t.id for t in desks.service.queue.waiting()}  # type: ignore[attr-defined]
    finally:
        redis.__exit__(None, None, None)
