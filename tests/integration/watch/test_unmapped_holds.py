"""Orders held because an item maps to no SKU: once the item is mapped, the hold-release job completes the
order's lines from the delivery the inbox kept and reserves it, or keeps it held for stock until stock comes;
every step is in the audit log. Deliveries arrive over real HTTP: the merchant's own shop (the webhook
channel, signed) and a simulated Shopify shop."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import httpx

from conftest import Backend
from omnistock.channels.simulator import SimListing, Simulator
from omnistock.sync.worker import Worker
from omnistock.watch import holds
from support.core_api import seed
from support.notify_receivers import RobotReceiver
from support.platforms import connect, wait_until
from support.server import LiveServer
from support.watch_api import alerts_of

SECRET = "shop-secret"


def own_shop(api: httpx.Client, receiver: RobotReceiver) -> str:
    r = api.post("/api/v1/channels", json={"code": "shop", "kind": "webhook",
                                           "settings": {"url": receiver.url(), "secret": SECRET}})
    assert r.status_code == 201, r.text
    return "shop"


def deliver(server: LiveServer, delivery: str, order_id: str, lines: list[dict[str, Any]]) -> None:
    body = json.dumps({"event": "order.created", "id": delivery,
                       "order": {"id": order_id, "currency": "CNY", "lines": lines}}).encode()
    sign = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
    r = httpx.post(f"{server.url}/webhooks/shop", content=body,
                   headers={"Content-Type": "application/json", "X-Omnistock-Signature": sign})
    assert r.status_code == 200, r.text


def only_order(api: httpx.Client, channel: str, external_id: str) -> dict[str, Any]:
    found = [o for o in api.get("/api/v1/orders", params={"channel": channel}).json()["items"]
             if o["external_id"] == external_id]
    assert len(found) == 1, found
    return dict(api.get(f"/api/v1/orders/{found[0]['id']}").json())


def audit(api: httpx.Client, action: str) -> list[dict[str, Any]]:
    return [e for e in api.get("/api/v1/audit").json()["items"] if e["action"] == action]


def map_item(api: httpx.Client, channel: str, external_id: str, sku: str, pack: int = 1) -> None:
    r = api.post(f"/api/v1/channels/{channel}/listings", json={"sku": sku, "external_id": external_id,
                                                                "pack_size": pack})
    assert r.status_code == 201, r.text


def test_an_order_held_for_an_unmapped_item_is_released_once_the_item_is_mapped(
        api: httpx.Client, server: LiveServer, worker: Worker) -> None:
    seed(api, stock=10)
    assert api.post("/api/v1/skus", json={"code": "B", "name": "Beta"}).status_code == 201
    api.post("/api/v1/moves", json={"sku": "B", "location": "WH", "kind": "receipt", "qty": 10})
    with RobotReceiver(answer=b'{"results":[]}') as receiver:
        shop = own_shop(api, receiver)
        map_item(api, shop, "a-1", "A")
        deliver(server, "d-1", "W1", [{"external_id": "a-1", "qty": 2, "unit_price": "9.90"},
                                      {"external_id": "b-6", "qty": 1, "unit_price": "60.00"}])
        held = only_order(api, shop, "W1")
        assert held["status"] == "held" and held["hold_reason"].startswith("unmapped: platform item(s) b-6")
        assert [(ln["sku"], ln["qty"]) for ln in held["lines"]] == [("A", 2)]  # b-6 has no line yet
        assert [a["order_id"] for a in alerts_of(api, "order_held")] == [held["id"]]
        assert holds.release_cleared(worker.db) == 0  # not mapped yet: stays held

        map_item(api, shop, "b-6", "B", pack=6)  # the shop sells B by the pack of six
        wait_until(lambda: only_order(api, shop, "W1")["status"] == "reserved", timeout=60,
                   what="the hold-release job releasing the order")
    done = only_order(api, shop, "W1")
    assert sorted((ln["sku"], ln["qty"], ln["reserved"], ln["unit_price"]) for ln in done["lines"]) == \
        [("A", 2, 2, "9.9000"), ("B", 6, 6, "10.0000")]
    assert done["hold_reason"] is None
    [mapped] = audit(api, "order.lines_mapped")
    assert mapped["actor"] == "watch:auto-release" and "b-6" in mapped["reason"]
    assert mapped["after"]["lines"] == [{"sku": "A", "qty": 2}, {"sku": "B", "qty": 6}]
    [release] = audit(api, "order.release")
    assert release["actor"] == "watch:auto-release" and release["reason"].startswith("unmapped cleared: b-6")
    assert alerts_of(api, "order_held") == []
    assert [e["kind"] for e in done["events"]][-3:] == ["lines_mapped", "reserved", "released"]


def test_a_mapped_order_short_of_stock_stays_held_for_stock(api: httpx.Client, clean: Backend,
                                                           server: LiveServer) -> None:
    seed(api, stock=1)
    with RobotReceiver(answer=b'{"results":[]}') as receiver:
        shop = own_shop(api, receiver)
        deliver(server, "d-2", "W2", [{"external_id": "a-9", "qty": 4}])
        held = only_order(api, shop, "W2")
        assert held["hold_reason"].startswith("unmapped: platform item(s) a-9") and held["lines"] == []

        map_item(api, shop, "a-9", "A")
        assert holds.release_cleared(clean.db) == 0
        short = only_order(api, shop, "W2")
        assert short["status"] == "held" and short["hold_reason"] == "insufficient_stock: A wanted 4, reservable 1"
        assert [(ln["sku"], ln["qty"], ln["reserved"]) for ln in short["lines"]] == [("A", 4, 0)]
        assert alerts_of(api, "order_held") == []  # its cause is now the shortfall: an oversell
        assert [a["order_id"] for a in alerts_of(api, "oversell")] == [held["id"]]
        assert holds.release_cleared(clean.db) == 0  # lines are completed once only
        assert len(only_order(api, shop, "W2")["lines"]) == 1

        api.post("/api/v1/moves", json={"sku": "A", "location": "WH", "kind": "receipt", "qty": 5})
        assert holds.release_cleared(clean.db) == 1
    assert only_order(api, shop, "W2")["status"] == "reserved"
    assert [e["reason"].split(" cleared")[0] for e in audit(api, "order.release")] == ["insufficient_stock"]


def test_a_platform_order_for_an_unlisted_item_is_released_once_it_is_listed(
        api: httpx.Client, sim: Simulator, server: LiveServer, clean: Backend) -> None:
    seed(api, stock=5)
    shopify = connect(api, sim, "shopify", webhook_base=server.url)
    shopify.shop.upsert_listing(SimListing("40077", 9))  # sold on the shop, never mapped in omnistock
    bought = shopify.shop.buy("40077", 2, {"name": "王五"})
    assert bought is not None
    wait_until(lambda: len(api.get("/api/v1/orders", params={"channel": shopify.code}).json()["items"]) == 1,
               what="the Shopify webhook taken in")
    [held] = api.get("/api/v1/orders", params={"channel": shopify.code}).json()["items"]
    assert held["status"] == "held" and "40077" in held["hold_reason"]

    map_item(api, shopify.code, "40077", "A")
    assert holds.release_cleared(clean.db) == 1
    done = api.get(f"/api/v1/orders/{held['id']}").json()
    assert done["status"] == "reserved" and [(ln["sku"], ln["qty"]) for ln in done["lines"]] == [("A", 2)]


def test_a_delivery_that_does_not_carry_its_lines_is_left_to_a_person(
        api: httpx.Client, sim: Simulator, server: LiveServer, clean: Backend) -> None:
    """A Douyin push names only the order; its lines came from a detail read that was not kept."""
    seed(api, stock=5)
    douyin = connect(api, sim, "douyin", webhook_base=server.url)
    douyin.shop.upsert_listing(SimListing("3009/4009", 9))
    assert douyin.shop.buy("3009/4009", 1) is not None
    wait_until(lambda: len(api.get("/api/v1/orders", params={"channel": douyin.code}).json()["items"]) == 1,
               what="the Douyin push taken in")
    [held] = api.get("/api/v1/orders", params={"channel": douyin.code}).json()["items"]
    map_item(api, douyin.code, "3009/4009", "A")
    assert holds.release_cleared(clean.db) == 0
    still = api.get(f"/api/v1/orders/{held['id']}").json()
    assert still["status"] == "held" and still["hold_reason"] == held["hold_reason"] and still["lines"] == []


def test_a_completed_order_goes_through_the_checks_intake_makes(api: httpx.Client, clean: Backend,
                                                                server: LiveServer) -> None:
    """Mapped, the order is looked at as intake would have: a quantity far above the usual stays held, for a
    person, under that reason and its own alert."""
    seed(api, stock=100)
    r = api.put("/api/v1/alert-rules/unusual_quantity", json={"settings": {"factor": 5, "min_lines": 3, "min_qty": 5}})
    assert r.status_code == 200, r.text
    for n in range(3):
        api.post("/api/v1/orders", json={"channel": "m", "external_id": f"u{n}", "lines": [{"sku": "A", "qty": 1}]})
    with RobotReceiver(answer=b'{"results":[]}') as receiver:
        shop = own_shop(api, receiver)
        deliver(server, "d-3", "W3", [{"external_id": "a-5", "qty": 12}])
        map_item(api, shop, "a-5", "A")
        assert holds.release_cleared(clean.db) == 0
    held = only_order(api, shop, "W3")
    assert held["status"] == "held" and held["hold_reason"].startswith("unusual_quantity: A qty 12 is over 5x")
    assert [(ln["sku"], ln["qty"], ln["reserved"]) for ln in held["lines"]] == [("A", 12, 0)]
    [alert] = alerts_of(api, "order_held")
    assert alert["order_id"] == held["id"] and alert["detail"]["cause"] == "unusual_quantity"
    assert holds.release_cleared(clean.db) == 0  # never released by itself
