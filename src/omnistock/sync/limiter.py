"""A token bucket per platform, matching its documented limit, that also honours Retry-After."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from omnistock.channels.base import RateLimit


class TokenBucket:
    def __init__(self, limit: RateLimit, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = max(limit.per_second, 0.001)
        self.capacity = max(1.0, float(limit.burst))
        self.tokens = self.capacity
        self.clock = clock
        self.updated = clock()
        self.blocked_until = 0.0
        self._lock = threading.Lock()

    def _refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def reserve(self, cost: float = 1.0) -> float:
        """Take `cost` tokens; returns how long to wait before the call may go (0 when it may go now)."""
        with self._lock:
            now = self.clock()
            self._refill(now)
            self.tokens -= cost
            wait = max(0.0, -self.tokens / self.rate, self.blocked_until - now)
            return wait

    def penalize(self, retry_after: float) -> None:
        """The platform said 'slow down': nothing goes before retry_after seconds from now."""
        with self._lock:
            now = self.clock()
            self.blocked_until = max(self.blocked_until, now + retry_after)
            self.tokens = min(self.tokens, 0.0)
