"""Pushing listings: claim the dirty ones of a channel, compute what they should show now, call the platform
outside any transaction, then record the outcome. A listing is never claimed by two workers at once (row locks
with SKIP LOCKED plus a lease), and a worker killed mid-push loses nothing: its lease runs out and the listing
is pushed again with the newest value.

Listings of a partitioned SKU are planned by its exposure book instead (`omnistock.sync.partition`): the
claim records their pushes as sent in the book, the recorder reports the answers to it, in the same
transactions as the listings' push state."""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from omnistock.channels.base import ChannelAdapter, StockResult, StockUpdate
from omnistock.channels.http import answers
from omnistock.config import Settings
from omnistock.domain.allocation import listing_quantity
from omnistock.errors import ChannelError, PlatformThrottled, PlatformTransient
from omnistock.store.db import Database
from omnistock.store.tables import Channel, Sku
from omnistock.store.types import utcnow
from omnistock.sync import breaker, calls, partition
from omnistock.sync import exposure_events as _exposure_events  # noqa: F401  (the books hear of orders)
from omnistock.sync.adapters import adapter_for
from omnistock.sync.limiter import TokenBucket
from omnistock.sync.tables import ChannelSync, Listing
from omnistock.sync.targets import allocations

log = logging.getLogger("omnistock.sync")
MAX_BACKOFF_S = 300.0


@dataclass(frozen=True)
class Claimed:
    listing_id: int
    sku_id: int
    external_id: str
    external_sku: str | None
    extra: dict[str, Any]
    value: int
    attempt: int
    dirty_since: datetime | None = None
    book: partition.BookRef | None = None  # the push in the SKU's exposure book (partition mode)
    send_by: datetime | None = None  # partition mode: the request must not start after this


@dataclass
class Outcome:
    claimed: Claimed
    result: StockResult
    latency_ms: int
    call_failed: bool  # the whole call failed (throttle, auth, outage), not just this item
    call_id: str | None  # one id per platform call; None when the item was not attempted
    response: str | None = None  # what the platform answered to the call


@dataclass
class PushReport:
    claimed: int = 0
    pushed: int = 0
    failed: int = 0
    calls: int = 0
    breaker_open: bool = False
    errors: list[str] = field(default_factory=list)
    poll_wanted: bool = False  # a partition push was confirmed: an order poll of the channel is awaited


def channel_state(session: Session, channel_id: int, *, lock: bool = False) -> ChannelSync:
    stmt = select(ChannelSync).where(ChannelSync.channel_id == channel_id)
    state = session.scalar(stmt.with_for_update() if lock else stmt)
    if state is None:
        state = ChannelSync(channel_id=channel_id, policy={}, breaker="closed", consecutive_failures=0,
                            full_sync_minutes=15, poll_minutes=5)
        session.add(state)
        session.flush()
    return state


def claim(session: Session, channel_id: int, now: datetime, batch: int,
          lease: timedelta = timedelta(seconds=30)) -> tuple[list[Claimed], bool]:
    """Take up to `batch` dirty listings of a channel; (claimed, breaker allows calls)."""
    state = channel_state(session, channel_id, lock=True)
    # Leases that ran out belong to a worker that died mid-push: push those listings again.
    session.execute(update(Listing).where(Listing.channel_id == channel_id, Listing.claimed_until < now)
                    .values(dirty=True, claimed_until=None).execution_options(synchronize_session=False))
    if not breaker.allows(state, now):
        return [], False
    stmt = (select(Listing).where(Listing.channel_id == channel_id, Listing.dirty.is_(True),
                                  Listing.claimed_until.is_(None),
                                  or_(Listing.next_attempt_at.is_(None), Listing.next_attempt_at <= now))
            .order_by(Listing.dirty_since, Listing.id).limit(batch).with_for_update(skip_locked=True))
    listings = list(session.scalars(stmt))
    plans = allocations(session, {lst.sku_id for lst in listings}, now)
    shadowed = _shadowed(session, state, listings)
    guarded = partition.prepare(session, [lst for lst in listings if lst.id not in shadowed], plans, now, lease)
    out = []
    for lst in listings:
        if lst.id in guarded.busy:
            continue  # its exposure book is held by another transaction: next round
        if lst.id in guarded.waiting:
            lst.next_attempt_at = now + partition.RECHECK  # stays dirty: the planner holds it back for now
            continue
        value = listing_quantity(plans[lst.sku_id].units_for(lst.id, lst.channel_id), lst.pack_size)
        since = lst.dirty_since
        lst.dirty, lst.dirty_since = False, None
        if lst.id in shadowed:
            # Shadow: record what would be pushed, push nothing (the rollout compares it with the platform).
            calls.record(session, channel_id=channel_id, op="shadow", ok=True, latency_ms=0, at=now,
                         listing_id=lst.id, sku_id=lst.sku_id, value=value)
            continue
        if lst.id in guarded.done:
            continue
        push = guarded.pushes.get(lst.id)
        if push is not None:
            value = push.value
        lst.claimed_until, lst.pushing_value = now + lease, value
        out.append(Claimed(lst.id, lst.sku_id, lst.external_id, lst.external_sku, dict(lst.extra or {}), value,
                           lst.attempts + 1, since, push.ref if push else None, now + lease if push else None))
    return out, True


