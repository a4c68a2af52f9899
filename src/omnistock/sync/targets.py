"""What each listing should show now: availability, then the allocation policy across the SKU's channels,
then whole packs.

A partitioned SKU (allocation's `partition` mode) differs in two ways: the units split are the available ones
less the units of its held orders (sold on a platform already, though not reserved), and a channel with several
listings of the SKU (pack sizes) splits its quota among them, so that no two copies offer the same units."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fractions import Fraction

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from omnistock.domain.allocation import (
    ChannelShare,
    Policy,
    allocate,
    effective_policy,
    is_partitioned,
    largest_remainder,
    listing_quantity,
    parse_policy,
)
from omnistock.services.availability import available_by_sku
from omnistock.store.tables import Channel, Order, OrderLine
from omnistock.store.types import utcnow
from omnistock.sync.tables import ChannelSync, Listing

SALES_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class SkuAllocation:
    """One SKU's allocation: `available` is what was split, `channel_units` each channel's share (channel id),
    `listing_units` each listing's (listing id) for every listing of the SKU on an enabled channel."""

    available: int
    partitioned: bool
    channel_units: Mapping[int, int] = field(default_factory=dict)
    listing_units: Mapping[int, int] = field(default_factory=dict)

    def units_for(self, listing_id: int, channel_id: int) -> int:
        if listing_id in self.listing_units:
            return self.listing_units[listing_id]
        # a listing the allocation did not see (its channel is disabled): the channel's share, if any
        return 0 if self.partitioned else self.channel_units.get(channel_id, 0)


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


def held_units(session: Session, sku_ids: Iterable[int]) -> dict[int, int]:
    """Units of held orders per SKU: sold on a platform, not reserved, so not to be offered again."""
    ids = list(set(sku_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(OrderLine.sku_id, func.sum(OrderLine.qty)).join(Order, Order.id == OrderLine.order_id)
        .where(OrderLine.sku_id.in_(ids), Order.status == "held").group_by(OrderLine.sku_id))
    return {sid: int(total or 0) for sid, total in rows}


def allocations(session: Session, sku_ids: Iterable[int], now: datetime | None = None) -> dict[int, SkuAllocation]:
    """The allocation of each SKU across every listing of it on an enabled channel."""
    ids = set(sku_ids)
    if not ids:
        return {}
    now = now or utcnow()
    available = available_by_sku(session, ids)
    rows = session.execute(
        select(Listing.id, Listing.sku_id, Listing.channel_id, Listing.policy, Channel.code, ChannelSync.policy)
        .join(Channel, Channel.id == Listing.channel_id)
        .outerjoin(ChannelSync, ChannelSync.channel_id == Channel.id)
        .where(Listing.sku_id.in_(ids), Channel.enabled.is_(True))).all()
    rates = sales_rates(session, ids, now - SALES_WINDOW)
    shares: dict[int, dict[int, ChannelShare]] = defaultdict(dict)
    listings_of: dict[tuple[int, int], list[int]] = defaultdict(list)
    for lid, sid, cid, sku_policy, code, channel_policy in rows:
        listings_of[(sid, cid)].append(lid)
        if cid in shares[sid]:
            continue  # one share per channel, whatever the number of listings (pack sizes) it has
        policy = effective_policy(_policy(channel_policy), _policy(sku_policy))
        shares[sid][cid] = ChannelShare(code, policy, rates.get((sid, cid), 0.0))
    partitioned = {sid for sid in ids if is_partitioned(available.get(sid, 0), shares[sid].values())}
    held = held_units(session, partitioned) if partitioned else {}
    out: dict[int, SkuAllocation] = {}
    for sid in ids:
        units = max(available.get(sid, 0) - held.get(sid, 0), 0)
        by_code = allocate(units, list(shares[sid].values()))
        per_channel = {cid: by_code[share.channel] for cid, share in shares[sid].items()}
        per_listing: dict[int, int] = {}
        for cid, amount in per_channel.items():
            mine = sorted(listings_of[(sid, cid)])
            if sid in partitioned and len(mine) > 1:
                split = largest_remainder(amount, {str(lid): Fraction(1) for lid in mine})
                per_listing.update({int(lid): share for lid, share in split.items()})
            else:
                per_listing.update(dict.fromkeys(mine, amount))
        out[sid] = SkuAllocation(units, sid in partitioned, per_channel, per_listing)
    return out


def targets_for(session: Session, listings: Iterable[Listing], now: datetime | None = None) -> dict[int, int]:
    """The quantity (whole packs) each given listing should show now, allocating across every channel of its
    SKU. Reads only `id`, `sku_id`, `channel_id` and `pack_size` of the listings."""
    wanted = list(listings)
    plan = allocations(session, {lst.sku_id for lst in wanted}, now)
    return {lst.id: listing_quantity(plan[lst.sku_id].units_for(lst.id, lst.channel_id), lst.pack_size)
            for lst in wanted}
