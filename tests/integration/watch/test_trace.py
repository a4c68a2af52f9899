"""A SKU's trace over the API: one timeline of moves, reservations, orders, holds, pushes, reads, differences
and alerts, and what each platform displayed at a given moment."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import httpx

from omnistock.channels.simulator import Simulator
from omnistock.sync.worker import Worker
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
    api.post("/api/v1/orders", json={"channel": "m", "external_id": "o2", "lines": [{"sku": "A", "qty": 50}]})

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
    now = api.get("/api/v1/skus/A/trace", params={"at": datetime.now(UTC).isoformat()}).json()["displayed"]
    assert (now[0]["shown"], now[0]["source"]) == (3, "read")


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
