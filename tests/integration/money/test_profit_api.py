"""Channel profit on a scenario with known revenue, fees, cost of goods, compensation and an oversell: the
worked example of docs/money.md."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import httpx

from conftest import Backend
from support.core_api import seed
from support.money_api import around_today, profit_scenario


def test_profit_per_channel(api: httpx.Client, clean: Backend) -> None:
    comp = profit_scenario(api, clean)
    r = api.get("/api/v1/reports/profit", params={**around_today(), "by": "channel"})
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

    comp = profit_scenario(api, clean)
    body = api.get("/api/v1/reports/profit", params={**around_today(), "by": "sku"}).json()
    [row] = body["rows"]
    assert (row["sku"], row["revenue"], row["fees"], row["cogs"]) == ("A", "110.00", "2.00", "18.00")
    assert Decimal(row["compensation"]) == comp
    r = api.get("/api/v1/reports/profit.xlsx", params={**around_today(), "by": "sku"})
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
