"""Helpers for the money tests: suppliers, purchase orders and receipts over the API."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import httpx

SHANGHAI = ZoneInfo("Asia/Shanghai")


def today() -> str:
    """Today in the merchant's zone (the tests run with the default Asia/Shanghai)."""
    return datetime.now(SHANGHAI).date().isoformat()


def supplier(api: httpx.Client, code: str = "SUP", **extra: object) -> dict:
    r = api.post("/api/v1/suppliers", json={"code": code, "name": f"Supplier {code}", **extra})
    assert r.status_code == 201, r.text
    return r.json()


def po(api: httpx.Client, lines: list[tuple[str, int, str]], supplier_code: str = "SUP", **extra: object) -> dict:
    body = {"supplier": supplier_code, "lines": [{"sku": s, "qty": q, "unit_cost": c} for s, q, c in lines], **extra}
    r = api.post("/api/v1/purchase-orders", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def receive(api: httpx.Client, po_id: int, lines: list[tuple[str, int]], location: str = "WH") -> httpx.Response:
    return api.post(f"/api/v1/purchase-orders/{po_id}/receive",
                    json={"location": location, "lines": [{"sku": s, "qty": q} for s, q in lines]})


def rate(api: httpx.Client, currency: str, value: str, day: str | None = None) -> None:
    r = api.post("/api/v1/exchange-rates", json={"day": day or today(), "currency": currency, "rate": value})
    assert r.status_code == 201, r.text


def sell(api: httpx.Client, ext: str, lines: list[tuple[str, int, str | None]], channel: str = "m",
         currency: str | None = None, ship: bool = True) -> dict:
    body: dict = {"channel": channel, "external_id": ext,
                  "lines": [{"sku": s, "qty": q, **({"unit_price": p} if p is not None else {})} for s, q, p in lines]}
    if currency:
        body["currency"] = currency
    r = api.post("/api/v1/orders", json=body)
    assert r.status_code == 201, r.text
    order = r.json()
    if ship and order["status"] == "reserved":
        shipped = api.post(f"/api/v1/orders/{order['id']}/ship")
        assert shipped.status_code == 200, shipped.text
        order = shipped.json()
    return order


def valuation(api: httpx.Client, **params: str) -> dict:
    r = api.get("/api/v1/reports/valuation", params=params)
    assert r.status_code == 200, r.text
    return r.json()
