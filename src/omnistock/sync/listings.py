"""Listings: which platform item shows which of our SKUs, in what pack size."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, lazyload

from omnistock.domain.access import Principal
from omnistock.errors import Conflict, Invalid
from omnistock.services import audit
from omnistock.services.lookup import channel_by_code, sku_by_code
from omnistock.store.paging import Page, page_query
from omnistock.store.tables import Channel, Sku
from omnistock.store.types import utcnow
from omnistock.sync.tables import Listing, UnmappedItem


@dataclass(frozen=True)
class ListingSpec:
    sku: str
    external_id: str
    external_sku: str | None = None
    pack_size: int = 1
    extra: dict[str, Any] = field(default_factory=dict)


def create_listing(session: Session, channel_code: str, spec: ListingSpec, principal: Principal) -> Listing:
    channel = channel_by_code(session, channel_code, principal=principal)
    if not spec.external_id.strip():
        raise Invalid("external_id cannot be empty", field="external_id")
    if spec.pack_size < 1:
        raise Invalid("pack_size must be at least 1", field="pack_size")
    sku = sku_by_code(session, spec.sku)
    taken = session.scalar(select(Listing).where(Listing.channel_id == channel.id,
                                                 Listing.external_id == spec.external_id))
    if taken is not None:
        raise Conflict(f"{channel.code} item {spec.external_id!r} is already mapped", field="external_id")
    listing = Listing(channel_id=channel.id, sku_id=sku.id, external_id=spec.external_id.strip(),
                      external_sku=spec.external_sku, pack_size=spec.pack_size, extra=dict(spec.extra),
                      dirty=True)  # a new mapping is a stock change: push it at once
    session.add(listing)
    session.execute(delete(UnmappedItem).where(UnmappedItem.channel_id == channel.id,
                                               UnmappedItem.external_id == listing.external_id))
    session.flush()
    audit.record(session, actor=principal.name, action="listing.create", sku_id=sku.id,
                 entity=f"listing:{channel.code}/{listing.external_id}",
                 after={"channel": channel.code, "external_id": listing.external_id, "sku": sku.code,
                        "pack_size": listing.pack_size})
    return listing


def list_listings(session: Session, channel_code: str, principal: Principal, *, limit: int = 50,
                  cursor: str | None = None) -> Page[Any]:
    channel = channel_by_code(session, channel_code, principal=principal)
    stmt = (select(Listing, Sku.code).join(Sku, Sku.id == Listing.sku_id)
            .where(Listing.channel_id == channel.id))
    return page_query(session, stmt, Listing.id, limit=limit, cursor=cursor)


def resolve(session: Session, channel: Channel, external_id: str,
            external_sku: str | None) -> tuple[Sku, int] | None:
    """Our SKU and pack size for a platform item: by listing, else by the merchant's own code on the platform
    when it equals a SKU code (many shops use their SKU code as the outer id)."""
    # Components load only if asked for (a bundle's): this runs for every line of every platform order.
    row = session.execute(select(Sku, Listing.pack_size).join(Listing, Listing.sku_id == Sku.id).where(
        Listing.channel_id == channel.id, Listing.external_id == external_id)
        .options(lazyload(Sku.components))).first()
    if row is not None:
        return row[0], int(row[1])
    if external_sku:
        sku = session.scalar(select(Sku).where(Sku.code == external_sku))
        if sku is not None:
            return sku, 1
    return None


def note_unmapped(session: Session, channel: Channel, external_id: str, external_sku: str | None,
                  seen_in: str) -> None:
    item = session.scalar(select(UnmappedItem).where(UnmappedItem.channel_id == channel.id,
                                                     UnmappedItem.external_id == external_id))
    if item is None:
        session.add(UnmappedItem(channel_id=channel.id, external_id=external_id, external_sku=external_sku,
                                 seen_in=seen_in))
    else:
        item.times_seen += 1
        item.last_seen_at = utcnow()
