"""The circuit breaker of a channel: stop hammering a platform that is down, probe it back.
Its state lives in `channel_sync` so every worker process shares it."""

from __future__ import annotations

from datetime import datetime, timedelta

from omnistock.sync.tables import ChannelSync

OPEN_AFTER = 5               # consecutive failed calls
FIRST_OPEN = timedelta(seconds=10)
LONGEST_OPEN = timedelta(minutes=5)


def allows(state: ChannelSync, now: datetime) -> bool:
    """Closed: calls go. Open: none until its time is up, then one probe (half open)."""
    if state.breaker == "open":
        if state.breaker_until is not None and now >= state.breaker_until:
            state.breaker = "half_open"
            return True
        return False
    return True


def succeeded(state: ChannelSync) -> None:
    state.breaker, state.breaker_until, state.consecutive_failures = "closed", None, 0


def failed(state: ChannelSync, now: datetime) -> None:
    state.consecutive_failures += 1
    if state.breaker == "half_open" or state.consecutive_failures >= OPEN_AFTER:
        extra = max(0, state.consecutive_failures - OPEN_AFTER)
        state.breaker = "open"
        state.breaker_until = now + min(LONGEST_OPEN, FIRST_OPEN * (2 ** min(extra, 10)))
