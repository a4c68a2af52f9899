"""Batches (lots) over the real API on both databases: receipts into batches, orders taking the earliest expiry
first (FEFO), shipments and returns moving exactly those units, expired batches never sold and taken out of
sale with an alert, and `ledger verify` rebuilding every batch level."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import event, select, update

from conftest import SYSTEM, Backend
from omnistock.services import ledger, orders
from omnistock.services.orders import LineSpec, OrderSpec
from omnistock.store.tables import AuditEntry, BatchLevel
from omnistock.store.types import utcnow
from omnistock.watch import expiry
from support.core_api import seed, sku
from support.watch_api import alerts_of

TODAY = datetime.now(ZoneInfo("Asia/Shanghai")).date()  # the merchant's day (OMNISTOCK_TIMEZONE's default)


def day(offset: int) -> str:
    return (TODAY + timedelta(days=offset)).isoformat()


def receive(api: httpx.Client, qty: int, batch: str | None = None, expiry_day: str | None = None,
            location: str = "WH", code: str = "A") -> dict[str, Any]:
    body: dict[str, Any] = {"sku": code, "location": location, "kind": "receipt", "qty": qty}
    if batch:
        body["batch"] = batch
    if expiry_day:
        body["expiry"] = expiry_day
    r = api.post("/api/v1/moves", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


def order(api: httpx.Client, ext: str, qty: int, code: str = "A") -> dict[str, Any]:
    r = api.post("/api/v1/orders", json={"channel": "m", "external_id": ext, "lines": [{"sku": code, "qty": qty}]})
    assert r.status_code == 201, r.text
    return dict(r.json())


def held_by_batch(api: httpx.Client, code: str = "A") -> dict[tuple[str, str], tuple[int, int]]:
    r = api.get(f"/api/v1/skus/{code}/batches")
    assert r.status_code == 200, r.text
    return {(b["batch"], b["location"]): (b["on_hand"], b["reserved"]) for b in r.json()["items"]}


def verified(backend: Backend) -> list[ledger.LevelDifference]:
    with backend.db.reading() as session:
        return ledger.verify(session)[1]


def test_an_order_takes_the_earliest_expiry_first_and_shipping_takes_those_units(api: httpx.Client,
                                                                                 clean: Backend) -> None:
    seed(api)
    late = receive(api, 5, "L-LATE", day(60))
    assert late["batches"] == [{"batch": "L-LATE", "expiry": day(60), "qty": 5}]
    receive(api, 5, "L-EARLY", day(20))  # received after the later one, yet sold first
    receive(api, 2)  # units without a batch go last
    assert sku(api)["on_hand"] == 12
    first = order(api, "o1", 7)
    assert first["status"] == "reserved"
    assert held_by_batch(api) == {("L-EARLY", "WH"): (5, 5), ("L-LATE", "WH"): (5, 2)}
    r = api.post(f"/api/v1/orders/{first['id']}/ship")
    assert r.status_code == 200, r.text
    assert held_by_batch(api) == {("L-LATE", "WH"): (3, 0)}
    order(api, "o2", 4)  # the last 3 of L-LATE, then 1 of the units without a batch
    assert held_by_batch(api) == {("L-LATE", "WH"): (3, 3)}
    assert (sku(api)["on_hand"], sku(api)["reserved"]) == (5, 4)
    trace = api.get("/api/v1/skus/A/trace").json()
    [sale] = [e for e in trace["events"] if e["kind"] == "move" and e["move"] == "sale"]
    assert sale["batches"] == [{"batch": "L-EARLY", "expiry": day(20), "qty": -5},
                               {"batch": "L-LATE", "expiry": day(60), "qty": -2}]
    reservations = [e for e in trace["events"] if e["kind"] == "reservation"]
    assert {tuple((p["batch"], p["qty"]) for p in e.get("batches", [])) for e in reservations} == {
        (("L-EARLY", 5), ("L-LATE", 2)), (("L-LATE", 3),)}
    assert trace["batches"][0]["batch"] == "L-LATE"
    assert verified(clean) == []


def test_a_cancelled_order_gives_its_batches_back_and_a_return_brings_units_back_into_them(
        api: httpx.Client, clean: Backend) -> None:
    seed(api)
    receive(api, 4, "B1", day(10))
    receive(api, 4, "B2", day(40))
    cancelled = order(api, "c1", 6)
    assert api.post(f"/api/v1/orders/{cancelled['id']}/cancel", json={}).status_code == 200
    assert held_by_batch(api) == {("B1", "WH"): (4, 0), ("B2", "WH"): (4, 0)}
    shipped = order(api, "s1", 5)
    api.post(f"/api/v1/orders/{shipped['id']}/ship")
    assert held_by_batch(api) == {("B2", "WH"): (3, 0)}
    r = api.post(f"/api/v1/orders/{shipped['id']}/return", json={"reason": "customer changed mind"})
    assert r.status_code == 200, r.text
    assert held_by_batch(api) == {("B1", "WH"): (4, 0), ("B2", "WH"): (4, 0)}
    assert verified(clean) == []


def test_an_expired_batch_is_not_sellable_moves_out_of_sale_and_raises_an_alert(api: httpx.Client,
                                                                               clean: Backend) -> None:
    seed(api)
    receive(api, 5, "OLD", day(-1))  # stale stock, received as it is
    receive(api, 3, "FRESH", day(30))
    assert order(api, "too-many", 4)["status"] == "held"  # the 5 expired units are not offered
    held = api.get("/api/v1/orders", params={"status": "held"}).json()["items"][0]
    assert "reservable 3" in held["hold_reason"]
    assert order(api, "ok", 3)["status"] == "reserved"
    assert held_by_batch(api)[("FRESH", "WH")] == (3, 3)

    moved = expiry.run(clean.db)
    assert [(q.batch, q.location, q.quarantine, q.qty) for q in moved] == [("OLD", "WH", "WH-EXPIRED", 5)]
    quarantine = api.get("/api/v1/locations").json()
    assert {"code": "WH-EXPIRED", "sellable": False} in [{"code": loc["code"], "sellable": loc["sellable"]}
                                                         for loc in quarantine["items"]]
    figures = sku(api)
    assert (figures["on_hand"], figures["reserved"], figures["available"]) == (8, 3, 0)
    assert {lf["location"]: lf["on_hand"] for lf in figures["locations"]} == {"WH": 3, "WH-EXPIRED": 5}
    assert held_by_batch(api) == {("FRESH", "WH"): (3, 3), ("OLD", "WH-EXPIRED"): (5, 0)}
    [alert] = alerts_of(api, "batch_expired")
    assert alert["detail"]["units"] == 5 and alert["detail"]["locations"] == {"WH-EXPIRED": 5}
    assert "OLD" in alert["message"] and "out of sale" in alert["message"]
    with clean.db.reading() as session:
        actions = session.scalars(select(AuditEntry.action)).all()
    assert "stock.expire" in actions and "location.create" in actions
    assert expiry.run(clean.db) == []  # nothing left to move; the alert stays open while the units exist
    assert len(alerts_of(api, "batch_expired")) == 1

    r = api.post("/api/v1/moves", json={"sku": "A", "location": "WH-EXPIRED", "kind": "adjustment", "qty": -5,
                                        "batch": "OLD", "reason": "destroyed"})
    assert r.status_code == 201, r.text
    expiry.run(clean.db)
    assert alerts_of(api, "batch_expired") == []
    assert len(alerts_of(api, "batch_expired", status="resolved")) == 1
    assert verified(clean) == []


def test_a_reservation_on_a_batch_that_expires_moves_to_a_fresher_batch_or_holds_its_order(
        api: httpx.Client, clean: Backend) -> None:
    seed(api)
    api.post("/api/v1/skus", json={"code": "B", "name": "Beta"})
    receive(api, 2, "SOON", day(1))
    receive(api, 5, "LATER", day(30))
    receive(api, 2, "SOON", day(1), code="B")
    kept = order(api, "kept", 2)
    lost = order(api, "lost", 2, code="B")
    assert held_by_batch(api)[("SOON", "WH")] == (2, 2)

    expiry.run(clean.db, now=utcnow() + timedelta(days=3))  # time passes, not logic
    assert held_by_batch(api) == {("LATER", "WH"): (5, 2), ("SOON", "WH-EXPIRED"): (2, 0)}
    assert api.get(f"/api/v1/orders/{kept['id']}").json()["status"] == "reserved"
    gone = api.get(f"/api/v1/orders/{lost['id']}").json()
    assert gone["status"] == "held" and gone["hold_reason"].startswith("stock_shortfall: B at WH")
    assert api.post(f"/api/v1/orders/{kept['id']}/ship").status_code == 200
    assert held_by_batch(api) == {("LATER", "WH"): (3, 0), ("SOON", "WH-EXPIRED"): (2, 0)}
    assert verified(clean) == []


def test_counts_adjustments_and_transfers_keep_the_batches(api: httpx.Client, clean: Backend) -> None:
    seed(api)
    api.post("/api/v1/locations", json={"code": "ST", "name": "Store", "kind": "store"})
    receive(api, 6, "E", day(10))
    receive(api, 6, "L", day(90))

    def move(**body: Any) -> dict[str, Any]:
        r = api.post("/api/v1/moves", json={"sku": "A", "location": "WH", **body})
        assert r.status_code == 201, r.text
        return dict(r.json())

    counted = move(kind="count", qty=4, batch="L")  # a count naming a batch counts that batch
    assert counted["qty"] == -2 and counted["batches"] == [{"batch": "L", "expiry": day(90), "qty": -2}]
    written_off = move(kind="adjustment", qty=-2, reason="crushed")  # no batch named: the earliest goes first
    assert written_off["batches"] == [{"batch": "E", "expiry": day(10), "qty": -2}]
    moved = move(kind="transfer", qty=5, to_location="ST")
    assert moved["batches"] == [{"batch": "E", "expiry": day(10), "qty": 4}, {"batch": "L", "expiry": day(90),
                                                                               "qty": 1}]
    assert held_by_batch(api) == {("L", "WH"): (3, 0), ("E", "ST"): (4, 0), ("L", "ST"): (1, 0)}
    move(kind="count", qty=5)  # a count of the whole level that finds more: the extra units have no batch
    assert held_by_batch(api)[("L", "WH")] == (3, 0)
    assert {lf["location"]: lf["on_hand"] for lf in sku(api)["locations"]} == {"WH": 5, "ST": 5}
    assert verified(clean) == []


def test_bad_batch_input_is_refused_and_changes_nothing(api: httpx.Client, clean: Backend) -> None:
    seed(api)
    api.post("/api/v1/locations", json={"code": "WH2", "name": "Second", "kind": "warehouse"})
    receive(api, 5, "B1", day(30))
    before = (sku(api), held_by_batch(api), api.get("/api/v1/audit").json()["total"])
    cases = [
        ({"kind": "receipt", "qty": 1, "batch": "B1", "expiry": day(31)}, 409, "expiry"),  # a batch keeps its date
        ({"kind": "receipt", "qty": 1, "batch": "B2", "expiry": "2026-13-01"}, 422, "expiry"),
        ({"kind": "receipt", "qty": 1, "batch": ""}, 422, "batch"),
        ({"kind": "receipt", "qty": 1, "batch": "x" * 65}, 422, "batch"),
        ({"kind": "adjustment", "qty": -6, "batch": "B1", "reason": "r"}, 422, "qty"),  # more than the batch has
        ({"kind": "transfer", "qty": 1, "batch": "NOPE", "to_location": "WH2"}, 404, "batch"),
        ({"kind": "transfer", "qty": 6, "batch": "B1", "to_location": "WH2"}, 409, None),  # the batch has 5
        ({"kind": "count", "qty": 1, "batch": "B1\u0007"}, 422, "batch"),
    ]
    for body, status, field in cases:
        r = api.post("/api/v1/moves", json={"sku": "A", "location": "WH", **body})
        assert r.status_code == status, (body, r.text)
        assert r.json().get("field") == field, (body, r.json())
        if status == 409 and field is None:
            assert r.json()["shortfalls"] == [{"sku": "A batch B1", "wanted": 6, "reservable": 5}]
    after = (sku(api), held_by_batch(api), api.get("/api/v1/audit").json()["total"])
    assert after == before
    assert verified(clean) == []


def test_ledger_verify_catches_a_tampered_batch_quantity(api: httpx.Client, clean: Backend) -> None:
    seed(api)
    receive(api, 5, "B1", day(30))
    order(api, "o", 2)
    assert verified(clean) == []
    with clean.db.transaction() as session:
        session.execute(update(BatchLevel).values(on_hand=BatchLevel.on_hand + 1, reserved=0))
    diffs = verified(clean)
    assert {(d.sku, d.location, d.field, d.stored, d.rebuilt) for d in diffs} == {
        ("A", "WH", "on_hand of batch B1", 6, 5), ("A", "WH", "reserved of batch B1", 0, 2)}


def test_a_level_without_batches_costs_the_order_path_no_batch_statement(api: httpx.Client,
                                                                          clean: Backend) -> None:
    """The intake decides from the level rows it locks anyway: a level never flagged `batched` reads and writes
    no batch table; one that holds batches does (the same statements plus the batch ones)."""
    seed(api, stock=5)
    api.post("/api/v1/skus", json={"code": "B", "name": "Beta"})
    receive(api, 5, "B1", day(30), code="B")

    def statements_of(code: str, ext: str) -> list[str]:
        seen: list[str] = []

        def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            seen.append(statement)
        event.listen(clean.db.engine, "before_cursor_execute", note)
        try:
            with clean.db.transaction() as session:
                orders.create_order(session, OrderSpec("m", ext, [LineSpec(code, 1)]), SYSTEM)
        finally:
            event.remove(clean.db.engine, "before_cursor_execute", note)
        return seen

    def batch_tables(found: list[str]) -> list[str]:
        return [s for s in found if re.search(r"\b(batches|batch_levels|reservation_batches|move_batches)\b", s)]
    plain, batched = statements_of("A", "plain"), statements_of("B", "lot")
    assert batch_tables(plain) == []
    assert len(batch_tables(batched)) == 3  # lock the batch levels, write the parts, raise their reserved
    assert len(batched) == len(plain) + 3
