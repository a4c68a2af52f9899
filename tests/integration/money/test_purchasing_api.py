"""Suppliers and purchase orders over HTTP: on order, partial receipts, over-receipt, returns, bad input."""

from __future__ import annotations

import httpx
import pytest

from conftest import Backend, client_for, make_token
from support.core_api import seed, sku
from support.money_api import po, receive, supplier
from support.server import LiveServer

PROBLEM = "application/problem+json"


def assert_problem(r: httpx.Response, status: int, field: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    assert body.get("field") == field, body
    return body


def test_po_created_through_the_api_is_ordered_and_on_order(api: httpx.Client) -> None:
    seed(api)
    supplier(api, lead_time_days=7)
    r = api.post("/api/v1/purchase-orders", json={"supplier": "SUP", "location": "WH",
                                                  "lines": [{"sku": "A", "qty": 10, "unit_cost": "5.50"}]})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "ordered" and isinstance(body["id"], int) and body["currency"] == "CNY"
    assert body["lines"] == [{"sku": "A", "qty": 10, "received": 0, "returned": 0, "outstanding": 10,
                              "unit_cost": "5.50", "currency": "CNY"}]
    shown = sku(api)
    assert shown["on_hand"] == 0 and shown["on_order"] == 10
    assert shown["on_order_locations"] == [{"location": "WH", "on_order": 10}]
    assert shown["unit_cost"] is None and shown["cost_currency"] == "CNY"


def test_a_draft_is_not_on_order_until_placed(api: httpx.Client) -> None:
    seed(api)
    supplier(api)
    draft = po(api, [("A", 4, "2")], status="draft")
    assert draft["status"] == "draft" and sku(api)["on_order"] == 0
    assert_problem(receive(api, draft["id"], [("A", 1)]), 409, "status")
    placed = api.post(f"/api/v1/purchase-orders/{draft['id']}/place")
    assert placed.json()["status"] == "ordered" and placed.json()["ordered_at"]
    assert sku(api)["on_order"] == 4


def test_partial_receipts_write_receipt_moves_and_lower_on_order(api: httpx.Client) -> None:
    seed(api)
    supplier(api)
    order = po(api, [("A", 10, "3.00")])
    first = receive(api, order["id"], [("A", 4)])
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "partially_received"
    shown = sku(api)
    assert (shown["on_hand"], shown["on_order"], shown["unit_cost"]) == (4, 6, "3.00")
    receipts = [e for e in api.get("/api/v1/audit", params={"sku": "A"}).json()["items"]
                if e["action"] == "stock.receipt"]
    assert len(receipts) == 1 and receipts[0]["after"]["on_hand"] == 4
    second = receive(api, order["id"], [("A", 6)])
    assert second.json()["status"] == "received"
    assert second.json()["lines"][0]["outstanding"] == 0
    assert (sku(api)["on_hand"], sku(api)["on_order"]) == (10, 0)
    assert_problem(receive(api, order["id"], [("A", 1)]), 409, "status")  # nothing more is expected


def test_over_receipt_is_refused_and_writes_nothing(api: httpx.Client) -> None:
    seed(api)
    supplier(api)
    order = po(api, [("A", 10, "3.00")])
    assert receive(api, order["id"], [("A", 8)]).status_code == 200
    body = assert_problem(receive(api, order["id"], [("A", 3)]), 422, "lines[0].qty")
    assert "at most 2 more" in body["detail"]
    assert (sku(api)["on_hand"], sku(api)["on_order"]) == (8, 2)
    assert api.get(f"/api/v1/purchase-orders/{order['id']}").json()["lines"][0]["received"] == 8


def test_the_suppliers_tolerance_allows_a_small_over_receipt(api: httpx.Client) -> None:
    seed(api)
    supplier(api, over_receipt_percent="10")
    order = po(api, [("A", 20, "3.00")])
    assert_problem(receive(api, order["id"], [("A", 23)]), 422, "lines[0].qty")  # 10 % of 20 is 2
    r = receive(api, order["id"], [("A", 22)])
    assert r.status_code == 200 and r.json()["status"] == "received"
    assert (sku(api)["on_hand"], sku(api)["on_order"]) == (22, 0)


def test_supplier_return_writes_an_adjustment_out_at_average_cost(api: httpx.Client) -> None:
    seed(api)
    supplier(api)
    order = po(api, [("A", 10, "4.00")])
    receive(api, order["id"], [("A", 10)])
    r = api.post(f"/api/v1/purchase-orders/{order['id']}/return",
                 json={"location": "WH", "lines": [{"sku": "A", "qty": 3}], "reason": "damaged in transit"})
    assert r.status_code == 200, r.text
    assert r.json()["lines"][0]["returned"] == 3
    assert sku(api)["on_hand"] == 7
    audit = api.get("/api/v1/audit", params={"sku": "A"}).json()["items"]
    adjustment = next(e for e in audit if e["action"] == "stock.adjustment")
    assert "returned to supplier SUP" in adjustment["reason"]
    valued = api.get("/api/v1/reports/valuation").json()
    assert valued["total"] == "28.00"
    too_many = api.post(f"/api/v1/purchase-orders/{order['id']}/return",
                        json={"location": "WH", "lines": [{"sku": "A", "qty": 8}]})
    assert_problem(too_many, 422, "lines[0].qty")
    assert sku(api)["on_hand"] == 7


def test_cancelled_po_is_no_longer_on_order(api: httpx.Client) -> None:
    seed(api)
    supplier(api)
    order = po(api, [("A", 10, "1")])
    receive(api, order["id"], [("A", 4)])
    r = api.post(f"/api/v1/purchase-orders/{order['id']}/cancel", json={"reason": "supplier out of stock"})
    assert r.json()["status"] == "cancelled"
    assert (sku(api)["on_hand"], sku(api)["on_order"]) == (4, 0)
    assert_problem(api.post(f"/api/v1/purchase-orders/{order['id']}/cancel"), 409, "status")


@pytest.mark.parametrize(("body", "status", "field"), [
    ({"supplier": "NOPE", "lines": [{"sku": "A", "qty": 1, "unit_cost": "1"}]}, 404, "supplier"),
    ({"supplier": "SUP", "lines": [{"sku": "A", "qty": 1, "unit_cost": "-0.01"}]}, 422, "lines[0].unit_cost"),
    ({"supplier": "SUP", "lines": [{"sku": "A", "qty": 1, "unit_cost": 1.5}]}, 422, "lines[0].unit_cost"),
    ({"supplier": "SUP", "currency": "XXX", "lines": [{"sku": "A", "qty": 1, "unit_cost": "1"}]}, 422, "currency"),
    ({"supplier": "SUP", "currency": "usd", "lines": [{"sku": "A", "qty": 1, "unit_cost": "1"}]}, 422, "currency"),
    ({"supplier": "SUP", "lines": [{"sku": "NOPE", "qty": 1, "unit_cost": "1"}]}, 404, "lines[0].sku"),
    ({"supplier": "SUP", "lines": [{"sku": "A", "qty": 0, "unit_cost": "1"}]}, 422, "lines[0].qty"),
    ({"supplier": "SUP", "lines": []}, 422, "lines"),
    ({"supplier": "SUP", "lines": [{"sku": "A", "qty": 1, "unit_cost": "1"}, {"sku": "A", "qty": 2,
                                                                              "unit_cost": "1"}]}, 422, "lines[1].sku"),
    ({"supplier": "SUP", "status": "received", "lines": [{"sku": "A", "qty": 1, "unit_cost": "1"}]}, 422, "status"),
])
def test_bad_purchase_order_is_refused_naming_the_field(api: httpx.Client, body: dict, status: int,
                                                        field: str) -> None:
    seed(api)
    supplier(api)
    assert_problem(api.post("/api/v1/purchase-orders", json=body), status, field)
    assert api.get("/api/v1/purchase-orders").json()["total"] == 0


@pytest.mark.parametrize(("lines", "location", "status", "field"), [
    ([("A", 11)], "WH", 422, "lines[0].qty"),
    ([("B", 1)], "WH", 422, "lines[0].sku"),
    ([("A", 1)], "NOPE", 404, "location"),
])
def test_bad_receipt_is_refused_and_writes_nothing(api: httpx.Client, lines: list, location: str, status: int,
                                                   field: str) -> None:
    seed(api)
    supplier(api)
    order = po(api, [("A", 10, "3")])
    assert_problem(receive(api, order["id"], lines, location), status, field)
    assert (sku(api)["on_hand"], sku(api)["on_order"]) == (0, 10)
    assert api.get("/api/v1/reports/valuation").json()["items"] == []


def test_bad_supplier_is_refused(api: httpx.Client) -> None:
    assert_problem(api.post("/api/v1/suppliers", json={"code": "S", "name": "x", "currency": "ABC"}), 422,
                   "currency")
    assert_problem(api.post("/api/v1/suppliers", json={"code": "S", "name": "x", "lead_time_days": -1}), 422,
                   "lead_time_days")
    supplier(api, "S")
    assert_problem(api.post("/api/v1/suppliers", json={"code": "S", "name": "again"}), 409, "code")
    assert api.get("/api/v1/suppliers").json()["total"] == 1


def test_viewer_cannot_buy_and_scoped_token_cannot_read_money_reports(clean: Backend, server: LiveServer) -> None:
    with client_for(server, make_token(clean)) as admin:
        seed(admin)
        supplier(admin)
    with client_for(server, make_token(clean, "viewer")) as viewer:
        r = viewer.post("/api/v1/purchase-orders", json={"supplier": "SUP", "lines": [
            {"sku": "A", "qty": 1, "unit_cost": "1"}]})
        assert r.status_code == 403
        assert viewer.get("/api/v1/reports/valuation").status_code == 200
    with client_for(server, make_token(clean, "operator", locations=["WH"])) as scoped:
        assert scoped.get("/api/v1/reports/valuation").status_code == 403
