"""Pre-sale of on-order stock: only a channel with the option on is shown the units on order, its orders
beyond the stock on hand wait for the goods (held `presale`, not an oversell), and a delivery against the PO
reserves them, oldest first. End to end against the platform simulator, and the edge rules over the API."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from conftest import Backend
from omnistock.channels.simulator import SimRegistry, Simulator
from omnistock.sync.worker import Worker
from support.core_api import seed, sku
from support.money_api import po, receive, supplier, today
from support.platforms import connect, list_item, wait_until
from support.server import LiveServer
from support.workers import sync_worker


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(SimRegistry(seed=11)) as simulator:
        yield simulator


@pytest.fixture
def worker(clean: Backend) -> Iterator[Worker]:
    with sync_worker(clean) as running:
        yield running


def presale(api: httpx.Client, channel: str, on: bool = True) -> None:
    r = api.put(f"/api/v1/channels/{channel}/terms", json={"presale": on})
    assert r.status_code == 200 and r.json()["presale"] is on, r.text


def order(api: httpx.Client, ext: str, qty: int, channel: str = "m") -> dict:
    r = api.post("/api/v1/orders", json={"channel": channel, "external_id": ext, "lines": [{"sku": "A", "qty": qty}]})
    assert r.status_code == 201, r.text
    return r.json()


def status_of(api: httpx.Client, order_id: int) -> tuple[str, str | None]:
    body = api.get(f"/api/v1/orders/{order_id}").json()
    return body["status"], body["hold_reason"]


def oversold_today(api: httpx.Client) -> int:
    r = api.get("/api/v1/reports/profit", params={"from": today(), "to": today()})
    assert r.status_code == 200, r.text
    return int(r.json()["total"]["oversold_orders"])


def test_only_the_presale_channel_shows_on_order_units_and_its_orders_wait_for_the_goods(
        api: httpx.Client, sim: Simulator, server: LiveServer, worker: Worker) -> None:
    seed(api, stock=2)
    supplier(api)
    douyin = connect(api, sim, "douyin", webhook_base=server.url)  # pre-sale on; its orders come by webhook
    taobao = connect(api, sim, "taobao")  # pre-sale off
    d_item, t_item = list_item(api, douyin, "A", 1, shown=50), list_item(api, taobao, "A", 2, shown=50)
    wait_until(lambda: douyin.shows(d_item) == 2 and taobao.shows(t_item) == 2, what="both show the 2 on hand")
    placed = po(api, [("A", 10, "3.00")], location="WH")
    draft = po(api, [("A", 100, "3.00")], status="draft")  # a draft is not on order: never offered
    presale(api, douyin.code)
    wait_until(lambda: douyin.shows(d_item) == 12, what="the pre-sale channel shows 2 on hand + 10 on order")
    assert taobao.shows(t_item) == 2 and draft["status"] == "draft"

    sold = douyin.shop.buy(d_item, 5, {"name": "李四"})
    assert sold is not None
    wait_until(lambda: bool(api.get("/api/v1/orders", params={"channel": douyin.code}).json()["items"]),
               what="the pre-sale order taken in")
    taken = api.get("/api/v1/orders", params={"channel": douyin.code}).json()["items"][0]
    assert taken["status"] == "held"
    assert taken["hold_reason"].startswith("presale: A wanted 5, available 2, on order 10")
    # 5 of the 10 on order are promised now: the pre-sale channel shows 2 + 5, the other still the 2 on hand
    wait_until(lambda: douyin.shows(d_item) == 7, what="the pre-sale channel shows what is left to promise")
    assert taobao.shows(t_item) == 2
    assert oversold_today(api) == 0
    assert api.get("/api/v1/alerts", params={"kind": "oversell"}).json()["total"] == 0
    assert api.get("/api/v1/cases").json()["total"] == 0  # no apology case for a customer who pre-ordered

    # A second pre-sale order takes the 5 left on order and the 2 on hand: nobody may sell those 2 again.
    assert douyin.shop.buy(d_item, 7) is not None
    wait_until(lambda: len(api.get("/api/v1/orders", params={"channel": douyin.code}).json()["items"]) == 2,
               what="the second pre-sale order taken in")
    second = next(o for o in api.get("/api/v1/orders", params={"channel": douyin.code}).json()["items"]
                  if o["id"] != taken["id"])
    assert second["hold_reason"].startswith("presale: A wanted 7, available 2, on order 10 (5 promised")
    wait_until(lambda: douyin.shows(d_item) == 0 and taobao.shows(t_item) == 0, what="both show 0")

    assert receive(api, placed["id"], [("A", 10)]).status_code == 200
    # released in the receipt's own transaction, oldest first
    assert status_of(api, taken["id"])[0] == "reserved" and status_of(api, second["id"])[0] == "reserved"
    shown = sku(api)
    assert (shown["on_hand"], shown["reserved"], shown["available"], shown["on_order"]) == (12, 12, 0, 0)
    assert douyin.shows(d_item) == 0 and taobao.shows(t_item) == 0
    released = [e for e in api.get(f"/api/v1/orders/{taken['id']}").json()["events"] if e["kind"] == "released"]
    assert released and released[0]["actor"] == "money:presale"
    assert oversold_today(api) == 0


def test_an_order_beyond_on_hand_and_on_order_is_still_an_oversell(api: httpx.Client) -> None:
    seed(api, stock=2)
    supplier(api)
    po(api, [("A", 3, "1.00")])
    po(api, [("A", 50, "1.00")], location=None, status="draft")  # drafts promise nothing
    presale(api, "m")
    too_many = order(api, "big", 6)
    assert too_many["status"] == "held" and too_many["hold_reason"].startswith("insufficient_stock")
    waiting = order(api, "pre", 5)
    assert waiting["status"] == "held" and waiting["hold_reason"].startswith("presale:")
    assert "(0 promised to earlier pre-sale orders)" in waiting["hold_reason"]
    # all 5 on hand and on order are promised now: one more unit is an oversell
    late = order(api, "late", 3)
    assert late["hold_reason"].startswith("insufficient_stock")
    assert oversold_today(api) == 2


def test_a_channel_without_presale_holds_as_an_oversell(api: httpx.Client) -> None:
    seed(api, stock=1)
    supplier(api)
    po(api, [("A", 10, "1.00")])
    held = order(api, "x", 4)
    assert held["status"] == "held" and held["hold_reason"].startswith("insufficient_stock")
    assert oversold_today(api) == 1


def test_a_partial_delivery_reserves_the_oldest_presale_orders_it_covers(api: httpx.Client) -> None:
    seed(api)
    supplier(api)
    placed = po(api, [("A", 10, "1.00")])
    presale(api, "m")
    first, second = order(api, "p1", 4), order(api, "p2", 4)
    assert [o["hold_reason"].split(":")[0] for o in (first, second)] == ["presale", "presale"]
    assert "(4 promised to earlier pre-sale orders)" in second["hold_reason"]
    assert receive(api, placed["id"], [("A", 5)]).status_code == 200
    assert status_of(api, first["id"])[0] == "reserved"
    assert status_of(api, second["id"]) == ("held", second["hold_reason"])  # 1 left on hand: it waits on
    receive(api, placed["id"], [("A", 5)])
    assert status_of(api, second["id"])[0] == "reserved"
    assert oversold_today(api) == 0


def test_a_cancelled_po_turns_the_orders_it_covered_into_oversells(api: httpx.Client) -> None:
    seed(api)
    supplier(api)
    placed = po(api, [("A", 5, "1.00")])
    presale(api, "m")
    waiting = order(api, "p", 3)
    assert waiting["hold_reason"].startswith("presale:")
    cancelled = api.post(f"/api/v1/purchase-orders/{placed['id']}/cancel", json={"reason": "supplier out"})
    assert cancelled.status_code == 200
    state, reason = status_of(api, waiting["id"])
    assert state == "held" and reason is not None and reason.startswith("insufficient_stock: A wanted 3, reservable 0")
    assert f"purchase order {placed['id']} cancelled" in reason
    assert oversold_today(api) == 1
    assert api.get("/api/v1/cases").json()["total"] == 1  # the complaint desk follows it up as an oversell
    alerts = api.get("/api/v1/alerts", params={"kind": "oversell"}).json()["items"]
    assert len(alerts) == 1 and waiting["external_id"] in alerts[0]["message"]
