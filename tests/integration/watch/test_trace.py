"""A SKU's trace over the API: one timeline of moves, reservations, orders, holds, pushes, reads, differences
and alerts, and what each platform displayed at a given moment; every read shows what the platform reported."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import httpx
from sqlalchemy import select

from conftest import Backend
from omnistock.channels.base import RateLimit
from omnistock.channels.simulator import Simulator
from omnistock.store.tables import Channel
from omnistock.sync import pusher
from omnistock.sync.limiter import TokenBucket
from omnistock.sync.worker import Worker
from omnistock.watch.tables import AgreedRead
from support.core_api import seed
from support.platforms import connect, list_item, wait_until
from support.server import LiveServer
from support.watch_api import reconcile


def test_trace_tells_everything_that_touched_a_sku(api: httpx.Client, sim: Simulator, server: LiveServer,
                                                   worker: Worker) -> None:
    seed(api, stock=10)
    jd = connect(api, sim, "jd")
    item = list_item(api, jd, "A", 1)
    wait_until(lambda: jd.shows(item) == 10, what="first push")
    r = api.post("/api/v1/orders", json={"channel": "m", "external_id": "o1", "lines": [{"sku": "A", "qty": 2}]})
    assert r.json()["status"] == "reserved"
    wait_until(lambda: jd.shows(item) == 8, what="the sale pushed")
    time.sleep(0.05)
    before_edit = datetime.now(UTC)
    time.sleep(0.05)
    jd.shop.set_quantity(item, 3, source="manual")
    run = reconcile(api, jd.code)
    time.sleep(0.05)
    after_read = datetime.now(UTC)
    api.post("/api/v1/orders", json={"channel": "m", "external_id": "o2", "lines": [{"sku": "A", "qty": 50}]})
    wait_until(lambda: jd.shows(item) == 8, what="the oversold order pushes the listing back to 8")

    got = api.get("/api/v1/skus/A/trace")
    assert got.status_code == 200, got.text
    body = got.json()
    events = body["events"]
    assert body["sku"] == "A" and body["truncated"] is False
    kinds = {e["kind"] for e in events}
    assert {"move", "reservation", "order", "hold", "push", "read", "difference", "alert"} <= kinds
    assert [e["at"] for e in events] == sorted(e["at"] for e in events)
    pushes = [e for e in events if e["kind"] == "push"]
    assert [p["value"] for p in pushes][:2] == [10, 8]
    assert all(p["channel"] == jd.code and p["listing"] == item and p["ok"] and p["latency_ms"] >= 0 for p in pushes)
    [diff] = [e for e in events if e["kind"] == "difference"]
    assert (diff["difference"], diff["expected"], diff["platform"], diff["run"]) == ("drift", 8, 3, run["id"])
    assert any(e["kind"] == "read" and e["value"] == 3 for e in events)
    assert {e["alert"] for e in events if e["kind"] == "alert"} == {"drift", "oversell"}
    assert [e["event"] for e in events if e["kind"] == "hold"] == ["held"]

    then = api.get("/api/v1/skus/A/trace", params={"at": before_edit.isoformat()}).json()["displayed"]
    assert [(d["channel"], d["listing"], d["shown"], d["source"]) for d in then] == [(jd.code, item, 8, "push")]
    read = api.get("/api/v1/skus/A/trace", params={"at": after_read.isoformat()}).json()["displayed"]
    assert (read[0]["shown"], read[0]["source"]) == (3, "read")
    now = api.get("/api/v1/skus/A/trace", params={"at": datetime.now(UTC).isoformat()}).json()["displayed"]
    assert (now[0]["shown"], now[0]["source"]) == (8, "push")


def test_a_window_limits_the_trace_and_bad_times_are_refused(api: httpx.Client) -> None:
    seed(api, stock=5)
    later = datetime.now(UTC).isoformat()
    assert api.get("/api/v1/skus/A/trace", params={"since": later}).json()["events"] == []
    assert [e["kind"] for e in api.get("/api/v1/skus/A/trace").json()["events"]] == ["move"]
    for params, field in (({"since": "2026-11-20T10:00:00"}, "since"), ({"since": "yesterday"}, "since"),
                          ({"since": later, "until": "2020-01-01T00:00:00+00:00"}, "since")):
        r = api.get("/api/v1/skus/A/trace", params=params)
        assert r.status_code == 422 and r.json()["field"] == field, r.text
    missing = api.get("/api/v1/skus/NOPE/trace")
    assert missing.status_code == 404 and missing.json()["field"] == "code"


def test_every_read_shows_what_the_platform_reported(api: httpx.Client, clean: Backend, sim: Simulator) -> None:
    """A run stores a read only where nothing else tells it: a listing showing its last pushed value gets no row
    (the trace derives it from that push), one showing what it should although never pushed gets one."""
    seed(api, stock=10)
    jd = connect(api, sim, "jd")
    pushed = list_item(api, jd, "A", 2)
    push(clean, jd.code)
    typed = list_item(api, jd, "A", 1)  # never pushed: no worker runs in this test
    jd.shop.set_quantity(typed, 10, source="manual")  # the merchant typed in the right number on the platform
    first = reconcile(api, jd.code)
    assert first["differences"] == []
    with clean.db.reading() as session:
        kept = session.execute(select(AgreedRead.run_id, AgreedRead.platform)).all()
    assert [tuple(r) for r in kept] == [(first["id"], 10)]  # one row: the listing without a push to go by

    between = datetime.now(UTC)
    api.post("/api/v1/orders", json={"channel": "m", "external_id": "o1", "lines": [{"sku": "A", "qty": 2}]})
    push(clean, jd.code)
    second = reconcile(api, jd.code)
    assert second["differences"] == []

    events = api.get("/api/v1/skus/A/trace").json()["events"]
    reads = {(e["run"], e["listing"]): (e["value"], e["agrees"], e["agrees_with"]) for e in events
             if e["kind"] == "read"}
    assert reads == {(first["id"], pushed): (10, True, "last_push"), (first["id"], typed): (10, True, "expected"),
                     (second["id"], pushed): (8, True, "last_push"), (second["id"], typed): (8, True, "last_push")}
    shown = api.get("/api/v1/skus/A/trace", params={"at": between.isoformat()}).json()["displayed"]
    assert {d["listing"]: (d["shown"], d["source"]) for d in shown} == {pushed: (10, "push"), typed: (10, "read")}


def push(backend: Backend, channel: str) -> None:
    with backend.db.reading() as session:
        channel_id = session.scalar(select(Channel.id).where(Channel.code == channel))
    assert channel_id is not None
    pusher.push_once(backend.db, backend.settings, channel_id, TokenBucket(RateLimit(100, 100)))
