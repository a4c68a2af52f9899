"""Batches in the ledger: the batch a move names, the batch levels locked beside the levels, and the batch parts
of reservations and moves — first expiring, first out (FEFO) when no batch is named.

Everything here runs inside the caller's transaction, on levels the caller has locked: every path locks a
level before any batch level of it, and batch levels in (sku, location, batch) order, so that order intake,
shipments and moves neither deadlock nor see a batch level change under them. Only levels flagged `batched`
come here; a level without batches costs nothing."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from omnistock.config import get_settings
from omnistock.domain.batches import Piece, pieces_of, sell_cutoff, sellable_view, take_fefo, take_out
from omnistock.domain.stock import LevelView, plan_reservation
from omnistock.errors import Conflict, Invalid, NotFound
from omnistock.store.db import SETTINGS
from omnistock.store.tables import (
    Batch,
    BatchLevel,
    Level,
    Location,
    Move,
    MoveBatch,
    Reservation,
    ReservationBatch,
    Sku,
)
from omnistock.store.types import utcnow

Key = tuple[int, int]  # (sku id, location id)
MAX_CODE = 64


def sell_from(session: Session, now: datetime | None = None) -> date:
    """The earliest expiry still sold now: the merchant's calendar day (OMNISTOCK_TIMEZONE) plus the margin
    (OMNISTOCK_EXPIRY_MARGIN_DAYS)."""
    settings = session.info.get(SETTINGS) or get_settings()
    return sell_cutoff((now or utcnow()).astimezone(settings.zone).date(), settings.expiry_margin_days)


def batch_code(code: str | None, expiry: date | None, *, field: str = "batch") -> str | None:
    """The batch a move names: its number, or — given an expiry alone — the batch named after that day (goods
    marked only with a date are told apart by it)."""
    code = (code or "").strip()
    if not code:
        return expiry.isoformat() if expiry is not None else None
    if len(code) > MAX_CODE or not code.isprintable():
        raise Invalid(f"a batch number is 1–{MAX_CODE} printable characters", field=field)
    return code


def find_lot(session: Session, sku: Sku, code: str, expiry: date | None, *, create: bool) -> Batch:
    """The SKU's batch of this number; created (with `expiry`) when missing and `create`. A batch keeps the
    expiry it was first given: another one is refused, since it would reorder what is already reserved."""
    lot = session.scalar(select(Batch).where(Batch.sku_id == sku.id, Batch.code == code))
    if lot is None:
        if not create:
            raise NotFound(f"{sku.code} has no batch {code!r}", field="batch")
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        session.execute(insert(Batch).values(sku_id=sku.id, code=code, expiry=expiry, created_at=utcnow())
                        .on_conflict_do_nothing())
        lot = session.scalar(select(Batch).where(Batch.sku_id == sku.id, Batch.code == code))
        assert lot is not None
    if expiry is not None and lot.expiry != expiry:
        raise Conflict(f"batch {code} of {sku.code} expires on {lot.expiry or 'no date'}, not {expiry}",
                       field="expiry")
    return lot


class BatchBook:
    """The batch levels of some SKUs, locked, with their batches."""

    def __init__(self, rows: Iterable[tuple[BatchLevel, Batch]]) -> None:
        self.rows: dict[Key, BatchLevel] = {}  # (batch id, location id)
        self.lots: dict[int, Batch] = {}
        self._at: dict[Key, list[BatchLevel]] = defaultdict(list)  # (sku id, location id)
        for row, lot in rows:
            self._keep(row, lot)

    def _keep(self, row: BatchLevel, lot: Batch) -> None:
        if (row.batch_id, row.location_id) not in self.rows:
            self.rows[(row.batch_id, row.location_id)] = row
            self._at[(row.sku_id, row.location_id)].append(row)
        self.lots[lot.id] = lot

    @classmethod
    def lock(cls, session: Session, sku_ids: Iterable[int]) -> BatchBook:
        ids = sorted(set(sku_ids))
        if not ids:
            return cls([])
        stmt = (select(BatchLevel, Batch).join(Batch, Batch.id == BatchLevel.batch_id)
                .where(BatchLevel.sku_id.in_(ids))
                .order_by(BatchLevel.sku_id, BatchLevel.location_id, BatchLevel.batch_id)
                .with_for_update(of=BatchLevel).execution_options(populate_existing=True))
        return cls((row, lot) for row, lot in session.execute(stmt))

    def row(self, batch_id: int, location_id: int) -> BatchLevel:
        return self.rows[(batch_id, location_id)]

    def add_row(self, session: Session, lot: Batch, location_id: int) -> BatchLevel:
        """The batch's level at this location, created (0, 0) when missing. The caller holds the lock of the
        level it belongs to, which every writer of it takes first."""
        if (lot.id, location_id) not in self.rows:
            insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
            session.execute(insert(BatchLevel).values(batch_id=lot.id, location_id=location_id, sku_id=lot.sku_id,
                                                      on_hand=0, reserved=0).on_conflict_do_nothing())
            row = session.scalar(select(BatchLevel).where(BatchLevel.batch_id == lot.id,
                                                          BatchLevel.location_id == location_id)
                                 .with_for_update().execution_options(populate_existing=True))
            assert row is not None
            self._keep(row, lot)
        return self.row(lot.id, location_id)

    def pieces(self, level: Level) -> list[Piece]:
        """The level's batches and loose units, FEFO."""
        return pieces_of(level.on_hand, level.reserved, [
            Piece(r.batch_id, self.lots[r.batch_id].expiry, r.on_hand, r.reserved)
            for r in self._at.get((level.sku_id, level.location_id), [])])

    def short(self, level: Level) -> bool:
        return any(p.short for p in self.pieces(level))

    def view(self, level: Level, sellable: bool, cutoff: date) -> LevelView:
        """The level as a reservation may take from it (expired batches' free units not counted)."""
        plain = LevelView(level.location_id, level.on_hand, level.reserved, sellable)
        return sellable_view(plain, self.pieces(level), cutoff) if level.batched else plain


