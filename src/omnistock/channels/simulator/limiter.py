"""The token bucket every simulated platform throttles with: requests or GraphQL cost points alike."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    """`capacity` tokens, refilled at `rate` per second; a call takes `cost` tokens or is refused.

    The clock is injectable so that tests can move time instead of sleeping.
    """

    def __init__(self, rate: float, capacity: float, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0 or capacity <= 0:
            raise ValueError("rate and capacity must be positive")
        self.rate = float(rate)
        self.capacity = float(capacity)
        self._clock = clock
        self._tokens = float(capacity)
        self._stamp = clock()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    @property
    def available(self) -> float:
        """Tokens in the bucket right now (Shopify reports this as `currentlyAvailable`)."""
        with self._lock:
            self._refill()
            return self._tokens

    def take(self, cost: float = 1.0) -> float:
        """Take `cost` tokens and return 0.0, or take nothing and return the seconds until there are enough.

        A cost above the capacity can never be served; the wait returned is then the time to fill the bucket.
        """
        with self._lock:
            self._refill()
            if cost <= self._tokens:
                self._tokens -= cost
                return 0.0
            missing = min(cost, self.capacity) - self._tokens
            return max(missing / self.rate, 1e-3)

    def give_back(self, tokens: float) -> None:
        """Return tokens taken in advance but not used (Shopify refunds requested minus actual cost)."""
        with self._lock:
            self._refill()
            self._tokens = min(self.capacity, self._tokens + max(0.0, tokens))

    def reconfigure(self, rate: float, capacity: float) -> None:
        with self._lock:
            self._refill()
            self.rate = float(rate)
            self.capacity = float(capacity)
            self._tokens = min(self._tokens, self.capacity)
