"""What each listing should show now: availability, then the allocation policy across the SKU's channels,
then whole packs.

A partitioned SKU (allocation's `partition` mode) differs in two ways: the units split are the available ones
less the units of its held orders (sold on a platform already, though not reserved), and a channel with several
listings of the SKU (pack sizes) splits its quota among them, so that no two copies offer the same units.

A feature may let some channels sell beyond the available stock (`incoming_providers`: pre-sale of on-order
units, omnistock.money): those channels are shown their share of the available units plus a share of the
incoming ones, split disjointly among them while the SKU is partitioned."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
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
    partition_weights,
)
from omnistock.services.availability import available_by_sku
from omnistock.store.tables import Channel, Order, OrderLine
from omnistock.store.types import utcnow
from omnistock.sync.tables import ChannelSync, Listing

SALES_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class Incoming:
    """Units of a SKU some channels may sell beyond its available stock: `units` offered to `channels` (ids),
    and `overdrawn` units already promised beyond them, taken off the available units every channel sees.
    `held` is how many units of the SKU's held orders the provider accounts for itself (orders waiting for
    the incoming units): a partitioned SKU does not take them off its available units a second time."""

    units: int
    channels: frozenset[int]
    overdrawn: int = 0
    held: int = 0


# Features that let channels sell more than the available stock register a provider here; it answers, for
# some of the given SKU ids, their Incoming. omnistock.money registers pre-sale of on-order stock.
incoming_providers: list[Callable[[Session, set[int]], Mapping[int, Incoming]]] = []


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


def incoming(session: Session, sku_ids: set[int]) -> dict[int, Incoming]:
    out: dict[int, Incoming] = {}
    for provider in incoming_providers:
        out.update(provider(session, sku_ids))
    return out


def _with_incoming(units: int, more: Incoming, shares: Mapping[int, ChannelShare], per_channel: dict[int, int],
                   partitioned: bool) -> int:
    """Add the incoming units to the shares of the channels that may sell them; returns the units split in
    all. Partitioned, the incoming units are split disjointly too; otherwise those channels are allocated as
    if the incoming units were available (their buffer, percentage and cap apply once, to the whole)."""
    mine = {cid: share for cid, share in shares.items() if cid in more.channels}
    if not mine or more.units <= 0:
        return units
    if partitioned:
        split = largest_remainder(more.units, partition_weights(mine.values()))
        for cid, share in mine.items():
            per_channel[cid] += split[share.channel]
        return units + sum(split.values())
    wider = allocate(units + more.units, list(shares.values()))
    for cid, share in mine.items():
        per_channel[cid] = max(per_channel[cid], wider[share.channel])
    return units + more.units


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
    extra = incoming(session, ids)
    for sid, more in extra.items():
        if more.overdrawn:
            available[sid] = max(available.get(sid, 0) - more.overdrawn, 0)
    partitioned = {sid for sid in ids if is_partitioned(available.get(sid, 0), shares[sid].values())}
    held = held_units(session, partitioned) if partitioned else {}
    out: dict[int, SkuAllocation] = {}
    for sid in ids:
        waiting = extra[sid].held if sid in extra else 0
        units = max(available.get(sid, 0) - max(held.get(sid, 0) - waiting, 0), 0)
        by_code = allocate(units, list(shares[sid].values()))
        per_channel = {cid: by_code[share.channel] for cid, share in shares[sid].items()}
        if sid in extra:
            units = _with_incoming(units, extra[sid], shares[sid], per_channel, sid in partitioned)
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