def _shadowed(session: Session, state: ChannelSync, listings: Sequence[Listing]) -> set[int]:
    """Listings that must not be pushed: all of them in shadow mode, those outside the pilot in pilot mode."""
    if state.mode == "shadow":
        return {lst.id for lst in listings}
    if state.mode == "pilot":
        pilot = set(session.scalars(select(Sku.id).where(Sku.code.in_(state.pilot_skus or []))))
        return {lst.id for lst in listings if lst.sku_id not in pilot}
    return set()


def call_platform(adapter: ChannelAdapter, claimed: Sequence[Claimed], bucket: TokenBucket,
                  sleep: Callable[[float], None] = time.sleep,
                  clock: Callable[[], datetime] = utcnow) -> list[Outcome]:
    """Push in the platform's batch size, within its rate limit; never raises for platform failures. A partition
    push whose `send_by` has passed (its lease ran out while waiting for the rate limit) is not sent: past
    that moment the exposure book may already count it as dead."""
    outcomes: list[Outcome] = []
    size = max(1, int(getattr(adapter, "max_batch", 1)))
    for i in range(0, len(claimed), size):
        chunk = claimed[i:i + size]
        wait = bucket.reserve(1)
        if wait > 0:
            sleep(wait)
        late = [c for c in chunk if c.send_by is not None and clock() >= c.send_by]
        outcomes += [Outcome(c, StockResult(c.external_id, False, RuntimeError("not sent: lease ran out")), 0,
                             False, None) for c in late]
        chunk = [c for c in chunk if c not in late]
        if not chunk:
            continue
        updates = [StockUpdate(c.external_id, c.value, c.extra, c.external_sku) for c in chunk]
        started = time.perf_counter()
        heard: list[str] = []
        try:
            with answers() as heard:
                results = adapter.set_stock(updates)
            whole_failed = False
        except PlatformThrottled as exc:
            bucket.penalize(exc.retry_after)
            results, whole_failed = [StockResult(u.external_id, False, exc) for u in updates], True
        except ChannelError as exc:
            results, whole_failed = [StockResult(u.external_id, False, exc) for u in updates], True
        except Exception as exc:  # an adapter bug must not kill the worker: record it, back off, alert
            log.exception("adapter %s failed unexpectedly", type(adapter).__name__)
            results, whole_failed = [StockResult(u.external_id, False, exc) for u in updates], True
        latency = int((time.perf_counter() - started) * 1000)
        call_id = uuid.uuid4().hex
        by_id = {r.external_id: r for r in results}
        response = "\n".join(heard) or None
        for c in chunk:
            result = by_id.get(c.external_id) or StockResult(c.external_id, False, RuntimeError("no result"))
            outcomes.append(Outcome(c, result, latency, whole_failed, call_id, response))
        if whole_failed and i + size < len(claimed):
            # Do not spend the rest of the batch on a platform that just failed: release it untouched.
            why = results[0].error if results else None
            left: Exception = why if isinstance(why, PlatformThrottled) else RuntimeError("not attempted")
            for c in claimed[i + size:]:
                outcomes.append(Outcome(c, StockResult(c.external_id, False, left), 0, True, None))
            break
    return outcomes


def _held_back(outcome: Outcome) -> bool:
    """Not pushed because the platform throttled this call or the one before it in the round."""
    return isinstance(outcome.result.error, PlatformThrottled)


def backoff_seconds(attempt: int, error: BaseException | None) -> float:
    base = min(MAX_BACKOFF_S, 2.0 ** max(0, attempt - 1))
    wait = base * random.uniform(0.5, 1.5)  # jitter: many listings must not retry in lockstep
    if isinstance(error, PlatformThrottled):
        wait = max(wait, error.retry_after)
    return wait


