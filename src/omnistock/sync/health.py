"""A channel's sync health: backlog, call counts and errors, latency percentiles, breaker, last error."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from omnistock.store.tables import Channel
from omnistock.sync.tables import ChannelSync, Listing, PlatformCall


@dataclass(frozen=True)
class Health:
    backlog: int
    oldest_pending_s: float
    calls_5m: int
    errors_5m: int
    calls_60m: int
    errors_60m: int
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    breaker: str
    last_error: dict[str, Any] | None
    listings: int
    failing: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def percentile(values: list[int], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), -(-int(q * len(ordered)) // 100)))
    return float(ordered[rank - 1])


def _calls(session: Session, channel_id: int, since: datetime) -> tuple[int, int]:
    # One platform call may carry many listings (a batch): count calls, not rows.
    calls = func.count(func.distinct(PlatformCall.call_id))
    total = session.scalar(select(calls).where(PlatformCall.channel_id == channel_id, PlatformCall.at >= since)) or 0
    failed = session.scalar(select(calls).where(PlatformCall.channel_id == channel_id, PlatformCall.at >= since,
                                                PlatformCall.ok.is_(False))) or 0
    return int(total), int(failed)


def channel_health(session: Session, channel: Channel, now: datetime) -> Health:
    cid = channel.id
    backlog, oldest = session.execute(select(func.count(), func.min(Listing.dirty_since)).where(
        Listing.channel_id == cid, Listing.dirty.is_(True))).one()
    listings = session.scalar(select(func.count()).where(Listing.channel_id == cid)) or 0
    failing = session.scalar(select(func.count()).where(Listing.channel_id == cid,
                                                        Listing.failing_since.is_not(None))) or 0
    calls_5m, errors_5m = _calls(session, cid, now - timedelta(minutes=5))
    calls_60m, errors_60m = _calls(session, cid, now - timedelta(minutes=60))
    latencies = list(session.scalars(select(PlatformCall.latency_ms).where(
        PlatformCall.channel_id == cid, PlatformCall.at >= now - timedelta(minutes=60),
        PlatformCall.op == "set_stock").limit(20_000)))
    last = session.execute(select(PlatformCall.at, PlatformCall.error).where(
        PlatformCall.channel_id == cid, PlatformCall.ok.is_(False)).order_by(PlatformCall.id.desc()).limit(1)).first()
    state = session.get(ChannelSync, cid)
    oldest_s = max(0.0, (now - oldest).total_seconds()) if oldest else 0.0
    return Health(backlog=int(backlog or 0), oldest_pending_s=round(oldest_s, 3), calls_5m=calls_5m,
                  errors_5m=errors_5m, calls_60m=calls_60m, errors_60m=errors_60m,
                  latency_p50_ms=percentile(latencies, 50), latency_p95_ms=percentile(latencies, 95),
                  breaker=state.breaker if state else "closed",
                  last_error={"at": last[0], "message": last[1]} if last else None,
                  listings=int(listings), failing=int(failing))
