"""What a channel's page shows besides its health: the channel policy, the per-SKU overrides, and the
platform items that map to no SKU yet."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from omnistock.store.tables import Channel, Sku
from omnistock.sync.tables import ChannelSync, Listing, UnmappedItem


def channel_policy(session: Session, channel: Channel) -> dict[str, Any]:
    state = session.get(ChannelSync, channel.id)
    return dict(state.policy) if state is not None and state.policy else {}


def overrides(session: Session, channel: Channel) -> list[tuple[str, dict[str, Any]]]:
    """(SKU code, policy) of each SKU with its own policy on this channel."""
    rows = session.execute(select(Sku.code, Listing.policy).join(Listing, Listing.sku_id == Sku.id)
                           .where(Listing.channel_id == channel.id, Listing.policy.is_not(None))
                           .order_by(Sku.code)).all()
    seen: dict[str, dict[str, Any]] = {}
    for code, policy in rows:
        if policy:
            seen.setdefault(code, policy)
    return list(seen.items())


def unmapped(session: Session, channel: Channel, *, limit: int = 50) -> list[UnmappedItem]:
    return list(session.scalars(select(UnmappedItem).where(UnmappedItem.channel_id == channel.id)
                                .order_by(UnmappedItem.last_seen_at.desc()).limit(limit)))
