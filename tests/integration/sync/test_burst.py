"""10,000 orders on one SKU in a burst cause a few dozen platform calls, within every platform's rate limit:
listings are pushed the value they should show now, not once per event. (How many calls exactly depends on
how long the burst lasts on this machine: the bound checked is the rate limit and at least 20 orders
coalesced into each call; a quiet machine does far better: see the closing notes.)"""

from __future__ import annotations

import time

import httpx
import pytest

from conftest import Backend
from omnistock.sync.worker import Worker
from support.burst import place_orders
from support.core_api import seed, sku
from support.platforms import connect, list_item, wait_until
from support.server import LiveServer

ORDERS = 10_000
PLATFORMS = ["taobao", "jd", "pinduoduo", "douyin"]
CLIENTS = 2  # processes: one per CPU of the CI machine


@pytest.mark.timeout(900)  # 10,000 real orders: minutes on a busy machine
def test_ten_thousand_orders_cause_a_few_dozen_calls_per_platform(api: httpx.Client, clean: Backend, sim,  # type: ignore[no-untyped-def]
                                                                  server: LiveServer, worker: Worker) -> None:
    seed(api, stock=ORDERS * 2)
    shops = [connect(api, sim, p) for p in PLATFORMS]
    items = {c.code: list_item(api, c, "A", 300 + i) for i, c in enumerate(shops)}
    for c in shops:
        wait_until(lambda c=c: c.shows(items[c.code]) == ORDERS * 2, what="first push")
    before = {c.code: c.shop.calls["set_stock"] for c in shops}

    started = time.monotonic()
    assert place_orders(clean.settings, "m", "A", ORDERS, clients=CLIENTS) == ORDERS
    burst_s = time.monotonic() - started
    assert sku(api)["reserved"] == ORDERS
    for c in shops:
        wait_until(lambda c=c: c.shows(items[c.code]) == ORDERS, timeout=60, what=f"{c.platform} shows the rest")
    elapsed = time.monotonic() - started
    for c in shops:
        calls = c.shop.calls["set_stock"] - before[c.code]
        per_s, burst = c.shop.rate_limit
        assert calls <= per_s * elapsed + burst, (c.platform, calls, elapsed)  # never above the rate limit
        # Coalesced: each call carries the latest of many changes (at least 20 even on a loaded machine).
        assert calls * 20 <= ORDERS, (c.platform, calls, burst_s)
        print(f"{c.platform}: {calls} calls for {ORDERS} orders in {burst_s:.1f}s")
