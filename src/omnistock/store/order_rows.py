"""The rows of a new order, read and written with Core statements: taking an order in is the hot path of
every sale (a flash sale is thousands of them a minute on one SKU), and the unit of work's flushes cost
several times the statements themselves. Each function is one statement; the service decides what to write.

The ORM objects callers and hooks use are made from the same values (`omnistock.store.attach`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from omnistock.store.attach import attached, forget_columns
from omnistock.store.levels import note_changed
from omnistock.store.tables import (
    BundleComponent,
    Channel,
    Level,
    Location,
    Order,
    OrderEvent,
    OrderLine,
    Reservation,
    Sku,
)

_SKU_COLUMNS = list(Sku.__table__.columns)
_INSERT_ORDER = insert(Order).returning(Order.id)
_INSERT_LINES = insert(OrderLine).returning(OrderLine.id, sort_by_parameter_order=True)
# Built once: constructing a statement costs more Python than executing a cached one.
_CHANNEL_AND_ORDER = (select(Channel, Order.id)
                      .outerjoin(Order, (Order.channel_id == Channel.id) & (Order.external_id == bindparam("k_ext")))
                      .where(Channel.code == bindparam("k_channel")))
_SKUS = select(*_SKU_COLUMNS).where(Sku.code.in_(bindparam("k_codes", expanding=True)))
_LOCK_SELLABLE = (select(Level.sku_id, Level.location_id, Location.code, Level.on_hand, Level.reserved,
                         Level.batched)
                  .join(Location, Location.id == Level.location_id)
                  .where(Level.sku_id.in_(bindparam("k_ids", expanding=True)), Location.sellable.is_(True))
                  .order_by(Level.sku_id, Level.location_id).with_for_update(of=Level))
_INSERT_EVENTS = insert(OrderEvent)
_INSERT_RESERVATIONS = insert(Reservation)
_INSERT_RESERVATIONS_RETURNING = insert(Reservation).returning(Reservation.id, sort_by_parameter_order=True)
_ADD_RESERVED = (update(Level).where(Level.sku_id == bindparam("k_sku"), Level.location_id == bindparam("k_loc"))
                 .values(reserved=Level.reserved + bindparam("k_qty")))


@dataclass(frozen=True)
class LockedLevel:
    sku_id: int
    location_id: int
    location_code: str
    on_hand: int
    reserved: int
    batched: bool  # the level holds batches: the order takes them first expiring, first out


def channel_and_order(session: Session, channel_code: str, external_id: str) -> tuple[Channel | None, int | None]:
    """The channel, and the id of an order it already has under this external id (one round trip)."""
    row = session.execute(_CHANNEL_AND_ORDER, {"k_ext": external_id, "k_channel": channel_code}).first()
    return (None, None) if row is None else (row[0], row[1])


def skus_by_code(session: Session, codes: Iterable[str]) -> dict[str, Sku]:
    """SKUs by their own codes (one query; a bundle's components in a second), as session objects. Through the
    session, so that SKUs it has not flushed yet are found."""
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    rows = session.execute(_SKUS, {"k_codes": wanted}).mappings().all()
    bundles = [r["id"] for r in rows if r["is_bundle"]]
    parts: dict[int, list[BundleComponent]] = {r["id"]: [] for r in rows}
    if bundles:
        for bc in session.scalars(select(BundleComponent).where(BundleComponent.bundle_id.in_(bundles))
                                  .order_by(BundleComponent.bundle_id, BundleComponent.component_id)):
            parts[bc.bundle_id].append(bc)
    return {r["code"]: attached(session, Sku, dict(r), committed={"components": parts[r["id"]]}) for r in rows}


def lock_sellable(session: Session, sku_ids: Iterable[int]) -> list[LockedLevel]:
    """Every level of these SKUs at a sellable location, locked FOR UPDATE in (sku, location) order. Through
    the session, so that level changes it still holds are flushed first (`add_reserved` adds to the rows)."""
    ids = sorted(set(sku_ids))
    if not ids:
        return []
    return [LockedLevel(*row) for row in session.execute(_LOCK_SELLABLE, {"k_ids": ids})]


def insert_order(session: Session, values: Mapping[str, Any]) -> int:
    """Insert the order row; the unique (channel, external id) index decides a race here (IntegrityError)."""
    return int(session.connection().execute(_INSERT_ORDER, dict(values)).scalar_one())


def insert_lines(session: Session, lines: Sequence[Mapping[str, Any]]) -> list[int]:
    """Insert the order's lines; their ids, in the order given."""
    if not lines:
        return []
    return [int(i) for i in session.connection().execute(_INSERT_LINES, [dict(ln) for ln in lines]).scalars()]


def insert_events(session: Session, events: Sequence[Mapping[str, Any]]) -> None:
    session.connection().execute(_INSERT_EVENTS, [dict(e) for e in events])


def insert_reservations(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        session.connection().execute(_INSERT_RESERVATIONS, [dict(r) for r in rows])


def insert_reservations_returning(session: Session, rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """Insert reservations and return their ids in the order given: for orders taking batches, whose batch
    parts name their reservation (the others need no ids: plain executemany is the drivers' fast path)."""
    if not rows:
        return []
    return [int(i) for i in session.connection().execute(_INSERT_RESERVATIONS_RETURNING,
                                                         [dict(r) for r in rows]).scalars()]


def add_reserved(session: Session, taken: Mapping[tuple[int, int], int]) -> None:
    """Add reserved units to locked levels, (sku_id, location_id) -> units; objects the session holds for
    these levels read the new values, and the SKUs are noted as changed (their listings need a push)."""
    if not taken:
        return
    session.connection().execute(_ADD_RESERVED, [{"k_sku": s, "k_loc": loc, "k_qty": q}
                                                 for (s, loc), q in sorted(taken.items())])
    forget_columns(session, Level, taken, "reserved")
    note_changed(session, {sku_id for sku_id, _ in taken})


def hold_new_order(session: Session, order_id: int, reason: str, now: datetime) -> None:
    """The order was written as reserved and could not be: it is held and its lines reserve nothing."""
    conn = session.connection()
    conn.execute(update(Order).where(Order.id == order_id).values(status="held", hold_reason=reason, updated_at=now))
    conn.execute(update(OrderLine).where(OrderLine.order_id == order_id).values(reserved=0))
