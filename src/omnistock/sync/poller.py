"""Order polling: for platforms without webhooks, and as the safety net for lost webhooks. The cursor is
stored per channel; each poll overlaps the last one a little, since de-duplication makes overlap free.

A successful poll has taken in every order placed up to its end (orders listed by modification time, from the
previous cursor on), so it also tells the exposure books of partitioned SKUs that the channel's orders are
known up to then, less `CLOCK_MARGIN` for the platform's clock running ahead of ours. A partition push that
was confirmed waits for such a poll (`poll_awaited` runs it as soon as it can cover the confirmation)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from omnistock.config import Settings
from omnistock.errors import ChannelError
from omnistock.store.db import Database
from omnistock.store.tables import Channel
from omnistock.store.types import utcnow
from omnistock.sync import calls, exposure_events, exposure_store, intake
from omnistock.sync.adapters import adapter_for, has_adapter
from omnistock.sync.pusher import channel_state

OVERLAP = timedelta(minutes=2)
FIRST_LOOKBACK = timedelta(days=1)
# How far a platform's clock may run ahead of ours (both NTP-synchronised): an order the platform stamps at
# its "now" may have been placed up to this much earlier on our clock.
CLOCK_MARGIN = timedelta(seconds=1)
POLL_HOLD = timedelta(seconds=60)  # an awaited poll taken by a worker is its own for this long


@dataclass(frozen=True)
class PollReport:
    events: int
    applied: int
    error: str | None = None


def poll_once(db: Database, settings: Settings, channel_id: int, *,
              now: Callable[[], datetime] = utcnow) -> PollReport:
    """Fetch orders changed since the cursor and take them in; the cursor moves only on success."""
    until = now()
    with db.transaction() as session:
        channel = session.get(Channel, channel_id)
        if channel is None or not channel.enabled or not has_adapter(channel):
            return PollReport(0, 0)
        state = channel_state(session, channel_id)
        since = (state.poll_cursor or max(channel.created_at, until - FIRST_LOOKBACK)) - OVERLAP
        adapter = adapter_for(channel, settings)
    started = time.perf_counter()
    try:
        events = adapter.fetch_orders(since, until)
        error = None
    except ChannelError as exc:
        events, error = [], f"{type(exc).__name__}: {exc}"
    latency = int((time.perf_counter() - started) * 1000)
    taken_in = False
    try:
        with db.transaction() as session:
            channel = session.get(Channel, channel_id)
            assert channel is not None
            calls.record(session, channel_id=channel_id, op="fetch_orders", ok=error is None,
                         latency_ms=latency, at=until, error=error)
            if error is not None:
                return PollReport(0, 0, error)
            outcomes = intake.ingest(session, channel, events, "poll")
            state = channel_state(session, channel_id)
            state.poll_cursor, state.last_poll_at = until, until
        taken_in = True
    finally:
        # Its own transaction, once the orders are in: books are locked after the stock rows, never before.
        with db.transaction() as session:
            exposure_events.poll_completed(session, channel_id, until - CLOCK_MARGIN if taken_in else None, now())
    return PollReport(len(events), sum(1 for o in outcomes if o.result not in ("duplicate", "unchanged")))


def poll_awaited(db: Database, settings: Settings, channel_id: int, *,
                 now: Callable[[], datetime] = utcnow) -> PollReport | None:
    """Run the order poll that confirmed partition pushes of the channel wait for, if it is due and no other
    worker runs it; None when there was nothing to do."""
    with db.transaction() as session:
        taken = exposure_store.take_poll(session, channel_id, now(), CLOCK_MARGIN.total_seconds(),
                                         POLL_HOLD.total_seconds())
    return poll_once(db, settings, channel_id, now=now) if taken else None


def awaited_poll_due(db: Database, channel_id: int) -> datetime | None:
    """When the channel's awaited poll may run, if one is awaited."""
    with db.reading() as session:
        return exposure_store.poll_due(session, channel_id, CLOCK_MARGIN.total_seconds())
