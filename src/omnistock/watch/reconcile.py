"""Reconciliation: read back every listing's stock from the platform (the adapter's paged read, streamed), compare
it with the last value pushed and with what the listing should show now, and classify each difference.

Set-based at any size: the platform's items are held in one dict; the channel's listings are walked in key
order in chunks (one query each, none per listing), and the expected values the comparison needs are computed
a chunk at a time by the sync engine's `targets_for`. A lock row keeps two runs of one channel apart in every
process."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, func, or_, select, update
from sqlalchemy.orm import Session

from omnistock.channels.base import StockPage
from omnistock.config import Settings
from omnistock.domain.access import Principal
from omnistock.domain.reconciliation import DifferenceKind, Mode, Observed, classify, needs_expected, unmapped
from omnistock.errors import ChannelError, Conflict, Invalid, OmnistockError, PlatformThrottled
from omnistock.services.lookup import channel_by_code
from omnistock.store.db import Database
from omnistock.store.tables import Channel
from omnistock.store.types import utcnow
from omnistock.sync.adapters import adapter_for, has_adapter
from omnistock.sync.tables import Listing
from omnistock.sync.targets import targets_for
from omnistock.watch.tables import Reconciliation, WatchChannel

log = logging.getLogger("omnistock.watch")
CHUNK = 5000  # listings per round trip: large IN lists cost PostgreSQL more to plan than they save
LEASE = timedelta(minutes=15)
RENEW_EVERY_S = 60.0
MAX_PAGES = 1_000_000

PageSource = Callable[[str | None], StockPage]


@dataclass(frozen=True)
class Found:
    kind: DifferenceKind
    listing_id: int | None
    sku_id: int | None
    external_id: str
    expected: int | None
    platform: int | None
    last_pushed: int | None


@dataclass(frozen=True)
class Agreed:
    """A listing showing what it should show now, but not its last pushed value: its read must be kept (see
    `AgreedRead`); a listing showing its last pushed value with no push pending needs no record."""

    listing_id: int
    sku_id: int
    platform: int


@dataclass
class PageCall:
    latency_ms: int
    ok: bool
    error: str | None = None


@dataclass
class Progress:
    """Callbacks for a progress bar: items read so far; then (listings compared, listings in all)."""

    read: Callable[[int], None] | None = None
    compared: Callable[[int, int], None] | None = None


@dataclass
class Reading:
    items: dict[str, int] = field(default_factory=dict)
    calls: list[PageCall] = field(default_factory=list)


def watch_settings(session: Session, channel_id: int) -> WatchChannel:
    found = session.get(WatchChannel, channel_id)
    if found is None:
        found = WatchChannel(channel_id=channel_id, reconcile_mode=Mode.ALERT.value, reconcile_minutes=60.0)
        session.add(found)
        session.flush()
    return found


def start(session: Session, channel_code: str, principal: Principal, *, trigger: str, heal: bool | None = None,
          now: datetime | None = None) -> Reconciliation:
    """Open a run of a channel and take its lock; Conflict when a run of it is going on already."""
    now = now or utcnow()
    channel = channel_by_code(session, channel_code, principal=principal)
    if not has_adapter(channel):
        raise Invalid(f"channel {channel.code!r} ({channel.kind}) has no platform to read stock from",
                      field="channel")
    if not channel.enabled:
        raise Invalid(f"channel {channel.code!r} is disabled", field="channel")
    settings = watch_settings(session, channel.id)
    mode = Mode(settings.reconcile_mode)
    if heal is True:
        mode = Mode.HEAL
    elif heal is False and mode is Mode.HEAL:
        mode = Mode.ALERT
    run = Reconciliation(channel_id=channel.id, status="running", mode=mode.value, trigger=trigger,
                         requested_by=principal.name, started_at=now, checked=0, counts={})
    session.add(run)
    session.flush()
    holder = settings.running_id
    taken = session.execute(update(WatchChannel).where(
        WatchChannel.channel_id == channel.id,
        or_(WatchChannel.running_id.is_(None), WatchChannel.running_until < now))
        .values(running_id=run.id, running_until=now + LEASE).execution_options(synchronize_session=False))
    if not cast(CursorResult[Any], taken).rowcount:
        raise Conflict(f"a reconciliation of {channel.code} is running already (#{holder})", field="channel")
    if holder is not None:
        # The lock's lease ran out: the process running that reconciliation stopped without finishing it.
        session.execute(update(Reconciliation).where(Reconciliation.id == holder, Reconciliation.status == "running")
                        .values(status="failed", finished_at=now, error="abandoned: its process stopped")
                        .execution_options(synchronize_session=False))
    return run


def read_all(source: PageSource, progress: Progress | None = None,
             heartbeat: Callable[[], None] | None = None) -> Reading:
    """Every item the platform shows, page after page; a throttled or failing page is asked for again."""
    out = Reading()
    cursor: str | None = None
    seen: set[str] = set()
    renewed = time.monotonic()
    for _ in range(MAX_PAGES):
        page = _page(source, cursor, out.calls)
        for item in page.items:
            out.items[item.external_id] = item.quantity
        if progress and progress.read:
            progress.read(len(out.items))
        if heartbeat and time.monotonic() - renewed > RENEW_EVERY_S:
            heartbeat()
            renewed = time.monotonic()
        cursor = page.next_cursor
        if cursor is None or cursor in seen:
            return out
        seen.add(cursor)
    raise ChannelError(f"the platform still had more pages after {MAX_PAGES}")


def _page(source: PageSource, cursor: str | None, calls: list[PageCall]) -> StockPage:
    for attempt in range(3):
        started = time.perf_counter()
        try:
            page = source(cursor)
            calls.append(PageCall(int((time.perf_counter() - started) * 1000), True))
            return page
        except ChannelError as exc:
            calls.append(PageCall(int((time.perf_counter() - started) * 1000), False, f"{type(exc).__name__}: {exc}"))
            if not exc.retryable or attempt == 2:
                raise
            time.sleep(min(exc.retry_after if isinstance(exc, PlatformThrottled) else 1.0, 10.0))
    raise AssertionError("unreachable")


def compare(session: Session, channel_id: int, platform: dict[str, int], read_started: datetime, now: datetime,
            progress: Progress | None = None, agreed: list[Agreed] | None = None) -> tuple[list[Found], int]:
    """The differences between the platform's items and the channel's listings; (found, listings checked).
    `platform` is consumed: what is left in it at the end maps to no listing. `agreed`, when given, gets the
    listings that showed what they should although not their last push (their reads are not derivable).

    Listings are walked in external-id order a chunk at a time. Most show exactly what was last pushed and are settled
    at once; only the others (pending, never pushed, or showing something else) need what they should show
    now, which the sync engine's own `targets_for` computes for them in one call per chunk."""
    total = session.scalar(select(func.count()).where(Listing.channel_id == channel_id)) or 0
    found: list[Found] = []
    checked, after = 0, ""
    while True:
        # Pending means: dirty, claimed by a worker, or pushed after the read began (what was read may be older
        # than that push). Decided in SQL: a million timestamps need not be converted to compare them.
        pending = or_(Listing.dirty.is_(True), Listing.claimed_until.is_not(None),
                      func.coalesce(Listing.last_pushed_at >= read_started, False))
        rows = session.execute(
            select(Listing.id, Listing.sku_id, Listing.channel_id, Listing.pack_size, Listing.external_id,
                   Listing.last_pushed_value, pending.label("pending"))
            .where(Listing.channel_id == channel_id, Listing.external_id > after)
            .order_by(Listing.external_id).limit(CHUNK)).all()
        if not rows:
            break
        # Keyset on (channel, external id): the unique index serves every chunk with one seek, where paging by
        # id would make the database skip over the channel's earlier listings again for each chunk.
        after = rows[-1].external_id
        unsettled: list[tuple[Any, int | None, bool]] = []
        for r in rows:
            value = platform.pop(r.external_id, None)
            if needs_expected(r.last_pushed_value, bool(r.pending), value):
                unsettled.append((r, value, bool(r.pending)))
        if unsettled:
            # targets_for reads only id, sku_id, channel_id and pack_size: plain rows spare building ORM objects.
            targets = targets_for(session, cast(Any, [r for r, _, _ in unsettled]), now)
            for r, value, waiting in unsettled:
                kind = classify(Observed(targets[r.id], r.last_pushed_value, waiting, value))
                if kind is not None:
                    found.append(Found(kind, r.id, r.sku_id, r.external_id, targets[r.id], value,
                                       r.last_pushed_value))
                elif agreed is not None and value is not None:
                    agreed.append(Agreed(r.id, r.sku_id, value))
        checked += len(rows)
        if progress and progress.compared:
            progress.compared(checked, int(total))
    for external_id, quantity in platform.items():
        if unmapped(quantity):
            found.append(Found(DifferenceKind.UNMAPPED, None, None, external_id, None, quantity, None))
    return found, checked


