"""Units, duplicates, merging and repairs over HTTP on SQLite and PostgreSQL: a merge keeps every move and the
ledger still adds up; fixes are applied only with a reason and leave an audit entry."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select, text, update

from conftest import Backend
from omnistock.store.tables import AuditEntry, Level, Move, Order, Sku
from support.onboarding import send, verify

pytestmark = pytest.mark.usefixtures("backups_in_tmp")

CATALOGUE = ("code,name,unit,barcode\n"
             "TEA-001,龙井茶 250g 罐装,pcs,6901234567892\n"
             "tea-001-old,罐装 龙井茶 250Ｇ,pcs,\n"
             "CUP-01,Cup,pcs,\n")


@pytest.fixture
def shop(api: httpx.Client) -> httpx.Client:
    for code in ("WH", "S1"):
        assert api.post("/api/v1/locations", json={"code": code, "name": code, "kind": "warehouse"}).status_code == 201
    assert send(api, "catalogue", CATALOGUE).status_code == 200
    assert api.post("/api/v1/channels", json={"code": "m", "kind": "manual"}).status_code == 201
    # TEA-001 has the most history (3 moves), so it is the one proposed to survive.
    for sku, loc, qty in (("TEA-001", "WH", 6), ("TEA-001", "WH", 4), ("TEA-001", "S1", 1), ("tea-001-old", "WH", 4),
                          ("tea-001-old", "S1", 3)):
        assert api.post("/api/v1/moves", json={"sku": sku, "location": loc, "kind": "receipt",
                                               "qty": qty}).status_code == 201
    return api


def _moves_of(backend: Backend) -> dict[int, str]:
    with backend.db.reading() as session:
        return dict(session.execute(select(Move.id, Sku.code).join(Sku, Sku.id == Move.sku_id)).all())


def test_same_name_after_normalizing_is_proposed_for_merging(shop: httpx.Client) -> None:
    groups = shop.get("/api/v1/catalogue/duplicates").json()["items"]
    assert [(g["survivor"], g["duplicates"]) for g in groups] == [("TEA-001", ["tea-001-old"])]


def test_merge_keeps_every_move_and_the_ledger_adds_up(shop: httpx.Client, clean: Backend) -> None:
    order = shop.post("/api/v1/orders", json={"channel": "m", "external_id": "o1",
                                              "lines": [{"sku": "tea-001-old", "qty": 2}]})
    assert order.status_code == 201, order.text
    listing = shop.post("/api/v1/channels/m/listings", json={"sku": "tea-001-old", "external_id": "item-1"})
    assert listing.status_code == 201, listing.text
    before = _moves_of(clean)
    r = shop.post("/api/v1/catalogue/merge", json={"survivor": "TEA-001", "duplicate": "tea-001-old",
                                                   "reason": "same tea, old ERP code"})
    assert r.status_code == 200, r.text
    after = _moves_of(clean)
    assert set(after) == set(before) and set(after.values()) == {"TEA-001"}
    tea = shop.get("/api/v1/skus/TEA-001").json()
    assert (tea["on_hand"], tea["reserved"]) == (18, 2)
    assert {loc["location"]: loc["on_hand"] for loc in tea["locations"]} == {"WH": 14, "S1": 4}
    assert shop.get("/api/v1/skus/tea-001-old").json()["code"] == "TEA-001"  # the old code is an alias now
    assert shop.get(f"/api/v1/orders/{order.json()['id']}").json()["lines"][0]["sku"] == "TEA-001"
    assert shop.get("/api/v1/channels/m/listings").json()["items"][0]["sku"] == "TEA-001"
    assert verify(clean.db) == []
    with clean.db.reading() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "sku.merge")).one()
    assert entry.reason == "same tea, old ERP code" and entry.after["moved"]["moves"] == 2
    shipped = shop.post(f"/api/v1/orders/{order.json()['id']}/ship")
    assert shipped.status_code == 200, shipped.text
    assert verify(clean.db) == []


def test_merge_needs_a_reason_and_two_different_skus(shop: httpx.Client) -> None:
    assert shop.post("/api/v1/catalogue/merge", json={"survivor": "TEA-001", "duplicate": "CUP-01",
                                                      "reason": ""}).status_code == 422
    same = shop.post("/api/v1/catalogue/merge", json={"survivor": "TEA-001", "duplicate": "TEA-001", "reason": "x"})
    assert same.status_code == 422 and same.json()["field"] == "duplicate"


def test_negative_stock_is_listed_and_fixed_by_a_count_with_a_reason(shop: httpx.Client, clean: Backend) -> None:
    # Legacy data: a level driven below zero (written consistently: a move and its level).
    with clean.db.transaction() as session:
        cup = session.scalar(select(Sku.id).where(Sku.code == "CUP-01"))
        wh = session.scalar(text("SELECT id FROM locations WHERE code = 'WH'"))
        session.add(Move(sku_id=cup, location_id=wh, kind="adjustment", qty=-5, actor="legacy"))
        session.add(Level(sku_id=cup, location_id=wh, on_hand=-5, reserved=0))
    issues = {i["id"]: i for i in shop.get("/api/v1/repairs").json()["items"]}
    assert "negative:CUP-01@WH" in issues and "on hand is -5" in issues["negative:CUP-01@WH"]["detail"]
    no_reason = shop.post("/api/v1/repairs/negative:CUP-01@WH/apply", json={"reason": " "})
    assert no_reason.status_code == 422
    r = shop.post("/api/v1/repairs/negative:CUP-01@WH/apply", json={"reason": "counted the shelf", "qty": 1})
    assert r.status_code == 200, r.text
    assert shop.get("/api/v1/skus/CUP-01").json()["on_hand"] == 1
    assert "negative:CUP-01@WH" not in {i["id"] for i in shop.get("/api/v1/repairs").json()["items"]}
    assert verify(clean.db) == []


def test_orphan_reservation_is_released_on_request(shop: httpx.Client, clean: Backend) -> None:
    order = shop.post("/api/v1/orders", json={"channel": "m", "external_id": "o2",
                                              "lines": [{"sku": "TEA-001", "qty": 3}]}).json()
    with clean.db.transaction() as session:  # an old system cancelled it without releasing the stock
        session.execute(update(Order).where(Order.id == order["id"]).values(status="cancelled"))
    issues = [i for i in shop.get("/api/v1/repairs").json()["items"] if i["kind"] == "orphan_reservation"]
    assert len(issues) == 1 and "which is cancelled" in issues[0]["detail"]
    r = shop.post(f"/api/v1/repairs/{issues[0]['id']}/apply", json={"reason": "order cancelled in old ERP"})
    assert r.status_code == 200, r.text
    assert shop.get("/api/v1/skus/TEA-001").json()["reserved"] == 0
    assert verify(clean.db) == []
    with clean.db.reading() as session:
        count = session.scalar(select(func.count()).select_from(AuditEntry)
                               .where(AuditEntry.action == "repair.release_reservation"))
    assert count == 1


def test_duplicate_skus_are_repaired_by_a_merge(shop: httpx.Client, clean: Backend) -> None:
    issues = [i for i in shop.get("/api/v1/repairs").json()["items"] if i["kind"] == "duplicate_sku"]
    assert [i["id"] for i in issues] == ["duplicate:TEA-001+tea-001-old"]
    r = shop.post("/api/v1/repairs/duplicate:TEA-001+tea-001-old/apply", json={"reason": "same product"})
    assert r.status_code == 200, r.text
    assert shop.get("/api/v1/skus/TEA-001").json()["on_hand"] == 18
    assert shop.post("/api/v1/repairs/duplicate:TEA-001+tea-001-old/apply",
                     json={"reason": "again"}).status_code == 404
    assert verify(clean.db) == []


def test_units_defined_by_the_merchant_are_listed(api: httpx.Client) -> None:
    r = api.post("/api/v1/units", json={"code": "箱", "factor": 12, "base": "个"})
    assert r.status_code == 201 and r.json()["code"] == "box" and r.json()["base"] == "pcs"
    assert api.post("/api/v1/units", json={"code": "bag", "factor": "3", "base": "pcs"}).status_code == 422
    assert api.post("/api/v1/units", json={"code": "bag", "factor": 3, "base": "盒"}).json()["field"] == "base"
    units = {u["code"]: u for u in api.get("/api/v1/units").json()["items"]}
    assert units["box"]["factor"] == 12 and "箱" in units["box"]["names"] and units["kg"]["factor"] == 1000


def test_skus_sharing_a_barcode_are_proposed_for_merging_whatever_their_names(api: httpx.Client) -> None:
    assert api.post("/api/v1/locations", json={"code": "WH", "name": "WH", "kind": "warehouse"}).status_code == 201
    for code, name, barcode in (("TEA-001", "Longjing 250g", "6901234567892"),   # the ERP's code and name
                                ("JD-88123", "京东 龙井茶 礼盒", "6901234567892"),  # the platform's: same barcode
                                ("CUP-01", "Cup", "4006381333931"),
                                ("CUP-OLD", "Cup", "4006381333931"),              # same barcode and same name
                                ("MUG-01", "Mug", None)):
        r = api.post("/api/v1/skus", json={"code": code, "name": name, "barcode": barcode})
        assert r.status_code == 201, r.text
    # The platform's code has the history here, so it is the one proposed to survive.
    assert api.post("/api/v1/moves", json={"sku": "JD-88123", "location": "WH", "kind": "receipt",
                                           "qty": 5}).status_code == 201
    groups = api.get("/api/v1/catalogue/duplicates").json()["items"]
    assert [(g["reason"], g["survivor"], g["duplicates"]) for g in groups] == [
        ("same barcode 4006381333931", "CUP-01", ["CUP-OLD"]),   # listed once, not again for its name
        ("same barcode 6901234567892", "JD-88123", ["TEA-001"])]
