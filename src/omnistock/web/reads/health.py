"""Sync state of each channel as the dashboard shows it, from `sync.health.channel_health`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from omnistock.domain.access import Principal
from omnistock.services.channels import list_channels
from omnistock.store.tables import Channel
from omnistock.sync.adapters import has_adapter
from omnistock.sync.health import Health, channel_health
from omnistock.sync.tables import Listing

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


def channels_health(session: Session, principal: Principal, now: datetime) -> list[ChannelSyncView]:
    """Every channel the caller sees with its health (about eight small queries per channel)."""
    last_push = dict(session.execute(select(Listing.channel_id, func.max(Listing.last_pushed_at))
                                     .group_by(Listing.channel_id)).all())
    out = []
    for channel in list_channels(session):
        if not principal.sees_channel(channel.code):
            continue
        health = channel_health(session, channel, now)
        state = sync_state(health, enabled=channel.enabled, pushed=has_adapter(channel))
        out.append(ChannelSyncView(channel, health, state, last_push.get(channel.id)))
    return out
