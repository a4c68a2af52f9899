"""Row locking for stock levels. Rows are always locked in (sku_id, location_id) order so that two
transactions touching the same SKUs can never deadlock (as Saleor does)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from omnistock.store.tables import Level, Location

Key = tuple[int, int]
# SKUs whose levels a transaction changed with Core statements (the ORM's changes are seen in its flushes):
# the sync engine marks their listings before the transaction commits (`omnistock.sync.dirty`).
CHANGED_SKUS = "omnistock_changed_skus"


def note_changed(session: Session, sku_ids: Iterable[int]) -> None:
    session.info.setdefault(CHANGED_SKUS, set()).update(sku_ids)


def ensure_levels(session: Session, keys: Iterable[Key]) -> None:
    """Create missing level rows (0, 0) without racing another transaction doing the same."""
    rows = [{"sku_id": s, "location_id": loc, "on_hand": 0, "reserved": 0} for s, loc in sorted(set(keys))]
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(pg_insert(Level).values(rows).on_conflict_do_nothing())
    else:
        session.execute(sqlite_insert(Level).values(rows).on_conflict_do_nothing())


def lock_levels(session: Session, keys: Iterable[Key]) -> dict[Key, Level]:
    """The level rows for exactly these keys, created if missing, locked FOR UPDATE in key order."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    ensure_levels(session, wanted)
    stmt = (select(Level).where(tuple_(Level.sku_id, Level.location_id).in_(wanted))
            .order_by(Level.sku_id, Level.location_id).with_for_update())
    return {(lv.sku_id, lv.location_id): lv for lv in session.scalars(stmt)}


def lock_sellable_levels(session: Session, sku_ids: Iterable[int]) -> list[tuple[Level, Location]]:
    """Every existing level row of these SKUs at sellable locations, locked in key order."""
    ids = sorted(set(sku_ids))
    if not ids:
        return []
    stmt = (select(Level, Location).join(Location, Location.id == Level.location_id)
            .where(Level.sku_id.in_(ids), Location.sellable.is_(True))
            .order_by(Level.sku_id, Level.location_id).with_for_update(of=Level))
    return [(lv, loc) for lv, loc in session.execute(stmt)]
