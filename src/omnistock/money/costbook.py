"""The cost book: every stock change applied to its SKU's moving-average position (domain.valuation), in the
caller's transaction, with one append-only history entry per change so that stock can be valued at any time.

Positions are locked in SKU order after the ledger has locked its levels, the same order for every caller,
so that concurrent receipts and shipments of one SKU apply one after the other and never deadlock."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from omnistock.domain.costing import CostState
from omnistock.domain.valuation import CostEvent, apply
from omnistock.money.tables import CostEntry, SkuCost
from omnistock.onboarding.bulk import chunks
from omnistock.store.attach import forget_columns
from omnistock.store.tables import Level
from omnistock.store.types import utcnow

# While set on a session, the move hook leaves moves alone: the caller costs them itself (PO receipts at the
# PO's cost, supplier returns).
COSTED_BY_CALLER = "omnistock.money.costed_by_caller"

_IN = frozenset({CostEvent.PURCHASE, CostEvent.RECEIPT, CostEvent.FOUND, CostEvent.ORDER_RETURN})


@dataclass(frozen=True)
class Posting:
    sku_id: int
    event: CostEvent
    qty: int                            # units, > 0; the event says which way they go
    unit_cost: Decimal | None = None    # base currency; purchases only
    reference: str | None = None
    move_id: int | None = None
    order_id: int | None = None
    order_line_id: int | None = None

    @property
    def signed_qty(self) -> int:
        return self.qty if self.event in _IN else -self.qty


@contextmanager
def costed_by_caller(session: Session) -> Iterator[None]:
    """Post ledger moves that the caller will cost itself."""
    session.info[COSTED_BY_CALLER] = True
    try:
        yield
    finally:
        session.info.pop(COSTED_BY_CALLER, None)


def post(session: Session, postings: Sequence[Posting], base: str) -> None:
    """Apply `postings` in order. The ledger levels must already include them (they follow the moves).

    Set-based, in Core statements: an import of 100,000 counts posts 100,000 entries in one transaction, and
    the unit of work's per-object flush would cost more than the import itself. Objects the session holds for
    these positions are expired, so that a later read sees the new figures."""
    if not postings:
        return
    pending: dict[int, int] = defaultdict(int)
    for p in postings:
        pending[p.sku_id] += p.signed_qty
    states = lock_positions(session, pending, base)
    # Stamped after the lock, so that a SKU's entries are in time order as well as id order.
    at = utcnow()
    entries: list[dict[str, Any]] = []
    for p in postings:
        new, effect = apply(states[p.sku_id], p.event, p.qty, p.unit_cost)
        states[p.sku_id] = new
        entries.append({"sku_id": p.sku_id, "at": at, "event": p.event.value, "qty": p.signed_qty,
                        "received": effect.received, "cogs": effect.cogs, "loss": effect.loss,
                        "to_supplier": effect.to_supplier, "on_hand_after": new.on_hand, "value_after": new.value,
                        "last_unit_cost": new.last_unit_cost, "currency": new.currency, "reference": p.reference,
                        "move_id": p.move_id, "order_id": p.order_id, "order_line_id": p.order_line_id})
    conn = session.connection()
    rows = [{"k_id": sid, "k_on_hand": st.on_hand, "k_value": st.value, "k_last": st.last_unit_cost, "k_at": at}
            for sid, st in sorted(states.items())]
    for changed in chunks(rows):
        conn.execute(_SET_POSITION, list(changed))
    for written in chunks(entries):
        conn.execute(insert(CostEntry), list(written))
    forget_columns(session, SkuCost, {(sid,): None for sid in states}, "on_hand", "value", "last_unit_cost",
                   "updated_at")


_SET_POSITION = (update(SkuCost).where(SkuCost.sku_id == bindparam("k_id"))
                 .values(on_hand=bindparam("k_on_hand"), value=bindparam("k_value"),
                         last_unit_cost=bindparam("k_last"), updated_at=bindparam("k_at")))


def lock_positions(session: Session, pending: dict[int, int], base: str) -> dict[int, CostState]:
    """The positions of these SKUs, locked in SKU order. A SKU seen for the first time opens with the units
    the ledger held before these postings (stock from before costing began), valued at zero."""
    ids = sorted(pending)
    session.flush()  # positions changed through the ORM are read as they are
    known: set[int] = set()
    for part in chunks(ids):
        known.update(session.scalars(select(SkuCost.sku_id).where(SkuCost.sku_id.in_(part))))
    fresh = [sid for sid in ids if sid not in known]
    if fresh:
        held: dict[int, int] = {}
        for part in chunks(fresh):
            held.update(session.execute(select(Level.sku_id, func.coalesce(func.sum(Level.on_hand), 0))
                                        .where(Level.sku_id.in_(part)).group_by(Level.sku_id)).all())
        values = [{"sku_id": sid, "currency": base, "on_hand": int(held.get(sid, 0)) - pending[sid],
                   "value": Decimal(0), "last_unit_cost": Decimal(0), "updated_at": utcnow()} for sid in fresh]
        insert_new = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        # Two first postings of one SKU may race: the loser's row is simply not inserted. One statement run
        # for many rows (executemany), not a VALUES list per chunk: that list is built and compiled anew each time.
        first_position = insert_new(SkuCost).on_conflict_do_nothing()
        conn = session.connection()
        for rows in chunks(values):
            conn.execute(first_position, list(rows))
    states: dict[int, CostState] = {}
    for part in chunks(ids):
        stmt = (select(SkuCost.sku_id, SkuCost.on_hand, SkuCost.value, SkuCost.currency, SkuCost.last_unit_cost)
                .where(SkuCost.sku_id.in_(part)).order_by(SkuCost.sku_id).with_for_update())
        for sid, on_hand, value, currency, last in session.execute(stmt):
            states[sid] = CostState(on_hand, Decimal(value), currency, Decimal(last))
    return states
