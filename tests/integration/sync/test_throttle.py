"""The sync worker honours a platform's throttle: after a throttled answer the platform hears nothing from it
until the announced wait has passed (no busy loop), and the listings still reach their value. Read from the
simulated shop's own call log, so the pacing is what the platform saw, not what omnistock believes it did."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import httpx

from omnistock.channels.simulator import GateKind, SimCall, Simulator
from omnistock.sync.worker import Worker
from support.core_api import seed
from support.platforms import Connected, connect, list_item, wait_until
from support.server import LiveServer

# How long each platform tells the client to wait for a throttled call: WooCommerce's host in `Retry-After`,
# Taobao in "This ban will last for N more seconds"; both in whole seconds, rounded up.
ANNOUNCED: dict[str, Callable[[float], float]] = {
    "woocommerce": lambda wait: max(1, math.ceil(wait)),
    "taobao": lambda wait: max(1, math.ceil(wait)),
}
CLOCK_SLACK_S = 0.01  # both ends of a gap are read from the same monotonic clock


def calls_since(conn: Connected, start: float) -> list[SimCall]:
    return [c for c in conn.shop.call_log() if c.at >= start]


def early_calls(conn: Connected, calls: list[SimCall]) -> list[tuple[float, float]]:
    """(gap, announced wait) for every call that came sooner after a throttled one than announced."""
    announced = ANNOUNCED[conn.platform]
    early = []
    for throttled, following in zip(calls, calls[1:]):
        if throttled.verdict is GateKind.THROTTLED:
            gap, wait = following.at - throttled.at, announced(throttled.retry_after)
            if gap < wait - CLOCK_SLACK_S:
                early.append((round(gap, 3), wait))
    return early


def receipt(api: httpx.Client, qty: int) -> None:
    r = api.post("/api/v1/moves", json={"sku": "A", "location": "WH", "kind": "receipt", "qty": qty})
    assert r.status_code == 201, r.text


def test_an_overloaded_platform_answering_429_is_left_alone_for_its_retry_after(
        api: httpx.Client, sim: Simulator, server: LiveServer, worker: Worker) -> None:
    seed(api, stock=10)
    woo = connect(api, sim, "woocommerce")
    items = [list_item(api, woo, "A", n) for n in (1, 2, 3)]
    wait_until(lambda: all(woo.shows(i) == 10 for i in items), what="every listing shows 10")
    start = time.monotonic()
    woo.shop.faults.overload_retry_after = 1.0  # every call answered 429, Retry-After: 1
    receipt(api, 5)
    wait_until(lambda: any(c.verdict is GateKind.THROTTLED for c in calls_since(woo, start)),
               what="a throttled push")
    time.sleep(2.2)  # long enough for the worker to come back twice while the shop still refuses
    woo.shop.faults.overload_retry_after = 0.0
    wait_until(lambda: all(woo.shows(i) == 15 for i in items), what="every listing converges on 15")
    calls = calls_since(woo, start)
    throttled = [c for c in calls if c.verdict is GateKind.THROTTLED]
    assert 2 <= len(throttled) <= 4, calls  # one try per announced second, not a loop
    assert early_calls(woo, calls) == []


def test_a_rate_limited_platform_is_paced_by_its_announced_ban(
        api: httpx.Client, sim: Simulator, server: LiveServer, worker: Worker) -> None:
    seed(api, stock=10)
    taobao = connect(api, sim, "taobao")
    # Tighter than the 5 calls/s the adapter assumes: the shop's own throttle code has to pace the worker.
    taobao.shop.set_rate_limit(1.0, 1)
    start = time.monotonic()
    items = [list_item(api, taobao, "A", n) for n in (1, 2, 3)]  # three items: three calls
    wait_until(lambda: all(taobao.shows(i) == 10 for i in items), what="every listing shows 10")
    calls = calls_since(taobao, start)
    assert any(c.verdict is GateKind.THROTTLED for c in calls), calls  # the limit did bite
    assert early_calls(taobao, calls) == []
    ok = [c for c in calls if c.verdict is GateKind.OK]
    assert len(ok) == len(items) and len(calls) <= 2 * len(items) + 2, calls
