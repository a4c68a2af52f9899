"""Channel profit on a scenario with known revenue, fees, cost of goods, compensation and an oversell: the
worked example of docs/money.md."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import httpx
from sqlalchemy import inspect

from conftest import Backend
from support.core_api import seed
from support.money_api import po, rate, receive, sell, supplier, today, valuation


def _period() -> dict[str, str]:
    day = date.fromisoformat(today())
    return {"from": (day - timedelta(days=1)).isoformat(), "to": (day + timedelta(days=1)).isoformat()}


def _grant_compensation(backend: Backend, order_id: int) -> Decimal:
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


def _scenario(api: httpx.Client, backend: Backend) -> Decimal:
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


def test_profit_per_channel(api: httpx.Client, clean: Backend) -> None:
    comp = _scenario(api, clean)
    r = api.get("/api/v1/reports/profit", params={**_period(), "by": "channel"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["currency"] == "CNY" and body["by"] == "channel"
    rows = {row["channel"]: row for row in body["rows"]}
    assert set(rows) == {"m", "tm"}
    m, tm = rows["m"], rows["tm"]
    assert (m["revenue"], m["fees"], m["cogs"], m["compensation"], m["margin"]) == (
        "70.00", "0.00", "6.00", "0.00", "64.00")
    assert (tm["revenue"], tm["fees"], tm["cogs"]) == ("40.00", "2.00", "12.00")
    assert Decimal(tm["compensation"]) == comp and Decimal(tm["oversell_cost"]) == comp
    assert Decimal(tm["margin"]) == Decimal("26.00") - comp
    assert tm["oversold_orders"] == 1 and tm["oversell_lost_revenue"] == "2000.00"
    total = body["total"]
    assert (total["revenue"], total["fees"], total["cogs"]) == ("110.00", "2.00", "18.00")
    assert Decimal(total["margin"]) == Decimal("90.00") - comp
    assert body["compensation_source"] == ("care_compensations" if comp else None)


def test_profit_per_sku_and_as_xlsx(api: httpx.Client, clean: Backend, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    comp = _scenario(api, clean)
    body = api.get("/api/v1/reports/profit", params={**_period(), "by": "sku"}).json()
    [row] = body["rows"]
    assert (row["sku"], row["revenue"], row["fees"], row["cogs"]) == ("A", "110.00", "2.00", "18.00")
    assert Decimal(row["compensation"]) == comp
    r = api.get("/api/v1/reports/profit.xlsx", params={**_period(), "by": "sku"})
    assert r.status_code == 200
    path = tmp_path / "p.xlsx"
    path.write_bytes(r.content)
    rows = list(load_workbook(path).active.iter_rows(values_only=True))
    assert rows[0][:2] == ("Sku", "Revenue (CNY)") and rows[1][0] == "A" and float(rows[1][1]) == 110.0


def test_a_period_without_sales_is_empty(api: httpx.Client) -> None:
    seed(api)
    body = api.get("/api/v1/reports/profit", params={"from": "2020-01-01", "to": "2020-01-31"}).json()
    assert body["rows"] == [] and body["total"]["revenue"] == "0.00" and body["total"]["margin_percent"] is None


def test_bad_report_parameters_name_the_field(api: httpx.Client) -> None:
    for params, field in (({"from": "2024-01-02", "to": "2024-01-01"}, "to"),
                          ({"from": "2024-01-01", "to": "2024-01-02", "by": "store"}, "by"),
                          ({"to": "2024-01-02"}, "from"),
                          ({"from": "yesterday", "to": "2024-01-02"}, "from")):
        r = api.get("/api/v1/reports/profit", params=params)
        assert r.status_code == 422 and r.json()["field"] == field, r.text
    bad_fee = api.put("/api/v1/channels/nope/terms", json={"fee_percent": "5"})
    assert bad_fee.status_code == 404 and bad_fee.json()["field"] == "code"
    seed(api)
    too_high = api.put("/api/v1/channels/m/terms", json={"fee_percent": "101"})
    assert too_high.status_code == 422 and too_high.json()["field"] == "fee_percent"
    assert api.get("/api/v1/channels/m/terms").json()["fee_percent"] == "0.00"
