"""Loading, locking and saving exposure books. A book is read and written only under its row lock (FOR UPDATE,
taken in sku_id order), and saved in the transaction that reported the events it reflects."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from omnistock.domain.exposure import ExposureBook
from omnistock.sync.exposure_tables import ExposureBookRow, ExposurePoll


def key_of(listing_id: int) -> str:
    """A listing's key in its book: its id, zero-padded so that the planner's order (by key) is the id order."""
    return f"{listing_id:012d}"


def listing_of(key: str) -> int:
    return int(key)


def seconds(moment: datetime) -> float:
    """The book's clock: Unix seconds, which survive restarts and are the same in every worker process."""
    return moment.timestamp()


@dataclass
class Pending:
    """A push that may still land: its listing, the moment after which it surely cannot, and whether it was
    sent by the normal path before the book existed (its answer then carries no book reference)."""

    listing_id: int
    dead_at: float
    adopted: bool = False


@dataclass
class OpenBook:
    sku_id: int
    incarnation: str
    book: ExposureBook
    pending: dict[int, Pending] = field(default_factory=dict)
    alerted: dict[str, int] = field(default_factory=dict)  # overrun units already alerted, per book key
    restocked: dict[str, int] = field(default_factory=dict)  # units of cancelled orders put back, per book key
    row: ExposureBookRow | None = None

    def expire(self, now: float) -> None:
        """Pushes past their last possible landing are timed out: cost kept, the bound made inexact."""
        for push_id, push in sorted(self.pending.items()):
            if push.dead_at <= now:
                self.book.push_timed_out(push_id, at=push.dead_at)
                del self.pending[push_id]

    def adopted_push(self, listing_id: int) -> int | None:
        found = [pid for pid, p in self.pending.items() if p.adopted and p.listing_id == listing_id]
        return min(found) if found else None

    def save(self, now: datetime) -> None:
        assert self.row is not None
        self.row.book = self.book.snapshot()
        self.row.pending = {str(pid): {"listing": p.listing_id, "dead_at": p.dead_at, "adopted": p.adopted}
                            for pid, p in self.pending.items()}
        self.row.alerted = {"alerted": dict(self.alerted), "restocked": dict(self.restocked)}
        self.row.updated_at = now


def _opened(row: ExposureBookRow) -> OpenBook:
    pending = {int(pid): Pending(int(p["listing"]), float(p["dead_at"]), bool(p.get("adopted", False)))
               for pid, p in (row.pending or {}).items()}
    notes = row.alerted or {}
    return OpenBook(row.sku_id, row.incarnation, ExposureBook.restore(row.book), pending,
                    {str(k): int(v) for k, v in notes.get("alerted", {}).items()},
                    {str(k): int(v) for k, v in notes.get("restocked", {}).items()}, row)


def with_books(session: Session, sku_ids: Iterable[int]) -> set[int]:
    """Which of these SKUs have a book (no lock: a cheap look before deciding to lock)."""
    ids = sorted(set(sku_ids))
    if not ids:
        return set()
    return set(session.scalars(select(ExposureBookRow.sku_id).where(ExposureBookRow.sku_id.in_(ids))))


def lock(session: Session, sku_ids: Iterable[int], *, skip_locked: bool) -> dict[int, OpenBook]:
    """The books of these SKUs, locked in sku_id order; with `skip_locked`, those another transaction holds
    are left out instead of waited for."""
    ids = sorted(set(sku_ids))
    if not ids:
        return {}
    stmt = (select(ExposureBookRow).where(ExposureBookRow.sku_id.in_(ids)).order_by(ExposureBookRow.sku_id)
            .with_for_update(skip_locked=skip_locked).execution_options(populate_existing=True))
    return {row.sku_id: _opened(row) for row in session.scalars(stmt)}


def create(session: Session, sku_id: int, book: ExposureBook, pending: Mapping[int, Pending],
           now: datetime) -> OpenBook | None:
    """Store a new book for the SKU; None when another transaction stored one first (it keeps it locked)."""
    opened = OpenBook(sku_id, uuid.uuid4().hex, book, dict(pending))
    values = {"sku_id": sku_id, "incarnation": opened.incarnation, "book": book.snapshot(), "pending": {},
              "alerted": {}, "created_at": now, "updated_at": now}
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    result = session.execute(insert(ExposureBookRow).values(values).on_conflict_do_nothing())
    if not result.rowcount:  # type: ignore[attr-defined]
        return None
    opened.row = session.get(ExposureBookRow, sku_id, populate_existing=True)
    opened.save(now)
    return opened


def drop(session: Session, opened: OpenBook) -> None:
    session.execute(delete(ExposureBookRow).where(ExposureBookRow.sku_id == opened.sku_id,
                                                  ExposureBookRow.incarnation == opened.incarnation))


# --- the order polls the books wait for -------------------------------------------------------------------


def want_poll(session: Session, channel_id: int, confirmed_at: datetime) -> None:
    """Ask for an order poll of the channel covering a confirmation at `confirmed_at` (upsert: concurrent
    recorders of the same channel must not fail on each other)."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(ExposurePoll).values(channel_id=channel_id, first_wanted_at=confirmed_at,
                                       last_wanted_at=confirmed_at, polling_until=None)
    table = ExposurePoll.__table__
    later = case((table.c.last_wanted_at < stmt.excluded.last_wanted_at, stmt.excluded.last_wanted_at),
                 else_=table.c.last_wanted_at)
    session.execute(stmt.on_conflict_do_update(index_elements=["channel_id"], set_={"last_wanted_at": later}))


def poll_due(session: Session, channel_id: int, margin_s: float) -> datetime | None:
    """When the channel's awaited poll may run (its first confirmation plus the clock margin), if one is."""
    first = session.scalar(select(ExposurePoll.first_wanted_at).where(ExposurePoll.channel_id == channel_id))
    return None if first is None else first + _delta(margin_s)


def take_poll(session: Session, channel_id: int, now: datetime, margin_s: float, hold_s: float) -> bool:
    """Take the channel's awaited poll if it is due and nobody is running it; True when this caller must."""
    result = session.execute(
        update(ExposurePoll)
        .where(ExposurePoll.channel_id == channel_id, ExposurePoll.first_wanted_at <= now - _delta(margin_s),
               (ExposurePoll.polling_until.is_(None)) | (ExposurePoll.polling_until < now))
        .values(polling_until=now + _delta(hold_s)).execution_options(synchronize_session=False))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def poll_done(session: Session, channel_id: int, covered_until: datetime | None) -> None:
    """A poll of the channel ended: covering `covered_until` (None when it failed). What it covered is no
    longer awaited; confirmations after it are, by one poll due when it can cover the latest of them (one poll
    per clock margin at most, however fast pushes are confirmed)."""
    if covered_until is None:
        session.execute(update(ExposurePoll).where(ExposurePoll.channel_id == channel_id)
                        .values(polling_until=None).execution_options(synchronize_session=False))
        return
    session.execute(delete(ExposurePoll).where(ExposurePoll.channel_id == channel_id,
                                               ExposurePoll.last_wanted_at <= covered_until)
                    .execution_options(synchronize_session=False))
    session.execute(update(ExposurePoll).where(ExposurePoll.channel_id == channel_id)
                    .values(first_wanted_at=ExposurePoll.last_wanted_at, polling_until=None)
                    .execution_options(synchronize_session=False))


def _delta(seconds_: float) -> timedelta:
    return timedelta(seconds=seconds_)
