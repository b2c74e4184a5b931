"""A process of a cluster that restarts does not undo what another process's desks are
doing: staff on duty over there are not logged off, their case is not requeued, and a
citizen waiting over there keeps their ticket (before, the restarted process replayed
the shared log as if nobody were connected anywhere)."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from agents.client import AgentClient
from agents.staff_bot import StaffBot
from server.store.redis_store import EmbeddedRedis
from tests.server.cluster.conftest import until
from tests.server.harness import desk_events, running_server, staff_agent, ws_url


async def test_a_restarted_process_leaves_the_other_process_s_desk_alone(tmp_path: Path) -> None:
    redis = EmbeddedRedis(tmp_path / "redis")
    settings = {
        "redis_url": f"unix://{redis.socket_path}",
        "cluster": True,
        "cluster_lease_s": 0.5,
        "resume_s": 1,
    }
    try:
        async with contextlib.AsyncExitStack() as stack:
            a = await stack.enter_async_context(running_server(tmp_path / "a", **settings))
            sara = await stack.enter_async_context(staff_agent(a, "Sara Lind", subject="sara"))
            await StaffBot(sara, "desk-2").go_on_duty()
            ada = await stack.enter_async_context(AgentClient(ws_url(a), name="Ada"))
            bo = await stack.enter_async_context(AgentClient(ws_url(a), name="Bo"))
            await ada.send({"t": "take_ticket", "service": "general", "lang": "sv"})
            await ada.expect("ticket")
            await bo.send({"t": "take_ticket", "service": "general", "lang": "sv"})
            bo_ticket = (await bo.expect("ticket"))["ticket"]
            await sara.send({"t": "call_next"})
            await sara.expect("case")  # Sara has Ada's ticket called; Bo waits

            # b starts now (as after a restart): the log says Sara is on duty with a
            # called case and Bo waits, and nobody is connected to b.
            async with running_server(tmp_path / "b", **settings) as b:
                watcher = await stack.enter_async_context(AgentClient(ws_url(b), name="W"))
                await watcher.wait_for(lambda: ada.id in watcher.others and bo.id in watcher.others)
                # Past the settle time (two leases and a directory beat) and the resume
                # window (1 s): whatever b would clean up, it has decided by now.
                await asyncio.sleep(4.0)
                duty = [f for _id, f in await b.store.keyspace("desks").read("duty")]
                assert [d["type"] for d in duty if d["staff"] == "id:sara"] == ["available"]
                # b knows Sara is connected to a though she is out of its view (on a
                # loaded machine a's lease may have just run out at b: a snapshot asked
                # for then brings her back within a round trip).
                await until(lambda: b.people.find_subject("id:sara") is not None)
                person = b.people.find_subject("id:sara")
                assert person is not None and person.name == "Sara Lind"
                events = await desk_events(b)
                assert not [e for e in events if e["type"] in ("left", "transferred", "requeued")]
                assert not [
                    e for e in events if e.get("ticket") == bo_ticket and e["type"] != "arrived"
                ]
    finally:
        redis.shutdown()
