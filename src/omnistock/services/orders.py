"""Orders: taken in once per channel and external id, reserved at once in full or held, then shipped,
cancelled or returned. Every state change is an order event, in the same transaction as the stock.

At a level holding batches a reservation takes the earliest-expiring sellable batch first (FEFO), and the
shipment takes exactly the units reserved out of those batches (`omnistock.services.batches`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.orm import Session

from omnistock.domain.access import Principal
from omnistock.domain.batches import Piece, pieces_of, sellable_view, split_takes
from omnistock.domain.stock import LevelView, OrderPlan, expand_line, plan_order
from omnistock.errors import Conflict, Forbidden, Invalid, NotFound
from omnistock.services import batches, hooks
from omnistock.services.lookup import channel_by_code, sku_by_code
from omnistock.store import batch_rows, order_rows
from omnistock.store.attach import attached
from omnistock.store.levels import lock_levels, lock_sellable_levels
from omnistock.store.paging import Page, page_query
from omnistock.store.tables import (
    Channel,
    Level,
    Location,
    Move,
    Order,
    OrderEvent,
    OrderLine,
    Reservation,
    Sku,
)
from omnistock.store.types import utcnow

STATUSES = ("reserved", "held", "shipped", "cancelled", "returned")


@dataclass(frozen=True)
class LineSpec:
    sku: str
    qty: int
    unit_price: Decimal | None = None


@dataclass(frozen=True)
class CustomerSpec:
    name: str | None = None
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class OrderSpec:
    channel: str
    external_id: str
    lines: Sequence[LineSpec]
    customer: CustomerSpec = field(default_factory=CustomerSpec)
    currency: str | None = None
    hold_reason: str | None = None  # take the order in held, reserving nothing (e.g. a line maps to no SKU)


def find_order(session: Session, channel_id: int, external_id: str) -> Order | None:
    return session.scalar(select(Order).where(Order.channel_id == channel_id, Order.external_id == external_id))


def create_order(session: Session, spec: OrderSpec, principal: Principal) -> tuple[Order, bool]:
    """Take an order in. Returns (order, created). The same channel + external id returns the first order.

    The hot path of every sale, written with a few Core statements (`omnistock.store.order_rows`): the order
    and its lines go in first, as reserved, before any stock row is locked; then the levels are locked, the
    reservations and events written and the levels raised, so that the hot SKU's row stays locked for as few
    statements as possible. An order that cannot be reserved in full is turned to held instead."""
    channel, existing = order_rows.channel_and_order(session, spec.channel, spec.external_id)
    if channel is None or not principal.sees_channel(spec.channel):
        channel_by_code(session, spec.channel, principal=principal)  # raises the right error
    assert channel is not None
    if existing is not None:
        found = session.get(Order, existing)
        assert found is not None
        return found, False
    if not spec.external_id.strip():
        raise Invalid("external_id cannot be empty", field="external_id")
    if not spec.lines and not spec.hold_reason:
        raise Invalid("an order needs at least one line", field="lines")
    for i, ls in enumerate(spec.lines):
        if isinstance(ls.qty, bool) or not isinstance(ls.qty, int) or ls.qty <= 0:
            raise Invalid("qty must be a whole number greater than 0", field=f"lines[{i}].qty")
    skus = _line_skus(session, spec.lines)
    now = utcnow()
    held = spec.hold_reason
    values = {"channel_id": channel.id, "external_id": spec.external_id, "status": "held" if held else "reserved",
              "hold_reason": held, "currency": spec.currency, "customer_name": spec.customer.name,
              "customer_phone": spec.customer.phone, "customer_email": spec.customer.email, "created_at": now,
              "updated_at": now}
    order_id = order_rows.insert_order(session, values)
    lines = [{"order_id": order_id, "sku_id": sku.id, "qty": ls.qty, "reserved": 0 if held else ls.qty,
              "shipped": 0, "returned": 0, "unit_price": ls.unit_price} for ls, sku in zip(spec.lines, skus)]
    for line, line_id in zip(lines, order_rows.insert_lines(session, lines)):
        line["id"] = line_id
    events = [{"order_id": order_id, "kind": "created", "actor": principal.name, "detail": {"lines": len(lines)},
               "at": now}]
    if not held:
        held = _reserve_new(session, principal, lines, skus, now)
        if held:
            values.update(status="held", hold_reason=held)
            for line in lines:
                line["reserved"] = 0
    events.append({"order_id": order_id, "kind": "held" if held else "reserved", "actor": principal.name,
                   "detail": {"reason": held} if held else {}, "at": now})
    order_rows.insert_events(session, events)
    order = attached(session, Order, {"id": order_id, **values}, committed={"channel": channel, "lines": [
        attached(session, OrderLine, line, committed={"sku": sku}) for line, sku in zip(lines, skus)]})
    hooks.emit_changed(session, order, "created")
    hooks.emit_created(session, order, principal.name)
    hooks.emit_changed(session, order, "held" if held else "reserved")
    if held:
        hooks.emit_held(session, order)
    return order, True


def _line_skus(session: Session, lines: Sequence[LineSpec]) -> list[Sku]:
    """The SKU of each line, by its code or (asked only for codes no SKU has) one of its aliases."""
    found = order_rows.skus_by_code(session, (ls.sku for ls in lines))
    return [found.get(ls.sku) or sku_by_code(session, ls.sku, field=f"lines[{i}].sku") for i, ls in enumerate(lines)]


def _reserve_new(session: Session, principal: Principal, lines: Sequence[dict[str, Any]], skus: Sequence[Sku],
                 now: datetime) -> str | None:
    """Reserve a new order's lines in full; None, or the hold reason when it cannot be and nothing is taken."""
    units = [expand_line(sku.id, line["qty"], {c.component_id: c.qty for c in sku.components} if sku.is_bundle
                         else {}) for line, sku in zip(lines, skus)]
    views: dict[int, list[LevelView]] = defaultdict(list)
    batched: list[order_rows.LockedLevel] = []
    for lv in order_rows.lock_sellable(session, {sid for u in units for sid in u}):
        if principal.sees_location(lv.location_code):
            views[lv.sku_id].append(LevelView(lv.location_id, lv.on_hand, lv.reserved, True))
            if lv.batched:
                batched.append(lv)
    pieces, cutoff = _batch_pieces(session, batched, views) if batched else ({}, None)
    plan = plan_order(units, views)
    if not plan.reserved:
        reason = _shortfall_reason(session, plan)
        order_rows.hold_new_order(session, lines[0]["order_id"], reason, now)
        return reason
    taken: dict[tuple[int, int], int] = defaultdict(int)
    for take in plan.takes:
        taken[(take.sku_id, take.location_id)] += take.qty
    rows = [{"order_id": lines[0]["order_id"], "line_id": lines[t.line]["id"], "sku_id": t.sku_id,
             "location_id": t.location_id, "qty": t.qty, "status": "active", "created_at": now} for t in plan.takes]
    if pieces and cutoff is not None:
        _reserve_batches(session, plan, rows, pieces, cutoff)
    else:
        order_rows.insert_reservations(session, rows)
    order_rows.add_reserved(session, taken)
    return None


