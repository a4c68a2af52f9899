"""Feeds: offline stores and distributors without an API. Their counts become stocktake moves at the feed's
location, their sales become orders (taken in like any platform's, de-duplicated by sale id), and they read
back what each of their listings should show now.

A feed is applied whole or not at all: every row is checked against the catalogue first, and any error
refuses the feed with every bad row named."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from omnistock.channels.base import OrderEvent, OrderEventKind, PlatformOrderLine
from omnistock.domain.access import Permission, Principal
from omnistock.domain.stock import MoveKind
from omnistock.errors import Forbidden, Invalid
from omnistock.onboarding.tabular import RowErrors
from omnistock.services import ledger, orders
from omnistock.services.lookup import channel_by_code
from omnistock.store.tables import Channel, Sku
from omnistock.sync import intake
from omnistock.sync.channel_settings import feed_location
from omnistock.sync.feed_format import CREATING, FeedBatch, ItemRef, Sale, SaleStatus, Where, sale_events_order
from omnistock.sync.listings import resolve
from omnistock.sync.tables import Listing
from omnistock.sync.targets import targets_for

SKU_LINE_PREFIX = "sku:"  # a sale line named by our SKU code rather than by the feed's item code


@dataclass(frozen=True)
class CountApplied:
    sku: str
    location: str
    counted: int
    change: int


@dataclass(frozen=True)
class SaleApplied:
    sale_id: str
    status: str
    results: list[str]
    order_id: int | None
    order_status: str | None  # "held" when the sale could not be taken from the stock on record


@dataclass(frozen=True)
class FeedReport:
    channel: str
    location: str
    counts: list[CountApplied]
    sales: list[SaleApplied]


@dataclass(frozen=True)
class Allocation:
    external_id: str
    sku: str
    pack_size: int
    quantity: int


def feed_channel(session: Session, code: str, principal: Principal) -> Channel:
    channel = channel_by_code(session, code, principal=principal)
    if channel.kind != "feed":
        raise Invalid(f"channel {code!r} is a {channel.kind} channel, not a feed", field="channel")
    return channel


def apply_feed(session: Session, code: str, batch: FeedBatch, principal: Principal) -> FeedReport:
    """Check every row, then take the sales in and post the counts, in the caller's transaction."""
    channel = feed_channel(session, code, principal)
    if batch.sales and not principal.can(Permission.ORDERS_WRITE):
        raise Forbidden(f"role {principal.role.value} may not send sales (needs orders:write)")
    location = feed_location(channel.settings)
    errors = RowErrors(list(batch.errors.items))  # the format's errors first, then the catalogue's
    units, skus = _resolve_counts(session, channel, batch, location, errors)
    _check_sales(session, channel, batch.sales, errors)
    errors.raise_if_any("the feed was refused")
    sales = [_take_sale(session, channel, sale, location) for sale in sale_events_order(batch.sales)]
    # Counts last: a count is what is on the shelf after the sales the same feed reports.
    counts = []
    for sku_id in sorted(units):  # one lock order for every feed, so two feeds never deadlock
        spec = ledger.MoveSpec(sku=skus[sku_id], location=location, kind=MoveKind.COUNT, qty=units[sku_id],
                               reason=f"count from feed {channel.code}", reference=f"feed:{channel.code}")
        result = ledger.post_move(session, spec, principal)
        counts.append(CountApplied(skus[sku_id], location, units[sku_id], result.moves[0].qty))
    return FeedReport(channel.code, location, counts, sales)


# --- checking ----------------------------------------------------------------------------------


def _resolve_counts(session: Session, channel: Channel, batch: FeedBatch, location: str,
                    errors: RowErrors) -> tuple[dict[int, int], dict[int, str]]:
    """Units counted per SKU id (item codes times their pack size, summed); bad rows go to `errors`."""
    units: dict[int, int] = defaultdict(int)
    codes: dict[int, str] = {}
    for line in batch.counts:
        if line.location and line.location != location:
            errors.add(line.where.row, line.where.field("location"),
                       f"this feed counts stock at {location} only, not at {line.location}")
            continue
        found = _resolve(session, channel, line.item, line.where, errors)
        if found is None:
            continue
        sku, pack = found
        if sku.is_bundle:
            errors.add(line.where.row, _item_field(line.item, line.where),
                       f"{sku.code!r} is a bundle; count its components instead")
            continue
        units[sku.id] += line.qty * pack
        codes[sku.id] = sku.code
    return dict(units), codes


