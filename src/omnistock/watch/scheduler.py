"""The watch's periodic work, run beside the sync workers (`serve` and `worker`) and once per period across every
process, each job claimed through the database: scheduled reconciliations, heal confirmation and automatic
releases, the alert rules, the complaint desk's SLA scan, the weekly report and the retention clean-up; plus the
notification sender."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, cast

import httpx
from sqlalchemy import CursorResult, Table, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from omnistock.care import sla_alerts, sla_watch
from omnistock.config import Settings
from omnistock.domain.access import Principal, Role
from omnistock.errors import Conflict, OmnistockError
from omnistock.store.db import Database
from omnistock.store.tables import Channel
from omnistock.store.types import utcnow
from omnistock.sync.adapters import has_adapter
from omnistock.sync.tables import PlatformCall
from omnistock.sync.worker import Worker
from omnistock.watch import delivery, expiry, holds, reconcile, rules
from omnistock.watch.notify import SENDER_WAKE
from omnistock.watch.tables import WatchChannel, WatchJob

log = logging.getLogger("omnistock.watch")
SCHEDULER = Principal(name="watch:schedule", role=Role.ADMIN)
TICK_S = 1.0
HOLDS_EVERY = timedelta(seconds=5)
REPORT_EVERY = timedelta(minutes=10)
RETENTION_EVERY = timedelta(hours=6)
SENDER_IDLE_S = 0.5
DELETE_BATCH = 10_000


def claim(db: Database, name: str, every: timedelta, now: datetime) -> bool:
    """True for exactly one caller per period, in any number of processes (a conditional UPDATE)."""
    with db.reading() as session:
        # Look before taking the write lock: most ticks nothing is due (SQLite has one writer at a time).
        last = session.scalar(select(WatchJob.last_run_at).where(WatchJob.name == name))
        if last is not None and last > now - every:
            return False
    with db.transaction() as session:
        table = cast(Table, WatchJob.__table__)
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        session.execute(insert(table).values(name=name, last_run_at=None).on_conflict_do_nothing())
        done = session.execute(update(WatchJob).where(
            WatchJob.name == name, or_(WatchJob.last_run_at.is_(None), WatchJob.last_run_at <= now - every))
            .values(last_run_at=now).execution_options(synchronize_session=False))
        return bool(cast(CursorResult[Any], done).rowcount)


def run_in_background(db: Database, settings: Settings, run_id: int) -> threading.Thread:
    thread = threading.Thread(target=reconcile.execute, args=(db, settings, run_id), name=f"reconcile-{run_id}",
                              daemon=True)
    thread.start()
    return thread


def due_reconciliations(db: Database, settings: Settings, now: datetime) -> list[int]:
    """Start the reconciliations whose period is up (the first one a period after the channel was added)."""
    with db.reading() as session:
        rows = session.execute(select(Channel, WatchChannel).outerjoin(
            WatchChannel, WatchChannel.channel_id == Channel.id).where(Channel.enabled.is_(True))).all()
        due = [(ch.id, ch.code, ch.created_at, ws.reconcile_minutes if ws else 60.0) for ch, ws in rows
               if has_adapter(ch) and (ws is None or ws.reconcile_minutes > 0)
               and (ws.last_reconcile_at if ws and ws.last_reconcile_at else ch.created_at)
               + timedelta(minutes=ws.reconcile_minutes if ws else 60.0) <= now]
    started = []
    for cid, code, created, minutes in due:
        try:
            with db.transaction() as session:
                reconcile.watch_settings(session, cid)
                last = func.coalesce(WatchChannel.last_reconcile_at, created)
                won = session.execute(update(WatchChannel).where(
                    WatchChannel.channel_id == cid, last <= now - timedelta(minutes=minutes))
                    .values(last_reconcile_at=now).execution_options(synchronize_session=False))
                run = reconcile.start(session, code, SCHEDULER, trigger="schedule", now=now) \
                    if cast(CursorResult[Any], won).rowcount else None
        except Conflict:
            continue  # a run of this channel is going on (started by hand): the next period will do
        if run is not None:
            run_in_background(db, settings, run.id)
            started.append(run.id)
    return started


def clean_calls(db: Database, settings: Settings, now: datetime) -> int:
    """Delete platform call records older than the retention, a batch at a time (short transactions)."""
    cutoff = now - timedelta(days=settings.call_retention_days)
    removed = 0
    while True:
        with db.transaction() as session:
            ids = list(session.scalars(select(PlatformCall.id).where(PlatformCall.at < cutoff).limit(DELETE_BATCH)))
            if ids:
                session.execute(delete(PlatformCall).where(PlatformCall.id.in_(ids)))
        removed += len(ids)
        if len(ids) < DELETE_BATCH:
            return removed


def tick(db: Database, settings: Settings, clock: Callable[[], datetime] = utcnow) -> None:
    """One pass over every periodic job (each runs only when its period is up)."""
    from omnistock.sync import rollout
    from omnistock.watch import report_job

    jobs: list[tuple[str, timedelta | None, Callable[[], object]]] = [
        ("reconcile", None, lambda: due_reconciliations(db, settings, clock())),
        ("holds", HOLDS_EVERY, lambda: _holds(db)),
        ("rules", timedelta(seconds=settings.watch_rules_seconds), lambda: rules.evaluate(db, clock())),
        ("batch_expiry", timedelta(seconds=settings.watch_rules_seconds), lambda: expiry.run(db, clock())),
        ("care_sla", timedelta(seconds=settings.care_sla_scan_seconds), lambda: care_sla_scan(db, clock())),
        ("weekly_report", REPORT_EVERY, lambda: report_job.run_due(db, settings, clock())),
        ("retention", RETENTION_EVERY, lambda: clean_calls(db, settings, clock())),
        ("rollout_compare", timedelta(minutes=settings.rollout_compare_minutes),
         lambda: rollout.compare_shadowed(db, settings, clock())),
    ]
    for name, every, job in jobs:
        try:
            if every is None or claim(db, name, every, clock()):
                job()
        except OmnistockError as exc:
            log.warning("watch job %s: %s", name, exc.message)
        except Exception:  # a failing job must not stop the others: logged, tried again next period
            log.exception("watch job %s failed", name)


def care_sla_scan(db: Database, now: datetime) -> int:
    """The complaint desk's SLA watch: refresh the clocks of open cases, raise escalations (and their alerts),
    resolve the alerts of cases no longer late; returns the escalations raised. Cases another process is
    scanning are skipped (locked), and an escalation is raised once however many scans see it."""
    with db.transaction() as session:
        raised = sla_watch.scan(session, now)
        sla_alerts.settle(session)
    return len(raised)


def _holds(db: Database) -> None:
    with db.transaction() as session:
        holds.confirm_healed(session)
    holds.release_cleared(db)


def _jobs_loop(db: Database, settings: Settings, stopping: threading.Event,
               clock: Callable[[], datetime]) -> None:
    while not stopping.is_set():
        tick(db, settings, clock)
        stopping.wait(TICK_S)


def _sender_loop(db: Database, settings: Settings, stopping: threading.Event,
                 clock: Callable[[], datetime]) -> None:
    with httpx.Client(timeout=httpx.Timeout(10.0, connect=5.0)) as client:
        while not stopping.is_set():
            SENDER_WAKE.clear()
            try:
                sent = delivery.send_due(db, settings, client, clock)
            except Exception:
                log.exception("notification sender round failed")
                sent = 0
            if not sent:
                SENDER_WAKE.wait(SENDER_IDLE_S)


def start(worker: Worker) -> list[threading.Thread]:
    """`sync.worker.on_start` hook: the job loop and the sender, stopped with the worker."""
    args = (worker.db, worker.settings, worker.stopping, worker.clock)
    threads = [threading.Thread(target=_jobs_loop, args=args, name="watch-jobs", daemon=True),
               threading.Thread(target=_sender_loop, args=args, name="watch-sender", daemon=True)]
    for thread in threads:
        thread.start()
    return threads
