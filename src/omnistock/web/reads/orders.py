"""Order reads for the console: which orders a caller may see (the rule of `services.orders.list_orders`,
as a condition to use in counts), and the raw platform deliveries behind an order."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.orm import Session

from omnistock.domain.access import Principal
from omnistock.store.tables import Channel, Location, Order, Reservation
from omnistock.sync.tables import InboxEvent


def visible(principal: Principal) -> ColumnElement[bool] | None:
    """Orders of the caller's channels or reserved at its locations; None when unscoped. The statement must
    join Channel on Order.channel_id."""
    if not principal.scoped:
        return None
    conds: list[ColumnElement[bool]] = []
    if principal.channels is not None:
        conds.append(Channel.code.in_(sorted(principal.channels)))
    if principal.locations is not None:
        conds.append(exists().where(Reservation.order_id == Order.id, Reservation.location_id == Location.id,
                                    Location.code.in_(sorted(principal.locations))))
    return or_(*conds)


def deliveries(session: Session, order: Order) -> list[InboxEvent]:
    """Every platform delivery (webhook, poll or feed) that made or changed this order, oldest first."""
    stmt = select(InboxEvent).where(
        (InboxEvent.order_id == order.id)
        | ((InboxEvent.channel_id == order.channel_id) & (InboxEvent.external_order_id == order.external_id)))
    return list(session.scalars(stmt.order_by(InboxEvent.id)))


def channel_codes(session: Session, principal: Principal) -> list[str]:
    codes = session.scalars(select(Channel.code).order_by(Channel.code))
    return [code for code in codes if principal.sees_channel(code)]


def location_codes(session: Session, principal: Principal | None) -> list[tuple[str, str]]:
    """(code, label) of the locations the caller sees; every location when no caller is given."""
    rows: Any = session.execute(select(Location.code, Location.name).order_by(Location.code))
    return [(code, f"{code} · {name}") for code, name in rows if principal is None or principal.sees_location(code)]
