"""10,000 orders on one SKU in a burst cause a few dozen platform calls to each platform, within every platform's
rate limit: listings are pushed the value they should show now, not once per event.

The platforms answer in about a second, as they do under a 双十一 load, so that the count does not depend on how
fast this machine takes the orders in: with at most one call in flight per listing, each carrying the newest
value, the calls a listing gets are bounded by the burst's length over the platform's round trip, however
many orders the burst holds. A per-event sync would make 10,000 calls per platform."""

from __future__ import annotations

import time

import httpx
import pytest

from conftest import Backend
from omnistock.sync.worker import Worker
from support.burst import place_orders
from support.core_api import seed, sku
from support.platforms import connect, list_item, wait_until
from support.push_log import overlapping_pushes
from support.server import LiveServer

ORDERS = 10_000
PLATFORMS = ["shopify", "woocommerce", "taobao", "jd", "pinduoduo", "douyin"]
CLIENTS = 2  # processes: one per CPU of the CI machine
ROUND_TRIP_MS = (800, 1200)


@pytest.mark.timeout(900)  # 10,000 real orders: minutes on a busy machine
def test_ten_thousand_orders_cause_a_few_dozen_calls_per_platform(api: httpx.Client, clean: Backend, sim,  # type: ignore[no-untyped-def]
                                                                  server: LiveServer, worker: Worker) -> None:
    seed(api, stock=ORDERS * 2)
    shops = [connect(api, sim, p) for p in PLATFORMS]
    items = {c.code: list_item(api, c, "A", 300 + i) for i, c in enumerate(shops)}
    for c in shops:
        wait_until(lambda c=c: c.shows(items[c.code]) == ORDERS * 2, what="first push")
        c.shop.faults.latency_ms = ROUND_TRIP_MS
    before = {c.code: c.shop.calls["set_stock"] for c in shops}

    started = time.monotonic()
    assert place_orders(clean.settings, "m", "A", ORDERS, clients=CLIENTS) == ORDERS
    burst_s = time.monotonic() - started
    assert sku(api)["reserved"] == ORDERS
    for c in shops:
        wait_until(lambda c=c: c.shows(items[c.code]) == ORDERS, timeout=60, what=f"{c.platform} shows the rest")
    elapsed = time.monotonic() - started
    assert overlapping_pushes(clean) == []  # one call at a time per listing
    for c in shops:
        calls = c.shop.calls["set_stock"] - before[c.code]
        per_s, burst = c.shop.rate_limit
        print(f"{c.platform}: {calls} calls for {ORDERS} orders in {burst_s:.1f}s (settled after {elapsed:.1f}s)")
        assert calls <= per_s * elapsed + burst, (c.platform, calls, elapsed)  # never above the rate limit
        assert calls <= elapsed / (ROUND_TRIP_MS[0] / 1000) + 2, (c.platform, calls, elapsed)  # coalesced
        assert calls * 20 <= ORDERS, (c.platform, calls, burst_s)  # at least 20 orders in each call
