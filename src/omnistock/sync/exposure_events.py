"""What the exposure books of partitioned SKUs hear besides pushes: platform orders and their cancellations
(through the core's `order_created` and `order_changed` hooks, in the order's own transaction) and completed
order polls.

An order is told to a book once: when the intake takes it in (after the inbox's de-duplication), as the order
becomes reserved or held — after its stock rows are locked, so that books are always locked after stock
levels and before listing rows. It is told to the one listing of its channel that sells the SKU; when a
channel has several (pack sizes) the order cannot be pinned to one and is not told: its listing's bound then
stays higher than needed until a poll after its next push (safe, only slower). Orders omnistock did not take
in from the platform (an order typed in by hand) are not told: they did not sell from a platform's copy.

A cancellation is told to every listing of the order's channel that sells the SKU, as restocked by the
platform (the platforms restock their own copy when an order is cancelled; counting it when one did not is
only cautious). Times are the order's own stamps (`created_at`, `updated_at`): every process's clock must be
NTP-synchronised, as the books compare them with the push times of the workers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from omnistock.domain.exposure import PushKind
from omnistock.services import audit, hooks
from omnistock.store.tables import Order
from omnistock.store.types import utcnow
from omnistock.sync import dirty, exposure_store
from omnistock.sync.exposure_store import OpenBook, key_of, listing_of, seconds
from omnistock.sync.exposure_tables import ExposureBookRow
from omnistock.sync.tables import Listing

log = logging.getLogger("omnistock.sync")

# Called with (session, sku id, listing id, units sold beyond the bound so far) when a platform sold more than
# its exposure allowed: its copy was changed behind omnistock (omnistock.watch may raise an alert from it).
overrun_seen: list[Callable[[Session, int, int, int], None]] = []


def on_order_created(session: Session, order: Order, actor: str) -> None:
    """An order taken in: told to its book when the intake of its own channel took it in."""
    if actor.startswith("channel:") and actor == f"channel:{order.channel.code}":
        _told(session, order, cancelled=False)


def on_order_changed(session: Session, order: Order, event: str) -> None:
    if event == "cancelled":
        _told(session, order, cancelled=True)


def _told(session: Session, order: Order, *, cancelled: bool) -> None:
    units: dict[int, int] = {}
    for line in order.lines:
        units[line.sku_id] = units.get(line.sku_id, 0) + line.qty
    books = exposure_store.lock(session, exposure_store.with_books(session, units), skip_locked=False)
    if not books:
        return
    mine = session.execute(select(Listing.id, Listing.sku_id).where(
        Listing.channel_id == order.channel_id, Listing.sku_id.in_(sorted(books)))).all()
    now = utcnow()
    for sid, opened in sorted(books.items()):
        keys = [key_of(lid) for lid, s in mine if s == sid and key_of(lid) in opened.book.channels]
        if cancelled:
            _restocked(opened, keys, units[sid], seconds(order.updated_at or now))
        elif len(keys) == 1:
            opened.book.order_notified(keys[0], units[sid], at=seconds(order.created_at or now))
            _check_overrun(session, opened, keys[0])
        opened.save(now)


def _restocked(opened: OpenBook, keys: list[str], units: int, at: float) -> None:
    """The platform put a cancelled order's units back on its copy. Entered as a rise that has landed (a delta
    push sent and confirmed now) rather than with `order_cancelled(platform_restocks=True)`: a later order poll
    that releases an absolute push then still counts these units when the push landed before the restock (the
    book's release bound counts only pushes, not restocks, after the absolute one)."""
    if not keys:
        return
    opened.book.order_cancelled(keys[0], units, platform_restocks=False)
    for key in keys:
        rise = opened.book.push_sent(key, PushKind.DELTA, units, at=at)
        opened.book.push_confirmed(rise, at=at)
        opened.restocked[key] = opened.restocked.get(key, 0) + units


def _check_overrun(session: Session, opened: OpenBook, key: str) -> None:
    """A platform sold beyond its bound: its copy was changed by hand. Alert once per new unit, and push every
    listing of the SKU (the planner empties the ones above their quotas while the bounds exceed the stock).
    Units of cancelled orders the platform put back and sold again, told before the cancellation, look like
    an overrun too: they are not alerted."""
    over = opened.book.overrun(key) - opened.restocked.get(key, 0)
    if over <= opened.alerted.get(key, 0):
        return
    opened.alerted[key] = over
    log.warning("listing %s sold %d unit(s) beyond what omnistock let it show (sku %s): its stock was changed "
                "on the platform", listing_of(key), over, opened.sku_id)
    audit.record(session, actor="sync", action="exposure.overrun", sku_id=opened.sku_id,
                 entity=f"listing:{listing_of(key)}",
                 after={"overrun": over},
                 reason="a platform sold more than omnistock let it show: its stock was changed there by hand")
    for hook in overrun_seen:
        hook(session, opened.sku_id, listing_of(key), over)
    dirty.mark_listings(session, Listing.sku_id == opened.sku_id)


def poll_completed(session: Session, channel_id: int, covered_until: datetime | None, now: datetime) -> None:
    """An order poll of the channel took in every order placed up to `covered_until` (our clock, the platform's
    clock skew already taken off; None when the poll failed). Releases what confirmed absolute pushes replaced,
    and marks the listings of the SKUs whose room grew."""
    if covered_until is not None:
        rows = session.execute(select(Listing.id, Listing.sku_id).where(
            Listing.channel_id == channel_id, Listing.sku_id.in_(select(ExposureBookRow.sku_id)))).all()
        books = exposure_store.lock(session, {sid for _, sid in rows}, skip_locked=False)
        released = set()
        for lid, sid in rows:
            opened, key = books.get(sid), key_of(lid)
            if opened is None or key not in opened.book.channels:
                continue
            before = (opened.book.exposure(key), opened.book.awaiting_poll(key))
            opened.book.poll_completed(key, seconds(covered_until))
            if (opened.book.exposure(key), opened.book.awaiting_poll(key)) != before:
                released.add(sid)
        for sid in sorted(released):
            books[sid].save(now)
        if released:
            dirty.mark_listings(session, Listing.sku_id.in_(sorted(released)) & Listing.failing_since.is_(None))
    exposure_store.poll_done(session, channel_id, covered_until)


def register() -> None:
    if on_order_created not in hooks.order_created:
        hooks.order_created.append(on_order_created)
    if on_order_changed not in hooks.order_changed:
        hooks.order_changed.append(on_order_changed)


register()
