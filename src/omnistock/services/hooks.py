"""In-transaction hooks: other features react to core events inside the same transaction, so that what they
write commits (or rolls back) with the event itself — no event is lost between two commits."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from omnistock.store.tables import Order

OrderHook = Callable[[Session, Order], None]

# Called after an order became `held` (insufficient stock at intake, or a shortfall found later).
order_held: list[OrderHook] = []
# Called after any order status change (created, reserved, held, released, shipped, cancelled, returned).
order_changed: list[Callable[[Session, Order, str], None]] = []


def emit_held(session: Session, order: Order) -> None:
    for hook in order_held:
        hook(session, order)


def emit_changed(session: Session, order: Order, event: str) -> None:
    for hook in order_changed:
        hook(session, order, event)
