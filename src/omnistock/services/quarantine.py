"""Taking expired batches out of sale. Their units at a sellable location move, as a recorded transfer, to that
location's quarantine location `<code>-EXPIRED` (not sellable, created the first time it is needed), where
they stay counted until someone writes them off or sends them back. Availability, and so every platform,
stops counting them at once; reservations on them move to fresher units, or their orders are held.

Until this runs (the scheduler does it with the alert rules), an order already never takes an expired
batch: the intake leaves expired units out of what it may reserve."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from omnistock.errors import Conflict
from omnistock.services import audit, batches, catalogue, hooks, ledger
from omnistock.store.levels import lock_levels
from omnistock.store.tables import Batch, BatchLevel, Level, Location, Move, MoveBatch, Sku
from omnistock.store.types import utcnow

SUFFIX = "-EXPIRED"
ACTOR = "batches:expiry"


@dataclass(frozen=True)
class Quarantined:
    sku: str
    batch: str
    expiry: date
    location: str
    quarantine: str
    qty: int
    move_id: int


def due(session: Session, cutoff: date) -> list[int]:
    """The SKUs with units of an expired batch at a sellable location."""
    return sorted(session.scalars(
        select(BatchLevel.sku_id).distinct().join(Batch, Batch.id == BatchLevel.batch_id)
        .join(Location, Location.id == BatchLevel.location_id)
        .where(Location.sellable.is_(True), BatchLevel.on_hand > 0, Batch.expiry < cutoff)))


def quarantine_location(session: Session, loc: Location) -> Location:
    """Where the expired units of `loc` go: `<code>-EXPIRED`, created not sellable when missing. A sellable
    location of that name is refused: expired goods sent there would be sold."""
    code = f"{loc.code[:64 - len(SUFFIX)]}{SUFFIX}"
    found = session.scalar(select(Location).where(Location.code == code))
    if found is None:
        return catalogue.create_location(session, code=code, name=f"{loc.name} (expired)", kind=loc.kind,
                                         sellable=False, actor=ACTOR)
    if found.sellable:
        raise Conflict(f"location {code} is sellable: expired stock of {loc.code} cannot be put there; make it "
                       "not sellable or rename it", field="location")
    return found


def quarantine_sku(session: Session, sku_id: int, cutoff: date) -> list[Quarantined]:
    """Move this SKU's expired batch units out of every sellable location (one transaction: the caller's)."""
    sku = session.get(Sku, sku_id)
    assert sku is not None
    found = session.execute(
        select(BatchLevel.batch_id, BatchLevel.location_id).join(Batch, Batch.id == BatchLevel.batch_id)
        .join(Location, Location.id == BatchLevel.location_id)
        .where(BatchLevel.sku_id == sku_id, Location.sellable.is_(True), BatchLevel.on_hand > 0,
               Batch.expiry < cutoff)).all()
    if not found:
        return []
    sources = {lid: loc for _, lid in found if (loc := session.get(Location, lid)) is not None}
    dest = {lid: quarantine_location(session, loc) for lid, loc in sources.items()}
    every = set(session.scalars(select(Level.location_id).where(Level.sku_id == sku_id)))
    levels = lock_levels(session, [(sku_id, lid) for lid in every | set(sources) | {q.id for q in dest.values()}])
    book = batches.BatchBook.lock(session, [sku_id])
    done: list[Quarantined] = []
    legs: list[Move] = []
    for batch_id, lid in sorted(found):
        row = book.rows.get((batch_id, lid))
        lot = book.lots.get(batch_id)
        if row is None or lot is None or row.on_hand <= 0 or lot.expiry is None:
            continue  # another process got there first
        legs += _move_out(session, book, levels, sku, lot, sources[lid], dest[lid], row.on_hand, done)
    for lid, loc in sources.items():
        if book.short(levels[(sku_id, lid)]):
            batches.settle(session, sku_id, lid, levels, cutoff,
                           hold=functools.partial(_hold, session, sku=sku, location=loc))
    session.flush()
    for leg in legs:
        hooks.emit_move_posted(session, leg)
    return done


def _hold(session: Session, order_id: int, *, sku: Sku, location: Location) -> None:
    """An order whose expired units found no replacement is held, as a count that finds fewer would hold it."""
    ledger.hold_after_shortfall(session, order_id, sku, location, actor=ACTOR)


def _move_out(session: Session, book: batches.BatchBook, levels: dict[tuple[int, int], Level], sku: Sku,
              lot: Batch, src: Location, dst: Location, qty: int, done: list[Quarantined]) -> list[Move]:
    out_level, in_level = levels[(sku.id, src.id)], levels[(sku.id, dst.id)]
    before = {"on_hand": out_level.on_hand, "reserved": out_level.reserved, "batch_on_hand": qty}
    now = utcnow()
    why = f"batch {lot.code} expired on {lot.expiry}"
    out = Move(sku_id=sku.id, location_id=src.id, kind="transfer", qty=-qty, reference=f"expiry:{lot.code}",
               reason=why, actor=ACTOR, at=now)
    session.add(out)
    session.flush()
    out.group_id = out.id
    into = Move(sku_id=sku.id, location_id=dst.id, kind="transfer", qty=qty, reference=f"expiry:{lot.code}",
                reason=why, actor=ACTOR, group_id=out.id, at=now)
    session.add_all([into, MoveBatch(move=out, batch_id=lot.id, qty=-qty), MoveBatch(move=into, batch_id=lot.id,
                                                                                      qty=qty)])
    book.row(lot.id, src.id).on_hand -= qty
    book.add_row(session, lot, dst.id).on_hand += qty
    out_level.on_hand -= qty
    in_level.on_hand += qty
    in_level.batched = True
    assert lot.expiry is not None
    audit.record(session, actor=ACTOR, action="stock.expire", sku_id=sku.id, location_id=src.id,
                 entity=f"move:{out.id}", before=before,
                 after={"on_hand": out_level.on_hand, "to_location": dst.code, "batch": lot.code,
                        "expiry": lot.expiry.isoformat(), "batch_on_hand": 0}, reason=why)
    done.append(Quarantined(sku.code, lot.code, lot.expiry, src.code, dst.code, qty, out.id))
    return [out, into]
