"""Order polling: for platforms without webhooks, and as the safety net for lost webhooks. The cursor is
stored per channel; each poll overlaps the last one a little, since de-duplication makes overlap free."""

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
from omnistock.sync import calls, intake
from omnistock.sync.adapters import adapter_for, has_adapter
from omnistock.sync.pusher import channel_state

OVERLAP = timedelta(minutes=2)
FIRST_LOOKBACK = timedelta(days=1)


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
    with db.transaction() as session:
        channel = session.get(Channel, channel_id)
        assert channel is not None
        calls.record(session, channel_id=channel_id, op="fetch_orders", ok=error is None, latency_ms=latency,
                     at=until, error=error)
        if error is not None:
            return PollReport(0, 0, error)
        outcomes = intake.ingest(session, channel, events, "poll")
        state = channel_state(session, channel_id)
        state.poll_cursor, state.last_poll_at = until, until
    return PollReport(len(events), sum(1 for o in outcomes if o.result not in ("duplicate", "unchanged")))
