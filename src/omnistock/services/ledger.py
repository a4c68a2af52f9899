"""Stock moves: receipts, adjustments, counts, transfers and returns, each one transaction with its audit
entry; and `verify`, which rebuilds every level — and every batch level — from the moves and reservations.

A move may name a batch (and its expiry). At a level that holds batches, a move that names none takes its
units first expiring, first out (`omnistock.services.batches`)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from omnistock.domain.access import Principal
from omnistock.domain.stock import LevelView, MoveKind, check_quantity, on_hand_delta, plan_reservation
from omnistock.errors import Conflict, InsufficientStock, Invalid, Shortfall
from omnistock.services import audit, batches, hooks
from omnistock.services.lookup import location_by_code, sku_by_code
from omnistock.store.levels import lock_levels
from omnistock.store.tables import Level, Location, Move, MoveBatch, Order, OrderEvent, OrderLine, Reservation, Sku
from omnistock.store.types import utcnow


@dataclass(frozen=True)
class MoveSpec:
    sku: str
    location: str
    kind: MoveKind
    qty: int
    to_location: str | None = None
    reason: str | None = None
    reference: str | None = None
    idempotency_key: str | None = None
    batch: str | None = None  # the batch (lot) number; with an expiry alone, the batch named after that day
    expiry: date | None = None  # a new batch's expiry; an existing batch's must match


@dataclass(frozen=True)
class MoveResult:
    moves: list[Move]
    replayed: bool
    sku: str
    location: str
    to_location: str | None
    counted: int | None


def post_move(session: Session, spec: MoveSpec, principal: Principal) -> MoveResult:
    """Apply one manual stock change. Replaying the same idempotency key returns the first result."""
    if spec.idempotency_key:
        first = session.scalar(select(Move).where(Move.idempotency_key == spec.idempotency_key))
        if first is not None:
            return _replay(session, first, spec)
    kind = spec.kind
    if kind is MoveKind.SALE:
        raise Invalid("sales are written by shipping orders, not posted directly", field="kind")
    qty = check_quantity(kind, spec.qty)
    sku = sku_by_code(session, spec.sku)
    if sku.is_bundle:
        raise Invalid(f"{sku.code!r} is a bundle; its stock is kept on its components", field="sku")
    loc = location_by_code(session, spec.location, principal=principal)
    code = batches.batch_code(spec.batch, spec.expiry)
    if kind is MoveKind.TRANSFER:
        return _transfer(session, spec, sku, loc, qty, principal, code)
    if spec.to_location:
        raise Invalid("to_location is only for transfers", field="to_location")
    # Lock every level of the SKU: a decrease may have to move or release reservations at other locations.
    all_locs = session.scalars(select(Level.location_id).where(Level.sku_id == sku.id)).all()
    levels = lock_levels(session, [(sku.id, lid) for lid in {*all_locs, loc.id}])
    level = levels[(sku.id, loc.id)]
    lot = batches.find_lot(session, sku, code, spec.expiry, create=True) if code else None
    # Batches anywhere: a shortfall here may move reservations to a level whose batches must follow.
    batched = lot is not None or any(lv.batched for lv in levels.values())
    book = batches.BatchBook.lock(session, [sku.id]) if batched else None
    before = {"on_hand": level.on_hand, "reserved": level.reserved}
    counted_from = level.on_hand
    if lot is not None and book is not None:
        # A move naming a batch is a move of that batch: a count counts the batch, not the whole level.
        counted_from = book.add_row(session, lot, loc.id).on_hand
        before["batch_on_hand"] = counted_from
        level.batched = True
    delta = on_hand_delta(kind, qty, counted_from)
    if lot is not None and counted_from + delta < 0:
        raise Invalid(f"batch {lot.code} of {sku.code} has {counted_from} at {loc.code}; an adjustment of {delta} "
                      "would make it negative (post a count of what is really there)", field="qty")
    if level.on_hand + delta < 0:
        raise Invalid(f"{sku.code} has {level.on_hand} on hand at {loc.code}; an adjustment of {delta} "
                      "would make it negative (post a count of what is really there)", field="qty")
    move = Move(sku_id=sku.id, location_id=loc.id, kind=kind.value, qty=delta, reason=spec.reason,
                reference=spec.reference, actor=principal.name, idempotency_key=spec.idempotency_key, at=utcnow())
    session.add(move)
    if book is not None:
        batches.record_change(session, book, level, move, delta, lot)
    level.on_hand += delta
    if book is not None:
        if book.short(level):
            batches.settle(session, sku.id, loc.id, levels, batches.sell_from(session),
                           hold=lambda order_id: hold_after_shortfall(session, order_id, sku, loc,
                                                                       actor=principal.name))
    elif level.reserved > level.on_hand:
        _settle_shortfall(session, sku, loc, levels, actor=principal.name)
    session.flush()
    hooks.emit_move_posted(session, move)
    after: dict[str, object] = {"on_hand": level.on_hand, "reserved": level.reserved}
    if lot is not None and book is not None:
        after.update(batch=lot.code, expiry=lot.expiry.isoformat() if lot.expiry else None,
                     batch_on_hand=book.row(lot.id, loc.id).on_hand)
    audit.record(session, actor=principal.name, action=f"stock.{kind.value}", sku_id=sku.id,
                 location_id=loc.id, entity=f"move:{move.id}", before=before, after=after, reason=spec.reason)
    return MoveResult([move], False, sku.code, loc.code, None, qty if kind is MoveKind.COUNT else None)


def _transfer(session: Session, spec: MoveSpec, sku: Sku, src: Location, qty: int,
              principal: Principal, code: str | None) -> MoveResult:
    if not spec.to_location:
        raise Invalid("a transfer needs to_location", field="to_location")
    dst = location_by_code(session, spec.to_location, field="to_location")
    if dst.id == src.id:
        raise Invalid("a transfer needs two different locations", field="to_location")
    levels = lock_levels(session, [(sku.id, src.id), (sku.id, dst.id)])
    out_level, in_level = levels[(sku.id, src.id)], levels[(sku.id, dst.id)]
    lot = batches.find_lot(session, sku, code, spec.expiry, create=False) if code else None
    book = batches.BatchBook.lock(session, [sku.id]) if lot is not None or out_level.batched else None
    free = out_level.on_hand - out_level.reserved
    if lot is not None and book is not None:
        row = book.rows.get((lot.id, src.id))
        free = min(free, row.on_hand - row.reserved if row is not None else 0)
    if qty > free:
        raise InsufficientStock([Shortfall(sku.code + (f" batch {lot.code}" if lot else ""), qty, max(0, free))])
    parts = batches.transfer_parts(book, out_level, qty, lot, batches.sell_from(session)) if book else []
    before = {"from": {"on_hand": out_level.on_hand}, "to": {"on_hand": in_level.on_hand}}
    now = utcnow()
    out = Move(sku_id=sku.id, location_id=src.id, kind="transfer", qty=-qty, reason=spec.reason,
               reference=spec.reference, actor=principal.name, idempotency_key=spec.idempotency_key, at=now)
    session.add(out)
    session.flush()
    into = Move(sku_id=sku.id, location_id=dst.id, kind="transfer", qty=qty, reason=spec.reason,
                reference=spec.reference, actor=principal.name, group_id=out.id, at=now)
    out.group_id = out.id
    session.add(into)
    if book is not None:
        # The units keep their batches: each batch part leaves the source and arrives at the destination.
        for batch_id, part in parts:
            book.row(batch_id, src.id).on_hand -= part
            book.add_row(session, book.lots[batch_id], dst.id).on_hand += part
            session.add_all([MoveBatch(move=out, batch_id=batch_id, qty=-part),
                             MoveBatch(move=into, batch_id=batch_id, qty=part)])
        in_level.batched = in_level.batched or bool(parts)
    out_level.on_hand -= qty
    in_level.on_hand += qty
    session.flush()
    for leg in (out, into):
        hooks.emit_move_posted(session, leg)
    after: dict[str, object] = {"from": {"on_hand": out_level.on_hand}, "to": {"on_hand": in_level.on_hand},
                                "to_location": dst.code}
    if parts and book is not None:
        after["batches"] = {book.lots[b].code: q for b, q in parts}
    audit.record(session, actor=principal.name, action="stock.transfer", sku_id=sku.id, location_id=src.id,
                 entity=f"move:{out.id}", before=before, after=after, reason=spec.reason)
    return MoveResult([out, into], False, sku.code, src.code, dst.code, None)


def _replay(session: Session, first: Move, spec: MoveSpec) -> MoveResult:
    sku = session.get(Sku, first.sku_id)
    loc = session.get(Location, first.location_id)
    assert sku is not None and loc is not None
    if sku.code != spec.sku or loc.code != spec.location or first.kind != spec.kind.value:
        raise Conflict("idempotency_key was already used for a different move", field="idempotency_key")
    moves = [first]
    to_location = None
    if first.group_id is not None:
        moves = list(session.scalars(select(Move).where(Move.group_id == first.group_id).order_by(Move.id)))
        dst = session.get(Location, moves[-1].location_id)
        to_location = dst.code if dst else None
    return MoveResult(moves, True, sku.code, loc.code, to_location,
                      spec.qty if first.kind == MoveKind.COUNT.value else None)


def _settle_shortfall(session: Session, sku: Sku, loc: Location, levels: dict[tuple[int, int], Level],
                      *, actor: str) -> None:
    """Stock at `loc` fell below what is reserved there (a count or write-off found less). Move the newest
    reservations to other sellable locations when they have room, else hold their orders: the units are
    not there, and a held order is visible and handled, a phantom reservation is not."""
    level = levels[(sku.id, loc.id)]
    sellable = {lid for lid in session.scalars(select(Location.id).where(Location.sellable.is_(True)))}
    active = session.scalars(select(Reservation).where(
        Reservation.sku_id == sku.id, Reservation.location_id == loc.id, Reservation.status == "active")
        .order_by(Reservation.id.desc())).all()
    for res in active:
        if level.reserved <= level.on_hand:
            return
        if res.status != "active":  # released meanwhile: its order was held for an earlier reservation
            continue
        others = [LevelView(lid, lv.on_hand, lv.reserved, lid in sellable)
                  for (sid, lid), lv in levels.items() if lid != loc.id]
        plan = plan_reservation(res.qty, others)
        level.reserved -= res.qty
        if plan is not None:
            res.status = "released"
            for lid, take in plan:
                levels[(sku.id, lid)].reserved += take
                session.add(Reservation(order_id=res.order_id, line_id=res.line_id, sku_id=sku.id,
                                        location_id=lid, qty=take, created_at=utcnow()))
            continue
        res.status = "released"
        hold_after_shortfall(session, res.order_id, sku, loc, actor=actor)


def hold_after_shortfall(session: Session, order_id: int, sku: Sku, loc: Location, *, actor: str) -> None:
    """Release what the order still holds elsewhere (a held order holds nothing) and mark it held."""
    order = session.get(Order, order_id)
    assert order is not None
    rest = session.scalars(select(Reservation).where(Reservation.order_id == order_id,
                                                     Reservation.status == "active")).all()
    if rest:
        keys = sorted({(r.sku_id, r.location_id) for r in rest})
        other_levels = lock_levels(session, keys)
        batches.release(session, rest, other_levels)
        for r in rest:
            other_levels[(r.sku_id, r.location_id)].reserved -= r.qty
            r.status = "released"
    for line in session.scalars(select(OrderLine).where(OrderLine.order_id == order_id)):
        line.reserved = 0
    order.status = "held"
    order.hold_reason = f"stock_shortfall: {sku.code} at {loc.code} fell below what was reserved"
    order.updated_at = utcnow()
    session.add(OrderEvent(order_id=order_id, kind="held", actor=actor, at=utcnow(),
                           detail={"reason": order.hold_reason}))
    hooks.emit_changed(session, order, "held")
    hooks.emit_held(session, order)


# --- verification -----------------------------------------------------------------------------


@dataclass(frozen=True)
class LevelDifference:
    sku: str
    location: str
    field: str
    stored: int
    rebuilt: int


def verify(session: Session) -> tuple[int, list[LevelDifference]]:
    """Rebuild on hand from moves and reserved from active reservations, and each batch level from the moves'
    and reservations' batch parts; return (levels and batch levels checked, differences)."""
    on_hand: dict[tuple[int, int], int] = defaultdict(int)
    for sid, lid, total in session.execute(
            select(Move.sku_id, Move.location_id, func.sum(Move.qty)).group_by(Move.sku_id, Move.location_id)):
        on_hand[(sid, lid)] = int(total or 0)
    reserved: dict[tuple[int, int], int] = defaultdict(int)
    for sid, lid, total in session.execute(
            select(Reservation.sku_id, Reservation.location_id, func.sum(Reservation.qty))
            .where(Reservation.status == "active").group_by(Reservation.sku_id, Reservation.location_id)):
        reserved[(sid, lid)] = int(total or 0)
    stored = {(lv.sku_id, lv.location_id): lv for lv in session.scalars(select(Level))}
    skus = dict(session.execute(select(Sku.id, Sku.code)).all())
    locs = dict(session.execute(select(Location.id, Location.code)).all())
    diffs: list[LevelDifference] = []
    for key in sorted(set(stored) | set(on_hand) | set(reserved)):
        lv = stored.get(key)
        for name, rebuilt in (("on_hand", on_hand[key]), ("reserved", reserved[key])):
            have = getattr(lv, name) if lv is not None else 0
            if have != rebuilt:
                diffs.append(LevelDifference(skus.get(key[0], str(key[0])), locs.get(key[1], str(key[1])),
                                             name, have, rebuilt))
    batch_levels, batch_diffs = batches.verify(session)
    diffs += [LevelDifference(skus.get(d.sku_id, str(d.sku_id)), locs.get(d.location_id, str(d.location_id)),
                              f"{d.field} of batch {d.batch}", d.stored, d.rebuilt) for d in batch_diffs]
    return len(stored) + batch_levels, diffs