def _batch_pieces(session: Session, batched: Sequence[order_rows.LockedLevel],
                  views: dict[int, list[LevelView]]) -> tuple[dict[tuple[int, int], list[Piece]], date]:
    """Lock the batches of the batched levels (after the levels) and narrow those levels' views to what is
    sellable: an expired batch's units are not offered."""
    cutoff = batches.sell_from(session)
    found = batch_rows.lock_pieces(session, [(lv.sku_id, lv.location_id) for lv in batched])
    pieces = {(lv.sku_id, lv.location_id): pieces_of(lv.on_hand, lv.reserved, found.get((lv.sku_id,
                                                                                         lv.location_id), []))
              for lv in batched}
    for sku_id, sku_views in views.items():
        sku_views[:] = [sellable_view(v, pieces[(sku_id, v.location_id)], cutoff)
                        if (sku_id, v.location_id) in pieces else v for v in sku_views]
    return pieces, cutoff


def _reserve_batches(session: Session, plan: OrderPlan, rows: Sequence[dict[str, Any]],
                     pieces: dict[tuple[int, int], list[Piece]], cutoff: date) -> None:
    """Write the reservations with their batch parts, first expiring first out, and raise the batches'
    reserved: three statements more, for orders that take from batched levels only."""
    parts = split_takes(plan.takes, pieces, cutoff)
    ids = order_rows.insert_reservations_returning(session, rows)
    batch_rows.insert_reservation_batches(session, [
        {"reservation_id": ids[p.take], "batch_id": p.batch_id, "qty": p.qty} for p in parts])
    taken: dict[tuple[int, int], int] = defaultdict(int)
    for p in parts:
        taken[(p.batch_id, plan.takes[p.take].location_id)] += p.qty
    batch_rows.add_batch_reserved(session, taken)


