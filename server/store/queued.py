"""What both subscriptions share: messages queue up until read; one marker ends iteration."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

_END = None


class QueuedSubscription:
    """Base of the memory and Redis subscriptions.

    A subscription is entered once (``async with``), then iterated; messages
    wait in an unbounded queue until read. `_finish` ends every iterator,
    raising ``_error`` in them if the backend failed.
    """

    def __init__(self, channels: dict[str, str]) -> None:
        self._channels = channels  # full channel -> relative
        self._queue: asyncio.Queue[tuple[str, bytes] | None] = asyncio.Queue()
        self._state = "new"
        self._error: BaseException | None = None

    def _check_new(self) -> None:
        if self._state != "new":
            raise RuntimeError("a subscription can be entered only once")

    def __aiter__(self) -> AsyncIterator[tuple[str, bytes]]:
        if self._state == "new":
            raise RuntimeError("enter the subscription (async with) before iterating")
        return self._messages()

    async def _messages(self) -> AsyncIterator[tuple[str, bytes]]:
        while True:
            item = await self._queue.get()
            if item is _END:
                self._queue.put_nowait(_END)  # for any other iterator
                if self._error is not None:
                    raise self._error
                return
            yield item

    def _finish(self) -> None:
        self._queue.put_nowait(_END)