# --- reservations -----------------------------------------------------------------------------------------------


def parts_of(session: Session, reservations: Sequence[Reservation]) -> dict[int, list[ReservationBatch]]:
    """Each reservation's batch parts (reservation id -> parts; none for loose units)."""
    if any(r.id is None for r in reservations):
        session.flush()
    ids = [r.id for r in reservations]
    out: dict[int, list[ReservationBatch]] = defaultdict(list)
    if ids:
        for part in session.scalars(select(ReservationBatch).where(ReservationBatch.reservation_id.in_(ids))
                                    .order_by(ReservationBatch.reservation_id, ReservationBatch.batch_id)):
            out[part.reservation_id].append(part)
    return out


def reserve(session: Session, book: BatchBook, level: Level, res: Reservation, cutoff: date) -> None:
    """Reserve a new reservation's units at a batched level, FEFO, and raise the level's reserved. The caller
    planned it from `book.view`, so the sellable units cover it."""
    parts = take_fefo(res.qty, book.pieces(level), cutoff)
    assert parts is not None, (res.qty, book.pieces(level))
    for batch_id, qty in parts:
        if batch_id is not None:
            book.row(batch_id, level.location_id).reserved += qty
            session.add(ReservationBatch(reservation=res, batch_id=batch_id, qty=qty))
    level.reserved += res.qty


def batched_among(reservations: Iterable[Reservation], levels: Mapping[Key, Level]) -> list[Reservation]:
    return [r for r in reservations if levels[(r.sku_id, r.location_id)].batched]


def release(session: Session, reservations: Sequence[Reservation], levels: Mapping[Key, Level]) -> None:
    """Reservations being released give their batch parts back (the caller lowers the levels' reserved and
    sets their status)."""
    batched = batched_among(reservations, levels)
    if not batched:
        return
    book = BatchBook.lock(session, {r.sku_id for r in batched})
    parts = parts_of(session, batched)
    for r in batched:
        for part in parts[r.id]:
            book.row(part.batch_id, r.location_id).reserved -= part.qty


def consume(session: Session, shipped: Sequence[tuple[Reservation, Move]], levels: Mapping[Key, Level]) -> None:
    """Shipping: each sale move takes its reservation's batch parts out of their batches."""
    _follow(session, shipped, levels, sign=-1)


