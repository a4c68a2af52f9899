"""Concurrent receipts, shipments and write-offs of one SKU keep its cost position equal to the ledger."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import httpx
from sqlalchemy import select

from conftest import Backend
from omnistock.money.tables import CostEntry, SkuCost
from support.core_api import seed, sku
from support.money_api import po, receive, sell, supplier, valuation

WORKERS = 24


def test_racing_shipments_receipts_and_write_offs_keep_cost_and_ledger_equal(api: httpx.Client,
                                                                             clean: Backend) -> None:
    seed(api)
    api.post("/api/v1/locations", json={"code": "S1", "name": "Store", "kind": "store"})
    supplier(api)
    receive(api, po(api, [("A", 100, "2.00")])["id"], [("A", 100)])
    api.post("/api/v1/moves", json={"sku": "A", "location": "WH", "kind": "transfer", "qty": 50,
                                    "to_location": "S1"})
    orders = [sell(api, f"o{i}", [("A", 3, "9.00")], ship=False)["id"] for i in range(12)]
    later = po(api, [("A", 60, "3.50")])["id"]
    token = api.headers["Authorization"].split()[1]
    gate = threading.Barrier(WORKERS)

    def one(i: int) -> int:
        with httpx.Client(base_url=str(api.base_url), headers={"Authorization": f"Bearer {token}"},
                          timeout=120) as c:
            gate.wait()
            if i < len(orders):
                return c.post(f"/api/v1/orders/{orders[i]}/ship").status_code
            if i < len(orders) + 6:
                return receive(c, later, [("A", 10)], location="S1" if i % 2 else "WH").status_code
            return c.post("/api/v1/moves", json={"sku": "A", "location": "WH", "kind": "adjustment", "qty": -1,
                                                 "reason": "broken"}).status_code
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        codes = list(pool.map(one, range(WORKERS)))
    assert set(codes) == {200, 201}, codes
    on_hand = sku(api)["on_hand"]
    assert on_hand == 100 - 36 + 60 - 6
    [item] = valuation(api)["items"]
    assert item["on_hand"] == on_hand
    _assert_unbroken_chain(clean, on_hand)


def _assert_unbroken_chain(backend: Backend, on_hand: int) -> None:
    """Each cost entry starts where the previous one ended: no change was applied to a stale position."""
    with backend.db.reading() as session:
        entries = list(session.scalars(select(CostEntry).order_by(CostEntry.id)))
        position = session.scalars(select(SkuCost)).one()
    units, value = 0, Decimal(0)
    for e in entries:
        units += e.qty
        value += e.received - e.cogs - e.loss - e.to_supplier
        assert (e.on_hand_after, e.value_after) == (units, value), e.id
    assert (position.on_hand, position.value) == (units, value) == (on_hand, value)
