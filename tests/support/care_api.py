"""Helpers for the complaint-desk tests: orders that get held, cases read back, assertions on problems."""

from __future__ import annotations

from typing import Any

import httpx

PROBLEM = "application/problem+json"


def order(api: httpx.Client, ext: str, qty: int, *, price: str | None = None, email: str | None = "wang@example.com",
          name: str | None = "王小明", phone: str | None = "13800000000", channel: str = "m",
          sku: str = "A") -> dict[str, Any]:
    line: dict[str, Any] = {"sku": sku, "qty": qty}
    if price is not None:
        line["unit_price"] = price
    r = api.post("/api/v1/orders", json={"channel": channel, "external_id": ext, "lines": [line],
                                         "customer": {"name": name, "phone": phone, "email": email},
                                         "currency": "CNY"})
    assert r.status_code in (200, 201), r.text
    return r.json()


def cases_of_order(api: httpx.Client, order_id: int) -> list[dict[str, Any]]:
    r = api.get("/api/v1/cases", params={"order_id": order_id})
    assert r.status_code == 200, r.text
    return r.json()["items"]


def the_case_of(api: httpx.Client, order_id: int) -> dict[str, Any]:
    items = cases_of_order(api, order_id)
    assert len(items) == 1, items
    return case(api, items[0]["id"])


def case(api: httpx.Client, case_id: int) -> dict[str, Any]:
    r = api.get(f"/api/v1/cases/{case_id}")
    assert r.status_code == 200, r.text
    return r.json()


def new_case(api: httpx.Client, **body: Any) -> dict[str, Any]:
    payload = {"category": "other", "subject": "Customer asks about delivery", **body}
    r = api.post("/api/v1/cases", json=payload)
    assert r.status_code == 201, r.text
    return r.json()


def total_cases(api: httpx.Client) -> int:
    return int(api.get("/api/v1/cases").json()["total"])


def assert_problem(r: httpx.Response, status: int, field: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    assert body["detail"] and "Traceback" not in r.text
    if field is not None:
        assert body.get("field") == field, body
    return body
