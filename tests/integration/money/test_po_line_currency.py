"""A purchase order line priced in its own currency: costed at the rate of the PO's day, like the PO's own
currency; an unknown code is refused naming the line, and nothing is written."""

from __future__ import annotations

from typing import Any

import httpx

from support.core_api import seed, sku
from support.money_api import po, rate, receive, supplier, valuation


def _second_sku(api: httpx.Client) -> None:
    assert api.post("/api/v1/skus", json={"code": "B", "name": "Beta"}).status_code == 201


def test_a_line_in_another_currency_is_costed_at_the_rate_of_the_pos_day(api: httpx.Client) -> None:
    seed(api)
    _second_sku(api)
    supplier(api)
    rate(api, "USD", "7.00")
    order = po(api, [("A", 10, "5.00")], extra_lines=[{"sku": "B", "qty": 4, "unit_cost": "1.50", "currency": "USD"}])
    assert order["currency"] == "CNY"
    assert [(ln["sku"], ln["unit_cost"], ln["currency"]) for ln in order["lines"]] == [
        ("A", "5.00", "CNY"), ("B", "1.50", "USD")]
    assert receive(api, order["id"], [("A", 10), ("B", 4)]).status_code == 200
    assert sku(api, "A")["unit_cost"] == "5.00"
    assert sku(api, "B")["unit_cost"] == "10.50"  # 1.50 USD × 7.00
    assert valuation(api)["total"] == "92.00"  # 50.00 + 4 × 10.50
    # the PO's own currency named on a line is the same as naming none
    same = po(api, [("A", 1, "5.00")], extra_lines=[], line_currency="CNY")
    assert same["lines"][0]["currency"] == "CNY"


def test_an_unknown_line_currency_is_refused_and_nothing_is_written(api: httpx.Client) -> None:
    seed(api)
    _second_sku(api)
    supplier(api)
    body: dict[str, Any] = {"supplier": "SUP", "lines": [{"sku": "A", "qty": 1, "unit_cost": "1"},
                                         {"sku": "B", "qty": 1, "unit_cost": "1", "currency": "XYZ"}]}
    r = api.post("/api/v1/purchase-orders", json=body)
    assert r.status_code == 422 and r.json()["field"] == "lines[1].currency", r.text
    assert "unknown currency code 'XYZ'" in r.json()["detail"]
    body["lines"][1]["currency"] = "usd"  # codes are upper case
    lower = api.post("/api/v1/purchase-orders", json=body)
    assert lower.status_code == 422 and "currency" in lower.json()["field"], lower.text
    assert api.get("/api/v1/purchase-orders").json()["total"] == 0


def test_a_line_currency_without_a_rate_refuses_the_receipt_and_receives_nothing(api: httpx.Client) -> None:
    seed(api)
    _second_sku(api)
    supplier(api)
    order = po(api, [("A", 2, "5.00")], extra_lines=[{"sku": "B", "qty": 2, "unit_cost": "3", "currency": "EUR"}])
    r = receive(api, order["id"], [("A", 2), ("B", 2)])
    assert r.status_code == 422 and r.json()["field"] == "currency", r.text
    assert "no exchange rate for EUR" in r.json()["detail"]
    assert sku(api, "A")["on_hand"] == 0 and sku(api, "B")["on_hand"] == 0
    assert api.get(f"/api/v1/purchase-orders/{order['id']}").json()["status"] == "ordered"
