"""The Shopify adapter against the simulated Admin GraphQL API over loopback HTTP."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from omnistock.channels.base import AfterSale, AfterSaleKind, OrderEventKind, StockUpdate
from omnistock.channels.shopify import ShopifyAdapter
from omnistock.channels.simulator import Faults, SimListing, SimShop, Simulator, WebhookConfig
from omnistock.channels.simulator import shopify as sim_shopify
from omnistock.channels.simulator.receiver import WebhookReceiver
from omnistock.channels.simulator.shopify_schema import inventory_item_id
from omnistock.errors import (
    PlatformAuthFailed,
    PlatformNotFound,
    PlatformThrottled,
    PlatformTransient,
    SignatureInvalid,
)

AddShop = Callable[..., SimShop]
CREDENTIALS = {"access_token": "shpat_test", "webhook_secret": "hush", "location_id": "77"}


@dataclass
class Shopify:
    shop: SimShop
    adapter: ShopifyAdapter
    url: str

    def adapter_with(self, **changes: str) -> ShopifyAdapter:
        return ShopifyAdapter({**self.settings(), **changes})

    def settings(self) -> dict[str, str]:
        return {"shop_url": self.url, **CREDENTIALS}


@pytest.fixture
def shopify(sim: Simulator, add_shop: AddShop) -> Iterator[Shopify]:
    shop = add_shop("shopify", CREDENTIALS)
    for n in range(3):
        shop.upsert_listing(SimListing(str(5000 + n), 10, external_sku=f"SH-{n}", title=f"Mug {n}",
                                       barcode=f"0400{n}"))
    url = f"{sim.url}/shopify/{shop.code}"
    env = Shopify(shop, ShopifyAdapter({"shop_url": url, **CREDENTIALS}), url)
    yield env
    env.adapter.close()


def item_of(shop: SimShop, variant: str) -> str:
    return inventory_item_id(shop.listings[variant])


# --- stock -----------------------------------------------------------------------------------------------


def test_set_stock_looks_up_the_inventory_item_once_and_hands_it_back(shopify: Shopify) -> None:
    [result] = shopify.adapter.set_stock([StockUpdate("5000", 4)])
    assert result.ok
    assert result.extra_updates == {"inventory_item_id": item_of(shopify.shop, "5000")}
    assert shopify.shop.listings["5000"].quantity == 4
    reads = shopify.shop.calls["read_stock"]
    [again] = shopify.adapter.set_stock([StockUpdate("5000", 6, extra=result.extra_updates)])
    assert again.ok and again.extra_updates == {}
    assert shopify.shop.calls["read_stock"] == reads  # no second lookup
    assert shopify.shop.listings["5000"].quantity == 6


def test_a_batch_sets_every_quantity_in_one_call(shopify: Shopify) -> None:
    variants = [str(5000 + n) for n in range(3)]
    updates = [StockUpdate(v, n, extra={"inventory_item_id": item_of(shopify.shop, v)})
               for n, v in enumerate(variants)]
    results = shopify.adapter.set_stock(updates)
    assert [r.ok for r in results] == [True, True, True]
    assert shopify.shop.calls["set_stock"] == 1
    assert [shopify.shop.listings[str(5000 + n)].quantity for n in range(3)] == [0, 1, 2]
    assert [source for _, _, source in shopify.shop.listings["5001"].history][-1] == "api"


def test_a_negative_quantity_is_shown_as_zero(shopify: Shopify) -> None:
    [result] = shopify.adapter.set_stock([StockUpdate("5000", -3)])
    assert result.ok and shopify.shop.listings["5000"].quantity == 0


def test_an_unknown_variant_fails_alone(shopify: Shopify) -> None:
    results = shopify.adapter.set_stock([StockUpdate("5000", 2), StockUpdate("999999", 2)])
    assert [r.ok for r in results] == [True, False]
    assert isinstance(results[1].error, PlatformNotFound)
    assert shopify.shop.listings["5000"].quantity == 2


def test_a_stale_inventory_item_fails_alone_and_the_rest_is_written(shopify: Shopify) -> None:
    updates = [StockUpdate("5000", 1, extra={"inventory_item_id": item_of(shopify.shop, "5000")}),
               StockUpdate("5001", 1, extra={"inventory_item_id": "123"}),
               StockUpdate("5002", 1, extra={"inventory_item_id": item_of(shopify.shop, "5002")})]
    results = shopify.adapter.set_stock(updates)
    assert [r.ok for r in results] == [True, False, True]
    assert isinstance(results[1].error, PlatformNotFound)
    assert results[1].error.code == "INVALID_INVENTORY_ITEM"
    assert [shopify.shop.listings[v].quantity for v in ("5000", "5001", "5002")] == [1, 10, 1]


@pytest.mark.parametrize("version", ["2025-10", "2026-01", "2026-04"])
def test_the_compare_guard_is_skipped_the_way_each_api_version_wants(shopify: Shopify, version: str) -> None:
    adapter = shopify.adapter_with(api_version=version)
    [result] = adapter.set_stock([StockUpdate("5001", 7)])
    adapter.close()
    assert result.ok, result.error
    assert shopify.shop.listings["5001"].quantity == 7


def test_fetch_stock_reads_every_page(shopify: Shopify) -> None:
    for n in range(260):
        shopify.shop.upsert_listing(SimListing(str(6000 + n), n, external_sku=f"BULK-{n}"))
    seen, cursor, pages = {}, None, 0
    while True:
        page = shopify.adapter.fetch_stock(cursor)
        pages += 1
        seen.update({item.external_id: item for item in page.items})
        cursor = page.next_cursor
        if cursor is None:
            break
    assert pages == 2
    assert len(seen) == 263
    assert seen["6259"].quantity == 259 and seen["6259"].external_sku == "BULK-259"
    mug = seen["5001"]
    assert (mug.quantity, mug.external_sku, mug.title, mug.barcode) == (10, "SH-1", "Mug 1", "04001")


# --- orders --------------------------------------------------------------------------------------------


def test_an_order_webhook_from_the_platform_is_parsed(shopify: Shopify, receiver: WebhookReceiver) -> None:
    shopify.shop.webhook = WebhookConfig(url=receiver.url)
    order = shopify.shop.buy("5001", 2, {"name": "Ada Lovelace", "email": "ada@example.org"})
    assert order is not None
    [delivery] = receiver.wait_for(1)
    [event] = shopify.adapter.parse_webhook(delivery.headers, delivery.body)
    assert event.kind is OrderEventKind.CREATED
    assert event.external_order_id == order.id
    assert event.event_id == delivery.headers["X-Shopify-Event-Id"]
    assert [(line.external_id, line.qty, line.external_sku) for line in event.lines] == [("5001", 2, "SH-1")]
    assert event.customer is not None and event.customer.name == "Ada Lovelace"
    assert event.customer.email == "ada@example.org"


def test_cancellation_and_refund_webhooks_are_parsed(shopify: Shopify) -> None:
    order = shopify.shop.buy("5000", 1)
    assert order is not None
    cancelled = shopify.shop.cancel(order.id)
    headers, body = sim_shopify.order_webhook(shopify.shop, cancelled, "cancelled") or ({}, b"")
    [event] = shopify.adapter.parse_webhook(headers, body)
    assert (event.kind, event.external_order_id) == (OrderEventKind.CANCELLED, order.id)
    refunded = shopify.shop.refund(order.id)
    headers, body = sim_shopify.order_webhook(shopify.shop, refunded, "refunded") or ({}, b"")
    [event] = shopify.adapter.parse_webhook(headers, body)
    assert (event.kind, event.external_order_id) == (OrderEventKind.REFUNDED, order.id)
    assert [(line.external_id, line.qty) for line in event.lines] == [("5000", 1)]


def test_the_webhook_id_stands_in_when_there_is_no_event_id(shopify: Shopify) -> None:
    order = shopify.shop.buy("5000", 1)
    assert order is not None
    headers, body = sim_shopify.order_webhook(shopify.shop, order, "updated") or ({}, b"")
    del headers["X-Shopify-Event-Id"]
    [event] = shopify.adapter.parse_webhook(headers, body)
    assert event.kind is OrderEventKind.UPDATED
    assert event.event_id == headers["X-Shopify-Webhook-Id"]


def test_a_bad_signature_is_rejected(shopify: Shopify) -> None:
    order = shopify.shop.buy("5000", 1)
    assert order is not None
    headers, body = sim_shopify.order_webhook(shopify.shop, order, "created") or ({}, b"")
    with pytest.raises(SignatureInvalid):
        shopify.adapter.parse_webhook(headers, body.replace(b'"quantity":1', b'"quantity":9'))
    with pytest.raises(SignatureInvalid):
        shopify.adapter.parse_webhook({k: v for k, v in headers.items() if "Hmac" not in k}, body)


def test_polling_reports_new_cancelled_and_refunded_orders(shopify: Shopify) -> None:
    since = datetime.now(UTC) - timedelta(seconds=1)
    kept, cancelled, refunded = (shopify.shop.buy("5002", 1) for _ in range(3))
    assert kept and cancelled and refunded
    shopify.shop.cancel(cancelled.id)
    shopify.shop.refund(refunded.id)
    until = datetime.now(UTC) + timedelta(seconds=2)
    events = {e.external_order_id: e for e in shopify.adapter.fetch_orders(since, until)}
    assert {k: e.kind for k, e in events.items()} == {
        kept.id: OrderEventKind.CREATED, cancelled.id: OrderEventKind.CANCELLED,
        refunded.id: OrderEventKind.REFUNDED}
    assert [(line.external_id, line.qty, line.unit_price) for line in events[kept.id].lines] == [
        ("5002", 1, shopify.shop.listings["5002"].price)]


def test_polling_pages_through_many_orders_and_respects_the_window(shopify: Shopify) -> None:
    before = shopify.shop.buy("5000", 1)
    time.sleep(1.1)  # the search syntax has whole seconds: keep the first order out of the window
    since = datetime.now(UTC)
    shopify.shop.upsert_listing(SimListing("7000", 100))
    ids = {order.id for order in (shopify.shop.buy("7000", 1) for _ in range(25)) if order}
    events = shopify.adapter.fetch_orders(since, datetime.now(UTC) + timedelta(seconds=2))
    assert before is not None and before.id not in {e.external_order_id for e in events}
    assert {e.external_order_id for e in events} == ids


def test_a_poll_longer_than_the_cost_bucket_waits_between_pages_instead_of_failing(shopify: Shopify) -> None:
    # Each page costs what it returned: 120 orders take more than a full bucket. Without the wait the poll failed
    # part-way, and the next poll, on the same (grown) window, failed the same way: orders were never taken in.
    shopify.shop.set_rate_limit(300, 1000)
    since = datetime.now(UTC) - timedelta(seconds=1)
    shopify.shop.upsert_listing(SimListing("7100", 500))
    ids = {order.id for order in (shopify.shop.buy("7100", 1) for _ in range(120)) if order}
    throttled_before = sum(1 for c in shopify.shop.call_log() if c.verdict == "throttled")
    events = shopify.adapter.fetch_orders(since, datetime.now(UTC) + timedelta(seconds=2))
    assert {e.external_order_id for e in events} == ids
    assert sum(1 for c in shopify.shop.call_log() if c.verdict == "throttled") > throttled_before  # it did wait


# --- failures --------------------------------------------------------------------------------------------


def test_cost_throttling_is_surfaced_with_the_announced_wait(shopify: Shopify) -> None:
    shopify.shop.set_rate_limit(0.2, 10)  # one mutation (10 points) empties the bucket; 0.2 point/s back
    extra = {"inventory_item_id": item_of(shopify.shop, "5000")}
    assert shopify.adapter.set_stock([StockUpdate("5000", 1, extra=extra)])[0].ok
    with pytest.raises(PlatformThrottled) as caught:
        shopify.adapter.set_stock([StockUpdate("5000", 2, extra=extra)])
    assert caught.value.retry_after == pytest.approx(50.0, abs=1.0)  # 10 points at 0.2 a second
    assert caught.value.code == "THROTTLED"


def test_http_429_is_surfaced_with_retry_after(shopify: Shopify) -> None:
    shopify.shop.faults = Faults(overload_retry_after=7)
    with pytest.raises(PlatformThrottled) as caught:
        shopify.adapter.fetch_stock()
    assert (caught.value.retry_after, caught.value.http_status) == (7.0, 429)


def test_a_wrong_access_token_is_an_auth_failure_with_a_clear_message(shopify: Shopify) -> None:
    adapter = shopify.adapter_with(access_token="shpat_wrong")
    with pytest.raises(PlatformAuthFailed, match="access token was refused"):
        adapter.test_connection()
    adapter.close()


def test_an_outage_is_transient(shopify: Shopify) -> None:
    shopify.shop.faults = Faults(down_until=time.time() + 30)
    with pytest.raises(PlatformTransient):
        shopify.adapter.set_stock([StockUpdate("5000", 1)])


def test_connection_check_finds_the_location(shopify: Shopify) -> None:
    shopify.adapter.test_connection()
    adapter = shopify.adapter_with(location_id="gid://shopify/Location/78")
    with pytest.raises(PlatformNotFound, match="location"):
        adapter.test_connection()
    adapter.close()


# --- after-sale requests ----------------------------------------------------------------------------------


def test_a_chargeback_and_a_return_request_arrive_as_after_sale_events(shopify: Shopify,
                                                                       receiver: WebhookReceiver) -> None:
    order = shopify.shop.buy("5001", 2)
    assert order is not None
    shopify.shop.webhook = WebhookConfig(url=receiver.url)
    dispute = shopify.shop.request_after_sale(order.id, "dispute", "fraudulent")
    returned = shopify.shop.request_after_sale(order.id, "return", "wrong_item", "Sent the blue one")
    pushes = receiver.wait_for(2)
    assert [p.headers["X-Shopify-Topic"] for p in pushes] == ["disputes/create", "returns/request"]
    [chargeback] = shopify.adapter.parse_webhook(pushes[0].headers, pushes[0].body)
    assert (chargeback.kind, chargeback.external_order_id, chargeback.lines) == (
        OrderEventKind.AFTER_SALE, order.id, [])
    assert chargeback.event_id == pushes[0].headers["X-Shopify-Event-Id"]
    assert chargeback.after_sale == AfterSale(f"dispute:{dispute.id}", AfterSaleKind.DISPUTE, "fraudulent",
                                              amount=shopify.shop.listings["5001"].price * 2)
    [asked] = shopify.adapter.parse_webhook(pushes[1].headers, pushes[1].body)
    assert asked.after_sale is not None
    assert (asked.after_sale.request_id, asked.after_sale.kind, asked.after_sale.reason, asked.after_sale.note) == (
        f"return:{returned.id}", AfterSaleKind.RETURN, "wrong_item", "Sent the blue one")
    assert [(line.external_id, line.qty) for line in asked.lines] == [("5001", 2)]
    assert shopify.shop.listings["5001"].quantity == 8  # a request moves no stock on the platform either


def test_a_buyer_refund_request_is_not_pushed_since_shopify_has_none(shopify: Shopify, sim: Simulator,
                                                                     receiver: WebhookReceiver) -> None:
    order = shopify.shop.buy("5001", 1)
    assert order is not None
    shopify.shop.webhook = WebhookConfig(url=receiver.url)
    shopify.shop.request_after_sale(order.id, "refund", "changed my mind")
    shopify.shop.request_after_sale(order.id, "dispute")
    receiver.wait_for(1)
    assert sim.registry.dispatcher.wait_idle(10)
    assert [p.headers["X-Shopify-Topic"] for p in receiver.received()] == ["disputes/create"]
