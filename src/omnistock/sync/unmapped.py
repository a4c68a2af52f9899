"""Platform items seen in orders or stock reads that map to no SKU: reported so that the merchant maps them,
never silently dropped (intake fills the table; a new listing for the item clears it)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from omnistock.domain.access import Principal
from omnistock.services.lookup import channel_by_code
from omnistock.store.paging import Page, page_query
from omnistock.sync.tables import UnmappedItem


def list_unmapped(session: Session, channel_code: str, principal: Principal, *, limit: int = 50,
                  cursor: str | None = None) -> Page[Any]:
    channel = channel_by_code(session, channel_code, principal=principal)
    stmt = select(UnmappedItem).where(UnmappedItem.channel_id == channel.id)
    return page_query(session, stmt, UnmappedItem.id, limit=limit, cursor=cursor)
