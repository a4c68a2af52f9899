"""Reorder suggestions from real sales over HTTP, against a hand-computed example, and drafting POs."""

from __future__ import annotations

from datetime import date, timedelta

import httpx

from support.core_api import seed
from support.money_api import po, receive, sell, supplier, today


def _scenario(api: httpx.Client) -> None:
    # Safety stock 5, lead time 10 days. 70 received, 56 sold in the window (2 a day over 28 days),
    # 6 more on order: free 14, position 20 ≤ reorder point 2 × 10 + 5 = 25,
    # so order up to 2 × (10 + 14) + 5 = 53: 33 units. 14 free units last 7 days.
    seed(api, safety=5)
    supplier(api, lead_time_days=10)
    assert api.put("/api/v1/skus/A/supplier", json={"supplier": "SUP", "unit_cost": "4.20"}).status_code == 200
    receive(api, po(api, [("A", 70, "4.00")])["id"], [("A", 70)])
    for n in range(8):
        sell(api, f"o{n}", [("A", 7, "12.00")])
    po(api, [("A", 6, "4.00")])


def test_suggestion_matches_the_hand_computed_example(api: httpx.Client) -> None:
    _scenario(api)
    r = api.get("/api/v1/reorder/suggestions", params={"window_days": 28, "cover_days": 14})
    assert r.status_code == 200, r.text
    [line] = r.json()["items"]
    assert (line["sku"], line["supplier"], line["lead_time_days"]) == ("A", "SUP", 10)
    assert (line["daily_rate"], line["free"], line["on_order"], line["reorder_point"]) == ("2.00", 14, 6, "25.00")
    assert line["order_qty"] == 33
    assert line["runs_out"] == (date.fromisoformat(today()) + timedelta(days=7)).isoformat()


def test_nothing_is_suggested_when_stock_is_ample(api: httpx.Client) -> None:
    seed(api, stock=100)
    supplier(api)
    assert api.get("/api/v1/reorder/suggestions").json()["items"] == []
    one = api.get("/api/v1/reorder/suggestions", params={"sku": "A"}).json()["items"]
    assert one[0]["order_qty"] == 0 and one[0]["runs_out"] is None and one[0]["supplier"] is None


def test_drafts_one_po_per_supplier_that_is_not_on_order(api: httpx.Client) -> None:
    _scenario(api)
    api.post("/api/v1/skus", json={"code": "Z", "name": "Zeta", "safety_stock": 2})  # no supplier
    r = api.post("/api/v1/reorder/drafts", json={"window_days": 28, "cover_days": 14})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["no_supplier"] == ["Z"]
    [draft] = body["drafts"]
    assert draft["status"] == "draft" and draft["supplier"] == "SUP"
    assert [(ln["sku"], ln["qty"], ln["unit_cost"]) for ln in draft["lines"]] == [("A", 33, "4.20")]
    assert api.get("/api/v1/skus/A").json()["on_order"] == 6
