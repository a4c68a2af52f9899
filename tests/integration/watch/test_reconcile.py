"""Reconciliation over real HTTP against the simulator: drift found and healed, missing listings, unmapped items,
stale listings, one run per channel at a time, the channel's setting, and bad input."""

from __future__ import annotations

import time
from datetime import timedelta

import httpx
from sqlalchemy import select, update

from conftest import Backend
from omnistock.channels.simulator import SimListing, Simulator
from omnistock.domain.access import Principal, Role
from omnistock.store.types import utcnow
from omnistock.sync.tables import Listing
from omnistock.sync.worker import Worker
from omnistock.watch import overrun
from omnistock.watch import reconcile as reconcile_service
from omnistock.watch.tables import WatchChannel
from support.core_api import seed
from support.platforms import connect, list_item, wait_until
from support.server import LiveServer
from support.watch_api import alerts_of, by_kind, reconcile

ADMIN = Principal(name="test", role=Role.ADMIN)


def test_manual_edit_on_the_platform_is_found_as_drift_and_healed(api: httpx.Client, sim: Simulator,
                                                                  server: LiveServer, worker: Worker) -> None:
    seed(api, stock=10)
    jd = connect(api, sim, "jd")
    item = list_item(api, jd, "A", 1)
    wait_until(lambda: jd.shows(item) == 10, what="first push")
    jd.shop.set_quantity(item, 3, source="manual")  # someone edits the stock in the JD back office

    found = reconcile(api, jd.code)
    assert found["status"] == "done" and found["checked"] == 1 and found["mode"] == "alert"
    assert [{k: v for k, v in d.items() if k != "id"} for d in found["differences"]] == [{
        "sku": "A", "external_id": item, "kind": "drift", "expected": 10, "platform": 3, "last_pushed": 10,
        "action": "alert", "status": "open"}]
    time.sleep(0.5)
    assert jd.shows(item) == 3  # alert mode only tells
    [alert] = alerts_of(api, "drift")
    assert alert["sku"] == "A" and alert["channel"] == jd.code and "shows 3, should show 10" in alert["message"]

    healed = reconcile(api, jd.code, heal=True)
    assert healed["mode"] == "heal" and by_kind(healed, "drift")[0]["action"] == "heal"
    wait_until(lambda: jd.shows(item) == 10, what="the right value pushed again")
    again = reconcile(api, jd.code)
    assert again["differences"] == [] and again["counts"]["drift"] == 0
    assert alerts_of(api, "drift") == []


def test_a_listing_removed_on_the_platform_is_missing(api: httpx.Client, sim: Simulator, server: LiveServer,
                                                     worker: Worker) -> None:
    seed(api, stock=4)
    jd = connect(api, sim, "jd")
    kept, gone = list_item(api, jd, "A", 2), list_item(api, jd, "A", 3)
    wait_until(lambda: jd.shows(kept) == 4 and jd.shows(gone) == 4, what="first push")
    jd.shop.remove_listing(gone)
    run = reconcile(api, jd.code, heal=True)
    assert [(d["external_id"], d["kind"], d["expected"], d["platform"], d["action"]) for d in run["differences"]] \
        == [(gone, "missing", 4, None, "alert")]  # pushing cannot bring an item back: a person must
    assert run["checked"] == 2


def test_a_platform_item_with_stock_and_no_sku_is_unmapped(api: httpx.Client, sim: Simulator, server: LiveServer,
                                                           worker: Worker) -> None:
    seed(api, stock=2)
    jd = connect(api, sim, "jd")
    item = list_item(api, jd, "A", 4)
    jd.shop.upsert_listing(SimListing("7999", 6, external_sku="OLD-1"))
    jd.shop.upsert_listing(SimListing("7998", 0, external_sku="OLD-2"))  # no stock: not selling, not reported
    wait_until(lambda: jd.shows(item) == 2, what="first push")
    run = reconcile(api, jd.code)
    assert [(d["sku"], d["external_id"], d["kind"], d["platform"]) for d in run["differences"]] \
        == [(None, "7999", "unmapped", 6)]
    [alert] = alerts_of(api, "unmapped")
    assert "7999" in alert["message"]
    unmapped = api.get(f"/api/v1/channels/{jd.code}/unmapped")
    if unmapped.status_code == 200:  # the channels' unmapped list shows it too
        assert "7999" in {u["external_id"] for u in unmapped.json()["items"]}


def test_a_listing_waiting_for_its_push_is_stale_not_drift(api: httpx.Client, sim: Simulator,
                                                          server: LiveServer) -> None:
    seed(api, stock=5)
    jd = connect(api, sim, "jd")
    item = list_item(api, jd, "A", 5, shown=1)  # no worker runs: its first push is pending
    run = reconcile(api, jd.code, heal=True)
    assert [(d["kind"], d["expected"], d["platform"], d["action"]) for d in run["differences"]] \
        == [("stale", 5, 1, "none")]
    assert jd.shows(item) == 1


