"""Purchasing and money in the console, over HTTP against the live server: suppliers, purchase orders (create
with lines, place, receive in part, cancel after a confirmation), the valuation and profit reports with their
Excel downloads; viewers read only, forged posts are refused, errors are shown next to their field."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import httpx
from openpyxl import load_workbook

from conftest import Backend
from integration.web.conftest import cheap_password_hashing, csrf_of, make_user, signed_in
from support.core_api import seed, sku
from support.money_api import around_today, po, profit_scenario, rate, receive, supplier
from support.server import LiveServer

__all__ = ["cheap_password_hashing"]  # the web tests' autouse fixture: sign-ins hash at the lowest cost


def _error_of(page: str, field_id: str) -> str:
    """The message shown under one field (its id is the form's prefix and the field's name)."""
    found = re.search(rf'id="{re.escape(field_id)}-error" role="alert">([^<]*)<', page)
    assert found, f"no error under {field_id}"
    return found.group(1)


def test_suppliers_are_listed_and_added_with_errors_next_to_the_field(api: httpx.Client, clean: Backend,
                                                                      server: LiveServer) -> None:
    make_user(clean, "buyer", "operator")
    with signed_in(server, "buyer", lang="en") as client:
        token = csrf_of(client, "/purchasing/suppliers")
        empty = client.post("/purchasing/suppliers", data={"csrf": token, "code": "SUP", "currency": "CNY"})
        assert empty.status_code == 422 and _error_of(empty.text, "sup-name") == "Required."
        assert 'value="SUP"' in empty.text  # what was typed is kept
        bad = client.post("/purchasing/suppliers", data={"csrf": token, "code": "SUP", "name": "Tea farm",
                                                        "currency": "xyz"})
        assert bad.status_code == 422 and "unknown currency code &#39;XYZ&#39;" in _error_of(bad.text, "sup-currency")
        done = client.post("/purchasing/suppliers", data={
            "csrf": token, "code": "SUP", "name": "Tea farm", "currency": "usd", "lead_time_days": "7",
            "over_receipt_percent": "5", "contact": "王经理 138"})
        assert done.status_code == 303 and done.headers["location"] == "/purchasing/suppliers?done=created"
        listed = client.get(done.headers["location"]).text
        assert "The supplier was added." in listed and "Tea farm" in listed and "王经理 138" in listed
        again = client.post("/purchasing/suppliers", data={"csrf": token, "code": "SUP", "name": "Twice"})
        assert again.status_code == 409 and "exists already" in _error_of(again.text, "sup-code")
        zh = client.get("/purchasing/suppliers?lang=zh-CN").text
        assert "添加供应商" in zh and "交货周期（天）" in zh
    body = api.get("/api/v1/suppliers/SUP").json()
    assert (body["currency"], body["lead_time_days"], body["over_receipt_percent"]) == ("USD", 7, "5.00")
    assert api.get("/api/v1/suppliers").json()["total"] == 1


def _new_po(client: httpx.Client, token: str, **fields: str) -> httpx.Response:
    return client.post("/purchasing/orders/new", data={"csrf": token, "supplier": "SUP", **fields})


def test_a_purchase_order_is_created_placed_received_in_part_and_cancelled(api: httpx.Client, clean: Backend,
                                                                          server: LiveServer) -> None:
    seed(api)
    assert api.post("/api/v1/skus", json={"code": "B", "name": "Beta"}).status_code == 201
    supplier(api)
    rate(api, "USD", "7.00")
    make_user(clean, "buyer", "operator")
    lines = {"lines[0].sku": "A", "lines[0].qty": "10", "lines[0].unit_cost": "5.00",
             "lines[2].sku": "B", "lines[2].qty": "4", "lines[2].unit_cost": "1.50", "lines[2].currency": "USD"}
    with signed_in(server, "buyer", lang="en") as client:
        token = csrf_of(client, "/purchasing/orders/new")
        typo = _new_po(client, token, **{**lines, "lines[2].qty": "four"})
        assert typo.status_code == 422 and _error_of(typo.text, "po-lines[2]-qty") == "Enter a whole number."
        # the service names the second line sent; the console shows it on the form's third row
        unknown = _new_po(client, token, **{**lines, "lines[2].sku": "NOPE"})
        assert unknown.status_code == 404 and "NOPE" in _error_of(unknown.text, "po-lines[2]-sku")
        nothing = _new_po(client, token)
        assert nothing.status_code == 422 and "Enter at least one line." in nothing.text
        assert api.get("/api/v1/purchase-orders").json()["total"] == 0

        created = _new_po(client, token, draft="1", location="WH", note="spring tea", **lines)
        assert created.status_code == 303, created.text
        po_id = int(re.fullmatch(r"/purchasing/orders/(\d+)\?done=created", created.headers["location"]).group(1))  # type: ignore[union-attr]
        page = client.get(f"/purchasing/orders/{po_id}").text
        assert "Draft" in page and "spring tea" in page and "$1.50" in page and "CN¥5.00" in page
        assert sku(api)["on_order"] == 0  # a draft is not on order
        placed = client.post(f"/purchasing/orders/{po_id}/place", data={"csrf": token})
        assert placed.status_code == 303 and sku(api)["on_order"] == 10

        too_many = client.post(f"/purchasing/orders/{po_id}/receive",
                               data={"csrf": token, "location": "WH", "lines[0].qty": "100"})
        assert too_many.status_code == 422 and "at most 10 more" in _error_of(too_many.text, "rcv-lines[0]-qty")
        part = client.post(f"/purchasing/orders/{po_id}/receive",
                           data={"csrf": token, "location": "WH", "lines[0].qty": "4", "lines[1].qty": "4",
                                 "reason": "DN-77"})
        assert part.status_code == 303 and part.headers["location"].endswith("done=receive")
        assert "Partly received" in client.get(f"/purchasing/orders/{po_id}").text
        assert (sku(api)["on_hand"], sku(api)["on_order"]) == (4, 6)
        assert sku(api, "B")["unit_cost"] == "10.50"  # the line's USD at the rate of the PO's day

        ask = client.post(f"/purchasing/orders/{po_id}/cancel", data={"csrf": token})
        assert ask.status_code == 200 and "Yes, cancel the purchase order" in ask.text
        assert api.get(f"/api/v1/purchase-orders/{po_id}").json()["status"] == "partially_received"
        done = client.post(f"/purchasing/orders/{po_id}/cancel",
                           data={"csrf": token, "confirmed": "1", "reason": "supplier ran out"})
        assert done.status_code == 303
        listed = client.get("/purchasing/orders?status=cancelled").text
        assert f"PO {po_id}" in listed and "Cancelled" in listed
        assert f"PO {po_id}" not in client.get("/purchasing/orders?status=draft").text
    assert api.get(f"/api/v1/purchase-orders/{po_id}").json()["status"] == "cancelled"
    assert (sku(api)["on_hand"], sku(api)["on_order"]) == (4, 0)


def test_a_viewer_sees_purchasing_without_forms_and_forged_posts_are_refused(api: httpx.Client, clean: Backend,
                                                                             server: LiveServer) -> None:
    seed(api)
    supplier(api)
    order = po(api, [("A", 5, "2.00")], location="WH")
    make_user(clean, "look", "viewer")
    make_user(clean, "buyer", "operator")
    with signed_in(server, "look", lang="en") as client:
        suppliers_page = client.get("/purchasing/suppliers").text
        assert "Supplier SUP" in suppliers_page and 'action="/purchasing/suppliers"' not in suppliers_page
        orders_page = client.get("/purchasing/orders").text
        assert f"PO {order['id']}" in orders_page and "/purchasing/orders/new" not in orders_page
        page = client.get(f"/purchasing/orders/{order['id']}").text
        assert "/receive" not in page and "/cancel" not in page and "Ordered" in page
        token = csrf_of(client, "/purchasing/orders")
        assert client.get("/purchasing/orders/new").status_code == 403
        refused = client.post(f"/purchasing/orders/{order['id']}/receive",
                              data={"csrf": token, "location": "WH", "lines[0].qty": "5"})
        assert refused.status_code == 403
        assert client.post("/purchasing/suppliers", data={"csrf": token, "code": "X", "name": "X"}).status_code == 403
    with signed_in(server, "buyer", lang="en") as client:
        forged = client.post(f"/purchasing/orders/{order['id']}/receive", data={"location": "WH", "lines[0].qty": "5"})
        assert forged.status_code == 403 and "out of date" in forged.text
        wrong = client.post("/purchasing/suppliers", data={"csrf": "not-the-token", "code": "X", "name": "X"})
        assert wrong.status_code == 403
    assert sku(api)["on_hand"] == 0 and api.get("/api/v1/suppliers").json()["total"] == 1


def test_the_valuation_page_values_stock_at_a_date_and_downloads_it(api: httpx.Client, clean: Backend,
                                                                    server: LiveServer) -> None:
    seed(api)
    supplier(api)
    receive(api, po(api, [("A", 10, "5.25")])["id"], [("A", 10)])
    make_user(clean, "look", "viewer")
    with signed_in(server, "look", lang="en") as client:
        page = client.get("/money/valuation").text
        assert 'data-figure="total">CN¥52.50<' in page and "5.25" in page
        assert 'href="/money/valuation.xlsx"' in page
        before = client.get("/money/valuation?at=2020-01-01").text
        assert 'data-figure="total">CN¥0.00<' in before and "No stock with a cost at that time." in before
        assert 'href="/money/valuation.xlsx?at=2020-01-01"' in before
        bad = client.get("/money/valuation?at=yesterday")
        assert bad.status_code == 422 and "not a date" in _error_of(bad.text, "val-at")
        sheet = client.get("/money/valuation.xlsx")
        assert sheet.status_code == 200 and sheet.headers["content-type"].startswith("application/vnd.openxmlformats")
        rows = list(load_workbook(io.BytesIO(sheet.content)).active.iter_rows(values_only=True))
        assert rows[1][0] == "A" and Decimal(str(rows[1][4])) == Decimal("52.5")
        zh = client.get("/money/valuation?lang=zh-CN").text
        assert 'data-figure="total">¥52.50<' in zh and "库存价值" in zh


def test_the_profit_page_shows_what_oversells_cost_and_downloads_it(api: httpx.Client, clean: Backend,
                                                                    server: LiveServer) -> None:
    comp = profit_scenario(api, clean)
    period = around_today()
    make_user(clean, "owner", "viewer")
    with signed_in(server, "owner", lang="en") as client:
        page = client.get("/money/profit", params=period)
        assert page.status_code == 200
        text = page.text
        assert "What stock errors cost" in text and "in 1 oversold orders" in text
        assert "revenue lost on the oversold orders cancelled: CN¥2,000.00" in text
        assert f"Compensation paid for oversells: CN¥{comp:.2f}" in text
        assert f'data-figure="margin">CN¥{Decimal("90.00") - comp:,.2f}<' in text
        assert ">tm<" in text and ">m<" in text
        by_sku = client.get("/money/profit", params={**period, "by": "sku"}).text
        assert '<th scope="row">A</th>' in by_sku
        link = re.search(r'href="(/money/profit\.xlsx\?[^"]+)"', by_sku).group(1).replace("&amp;", "&")  # type: ignore[union-attr]
        sheet = client.get(link)
        assert sheet.status_code == 200
        rows = list(load_workbook(io.BytesIO(sheet.content)).active.iter_rows(values_only=True))
        assert rows[0][0] == "Sku" and rows[1][0] == "A" and float(rows[1][1]) == 110.0
        backwards = client.get("/money/profit", params={"from": period["to"], "to": period["from"]})
        assert backwards.status_code == 422 and "to must not be before from" in _error_of(backwards.text, "pr-to")
        zh = client.get("/money/profit", params={**period, "lang": "zh-CN"}).text
        assert "库存错误的代价" in zh and "¥2,000.00" in zh


def test_money_pages_are_refused_to_a_person_limited_to_some_channels(api: httpx.Client, clean: Backend,
                                                                      server: LiveServer) -> None:
    seed(api)
    make_user(clean, "shop", "viewer", channels=["m"])
    with signed_in(server, "shop", lang="en") as client:
        for path in ("/money/valuation", "/money/profit", "/money/valuation.xlsx"):
            refused = client.get(path)
            assert refused.status_code == 403 and "whole business" in refused.text
    with httpx.Client(base_url=server.url, follow_redirects=False) as anonymous:
        assert anonymous.get("/purchasing/orders").headers["location"].startswith("/login")