def _shortfall_reason(session: Session, plan: OrderPlan) -> str:
    codes = {sid: code for sid, code in session.execute(
        select(Sku.id, Sku.code).where(Sku.id.in_([s for s, _, _ in plan.short])))}
    return "insufficient_stock: " + ", ".join(
        f"{codes[sid]} wanted {wanted}, reservable {free}" for sid, wanted, free in plan.short)


def hold(session: Session, order: Order, reason: str, actor: str) -> None:
    """Hold an order that reserves nothing yet (a held order never keeps a partial reservation)."""
    order.status, order.hold_reason, order.updated_at = "held", reason, utcnow()
    _event(session, order, "held", actor, {"reason": reason})


def _reserve(session: Session, order: Order, principal: Principal) -> None:
    """Reserve a held order's lines in full (a release), or nothing and hold it again with the shortfall."""
    units = [expand_line(line.sku_id, line.qty, {c.component_id: c.qty for c in line.sku.components})
             for line in order.lines]
    level_of: dict[tuple[int, int], Level] = {}
    for lv, loc in lock_sellable_levels(session, {sid for u in units for sid in u}):
        if principal.sees_location(loc.code):
            level_of[(lv.sku_id, loc.id)] = lv
    batched = {sid for (sid, _), lv in level_of.items() if lv.batched}
    book = batches.BatchBook.lock(session, batched) if batched else None
    cutoff = batches.sell_from(session)
    views: dict[int, list[LevelView]] = defaultdict(list)
    for (sid, lid), lv in level_of.items():
        views[sid].append(book.view(lv, True, cutoff) if book else LevelView(lid, lv.on_hand, lv.reserved, True))
    plan = plan_order(units, views)
    if not plan.reserved:
        hold(session, order, _shortfall_reason(session, plan), principal.name)
        return
    now = utcnow()
    for take in plan.takes:
        line = order.lines[take.line]
        level = level_of[(take.sku_id, take.location_id)]
        res = Reservation(order_id=order.id, line_id=line.id, sku_id=take.sku_id, location_id=take.location_id,
                          qty=take.qty, status="active", created_at=now)
        session.add(res)
        if book is not None and level.batched:
            batches.reserve(session, book, level, res, cutoff)
        else:
            level.reserved += take.qty
    for line in order.lines:
        line.reserved = line.qty
    order.status = "reserved"
    order.hold_reason = None
    order.updated_at = now
    _event(session, order, "reserved", principal.name, {})


def _event(session: Session, order: Order, kind: str, actor: str, detail: dict[str, object]) -> None:
    session.add(OrderEvent(order_id=order.id, kind=kind, actor=actor, detail=detail, at=utcnow()))
    hooks.emit_changed(session, order, kind)
    if kind == "held":
        hooks.emit_held(session, order)


def _active_reservations(session: Session, order: Order) -> tuple[list[Reservation], dict[tuple[int, int], Level]]:
    res = list(session.scalars(select(Reservation).where(Reservation.order_id == order.id,
                                                          Reservation.status == "active")))
    return res, lock_levels(session, [(r.sku_id, r.location_id) for r in res])


def get_order(session: Session, order_id: int, principal: Principal, *, lock: bool = False) -> Order:
    stmt = select(Order).where(Order.id == order_id)
    if lock:
        stmt = stmt.with_for_update(of=Order)
    order = session.scalar(stmt)
    if order is None:
        raise NotFound(f"no order {order_id}", field="id")
    if not _visible(session, order, principal):
        raise Forbidden(f"order {order_id} is outside this token's scope", field="id")
    return order


def _visible(session: Session, order: Order, principal: Principal) -> bool:
    if not principal.scoped:
        return True
    locs = session.scalars(select(Location.code).join(Reservation, Reservation.location_id == Location.id)
                           .where(Reservation.order_id == order.id)).all()
    return principal.sees_order(order.channel.code, locs)


