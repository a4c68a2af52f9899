"""Care reports: distributions, breach and reopen rates, causes, channels and compensation cost per day and
week, as JSON, CSV and XLSX; and an incident's review."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import httpx
from openpyxl import load_workbook

from conftest import SYSTEM, Backend
from omnistock.care import compensations, handling, messages, sla_watch
from omnistock.care.cases import CaseSpec, Defaults, get_case, open_case
from omnistock.config import Settings
from support.care_api import assert_problem
from support.core_api import seed

CST = ZoneInfo("Asia/Shanghai")
DAY1 = datetime(2026, 11, 10, 10, 0, tzinfo=CST)  # a Tuesday
DAY2 = DAY1 + timedelta(days=1)
RANGE = {"since": "2026-11-09T00:00:00+08:00", "until": "2026-11-16T00:00:00+08:00"}


def _history(backend: Backend) -> None:
    """Day 1: answered in 10 minutes, resolved in 2 hours, compensated 10 CNY.
    Day 2: answered after 45 minutes (breach), resolved, reopened."""
    settings = Settings()
    with backend.db.transaction() as s:
        a = open_case(s, CaseSpec("out_of_stock", "oversold", channel="m", external_order_id="x1", skus=("A",),
                                  order_value=Decimal("50")), SYSTEM, Defaults(), now=DAY1).id
        messages.reply(s, a, SYSTEM, messages.ReplySpec(body="sorry", channel="manual"), settings,
                       now=DAY1 + timedelta(minutes=10))
        compensations.grant(s, get_case(s, a, SYSTEM), SYSTEM, compensations.CompensationSpec(), settings,
                            now=DAY1 + timedelta(minutes=20))
        handling.set_status(s, a, SYSTEM, "resolved", now=DAY1 + timedelta(hours=2))
        b = open_case(s, CaseSpec("late_shipment", "late"), SYSTEM, Defaults(), now=DAY2).id
        sla_watch.scan(s, DAY2 + timedelta(minutes=40))
        messages.reply(s, b, SYSTEM, messages.ReplySpec(body="on it", channel="manual"), settings,
                       now=DAY2 + timedelta(minutes=45))
        handling.set_status(s, b, SYSTEM, "resolved", now=DAY2 + timedelta(hours=5))
        handling.set_status(s, b, SYSTEM, "open", now=DAY2 + timedelta(hours=6))


def test_daily_report_as_json(api: httpx.Client, clean: Backend) -> None:
    seed(api)
    _history(clean)
    r = api.get("/api/v1/care/reports", params={**RANGE, "period": "day"})
    assert r.status_code == 200, r.text
    report = r.json()
    totals = report["totals"]
    assert totals["cases"] == 2 and totals["breach_rate"] == 0.5 and totals["reopen_rate"] == 0.5
    assert totals["by_cause"] == {"late_shipment": 1, "out_of_stock": 1}
    assert totals["by_channel"] == {"m": 1, "none": 1}
    assert totals["first_response"]["count"] == 2 and totals["first_response"]["p90_minutes"] == 45.0
    assert totals["first_response"]["buckets"]["5-15m"] == 1 and totals["first_response"]["buckets"]["30-60m"] == 1
    assert totals["resolution"]["count"] == 1 and totals["resolution"]["p50_minutes"] == 120.0  # b was reopened
    assert totals["compensation_cost_by_cause"] == [{"cause": "out_of_stock", "currency": "CNY", "cost": "10.00"}]
    assert totals["compensation_cost_by_sku"] == [{"sku": "A", "currency": "CNY", "cost": "10.00"}]
    days = {p["start"]: p for p in report["periods"]}
    assert set(days) == {"2026-11-10", "2026-11-11"}
    assert (days["2026-11-10"]["breach_rate"], days["2026-11-11"]["breach_rate"]) == (0.0, 1.0)


def test_weekly_report_groups_by_monday(api: httpx.Client, clean: Backend) -> None:
    seed(api)
    _history(clean)
    weeks = api.get("/api/v1/care/reports", params={**RANGE, "period": "week"}).json()["periods"]
    assert [(w["start"], w["cases"]) for w in weeks] == [("2026-11-09", 2)]
    # bare dates are days in the merchant's zone: the 11th alone holds the second case
    day = api.get("/api/v1/care/reports", params={"since": "2026-11-11", "until": "2026-11-12"}).json()
    assert day["totals"]["cases"] == 1 and day["since"] == "2026-11-11T00:00:00+08:00"


def test_report_exports_as_csv_and_xlsx(api: httpx.Client, clean: Backend) -> None:
    seed(api)
    _history(clean)
    r = api.get("/api/v1/care/reports", params={**RANGE, "format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert {"period": "total", "metric": "cases", "key": "", "value": "2", "currency": ""} in rows
    assert {"period": "2026-11-10", "metric": "compensation_cost_by_sku", "key": "A", "value": "10.00",
            "currency": "CNY"} in rows
    x = api.get("/api/v1/care/reports", params={**RANGE, "format": "xlsx"})
    assert x.status_code == 200
    book = load_workbook(io.BytesIO(x.content))
    assert book.sheetnames == ["summary", "figures"]
    summary = [row for row in book["summary"].iter_rows(values_only=True)]
    assert summary[0][:3] == ("period", "cases", "first_response_p50_minutes")
    assert ("total", 2) == summary[-1][:2]


def test_bad_report_queries_are_4xx(api: httpx.Client) -> None:
    assert_problem(api.get("/api/v1/care/reports", params={"period": "month"}), 422, "period")
    assert_problem(api.get("/api/v1/care/reports", params={"format": "pdf"}), 422, "format")
    assert_problem(api.get("/api/v1/care/reports", params={"since": "2026-11-10T00:00:00+08:00",
                                                          "until": "2026-11-01T00:00:00+08:00"}), 422, "until")
    assert_problem(api.get("/api/v1/care/reports", params={"since": "yesterday"}), 422, "since")


def test_incident_review_has_cause_fix_times_and_cost(api: httpx.Client) -> None:
    seed(api, stock=0)
    ids = []
    for i in range(2):
        r = api.post("/api/v1/orders", json={"channel": "m", "external_id": f"o{i}", "currency": "CNY",
                                             "lines": [{"sku": "A", "qty": 1, "unit_price": "60.00"}]})
        ids.append(api.get("/api/v1/cases", params={"order_id": r.json()["id"]}).json()["items"][0]["id"])
    iid = api.post("/api/v1/incidents", json={"title": "Oversell of A on m", "cause": "stock edited by hand on m",
                                              "case_ids": ids}).json()["id"]
    api.post(f"/api/v1/incidents/{iid}/compensate", json={"kind": "standard"})
    assert_problem(api.post(f"/api/v1/incidents/{iid}/resolve", json={}), 422, "fix")
    done = api.post(f"/api/v1/incidents/{iid}/resolve", json={"fix": "locked manual edits; resynced"}).json()
    assert sorted(done["done"]) == sorted(ids)
    review = api.get(f"/api/v1/incidents/{iid}/review").json()
    assert review["incident"]["cause"] == "stock edited by hand on m"
    assert review["incident"]["fix"] == "locked manual edits; resynced" and review["incident"]["status"] == "resolved"
    assert review["cases_by_status"] == {"resolved": 2} and review["messages"] == {"draft": 2}
    assert review["figures"]["compensation_cost_by_cause"] == [{"cause": "out_of_stock", "currency": "CNY",
                                                                "cost": "20.00"}]
    assert review["timeline"]["resolved_at"] is not None
    assert api.get("/api/v1/incidents", params={"status": "resolved"}).json()["total"] == 1
