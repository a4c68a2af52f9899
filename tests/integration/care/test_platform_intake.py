"""Cases from platform events (disputes, after-sale requests): opened by `open_case_from_platform_event`, and by
the order intake for the refunds platforms send by webhook or that a poll finds — once per order, however often
the event is delivered and by whichever path."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from conftest import Backend
from omnistock.care.platform_intake import open_case_from_platform_event
from omnistock.channels.simulator import Simulator
from omnistock.errors import Invalid, NotFound
from omnistock.services.lookup import channel_by_code
from omnistock.store.types import utcnow
from omnistock.sync import poller
from omnistock.sync.tables import InboxEvent
from support.care_api import case, cases_of_order, order, the_case_of, total_cases
from support.core_api import seed
from support.platforms import Connected, connect, list_item, wait_until
from support.server import LiveServer


def test_platform_event_opens_a_case_linked_to_the_order(api: httpx.Client, clean: Backend) -> None:
    seed(api, stock=5)
    o = order(api, "JD-1", 1)
    with clean.db.transaction() as session:
        cid = open_case_from_platform_event(session, "m", "JD-1", "dispute", {
            "dispute_id": "D-9", "message": "买家申请平台介入：一直未发货", "category": "late_shipment"}).id
    c = case(api, cid)
    assert (c["source"], c["order_id"], c["category"], c["priority"]) == ("platform", o["id"], "late_shipment",
                                                                         "urgent")
    assert c["customer"]["name"] == "王小明"
    assert c["messages"][0]["body"] == "买家申请平台介入：一直未发货"


def test_the_same_platform_event_twice_returns_the_first_case(api: httpx.Client, clean: Backend) -> None:
    seed(api, stock=5)
    order(api, "JD-1", 1)
    payload = {"refund_id": "R-1", "reason": "缺货"}
    with clean.db.transaction() as session:
        first = open_case_from_platform_event(session, "m", "JD-1", "out_of_stock", payload).id
    with clean.db.transaction() as session:
        again = open_case_from_platform_event(session, "m", "JD-1", "out_of_stock", payload).id
        other = open_case_from_platform_event(session, "m", "JD-1", "out_of_stock", {"refund_id": "R-2"}).id
    assert first == again and other != first
    assert total_cases(api) == 2
    assert case(api, first)["category"] == "out_of_stock"


def test_event_about_an_unknown_order_opens_a_standalone_case(api: httpx.Client, clean: Backend) -> None:
    seed(api)
    with clean.db.transaction() as session:
        cid = open_case_from_platform_event(session, "m", "NOT-HERE", "after_sale",
                                            {"customer": {"name": "Ann", "phone": "+15550100"}}).id
    c = case(api, cid)
    assert (c["order_id"], c["channel"], c["external_order_id"], c["category"]) == (None, "m", "NOT-HERE", "other")
    assert c["customer"]["phone"] == "+15550100"


def test_bad_platform_events_raise_and_write_nothing(api: httpx.Client, clean: Backend) -> None:
    seed(api)
    with pytest.raises(NotFound) as unknown:
        with clean.db.transaction() as session:
            open_case_from_platform_event(session, "nope", "1", "dispute", {})
    assert unknown.value.field == "channel"
    with pytest.raises(Invalid) as empty:
        with clean.db.transaction() as session:
            open_case_from_platform_event(session, "m", " ", "dispute", {})
    assert empty.value.field == "external_order_id"
    assert total_cases(api) == 0


# --- refunds arriving through the real intake: platform webhooks and polls, over HTTP ---------------------------


def _wait_for_order(api: httpx.Client, channel: str, status: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = []

    def seen() -> bool:
        found[:] = [o for o in api.get("/api/v1/orders", params={"channel": channel}).json()["items"]
                    if o["status"] == status]
        return bool(found)
    wait_until(seen, what=f"an order {status} on {channel}")
    return found[0]


def _platform_cases(api: httpx.Client) -> list[dict[str, Any]]:
    r = api.get("/api/v1/cases", params={"source": "platform"})
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


def _channel_id(backend: Backend, code: str) -> int:
    with backend.db.reading() as session:
        return channel_by_code(session, code).id


@dataclass(frozen=True)
class PolledSale:
    """A Pinduoduo sale (PDD has no order webhooks) taken in by one poll and reserved."""

    pdd: Connected
    external_id: str
    channel_id: int
    order: dict[str, Any]

    def poll(self, clean: Backend) -> int:
        return poller.poll_once(clean.db, clean.settings, self.channel_id).applied


def _pdd_sale_polled(api: httpx.Client, clean: Backend, sim: Simulator, item_no: int) -> PolledSale:
    seed(api, stock=5)
    pdd = connect(api, sim, "pinduoduo")
    item = list_item(api, pdd, "A", item_no, shown=5)
    bought = pdd.shop.buy(item, 1, {"name": "李雷", "phone": "13900000001"})
    assert bought is not None
    channel_id = _channel_id(clean, pdd.code)
    assert poller.poll_once(clean.db, clean.settings, channel_id).applied == 1
    return PolledSale(pdd, bought.id, channel_id, _wait_for_order(api, pdd.code, "reserved"))


def test_refund_webhook_delivered_twice_opens_one_case_linked_to_the_order(
        api: httpx.Client, clean: Backend, sim: Simulator, server: LiveServer) -> None:
    seed(api, stock=5)
    shopify = connect(api, sim, "shopify", webhook_base=server.url)
    shopify.shop.webhook.duplicate_rate = 1.0  # Shopify sends every event twice here
    item = list_item(api, shopify, "A", 1, shown=5)
    bought = shopify.shop.buy(item, 2, {"name": "Ada Lovelace", "email": "ada@example.org"})
    assert bought is not None
    order = _wait_for_order(api, shopify.code, "reserved")
    assert _platform_cases(api) == []  # an order is no after-sale request
    shopify.shop.refund(bought.id)
    _wait_for_order(api, shopify.code, "cancelled")
    assert sim.registry.dispatcher.wait_idle(30)
    attempts = sim.registry.dispatcher.attempts(shopify.code)
    assert sum(1 for a in attempts if a.ok and a.event == "refunded") == 2  # both copies were taken in
    [listed] = _platform_cases(api)
    c = case(api, listed["id"])
    assert (c["source"], c["order_id"], c["channel"], c["external_order_id"]) == (
        "platform", order["id"], shopify.code, bought.id)
    assert (c["cause"], c["category"], c["priority"], c["status"]) == ("refund", "other", "high", "new")
    assert c["customer"]["email"] == "ada@example.org" and c["skus"] == ["A"]
    assert c["first_response_due"] is not None
    # The poll, the safety net for lost webhooks, finds the same refund again: noted on the case, no new case.
    # (Shopify searches by whole seconds: the poll's end a little ahead takes in this second too.)
    report = poller.poll_once(clean.db, clean.settings, _channel_id(clean, shopify.code),
                              now=lambda: utcnow() + timedelta(seconds=2))
    assert report.error is None and report.events == 1
    assert [x["id"] for x in _platform_cases(api)] == [c["id"]]
    again = case(api, c["id"])
    assert [e["kind"] for e in again["events"]].count("platform_event") == 1
    assert "refund" in again["notes"][0]["body"] and bought.id in again["notes"][0]["body"]


def test_refund_found_by_polling_opens_one_case_however_often_it_is_polled(
        api: httpx.Client, clean: Backend, sim: Simulator, server: LiveServer) -> None:
    sale = _pdd_sale_polled(api, clean, sim, 2)
    sale.pdd.shop.refund(sale.external_id)  # refund_status 4 (退款成功)
    assert sale.poll(clean) == 1
    assert sale.poll(clean) == 0  # the overlap is a duplicate
    [listed] = _platform_cases(api)
    assert (listed["order_id"], listed["source"], listed["cause"]) == (sale.order["id"], "platform", "refund")
    assert [o["status"] for o in api.get("/api/v1/orders", params={"channel": sale.pdd.code}).json()["items"]] == [
        "cancelled"]


def test_refund_of_an_oversold_order_is_noted_on_its_proactive_case(
        api: httpx.Client, clean: Backend, sim: Simulator, server: LiveServer) -> None:
    seed(api, stock=0)  # the shop still shows 3: the order cannot be reserved
    shopify = connect(api, sim, "shopify", webhook_base=server.url)
    item = list_item(api, shopify, "A", 3, shown=3)
    bought = shopify.shop.buy(item, 1, {"name": "Grace Hopper", "email": "grace@example.org"})
    assert bought is not None
    held = _wait_for_order(api, shopify.code, "held")
    proactive = the_case_of(api, held["id"])
    assert proactive["source"] == "proactive"
    shopify.shop.refund(bought.id)
    _wait_for_order(api, shopify.code, "cancelled")
    wait_until(lambda: any(e["kind"] == "platform_event" for e in case(api, proactive["id"])["events"]),
               what="the refund noted on the proactive case")
    assert [x["id"] for x in cases_of_order(api, held["id"])] == [proactive["id"]]
    assert _platform_cases(api) == []


WEB_SECRET = "own-shop-secret"


def _post_order_event(api: httpx.Client, channel: str, event: str, event_id: str, order_id: str) -> None:
    body = json.dumps({"event": event, "id": event_id, "order": {
        "id": order_id, "currency": "CNY", "customer": {"name": "韩梅梅", "phone": "13700000000"},
        "lines": [{"external_id": "W-1", "qty": 1, "unit_price": "59.00"}]}}).encode()
    signature = base64.b64encode(hmac.new(WEB_SECRET.encode(), body, hashlib.sha256).digest()).decode()
    r = api.post(f"/webhooks/{channel}", content=body, headers={"X-Omnistock-Signature": signature,
                                                                "Content-Type": "application/json"})
    assert r.status_code == 200, r.text


def test_refund_that_comes_before_its_order_is_linked_once_the_order_arrives(
        api: httpx.Client, clean: Backend, server: LiveServer) -> None:
    seed(api, stock=5)
    r = api.post("/api/v1/channels", json={"code": "own", "kind": "webhook", "settings": {
        "url": "http://127.0.0.1:9/stock", "secret": WEB_SECRET}})
    assert r.status_code == 201, r.text
    assert api.post("/api/v1/channels/own/listings", json={"sku": "A", "external_id": "W-1"}).status_code == 201
    _post_order_event(api, "own", "order.refunded", "ev-2", "WEB-7")
    _post_order_event(api, "own", "order.refunded", "ev-2", "WEB-7")  # the shop retried
    [standalone] = _platform_cases(api)
    assert (standalone["order_id"], standalone["external_order_id"]) == (None, "WEB-7")
    assert standalone["customer"]["name"] == "韩梅梅"
    _post_order_event(api, "own", "order.created", "ev-1", "WEB-7")
    [order] = api.get("/api/v1/orders", params={"channel": "own"}).json()["items"]
    assert order["status"] == "cancelled"  # the refund waiting in the inbox was applied
    linked = case(api, standalone["id"])
    assert (linked["order_id"], linked["skus"], linked["order_value"]) == (order["id"], ["A"], "59.00")
    assert "order_linked" in [e["kind"] for e in linked["events"]]
    assert total_cases(api) == 1


# --- after-sale requests still open on the platform: a case before any money moves -----------------------------


def _request_cases(api: httpx.Client) -> list[dict[str, Any]]:
    return [case(api, c["id"]) for c in _platform_cases(api)]


def test_a_return_request_pushed_twice_opens_one_case_and_touches_no_stock(
        api: httpx.Client, clean: Backend, sim: Simulator, server: LiveServer) -> None:
    seed(api, stock=5)
    shopify = connect(api, sim, "shopify", webhook_base=server.url)
    shopify.shop.webhook.duplicate_rate = 1.0  # every delivery twice, with the same event id
    item = list_item(api, shopify, "A", 4, shown=5)
    bought = shopify.shop.buy(item, 2, {"name": "Ada Lovelace", "email": "ada@example.org"})
    assert bought is not None
    order = _wait_for_order(api, shopify.code, "reserved")
    available = api.get("/api/v1/skus/A").json()
    shopify.shop.request_after_sale(bought.id, "return", "defective", "The handle came off")
    wait_until(lambda: bool(_platform_cases(api)), what="a case for the return request")
    assert sim.registry.dispatcher.wait_idle(30)
    assert sum(1 for a in sim.registry.dispatcher.attempts(shopify.code)
               if a.ok and a.event == "after_sale") == 2
    [c] = _request_cases(api)
    assert (c["source"], c["order_id"], c["cause"], c["category"], c["priority"], c["status"]) == (
        "platform", order["id"], "return_request", "other", "high", "new")
    assert c["customer"]["email"] == "ada@example.org" and c["skus"] == ["A"]
    assert c["messages"][0]["body"] == "defective — The handle came off"
    assert c["first_response_due"] is not None
    [still] = api.get("/api/v1/orders", params={"channel": shopify.code}).json()["items"]
    assert still["status"] == "reserved"  # a request is no refund: the order keeps its stock
    assert api.get("/api/v1/skus/A").json() == available
    # The merchant refunds the return: noted on the request's case, no second case.
    shopify.shop.refund(bought.id)
    _wait_for_order(api, shopify.code, "cancelled")
    wait_until(lambda: [e["detail"].get("kind") for e in case(api, c["id"])["events"]
                        if e["kind"] == "platform_event"] == ["refund"], what="the refund noted on the case")
    assert [x["id"] for x in _platform_cases(api)] == [c["id"]]


def test_a_chargeback_opens_an_urgent_case_about_its_order(
        api: httpx.Client, clean: Backend, sim: Simulator, server: LiveServer) -> None:
    seed(api, stock=5)
    shopify = connect(api, sim, "shopify", webhook_base=server.url)
    item = list_item(api, shopify, "A", 5, shown=5)
    bought = shopify.shop.buy(item, 1, {"name": "Grace Hopper", "email": "grace@example.org"})
    assert bought is not None
    order = _wait_for_order(api, shopify.code, "reserved")
    shopify.shop.request_after_sale(bought.id, "dispute", "product_not_received")
    wait_until(lambda: bool(_platform_cases(api)), what="a case for the chargeback")
    [c] = _request_cases(api)
    assert (c["order_id"], c["cause"], c["priority"], c["category"]) == (order["id"], "dispute", "urgent", "other")
    assert c["messages"][0]["body"] == "product_not_received"


def test_an_after_sale_request_found_by_polling_opens_one_case_before_any_refund(
        api: httpx.Client, clean: Backend, sim: Simulator, server: LiveServer) -> None:
    sale = _pdd_sale_polled(api, clean, sim, 7)
    sale.pdd.shop.request_after_sale(sale.external_id, "refund", "缺货")  # 买家申请退款，待商家处理
    assert sale.poll(clean) == 1
    assert sale.poll(clean) == 0  # the overlap is a duplicate
    [c] = _request_cases(api)
    assert (c["order_id"], c["cause"], c["category"], c["priority"]) == (
        sale.order["id"], "refund_request", "out_of_stock", "high")  # the buyer's reason says 缺货
    assert c["customer"]["phone"] == "13900000001" and c["messages"][0]["body"] == "缺货"
    assert [o["status"] for o in api.get("/api/v1/orders", params={"channel": sale.pdd.code}).json()["items"]] == [
        "reserved"]
    # The merchant agrees and PDD refunds (refund_status 4): noted on the request's case, not a second case.
    sale.pdd.shop.refund(sale.external_id)
    assert sale.poll(clean) == 1
    assert [x["id"] for x in _platform_cases(api)] == [c["id"]]
    noted = case(api, c["id"])
    assert [e["detail"]["kind"] for e in noted["events"] if e["kind"] == "platform_event"] == ["refund"]
    assert sale.external_id in noted["notes"][0]["body"]


def test_a_request_about_an_order_held_for_want_of_stock_is_an_out_of_stock_case(
        api: httpx.Client, clean: Backend, sim: Simulator, server: LiveServer) -> None:
    seed(api, stock=0)  # the shop still shows 3: the order cannot be reserved
    taobao = connect(api, sim, "taobao")
    item = list_item(api, taobao, "A", 8, shown=3)
    bought = taobao.shop.buy(item, 1, {"name": "韩梅梅", "phone": "13700000000"})
    assert bought is not None
    channel_id = _channel_id(clean, taobao.code)
    assert poller.poll_once(clean.db, clean.settings, channel_id).applied == 1
    held = _wait_for_order(api, taobao.code, "held")
    proactive = the_case_of(api, held["id"])
    # While the proactive case is open, the buyer's request is noted on it.
    taobao.shop.request_after_sale(bought.id, "refund", "不想要了")
    assert poller.poll_once(clean.db, clean.settings, channel_id).applied == 1
    assert _platform_cases(api) == []
    events = case(api, proactive["id"])["events"]
    assert [e["detail"]["kind"] for e in events if e["kind"] == "platform_event"] == ["refund_request"]
    # Once it is resolved, a new request opens its own case, filed as out of stock because of the hold.
    assert api.post(f"/api/v1/cases/{proactive['id']}/resolve").status_code == 200
    taobao.shop.request_after_sale(bought.id, "return", "其他", "还是没收到")
    assert poller.poll_once(clean.db, clean.settings, channel_id).applied == 1
    assert poller.poll_once(clean.db, clean.settings, channel_id).applied == 0  # polled again: a duplicate
    [c] = _request_cases(api)
    assert (c["order_id"], c["cause"], c["category"], c["priority"]) == (
        held["id"], "return_request", "out_of_stock", "high")
    assert c["messages"][0]["body"] == "其他 — 还是没收到"


def test_a_douyin_request_pushed_twice_opens_one_case_and_its_arbitration_is_noted(
        api: httpx.Client, clean: Backend, sim: Simulator, server: LiveServer) -> None:
    seed(api, stock=5)
    douyin = connect(api, sim, "douyin", webhook_base=server.url)
    douyin.shop.webhook.duplicate_rate = 1.0
    item = list_item(api, douyin, "A", 9, shown=5)
    bought = douyin.shop.buy(item, 1, {"name": "张三", "phone": "13600000000"})
    assert bought is not None
    order = _wait_for_order(api, douyin.code, "reserved")
    douyin.shop.request_after_sale(bought.id, "refund", "未按约定时间发货")
    wait_until(lambda: bool(_platform_cases(api)), what="a case for the Douyin request")
    douyin.shop.request_after_sale(bought.id, "dispute")  # the buyer asks Douyin's customer service to step in
    assert sim.registry.dispatcher.wait_idle(30)
    assert sum(1 for a in sim.registry.dispatcher.attempts(douyin.code) if a.ok and a.event == "after_sale") == 4
    [c] = _request_cases(api)
    assert (c["order_id"], c["cause"], c["category"], c["priority"]) == (
        order["id"], "refund_request", "other", "high")
    wait_until(lambda: [e["detail"]["kind"] for e in case(api, c["id"])["events"]
                        if e["kind"] == "platform_event"] == ["dispute"], what="the arbitration noted")
    assert total_cases(api) == 1


def _post(api: httpx.Client, channel: str, message: dict[str, Any]) -> httpx.Response:
    body = json.dumps(message).encode()
    signature = base64.b64encode(hmac.new(WEB_SECRET.encode(), body, hashlib.sha256).digest()).decode()
    return api.post(f"/webhooks/{channel}", content=body, headers={"X-Omnistock-Signature": signature,
                                                                   "Content-Type": "application/json"})


def test_an_own_shop_request_before_its_order_opens_one_case_linked_when_the_order_comes(
        api: httpx.Client, clean: Backend, server: LiveServer) -> None:
    seed(api, stock=5)
    r = api.post("/api/v1/channels", json={"code": "own", "kind": "webhook", "settings": {
        "url": "http://127.0.0.1:9/stock", "secret": WEB_SECRET}})
    assert r.status_code == 201, r.text
    assert api.post("/api/v1/channels/own/listings", json={"sku": "A", "external_id": "W-1"}).status_code == 201
    request = {"event": "after_sale.requested", "id": "ev-3", "after_sale": {
        "id": "AS-1", "order_id": "WEB-8", "kind": "return", "reason": "尺码不合适", "note": "换大一号",
        "customer": {"name": "韩梅梅", "phone": "13700000000"}}}
    assert _post(api, "own", request).status_code == 200
    assert _post(api, "own", request).status_code == 200  # the shop retried
    [standalone] = _request_cases(api)
    assert (standalone["order_id"], standalone["external_order_id"], standalone["cause"]) == (
        None, "WEB-8", "return_request")
    assert standalone["customer"]["name"] == "韩梅梅"
    _post_order_event(api, "own", "order.created", "ev-1", "WEB-8")
    [order] = api.get("/api/v1/orders", params={"channel": "own"}).json()["items"]
    assert order["status"] == "reserved"  # the request waited in the inbox but changes nothing
    linked = case(api, standalone["id"])
    assert (linked["order_id"], linked["skus"]) == (order["id"], ["A"])
    assert total_cases(api) == 1
    with clean.db.reading() as session:
        rows = session.execute(select(InboxEvent.kind, InboxEvent.status, InboxEvent.order_id).where(
            InboxEvent.external_order_id == "WEB-8").order_by(InboxEvent.id)).all()
    assert [tuple(row) for row in rows] == [("after_sale", "done", None), ("created", "done", order["id"])]


def test_a_malformed_own_shop_request_is_refused_and_changes_nothing(
        api: httpx.Client, clean: Backend, server: LiveServer) -> None:
    seed(api)
    assert api.post("/api/v1/channels", json={"code": "own", "kind": "webhook", "settings": {
        "url": "http://127.0.0.1:9/stock", "secret": WEB_SECRET}}).status_code == 201
    r = _post(api, "own", {"event": "after_sale.requested", "id": "ev-4",
                           "after_sale": {"id": "AS-2", "order_id": "WEB-9", "kind": "complaint"}})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in r.json()["errors"]] == ["after_sale.kind"]
    assert total_cases(api) == 0
    with clean.db.reading() as session:
        assert session.scalar(select(InboxEvent.id).limit(1)) is None


def _shopify_dispute(api: httpx.Client, channel: str, topic: str, event_id: str, dispute: dict[str, Any]) -> None:
    body = json.dumps(dispute).encode()
    signature = base64.b64encode(hmac.new(b"shp-hook", body, hashlib.sha256).digest()).decode()
    r = api.post(f"/webhooks/{channel}", content=body, headers={
        "X-Shopify-Topic": topic, "X-Shopify-Event-Id": event_id, "X-Shopify-Hmac-Sha256": signature,
        "Content-Type": "application/json"})
    assert r.status_code == 200, r.text


def test_a_dispute_outcome_is_noted_on_its_case_and_opens_none_on_its_own(
        api: httpx.Client, clean: Backend, sim: Simulator, server: LiveServer) -> None:
    seed(api, stock=5)
    shopify = connect(api, sim, "shopify", webhook_base=server.url)
    item = list_item(api, shopify, "A", 10, shown=5)
    first, second = (shopify.shop.buy(item, 1, {"name": "Ada Lovelace"}) for _ in range(2))
    assert first is not None and second is not None
    wait_until(lambda: len(api.get("/api/v1/orders", params={"channel": shopify.code}).json()["items"]) == 2,
               what="both orders taken in")
    dispute = {"id": 77, "order_id": int(second.id), "type": "chargeback", "currency": "USD", "amount": "10.00",
               "reason": "fraudulent", "status": "won", "initiated_at": "2026-11-06T19:00:00-05:00"}
    _shopify_dispute(api, shopify.code, "disputes/update", "ev-won-early", dispute)
    assert _platform_cases(api) == []  # over before omnistock heard of it: nothing to answer
    _shopify_dispute(api, shopify.code, "disputes/create", "ev-open",
                     {**dispute, "id": 78, "order_id": int(first.id), "status": "needs_response"})
    [c] = _request_cases(api)
    _shopify_dispute(api, shopify.code, "disputes/update", "ev-lost",
                     {**dispute, "id": 78, "order_id": int(first.id), "status": "lost"})
    noted = case(api, c["id"])
    assert [e["detail"]["platform_status"] for e in noted["events"] if e["kind"] == "platform_event"] == [
        "chargeback lost"]
    assert "chargeback lost" in noted["notes"][0]["body"]
    assert total_cases(api) == 1
