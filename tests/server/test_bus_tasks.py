"""`LocalBus` and `Tasks`: delivery order, failure isolation, timers, shutdown."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

import pytest

from server.bus import LocalBus
from server.tasks import Tasks


async def settle(rounds: int = 10) -> None:
    for _ in range(rounds):
        await asyncio.sleep(0)


async def test_bus_delivers_to_every_subscriber_in_order() -> None:
    tasks = Tasks()
    bus = LocalBus(tasks)
    got: list[tuple[str, Any]] = []

    def first(event: Mapping[str, Any]) -> None:
        got.append(("first", event["n"]))

    async def second(event: Mapping[str, Any]) -> None:
        got.append(("second", event["n"]))

    def third(event: Mapping[str, Any]) -> None:
        got.append(("third", event["n"]))

    bus.subscribe("t", first)
    bus.subscribe("t", second)
    bus.subscribe("t", third)
    bus.subscribe("other", lambda event: got.append(("other", event["n"])))
    bus.publish("t", {"n": 1})
    assert got == [("first", 1), ("third", 1)]  # async handlers run as tasks: not awaited
    bus.publish("t", {"n": 2})
    await settle()
    assert got == [
        ("first", 1),
        ("third", 1),
        ("first", 2),
        ("third", 2),
        ("second", 1),
        ("second", 2),
    ]
    assert bus.published == 2
    bus.publish("nobody", {"n": 3})
    assert bus.published == 3
    await tasks.close()


async def test_bus_event_is_a_copy() -> None:
    tasks = Tasks()
    bus = LocalBus(tasks)
    seen: list[Mapping[str, Any]] = []
    bus.subscribe("t", seen.append)
    event = {"n": 1}
    bus.publish("t", event)
    event["n"] = 2
    assert seen == [{"n": 1}]
    await tasks.close()


async def test_a_failing_subscriber_stops_neither_the_others_nor_the_publisher(
    caplog: pytest.LogCaptureFixture,
) -> None:
    tasks = Tasks()
    bus = LocalBus(tasks)
    got: list[str] = []

    def broken(event: Mapping[str, Any]) -> None:
        raise RuntimeError("sync boom")

    async def broken_async(event: Mapping[str, Any]) -> None:
        raise RuntimeError("async boom")

    async def fine_async(event: Mapping[str, Any]) -> None:
        got.append("async")

    bus.subscribe("t", broken)
    bus.subscribe("t", broken_async)
    bus.subscribe("t", lambda event: got.append("sync"))
    bus.subscribe("t", fine_async)
    with caplog.at_level(logging.ERROR):
        bus.publish("t", {})  # does not raise
        await settle()
    assert got == ["sync", "async"]
    assert "bus subscriber of t failed" in caplog.text
    assert "sync boom" in caplog.text and "async boom" in caplog.text
    assert "background task bus:t failed" in caplog.text
    await tasks.close()


async def test_spawn_logs_failures(caplog: pytest.LogCaptureFixture) -> None:
    tasks = Tasks()

    async def fails() -> None:
        raise ValueError("lost?")

    async def works() -> int:
        return 7

    with caplog.at_level(logging.ERROR, logger="server.tasks"):
        bad = tasks.spawn(fails(), name="doomed")
        good = tasks.spawn(works())
        await asyncio.wait([bad, good])
        await settle()
    assert good.result() == 7
    assert [r.getMessage() for r in caplog.records] == ["background task doomed failed"]
    record = caplog.records[0]
    assert record.exc_info is not None and isinstance(record.exc_info[1], ValueError)
    assert len(tasks) == 0  # finished tasks are forgotten
    await tasks.close()


async def test_later_fires_and_can_be_cancelled(caplog: pytest.LogCaptureFixture) -> None:
    tasks = Tasks()
    fired: list[str] = []
    tasks.later(0.01, lambda: fired.append("a"))
    cancelled = tasks.later(0.01, lambda: fired.append("b"))
    cancelled.cancel()
    tasks.later(-1.0, lambda: fired.append("now"))  # a negative delay is no delay

    def boom() -> None:
        raise RuntimeError("timer boom")

    with caplog.at_level(logging.ERROR, logger="server.tasks"):
        tasks.later(0.0, boom)
        tasks.later(0.02, lambda: fired.append("after boom"))
        await asyncio.sleep(0.05)
    assert fired == ["now", "a", "after boom"]
    assert "timer callback failed" in caplog.text
    await tasks.close()


async def test_close_cancels_tasks_and_timers_and_waits_for_them() -> None:
    tasks = Tasks()
    events: list[str] = []

    async def forever() -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            await asyncio.sleep(0.01)  # cleanup that takes a moment
            events.append("cleaned up")

    task = tasks.spawn(forever(), name="forever")
    tasks.later(0.01, lambda: events.append("timer"))
    await settle()
    assert len(tasks) == 1
    await tasks.close(timeout=1.0)
    assert events == ["cleaned up"]  # close waited for the cleanup
    assert task.cancelled()
    await asyncio.sleep(0.03)
    assert events == ["cleaned up"]  # the timer never fired
    assert tasks.closed


async def test_spawn_after_close_does_not_run_the_coroutine() -> None:
    tasks = Tasks()
    await tasks.close()
    ran: list[bool] = []

    async def body() -> None:
        ran.append(True)

    task = tasks.spawn(body(), name="late")
    await settle()
    assert task.cancelled()
    assert ran == []
    assert len(tasks) == 0


async def test_cancelled_and_fired_timers_are_let_go() -> None:
    """Regression: cancelled handles used to stay in the set until shutdown."""
    tasks = Tasks()
    fired: list[int] = []
    for i in range(1000):
        tasks.later(60.0, lambda i=i: fired.append(i)).cancel()
    assert tasks.timers == 0
    tasks.later(0.0, lambda: fired.append(-1))
    await asyncio.sleep(0.02)
    assert fired == [-1] and tasks.timers == 0
    await tasks.close()
    late = tasks.later(0.0, lambda: fired.append(-2))
    await asyncio.sleep(0.02)
    assert late.cancelled and fired == [-1]


async def test_every_repeats_past_a_failure_until_stopped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    tasks = Tasks()
    calls: list[int] = []

    async def job() -> None:
        calls.append(len(calls))
        if len(calls) == 1:
            raise RuntimeError("boom")

    rounds = tasks.every(0.001, job, "job")
    await rounds.next()  # the failing round is logged and counted
    await rounds.next()
    assert rounds.rounds >= 2 and len(calls) >= 2
    assert "job failed" in caplog.text
    rounds.stop()
    done = len(calls)
    await asyncio.sleep(0.02)
    assert len(calls) <= done + 1  # at most a round already under way
    await tasks.close()