def give_back(session: Session, returned: Sequence[tuple[Reservation, Move]], levels: Mapping[Key, Level]) -> None:
    """A return: the units come back into the batches they were shipped from."""
    _follow(session, returned, levels, sign=1)


def _follow(session: Session, pairs: Sequence[tuple[Reservation, Move]], levels: Mapping[Key, Level], *,
            sign: int) -> None:
    batched = [(r, m) for r, m in pairs if levels[(r.sku_id, r.location_id)].batched]
    if not batched:
        return
    book = BatchBook.lock(session, {r.sku_id for r, _ in batched})
    parts = parts_of(session, [r for r, _ in batched])
    for r, move in batched:
        for part in parts[r.id]:
            row = book.row(part.batch_id, r.location_id)
            row.on_hand += sign * part.qty
            if sign < 0:
                row.reserved -= part.qty
            session.add(MoveBatch(move=move, batch_id=part.batch_id, qty=sign * part.qty))


# --- moves ------------------------------------------------------------------------------------------------------


def record_change(session: Session, book: BatchBook, level: Level, move: Move, delta: int,
                  lot: Batch | None) -> None:
    """The batch parts of a receipt, return, adjustment or count of `delta` units at a batched level, before the
    level itself changes: all of the named batch; else a decrease takes units FEFO (`take_out`) and an
    increase is loose units (found or received without a batch)."""
    if lot is not None:
        parts: list[tuple[int | None, int]] = [(lot.id, delta)]
    elif delta < 0:
        parts = [(b, -q) for b, q in take_out(-delta, book.pieces(level))]
    else:
        parts = []
    for batch_id, qty in parts:
        if batch_id is not None and qty:
            book.row(batch_id, level.location_id).on_hand += qty
            session.add(MoveBatch(move=move, batch_id=batch_id, qty=qty))


def transfer_parts(book: BatchBook, level: Level, qty: int, lot: Batch | None,
                   cutoff: date) -> list[tuple[int, int]]:
    """Which batches' units a transfer of `qty` free units moves: the named batch, or FEFO among unexpired
    batches, then loose units, then expired batches (`take_out` with a cutoff). Only batch parts are returned."""
    if lot is not None:
        return [(lot.id, qty)]
    return [(b, q) for b, q in take_out(qty, book.pieces(level), cutoff=cutoff) if b is not None]


# --- shortfalls -------------------------------------------------------------------------------------------------


def settle(session: Session, sku_id: int, location_id: int, levels: Mapping[Key, Level], cutoff: date, *,
           hold: Callable[[int], None]) -> None:
    """Reservations at this level whose batch, or loose units, no longer hold them (a count found fewer, a batch
    expired) move to units still free and sellable — here or at another location of the SKU in `levels`, the
    location with the most free first, FEFO within it — else their order is held (`hold(order_id)`). The
    newest reservations move first."""
    level = levels[(sku_id, location_id)]
    book = BatchBook.lock(session, [sku_id])
    sellable = set(session.scalars(select(Location.id).where(Location.sellable.is_(True))))
    active = list(session.scalars(select(Reservation).where(
        Reservation.sku_id == sku_id, Reservation.location_id == location_id, Reservation.status == "active")
        .order_by(Reservation.id.desc())))
    parts = parts_of(session, active)
    for res in active:
        short = {p.batch_id for p in book.pieces(level) if p.short}
        if not short:
            return
        if res.status != "active":  # released meanwhile: its order was held for an earlier one
            continue
        mine = parts[res.id]
        holds = {p.batch_id for p in mine} | ({None} if res.qty > sum(p.qty for p in mine) else set())
        if not holds & short:
            continue
        for part in mine:
            book.row(part.batch_id, location_id).reserved -= part.qty
        level.reserved -= res.qty
        res.status = "released"
        views = [book.view(lv, lid in sellable, cutoff) for (sid, lid), lv in levels.items() if sid == sku_id]
        plan = plan_reservation(res.qty, views)
        if plan is None:
            hold(res.order_id)
            continue
        for lid, take in plan:
            moved = Reservation(order_id=res.order_id, line_id=res.line_id, sku_id=sku_id, location_id=lid,
                                qty=take, status="active", created_at=utcnow())
            session.add(moved)
            target = levels[(sku_id, lid)]
            if target.batched:
                reserve(session, book, target, moved, cutoff)
            else:
                target.reserved += take


