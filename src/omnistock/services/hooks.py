"""In-transaction hooks: other features react to core events inside the same transaction, so that what they
write commits (or rolls back) with the event itself — no event is lost between two commits."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy.orm import Session

from omnistock.store.tables import Move, Order

OrderHook = Callable[[Session, Order], None]

# Called after an order became `held` (insufficient stock at intake, or a shortfall found later).
order_held: list[OrderHook] = []
# Called once when an order is taken in, with the name of who took it in (`channel:<code>` for the order
# intake of the order's channel), after its reservation or hold is written and before its "reserved" or "held"
# change is announced.
order_created: list[Callable[[Session, Order, str], None]] = []
# Called after any order status change (created, reserved, held, released, shipped, cancelled, returned).
order_changed: list[Callable[[Session, Order, str], None]] = []
# Called for each move `ledger.post_move` writes (receipts, adjustments, counts, returns, both legs of a
# transfer), after the level changed; sales and order returns are announced by `order_changed` instead.
move_posted: list[Callable[[Session, Move], None]] = []
# The batch form of a `move_posted` hook, keyed by that hook: bulk writes (an import's counts) call it once with
# all their moves instead of calling the hook once per move. A hook without one is called per move.
move_batches: dict[Callable[[Session, Move], None], Callable[[Session, Sequence[Move]], None]] = {}


def emit_held(session: Session, order: Order) -> None:
    for hook in order_held:
        hook(session, order)


def emit_created(session: Session, order: Order, actor: str) -> None:
    for hook in order_created:
        hook(session, order, actor)


def emit_changed(session: Session, order: Order, event: str) -> None:
    for hook in order_changed:
        hook(session, order, event)


def emit_move_posted(session: Session, move: Move) -> None:
    for hook in move_posted:
        hook(session, move)


def emit_moves_posted(session: Session, moves: Sequence[Move]) -> None:
    """Announce many moves written at once (in id order)."""
    for hook in move_posted:
        batch = move_batches.get(hook)
        if batch is not None:
            batch(session, moves)
            continue
        for move in moves:
            hook(session, move)
