"""Shadow and pilot rollout: shadow makes no platform call, pilot pushes only its SKUs, differences are
compared, explained and reported before going live."""

from __future__ import annotations

import time

import httpx

from omnistock.sync.worker import Worker
from support.core_api import seed
from support.platforms import connect, list_item, wait_until
from support.server import LiveServer


def test_shadow_mode_makes_no_platform_call_then_live_pushes(api: httpx.Client, sim, server: LiveServer,  # type: ignore[no-untyped-def]
                                                              worker: Worker) -> None:
    seed(api, stock=10)
    jd = connect(api, sim, "jd")
    r = api.put(f"/api/v1/channels/{jd.code}/mode", json={"mode": "shadow", "reason": "first week: compare only"})
    assert r.status_code == 200, r.text
    item = list_item(api, jd, "A", 1, shown=8)
    api.post("/api/v1/moves", json={"sku": "A", "location": "WH", "kind": "receipt", "qty": 5})
    time.sleep(1.5)  # the worker has had every chance to push
    assert jd.shop.calls["set_stock"] == 0 and jd.shows(item) == 8
    diffs = api.post(f"/api/v1/channels/{jd.code}/rollout/compare").json()["items"]
    assert [(d["sku"], d["expected"], d["platform"]) for d in diffs] == [("A", 15, 8)]
    report = api.get(f"/api/v1/channels/{jd.code}/rollout/report").json()
    assert report["unexplained"] == 1 and not report["ready_for_live"]
    api.post(f"/api/v1/channels/{jd.code}/rollout/differences/{diffs[0]['id']}/explain",
             json={"reason": "platform stock was last set by the old ERP on Monday"})
    assert api.get(f"/api/v1/channels/{jd.code}/rollout/report").json()["ready_for_live"]
    api.put(f"/api/v1/channels/{jd.code}/mode", json={"mode": "live", "reason": "differences explained"})
    wait_until(lambda: jd.shows(item) == 15, what="live pushes the right value")
    audit = api.get("/api/v1/audit").json()["items"]
    assert [a["after"]["mode"] for a in audit if a["action"] == "channel.mode"] == ["live", "shadow"]


def test_pilot_pushes_only_its_skus(api: httpx.Client, sim, server: LiveServer, worker: Worker) -> None:  # type: ignore[no-untyped-def]
    seed(api, stock=10)
    api.post("/api/v1/skus", json={"code": "B", "name": "Beta"})
    api.post("/api/v1/moves", json={"sku": "B", "location": "WH", "kind": "receipt", "qty": 4})
    pdd = connect(api, sim, "pinduoduo")
    api.put(f"/api/v1/channels/{pdd.code}/mode", json={"mode": "pilot", "pilot_skus": ["A"], "reason": "pilot A"})
    a, b = list_item(api, pdd, "A", 1, shown=99), list_item(api, pdd, "B", 2, shown=99)
    wait_until(lambda: pdd.shows(a) == 10, what="the pilot SKU is pushed")
    time.sleep(1.0)
    assert pdd.shows(b) == 99  # outside the pilot: untouched


def test_bad_mode_changes_are_refused(api: httpx.Client, sim) -> None:  # type: ignore[no-untyped-def]
    seed(api)
    jd = connect(api, sim, "jd")
    assert api.put(f"/api/v1/channels/{jd.code}/mode", json={"mode": "pilot", "reason": "x"}).status_code == 422
    assert api.put(f"/api/v1/channels/{jd.code}/mode", json={"mode": "turbo", "reason": "x"}).status_code == 422
    r = api.put(f"/api/v1/channels/{jd.code}/mode", json={"mode": "pilot", "pilot_skus": ["NOPE"], "reason": "x"})
    assert r.status_code == 404 and r.json()["field"] == "pilot_skus[0]"
    assert api.get(f"/api/v1/channels/{jd.code}/rollout/report").json()["mode"] == "live"
