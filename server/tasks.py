"""`Tasks`: every background task and timer of one server process, owned by its lifespan.

Features, the voice router and the edge start work that outlives the call
that started it (a no-show timer, closing a replaced connection, a delayed
history send). All of it goes through one `Tasks`, so shutdown can cancel
what is left and wait for it, instead of three private ``_spawn`` helpers
leaking tasks::

    tasks = Tasks()
    tasks.spawn(coro, name="no-show A-014")     # exceptions are logged, never lost
    handle = tasks.later(60.0, callback)         # a timer, cancelled on close
    rounds = tasks.every(1.0, refresh, "name")   # a periodic job; rounds.next() waits a round
    await tasks.close(timeout=5.0)               # cancel everything, then wait
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)


class Tasks:
    """Background tasks and timers that belong to one lifespan."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._timers: set[Timer] = set()
        self.closed = False

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str | None = None) -> asyncio.Task[Any]:
        """Run ``coro`` in the background; its exception (if any) is logged.

        After `close` the coroutine is closed unstarted and a cancelled task returned.
        """
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        if name:
            task.set_name(name)
        if self.closed:
            task.cancel()
            return task
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            error = task.exception()
            log.error("background task %s failed", task.get_name(), exc_info=error)

    def every(self, interval_s: float, fn: Callable[[], Awaitable[None]], name: str) -> Repeating:
        """Run ``fn()`` every ``interval_s`` after the last round, until stopped or closed."""
        repeating = Repeating(interval_s, fn, name)
        self.spawn(repeating.run(), name=name)
        return repeating

    def later(self, delay_s: float, callback: Callable[[], object]) -> Timer:
        """Call ``callback`` after ``delay_s`` seconds; cancel it with ``.cancel()``.

        A cancelled or fired timer is forgotten at once, so timers that are set
        and cancelled all day (no-shows, grace periods) hold no memory. After
        `close`, the timer returned never fires.
        """
        timer = Timer(self, callback)
        if self.closed:
            timer.cancelled = True
            return timer
        timer.handle = asyncio.get_running_loop().call_later(max(0.0, delay_s), timer.fire)
        self._timers.add(timer)
        return timer

    @property
    def timers(self) -> int:
        """Timers set and neither fired nor cancelled."""
        return len(self._timers)

    def __len__(self) -> int:
        return len(self._tasks)

    async def close(self, timeout: float = 5.0) -> None:
        """Cancel every timer and task, then wait up to ``timeout`` for the tasks to end."""
        self.closed = True
        for timer in list(self._timers):
            timer.cancel()
        self._timers.clear()
        pending = list(self._tasks)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=timeout)


class Timer:
    """A timer of `Tasks.later`; ``cancel()`` stops it and lets go of it."""

    def __init__(self, owner: Tasks, callback: Callable[[], object]) -> None:
        self._owner = owner
        self._callback = callback
        self.handle: asyncio.TimerHandle | None = None
        self.cancelled = False

    def fire(self) -> None:
        self._owner._timers.discard(self)
        if self.cancelled:
            return
        try:
            self._callback()
        except Exception:
            log.exception("timer callback failed")

    def cancel(self) -> None:
        self.cancelled = True
        if self.handle is not None:
            self.handle.cancel()
        self._owner._timers.discard(self)


class Repeating:
    """A coroutine function run every ``interval_s`` until stopped (see `Tasks.every`)."""

    def __init__(self, interval_s: float, fn: Callable[[], Awaitable[None]], name: str) -> None:
        self.interval_s = interval_s
        self.fn = fn
        self.name = name
        self.rounds = 0
        """Rounds finished (failed ones included: a failure is logged, the next round runs)."""
        self._stopped = False
        self._done = asyncio.Event()

    async def run(self) -> None:
        while not self._stopped:
            await asyncio.sleep(self.interval_s)
            if self._stopped:
                break
            try:
                await self.fn()
            except Exception:
                log.exception("%s failed", self.name)
            self.rounds += 1
            self._done.set()
            self._done = asyncio.Event()

    async def next(self) -> None:
        """Wait until the next round has finished (tests and tools)."""
        await self._done.wait()

    def stop(self) -> None:
        """No round starts after this (one under way finishes, or is cancelled on close)."""
        self._stopped = True
