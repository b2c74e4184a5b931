"""`LocalBus`: facts one feature announces and others act on, inside one process.

Features never import each other. When one establishes a fact another needs
("a case was closed", "a rating was given"), it publishes an event on a
topic; whoever cares subscribes. Durable facts are also in the publishing
feature's stream, so a late subscriber can catch up from the store; the bus
is for acting now. Scale-out replaces this class behind the same `Bus` port
(`server.plug.Bus`) without touching the features.

Handlers run in publication order; an async handler is started as a task
(owned by `Tasks`), so a publisher never waits on a subscriber and a failing
subscriber never fails the publisher.
"""

from __future__ import annotations

import inspect
import logging
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from server.plug import BusHandler
from server.tasks import Tasks

log = logging.getLogger(__name__)


class LocalBus:
    def __init__(self, tasks: Tasks) -> None:
        self._tasks = tasks
        self._subscribers: defaultdict[str, list[BusHandler]] = defaultdict(list)
        self.published = 0

    def subscribe(self, topic: str, handler: BusHandler) -> None:
        """Call ``handler(event)`` for every event published on ``topic`` from now on."""
        self._subscribers[topic].append(handler)

    def publish(self, topic: str, event: Mapping[str, Any]) -> None:
        """Hand ``event`` to every subscriber of ``topic``; never raises for a subscriber."""
        self.published += 1
        frozen = dict(event)
        for handler in list(self._subscribers.get(topic, ())):
            try:
                result = handler(frozen)
            except Exception:
                log.exception("bus subscriber of %s failed", topic)
                continue
            if inspect.isawaitable(result):
                self._tasks.spawn(_await(result), name=f"bus:{topic}")


async def _await(result: Any) -> None:
    await result