# --- reading and verifying -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MovePart:
    batch: str
    expiry: date | None
    qty: int


def move_parts(session: Session, move_ids: Sequence[int]) -> dict[int, list[MovePart]]:
    """The batch parts of these moves (move id -> parts, FEFO), for showing them."""
    out: dict[int, list[MovePart]] = defaultdict(list)
    if not move_ids:
        return out
    for move_id, code, expiry, qty in session.execute(
            select(MoveBatch.move_id, Batch.code, Batch.expiry, MoveBatch.qty)
            .join(Batch, Batch.id == MoveBatch.batch_id).where(MoveBatch.move_id.in_(list(move_ids)))):
        out[move_id].append(MovePart(code, expiry, qty))
    for parts in out.values():
        parts.sort(key=lambda p: (p.expiry is None, p.expiry or date.max, p.batch))
    return out


@dataclass(frozen=True)
class BatchFigures:
    batch: str
    expiry: date | None
    location: str
    sellable_location: bool
    on_hand: int
    reserved: int
    expired: bool


def figures(session: Session, sku: Sku, *, locations: Callable[[str], bool] = lambda _: True,
            now: datetime | None = None) -> list[BatchFigures]:
    """The SKU's stock per batch and location, FEFO, empty batch levels left out."""
    cutoff = sell_from(session, now)
    rows = session.execute(
        select(Batch.code, Batch.expiry, Location.code, Location.sellable, BatchLevel.on_hand, BatchLevel.reserved)
        .join(Batch, Batch.id == BatchLevel.batch_id).join(Location, Location.id == BatchLevel.location_id)
        .where(BatchLevel.sku_id == sku.id, (BatchLevel.on_hand != 0) | (BatchLevel.reserved != 0)))
    out = [BatchFigures(code, expiry, loc, bool(sellable), on_hand, reserved, expiry is not None and expiry < cutoff)
           for code, expiry, loc, sellable, on_hand, reserved in rows if locations(loc)]
    return sorted(out, key=lambda f: (f.expiry is None, f.expiry or date.max, f.batch, f.location))


@dataclass(frozen=True)
class BatchDifference:
    sku_id: int
    location_id: int
    batch: str
    field: str
    stored: int
    rebuilt: int


def verify(session: Session) -> tuple[int, list[BatchDifference]]:
    """Rebuild every batch level from the moves' and active reservations' batch parts; return (batch levels
    checked, differences)."""
    on_hand: dict[Key, int] = defaultdict(int)  # (batch id, location id)
    for bid, lid, total in session.execute(
            select(MoveBatch.batch_id, Move.location_id, func.sum(MoveBatch.qty))
            .join(Move, Move.id == MoveBatch.move_id).group_by(MoveBatch.batch_id, Move.location_id)):
        on_hand[(bid, lid)] = int(total or 0)
    reserved: dict[Key, int] = defaultdict(int)
    for bid, lid, total in session.execute(
            select(ReservationBatch.batch_id, Reservation.location_id, func.sum(ReservationBatch.qty))
            .join(Reservation, Reservation.id == ReservationBatch.reservation_id)
            .where(Reservation.status == "active").group_by(ReservationBatch.batch_id, Reservation.location_id)):
        reserved[(bid, lid)] = int(total or 0)
    stored = {(r.batch_id, r.location_id): r for r in session.scalars(select(BatchLevel))}
    lots = {b.id: b for b in session.scalars(select(Batch))}
    diffs: list[BatchDifference] = []
    for key in sorted(set(stored) | set(on_hand) | set(reserved)):
        row, lot = stored.get(key), lots.get(key[0])
        for name, rebuilt in (("on_hand", on_hand[key]), ("reserved", reserved[key])):
            have = getattr(row, name) if row is not None else 0
            if have != rebuilt:
                diffs.append(BatchDifference(lot.sku_id if lot else 0, key[1], lot.code if lot else str(key[0]),
                                             name, have, rebuilt))
    return len(stored), diffs
