"""How the money side follows the core: every ledger move and every shipped or returned order is costed in
the same transaction, a SKU's view shows what is on order and what a unit costs, and pre-sale channels sell
on-order stock (money.presale). `install()` registers the hooks once; importing `omnistock.money` does it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from omnistock.api import views
from omnistock.domain.stock import MoveKind
from omnistock.domain.valuation import CostEvent
from omnistock.money import costbook, presale
from omnistock.money.currency import Books
from omnistock.money.positions import sku_money_fields
from omnistock.services import catalogue, hooks
from omnistock.store.tables import Move, Order, Reservation


def on_move_posted(session: Session, move: Move) -> None:
    """Receipts and finds come in at the current average, losses leave at it; transfers change no value."""
    on_moves_posted(session, [move])


def on_moves_posted(session: Session, moves: Sequence[Move]) -> None:
    """The same for many moves written at once (an import's counts): one locking round for all."""
    if session.info.get(costbook.COSTED_BY_CALLER):
        return
    postings = []
    for move in moves:
        if move.qty == 0 or move.kind == MoveKind.TRANSFER.value:
            continue
        if move.qty > 0:
            found = move.kind in (MoveKind.ADJUSTMENT.value, MoveKind.COUNT.value)
            event = CostEvent.FOUND if found else CostEvent.RECEIPT
        else:
            event = CostEvent.WRITE_OFF
        postings.append(costbook.Posting(move.sku_id, event, abs(move.qty),
                                         reference=move.reference or f"move:{move.id}", move_id=move.id))
    costbook.post(session, postings, Books.of().base)


def on_order_changed(session: Session, order: Order, event: str) -> None:
    """A shipment books cost of goods sold per reserved unit; a return reverses it at the current average."""
    if event == "shipped":
        cost_event, status = CostEvent.SALE, "consumed"
    elif event == "returned":
        cost_event, status = CostEvent.ORDER_RETURN, "returned"
    else:
        return
    taken = session.scalars(select(Reservation).where(Reservation.order_id == order.id,
                                                      Reservation.status == status)
                            .order_by(Reservation.sku_id, Reservation.line_id, Reservation.id)).all()
    postings = [costbook.Posting(r.sku_id, cost_event, r.qty, reference=f"order:{order.id}", order_id=order.id,
                                 order_line_id=r.line_id) for r in taken if r.qty > 0]
    costbook.post(session, postings, Books.of().base)


def money_fields(fig: catalogue.SkuFigures) -> dict[str, Any]:
    session = object_session(fig.sku)
    return sku_money_fields(session, fig.sku) if session is not None else {}


def install() -> None:
    """Register the hooks (idempotent)."""
    if on_move_posted not in hooks.move_posted:
        hooks.move_posted.append(on_move_posted)
    batches = getattr(hooks, "move_batches", None)  # bulk writers announce many moves at once
    if batches is not None:
        batches[on_move_posted] = on_moves_posted
    if on_order_changed not in hooks.order_changed:
        hooks.order_changed.append(on_order_changed)
    if money_fields not in views.sku_view_fields:
        views.sku_view_fields.append(money_fields)
    presale.install()
