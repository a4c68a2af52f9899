"""The audit trail of manual changes: who, when, before, after, why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from omnistock.domain.access import Principal
from omnistock.store.paging import Page, page_query
from omnistock.store.tables import AuditEntry, Location, Sku
from omnistock.store.types import utcnow


def record(session: Session, *, actor: str, action: str, sku_id: int | None = None,
           location_id: int | None = None, entity: str | None = None, before: dict[str, Any] | None = None,
           after: dict[str, Any] | None = None, reason: str | None = None) -> AuditEntry:
    entry = AuditEntry(actor=actor, action=action, sku_id=sku_id, location_id=location_id, entity=entity,
                       before=before, after=after, reason=reason, at=utcnow())
    session.add(entry)
    return entry


@dataclass(frozen=True)
class AuditView:
    id: int
    at: datetime
    actor: str
    action: str
    sku: str | None
    location: str | None
    entity: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str | None


def list_entries(session: Session, principal: Principal, *, sku: str | None = None, actor: str | None = None,
                 limit: int = 50, cursor: str | None = None) -> Page[AuditView]:
    stmt = (select(AuditEntry, Sku.code, Location.code)
            .outerjoin(Sku, Sku.id == AuditEntry.sku_id)
            .outerjoin(Location, Location.id == AuditEntry.location_id))
    if sku:
        stmt = stmt.where(Sku.code == sku)
    if actor:
        stmt = stmt.where(AuditEntry.actor == actor)
    if principal.locations is not None:
        # A store's token reads the trail of its own locations only.
        stmt = stmt.where(Location.code.in_(principal.locations))
    page = page_query(session, stmt, AuditEntry.id, limit=limit, cursor=cursor)
    return page.map(lambda row: AuditView(
        id=row[0].id, at=row[0].at, actor=row[0].actor, action=row[0].action, sku=row[1], location=row[2],
        entity=row[0].entity, before=row[0].before, after=row[0].after, reason=row[0].reason))
