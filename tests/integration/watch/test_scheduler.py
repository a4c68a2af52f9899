"""The watch's periodic jobs: each runs once per period whatever the number of callers, reconciliations start
on their channel's schedule, and old platform call records are cleaned up."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
from sqlalchemy import func, select

from conftest import Backend
from omnistock.channels.simulator import Simulator
from omnistock.store.tables import Channel
from omnistock.store.types import utcnow
from omnistock.sync.tables import PlatformCall
from omnistock.watch import scheduler
from omnistock.watch.tables import Reconciliation
from support.core_api import seed
from support.platforms import connect, list_item
from support.server import LiveServer


def test_a_job_runs_once_per_period_however_many_ask(clean: Backend) -> None:
    now = utcnow()
    with ThreadPoolExecutor(6) as pool:
        won = list(pool.map(lambda _: scheduler.claim(clean.db, "nightly", timedelta(hours=1), now), range(6)))
    assert won.count(True) == 1
    assert not scheduler.claim(clean.db, "nightly", timedelta(hours=1), now + timedelta(minutes=59))
    assert scheduler.claim(clean.db, "nightly", timedelta(hours=1), now + timedelta(hours=1))


def test_reconciliations_start_on_their_channels_schedule(api: httpx.Client, clean: Backend, sim: Simulator,
                                                          server: LiveServer) -> None:
    seed(api, stock=3)
    jd = connect(api, sim, "jd")
    list_item(api, jd, "A", 1)
    api.put(f"/api/v1/channels/{jd.code}/reconciliation", json={"every_minutes": 10})
    now = utcnow()
    assert scheduler.due_reconciliations(clean.db, clean.settings, now) == []  # the first one a period later
    [run_id] = scheduler.due_reconciliations(clean.db, clean.settings, now + timedelta(minutes=11))
    assert scheduler.due_reconciliations(clean.db, clean.settings, now + timedelta(minutes=12)) == []
    deadline = time.monotonic() + 30
    while api.get(f"/api/v1/reconciliations/{run_id}").json()["status"] == "running" and time.monotonic() < deadline:
        time.sleep(0.05)
    run = api.get(f"/api/v1/reconciliations/{run_id}").json()
    assert run["status"] == "done" and run["trigger"] == "schedule" and run["checked"] == 1
    api.put(f"/api/v1/channels/{jd.code}/reconciliation", json={"every_minutes": 0})  # on demand only
    assert scheduler.due_reconciliations(clean.db, clean.settings, now + timedelta(days=2)) == []


def test_old_platform_call_records_are_cleaned_up(api: httpx.Client, clean: Backend) -> None:
    seed(api)
    now = utcnow()
    with clean.db.transaction() as session:
        cid = session.scalar(select(Channel.id))
        session.add_all(PlatformCall(channel_id=cid, op="set_stock", ok=True, latency_ms=5, at=now - timedelta(days=d))
                        for d in (0, 1, 29, 31, 45, 90))
    assert scheduler.clean_calls(clean.db, clean.settings, now) == 3
    with clean.db.reading() as session:
        assert session.scalar(select(func.count()).select_from(PlatformCall)) == 3


def test_every_job_runs_on_an_empty_database(clean: Backend) -> None:
    scheduler.tick(clean.db, clean.settings)
    with clean.db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Reconciliation)) == 0
    assert not scheduler.claim(clean.db, "rules", timedelta(seconds=30), utcnow())  # tick ran it just now
