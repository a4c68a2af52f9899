"""Partition mode in the push path: while a SKU is partitioned, every push of its listings is planned by the
exposure book (`omnistock.domain.exposure`), so that the platforms together can never sell more than exists,
whatever the delays of pushes and order notifications. The rules, in the engine's terms:

- The book lives while the SKU is partitioned: it is opened by the first claim that finds the SKU at or below
  a partition threshold, and dropped by the first claim that finds it above every threshold (the normal
  policies then apply again). Its channels are the SKU's listings that omnistock pushes (live channels with an
  adapter, and a pilot channel's pilot SKUs); amounts are units of the SKU, and a listing is sent
  `amount // pack_size` packs.
- Opening is conservative, because the copies left by the normal policies are only known roughly (the last
  pushed values, minus sales since that may not all be known yet): each listing starts inexact with the last
  value pushed to it (all of the available units when omnistock never pushed it), and a push that may still
  land (one in flight, or one that failed without a clear refusal lately) is entered as sent. The bounds then
  usually add up to more than is available (`deficit`); the planner empties every listing above its quota at
  once (an absolute 0 costs nothing) and raises nothing until the order polls after those pushes have shown
  what the old copies sold. Sales made from an old copy before the switch and not yet told to omnistock are
  the one thing no bound can hold: the threshold is the margin for them.
- Every claim of a partitioned listing locks the book (sku_id order, SKIP LOCKED: a book another transaction
  holds is left for the next round, so a claim never waits while holding listing rows), times out the pushes
  that can no longer land, brings the book's available to the ledger's (less held orders), plans, and records
  each planned push of a claimed listing with `push_sent` before the platform is called, in the plan's order,
  in the claim's transaction. Planned pushes of listings not claimed here are marked dirty for their workers.
- A listing the planner leaves alone stays dirty and is looked at again after `RECHECK` (a poll, an answer or a
  stock change marks it sooner); it is done when settled, exact and showing its quota.
- A push that gets no clear answer (timeout, 5xx, transport failure, worker killed) stays counted as sent until
  `dead_at`: the claim's lease (after which the pusher never starts the request: `Claimed.send_by`) plus
  `APPLY_WINDOW`, the time within which a platform is assumed to apply a request it received or never apply it.
  Only then is it `push_timed_out`: its cost is kept and the listing becomes inexact.

Bundles are not covered: the book is per SKU, and a bundle listing draws on several; bundles and their
listings stay on the normal path (a component's partition does not count what its bundles' listings show).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from omnistock.channels.registry import PASSIVE_KINDS
from omnistock.domain.exposure import DEFAULT_QUIET_AFTER, ExposureBook, ListingTraits, PushKind, plan_pushes
from omnistock.store.tables import BundleComponent, Channel, Sku
from omnistock.sync import dirty, exposure_store
from omnistock.sync.exposure_store import OpenBook, Pending, key_of, listing_of, seconds
from omnistock.sync.tables import ChannelSync, Listing, PlatformCall
from omnistock.sync.targets import SkuAllocation

RECHECK = timedelta(seconds=1)
APPLY_WINDOW = timedelta(seconds=60)
QUIET_AFTER = DEFAULT_QUIET_AFTER  # seconds without an order before a busy listing is drained or re-anchored


@dataclass(frozen=True)
class BookRef:
    """Which push of which book a claimed listing carries."""

    sku_id: int
    incarnation: str
    push_id: int


@dataclass(frozen=True)
class GuardedPush:
    value: int  # whole packs to send
    ref: BookRef


@dataclass
class Guarded:
    """What partition mode decided for the claimed listings it handles (the others take the normal path)."""

    pushes: dict[int, GuardedPush] = field(default_factory=dict)
    waiting: set[int] = field(default_factory=set)  # stay dirty, look again after RECHECK
    done: set[int] = field(default_factory=set)  # showing their quota: no push
    busy: set[int] = field(default_factory=set)  # their book is held by another transaction: left untouched


@dataclass(frozen=True)
class Answer:
    """The outcome of one guarded (or adopted) push, as the recorder saw it."""

    listing_id: int
    sku_id: int
    ref: BookRef | None
    applied: bool
    refused: bool  # the platform surely did not apply it (or it was never sent)


# --- claim ----------------------------------------------------------------------------------------------------


def prepare(session: Session, listings: Sequence[Listing], plans: Mapping[int, SkuAllocation], now: datetime,
            lease: timedelta) -> Guarded:
    """Plan the claimed listings of partitioned SKUs (and drop the books of SKUs no longer partitioned).
    Costs one indexed read when no SKU of the claim is or was partitioned."""
    out = Guarded()
    skus = {lst.sku_id for lst in listings}
    partitioned = {sid for sid in skus if plans[sid].partitioned}
    existing = exposure_store.with_books(session, skus)
    if not partitioned and not existing:
        return out
    partitioned -= _bundles(session, partitioned)
    books = exposure_store.lock(session, existing, skip_locked=True)
    busy = existing - set(books)
    for sid in sorted(set(books) - partitioned):
        exposure_store.drop(session, books.pop(sid))
    seats = _seats(session, partitioned - busy)
    by_sku: dict[int, list[Listing]] = defaultdict(list)
    for lst in listings:
        by_sku[lst.sku_id].append(lst)
    for sid in sorted(partitioned - busy):
        opened = books.get(sid) or _open(session, sid, plans[sid], seats[sid], now, lease)
        if opened is None:
            busy.add(sid)
            continue
        _plan(session, opened, by_sku[sid], plans[sid], seats[sid], now, lease, out)
    out.busy = {lst.id for lst in listings if lst.sku_id in busy}
    return out


def _bundles(session: Session, sku_ids: set[int]) -> set[int]:
    if not sku_ids:
        return set()
    return set(session.scalars(select(BundleComponent.bundle_id).where(BundleComponent.bundle_id.in_(sku_ids))))


def _seats(session: Session, sku_ids: Iterable[int]) -> dict[int, dict[int, Listing]]:
    """The listings of each SKU that omnistock pushes: on an enabled channel with an adapter, live, or in
    pilot with the SKU in the pilot. Shadowed listings are left out: someone else sets their copies."""
    ids = sorted(set(sku_ids))
    out: dict[int, dict[int, Listing]] = {sid: {} for sid in ids}
    if not ids:
        return out
    rows = session.execute(
        select(Listing, Channel.kind, ChannelSync.mode, ChannelSync.pilot_skus, Sku.code)
        .join(Channel, Channel.id == Listing.channel_id).join(Sku, Sku.id == Listing.sku_id)
        .outerjoin(ChannelSync, ChannelSync.channel_id == Listing.channel_id)
        .where(Listing.sku_id.in_(ids), Channel.enabled.is_(True)))
    for lst, kind, mode, pilot, code in rows:
        live = mode in (None, "live") or (mode == "pilot" and code in (pilot or []))
        if kind not in PASSIVE_KINDS and live:
            out[lst.sku_id][lst.id] = lst
    return out


def _open(session: Session, sku_id: int, plan: SkuAllocation, seats: Mapping[int, Listing], now: datetime,
          lease: timedelta) -> OpenBook | None:
    opened = OpenBook(sku_id, "", ExposureBook(plan.available, {}))
    _seat_new_listings(session, opened, seats, now, lease)
    return exposure_store.create(session, sku_id, opened.book, opened.pending, now)


def _seat_new_listings(session: Session, opened: OpenBook, seats: Mapping[int, Listing], now: datetime,
                       lease: timedelta) -> None:
    """Enter listings the book does not keep yet, conservatively (module doc)."""
    book, at = opened.book, seconds(now)
    new = [lst for lid, lst in sorted(seats.items()) if key_of(lid) not in book.channels]
    if not new:
        return
    failed = session.execute(
        select(PlatformCall.listing_id, PlatformCall.value, PlatformCall.at)
        .where(PlatformCall.sku_id == opened.sku_id, PlatformCall.op == "set_stock", PlatformCall.ok.is_(False),
               PlatformCall.at >= now - lease - APPLY_WINDOW, PlatformCall.value.is_not(None))).all()
    for lst in new:
        key, pack = key_of(lst.id), lst.pack_size
        shown = book.available if lst.last_pushed_value is None else lst.last_pushed_value * pack
        book.add_channel(key, max(shown, 0), exact=False)
        if lst.claimed_until is not None and lst.pushing_value is not None:
            push_id = book.push_sent(key, PushKind.ABSOLUTE, max(lst.pushing_value, 0) * pack, at=at)
            opened.pending[push_id] = Pending(lst.id, seconds(lst.claimed_until + APPLY_WINDOW), adopted=True)
        for listing_id, value, failed_at in failed:
            if listing_id == lst.id and value is not None:
                push_id = book.push_sent(key, PushKind.ABSOLUTE, max(value, 0) * pack, at=at)
                opened.pending[push_id] = Pending(lst.id, seconds(failed_at + APPLY_WINDOW))


def _plan(session: Session, opened: OpenBook, claimed: Sequence[Listing], plan: SkuAllocation,
          seats: Mapping[int, Listing], now: datetime, lease: timedelta, out: Guarded) -> None:
    book, at = opened.book, seconds(now)
    opened.expire(at)
    _seat_new_listings(session, opened, seats, now, lease)
    book.stock_changed(plan.available - book.available)
    listing = {key: listing_of(key) for key in book.channels}
    packs = {key: seats[lid].pack_size if lid in seats else 1 for key, lid in listing.items()}
    goals = {key: plan.listing_units.get(lid, 0) if lid in seats else 0 for key, lid in listing.items()}
    traits = {key: ListingTraits(pack_size=pack) for key, pack in packs.items()}
    planned = plan_pushes(book, goals, traits, now=at, quiet_after=QUIET_AFTER, guarded=True)
    mine = {key_of(lst.id): lst for lst in claimed}
    elsewhere = []
    dead_at = seconds(now + lease + APPLY_WINDOW)
    for push in planned:
        lst = mine.get(push.channel)
        if lst is None:
            elsewhere.append(listing[push.channel])
            continue
        push_id = book.push_sent(push.channel, push.kind, push.amount, at=at)
        opened.pending[push_id] = Pending(lst.id, dead_at)
        out.pushes[lst.id] = GuardedPush(push.amount // packs[push.channel],
                                         BookRef(opened.sku_id, opened.incarnation, push_id))
    for key, lst in mine.items():
        if lst.id in out.pushes:
            continue
        whole = goals.get(key, 0) // packs.get(key, 1) * packs.get(key, 1)
        settled = key in book.channels and book.is_settled(key) and book.is_exact(key)
        (out.done if settled and book.exposure(key) == whole else out.waiting).add(lst.id)
    opened.save(now)
    if elsewhere:
        dirty.mark_listings(session, Listing.id.in_(sorted(elsewhere)) & Listing.dirty.is_(False))


# --- answers --------------------------------------------------------------------------------------------------


def settle(session: Session, channel_id: int, answers: Sequence[Answer], now: datetime) -> tuple[bool, set[int]]:
    """Report the platform's answers to the books, before the recorder locks anything else. Returns whether an
    absolute push was confirmed (an order poll of the channel is then awaited) and the SKUs whose room grew
    (their listings should be looked at again)."""
    existing = exposure_store.with_books(session, {a.sku_id for a in answers})
    if not existing:
        return False, set()
    books = exposure_store.lock(session, existing, skip_locked=False)
    confirmed, freed, touched = False, set(), set()
    at = seconds(now)
    for answer in answers:
        opened = books.get(answer.sku_id)
        push_id = _push_of(opened, answer) if opened else None
        if opened is None or push_id is None:
            continue
        if answer.applied:
            opened.book.push_confirmed(push_id, at=at)
            confirmed = True
        elif answer.refused:
            opened.book.push_failed(push_id)
            freed.add(answer.sku_id)
        else:
            continue  # no clear answer: counted as sent until its dead_at
        del opened.pending[push_id]
        touched.add(answer.sku_id)
    for sid in sorted(touched):
        books[sid].save(now)
    if confirmed:
        exposure_store.want_poll(session, channel_id, now)
    return confirmed, freed


def _push_of(opened: OpenBook, answer: Answer) -> int | None:
    ref = answer.ref
    if ref is not None and ref.incarnation == opened.incarnation:
        return ref.push_id if ref.push_id in opened.pending else None
    return opened.adopted_push(answer.listing_id)


def look_again(session: Session, sku_ids: Iterable[int]) -> None:
    """Mark the SKUs' listings for a push round (the failing ones keep their backoff)."""
    ids = sorted(set(sku_ids))
    if ids:
        dirty.mark_listings(session, Listing.sku_id.in_(ids) & Listing.failing_since.is_(None))
