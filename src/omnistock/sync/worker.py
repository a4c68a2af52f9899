"""The sync worker: one thread per channel pushes dirty listings, polls orders and runs the full sync on
schedule. `omnistock worker` runs it as its own process; `omnistock serve` runs it in-process.

When a partition push is confirmed, the channel's loop runs the order poll its listings wait for as soon as it
can cover the confirmation (`poller.poll_awaited`), whether or not scheduled polls are on; the request is
kept in the database, so a poll another process's pushes wait for, or one a crash interrupted, runs too.

Scheduled jobs run once per period across all processes: a job is claimed by a conditional UPDATE of its
last-run time, which only one transaction can win."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from omnistock.channels.base import RateLimit
from omnistock.config import Settings
from omnistock.store.db import Database
from omnistock.store.tables import Channel
from omnistock.store.types import utcnow
from omnistock.sync import fullsync, poller, pusher
from omnistock.sync.adapters import adapter_for, has_adapter
from omnistock.sync.dirty import CHANNEL
from omnistock.sync.limiter import TokenBucket
from omnistock.sync.tables import ChannelSync
from omnistock.sync.wakeup import WAKEUP, listen_postgres

log = logging.getLogger("omnistock.sync")
SCHEDULE_CHECK_S = 1.0

# Features that run their own periodic work beside the sync loops (omnistock.watch: reconciliation, alert rules,
# notifications, reports). Each is called once when a worker starts, returns the threads it started, and must
# stop them when `worker.stopping` is set; `Worker.stop` joins them.
on_start: list[Callable[[Worker], list[threading.Thread]]] = []


@dataclass
class WorkerOptions:
    batch: int | None = None  # default: settings.sync_batch
    idle_wait_s: float = 1.0
    refresh_s: float = 5.0
    poll: bool = True
    full_sync: bool = True
    rate_share: float = 1.0  # this process's share of each platform's rate limit (1/N for N worker processes


def claim_job(db: Database, channel_id: int, column: str, every: timedelta, now: datetime) -> bool:
    """True for exactly one caller per period, whatever the number of processes."""
    with db.transaction() as session:
        pusher.channel_state(session, channel_id)
        col = getattr(ChannelSync, column)
        result = session.execute(update(ChannelSync).where(
            ChannelSync.channel_id == channel_id, or_(col.is_(None), col <= now - every))
            .values({column: now}).execution_options(synchronize_session=False))
        return bool(result.rowcount)  # type: ignore[attr-defined]


def _due(last: datetime | None, every: timedelta, now: datetime) -> bool:
    return last is None or last <= now - every


class ChannelLoop:
    def __init__(self, worker: Worker, channel_id: int, limit: RateLimit) -> None:
        self.worker, self.channel_id = worker, channel_id
        share = max(0.01, worker.options.rate_share)
        self.bucket = TokenBucket(RateLimit(limit.per_second * share, max(1, int(limit.burst * share))))
        self.thread = threading.Thread(target=self.run, name=f"sync-{channel_id}", daemon=True)
        self.next_schedule_check = 0.0  # monotonic; the schedule is looked at once a second, not every round
        self.awaited_poll_at: datetime | None = None  # partition pushes wait for an order poll from then on

    def run(self) -> None:
        w = self.worker
        while not w.stopping.is_set():
            seen = WAKEUP.generation()
            try:
                busy = self.round()
            except Exception:  # keep the loop alive; the failure is logged and retried after a pause
                log.exception("sync round failed for channel %s", self.channel_id)
                busy = False
            if not busy:
                WAKEUP.wait(seen, self.idle_wait())

    def idle_wait(self) -> float:
        wait = self.worker.options.idle_wait_s
        if self.awaited_poll_at is not None:
            wait = min(wait, max(0.01, (self.awaited_poll_at - self.worker.clock()).total_seconds()))
        return wait

    def round(self) -> bool:
        w = self.worker
        report = pusher.push_once(w.db, w.settings, self.channel_id, self.bucket, batch=w.options.batch,
                                  now=w.clock)
        if report.poll_wanted:
            self.expect_awaited_poll(w.clock() + poller.CLOCK_MARGIN)
        polled = self.awaited_poll()
        if time.monotonic() >= self.next_schedule_check:
            self.next_schedule_check = time.monotonic() + SCHEDULE_CHECK_S
            self.scheduled()
        return report.claimed > 0 or polled

    def expect_awaited_poll(self, at: datetime) -> None:
        self.awaited_poll_at = at if self.awaited_poll_at is None else min(self.awaited_poll_at, at)

    def awaited_poll(self) -> bool:
        """Run the order poll confirmed partition pushes wait for, once it can cover them (rate limited)."""
        w = self.worker
        if self.awaited_poll_at is None or w.clock() < self.awaited_poll_at:
            return False
        self.awaited_poll_at = None
        wait = self.bucket.reserve(1)
        if wait > 0:
            w.stopping.wait(wait)
        report = poller.poll_awaited(w.db, w.settings, self.channel_id, now=w.clock)
        due = poller.awaited_poll_due(w.db, self.channel_id)
        if due is not None:  # confirmations after this poll's span, or a poll another worker holds
            self.expect_awaited_poll(max(due, w.clock() + timedelta(seconds=SCHEDULE_CHECK_S))
                                     if report is None else due)
        return report is not None

    def scheduled(self) -> None:
        """Run the order poll and the full sync when their period is up (once across all processes)."""
        w = self.worker
        now = w.clock()
        due = poller.awaited_poll_due(w.db, self.channel_id)
        if due is not None:
            self.expect_awaited_poll(due)
        with w.db.reading() as session:
            state = session.get(ChannelSync, self.channel_id)
            poll_every = timedelta(minutes=state.poll_minutes if state else 5)
            full_every = timedelta(minutes=state.full_sync_minutes if state else 15)
            # Look before taking the write lock: most seconds nothing is due.
            poll_due = state is None or _due(state.last_poll_at, poll_every, now)
            full_due = state is None or _due(state.last_full_sync_at, full_every, now)
        if w.options.poll and poll_due and claim_job(w.db, self.channel_id, "last_poll_at", poll_every, now):
            wait = self.bucket.reserve(1)  # a poll is a platform call too: within the same rate limit
            if wait > 0:
                w.stopping.wait(wait)
            poller.poll_once(w.db, w.settings, self.channel_id, now=w.clock)
        if w.options.full_sync and full_due and claim_job(w.db, self.channel_id, "last_full_sync_at", full_every,
                                                          now):
            with w.db.transaction() as session:
                fullsync.mark_stale(session, self.channel_id, now)


class Worker:
    def __init__(self, db: Database, settings: Settings, options: WorkerOptions | None = None,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.db, self.settings = db, settings
        self.options = options or WorkerOptions()
        self.clock = clock
        self.stopping = threading.Event()
        self.loops: dict[int, ChannelLoop] = {}
        self._threads: list[threading.Thread] = []

    def start(self) -> Worker:
        supervisor = threading.Thread(target=self._supervise, name="sync-supervisor", daemon=True)
        self._threads.append(supervisor)
        if self.db.dialect == "postgresql":
            dsn = self.db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
            listener = threading.Thread(target=listen_postgres, args=(dsn, CHANNEL, self.stopping),
                                        name="sync-listen", daemon=True)
            self._threads.append(listener)
            listener.start()
        supervisor.start()
        for start_feature in on_start:
            self._threads.extend(start_feature(self))
        return self

    def _supervise(self) -> None:
        while not self.stopping.is_set():
            try:
                self._refresh()
            except Exception:
                log.exception("sync supervisor could not refresh channels")
            self.stopping.wait(self.options.refresh_s)

    def _refresh(self) -> None:
        with self.db.reading() as session:
            channels = list(session.scalars(select(Channel).where(Channel.enabled.is_(True))))
            for ch in channels:
                if ch.id in self.loops or not has_adapter(ch):
                    continue
                limit = adapter_for(ch, self.settings).limits
                loop = ChannelLoop(self, ch.id, limit)
                self.loops[ch.id] = loop
                loop.thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self.stopping.set()
        WAKEUP.notify()
        for t in [*self._threads, *(lp.thread for lp in self.loops.values())]:
            t.join(timeout)
