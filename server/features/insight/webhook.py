"""`Webhook`: deliver alert notifications to one HTTP receiver, in the background.

The alerter makes Alertmanager-format payloads (`alerts.alertmanager_payload`); this
sends them, one at a time and in order, as JSON POSTs::

    hook = Webhook("https://hooks.example.org/alerts?token=...", tasks)
    hook.send(payload)        # never blocks; the oldest waiting payload is dropped when full
    await hook.close()        # at shutdown

A connection error, a timeout, a 5xx or a 429 is retried with exponential backoff and
jitter (``Retry-After`` is honoured, up to ``max_backoff``), up to ``max_attempts``
attempts in all; any other answer outside 2xx gives up at once. Every delivery, retry,
drop and give-up is logged, with the receiver's host only: never the URL's credentials,
path or query. The counters ``delivered``, ``failed``, ``dropped`` and ``retried`` are
plain attributes, for the feature's metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections import deque
from collections.abc import Mapping
from typing import Any

import httpx

from server.tasks import Tasks

log = logging.getLogger(__name__)


class Webhook:
    """A bounded queue of JSON payloads and one sender task (spawned on the first send)."""

    def __init__(
        self,
        url: str,
        tasks: Tasks,
        max_queue: int = 100,
        max_attempts: int = 8,
        backoff: float = 1.0,
        max_backoff: float = 60.0,
        timeout: float = 10.0,
        headers: Mapping[str, str] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        parsed = httpx.URL(url)
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise ValueError("the webhook URL must be http:// or https:// with a host")
        if max_queue < 1 or max_attempts < 1 or backoff < 0 or max_backoff < 0:
            raise ValueError("max_queue and max_attempts must be ≥ 1, backoffs ≥ 0")
        self._url = url
        self.host = f"{parsed.host}:{parsed.port}" if parsed.port else parsed.host
        self._tasks = tasks
        self.max_queue = max_queue
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._headers = {"Content-Type": "application/json", **(headers or {})}
        self._client = httpx.AsyncClient(timeout=timeout, follow_redirects=False)
        self._rng = rng or random.Random()
        self._queue: deque[tuple[str, bytes]] = deque()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._worker: asyncio.Task[None] | None = None
        self._in_flight = False
        self.closed = False
        self.delivered = 0  # payloads the receiver accepted (2xx)
        self.failed = 0  # payloads given up on (attempts exhausted or refused)
        self.dropped = 0  # payloads pushed out of a full queue, or left at close
        self.retried = 0  # attempts repeated after a retryable failure

    def __repr__(self) -> str:
        return f"Webhook(host={self.host!r}, queued={len(self._queue)})"

    @property
    def queued(self) -> int:
        """Payloads waiting (not counting the one being sent)."""
        return len(self._queue)

    def send(self, payload: Mapping[str, Any]) -> None:
        """Queue one payload; call it on the event loop. When the queue is full the oldest
        waiting payload is dropped (and counted)."""
        label = str(payload.get("groupKey", "payload"))
        if self.closed:
            self.dropped += 1
            log.warning("webhook %s: closed, dropped %s", self.host, label)
            return
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        if len(self._queue) >= self.max_queue:
            old_label, _ = self._queue.popleft()
            self.dropped += 1
            log.warning(
                "webhook %s: queue full (%d), dropped the oldest: %s",
                self.host,
                self.max_queue,
                old_label,
            )
        self._queue.append((label, body))
        self._idle.clear()
        self._wake.set()
        if self._worker is None or self._worker.done():
            self._worker = self._tasks.spawn(self._run(), name=f"webhook {self.host}")

    async def drain(self) -> None:
        """Wait until nothing is queued or in flight."""
        await self._idle.wait()

    async def close(self, drain_s: float = 0.0) -> None:
        """Stop the sender (after up to ``drain_s`` seconds of draining) and close the client.

        Payloads still queued or in flight then are counted as dropped.
        """
        if self.closed:
            return
        if drain_s > 0 and not self._idle.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), timeout=drain_s)
        self.closed = True
        left = len(self._queue) + (1 if self._in_flight else 0)  # no await since: exact
        worker, self._worker = self._worker, None
        if worker is not None and not worker.done():
            worker.cancel()
            await asyncio.wait([worker])
        if left:
            self.dropped += left
            log.warning("webhook %s: closed with %d payloads undelivered", self.host, left)
        self._queue.clear()
        self._in_flight = False
        self._idle.set()
        await self._client.aclose()

    async def _run(self) -> None:
        while not self.closed:
            if not self._queue:
                self._idle.set()
                self._wake.clear()
                await self._wake.wait()
                continue
            label, body = self._queue.popleft()
            self._in_flight = True
            try:
                await self._deliver(label, body)
            finally:
                self._in_flight = False
            if not self._queue:
                self._idle.set()

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        """Exponential backoff with "equal jitter": half fixed, half random."""
        delay = min(self.max_backoff, self.backoff * 2.0 ** (attempt - 1))
        delay = delay / 2 + self._rng.uniform(0.0, delay / 2)
        if retry_after is not None:
            delay = max(delay, min(self.max_backoff, retry_after))
        return delay

    async def _deliver(self, label: str, body: bytes) -> None:
        for attempt in range(1, self.max_attempts + 1):
            retry_after: float | None = None
            try:
                response = await self._client.post(self._url, content=body, headers=self._headers)
            except httpx.TransportError as e:
                reason = type(e).__name__
            else:
                status = response.status_code
                if 200 <= status < 300:
                    self.delivered += 1
                    log.info(
                        "webhook %s: delivered %s (HTTP %d, attempt %d, %d bytes)",
                        self.host,
                        label,
                        status,
                        attempt,
                        len(body),
                    )
                    return
                if status != 429 and status < 500:
                    self.failed += 1
                    log.error(
                        "webhook %s: refused %s with HTTP %d; giving up", self.host, label, status
                    )
                    return
                reason = f"HTTP {status}"
                retry_after = _retry_after(response.headers.get("Retry-After"))
            if attempt >= self.max_attempts:
                self.failed += 1
                log.error(
                    "webhook %s: gave up on %s after %d attempts (last: %s)",
                    self.host,
                    label,
                    attempt,
                    reason,
                )
                return
            delay = self._delay(attempt, retry_after)
            self.retried += 1
            log.warning(
                "webhook %s: attempt %d for %s failed (%s); retrying in %.2f s",
                self.host,
                attempt,
                label,
                reason,
                delay,
            )
            await asyncio.sleep(delay)


def _retry_after(value: str | None) -> float | None:
    """Seconds from a numeric ``Retry-After`` (an HTTP date is ignored)."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None