def ship(session: Session, order_id: int, principal: Principal) -> Order:
    order = get_order(session, order_id, principal, lock=True)
    if order.status == "shipped":
        return order
    if order.status != "reserved":
        raise Conflict(f"order {order.id} is {order.status}; only a reserved order can ship", field="status")
    reservations, levels = _active_reservations(session, order)
    now = utcnow()
    shipped = []
    for r in reservations:
        lv = levels[(r.sku_id, r.location_id)]
        lv.on_hand -= r.qty
        lv.reserved -= r.qty
        r.status = "consumed"
        sale = Move(sku_id=r.sku_id, location_id=r.location_id, kind="sale", qty=-r.qty,
                    reference=f"order:{order.id}", actor=principal.name, at=now)
        session.add(sale)
        shipped.append((r, sale))
    batches.consume(session, shipped, levels)
    for line in order.lines:
        line.shipped, line.reserved = line.qty, 0
    order.status, order.updated_at = "shipped", now
    _event(session, order, "shipped", principal.name, {})
    return order


def cancel(session: Session, order_id: int, principal: Principal, *, reason: str | None = None) -> Order:
    order = get_order(session, order_id, principal, lock=True)
    if order.status == "cancelled":
        return order
    if order.status not in ("reserved", "held"):
        raise Conflict(f"order {order.id} is {order.status}; return it instead of cancelling", field="status")
    reservations, levels = _active_reservations(session, order)
    batches.release(session, reservations, levels)
    for r in reservations:
        levels[(r.sku_id, r.location_id)].reserved -= r.qty
        r.status = "released"
    for line in order.lines:
        line.reserved = 0
    order.status, order.updated_at = "cancelled", utcnow()
    _event(session, order, "cancelled", principal.name, {"reason": reason} if reason else {})
    return order


def return_order(session: Session, order_id: int, principal: Principal, *, reason: str | None = None) -> Order:
    """The customer sent a shipped order back: its units return to the locations they left from."""
    order = get_order(session, order_id, principal, lock=True)
    if order.status == "returned":
        return order
    if order.status != "shipped":
        raise Conflict(f"order {order.id} is {order.status}; only a shipped order can be returned",
                       field="status")
    consumed = list(session.scalars(select(Reservation).where(Reservation.order_id == order.id,
                                                              Reservation.status == "consumed")))
    levels = lock_levels(session, [(r.sku_id, r.location_id) for r in consumed])
    now = utcnow()
    returned = []
    for r in consumed:
        levels[(r.sku_id, r.location_id)].on_hand += r.qty
        r.status = "returned"
        back = Move(sku_id=r.sku_id, location_id=r.location_id, kind="return", qty=r.qty,
                    reference=f"order:{order.id}", reason=reason, actor=principal.name, at=now)
        session.add(back)
        returned.append((r, back))
    batches.give_back(session, returned, levels)
    for line in order.lines:
        line.returned = line.shipped
    order.status, order.updated_at = "returned", now
    _event(session, order, "returned", principal.name, {"reason": reason} if reason else {})
    return order


def release(session: Session, order_id: int, principal: Principal, *, reason: str | None = None) -> Order:
    """Try again to reserve a held order (by hand, or when the cause has cleared)."""
    order = get_order(session, order_id, principal, lock=True)
    if order.status != "held":
        raise Conflict(f"order {order.id} is {order.status}; only a held order can be released", field="status")
    _reserve(session, order, principal)
    if order.status == "held":
        raise Conflict(f"order {order.id} still cannot be reserved ({order.hold_reason})", field="status")
    _event(session, order, "released", principal.name, {"reason": reason} if reason else {})
    return order


def events_of(session: Session, order: Order) -> list[OrderEvent]:
    return list(session.scalars(select(OrderEvent).where(OrderEvent.order_id == order.id).order_by(OrderEvent.id)))


def list_orders(session: Session, principal: Principal, *, status: str | None = None, channel: str | None = None,
                limit: int = 50, cursor: str | None = None) -> Page[Order]:
    stmt = select(Order).join(Channel, Channel.id == Order.channel_id)
    if status:
        if status not in STATUSES:
            raise Invalid(f"status must be one of {', '.join(STATUSES)}", field="status")
        stmt = stmt.where(Order.status == status)
    if channel:
        stmt = stmt.where(Channel.code == channel)
    if principal.scoped:
        conds: list[ColumnElement[bool]] = []
        if principal.channels is not None:
            conds.append(Channel.code.in_(principal.channels))
        if principal.locations is not None:
            conds.append(exists().where(Reservation.order_id == Order.id, Reservation.location_id == Location.id,
                                        Location.code.in_(principal.locations)))
        stmt = stmt.where(or_(*conds))
    return page_query(session, stmt, Order.id, limit=limit, cursor=cursor)
