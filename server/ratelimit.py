"""A token bucket per connection, with flood detection."""

from __future__ import annotations


class TokenBucket:
    """``rate`` messages per second on average, bursts up to ``burst``.

    `take` answers whether one message may pass now. Refused messages are
    counted per one-second window in ``dropped_window`` so the caller can
    tell an eager client (a few drops) from a flood (many).
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
