"""Helpers for the money tests: suppliers, purchase orders and receipts over the API."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import inspect

from support.core_api import seed

SHANGHAI = ZoneInfo("Asia/Shanghai")


def today() -> str:
    """Today in the merchant's zone (the tests run with the default Asia/Shanghai)."""
    return datetime.now(SHANGHAI).date().isoformat()


def supplier(api: httpx.Client, code: str = "SUP", **extra: object) -> dict:
    r = api.post("/api/v1/suppliers", json={"code": code, "name": f"Supplier {code}", **extra})
    assert r.status_code == 201, r.text
    return r.json()


def po(api: httpx.Client, lines: list[tuple[str, int, str]], supplier_code: str = "SUP", *,
       extra_lines: list[dict] | None = None, line_currency: str | None = None, **extra: object) -> dict:
    """A purchase order over the API; `line_currency` names a currency on each of `lines`, `extra_lines` are
    appended as given."""
    priced = {"currency": line_currency} if line_currency else {}
    body = {"supplier": supplier_code, "lines": [{"sku": s, "qty": q, "unit_cost": c, **priced} for s, q, c in lines]
            + (extra_lines or []), **extra}
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


def around_today() -> dict[str, str]:
    day = date.fromisoformat(today())
    return {"from": (day - timedelta(days=1)).isoformat(), "to": (day + timedelta(days=1)).isoformat()}


def _grant_compensation(backend: Any, order_id: int) -> Decimal:
    """A granted 10.00 CNY coupon on the oversold order, through the complaint desk's tables when they exist."""
    try:
        from omnistock.care.tables import CareCase, CareCompensation
    except ImportError:
        return Decimal(0)
    with backend.db.transaction() as session:
        if not inspect(session.connection()).has_table(CareCompensation.__tablename__):
            return Decimal(0)
        case = CareCase(order_id=order_id, channel="tm", source="proactive", category="out_of_stock",
                        priority="high", status="resolved", subject="oversold", skus=["A"], currency="CNY",
                        locale="zh", created_by="test")
        session.add(case)
        session.flush()
        session.add(CareCompensation(case_id=case.id, kind="coupon", amount=Decimal("10.00"), currency="CNY",
                                     cost=Decimal("10.00"), status="granted", proposed_by="test",
                                     proposed_role="agent", decided_at=datetime.now(timezone.utc)))
        # A compensation for a late parcel is not a stock error and stays out of the report.
        late = CareCase(channel="tm", source="customer", category="late_shipment", priority="low", status="open",
                        subject="late", currency="CNY", locale="zh", created_by="test")
        session.add(late)
        session.flush()
        session.add(CareCompensation(case_id=late.id, kind="coupon", amount=Decimal(5), currency="CNY",
                                     cost=Decimal(5), status="granted", proposed_by="test", proposed_role="agent"))
    return Decimal("10.00")


def profit_scenario(api: httpx.Client, backend: Any) -> Decimal:
    """The worked example of docs/money.md (`backend` is the suite's Backend); returns the compensation granted."""
    seed(api)
    assert api.post("/api/v1/channels", json={"code": "tm", "kind": "manual"}).status_code == 201
    terms = api.put("/api/v1/channels/tm/terms", json={"fee_percent": "5"})
    assert terms.json() == {"channel": "tm", "fee_percent": "5.00", "presale": False}
    supplier(api)
    supplier(api, "US", currency="USD")
    rate(api, "USD", "7.00")
    receive(api, po(api, [("A", 10, "5.00")])["id"], [("A", 10)])                     # 50.00
    receive(api, po(api, [("A", 10, "1.00")], supplier_code="US")["id"], [("A", 10)])  # 70.00: 6.00 a unit
    sell(api, "o1", [("A", 2, "20.00")], channel="tm")                     # 40.00, fee 2.00, cogs 12.00
    sell(api, "o2", [("A", 1, "10.00")], currency="USD")                   # 70.00 CNY, no fee, cogs 6.00
    back = sell(api, "o3", [("A", 1, "20.00")], channel="tm")              # shipped, then returned: nets 0
    assert api.post(f"/api/v1/orders/{back['id']}/return").status_code == 200
    oversold = sell(api, "o4", [("A", 100, "20.00")], channel="tm")        # held: not there
    assert oversold["status"] == "held"
    assert api.post(f"/api/v1/orders/{oversold['id']}/cancel").status_code == 200
    assert valuation(api)["total"] == "102.00"                             # 120.00 received − 18.00 COGS
    return _grant_compensation(backend, oversold["id"])
