"""Sync state of each channel as the dashboard, the channel list and a channel's page show it: the same
`sync.health.Health` figures that `sync.health.channel_health` gives one channel, read for every channel at
once in a fixed number of grouped queries (five, whatever the number of channels)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from omnistock.domain.access import Principal
from omnistock.store.tables import Channel
from omnistock.sync.adapters import has_adapter
from omnistock.sync.health import Health
from omnistock.sync.tables import ChannelSync, Listing, PlatformCall
from omnistock.watch.report_figures import percentile

# A listing waiting longer than this is a backlog, not the normal second between a change and its push.
BACKLOG_AFTER_S = 30.0


class SyncState(StrEnum):
    IN_SYNC = "in_sync"
    BACKLOG = "backlog"
    FAILING = "failing"
    BREAKER_OPEN = "breaker_open"
    DISABLED = "disabled"
    PASSIVE = "passive"  # manual and feed channels: nothing is pushed to them


def sync_state(health: Health, *, enabled: bool = True, pushed: bool = True) -> SyncState:
    """The worst thing that is true: breaker open, then failing pushes, then a backlog, else in sync."""
    if not enabled:
        return SyncState.DISABLED
    if not pushed:
        return SyncState.PASSIVE
    if health.breaker != "closed":
        return SyncState.BREAKER_OPEN
    if health.failing > 0 or health.errors_5m > 0:
        return SyncState.FAILING
    if health.backlog > 0 and health.oldest_pending_s >= BACKLOG_AFTER_S:
        return SyncState.BACKLOG
    return SyncState.IN_SYNC


@dataclass(frozen=True)
class ChannelSyncView:
    channel: Channel
    health: Health
    state: SyncState
    last_push_at: datetime | None


@dataclass
class _Listings:
    count: int = 0
    backlog: int = 0
    oldest: datetime | None = None
    failing: int = 0
    last_push: datetime | None = None


def _listings(session: Session, ids: list[int]) -> dict[int, _Listings]:
    """Listings, waiting ones (and the oldest wait), failing ones and the last push, per channel: one pass."""
    dirty = Listing.dirty.is_(True)
    rows = session.execute(
        select(Listing.channel_id, func.count(), func.sum(case((dirty, 1), else_=0)),
               func.min(case((dirty, Listing.dirty_since))),
               func.sum(case((Listing.failing_since.is_not(None), 1), else_=0)), func.max(Listing.last_pushed_at))
        .where(Listing.channel_id.in_(ids)).group_by(Listing.channel_id))
    return {cid: _Listings(int(n), int(waiting or 0), oldest, int(failing or 0), pushed)
            for cid, n, waiting, oldest, failing, pushed in rows}


def _calls(session: Session, ids: list[int], now: datetime) -> dict[int, tuple[int, int, int, int]]:
    """(calls, failed) in the last 5 and in the last 60 minutes per channel. One platform call may carry many
    listings (a batch): calls are counted by their call id, not by rows, as `channel_health` counts them."""
    recent = PlatformCall.at >= now - timedelta(minutes=5)
    failed = PlatformCall.ok.is_(False)

    def calls_where(cond: ColumnElement[bool]) -> ColumnElement[int]:
        return func.count(func.distinct(case((cond, PlatformCall.call_id))))
    rows = session.execute(
        select(PlatformCall.channel_id, calls_where(recent), calls_where(recent & failed),
               func.count(func.distinct(PlatformCall.call_id)), calls_where(failed))
        .where(PlatformCall.channel_id.in_(ids), PlatformCall.at >= now - timedelta(minutes=60))
        .group_by(PlatformCall.channel_id))
    return {cid: (int(c5), int(e5), int(c60), int(e60)) for cid, c5, e5, c60, e60 in rows}


def _latencies(session: Session, ids: list[int], now: datetime) -> dict[int, dict[int, int]]:
    """Push latencies of the last hour per channel as {latency: count}: the percentiles are exact without
    fetching every call."""
    out: dict[int, dict[int, int]] = defaultdict(dict)
    for cid, latency, n in session.execute(
            select(PlatformCall.channel_id, PlatformCall.latency_ms, func.count())
            .where(PlatformCall.channel_id.in_(ids), PlatformCall.at >= now - timedelta(minutes=60),
                   PlatformCall.op == "set_stock")
            .group_by(PlatformCall.channel_id, PlatformCall.latency_ms)):
        out[cid][int(latency)] = int(n)
    return out


def _last_errors(session: Session, ids: list[int]) -> dict[int, dict[str, Any]]:
    """Each channel's latest failed call. The newest failure is found per channel inside the database (a
    correlated max, which reads the newest end of the id index), so old calls are not grouped in bulk."""
    newest = (select(func.max(PlatformCall.id)).where(PlatformCall.channel_id == Channel.id,
                                                      PlatformCall.ok.is_(False))
              .correlate(Channel).scalar_subquery())
    rows = session.execute(select(PlatformCall.channel_id, PlatformCall.at, PlatformCall.error)
                           .where(PlatformCall.id.in_(select(newest).where(Channel.id.in_(ids)))))
    return {cid: {"at": at, "message": error} for cid, at, error in rows}


def _views(session: Session, rows: Sequence[tuple[Channel, str | None]], now: datetime) -> list[ChannelSyncView]:
    """The views of these channels, given with their breaker state: four queries for any number of them."""
    ids = sorted(channel.id for channel, _ in rows)
    if not ids:
        return []
    listings, calls = _listings(session, ids), _calls(session, ids, now)
    latencies, errors = _latencies(session, ids, now), _last_errors(session, ids)
    out = []
    for channel, breaker in rows:
        seen = listings.get(channel.id, _Listings())
        c5, e5, c60, e60 = calls.get(channel.id, (0, 0, 0, 0))
        hist = latencies.get(channel.id, {})
        oldest_s = max(0.0, (now - seen.oldest).total_seconds()) if seen.oldest else 0.0
        health = Health(
            backlog=seen.backlog, oldest_pending_s=round(oldest_s, 3), calls_5m=c5, errors_5m=e5, calls_60m=c60,
            errors_60m=e60, latency_p50_ms=percentile(hist, 50), latency_p95_ms=percentile(hist, 95),
            breaker=breaker or "closed", last_error=errors.get(channel.id), listings=seen.count,
            failing=seen.failing)
        state = sync_state(health, enabled=channel.enabled, pushed=has_adapter(channel))
        out.append(ChannelSyncView(channel, health, state, seen.last_push))
    return out


def channels_health(session: Session, principal: Principal, now: datetime) -> list[ChannelSyncView]:
    """Every channel the caller sees with its health: five queries whatever the number of channels."""
    rows = session.execute(select(Channel, ChannelSync.breaker)
                           .outerjoin(ChannelSync, ChannelSync.channel_id == Channel.id).order_by(Channel.code))
    return _views(session, [(c, b) for c, b in rows if principal.sees_channel(c.code)], now)


def channel_sync(session: Session, channel: Channel, now: datetime) -> ChannelSyncView:
    """One channel's view (its page), read the same way as the dashboard's."""
    breaker = session.scalar(select(ChannelSync.breaker).where(ChannelSync.channel_id == channel.id))
    return _views(session, [(channel, breaker)], now)[0]
