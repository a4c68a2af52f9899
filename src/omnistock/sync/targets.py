"""What each listing should show now: availability, then the allocation policy across the SKU's channels,
then whole packs."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from omnistock.domain.allocation import (
    ChannelShare,
    Policy,
    allocate,
    effective_policy,
    listing_quantity,
    parse_policy,
)
from omnistock.services.availability import available_by_sku
from omnistock.store.tables import Channel, Order, OrderLine
from omnistock.store.types import utcnow
from omnistock.sync.tables import ChannelSync, Listing

SALES_WINDOW = timedelta(hours=1)


def _policy(raw: Mapping[str, object] | None) -> Policy | None:
    return parse_policy(raw) if raw else None


def sales_rates(session: Session, sku_ids: Iterable[int], since: datetime) -> dict[tuple[int, int], float]:
    """Units ordered per (SKU, channel) since a time: the recent sales rate that weighs partition quotas."""
    ids = list(set(sku_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(OrderLine.sku_id, Order.channel_id, func.sum(OrderLine.qty))
        .join(Order, Order.id == OrderLine.order_id)
        .where(OrderLine.sku_id.in_(ids), Order.created_at >= since)
        .group_by(OrderLine.sku_id, Order.channel_id))
    return {(sid, cid): float(total or 0) for sid, cid, total in rows}


def targets_for(session: Session, listings: Iterable[Listing], now: datetime | None = None) -> dict[int, int]:
    """The quantity each given listing should show now, allocating across every channel of its SKU."""
    wanted = list(listings)
    sku_ids = {lst.sku_id for lst in wanted}
    if not sku_ids:
        return {}
    now = now or utcnow()
    available = available_by_sku(session, sku_ids)
    # Every listing of these SKUs on an enabled channel takes part in the allocation, not only the dirty ones.
    rows = session.execute(
        select(Listing.sku_id, Listing.channel_id, Listing.policy, Channel.code, ChannelSync.policy)
        .join(Channel, Channel.id == Listing.channel_id)
        .outerjoin(ChannelSync, ChannelSync.channel_id == Channel.id)
        .where(Listing.sku_id.in_(sku_ids), Channel.enabled.is_(True))).all()
    rates = sales_rates(session, sku_ids, now - SALES_WINDOW)
    shares: dict[int, dict[int, ChannelShare]] = defaultdict(dict)
    for sid, cid, sku_policy, code, channel_policy in rows:
        if cid in shares[sid]:
            continue  # one share per channel, whatever the number of listings (pack sizes) it has
        policy = effective_policy(_policy(channel_policy), _policy(sku_policy))
        shares[sid][cid] = ChannelShare(code, policy, rates.get((sid, cid), 0.0))
    per_channel: dict[int, dict[str, int]] = {
        sid: allocate(available.get(sid, 0), list(shares[sid].values())) for sid in sku_ids}
    codes = {cid: share.channel for sid in shares for cid, share in shares[sid].items()}
    out: dict[int, int] = {}
    for lst in wanted:
        code = codes.get(lst.channel_id)
        units = per_channel[lst.sku_id].get(code, 0) if code else 0
        out[lst.id] = listing_quantity(units, lst.pack_size)
    return out
