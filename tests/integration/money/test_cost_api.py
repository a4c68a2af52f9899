"""Moving-average cost, COGS on shipment and return, valuation at any time, exchange rates — over HTTP."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx

from conftest import Backend
from support.core_api import seed, sku
from support.money_api import po, rate, receive, sell, supplier, today, valuation


def test_moving_average_over_receipts_in_two_currencies(api: httpx.Client) -> None:
    seed(api)
    supplier(api)
    supplier(api, "US", currency="USD")
    rate(api, "USD", "7.00")
    cny = po(api, [("A", 10, "5.00")])
    usd = po(api, [("A", 10, "1.00")], supplier_code="US")
    assert usd["currency"] == "USD"
    receive(api, cny["id"], [("A", 10)])
    receive(api, usd["id"], [("A", 10)])
    assert sku(api)["unit_cost"] == "6.00"  # (50 + 10 × 7.00) / 20
    sell(api, "o1", [("A", 5, "20.00")])
    v = valuation(api)
    assert v["currency"] == "CNY" and v["total"] == "90.00"  # 120 received − 30 cost of goods sold
    assert v["items"] == [{"sku": "A", "name": "Alpha", "on_hand": 15, "unit_cost": "6.00", "value": "90.00"}]


def test_receipt_without_an_exchange_rate_is_refused_and_writes_nothing(api: httpx.Client) -> None:
    seed(api)
    supplier(api, "US", currency="USD")
    order = po(api, [("A", 10, "1.00")], supplier_code="US")
    r = receive(api, order["id"], [("A", 10)])
    assert r.status_code == 422 and r.json()["field"] == "currency", r.text
    assert "no exchange rate for USD" in r.json()["detail"]
    assert sku(api)["on_hand"] == 0 and valuation(api)["items"] == []


def test_rate_of_an_earlier_day_applies_when_the_day_has_none(api: httpx.Client) -> None:
    seed(api)
    supplier(api, "EU", currency="EUR")
    earlier = (datetime.fromisoformat(today()) - timedelta(days=3)).date().isoformat()
    rate(api, "EUR", "7.50", day=earlier)
    order = po(api, [("A", 2, "10.00")], supplier_code="EU")
    assert receive(api, order["id"], [("A", 2)]).status_code == 200
    assert sku(api)["unit_cost"] == "75.00"


def test_other_receipts_come_in_at_average_and_write_offs_leave_at_it(api: httpx.Client) -> None:
    seed(api)
    supplier(api)
    receive(api, po(api, [("A", 4, "2.50")])["id"], [("A", 4)])
    moved = api.post("/api/v1/moves", json={"sku": "A", "location": "WH", "kind": "receipt", "qty": 2})
    assert moved.status_code == 201
    assert valuation(api)["total"] == "15.00"
    api.post("/api/v1/moves", json={"sku": "A", "location": "WH", "kind": "adjustment", "qty": -3,
                                    "reason": "broken"})
    api.post("/api/v1/locations", json={"code": "S1", "name": "Store", "kind": "store"})
    api.post("/api/v1/moves", json={"sku": "A", "location": "WH", "kind": "transfer", "qty": 1,
                                    "to_location": "S1"})
    v = valuation(api)
    assert v["items"][0]["on_hand"] == 3 == sku(api)["on_hand"] and v["total"] == "7.50"


def test_shipment_books_cogs_and_a_return_reverses_it(api: httpx.Client) -> None:
    seed(api)
    supplier(api)
    receive(api, po(api, [("A", 10, "3.00")])["id"], [("A", 10)])
    order = sell(api, "o1", [("A", 4, "9.90")])
    assert valuation(api)["total"] == "18.00"
    assert api.post(f"/api/v1/orders/{order['id']}/return", json={"reason": "wrong size"}).status_code == 200
    assert valuation(api)["total"] == "30.00" and sku(api)["on_hand"] == 10


def test_bundle_shipment_costs_its_components(api: httpx.Client) -> None:
    seed(api)
    api.post("/api/v1/skus", json={"code": "B", "name": "Beta"})
    api.post("/api/v1/skus", json={"code": "KIT", "name": "Kit", "components": [{"sku": "A", "qty": 2},
                                                                             {"sku": "B", "qty": 1}]})
    supplier(api)
    receive(api, po(api, [("A", 10, "1.00"), ("B", 10, "5.00")])["id"], [("A", 10), ("B", 10)])
    assert sku(api, "KIT")["unit_cost"] == "7.00"
    sell(api, "k1", [("KIT", 2, "30.00")])
    assert valuation(api)["total"] == "46.00"  # 60 − 2 × 7


def test_valuation_at_an_earlier_time_is_exact(api: httpx.Client) -> None:
    seed(api)
    supplier(api)
    receive(api, po(api, [("A", 10, "4.00")])["id"], [("A", 10)])
    time.sleep(0.05)
    between = datetime.now(timezone.utc).isoformat()
    time.sleep(0.05)
    receive(api, po(api, [("A", 10, "6.00")])["id"], [("A", 10)])
    sell(api, "o1", [("A", 5, None)])
    assert valuation(api, at=between)["items"] == [
        {"sku": "A", "name": "Alpha", "on_hand": 10, "unit_cost": "4.00", "value": "40.00"}]
    assert valuation(api)["total"] == "75.00"
    yesterday = (datetime.fromisoformat(today()) - timedelta(days=1)).date().isoformat()
    before = valuation(api, at=yesterday)
    assert (before["total"], before["items"]) == ("0.00", [])
    bad = api.get("/api/v1/reports/valuation", params={"at": "soon"})
    assert bad.status_code == 422 and bad.json()["field"] == "at"


def test_valuation_is_exported_as_xlsx(api: httpx.Client, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    seed(api)
    supplier(api)
    receive(api, po(api, [("A", 3, "2.50")])["id"], [("A", 3)])
    r = api.get("/api/v1/reports/valuation.xlsx")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
    path = tmp_path / "v.xlsx"
    path.write_bytes(r.content)
    rows = list(load_workbook(path).active.iter_rows(values_only=True))
    assert rows[0][0] == "SKU" and rows[1][:3] == ("A", "Alpha", 3)
    assert float(rows[1][4]) == 7.5 and rows[-1][0] == "Total"


def test_rates_are_imported_from_csv_all_or_nothing(api: httpx.Client) -> None:
    good = "day,currency,rate\n2024-05-07,USD,7.1063\n2024-05-07,EUR,7.6841\n"
    r = api.post("/api/v1/exchange-rates/import", content=good.encode(), headers={"content-type": "text/csv"})
    assert r.status_code == 200 and r.json() == {"imported": 2}
    bad = "day,currency,rate\n2024-05-08,USD,7.2\n2024-05-08,XXX,1\n"
    r = api.post("/api/v1/exchange-rates/import", content=bad.encode(), headers={"content-type": "text/csv"})
    assert r.status_code == 422 and r.json()["field"] == "line 3: currency"
    listed = api.get("/api/v1/exchange-rates", params={"currency": "USD"}).json()
    assert [(i["day"], i["rate"]) for i in listed["items"]] == [("2024-05-07", "7.1063")]
    negative = api.post("/api/v1/exchange-rates", json={"day": "2024-05-07", "currency": "USD", "rate": "-1"})
    assert negative.status_code == 422 and negative.json()["field"] == "rate"
    base = api.post("/api/v1/exchange-rates", json={"day": "2024-05-07", "currency": "CNY", "rate": "1"})
    assert base.status_code == 422 and base.json()["field"] == "currency"


def test_moves_written_in_bulk_are_costed_in_one_round(api: httpx.Client, clean: Backend) -> None:
    from sqlalchemy import select

    from omnistock.money.hooks import on_moves_posted
    from omnistock.store.levels import lock_levels
    from omnistock.store.tables import Location, Move, Sku
    from omnistock.store.types import utcnow

    seed(api)
    api.post("/api/v1/skus", json={"code": "B", "name": "Beta"})
    supplier(api)
    receive(api, po(api, [("A", 10, "3.00")])["id"], [("A", 10)])
    with clean.db.transaction() as session:  # as a bulk import of counts writes them
        wh = session.scalars(select(Location.id).where(Location.code == "WH")).one()
        ids = dict(session.execute(select(Sku.code, Sku.id)).all())
        levels = lock_levels(session, [(ids["A"], wh), (ids["B"], wh)])
        moves = [Move(sku_id=ids[code], location_id=wh, kind="count", qty=qty, actor="import", at=utcnow())
                 for code, qty in (("A", 2), ("B", 5), ("A", -1))]
        for m in moves:
            levels[(m.sku_id, wh)].on_hand += m.qty
        session.add_all(moves)
        session.flush()
        on_moves_posted(session, moves)
    v = {i["sku"]: (i["on_hand"], i["value"]) for i in valuation(api)["items"]}
    assert v == {"A": (11, "33.00"), "B": (5, "0.00")}  # found and lost at the average; B had no cost yet
