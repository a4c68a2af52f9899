"""A merge of a duplicate SKU carries its batches to the survivor (an `onboarding.merge.merged` hook), so that
`ledger verify` still rebuilds every batch level: a batch number both SKUs have becomes one batch when their
expiries agree; otherwise the duplicate's batch keeps its own expiry under the number `<number>~<dup id>`."""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from omnistock.onboarding import merge
from omnistock.store.tables import Batch, BatchLevel, Level, MoveBatch, ReservationBatch


def follow_merge(session: Session, survivor_id: int, duplicate_id: int) -> None:
    lots = list(session.scalars(select(Batch).where(Batch.sku_id == duplicate_id).order_by(Batch.id)))
    if not lots:
        return
    theirs = {b.code: b for b in session.scalars(select(Batch).where(Batch.sku_id == survivor_id))}
    for lot in lots:
        same = theirs.get(lot.code)
        if same is not None and same.expiry == lot.expiry:
            _fold(session, lot, same)
            continue
        if same is not None:
            lot.code = f"{lot.code[:50]}~{duplicate_id}"[:64]
        lot.sku_id = survivor_id
        session.flush()
        session.execute(update(BatchLevel).where(BatchLevel.batch_id == lot.id).values(sku_id=survivor_id))
    held = select(BatchLevel.location_id).where(BatchLevel.sku_id == survivor_id)
    session.execute(update(Level).where(Level.sku_id == survivor_id, Level.location_id.in_(held))
                    .values(batched=True).execution_options(synchronize_session="fetch"))


def _fold(session: Session, lot: Batch, into: Batch) -> None:
    """The duplicate's batch becomes the survivor's batch of the same number and expiry."""
    for row in list(session.scalars(select(BatchLevel).where(BatchLevel.batch_id == lot.id))):
        target = session.get(BatchLevel, (into.id, row.location_id))
        if target is None:
            target = BatchLevel(batch_id=into.id, location_id=row.location_id, sku_id=into.sku_id, on_hand=0,
                                reserved=0)
            session.add(target)
        target.on_hand += row.on_hand
        target.reserved += row.reserved
        session.delete(row)
    session.flush()
    # Moves and reservations have parts of their own SKU's batches only, so no part of `into` is there yet.
    session.execute(update(MoveBatch).where(MoveBatch.batch_id == lot.id).values(batch_id=into.id))
    session.execute(update(ReservationBatch).where(ReservationBatch.batch_id == lot.id).values(batch_id=into.id))
    session.execute(delete(Batch).where(Batch.id == lot.id))


def install() -> None:
    if follow_merge not in merge.merged:
        merge.merged.append(follow_merge)