def _check_sales(session: Session, channel: Channel, sales: Sequence[Sale], errors: RowErrors) -> None:
    for sale in sales:
        for line in sale.lines:
            _resolve(session, channel, line.item, line.where, errors)


def _item_field(item: ItemRef, where: Where) -> str:
    return where.field("sku" if item.sku else "external_id")


def _resolve(session: Session, channel: Channel, item: ItemRef, where: Where,
             errors: RowErrors) -> tuple[Sku, int] | None:
    """Our SKU and the units one of the item stands for."""
    if item.sku:
        sku = session.scalar(select(Sku).where(Sku.code == item.sku))
        if sku is None:
            errors.add(where.row, where.field("sku"), f"unknown SKU {item.sku!r}")
            return None
        return sku, 1
    assert item.external_id is not None
    found = resolve(session, channel, item.external_id, item.external_id)  # the rule intake follows
    if found is None:
        errors.add(where.row, where.field("external_id"),
                   f"item {item.external_id!r} is not mapped to a SKU on {channel.code} (add a listing first)")
    return found


# --- sales -------------------------------------------------------------------------------------


def _take_sale(session: Session, channel: Channel, sale: Sale, location: str) -> SaleApplied:
    events = sale_events(sale)
    # A counter sale (sold) takes its units from the feed's own location; an open sale reserves anywhere.
    reserve_at = location if sale.status is SaleStatus.SOLD else None
    outcomes = intake.ingest(session, channel, events, "feed", reserve_at=reserve_at)
    order = orders.find_order(session, channel.id, sale.sale_id)  # also when every event was a duplicate
    return SaleApplied(sale.sale_id, sale.status.value, [o.result for o in outcomes],
                       order.id if order else None, order.status if order else None)


def sale_events(sale: Sale) -> list[OrderEvent]:
    """The order events a sale stands for; their ids make a feed sent twice have no second effect."""
    base = f"feed:{sale.sale_id}"
    raw = {"sale_id": sale.sale_id, "status": sale.status.value,
           "sold_at": sale.sold_at.isoformat() if sale.sold_at else None,
           "lines": [{"sku": ln.item.sku, "external_id": ln.item.external_id, "qty": ln.qty,
                      "unit_price": str(ln.unit_price) if ln.unit_price is not None else None}
                     for ln in sale.lines]}
    if sale.status in CREATING:
        lines = [PlatformOrderLine(external_id=_line_id(ln.item), qty=ln.qty,
                                   external_sku=ln.item.sku or ln.item.external_id, unit_price=ln.unit_price)
                 for ln in sale.lines]
        created = OrderEvent(OrderEventKind.CREATED, sale.sale_id, lines, event_id=base,
                             platform_status=sale.status.value, currency=sale.currency,
                             occurred_at=sale.sold_at, raw=raw)
        if sale.status is SaleStatus.OPEN:
            return [created]
        shipped = OrderEvent(OrderEventKind.SHIPPED, sale.sale_id, [], event_id=f"{base}:shipped",
                             platform_status="sold", occurred_at=sale.sold_at, raw=raw)
        return [created, shipped]
    kind = OrderEventKind.CANCELLED if sale.status is SaleStatus.CANCELLED else OrderEventKind.REFUNDED
    return [OrderEvent(kind, sale.sale_id, [], event_id=f"{base}:{sale.status.value}",
                       platform_status=sale.status.value, occurred_at=sale.sold_at, raw=raw)]


def _line_id(item: ItemRef) -> str:
    # A line named by SKU code must not be taken for a listing whose item code happens to equal it.
    return f"{SKU_LINE_PREFIX}{item.sku}" if item.sku else str(item.external_id)


# --- allocations -------------------------------------------------------------------------------


def allocations(session: Session, code: str, principal: Principal) -> list[Allocation]:
    """What each listing of the feed should show now, by the same allocation the platforms are pushed."""
    channel = feed_channel(session, code, principal)
    rows = session.execute(select(Listing, Sku.code).join(Sku, Sku.id == Listing.sku_id)
                           .where(Listing.channel_id == channel.id).order_by(Listing.external_id)).all()
    targets = targets_for(session, [listing for listing, _ in rows])
    return [Allocation(listing.external_id, sku, listing.pack_size, targets.get(listing.id, 0))
            for listing, sku in rows]


ALLOCATION_HEADER = ("external_id", "sku", "pack_size", "quantity")


def allocations_csv(items: Sequence[Allocation]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(ALLOCATION_HEADER)
    for a in items:
        writer.writerow((a.external_id, a.sku, a.pack_size, a.quantity))
    return out.getvalue()