def test_one_channel_is_never_reconciled_twice_at_once(api: httpx.Client, sim: Simulator, server: LiveServer,
                                                       clean: Backend) -> None:
    seed(api, stock=5)
    jd = connect(api, sim, "jd")
    list_item(api, jd, "A", 6)
    jd.shop.faults.latency_ms = (1500, 1500)  # a slow platform keeps the first run reading
    try:
        first = api.post("/api/v1/reconciliations", json={"channel": jd.code})
        second = api.post("/api/v1/reconciliations", json={"channel": jd.code})
        assert first.status_code == 202, first.text
        assert second.status_code == 409 and second.json()["field"] == "channel", second.text
        assert f"#{first.json()['id']}" in second.json()["detail"]
    finally:
        jd.shop.faults.latency_ms = (0, 0)
    wait_until(lambda: api.get(f"/api/v1/reconciliations/{first.json()['id']}").json()["status"] == "done",
               what="the first run done")
    assert reconcile(api, jd.code)["status"] == "done"  # the lock is free again
    listed = api.get("/api/v1/reconciliations", params={"channel": jd.code}).json()
    assert listed["total"] == 2


def test_channel_setting_decides_what_a_run_does(api: httpx.Client, sim: Simulator, server: LiveServer) -> None:
    seed(api)
    jd = connect(api, sim, "jd")
    assert api.get(f"/api/v1/channels/{jd.code}/reconciliation").json() == \
        {"channel": jd.code, "mode": "alert", "every_minutes": 60.0}
    r = api.put(f"/api/v1/channels/{jd.code}/reconciliation", json={"mode": "heal", "every_minutes": 15})
    assert r.status_code == 200 and r.json()["mode"] == "heal", r.text
    assert reconcile(api, jd.code)["mode"] == "heal"
    assert reconcile(api, jd.code, heal=False)["mode"] == "alert"  # the request overrides the setting
    bad = api.put(f"/api/v1/channels/{jd.code}/reconciliation", json={"mode": "fix"})
    assert bad.status_code == 422 and bad.json()["field"] == "mode"


def test_bad_reconciliation_requests_name_the_field_and_write_nothing(api: httpx.Client, sim: Simulator,
                                                                     server: LiveServer) -> None:
    seed(api)
    unknown = api.post("/api/v1/reconciliations", json={"channel": "nope"})
    assert unknown.status_code == 404 and unknown.json()["field"] == "channel"
    manual = api.post("/api/v1/reconciliations", json={"channel": "m"})  # a manual channel has no platform
    assert manual.status_code == 422 and manual.json()["field"] == "channel"
    jd = connect(api, sim, "jd")
    wrong = api.post("/api/v1/reconciliations", json={"channel": jd.code, "heal": "yes"})
    assert wrong.status_code == 422 and wrong.json()["field"] == "heal"
    extra = api.post("/api/v1/reconciliations", json={"channel": jd.code, "fast": True})
    assert extra.status_code == 422 and extra.json()["field"] == "fast"
    assert api.get("/api/v1/reconciliations").json()["total"] == 0
    assert api.get("/api/v1/reconciliations/999").status_code == 404


def test_a_platform_that_refuses_the_read_fails_the_run_and_frees_the_lock(api: httpx.Client, sim: Simulator,
                                                                           server: LiveServer) -> None:
    seed(api)
    jd = connect(api, sim, "jd")
    jd.shop.faults.auth_broken = True
    try:
        run = reconcile(api, jd.code)
    finally:
        jd.shop.faults.auth_broken = False
    assert run["status"] == "failed" and "auth" in run["error"].lower()
    assert reconcile(api, jd.code)["status"] == "done"


def test_a_run_whose_process_died_frees_its_channel_when_its_lease_runs_out(api: httpx.Client, sim: Simulator,
                                                                            server: LiveServer,
                                                                            clean: Backend) -> None:
    seed(api)
    jd = connect(api, sim, "jd")
    with clean.db.transaction() as session:  # started, then its process died: never executed
        dead = reconcile_service.start(session, jd.code, ADMIN, trigger="api").id
    assert api.post("/api/v1/reconciliations", json={"channel": jd.code}).status_code == 409
    with clean.db.transaction() as session:
        session.execute(update(WatchChannel).values(running_until=utcnow() - timedelta(seconds=1)))
    assert reconcile(api, jd.code)["status"] == "done"
    old = api.get(f"/api/v1/reconciliations/{dead}").json()
    assert old["status"] == "failed" and old["error"].startswith("abandoned")


def test_a_sale_beyond_what_the_platform_was_shown_is_a_drift_alert_at_once(api: httpx.Client, sim: Simulator,
                                                                           server: LiveServer,
                                                                           clean: Backend) -> None:
    seed(api, stock=3)
    jd = connect(api, sim, "jd")
    item = list_item(api, jd, "A", 1, shown=0)
    with clean.db.transaction() as session:  # what the sync engine's exposure books call when they see it
        listing = session.scalar(select(Listing).where(Listing.external_id == item))
        assert listing is not None
        overrun.on_overrun(session, listing.sku_id, listing.id, 2)
    [alert] = alerts_of(api, "drift")
    assert alert["sku"] == "A" and alert["channel"] == jd.code and "sold 2 unit(s) beyond" in alert["message"]
    jd.shop.set_quantity(item, 0)
    with clean.db.transaction() as session:
        session.execute(update(Listing).values(dirty=False, last_pushed_value=0))
    assert reconcile(api, jd.code)["differences"] == []
    assert alerts_of(api, "drift") == []  # the platform is right again: the next run resolves it