def surely_not_applied(outcome: Outcome) -> bool:
    """The push never left, or the platform answered that it refused it. Timeouts, 5xx answers, transport
    failures and unexpected errors are not sure: the request may still have been, or be, applied."""
    if outcome.call_id is None:
        return True
    error = outcome.result.error
    if isinstance(error, PlatformThrottled):
        return (error.http_status or 429) < 500
    return isinstance(error, ChannelError) and not isinstance(error, PlatformTransient)


def record(session: Session, channel_id: int, outcomes: Sequence[Outcome], now: datetime) -> PushReport:
    # The exposure books first: every transaction locks books before listing rows (see partition).
    answers = [partition.Answer(o.claimed.listing_id, o.claimed.sku_id, o.claimed.book, o.result.ok,
                                not o.result.ok and surely_not_applied(o)) for o in outcomes]
    poll_wanted, freed = partition.settle(session, channel_id, answers, now)
    report = PushReport(claimed=len(outcomes), poll_wanted=poll_wanted)
    state = channel_state(session, channel_id, lock=True)
    ids = sorted(o.claimed.listing_id for o in outcomes)
    listings = {lst.id: lst for lst in session.scalars(
        select(Listing).where(Listing.id.in_(ids)).order_by(Listing.id).with_for_update())}
    any_call_ok, any_call_failed = False, False
    for o in outcomes:
        lst = listings.get(o.claimed.listing_id)
        if lst is None:
            continue  # unmapped meanwhile
        lst.claimed_until, lst.pushing_value = None, None
        error = o.result.error
        if o.result.ok:
            any_call_ok = True
            report.pushed += 1
            lst.last_pushed_value, lst.last_pushed_at = o.claimed.value, now
            lst.attempts, lst.last_error, lst.failing_since, lst.next_attempt_at = 0, None, None, None
            if o.result.extra_updates:
                lst.extra = {**(lst.extra or {}), **dict(o.result.extra_updates)}
        elif _held_back(o):
            # Throttled, or left untried after a throttled call: the platform is up and the listing did nothing
            # wrong. It waits only for the platform's retry-after (the token bucket holds every call back until
            # then), without a growing backoff, a failure mark or a count towards the breaker.
            report.failed += 1
            lst.dirty = True
            lst.dirty_since = lst.dirty_since or now
            retry_after = error.retry_after if isinstance(error, PlatformThrottled) else 0.0
            lst.next_attempt_at = now + timedelta(seconds=retry_after) if retry_after else None
        else:
            any_call_failed = any_call_failed or o.call_failed
            report.failed += 1
            message = f"{type(error).__name__}: {error}" if error else "failed"
            report.errors.append(message)
            lst.dirty = True
            lst.dirty_since = lst.dirty_since or now
            lst.attempts += 1
            lst.last_error = message[:2000]
            lst.failing_since = lst.failing_since or now
            lst.next_attempt_at = now + timedelta(seconds=backoff_seconds(lst.attempts, error))
        if o.call_id is not None:
            calls.record(session, channel_id=channel_id, op="set_stock", ok=o.result.ok, latency_ms=o.latency_ms,
                         at=now, listing_id=lst.id, sku_id=lst.sku_id, value=o.claimed.value,
                         error=None if o.result.ok else str(error), attempt=o.claimed.attempt, call_id=o.call_id,
                         propagation_ms=_ms_since(o.claimed.dirty_since, now) if o.result.ok else None,
                         response=o.response)
    report.calls = len({o.call_id for o in outcomes if o.call_id})
    if any_call_failed and not any_call_ok:
        breaker.failed(state, now)
    elif any_call_ok:
        breaker.succeeded(state)
    partition.look_again(session, freed)
    return report


def _ms_since(start: datetime | None, now: datetime) -> int | None:
    return None if start is None else max(0, int((now - start).total_seconds() * 1000))


def push_once(db: Database, settings: Settings, channel_id: int, bucket: TokenBucket, *, batch: int | None = None,
              now: Callable[[], datetime] = utcnow) -> PushReport:
    """One round for one channel: claim, push, record."""
    with db.transaction() as session:
        channel = session.get(Channel, channel_id)
        if channel is None or not channel.enabled:
            return PushReport()
        claimed, allowed = claim(session, channel_id, now(), batch or settings.sync_batch,
                                 timedelta(seconds=settings.sync_lease_seconds))
        adapter = adapter_for(channel, settings) if claimed else None
    if not allowed:
        return PushReport(breaker_open=True)
    if not claimed or adapter is None:
        return PushReport()
    outcomes = call_platform(adapter, claimed, bucket, clock=now)
    with db.transaction() as session:
        return record(session, channel_id, outcomes, now())
