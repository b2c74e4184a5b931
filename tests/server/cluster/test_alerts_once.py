"""Dashboards and alerts across processes: both servers of a cluster read the same logs,
so both see a ticket taken on one of them and both come to the same alert; the
webhook receiver gets it once (the first process to claim it sends it)."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from server.store.redis_store import EmbeddedRedis
from tests.server.features.fakes import ManualClock
from tests.server.features.insight.test_insight_server import (
    T0,
    WEBHOOK_RULES,
    Receiver,
    connect,
    dashboard,
    features,
    settle,
    take,
    write_rules,
)
from tests.server.harness import running_server


async def test_two_processes_see_one_alert_and_the_webhook_gets_it_once(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    write_rules(rules, WEBHOOK_RULES)
    receiver = Receiver([])
    url = await receiver.start()
    clock = ManualClock(T0)
    redis = EmbeddedRedis(tmp_path / "redis")
    settings = {
        "features": features(rules, webhook_url=url),
        "clock": clock,
        "redis_url": f"unix://{redis.socket_path}",
        "cluster": True,
    }
    try:
        async with contextlib.AsyncExitStack() as stack:
            a = await stack.enter_async_context(running_server(tmp_path / "a", **settings))
            b = await stack.enter_async_context(running_server(tmp_path / "b", **settings))
            [ada] = await connect(a, "Ada")
            assert await take(ada) == "A-001"
            for sp in (a, b):
                await settle(sp)
                [alert] = (await dashboard(sp))["alerts"]
                assert alert["state"] == "firing"  # b saw a's ticket in the shared log
            clock.advance(10)  # group_wait
            for sp in (a, b):
                await settle(sp)
            await receiver.accepted.wait()
            for _ in range(3):  # more rounds on both: nothing is sent again
                for sp in (a, b):
                    await settle(sp)
            await asyncio.sleep(0.5)
            await ada.close()
    finally:
        await receiver.close()
        redis.shutdown()
    assert len(receiver.requests) == 1
