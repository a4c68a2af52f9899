"""The simulator framework: shop rules, the gate (throttle, outage, faults), webhook delivery and the
control API."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator

import httpx
import pytest

from omnistock.channels.simulator import (
    Faults,
    Gate,
    GateKind,
    SimListing,
    SimRegistry,
    SimShop,
    Simulator,
    WebhookConfig,
)
from omnistock.channels.simulator.limiter import TokenBucket
from omnistock.channels.simulator.receiver import WebhookReceiver

CREDENTIALS = {"access_token": "tok", "webhook_secret": "hush"}


@pytest.fixture
def registry() -> Iterator[SimRegistry]:
    reg = SimRegistry(seed=11)
    reg.dispatcher.retry_backoff_s = 0.01
    yield reg
    reg.close()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as rec:
        yield rec


def shop_with(registry: SimRegistry, quantity: int = 3, rate_limit: tuple[float, int] | None = None,
              webhook: WebhookConfig | None = None, faults: Faults | None = None) -> SimShop:
    shop = registry.add_shop("s1", "shopify", CREDENTIALS, rate_limit=rate_limit, webhook=webhook,
                             faults=faults)
    shop.upsert_listing(SimListing("1001", quantity, external_sku="A1"))
    return shop


# --- shop rules ----------------------------------------------------------------------------------------


def test_buy_refuses_when_displayed_stock_is_too_low(registry: SimRegistry) -> None:
    shop = shop_with(registry, quantity=1)
    assert shop.buy("1001", 1) is not None
    assert shop.buy("1001", 1) is None
    assert shop.listings["1001"].quantity == 0
    assert (shop.sold_units, shop.refused_sales) == (1, 1)


def test_cancel_gives_units_back_once(registry: SimRegistry) -> None:
    shop = shop_with(registry, quantity=5)
    order = shop.buy("1001", 2)
    assert order is not None
    shop.cancel(order.id)
    shop.cancel(order.id)
    assert shop.listings["1001"].quantity == 5
    assert [source for _, _, source in shop.listings["1001"].history] == ["manual", "sale", "cancel"]


def test_orders_modified_between_is_half_open_and_sorted(registry: SimRegistry) -> None:
    shop = shop_with(registry, quantity=5)
    first, second = shop.buy("1001", 1), shop.buy("1001", 1)
    assert first is not None and second is not None
    found = shop.orders_modified_between(first.modified_at, second.modified_at)
    assert [o.id for o in found] == ([first.id] if first.modified_at < second.modified_at else [])
    everything = shop.orders_modified_between(first.created_at, second.modified_at.replace(year=2999))
    assert [o.id for o in everything] == [first.id, second.id]


def test_seen_key_remembers_idempotency_keys(registry: SimRegistry) -> None:
    shop = shop_with(registry)
    assert shop.seen_key("k1") is False
    assert shop.seen_key("k1") is True


# --- the gate ------------------------------------------------------------------------------------------


def test_token_bucket_refuses_over_burst_and_names_the_wait() -> None:
    now = [100.0]
    bucket = TokenBucket(rate=2.0, capacity=2, clock=lambda: now[0])
    assert bucket.take() == 0.0 and bucket.take() == 0.0
    assert bucket.take() == pytest.approx(0.5)
    now[0] += 0.5
    assert bucket.take() == 0.0


def test_rate_limit_gives_throttled_with_retry_after(registry: SimRegistry) -> None:
    shop = shop_with(registry, rate_limit=(0.5, 2))

    async def three_calls() -> list[Gate]:
        return [await shop.gate("set_stock") for _ in range(3)]

    gates = asyncio.run(three_calls())
    assert [g.kind for g in gates] == [GateKind.OK, GateKind.OK, GateKind.THROTTLED]
    assert 1.0 < gates[2].retry_after <= 2.0
    assert shop.calls["set_stock"] == 3


def test_outage_auth_and_errors_are_reported_by_the_gate(registry: SimRegistry) -> None:
    shop = shop_with(registry, faults=Faults(down_until=time.time() + 60))
    gate = asyncio.run(shop.gate("read_stock"))
    assert gate.kind is GateKind.DOWN and 55 < gate.retry_after <= 60
    shop.faults = Faults(auth_broken=True)
    assert asyncio.run(shop.gate("read_stock")).kind is GateKind.AUTH
    shop.faults = Faults(error_rate=1.0)
    assert asyncio.run(shop.gate("read_stock")).kind is GateKind.ERROR
    shop.faults = Faults(overload_retry_after=7)
    gate = asyncio.run(shop.gate("read_stock"))
    assert gate.kind is GateKind.THROTTLED and gate.overload and gate.retry_after == 7


# --- webhooks ------------------------------------------------------------------------------------------


def test_webhook_is_delivered_late_but_delivered(registry: SimRegistry, receiver: WebhookReceiver) -> None:
    shop = shop_with(registry, webhook=WebhookConfig(url=receiver.url, delay_s=(0.05, 0.1)))
    order = shop.buy("1001", 1)
    assert order is not None
    assert registry.dispatcher.wait_idle(10)
    got = receiver.received()
    assert len(got) == 1
    assert json.loads(got[0].body)["id"] == int(order.id)
    assert got[0].headers["X-Shopify-Topic"] == "orders/create"
    [attempt] = registry.dispatcher.attempts("s1")
    assert attempt.ok and attempt.attempt == 1 and attempt.order_id == order.id


def test_duplicate_delivery_sends_the_same_bytes_twice(registry: SimRegistry,
                                                       receiver: WebhookReceiver) -> None:
    shop = shop_with(registry, webhook=WebhookConfig(url=receiver.url, duplicate_rate=1.0))
    shop.buy("1001", 1)
    assert registry.dispatcher.wait_idle(10)
    first, second = receiver.received()
    assert first.body == second.body
    assert first.headers["X-Shopify-Event-Id"] == second.headers["X-Shopify-Event-Id"]
    assert [d.duplicate for d in registry.dispatcher.deliveries("s1")] == [False, True]


def test_lost_delivery_never_arrives_but_is_recorded(registry: SimRegistry,
                                                     receiver: WebhookReceiver) -> None:
    shop = shop_with(registry, webhook=WebhookConfig(url=receiver.url, loss_rate=1.0))
    shop.buy("1001", 1)
    assert registry.dispatcher.wait_idle(10)
    assert receiver.received() == []
    assert [d.lost for d in registry.dispatcher.deliveries("s1")] == [True]
    assert registry.dispatcher.attempts("s1") == []


def test_failed_delivery_is_retried_by_the_platform_rule(registry: SimRegistry,
                                                         receiver: WebhookReceiver) -> None:
    receiver.script.extend([500, 503])
    shop = shop_with(registry, webhook=WebhookConfig(url=receiver.url))
    shop.buy("1001", 1)
    assert registry.dispatcher.wait_idle(10)
    attempts = registry.dispatcher.attempts("s1")
    assert [(a.attempt, a.status) for a in attempts] == [(1, 500), (2, 503), (3, 200)]


def test_deliveries_keep_event_order_without_reorder(registry: SimRegistry,
                                                     receiver: WebhookReceiver) -> None:
    shop = shop_with(registry, quantity=20, webhook=WebhookConfig(url=receiver.url, delay_s=(0.0, 0.05)))
    ids = [order.id for order in (shop.buy("1001", 1) for _ in range(8)) if order is not None]
    assert registry.dispatcher.wait_idle(10)
    assert [str(json.loads(r.body)["id"]) for r in receiver.received()] == ids


def test_reordered_deliveries_all_arrive(registry: SimRegistry, receiver: WebhookReceiver) -> None:
    shop = shop_with(registry, quantity=20, webhook=WebhookConfig(url=receiver.url, reorder=True))
    ids = {order.id for order in (shop.buy("1001", 1) for _ in range(8)) if order is not None}
    assert registry.dispatcher.wait_idle(10)
    assert {str(json.loads(r.body)["id"]) for r in receiver.received()} == ids


# --- control API over HTTP -----------------------------------------------------------------------------


def test_control_api_drives_a_shop_over_http(receiver: WebhookReceiver) -> None:
    with Simulator(SimRegistry(seed=3)) as sim, httpx.Client(base_url=f"{sim.url}/_sim") as http:
        created = http.post("/shops", json={"code": "c1", "platform": "shopify", "credentials": CREDENTIALS,
                                            "rate_limit": {"per_second": 50, "burst": 100},
                                            "webhook": {"url": receiver.url}})
        assert created.status_code == 201
        assert http.post("/shops", json={"code": "c1", "platform": "shopify"}).status_code == 409
        assert http.post("/shops", json={"code": "c2", "platform": "nowhere"}).status_code == 422
        listed = http.put("/shops/c1/listings/2002", json={"quantity": 1, "external_sku": "B2"})
        assert listed.status_code == 200
        bought = http.post("/shops/c1/buy",
                           json={"external_id": "2002", "qty": 1, "customer": {"name": "Li"}})
        assert bought.status_code == 201
        refused = http.post("/shops/c1/buy", json={"external_id": "2002", "qty": 1})
        assert (refused.status_code, refused.json()) == (409, {"refused": True})
        order_id = bought.json()["id"]
        assert http.post(f"/shops/c1/orders/{order_id}/cancel").json()["status"] == "cancelled"
        assert http.post(f"/shops/c1/orders/{order_id}/refund").json()["status"] == "refunded"
        http.put("/shops/c1/listings/2002", json={"quantity": 9})
        history = http.get("/shops/c1/history/2002").json()
        assert [(h["quantity"], h["source"]) for h in history] == [(1, "manual"), (0, "sale"), (1, "cancel"),
                                                                    (9, "manual")]
        snapshot = http.get("/shops/c1").json()
        assert snapshot["listings"] == {"2002": 9}
        assert (snapshot["sold_units"], snapshot["refused_sales"], snapshot["orders"]) == (1, 1, 1)
        assert sim.registry.dispatcher.wait_idle(10)
        topics = [a["event"] for a in http.get("/webhooks", params={"shop": "c1"}).json()]
        assert topics == ["created", "cancelled", "refunded"]


def test_control_api_outage_makes_the_platform_answer_503() -> None:
    with Simulator() as sim, httpx.Client(base_url=sim.url) as http:
        http.post("/_sim/shops", json={"code": "d1", "platform": "shopify", "credentials": CREDENTIALS})
        assert http.patch("/_sim/shops/d1/faults", json={"down_for_s": 30}).status_code == 200
        answer = http.post("/shopify/d1/admin/api/2026-01/graphql.json", json={"query": "{ shop { name } }"},
                           headers={"X-Shopify-Access-Token": "tok"})
        assert answer.status_code == 503
        http.patch("/_sim/shops/d1/faults", json={"down_for_s": 0})
        answer = http.post("/shopify/d1/admin/api/2026-01/graphql.json", json={"query": "{ shop { name } }"},
                           headers={"X-Shopify-Access-Token": "tok"})
        assert answer.json()["data"]["shop"]["name"] == "d1"


def test_seeded_shopper_buys_until_the_shelf_is_empty() -> None:
    with Simulator() as sim, httpx.Client(base_url=f"{sim.url}/_sim") as http:
        http.post("/shops", json={"code": "p1", "platform": "shopify", "credentials": CREDENTIALS})
        http.put("/shops/p1/listings/3003", json={"quantity": 5})
        started = http.post("/shoppers", json={"shop": "p1", "external_id": "3003", "rate_per_s": 200,
                                               "seed": 1})
        assert started.status_code == 201
        deadline = time.monotonic() + 10
        while sim.registry.shop("p1").refused_sales == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        [stopped] = http.delete("/shoppers").json()
        shop = sim.registry.shop("p1")
        assert stopped["bought"] == 5 and shop.sold_units == 5
        assert shop.listings["3003"].quantity == 0 and shop.refused_sales >= 1
