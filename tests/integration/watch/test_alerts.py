"""Alerts: an oversell reaches a local webhook receiver within seconds (measured and printed, never asserted on
time), de-duplication, acknowledgement, auto-resolution, the periodic rules and their settings."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import timedelta

import httpx
from sqlalchemy import func, select, update

from conftest import Backend
from omnistock.channels.simulator import Simulator
from omnistock.store.types import utcnow
from omnistock.sync.tables import ChannelSync
from omnistock.sync.worker import Worker
from omnistock.watch import alerts, rules
from omnistock.watch.tables import Notification
from support.core_api import seed
from support.notify_receivers import RobotReceiver
from support.platforms import connect, list_item, wait_until
from support.server import LiveServer
from support.watch_api import alerts_of


def test_an_oversell_reaches_a_local_webhook_receiver_as_an_alert(api: httpx.Client, clean: Backend,
                                                                  worker: Worker) -> None:
    seed(api, stock=2)
    with RobotReceiver(answer=b"", status=200) as hook:
        assert api.post("/api/v1/notifiers", json={"code": "ops", "kind": "webhook",
                                                   "settings": {"url": hook.url(), "secret": "k"}}).status_code == 201
        sent = time.time()
        r = api.post("/api/v1/orders", json={"channel": "m", "external_id": "big", "lines": [{"sku": "A", "qty": 3}]})
        assert r.json()["status"] == "held"
        [hit] = hook.wait_for(1, timeout=30)
    alert = json.loads(hit.body)
    assert alert["kind"] == "oversell" and alert["sku"] == "A" and alert["order_id"] == r.json()["id"]
    assert hit.headers["x-omnistock-signature"] == base64.b64encode(
        hmac.new(b"k", hit.body, hashlib.sha256).digest()).decode()
    print(f"\nDETECTION api-order oversell -> webhook receipt [{clean.name}]: {(hit.at - sent) * 1000:.0f} ms")


def test_a_platform_oversell_reaches_the_receiver(api: httpx.Client, clean: Backend, sim: Simulator,
                                                  server: LiveServer, worker: Worker) -> None:
    seed(api, stock=1)
    douyin = connect(api, sim, "douyin", webhook_base=server.url)
    item = list_item(api, douyin, "A", 1)
    wait_until(lambda: douyin.shows(item) == 1, what="first push")
    douyin.shop.set_quantity(item, 5, source="manual")  # the platform shows more than exists
    with RobotReceiver(answer=b"", status=200) as hook:
        api.post("/api/v1/notifiers", json={"code": "ops", "kind": "webhook", "settings": {"url": hook.url()},
                                            "routes": {"kinds": ["oversell"]}})
        bought = time.time()
        assert douyin.shop.buy(item, 3, {"name": "张三"}) is not None
        [hit] = hook.wait_for(1, timeout=30)
    alert = json.loads(hit.body)
    assert alert["kind"] == "oversell" and alert["channel"] == douyin.code
    print(f"\nDETECTION platform oversell (douyin webhook) -> notifier receipt [{clean.name}]: "
          f"{(hit.at - bought) * 1000:.0f} ms")


def test_repeated_signature_failures_make_one_alert(api: httpx.Client, clean: Backend, sim: Simulator,
                                                   server: LiveServer) -> None:
    seed(api)
    douyin = connect(api, sim, "douyin")
    with RobotReceiver(answer=b"", status=200) as hook:
        api.post("/api/v1/notifiers", json={"code": "sec", "kind": "webhook", "settings": {"url": hook.url()}})
        for _ in range(3):
            r = httpx.post(f"{server.url}/webhooks/{douyin.code}", content=b'[{"tag":"100","msg_id":"1","data":"{}"}]',
                           headers={"app-id": "dy-key", "event-sign": "forged"})
            assert r.status_code == 401
    [alert] = alerts_of(api, "webhook_signature")
    assert alert["occurrences"] == 3 and alert["channel"] == douyin.code
    with clean.db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Notification)) == 1  # notified once, not thrice


def test_a_still_open_alert_is_notified_again_after_the_quiet_period(clean: Backend, api: httpx.Client) -> None:
    api.post("/api/v1/notifiers", json={"code": "n", "kind": "webhook", "settings": {"url": "http://127.0.0.1:9/"}})
    cond = alerts.Condition(kind="drift", key="drift:test", severity="warning", message="differs")
    start = utcnow()
    with clean.db.transaction() as session:
        for minutes in (0, 10, 30, 61):
            alerts.raise_alert(session, cond, start + timedelta(minutes=minutes))
    with clean.db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Notification)) == 2  # at 0 and after 60 quiet min
    [alert] = alerts_of(api, "drift")
    assert alert["occurrences"] == 4


def test_oversell_stays_open_until_acknowledged(api: httpx.Client) -> None:
    seed(api, stock=1)
    api.post("/api/v1/orders", json={"channel": "m", "external_id": "o1", "lines": [{"sku": "A", "qty": 4}]})
    [alert] = alerts_of(api, "oversell")
    api.post("/api/v1/moves", json={"sku": "A", "location": "WH", "kind": "receipt", "qty": 10})
    assert alerts_of(api, "oversell") != []  # stock arriving does not close it: a person must see it
    acked = api.post(f"/api/v1/alerts/{alert['id']}/ack", json={"note": "calling the customer"})
    assert acked.status_code == 200 and acked.json()["status"] == "resolved"
    assert acked.json()["acknowledged_by"]
    assert alerts_of(api, "oversell") == []
    again = api.post(f"/api/v1/alerts/{alert['id']}/ack")
    assert again.status_code == 409 and again.json()["field"] == "id"
    trail = api.get("/api/v1/audit").json()["items"]
    assert any(e["action"] == "alert.ack" and e["reason"] == "calling the customer" for e in trail)


def test_oversell_resolves_when_its_held_order_is_cancelled_or_released(api: httpx.Client) -> None:
    seed(api, stock=1)
    first = api.post("/api/v1/orders", json={"channel": "m", "external_id": "o1", "lines": [{"sku": "A", "qty": 4}]})
    second = api.post("/api/v1/orders", json={"channel": "m", "external_id": "o2", "lines": [{"sku": "A", "qty": 3}]})
    assert len(alerts_of(api, "oversell")) == 2
    api.post(f"/api/v1/orders/{first.json()['id']}/cancel")
    api.post("/api/v1/moves", json={"sku": "A", "location": "WH", "kind": "receipt", "qty": 5})
    assert api.post(f"/api/v1/orders/{second.json()['id']}/release").json()["status"] == "reserved"
    assert alerts_of(api, "oversell") == []
    assert len(alerts_of(api, "oversell", status="resolved")) == 2


def test_low_stock_alert_raises_and_resolves_itself(api: httpx.Client, clean: Backend) -> None:
    seed(api, stock=3)
    r = api.put("/api/v1/alert-rules/low_stock", json={"settings": {"threshold": 1, "per_sku": {"A": 5}}})
    assert r.status_code == 200 and r.json()["settings"]["per_sku"] == {"A": 5}, r.text
    api.post("/api/v1/orders", json={"channel": "m", "external_id": "s1", "lines": [{"sku": "A", "qty": 1}]})
    rules.evaluate(clean.db)
    [alert] = alerts_of(api, "low_stock")
    assert alert["sku"] == "A" and "2 available (threshold 5)" in alert["message"]
    rules.evaluate(clean.db)
    assert alerts_of(api, "low_stock")[0]["occurrences"] == 2  # the same condition updates one alert
    api.post("/api/v1/moves", json={"sku": "A", "location": "WH", "kind": "receipt", "qty": 10})
    rules.evaluate(clean.db)
    assert alerts_of(api, "low_stock") == []
    assert alerts_of(api, "low_stock", status="resolved")[0]["id"] == alert["id"]


def test_an_open_breaker_raises_sync_failing_until_it_closes(api: httpx.Client, clean: Backend, sim: Simulator) -> None:
    seed(api)
    jd = connect(api, sim, "jd")
    with clean.db.transaction() as session:
        cid = session.scalar(select(ChannelSync.channel_id))
        if cid is None:
            from omnistock.services.lookup import channel_by_code
            from omnistock.sync.pusher import channel_state

            cid = channel_by_code(session, jd.code).id
            channel_state(session, cid)
        session.execute(update(ChannelSync).values(breaker="open"))
    rules.evaluate(clean.db)
    [alert] = alerts_of(api, "sync_failing")
    assert alert["channel"] == jd.code and alert["severity"] == "critical" and "breaker" in alert["message"]
    with clean.db.transaction() as session:
        session.execute(update(ChannelSync).values(breaker="closed"))
    rules.evaluate(clean.db)
    assert alerts_of(api, "sync_failing") == []


def test_alert_rules_can_be_switched_off_and_bad_settings_are_refused(api: httpx.Client) -> None:
    seed(api, stock=1)
    kinds = {r["kind"] for r in api.get("/api/v1/alert-rules").json()["items"]}
    assert {"low_stock", "oversell", "drift", "sync_failing", "webhook_signature", "intake_silent"} <= kinds
    for body, field in (({"settings": {"colour": 1}}, "settings.colour"),
                        ({"settings": {"threshold": -1}}, "settings.threshold"),
                        ({"enabled": "no"}, "enabled")):
        r = api.put("/api/v1/alert-rules/low_stock", json=body)
        assert r.status_code == 422 and r.json()["field"] == field, r.text
    assert api.put("/api/v1/alert-rules/nope", json={}).status_code == 404
    assert api.put("/api/v1/alert-rules/oversell", json={"enabled": False}).json()["enabled"] is False
    api.post("/api/v1/orders", json={"channel": "m", "external_id": "o1", "lines": [{"sku": "A", "qty": 4}]})
    assert alerts_of(api, "oversell") == []


def test_bad_alert_queries_name_the_field(api: httpx.Client) -> None:
    r = api.get("/api/v1/alerts", params={"status": "closed"})
    assert r.status_code == 422 and r.json()["field"] == "status"
    assert api.post("/api/v1/alerts/424242/ack").status_code == 404
    page = api.get("/api/v1/alerts").json()
    assert set(page) == {"items", "total", "next"} and page["total"] == 0


def test_a_drift_reaches_the_receiver_within_one_reconciliation(api: httpx.Client, clean: Backend, sim: Simulator,
                                                               server: LiveServer, worker: Worker) -> None:
    seed(api, stock=6)
    jd = connect(api, sim, "jd")
    item = list_item(api, jd, "A", 1)
    wait_until(lambda: jd.shows(item) == 6, what="first push")
    with RobotReceiver(answer=b"", status=200) as hook:
        api.post("/api/v1/notifiers", json={"code": "ops", "kind": "webhook", "settings": {"url": hook.url()},
                                            "routes": {"kinds": ["drift"]}})
        jd.shop.set_quantity(item, 40, source="manual")
        started = time.time()
        assert api.post("/api/v1/reconciliations", json={"channel": jd.code}).status_code == 202
        [hit] = hook.wait_for(1, timeout=30)
    alert = json.loads(hit.body)
    assert alert["kind"] == "drift" and alert["channel"] == jd.code and "shows 40, should show 6" in alert["message"]
    print(f"\nDETECTION drift: reconciliation requested -> notifier receipt [{clean.name}]: "
          f"{(hit.at - started) * 1000:.0f} ms")
