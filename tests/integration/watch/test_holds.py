"""Automatic holds: an open drift on a channel in `hold` mode holds its next order of the SKU until healing
releases it; a quantity far above the usual is held for a person; a short order is released by itself when
stock arrives; every release is in the audit log."""

from __future__ import annotations

from typing import Any

import httpx

from conftest import Backend
from omnistock.channels.simulator import Simulator
from omnistock.sync.worker import Worker
from omnistock.watch import holds
from support.core_api import seed, sku
from support.platforms import Connected, connect, list_item, wait_until
from support.server import LiveServer
from support.watch_api import alerts_of, reconcile


def orders_of(api: httpx.Client, channel: str, status: str | None = None) -> list[dict[str, Any]]:
    params = {"channel": channel, **({"status": status} if status else {})}
    return list(api.get("/api/v1/orders", params=params).json()["items"])


def audit_releases(api: httpx.Client) -> list[dict[str, Any]]:
    return [e for e in api.get("/api/v1/audit").json()["items"] if e["action"] == "order.release"]


def shop(api: httpx.Client, sim: Simulator, server: LiveServer, stock: int) -> tuple[Connected, str]:
    seed(api, stock=stock)
    douyin = connect(api, sim, "douyin", webhook_base=server.url)
    item = list_item(api, douyin, "A", 1)
    wait_until(lambda: douyin.shows(item) == stock, what="first push")
    return douyin, item


def test_hold_mode_holds_the_next_order_and_releases_it_after_healing(api: httpx.Client, sim: Simulator,
                                                                     server: LiveServer, worker: Worker) -> None:
    douyin, item = shop(api, sim, server, 10)
    assert api.put(f"/api/v1/channels/{douyin.code}/reconciliation", json={"mode": "hold"}).status_code == 200
    douyin.shop.set_quantity(item, 20, source="manual")
    run = reconcile(api, douyin.code)
    assert [(d["kind"], d["action"]) for d in run["differences"]] == [("drift", "hold")]

    assert douyin.shop.buy(item, 2, {"name": "李四"}) is not None
    wait_until(lambda: len(orders_of(api, douyin.code)) == 1, what="the order taken in")
    [held] = orders_of(api, douyin.code, "held")
    assert held["hold_reason"].startswith("drift: A shows 20") and f"#{run['id']}" in held["hold_reason"]
    assert sku(api)["reserved"] == 0
    assert alerts_of(api, "order_held")[0]["order_id"] == held["id"]

    reconcile(api, douyin.code, heal=True)
    wait_until(lambda: api.get(f"/api/v1/orders/{held['id']}").json()["status"] == "reserved", timeout=60,
               what="the order released once the drift is healed")
    assert sku(api)["reserved"] == 2
    wait_until(lambda: douyin.shows(item) == 8, what="the platform shows the right value")
    [release] = audit_releases(api)
    assert release["actor"] == "watch:auto-release" and "drift cleared" in release["reason"]
    assert alerts_of(api, "order_held") == [] and alerts_of(api, "drift") == []


def test_a_quantity_far_above_the_usual_is_held_for_a_person(api: httpx.Client, sim: Simulator,
                                                            server: LiveServer, worker: Worker) -> None:
    douyin, item = shop(api, sim, server, 100)
    r = api.put("/api/v1/alert-rules/unusual_quantity",
                json={"settings": {"factor": 5, "min_lines": 3, "min_qty": 5}})
    assert r.status_code == 200, r.text
    for n in range(3):
        assert douyin.shop.buy(item, 1) is not None
        wait_until(lambda n=n: len(orders_of(api, douyin.code)) == n + 1, what="a usual order")
    assert douyin.shop.buy(item, 12) is not None
    wait_until(lambda: len(orders_of(api, douyin.code, "held")) == 1, what="the big order held")
    [held] = orders_of(api, douyin.code, "held")
    assert held["hold_reason"].startswith("unusual_quantity: A qty 12 is over 5x the usual 1.0")
    [alert] = alerts_of(api, "order_held")
    assert alert["order_id"] == held["id"] and alert["severity"] == "warning"
    holds.release_cleared(worker.db)
    assert api.get(f"/api/v1/orders/{held['id']}").json()["status"] == "held"  # never released by itself

    released = api.post(f"/api/v1/orders/{held['id']}/release", json={"reason": "called the buyer: a school"})
    assert released.status_code == 200 and released.json()["status"] == "reserved"
    [entry] = audit_releases(api)
    assert entry["actor"] == "token:test-admin" and entry["reason"] == "called the buyer: a school"
    assert alerts_of(api, "order_held") == []


def test_a_short_order_is_released_by_itself_when_stock_arrives(api: httpx.Client, clean: Backend) -> None:
    seed(api, stock=1)
    order = api.post("/api/v1/orders", json={"channel": "m", "external_id": "o1", "lines": [{"sku": "A", "qty": 3}]})
    assert order.json()["status"] == "held" and order.json()["hold_reason"].startswith("insufficient_stock")
    assert holds.release_cleared(clean.db) == 0  # still short: stays held, no new hold event or alert
    assert len(alerts_of(api, "oversell")) == 1
    api.post("/api/v1/moves", json={"sku": "A", "location": "WH", "kind": "receipt", "qty": 5})
    assert holds.release_cleared(clean.db) == 1
    assert api.get(f"/api/v1/orders/{order.json()['id']}").json()["status"] == "reserved"
    [entry] = audit_releases(api)
    assert entry["actor"] == "watch:auto-release" and entry["reason"].startswith("insufficient_stock cleared")
    assert alerts_of(api, "oversell") == []
