"""TaobaoAdapter against the simulated TOP router over real HTTP on loopback."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from omnistock.channels.base import AfterSale, AfterSaleKind, OrderEventKind, PlatformItem, StockUpdate
from omnistock.channels.china_time import beijing_text
from omnistock.channels.simulator import SimListing, SimShop, Simulator
from omnistock.channels.taobao import TaobaoAdapter
from omnistock.errors import (
    Invalid,
    PlatformAuthFailed,
    PlatformInvalid,
    PlatformNotFound,
    PlatformThrottled,
    PlatformTransient,
)

CREDENTIALS = {"app_key": "tb-app", "app_secret": "tb-secret", "session": "tb-session"}


@dataclass
class Taobao:
    shop: SimShop
    url: str
    adapter: TaobaoAdapter

    def adapter_with(self, **changes: Any) -> TaobaoAdapter:
        return TaobaoAdapter({**CREDENTIALS, "gateway_url": self.url, **changes})


@pytest.fixture
def taobao(sim: Simulator, add_shop: Callable[..., SimShop]) -> Iterator[Taobao]:
    shop = add_shop("taobao", CREDENTIALS)
    shop.upsert_listing(SimListing("1001", 5, external_sku="TEA", title="Tea"))
    for sku in (1, 2, 3):
        shop.upsert_listing(SimListing(f"2002/{sku}", 3, external_sku=f"CUP-{sku}", title="Cup"))
    url = f"{sim.url}/taobao/{shop.code}/router/rest"
    adapter = TaobaoAdapter({**CREDENTIALS, "gateway_url": url})
    yield Taobao(shop, url, adapter)
    adapter.close()


def read_all(adapter: TaobaoAdapter) -> list[PlatformItem]:
    items: list[PlatformItem] = []
    cursor: str | None = None
    while True:
        page = adapter.fetch_stock(cursor)
        items += page.items
        cursor = page.next_cursor
        if cursor is None:
            return items


# --- stock -----------------------------------------------------------------------------------------------


def test_set_stock_overwrites_an_item_and_a_batch_of_skus(taobao: Taobao) -> None:
    results = taobao.adapter.set_stock([StockUpdate("1001", 8), StockUpdate("2002/1", 0),
                                        StockUpdate("2002/2", 11), StockUpdate("2002/3", 4)])
    assert [r.ok for r in results] == [True, True, True, True]
    assert taobao.shop.snapshot()["listings"] == {"1001": 8, "2002/1": 0, "2002/2": 11, "2002/3": 4}
    # The item alone, then its three skus in one taobao.skus.quantity.update.
    assert taobao.shop.calls["set_stock"] == 2


def test_more_than_twenty_skus_of_one_item_go_in_two_calls(taobao: Taobao) -> None:
    for sku in range(100, 125):
        taobao.shop.upsert_listing(SimListing(f"3003/{sku}", 1))
    results = taobao.adapter.set_stock([StockUpdate(f"3003/{sku}", sku) for sku in range(100, 125)])
    assert all(r.ok for r in results)
    assert taobao.shop.listings["3003/124"].quantity == 124
    assert taobao.shop.calls["set_stock"] == 2


def test_an_unknown_sku_fails_alone_and_its_batch_is_still_written(taobao: Taobao) -> None:
    results = taobao.adapter.set_stock([StockUpdate("2002/1", 6), StockUpdate("2002/9", 6), StockUpdate("2002/2", 7)])
    assert [r.ok for r in results] == [True, False, True]
    assert isinstance(results[1].error, PlatformNotFound)
    assert (taobao.shop.listings["2002/1"].quantity, taobao.shop.listings["2002/2"].quantity) == (6, 7)


def test_a_malformed_listing_id_fails_without_a_call(taobao: Taobao) -> None:
    [result] = taobao.adapter.set_stock([StockUpdate("not-an-id", 1)])
    assert not result.ok and isinstance(result.error, PlatformInvalid)
    assert taobao.shop.calls["set_stock"] == 0


def test_negative_availability_shows_zero(taobao: Taobao) -> None:
    [result] = taobao.adapter.set_stock([StockUpdate("1001", -3)])
    assert result.ok and taobao.shop.listings["1001"].quantity == 0


def test_stock_read_covers_every_page_and_sold_out_items(taobao: Taobao) -> None:
    for n in range(45):
        taobao.shop.upsert_listing(SimListing(str(5000 + n), n + 1, external_sku=f"B{n}"))
    taobao.shop.upsert_listing(SimListing("9999", 0, external_sku="GONE"))  # sold out: in the warehouse list
    items = read_all(taobao.adapter)
    assert {item.external_id: item.quantity for item in items} == taobao.shop.snapshot()["listings"]
    by_id = {item.external_id: item for item in items}
    assert by_id["2002/2"].external_sku == "CUP-2" and by_id["9999"].external_sku == "GONE"
    assert len(items) == len(by_id)  # nothing read twice


# --- orders ----------------------------------------------------------------------------------------------


def test_orders_are_polled_with_cancellations_and_refunds(taobao: Taobao) -> None:
    since = datetime.now(UTC) - timedelta(minutes=5)
    kept = taobao.shop.buy("2002/1", 2, {"name": "Li Lei", "phone": "13800000000"})
    cancelled = taobao.shop.buy("1001", 1)
    refunded = taobao.shop.buy("2002/2", 1)
    assert kept and cancelled and refunded
    taobao.shop.cancel(cancelled.id)
    taobao.shop.refund(refunded.id)
    events = {e.external_order_id: e for e in taobao.adapter.fetch_orders(since, datetime.now(UTC))}
    assert events[kept.id].kind is OrderEventKind.CREATED
    assert events[cancelled.id].kind is OrderEventKind.CANCELLED
    assert events[refunded.id].kind is OrderEventKind.REFUNDED
    line = events[kept.id].lines[0]
    assert (line.external_id, line.qty, line.external_sku) == ("2002/1", 2, "CUP-1")
    customer = events[kept.id].customer
    assert customer is not None and customer.name == "Li Lei"


def test_shipped_orders_are_reported_shipped(taobao: Taobao) -> None:
    since = datetime.now(UTC) - timedelta(minutes=1)
    order = taobao.shop.buy("1001", 1)
    assert order is not None
    taobao.shop.ship(order.id)
    [event] = taobao.adapter.fetch_orders(since, datetime.now(UTC))
    assert event.kind is OrderEventKind.SHIPPED


def test_a_long_range_is_polled_in_day_windows(taobao: Taobao) -> None:
    order = taobao.shop.buy("1001", 1)
    assert order is not None
    with taobao.shop.lock:
        taobao.shop.orders[order.id].modified_at = datetime.now(UTC) - timedelta(days=2, hours=12)
    now = datetime.now(UTC)
    events = taobao.adapter.fetch_orders(now - timedelta(days=3), now)
    assert [e.external_order_id for e in events] == [order.id]
    assert taobao.shop.calls["orders"] >= 4  # three full days and a bit, one window each


def test_the_platform_refuses_a_window_longer_than_a_day(taobao: Taobao) -> None:
    now = datetime.now(UTC)
    with pytest.raises(PlatformInvalid):
        taobao.adapter.call("taobao.trades.sold.increment.get", {
            "fields": "tid", "start_modified": beijing_text(now - timedelta(days=2)),
            "end_modified": beijing_text(now)})


def test_many_trades_are_read_through_every_page(taobao: Taobao) -> None:
    since = datetime.now(UTC) - timedelta(minutes=1)
    taobao.shop.set_quantity("1001", 500)
    ids = {order.id for order in (taobao.shop.buy("1001", 1) for _ in range(120)) if order}
    events = taobao.adapter.fetch_orders(since, datetime.now(UTC))
    assert {e.external_order_id for e in events} == ids
    assert len(events) == 120


# --- signatures, throttling, auth, outages ------------------------------------------------------------------


@pytest.mark.parametrize("sign_method", ["md5", "hmac", "hmac-sha256"])
def test_every_sign_method_is_accepted(taobao: Taobao, sign_method: str) -> None:
    adapter = taobao.adapter_with(sign_method=sign_method)
    assert adapter.set_stock([StockUpdate("1001", 2)])[0].ok
    assert taobao.shop.listings["1001"].quantity == 2


def test_a_wrong_secret_fails_the_signature_check(taobao: Taobao) -> None:
    with pytest.raises(PlatformAuthFailed) as caught:
        taobao.adapter_with(app_secret="not-the-secret").set_stock([StockUpdate("1001", 1)])
    assert caught.value.code == "25"
    assert taobao.shop.listings["1001"].quantity == 5


def test_a_wrong_session_is_an_auth_failure(taobao: Taobao) -> None:
    with pytest.raises(PlatformAuthFailed) as caught:
        taobao.adapter_with(session="stale").test_connection()
    assert caught.value.code == "27"


def test_an_expired_session_on_the_platform_is_an_auth_failure(taobao: Taobao) -> None:
    taobao.shop.faults.auth_broken = True
    with pytest.raises(PlatformAuthFailed):
        taobao.adapter.fetch_stock()


def test_utc_sent_as_beijing_time_is_refused(taobao: Taobao) -> None:
    adapter = TaobaoAdapter({**CREDENTIALS, "gateway_url": taobao.url},
                            clock=lambda: datetime.now(UTC) - timedelta(hours=8))
    with pytest.raises(PlatformInvalid) as caught:
        adapter.test_connection()
    assert caught.value.code == "31"


def test_throttled_call_carries_the_ban_as_retry_after(taobao: Taobao) -> None:
    taobao.shop.set_rate_limit(0.5, 1)
    taobao.adapter.test_connection()
    with pytest.raises(PlatformThrottled) as caught:
        taobao.adapter.test_connection()
    assert caught.value.code == "7"
    assert 1.0 <= caught.value.retry_after <= 2.0


def test_a_throttle_mid_round_keeps_what_was_written(taobao: Taobao) -> None:
    taobao.shop.set_rate_limit(0.5, 1)
    first, second = taobao.adapter.set_stock([StockUpdate("1001", 9), StockUpdate("2002/1", 9)])
    assert first.ok and taobao.shop.listings["1001"].quantity == 9
    assert not second.ok and isinstance(second.error, PlatformThrottled)


def test_an_outage_is_transient(taobao: Taobao) -> None:
    taobao.shop.faults.down_until = time.time() + 60
    with pytest.raises(PlatformTransient):
        taobao.adapter.set_stock([StockUpdate("1001", 1)])


def test_a_remote_service_error_is_transient(taobao: Taobao) -> None:
    taobao.shop.faults.error_rate = 1.0
    with pytest.raises(PlatformTransient) as caught:
        taobao.adapter.fetch_orders(datetime.now(UTC) - timedelta(minutes=1), datetime.now(UTC))
    assert caught.value.code == "15"


def test_webhooks_are_refused_because_orders_are_polled(taobao: Taobao) -> None:
    with pytest.raises(Invalid):
        taobao.adapter.parse_webhook({}, b"{}")


# --- after-sale requests ----------------------------------------------------------------------------------


def test_open_refund_requests_are_polled_after_the_trades(taobao: Taobao) -> None:
    since = datetime.now(UTC) - timedelta(minutes=1)
    first = taobao.shop.buy("2002/1", 1)
    second = taobao.shop.buy("1001", 2)
    third = taobao.shop.buy("2002/3", 1)
    assert first and second and third
    returned = taobao.shop.request_after_sale(first.id, "return", "颜色/图案/款式与商品描述不符", "想换个颜色")
    stepped_in = taobao.shop.request_after_sale(second.id, "dispute", "未按约定时间发货")
    settled = taobao.shop.request_after_sale(third.id, "refund", "不想要了")
    with taobao.shop.lock:
        taobao.shop.after_sales[settled.id].status = "closed"
    events = taobao.adapter.fetch_orders(since, datetime.now(UTC) + timedelta(seconds=1))
    assert [e.kind for e in events] == [OrderEventKind.CREATED] * 3 + [OrderEventKind.AFTER_SALE] * 2
    requests = {e.external_order_id: e for e in events if e.kind is OrderEventKind.AFTER_SALE}
    asked = requests[first.id]
    assert asked.after_sale == AfterSale(f"refund:{returned.id}", AfterSaleKind.RETURN,
                                         "颜色/图案/款式与商品描述不符", "想换个颜色",
                                         amount=taobao.shop.listings["2002/1"].price)
    assert (asked.platform_status, asked.event_id) == ("WAIT_SELLER_AGREE",
                                                       f"taobao-refund:{returned.id}:WAIT_SELLER_AGREE:1")
    dispute = requests[second.id].after_sale
    assert dispute is not None
    assert (dispute.request_id, dispute.kind) == (f"refund:{stepped_in.id}", AfterSaleKind.DISPUTE)
    assert taobao.shop.calls["after_sales"] >= 1
