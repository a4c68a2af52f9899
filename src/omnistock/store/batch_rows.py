"""Batch rows read and written with Core statements, for the order intake's hot path (`order_rows` does the
same for the order itself). Only levels flagged `batched` ever reach these: a level without batches costs none
of them. Batch levels are locked after their levels, in (sku, location, batch) order."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import bindparam, insert, select, tuple_, update
from sqlalchemy.orm import Session

from omnistock.domain.batches import Key, Piece
from omnistock.store.attach import forget_columns
from omnistock.store.tables import Batch, BatchLevel, ReservationBatch

_INSERT_RESERVATION_BATCHES = insert(ReservationBatch)
_ADD_BATCH_RESERVED = (update(BatchLevel).where(BatchLevel.batch_id == bindparam("k_batch"),
                                                BatchLevel.location_id == bindparam("k_loc"))
                       .values(reserved=BatchLevel.reserved + bindparam("k_qty")))


def lock_pieces(session: Session, keys: Iterable[Key]) -> dict[Key, list[Piece]]:
    """The batches of these (sku, location) levels with their expiry, locked FOR UPDATE in (sku, location,
    batch) order: (sku, location) -> its batch pieces (the loose units are the caller's to add)."""
    wanted = sorted(set(keys))
    out: dict[Key, list[Piece]] = defaultdict(list)
    if not wanted:
        return out
    stmt = (select(BatchLevel.sku_id, BatchLevel.location_id, BatchLevel.batch_id, Batch.expiry,
                   BatchLevel.on_hand, BatchLevel.reserved)
            .join(Batch, Batch.id == BatchLevel.batch_id)
            .where(tuple_(BatchLevel.sku_id, BatchLevel.location_id).in_(wanted))
            .order_by(BatchLevel.sku_id, BatchLevel.location_id, BatchLevel.batch_id)
            .with_for_update(of=BatchLevel))
    for sku_id, loc_id, batch_id, expiry, on_hand, reserved in session.execute(stmt):
        out[(sku_id, loc_id)].append(Piece(batch_id, expiry, on_hand, reserved))
    return out


def insert_reservation_batches(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        session.connection().execute(_INSERT_RESERVATION_BATCHES, [dict(r) for r in rows])


def add_batch_reserved(session: Session, taken: Mapping[tuple[int, int], int]) -> None:
    """Add reserved units to locked batch levels, (batch_id, location_id) -> units."""
    if not taken:
        return
    session.connection().execute(_ADD_BATCH_RESERVED, [{"k_batch": b, "k_loc": loc, "k_qty": q}
                                                       for (b, loc), q in sorted(taken.items())])
    forget_columns(session, BatchLevel, taken, "reserved")