def _renew(db: Database, run_id: int) -> None:
    with db.transaction() as session:
        session.execute(update(WatchChannel).where(WatchChannel.running_id == run_id)
                        .values(running_until=utcnow() + LEASE).execution_options(synchronize_session=False))


def execute(db: Database, settings: Settings, run_id: int, *, source: PageSource | None = None,
            progress: Progress | None = None, clock: Callable[[], datetime] = utcnow) -> Reconciliation:
    """Read, compare and record one run (outside any transaction while the platform is read). A failure is
    recorded on the run, never raised: the caller reads the run's status."""
    from omnistock.watch import reconcile_finish

    with db.reading() as session:
        run = session.get(Reconciliation, run_id)
        if run is None:
            raise Invalid(f"no reconciliation {run_id}", field="id")
        channel = session.get(Channel, run.channel_id)
        assert channel is not None
        if source is None:
            source = adapter_for(channel, settings).fetch_stock
    reading = Reading()
    try:
        read_started = clock()
        reading = read_all(source, progress, heartbeat=lambda: _renew(db, run_id))
        agreed: list[Agreed] = []
        with db.reading() as session:
            found, checked = compare(session, run.channel_id, reading.items, read_started, clock(), progress,
                                     agreed)
        with db.transaction() as session:
            return reconcile_finish.finish(session, run_id, found, checked, reading.calls, clock(),
                                           agreed=agreed, read_started=read_started,
                                           keep_reads=timedelta(days=settings.call_retention_days))
    except Exception as exc:
        if not isinstance(exc, OmnistockError):
            log.exception("reconciliation %s of channel %s failed", run_id, channel.code)
        with db.transaction() as session:
            return reconcile_finish.fail(session, run_id, exc, reading.calls, clock())
