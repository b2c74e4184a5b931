"""Protocol policy, sans I/O: rate limits, floods, error windows, versions and closes.

Nothing here reads a clock or touches a socket: every method takes ``now``
(seconds on any monotonic clock, the same one for every call on an object)
and answers what the connection should do. The server performs the answer
(drop, send an error, close).

Typical use, per connection::

    policy = ConnectionPolicy(40, 80, flood_drops=200, max_errors=20,
                              error_window_s=10, now=now)
    verdict = policy.admit(now)            # for every message received, before decoding
    if verdict is Admission.FLOOD: close(CloseCode.FLOOD)
    elif verdict is Admission.NOTIFY: send error rate_limited
    elif verdict is Admission.PASS: decode and handle; on a refusal:
        if (code := policy.refused(now)) is not None: close(code)
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from enum import Enum
from types import MappingProxyType
from typing import Final

from protocol.catalogue import PROTOCOL_VERSION
from protocol.errors import CloseCode, ErrorCode, ProtocolError

__all__ = [
    "CLOSES_AFTER_ERROR",
    "FORGETS_RESUME",
    "Admission",
    "ConnectionPolicy",
    "TokenBucket",
    "check_version",
    "closes_after",
    "forgets_resume",
]


class TokenBucket:
    """``rate`` messages per second on average, bursts up to ``burst``.

    The bucket starts full. `take` answers whether one message may pass now.
    Refused messages are counted per one-second window in ``dropped_window``
    so the caller can tell an eager client (a few drops) from a flood (many).
    """

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.stamp = now
        self.window_start = now
        self.dropped_window = 0
        self.last_notice = -1e9

    def take(self, now: float) -> bool:
        """Refill for the time since the last call, then spend one token if there is one.

        Returns True when the message may pass; False counts it in ``dropped_window``
        (reset when a second has passed since the window started).
        """
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if now - self.window_start >= 1.0:
            self.window_start = now
            self.dropped_window = 0
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        self.dropped_window += 1
        return False

    def should_notify(self, now: float) -> bool:
        """At most one rate-limit error per second, so the errors are no flood themselves."""
        if now - self.last_notice >= 1.0:
            self.last_notice = now
            return True
        return False


class Admission(Enum):
    """What to do with one received message, before decoding it."""

    PASS = "pass"
    """Decode and handle it."""
    DROP = "drop"
    """Drop it silently (the client was told about the rate limit recently)."""
    NOTIFY = "notify"
    """Drop it and send the client a ``rate_limited`` error."""
    FLOOD = "flood"
    """Drop it and close the connection with `CloseCode.FLOOD` (4008)."""


class ConnectionPolicy:
    """The abuse rules of one connection: a token bucket, flood detection, an error window.

    ``rate_per_s``/``rate_burst`` configure the bucket; more than
    ``flood_drops`` messages dropped within one second is a flood; more than
    ``max_errors`` refused messages within ``error_window_s`` seconds closes
    with `CloseCode.TOO_MANY_ERRORS`.
    """

    def __init__(
        self,
        rate_per_s: float,
        rate_burst: float,
        flood_drops: int,
        max_errors: int,
        error_window_s: float,
        now: float,
    ) -> None:
        self.bucket = TokenBucket(rate_per_s, rate_burst, now)
        self.flood_drops = flood_drops
        self.max_errors = max_errors
        self.error_window_s = error_window_s
        self.error_times: deque[float] = deque()

    def admit(self, now: float) -> Admission:
        """Decide on one received message (call once per message, before decoding).

        PASS while the bucket has a token; otherwise FLOOD once more than
        ``flood_drops`` were dropped in the current one-second window, else
        NOTIFY at most once per second, else DROP.
        """
        if self.bucket.take(now):
            return Admission.PASS
        if self.bucket.dropped_window > self.flood_drops:
            return Admission.FLOOD
        if self.bucket.should_notify(now):
            return Admission.NOTIFY
        return Admission.DROP

    def refused(self, now: float) -> CloseCode | None:
        """Count one refused message; return `CloseCode.TOO_MANY_ERRORS` when it is one too many.

        Refusals older than ``error_window_s`` before ``now`` are forgotten;
        the answer is TOO_MANY_ERRORS while more than ``max_errors`` remain,
        else None (the connection stays open).
        """
        times = self.error_times
        times.append(now)
        while times and now - times[0] > self.error_window_s:
            times.popleft()
        return CloseCode.TOO_MANY_ERRORS if len(times) > self.max_errors else None

    def check_version(self, v: int) -> None:
        """Accept hello's protocol version; see the module-level `check_version`."""
        check_version(v)


def check_version(v: int) -> None:
    """Accept hello's protocol version ``v`` or raise ProtocolError(bad_version, ref "hello").

    After the error, close with `CloseCode.BAD_VERSION` (see `closes_after`).
    """
    if v != PROTOCOL_VERSION:
        raise ProtocolError(
            ErrorCode.BAD_VERSION,
            f"This server speaks protocol version {PROTOCOL_VERSION}, not {v}.",
            "hello",
        )


CLOSES_AFTER_ERROR: Final[Mapping[str, CloseCode]] = MappingProxyType(
    {ErrorCode.BAD_VERSION: CloseCode.BAD_VERSION, ErrorCode.BAD_TOKEN: CloseCode.BAD_TOKEN}
)
"""Error codes after which the server closes the connection, and with which close code."""


def closes_after(error_code: str) -> CloseCode | None:
    """The close that follows an ``error`` with this code, or None (the connection stays open)."""
    return CLOSES_AFTER_ERROR.get(error_code)


FORGETS_RESUME: Final = frozenset(
    {
        CloseCode.NORMAL,
        CloseCode.KICKED,
        CloseCode.ERASED,
        CloseCode.BAD_TOKEN,
        CloseCode.BAD_VERSION,
        CloseCode.REPLACED,
        CloseCode.REVOKED,
    }
)
"""Closes after which the server keeps no resume record for the connection."""


def forgets_resume(code: CloseCode) -> bool:
    """True when, after closing with ``code``, the session cannot be resumed."""
    return code in FORGETS_RESUME
