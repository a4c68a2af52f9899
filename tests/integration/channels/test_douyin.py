"""DouyinAdapter against the simulated Douyin shop over real HTTP on loopback, pushes included."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from omnistock.channels.base import AfterSale, AfterSaleKind, OrderEvent, OrderEventKind, StockUpdate
from omnistock.channels.douyin import DouyinAdapter
from omnistock.channels.simulator import SimListing, SimShop, Simulator, WebhookConfig
from omnistock.channels.simulator.receiver import WebhookReceiver
from omnistock.errors import (
    PlatformAuthFailed,
    PlatformInvalid,
    PlatformThrottled,
    PlatformTransient,
    SignatureInvalid,
)

AddShop = Callable[..., SimShop]  # the `add_shop` fixture of conftest.py
CREDENTIALS = {"app_key": "7000000000000000001", "app_secret": "dy-secret", "access_token": "dy-token"}


@dataclass
class Douyin:
    shop: SimShop
    adapter: DouyinAdapter
    url: str

    def adapter_with(self, **changes: str) -> DouyinAdapter:
        return DouyinAdapter({**CREDENTIALS, "gateway_url": self.url, **changes})


@pytest.fixture
def douyin(sim: Simulator, add_shop: AddShop) -> Iterator[Douyin]:
    shop = add_shop("douyin", CREDENTIALS)
    for n in range(3):
        shop.upsert_listing(SimListing(f"{3000 + n}/{4000 + n}", 10, external_sku=f"D{n}", title=f"Shoe {n}"))
    url = f"{sim.url}/douyin/{shop.code}"
    adapter = DouyinAdapter({**CREDENTIALS, "gateway_url": url})
    yield Douyin(shop, adapter, url)
    adapter.close()


# --- stock -----------------------------------------------------------------------------------------------


def test_set_stock_overwrites_the_displayed_quantity(douyin: Douyin) -> None:
    [result] = douyin.adapter.set_stock([StockUpdate("3000/4000", 6)])
    assert result.ok
    assert douyin.shop.listings["3000/4000"].quantity == 6


def test_set_stock_batch_reports_each_listing_and_an_unknown_one_fails_alone(douyin: Douyin) -> None:
    results = douyin.adapter.set_stock([StockUpdate("3000/4000", 1), StockUpdate("3999/4999", 1),
                                        StockUpdate("3002/4002", 0)])
    assert [r.ok for r in results] == [True, False, True]
    assert isinstance(results[1].error, PlatformInvalid)
    assert (douyin.shop.listings["3000/4000"].quantity, douyin.shop.listings["3002/4002"].quantity) == (1, 0)


def test_md5_signed_calls_are_accepted_too(douyin: Douyin) -> None:
    md5 = douyin.adapter_with(sign_method="md5")
    assert md5.set_stock([StockUpdate("3001/4001", 2)])[0].ok
    md5.close()
    assert douyin.shop.listings["3001/4001"].quantity == 2


def test_a_retried_push_with_the_same_idempotent_id_applies_once(douyin: Douyin) -> None:
    push = StockUpdate("3000/4000", 8, extra={"push_id": "sync-41"})
    assert douyin.adapter.set_stock([push])[0].ok
    douyin.shop.set_quantity("3000/4000", 5, "sale")  # a sale lands between the attempt and its retry
    assert douyin.adapter.set_stock([push])[0].ok  # Douyin says "repeat": the push had landed
    assert douyin.shop.listings["3000/4000"].quantity == 5
    assert [source for _, _, source in douyin.shop.listings["3000/4000"].history].count("api") == 1


def test_the_platform_refuses_a_repeated_idempotent_id(douyin: Douyin) -> None:
    params = {"product_id": 3000, "sku_id": 4000, "stock_num": 3, "incremental": False,
              "idempotent_id": "fixed"}
    douyin.adapter.call("sku.syncStock", params)
    with pytest.raises(PlatformInvalid) as caught:
        douyin.adapter.call("sku.syncStock", {**params, "stock_num": 9})
    assert caught.value.code == "isv.idempotent-id-existed"
    assert douyin.shop.listings["3000/4000"].quantity == 3


def _read_all_stock(adapter: DouyinAdapter) -> tuple[dict[str, int], int]:
    cursor, pages, seen = None, 0, {}
    while True:
        try:
            page = adapter.fetch_stock(cursor)
        except PlatformThrottled as exc:
            time.sleep(exc.retry_after)  # what the sync engine does: wait, then the same cursor again
            continue
        pages += 1
        seen.update({item.external_id: item.quantity for item in page.items})
        if page.next_cursor is None:
            return seen, pages
        cursor = page.next_cursor


def test_fetch_stock_reads_every_product_page(douyin: Douyin) -> None:
    douyin.shop.set_rate_limit(1000, 1000)  # about paging, not throttling: 105 products are 107 calls
    for n in range(3, 105):  # 105 products: two product pages of 100
        douyin.shop.upsert_listing(SimListing(f"{3000 + n}/{4000 + n}", n, external_sku=f"D{n}"))
    douyin.shop.upsert_listing(SimListing("3000/4999", 4))  # a second sku of product 3000
    seen, pages = _read_all_stock(douyin.adapter)
    assert pages == 11  # ten sku.list calls per stock page
    assert seen == {k: v.quantity for k, v in douyin.shop.listings.items()}
    assert douyin.shop.calls["read_stock"] == 2 + 105  # each product page is listed once


def test_a_throttled_stock_read_resumes_from_its_cursor(douyin: Douyin) -> None:
    for n in range(3, 25):
        douyin.shop.upsert_listing(SimListing(f"{3000 + n}/{4000 + n}", n))
    douyin.shop.set_rate_limit(50, 12)  # one stock page (11 calls) fits a burst, three do not
    seen, _ = _read_all_stock(douyin.adapter)
    assert seen == {k: v.quantity for k, v in douyin.shop.listings.items()}


# --- orders ----------------------------------------------------------------------------------------------


def test_orders_are_polled_with_cancellation_and_refund(douyin: Douyin) -> None:
    since = datetime.now(UTC) - timedelta(seconds=5)
    kept = douyin.shop.buy("3000/4000", 2, {"name": "Li"})
    cancelled = douyin.shop.buy("3001/4001", 1)
    refunded = douyin.shop.buy("3002/4002", 1)
    assert kept and cancelled and refunded
    douyin.shop.cancel(cancelled.id)
    douyin.shop.refund(refunded.id)
    events = douyin.adapter.fetch_orders(since, datetime.now(UTC))
    assert {e.external_order_id: e.kind for e in events} == {
        kept.id: OrderEventKind.CREATED, cancelled.id: OrderEventKind.CANCELLED,
        refunded.id: OrderEventKind.REFUNDED}
    line = next(e for e in events if e.external_order_id == kept.id).lines[0]
    assert (line.external_id, line.qty, line.external_sku) == ("3000/4000", 2, "D0")


def test_many_orders_are_read_through_all_pages(douyin: Douyin) -> None:
    douyin.shop.set_quantity("3000/4000", 1000, "manual")
    since = datetime.now(UTC) - timedelta(seconds=5)
    ids = {o.id for o in (douyin.shop.buy("3000/4000", 1) for _ in range(210)) if o}
    events = douyin.adapter.fetch_orders(since, datetime.now(UTC))
    assert sorted(e.external_order_id for e in events) == sorted(ids)


def test_pushes_arrive_signed_and_become_order_events_keyed_by_msg_id(douyin: Douyin, sim: Simulator,
                                                                      receiver: WebhookReceiver) -> None:
    douyin.shop.webhook = WebhookConfig(url=receiver.url)
    bought = douyin.shop.buy("3000/4000", 2)
    second = douyin.shop.buy("3001/4001", 1)
    assert bought and second
    douyin.shop.cancel(bought.id)
    douyin.shop.refund(second.id)
    assert sim.registry.dispatcher.wait_idle(10)
    events: list[OrderEvent] = []
    for push in receiver.received():
        events.extend(douyin.adapter.parse_webhook(push.headers, push.body))
    kinds = [(e.external_order_id, e.kind) for e in events]
    assert kinds == [(bought.id, OrderEventKind.CREATED), (bought.id, OrderEventKind.UPDATED),
                     (second.id, OrderEventKind.CREATED), (second.id, OrderEventKind.UPDATED),
                     (bought.id, OrderEventKind.CANCELLED), (second.id, OrderEventKind.REFUNDED)]
    assert len({e.event_id for e in events}) == len(events) and all(e.event_id for e in events)
    assert [(line.external_id, line.qty) for line in events[0].lines] == [("3000/4000", 2)]


def test_a_tampered_push_is_rejected(douyin: Douyin, receiver: WebhookReceiver) -> None:
    douyin.shop.webhook = WebhookConfig(url=receiver.url)
    assert douyin.shop.buy("3000/4000", 1)
    [push] = receiver.wait_for(1)
    with pytest.raises(SignatureInvalid):
        douyin.adapter.parse_webhook(push.headers, push.body.replace(b'"100"', b'"106"'))


def test_a_push_whose_order_cannot_be_read_fails_so_douyin_pushes_again(douyin: Douyin,
                                                                        receiver: WebhookReceiver) -> None:
    douyin.shop.webhook = WebhookConfig(url=receiver.url)
    assert douyin.shop.buy("3000/4000", 1)
    [push] = receiver.wait_for(1)
    douyin.shop.faults.auth_broken = True
    with pytest.raises(PlatformAuthFailed):
        douyin.adapter.parse_webhook(push.headers, push.body)


# --- failures --------------------------------------------------------------------------------------------


def test_a_bad_signature_is_rejected_and_changes_nothing(douyin: Douyin) -> None:
    wrong = douyin.adapter_with(app_secret="not-the-secret")
    with pytest.raises(PlatformAuthFailed) as caught:
        wrong.set_stock([StockUpdate("3000/4000", 1)])
    wrong.close()
    assert caught.value.code == "isv.signature-invalid"
    assert douyin.shop.listings["3000/4000"].quantity == 10


def test_throttling_surfaces_as_platform_throttled_with_retry_after(douyin: Douyin) -> None:
    douyin.shop.set_rate_limit(0.01, 1)
    douyin.adapter.set_stock([StockUpdate("3000/4000", 3)])
    with pytest.raises(PlatformThrottled) as caught:
        douyin.adapter.set_stock([StockUpdate("3000/4000", 4)])
    assert caught.value.code == "60000" and caught.value.retry_after > 0
    assert douyin.shop.listings["3000/4000"].quantity == 3


def test_a_lost_authorisation_is_reported_as_auth_failure(douyin: Douyin) -> None:
    douyin.shop.faults.auth_broken = True
    with pytest.raises(PlatformAuthFailed) as caught:
        douyin.adapter.fetch_stock()
    assert "授权" in caught.value.message


def test_a_wrong_access_token_is_reported_as_auth_failure(douyin: Douyin) -> None:
    wrong = douyin.adapter_with(access_token="stale")
    with pytest.raises(PlatformAuthFailed) as caught:
        wrong.test_connection()
    wrong.close()
    assert caught.value.code == "isv.access-token-no-existed"


def test_an_outage_is_transient(douyin: Douyin) -> None:
    douyin.shop.faults.down_until = time.time() + 30
    with pytest.raises(PlatformTransient):
        douyin.adapter.test_connection()


# --- after-sale requests ----------------------------------------------------------------------------------


def test_after_sale_pushes_become_requests_without_reading_the_order(douyin: Douyin, sim: Simulator,
                                                                     receiver: WebhookReceiver) -> None:
    bought = douyin.shop.buy("3000/4000", 2)
    assert bought is not None
    douyin.shop.webhook = WebhookConfig(url=receiver.url)
    asked = douyin.shop.request_after_sale(bought.id, "refund", "缺货")
    douyin.shop.request_after_sale(bought.id, "dispute")
    assert sim.registry.dispatcher.wait_idle(10)
    reads = douyin.shop.calls["orders"]
    events: list[OrderEvent] = []
    for push in receiver.received():
        events.extend(douyin.adapter.parse_webhook(push.headers, push.body))
    assert douyin.shop.calls["orders"] == reads  # a request needs no order.orderDetail
    assert [(e.kind, e.external_order_id) for e in events] == [(OrderEventKind.AFTER_SALE, bought.id)] * 2
    refund, arbitration = events
    assert refund.after_sale == AfterSale(f"aftersale:{asked.id}", AfterSaleKind.REFUND, "缺货",
                                          amount=douyin.shop.listings["3000/4000"].price * 2)
    assert arbitration.after_sale is not None and arbitration.after_sale.kind is AfterSaleKind.DISPUTE
    assert refund.event_id and arbitration.event_id and refund.event_id != arbitration.event_id
