"""PinduoduoAdapter against the simulated PDD router over real HTTP on loopback."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from omnistock.channels.base import AfterSale, AfterSaleKind, OrderEventKind, StockUpdate
from omnistock.channels.pinduoduo import PinduoduoAdapter, sign
from omnistock.channels.simulator import SimListing, SimShop, Simulator
from omnistock.errors import PlatformAuthFailed, PlatformInvalid, PlatformThrottled, PlatformTransient

AddShop = Callable[..., SimShop]  # the `add_shop` fixture of conftest.py
CREDENTIALS = {"client_id": "pdd-client", "client_secret": "pdd-secret", "access_token": "pdd-token"}


@dataclass
class Pdd:
    shop: SimShop
    adapter: PinduoduoAdapter
    url: str

    def adapter_with(self, **changes: str) -> PinduoduoAdapter:
        return PinduoduoAdapter({**CREDENTIALS, "gateway_url": self.url, **changes})


@pytest.fixture
def pdd(sim: Simulator, add_shop: AddShop) -> Iterator[Pdd]:
    shop = add_shop("pinduoduo", CREDENTIALS)
    for n in range(3):
        shop.upsert_listing(SimListing(f"{1000 + n}/{2000 + n}", 10, external_sku=f"A{n}", title=f"Tea {n}"))
    url = f"{sim.url}/pinduoduo/{shop.code}/api/router"
    adapter = PinduoduoAdapter({**CREDENTIALS, "gateway_url": url})
    yield Pdd(shop, adapter, url)
    adapter.close()


def _age(shop: SimShop, order_id: str, minutes: float) -> None:
    """Move an order's last change back in time (in-process), as if it happened `minutes` ago."""
    with shop.lock:
        shop.orders[order_id].modified_at = datetime.now(UTC) - timedelta(minutes=minutes)


# --- stock -----------------------------------------------------------------------------------------------


def test_set_stock_overwrites_the_displayed_quantity(pdd: Pdd) -> None:
    [result] = pdd.adapter.set_stock([StockUpdate("1000/2000", 4)])
    assert result.ok and result.error is None
    assert pdd.shop.listings["1000/2000"].quantity == 4
    assert pdd.shop.listings["1000/2000"].history[-1][2] == "api"


def test_set_stock_batch_reports_each_listing_and_an_unknown_one_fails_alone(pdd: Pdd) -> None:
    updates = [StockUpdate("1000/2000", 1), StockUpdate("9999/9999", 5), StockUpdate("1002/2002", 0)]
    results = pdd.adapter.set_stock(updates)
    assert [(r.external_id, r.ok) for r in results] == [("1000/2000", True), ("9999/9999", False),
                                                        ("1002/2002", True)]
    assert isinstance(results[1].error, PlatformInvalid)
    assert (pdd.shop.listings["1000/2000"].quantity, pdd.shop.listings["1002/2002"].quantity) == (1, 0)


def test_each_shop_keeps_its_own_displayed_stock(pdd: Pdd, add_shop: AddShop) -> None:
    other = add_shop("pinduoduo", CREDENTIALS)
    other.upsert_listing(SimListing("1000/2000", 10))
    pdd.adapter.set_stock([StockUpdate("1000/2000", 2)])
    assert (pdd.shop.listings["1000/2000"].quantity, other.listings["1000/2000"].quantity) == (2, 10)


def test_fetch_stock_reads_every_page(pdd: Pdd) -> None:
    for n in range(3, 151):  # 151 goods: two pages of 100
        pdd.shop.upsert_listing(SimListing(f"{1000 + n}/{2000 + n}", n, external_sku=f"A{n}"))
    pdd.shop.upsert_listing(SimListing("1000/2999", 7, external_sku="A0-big"))  # a second sku of goods 1000
    pages, cursor = 0, None
    seen: dict[str, int] = {}
    while True:
        page = pdd.adapter.fetch_stock(cursor)
        pages += 1
        seen.update({item.external_id: item.quantity for item in page.items})
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert pages == 2
    assert seen == {k: v.quantity for k, v in pdd.shop.listings.items()}


def test_fetch_stock_returns_outer_id_and_title(pdd: Pdd) -> None:
    item = next(i for i in pdd.adapter.fetch_stock().items if i.external_id == "1001/2001")
    assert (item.quantity, item.external_sku, item.title) == (10, "A1", "Tea 1")


