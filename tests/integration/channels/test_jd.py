"""JDAdapter against the simulated JOS router over real HTTP on loopback."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from omnistock.channels.base import OrderEventKind, PlatformItem, StockUpdate
from omnistock.channels.jd import JDAdapter
from omnistock.channels.simulator import SimListing, SimShop, Simulator
from omnistock.errors import (
    Invalid,
    PlatformAuthFailed,
    PlatformInvalid,
    PlatformThrottled,
    PlatformTransient,
)

CREDENTIALS = {"app_key": "jd-app", "app_secret": "jd-secret", "access_token": "jd-token"}


@dataclass
class JD:
    shop: SimShop
    url: str
    adapter: JDAdapter

    def adapter_with(self, **changes: Any) -> JDAdapter:
        return JDAdapter({**CREDENTIALS, "gateway_url": self.url, **changes})


@pytest.fixture
def jd(sim: Simulator, add_shop: Callable[..., SimShop]) -> Iterator[JD]:
    shop = add_shop("jd", CREDENTIALS)
    for n in range(3):
        shop.upsert_listing(SimListing(str(7000 + n), 10, external_sku=f"JD-{n}", title=f"Pot {n}", barcode=f"69{n}"))
    url = f"{sim.url}/jd/{shop.code}/routerjson"
    adapter = JDAdapter({**CREDENTIALS, "gateway_url": url})
    yield JD(shop, url, adapter)
    adapter.close()


def read_all(adapter: JDAdapter) -> list[PlatformItem]:
    items: list[PlatformItem] = []
    cursor: str | None = None
    while True:
        page = adapter.fetch_stock(cursor)
        items += page.items
        cursor = page.next_cursor
        if cursor is None:
            return items


# --- stock -----------------------------------------------------------------------------------------------


def test_set_stock_overwrites_each_sku_in_its_own_call(jd: JD) -> None:
    results = jd.adapter.set_stock([StockUpdate("7000", 4), StockUpdate("7001", 0), StockUpdate("7002", 25)])
    assert [r.ok for r in results] == [True, True, True]
    assert jd.shop.snapshot()["listings"] == {"7000": 4, "7001": 0, "7002": 25}
    assert jd.shop.calls["set_stock"] == 3


def test_an_unknown_sku_fails_alone(jd: JD) -> None:
    results = jd.adapter.set_stock([StockUpdate("7000", 1), StockUpdate("7999", 1), StockUpdate("7001", 2)])
    assert [r.ok for r in results] == [True, False, True]
    assert isinstance(results[1].error, PlatformInvalid)
    assert jd.shop.listings["7001"].quantity == 2


def test_negative_availability_shows_zero(jd: JD) -> None:
    assert jd.adapter.set_stock([StockUpdate("7000", -2)])[0].ok
    assert jd.shop.listings["7000"].quantity == 0


def test_the_sdk_spelling_of_the_stock_method_also_works(jd: JD) -> None:
    adapter = jd.adapter_with(stock_method="jingdong.stock.updateSkuStock")
    assert adapter.set_stock([StockUpdate("7002", 6)])[0].ok
    assert jd.shop.listings["7002"].quantity == 6


def test_an_unknown_stock_method_is_rejected(jd: JD) -> None:
    [result] = jd.adapter_with(stock_method="jingdong.no.such.method").set_stock([StockUpdate("7000", 1)])
    assert not result.ok and isinstance(result.error, PlatformInvalid)
    assert jd.shop.listings["7000"].quantity == 10


def test_stock_read_covers_every_page(jd: JD) -> None:
    for n in range(120):
        jd.shop.upsert_listing(SimListing(str(80000 + n), n, external_sku=f"S{n}"))
    items = read_all(jd.adapter)
    assert {item.external_id: item.quantity for item in items} == jd.shop.snapshot()["listings"]
    assert len(items) == 123
    first = next(item for item in items if item.external_id == "7001")
    assert (first.external_sku, first.title, first.barcode) == ("JD-1", "Pot 1", "691")
    assert jd.shop.calls["read_stock"] == 3


# --- orders ----------------------------------------------------------------------------------------------


def test_orders_are_polled_with_cancellations(jd: JD) -> None:
    since = datetime.now(UTC) - timedelta(minutes=5)
    kept = jd.shop.buy("7000", 2, {"name": "韩梅梅", "phone": "13900000000"})
    cancelled = jd.shop.buy("7001", 1)
    shipped = jd.shop.buy("7002", 1)
    assert kept and cancelled and shipped
    jd.shop.cancel(cancelled.id)
    jd.shop.ship(shipped.id)
    events = {e.external_order_id: e for e in jd.adapter.fetch_orders(since, datetime.now(UTC))}
    assert events[kept.id].kind is OrderEventKind.CREATED
    assert events[cancelled.id].kind is OrderEventKind.CANCELLED
    assert events[shipped.id].kind is OrderEventKind.SHIPPED
    line = events[kept.id].lines[0]
    assert (line.external_id, line.qty, line.external_sku) == ("7000", 2, "JD-0")
    customer = events[kept.id].customer
    assert customer is not None and customer.phone == "13900000000"
    assert jd.shop.listings["7001"].quantity == 10  # the cancellation gave the unit back


def test_orders_outside_the_window_are_not_reported(jd: JD) -> None:
    old = jd.shop.buy("7000", 1)
    assert old is not None
    with jd.shop.lock:
        jd.shop.orders[old.id].modified_at = datetime.now(UTC) - timedelta(hours=3)
    assert jd.adapter.fetch_orders(datetime.now(UTC) - timedelta(hours=1), datetime.now(UTC)) == []


def test_many_orders_are_read_through_every_page(jd: JD) -> None:
    since = datetime.now(UTC) - timedelta(minutes=1)
    jd.shop.set_quantity("7000", 500)
    ids = {order.id for order in (jd.shop.buy("7000", 1) for _ in range(150)) if order}
    events = jd.adapter.fetch_orders(since, datetime.now(UTC))
    assert {e.external_order_id for e in events} == ids and len(events) == 150


# --- signatures, throttling, auth, outages ------------------------------------------------------------------


def test_a_wrong_secret_fails_the_signature_check(jd: JD) -> None:
    with pytest.raises(PlatformAuthFailed) as caught:
        jd.adapter_with(app_secret="not-the-secret").set_stock([StockUpdate("7000", 1)])
    assert caught.value.code == "12"
    assert jd.shop.listings["7000"].quantity == 10


def test_a_wrong_access_token_is_an_auth_failure(jd: JD) -> None:
    with pytest.raises(PlatformAuthFailed) as caught:
        jd.adapter_with(access_token="expired").test_connection()
    assert caught.value.code == "19"


def test_a_revoked_token_on_the_platform_is_an_auth_failure(jd: JD) -> None:
    jd.shop.faults.auth_broken = True
    with pytest.raises(PlatformAuthFailed):
        jd.adapter.fetch_stock()


def test_throttled_call_is_surfaced_with_retry_after(jd: JD) -> None:
    jd.shop.set_rate_limit(0.5, 1)
    jd.adapter.test_connection()
    with pytest.raises(PlatformThrottled) as caught:
        jd.adapter.test_connection()
    assert caught.value.retry_after > 0


def test_a_throttle_mid_round_keeps_what_was_written(jd: JD) -> None:
    jd.shop.set_rate_limit(0.5, 1)
    first, second, third = jd.adapter.set_stock([StockUpdate("7000", 3), StockUpdate("7001", 3),
                                                 StockUpdate("7002", 3)])
    assert first.ok and jd.shop.listings["7000"].quantity == 3
    assert not second.ok and isinstance(second.error, PlatformThrottled)
    assert not third.ok and jd.shop.listings["7002"].quantity == 10


def test_an_outage_is_transient(jd: JD) -> None:
    jd.shop.faults.down_until = time.time() + 60
    with pytest.raises(PlatformTransient):
        jd.adapter.set_stock([StockUpdate("7000", 1)])


def test_a_backend_failure_is_transient(jd: JD) -> None:
    jd.shop.faults.error_rate = 1.0
    with pytest.raises(PlatformTransient):
        jd.adapter.fetch_orders(datetime.now(UTC) - timedelta(minutes=1), datetime.now(UTC))


def test_webhooks_are_refused_because_orders_are_polled(jd: JD) -> None:
    with pytest.raises(Invalid):
        jd.adapter.parse_webhook({}, b"{}")
