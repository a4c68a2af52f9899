"""Proposing listings: read every item the platform shows (the adapter's paged stock read) and match each
unmapped one to a SKU. Nothing is written; the merchant reviews the proposals and imports them."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sqlalchemy import select

from omnistock.channels.base import ChannelAdapter, PlatformItem, StockPage
from omnistock.config import Settings
from omnistock.domain.access import Principal
from omnistock.errors import ChannelError, Invalid, PlatformThrottled
from omnistock.services.lookup import channel_by_code
from omnistock.store.db import Database
from omnistock.store.tables import Sku
from omnistock.sync.adapters import adapter_for, has_adapter
from omnistock.sync.matching import Candidate, Catalogue, CatalogueEntry, Match
from omnistock.sync.tables import Listing

MAX_PAGES = 2_000  # a platform whose cursor never ends must not keep us reading forever


@dataclass
class Proposals:
    channel: str
    items_read: int = 0
    already_mapped: int = 0
    matches: list[Match] = field(default_factory=list)

    @property
    def proposed(self) -> list[Match]:
        return [m for m in self.matches if m.sku is not None]

    @property
    def unmatched(self) -> list[Match]:
        return [m for m in self.matches if m.sku is None]


def read_platform_items(db: Database, settings: Settings, channel_code: str,
                        principal: Principal) -> list[PlatformItem]:
    """Every item of the platform, page after page, outside any transaction (platform calls are slow)."""
    with db.reading() as session:
        channel = channel_by_code(session, channel_code, principal=principal)
        if not has_adapter(channel):
            raise Invalid(f"channel {channel.code!r} ({channel.kind}) has no platform to read items from",
                          field="channel")
        adapter = adapter_for(channel, settings)
    items: list[PlatformItem] = []
    cursor: str | None = None
    seen: set[str] = set()
    for _ in range(MAX_PAGES):
        page = _page(adapter, cursor)
        items.extend(page.items)
        cursor = page.next_cursor
        if cursor is None or cursor in seen:
            return items
        seen.add(cursor)
    raise ChannelError(f"{channel_code}: the platform still had more pages after {MAX_PAGES}")


def _page(adapter: ChannelAdapter, cursor: str | None) -> StockPage:
    for attempt in range(3):
        try:
            return adapter.fetch_stock(cursor)
        except ChannelError as exc:
            if not exc.retryable or attempt == 2:
                raise
            wait = exc.retry_after if isinstance(exc, PlatformThrottled) else 1.0
            time.sleep(min(wait, 10.0))  # a throttled read waits as told, then asks for the page again
    raise AssertionError("unreachable")


def propose(db: Database, settings: Settings, channel_code: str, principal: Principal) -> Proposals:
    items = read_platform_items(db, settings, channel_code, principal)
    with db.reading() as session:
        channel = channel_by_code(session, channel_code, principal=principal)
        mapped = set(session.scalars(select(Listing.external_id).where(Listing.channel_id == channel.id)))
        catalogue = Catalogue(CatalogueEntry(code, name, barcode) for code, name, barcode in session.execute(
            select(Sku.code, Sku.name, Sku.barcode).where(Sku.active.is_(True))))
    out = Proposals(channel.code, items_read=len(items))
    for item in {i.external_id: i for i in items}.values():  # an item read twice is proposed once
        if item.external_id in mapped:
            out.already_mapped += 1
            continue
        out.matches.append(catalogue.match(Candidate(item.external_id, item.external_sku, item.title,
                                                     item.barcode)))
    return out
