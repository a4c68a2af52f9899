"""Orders: taken in once per channel and external id, reserved at once in full or held, then shipped,
cancelled or returned. Every state change is an order event, in the same transaction as the stock."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from omnistock.domain.access import Principal
from omnistock.domain.stock import LevelView, expand_line, plan_reservation
from omnistock.errors import Conflict, Forbidden, Invalid, NotFound, Shortfall
from omnistock.services import hooks
from omnistock.services.lookup import channel_by_code, sku_by_code
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
    """Take an order in. Returns (order, created). The same channel + external id returns the first order."""
    # One round trip for the channel and a possible earlier delivery of the same order.
    row = session.execute(select(Channel, Order).outerjoin(
        Order, (Order.channel_id == Channel.id) & (Order.external_id == spec.external_id))
        .where(Channel.code == spec.channel)).first()
    if row is None or not principal.sees_channel(spec.channel):
        channel_by_code(session, spec.channel, principal=principal)  # raises the right error
    assert row is not None
    channel, existing = row
    if existing is not None:
        return existing, False
    if not spec.external_id.strip():
        raise Invalid("external_id cannot be empty", field="external_id")
    if not spec.lines and not spec.hold_reason:
        raise Invalid("an order needs at least one line", field="lines")
    now = utcnow()
    order = Order(channel_id=channel.id, external_id=spec.external_id, status="held", currency=spec.currency,
                  customer_name=spec.customer.name, customer_phone=spec.customer.phone,
                  customer_email=spec.customer.email, created_at=now, updated_at=now)
    for i, ls in enumerate(spec.lines):
        if isinstance(ls.qty, bool) or not isinstance(ls.qty, int) or ls.qty <= 0:
            raise Invalid("qty must be a whole number greater than 0", field=f"lines[{i}].qty")
        sku = sku_by_code(session, ls.sku, field=f"lines[{i}].sku")
        order.lines.append(OrderLine(sku_id=sku.id, qty=ls.qty, unit_price=ls.unit_price, sku=sku))
    session.add(order)
    session.flush()  # the unique (channel, external id) index decides a race here
    _event(session, order, "created", principal.name, {"lines": len(order.lines)})
    if spec.hold_reason:
        hold(session, order, spec.hold_reason, principal.name)
    else:
        _reserve(session, order, principal)
    return order, True


def hold(session: Session, order: Order, reason: str, actor: str) -> None:
    """Hold an order that reserves nothing yet (a held order never keeps a partial reservation)."""
    order.status, order.hold_reason, order.updated_at = "held", reason, utcnow()
    _event(session, order, "held", actor, {"reason": reason})


def _reserve(session: Session, order: Order, principal: Principal) -> None:
    """Reserve every line in full, or nothing and hold the order with the shortfall as its reason."""
    needs: dict[int, int] = defaultdict(int)
    per_line: list[tuple[OrderLine, dict[int, int]]] = []
    for line in order.lines:
        units = expand_line(line.sku_id, line.qty, {c.component_id: c.qty for c in line.sku.components})
        per_line.append((line, units))
        for sid, q in units.items():
            needs[sid] += q
    rows = lock_sellable_levels(session, needs)
    views: dict[int, list[LevelView]] = defaultdict(list)
    level_of: dict[tuple[int, int], Level] = {}
    for lv, loc in rows:
        if principal.sees_location(loc.code):
            views[lv.sku_id].append(LevelView(loc.id, lv.on_hand, lv.reserved, True))
            level_of[(lv.sku_id, loc.id)] = lv
    short = []
    for sid, wanted in sorted(needs.items()):
        if plan_reservation(wanted, views[sid]) is None:
            free = sum(v.free for v in views[sid])
            short.append(Shortfall(session.get(Sku, sid).code, wanted, free))  # type: ignore[union-attr]
    now = utcnow()
    if short:
        hold(session, order, "insufficient_stock: " + ", ".join(
            f"{s.sku} wanted {s.wanted}, reservable {s.reservable}" for s in short), principal.name)
        return
    for line, units in per_line:
        for sid, q in sorted(units.items()):
            plan = plan_reservation(q, views[sid])
            assert plan is not None  # the totals were checked above
            for lid, take in plan:
                level_of[(sid, lid)].reserved += take
                session.add(Reservation(order_id=order.id, line_id=line.id, sku_id=sid, location_id=lid,
                                        qty=take, created_at=now))
            views[sid] = [LevelView(v.location_id, v.on_hand, v.reserved + dict(plan).get(v.location_id, 0))
                          for v in views[sid]]
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
    for r in reservations:
        lv = levels[(r.sku_id, r.location_id)]
        lv.on_hand -= r.qty
        lv.reserved -= r.qty
        r.status = "consumed"
        session.add(Move(sku_id=r.sku_id, location_id=r.location_id, kind="sale", qty=-r.qty,
                         reference=f"order:{order.id}", actor=principal.name, at=now))
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
    for r in consumed:
        levels[(r.sku_id, r.location_id)].on_hand += r.qty
        r.status = "returned"
        session.add(Move(sku_id=r.sku_id, location_id=r.location_id, kind="return", qty=r.qty,
                         reference=f"order:{order.id}", reason=reason, actor=principal.name, at=now))
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
        conds = []
        if principal.channels is not None:
            conds.append(Channel.code.in_(principal.channels))
        if principal.locations is not None:
            conds.append(exists().where(Reservation.order_id == Order.id, Reservation.location_id == Location.id,
                                        Location.code.in_(principal.locations)))
        stmt = stmt.where(or_(*conds))
    return page_query(session, stmt, Order.id, limit=limit, cursor=cursor)