def test_the_gateway_also_takes_form_encoded_calls(pdd: Pdd) -> None:
    params = {"type": "pdd.goods.quantity.update", "client_id": CREDENTIALS["client_id"],
              "access_token": CREDENTIALS["access_token"], "timestamp": str(int(time.time())),
              "data_type": "JSON", "goods_id": "1001", "sku_id": "2001", "quantity": "6", "update_type": "1"}
    params["sign"] = sign(params, CREDENTIALS["client_secret"])
    answer = httpx.post(pdd.url, data=params).json()  # the PHP SDK posts a form
    assert answer["goods_quantity_update_response"]["is_success"] is True
    assert pdd.shop.listings["1001/2001"].quantity == 6


# --- orders ----------------------------------------------------------------------------------------------


def test_orders_are_polled_with_cancellation_and_refund(pdd: Pdd) -> None:
    since = datetime.now(UTC) - timedelta(seconds=5)
    kept = pdd.shop.buy("1000/2000", 2, {"name": "Wang", "phone": "13800000000"})
    cancelled = pdd.shop.buy("1001/2001", 1)
    refunded = pdd.shop.buy("1002/2002", 3)
    assert kept and cancelled and refunded
    pdd.shop.cancel(cancelled.id)
    pdd.shop.refund(refunded.id)
    until = datetime.now(UTC) + timedelta(seconds=2)
    events = {e.external_order_id: e for e in pdd.adapter.fetch_orders(since, until)}
    assert {k: e.kind for k, e in events.items()} == {
        kept.id: OrderEventKind.CREATED, cancelled.id: OrderEventKind.CANCELLED,
        refunded.id: OrderEventKind.REFUNDED}
    line = events[kept.id].lines[0]
    assert (line.external_id, line.qty, line.external_sku) == ("1000/2000", 2, "A0")
    customer = events[kept.id].customer
    assert customer is not None and customer.name == "Wang"


def test_a_long_range_is_read_in_30_minute_windows(pdd: Pdd) -> None:
    ages = [170, 125, 95, 61, 31, 2]  # minutes ago, spread over six windows
    ids = []
    for minutes in ages:
        order = pdd.shop.buy("1000/2000", 1)
        assert order is not None
        _age(pdd.shop, order.id, minutes)
        ids.append(order.id)
    calls_before = pdd.shop.calls["orders"]
    now = datetime.now(UTC)
    events = pdd.adapter.fetch_orders(now - timedelta(hours=3), now)
    assert sorted(e.external_order_id for e in events) == sorted(ids)
    assert pdd.shop.calls["orders"] - calls_before >= 6


def test_the_platform_refuses_a_window_longer_than_30_minutes(pdd: Pdd) -> None:
    start = int(time.time()) - 3600
    with pytest.raises(PlatformInvalid) as caught:
        pdd.adapter.call("pdd.order.number.list.increment.get",
                         {"start_updated_at": start, "end_updated_at": start + 1801, "page": 1,
                          "page_size": 10})
    assert caught.value.code == "10000"


def test_many_orders_in_one_window_are_read_through_all_pages(pdd: Pdd) -> None:
    pdd.shop.set_quantity("1000/2000", 1000, "manual")
    since = datetime.now(UTC) - timedelta(seconds=5)
    ids = {order.id for order in (pdd.shop.buy("1000/2000", 1) for _ in range(230)) if order}
    events = pdd.adapter.fetch_orders(since, datetime.now(UTC) + timedelta(seconds=2))
    assert {e.external_order_id for e in events} == ids
    assert len(events) == 230


# --- failures --------------------------------------------------------------------------------------------


def test_a_bad_signature_is_rejected_and_changes_nothing(pdd: Pdd) -> None:
    wrong = pdd.adapter_with(client_secret="not-the-secret")
    with pytest.raises(PlatformAuthFailed) as caught:
        wrong.set_stock([StockUpdate("1000/2000", 1)])
    wrong.close()
    assert caught.value.code == "20004"
    assert pdd.shop.listings["1000/2000"].quantity == 10


def test_throttling_surfaces_as_platform_throttled_with_retry_after(pdd: Pdd) -> None:
    pdd.shop.set_rate_limit(0.01, 1)
    pdd.adapter.set_stock([StockUpdate("1000/2000", 3)])
    with pytest.raises(PlatformThrottled) as caught:
        pdd.adapter.set_stock([StockUpdate("1000/2000", 4)])
    assert caught.value.code == "70031" and caught.value.retry_after > 0
    assert pdd.shop.listings["1000/2000"].quantity == 3


