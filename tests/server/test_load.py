"""Overload slows the world down rather than dropping anyone: a real server whose
ticks run long (real blocking work after each tick) stretches its tick, tells every
client the hall is busy once a second with the achieved rate, keeps them all, and
tells them once more when it is on time again."""

from __future__ import annotations

import time
from pathlib import Path

from agents.client import AgentClient
from tests.server.harness import running_server, ws_url


def slow_tick(_tick: int) -> None:
    time.sleep(0.08)  # 80 ms of work in a 50 ms tick: about 60 % of ticks run


async def test_a_slow_tick_tells_clients_the_hall_is_busy_and_then_calm(tmp_path: Path) -> None:
    async with (
        running_server(tmp_path) as sp,
        AgentClient(ws_url(sp), name="Ada") as ada,
        AgentClient(ws_url(sp), name="Bo") as bo,
    ):
        await ada.wait_for(lambda: bo.id in ada.others)
        sp.tick.after_tick.append(slow_tick)
        busy = await ada.expect("load", busy=True)
        assert 0 < busy["rate"] < 0.8
        assert (await bo.expect("load", busy=True))["rate"] < 0.8
        await ada.expect("load", busy=True, timeout=5.0)  # again, a second later
        target = (bo.x + 1.0, bo.z)
        await bo.move(*target)  # the world goes on, slower
        await ada.wait_for(lambda: abs(ada.others[bo.id].x - target[0]) < 0.05)
        page = sp.metrics.render().decode()
        assert "servicepoint_busy_seconds_total 0.0" not in page
        sp.tick.after_tick.remove(slow_tick)
        calm = await ada.expect("load", busy=False)
        assert calm["rate"] >= 0.95
        assert sp.tick.busy is False and sp.metrics.connections == 2
        assert not ada.taken("error") and not bo.taken("error")
        # Calm: no more load messages.
        count = len(ada.taken("load"))
        await ada.sync()
        await bo.sync()
        assert len(ada.taken("load")) == count
