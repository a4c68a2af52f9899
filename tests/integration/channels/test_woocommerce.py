"""The WooCommerce adapter against the simulated REST API v3 over loopback HTTP (OAuth 1.0a over http)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from omnistock.channels.base import OrderEventKind, StockUpdate
from omnistock.channels.simulator import Faults, SimListing, SimShop, Simulator, WebhookConfig
from omnistock.channels.simulator import woocommerce as sim_woo
from omnistock.channels.simulator.receiver import WebhookReceiver
from omnistock.channels.woocommerce import WooCommerceAdapter
from omnistock.channels.woocommerce_payloads import signed_query
from omnistock.errors import (
    PlatformAuthFailed,
    PlatformNotFound,
    PlatformThrottled,
    PlatformTransient,
    SignatureInvalid,
)

AddShop = Callable[..., SimShop]
CREDENTIALS = {"consumer_key": "ck_test", "consumer_secret": "cs_test", "webhook_secret": "wh-secret"}


@dataclass
class Woo:
    shop: SimShop
    adapter: WooCommerceAdapter
    url: str


@pytest.fixture
def woo(sim: Simulator, add_shop: AddShop) -> Iterator[Woo]:
    shop = add_shop("woocommerce", CREDENTIALS)
    shop.upsert_listing(SimListing("100", 10, external_sku="W-100", title="Tea", barcode="0123"))
    shop.upsert_listing(SimListing("101", 10, external_sku="W-101"))
    for variation in (201, 202):
        shop.upsert_listing(SimListing(f"200/{variation}", 5, external_sku=f"W-200-{variation}",
                                       title=f"Shirt {variation}"))
    url = f"{sim.url}/woocommerce/{shop.code}"
    env = Woo(shop, WooCommerceAdapter({"base_url": url, **CREDENTIALS}), url)
    yield env
    env.adapter.close()


def quantities(shop: SimShop, *ids: str) -> list[int]:
    return [shop.listings[i].quantity for i in ids]


# --- stock -----------------------------------------------------------------------------------------------


def test_one_product_and_one_variation_are_set_with_put(woo: Woo) -> None:
    assert woo.adapter.set_stock([StockUpdate("100", 4)])[0].ok
    assert woo.adapter.set_stock([StockUpdate("200/202", 0)])[0].ok
    assert quantities(woo.shop, "100", "200/202") == [4, 0]
    assert woo.shop.calls["set_stock"] == 2


def test_a_batch_is_grouped_by_parent(woo: Woo) -> None:
    updates = [StockUpdate("100", 1), StockUpdate("200/201", 2), StockUpdate("101", 3),
               StockUpdate("200/202", 4)]
    results = woo.adapter.set_stock(updates)
    assert all(r.ok for r in results)
    assert quantities(woo.shop, "100", "200/201", "101", "200/202") == [1, 2, 3, 4]
    assert woo.shop.calls["set_stock"] == 2  # products/batch and products/200/variations/batch


def test_an_unknown_product_fails_alone_in_a_batch(woo: Woo) -> None:
    results = woo.adapter.set_stock([StockUpdate("100", 7), StockUpdate("999", 7), StockUpdate("101", 7)])
    assert [r.ok for r in results] == [True, False, True]
    assert isinstance(results[1].error, PlatformNotFound)
    assert quantities(woo.shop, "100", "101") == [7, 7]


def test_an_id_that_is_not_woocommerce_fails_without_a_call(woo: Woo) -> None:
    [result] = woo.adapter.set_stock([StockUpdate("abc", 1)])
    assert not result.ok and woo.shop.calls["set_stock"] == 0


def test_more_than_a_hundred_updates_are_split(woo: Woo) -> None:
    for n in range(150):
        woo.shop.upsert_listing(SimListing(str(1000 + n), 0))
    results = woo.adapter.set_stock([StockUpdate(str(1000 + n), n) for n in range(150)])
    assert all(r.ok for r in results)
    assert woo.shop.calls["set_stock"] == 2
    assert woo.shop.listings["1149"].quantity == 149


def test_fetch_stock_reads_every_page_and_every_variation(woo: Woo) -> None:
    for n in range(150):
        woo.shop.upsert_listing(SimListing(str(1000 + n), n % 7))
    seen, cursor, pages = {}, None, 0
    while True:
        page = woo.adapter.fetch_stock(cursor)
        pages += 1
        seen.update({item.external_id: item for item in page.items})
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert pages == 2
    assert len(seen) == 154
    tea = seen["100"]
    assert (tea.quantity, tea.external_sku, tea.title, tea.barcode) == (10, "W-100", "Tea", "0123")
    shirt = seen["200/201"]
    assert (shirt.quantity, shirt.external_sku, shirt.title) == (5, "W-200-201", "Shirt 201")
    assert seen["1013"].quantity == 13 % 7


# --- orders --------------------------------------------------------------------------------------------


def test_an_order_webhook_from_the_shop_is_parsed(woo: Woo, receiver: WebhookReceiver) -> None:
    woo.shop.webhook = WebhookConfig(url=receiver.url)
    order = woo.shop.buy("200/201", 2, {"name": "Grace Hopper", "phone": "555"})
    assert order is not None
    [delivery] = receiver.wait_for(1)
    [event] = woo.adapter.parse_webhook(delivery.headers, delivery.body)
    assert (event.kind, event.external_order_id) == (OrderEventKind.CREATED, order.id)
    assert event.event_id == delivery.headers["X-WC-Webhook-Delivery-ID"]
    assert [(line.external_id, line.qty, line.external_sku) for line in event.lines] == [
        ("200/201", 2, "W-200-201")]
    assert event.customer is not None
    assert (event.customer.name, event.customer.phone) == ("Grace Hopper", "555")


def test_updates_cancellations_refunds_and_shipping_are_told_apart(woo: Woo) -> None:
    def parsed(event: str, order_id: str) -> OrderEventKind:
        order = woo.shop.orders[order_id]
        headers, body = sim_woo.order_webhook(woo.shop, order, event) or ({}, b"")
        [result] = woo.adapter.parse_webhook(headers, body)
        return result.kind

    first, second = woo.shop.buy("100", 1), woo.shop.buy("100", 1)
    assert first is not None and second is not None
    assert parsed("updated", first.id) is OrderEventKind.UPDATED
    woo.shop.cancel(first.id)
    assert parsed("cancelled", first.id) is OrderEventKind.CANCELLED
    woo.shop.refund(first.id)
    assert parsed("refunded", first.id) is OrderEventKind.REFUNDED
    woo.shop.ship(second.id)
    assert parsed("updated", second.id) is OrderEventKind.SHIPPED


def test_a_bad_signature_is_rejected_and_a_ping_is_ignored(woo: Woo) -> None:
    order = woo.shop.buy("100", 1)
    assert order is not None
    headers, body = sim_woo.order_webhook(woo.shop, order, "created") or ({}, b"")
    with pytest.raises(SignatureInvalid):
        woo.adapter.parse_webhook(headers, body.replace(b'"quantity":1', b'"quantity":5'))
    assert woo.adapter.parse_webhook({"X-WC-Webhook-ID": "1"}, b"webhook_id=1") == []


def test_a_failed_delivery_is_not_retried(sim: Simulator, woo: Woo, receiver: WebhookReceiver) -> None:
    receiver.status = 500
    woo.shop.webhook = WebhookConfig(url=receiver.url)
    assert woo.shop.buy("100", 1) is not None
    assert sim.registry.dispatcher.wait_idle(10)
    assert [(a.attempt, a.status) for a in sim.registry.dispatcher.attempts(woo.shop.code)] == [(1, 500)]


def test_polling_reports_each_order_by_its_status(woo: Woo) -> None:
    since = datetime.now(UTC)
    live, cancelled, refunded = (woo.shop.buy("101", 1) for _ in range(3))
    assert live and cancelled and refunded
    woo.shop.cancel(cancelled.id)
    woo.shop.refund(refunded.id)
    events = {e.external_order_id: e for e in woo.adapter.fetch_orders(since, datetime.now(UTC))}
    assert {k: e.kind for k, e in events.items()} == {
        live.id: OrderEventKind.CREATED, cancelled.id: OrderEventKind.CANCELLED,
        refunded.id: OrderEventKind.REFUNDED}
    assert events[live.id].lines[0].unit_price == woo.shop.listings["101"].price


def test_polling_reads_every_page(woo: Woo) -> None:
    woo.shop.upsert_listing(SimListing("300", 500))
    since = datetime.now(UTC)
    ids = {order.id for order in (woo.shop.buy("300", 1) for _ in range(130)) if order}
    events = woo.adapter.fetch_orders(since, datetime.now(UTC))
    assert {e.external_order_id for e in events} == ids and len(events) == 130


# --- auth and failures ----------------------------------------------------------------------------------


def test_throttling_is_surfaced_with_the_announced_retry_after(woo: Woo) -> None:
    woo.shop.set_rate_limit(0.01, 1)  # one call empties the bucket; the next token comes in 100 s
    woo.adapter.test_connection()
    with pytest.raises(PlatformThrottled) as caught:
        woo.adapter.test_connection()
    assert (caught.value.retry_after, caught.value.http_status) == (100.0, 429)


def test_a_wrong_secret_is_an_auth_failure_with_a_clear_message(woo: Woo) -> None:
    adapter = WooCommerceAdapter({"base_url": woo.url, **CREDENTIALS, "consumer_secret": "cs_wrong"})
    with pytest.raises(PlatformAuthFailed, match="refused the consumer key/secret.*Invalid signature"):
        adapter.test_connection()
    adapter.close()


def test_the_shop_checks_oauth_exactly_and_also_takes_basic(woo: Woo) -> None:
    url = f"{woo.url}/wp-json/wc/v3/products"
    now = int(time.time())
    query = signed_query("GET", url, {"per_page": "1"}, "ck_test", "cs_test", uuid.uuid4().hex, now)
    with httpx.Client() as http:
        assert http.get(url, params=query).status_code == 200
        replay = http.get(url, params=query)
        assert replay.status_code == 401
        assert replay.json()["message"] == "Invalid nonce - nonce has already been used."
        tampered = {**signed_query("GET", url, {"per_page": "1"}, "ck_test", "cs_test", "n2", now),
                    "per_page": "2"}
        assert http.get(url, params=tampered).status_code == 401
        old = signed_query("GET", url, {}, "ck_test", "cs_test", "n3", now - 3600)
        assert http.get(url, params=old).json()["message"] == "Invalid timestamp."
        assert http.get(url, auth=("ck_test", "cs_test")).status_code == 200
        assert http.get(url).status_code == 401


def test_an_outage_is_transient(woo: Woo) -> None:
    woo.shop.faults = Faults(down_until=time.time() + 30)
    with pytest.raises(PlatformTransient):
        woo.adapter.set_stock([StockUpdate("100", 1)])


def test_a_window_in_the_past_finds_nothing_new(woo: Woo) -> None:
    assert woo.shop.buy("100", 1) is not None
    long_ago = datetime.now(UTC) - timedelta(days=2)
    assert woo.adapter.fetch_orders(long_ago, long_ago + timedelta(hours=1)) == []