def test_an_expired_token_is_reported_as_auth_failure(pdd: Pdd) -> None:
    pdd.shop.faults.auth_broken = True
    with pytest.raises(PlatformAuthFailed) as caught:
        pdd.adapter.fetch_stock()
    assert caught.value.code == "10019" and "access_token" in caught.value.message


def test_a_wrong_access_token_is_reported_as_auth_failure(pdd: Pdd) -> None:
    wrong = pdd.adapter_with(access_token="stale")
    with pytest.raises(PlatformAuthFailed):
        wrong.test_connection()
    wrong.close()


def test_an_outage_is_transient(pdd: Pdd) -> None:
    pdd.shop.faults.down_until = time.time() + 30
    with pytest.raises(PlatformTransient):
        pdd.adapter.test_connection()


# --- after-sale requests ----------------------------------------------------------------------------------


def test_open_after_sale_requests_are_polled_after_the_orders(pdd: Pdd) -> None:
    since = datetime.now(UTC) - timedelta(seconds=2)
    first = pdd.shop.buy("1001/2001", 2, {"name": "李雷", "phone": "13900000001"})
    second = pdd.shop.buy("1001/2001", 1)
    assert first and second
    refund = pdd.shop.request_after_sale(first.id, "refund", "缺货")
    arbitrated = pdd.shop.request_after_sale(second.id, "dispute", "未按约定时间发货")
    events = pdd.adapter.fetch_orders(since, datetime.now(UTC) + timedelta(seconds=2))
    assert [e.kind for e in events] == [OrderEventKind.CREATED] * 2 + [OrderEventKind.AFTER_SALE] * 2
    requests = {e.external_order_id: e for e in events if e.kind is OrderEventKind.AFTER_SALE}
    asked = requests[first.id]
    assert asked.after_sale == AfterSale(f"after_sale:{refund.id}", AfterSaleKind.REFUND, "缺货",
                                         amount=pdd.shop.listings["1001/2001"].price * 2)
    assert asked.event_id == f"pdd-after-sale:{refund.id}:2"
    assert [(line.external_id, line.qty) for line in asked.lines] == [("1001/2001", 2)]
    escalated = requests[second.id].after_sale
    assert escalated is not None
    assert (escalated.request_id, escalated.kind) == (f"after_sale:{arbitrated.id}", AfterSaleKind.DISPUTE)
    assert pdd.shop.calls["after_sales"] >= 1


def test_a_settled_after_sale_request_is_not_reported(pdd: Pdd) -> None:
    since = datetime.now(UTC) - timedelta(seconds=2)
    bought = pdd.shop.buy("1001/2001", 1)
    assert bought is not None
    request = pdd.shop.request_after_sale(bought.id, "return", "不喜欢/效果不好")
    with pdd.shop.lock:
        pdd.shop.after_sales[request.id].status = "closed"  # the buyer withdrew it (买家撤销)
    events = pdd.adapter.fetch_orders(since, datetime.now(UTC) + timedelta(seconds=2))
    assert [e.kind for e in events] == [OrderEventKind.CREATED]


def test_the_control_api_raises_a_request_and_refuses_bad_ones(pdd: Pdd, sim: Simulator) -> None:
    since = datetime.now(UTC) - timedelta(seconds=2)
    bought = pdd.shop.buy("1000/2000", 1)
    assert bought is not None
    base = f"{sim.url}/_sim/shops/{pdd.shop.code}/orders"
    r = httpx.post(f"{base}/{bought.id}/after-sales", json={"kind": "exchange", "reason": "尺码不合适"})
    assert r.status_code == 201, r.text
    assert (r.json()["order_id"], r.json()["kind"], r.json()["status"]) == (bought.id, "exchange", "open")
    assert httpx.post(f"{base}/999999/after-sales", json={"kind": "refund"}).status_code == 404
    assert httpx.post(f"{base}/{bought.id}/after-sales", json={"kind": "complaint"}).status_code == 422
    requests = [e for e in pdd.adapter.fetch_orders(since, datetime.now(UTC) + timedelta(seconds=2))
                if e.kind is OrderEventKind.AFTER_SALE]
    assert [(e.after_sale.kind if e.after_sale else None, e.external_order_id) for e in requests] == [
        (AfterSaleKind.EXCHANGE, bought.id)]
