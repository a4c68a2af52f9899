"""Catalogue and opening-stock imports over HTTP, on SQLite and PostgreSQL: every rule checked before anything
is written, dry runs that write nothing, atomic and idempotent applies, boxes counted as pieces."""

from __future__ import annotations

import io

import httpx
import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from conftest import Backend, client_for, make_token
from omnistock.services import hooks
from omnistock.store.tables import AuditEntry, Level, Move
from support.onboarding import XLSX, counts, levels, problems, send, verify

pytestmark = pytest.mark.usefixtures("backups_in_tmp")

CATALOGUE = ("code,name,unit,barcode,safety_stock,components\n"
             "TEA-001,Longjing 250g,pcs,6901234567892,5,\n"
             "CUP-01,Cup,pcs,,,\n"
             "KIT-01,Tea kit,,,,TEA-001*2;CUP-01*1\n")

# Chinese headers; full-width code, duplicate code, unknown unit, bad check digit, barcode of another SKU, negative
# and fractional safety stock, a bundle cycle, a bundle containing itself, an unknown component.
MESSY_CATALOGUE = ("编码,名称,单位,条码,安全库存,组件\n"
                   "ＴＥＡ－００１,龙井茶 250g,个,6901234567892,5,\n"          # row 2: TEA-001; shares a barcode
                   "TEA-001,Longjing again,pcs,,,\n"                          # row 3: duplicate code
                   "CUP-01,杯子,盒,,,\n"                                      # row 4: unknown unit 盒
                   "CUP-02,Cup 2,pcs,6901234567890,,\n"                       # row 5: wrong check digit
                   "CUP-03,Cup 3,pcs,6901234567892,-1,\n"                     # row 6: barcode of TEA-001; negative
                   "KIT-A,Kit A,,,,KIT-B*1;CUP-02*2\n"                        # row 7: cycle A → B → A
                   "KIT-B,Kit B,,,,KIT-A*1\n"                                 # row 8: cycle B → A → B
                   "KIT-C,Kit C,,,,KIT-C*2\n"                                 # row 9: contains itself
                   "KIT-D,Kit D,,,,NOPE*1\n"                                  # row 10: unknown component
                   "BOX-1,Boxed tea,箱,,2.5,\n")                              # row 11: not a whole number


@pytest.fixture
def warehouse(api: httpx.Client) -> httpx.Client:
    assert api.post("/api/v1/locations", json={"code": "WH", "name": "Main", "kind": "warehouse"}).status_code == 201
    return api


def test_messy_catalogue_reports_every_problem_and_writes_nothing(warehouse: httpx.Client, clean: Backend) -> None:
    before = counts(clean.db)
    r = send(warehouse, "catalogue", MESSY_CATALOGUE)
    assert problems(r) == {(2, "barcode"), (3, "code"), (4, "unit"), (5, "barcode"), (6, "barcode"),
                           (6, "safety_stock"), (7, "components"), (8, "components"), (9, "components"),
                           (10, "components"), (11, "safety_stock")}
    messages = {(p["row"], p["column"]): p for p in r.json()["errors"]}
    assert "duplicate code within the file: TEA-001 is already on row 2" in messages[(3, "code")]["message"]
    assert messages[(4, "unit")]["value"] == "盒" and "unknown unit" in messages[(4, "unit")]["message"]
    assert "last digit should be 2" in messages[(5, "barcode")]["message"]
    assert "already used by another SKU: TEA-001 (row 2)" in messages[(6, "barcode")]["message"]
    assert "KIT-A → KIT-B → KIT-A" in messages[(7, "components")]["message"]
    assert "cannot contain itself" in messages[(9, "components")]["message"]
    assert "unknown component NOPE" in messages[(10, "components")]["message"]
    assert "whole number" in messages[(11, "safety_stock")]["message"]
    assert {"row": 2, "column": "code", "message": "'ＴＥＡ－００１' read as 'TEA-001'"} in r.json()["report"]["notes"]
    assert counts(clean.db) == before


def test_dry_run_reports_creations_and_writes_nothing(warehouse: httpx.Client, clean: Backend) -> None:
    before = counts(clean.db)
    r = send(warehouse, "catalogue", CATALOGUE, dry_run=True)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["created"], body["updated"], body["unchanged"], body["applied"]) == (3, 0, 0, False)
    kit = next(c for c in body["changes"] if c["key"] == "KIT-01")
    assert kit["fields"]["components"] == {"before": None, "after": "CUP-01*1;TEA-001*2"}
    assert counts(clean.db) == before


def test_catalogue_applies_then_reimport_changes_nothing_and_says_so(warehouse: httpx.Client,
                                                                     clean: Backend) -> None:
    r = send(warehouse, "catalogue", CATALOGUE)
    assert r.status_code == 200, r.text
    assert r.json()["applied"] and r.json()["backup"]
    kit = warehouse.get("/api/v1/skus/KIT-01").json()
    assert kit["bundle"] and {c["sku"]: c["qty"] for c in kit["components"]} == {"TEA-001": 2, "CUP-01": 1}
    after_first = counts(clean.db)
    again = send(warehouse, "catalogue", CATALOGUE)
    assert again.status_code == 200
    assert (again.json()["created"], again.json()["updated"], again.json()["unchanged"]) == (0, 0, 3)
    assert "nothing to change" in again.json()["summary"] and "import #" in again.json()["summary"]
    assert counts(clean.db) == after_first
    runs = warehouse.get("/api/v1/imports").json()
    assert runs["total"] == 1 and runs["items"][0]["created"] == 3 and runs["items"][0]["backup"] == r.json()["backup"]


def test_a_row_with_other_data_is_an_update_with_its_changed_fields(warehouse: httpx.Client,
                                                                      clean: Backend) -> None:
    assert send(warehouse, "catalogue", CATALOGUE).status_code == 200
    changed = "编码,名称,安全库存\nTEA-001,Longjing 250g,8\nCUP-01,Cup,\n"
    dry = send(warehouse, "catalogue", changed, dry_run=True).json()
    assert (dry["created"], dry["updated"], dry["unchanged"]) == (0, 1, 1)
    assert dry["changes"] == [{"row": 2, "key": "TEA-001", "action": "updated",
                               "fields": {"safety_stock": {"before": 5, "after": 8}}}]
    assert send(warehouse, "catalogue", changed).status_code == 200
    assert warehouse.get("/api/v1/skus/TEA-001").json()["safety_stock"] == 8
    with clean.db.reading() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "sku.update")).one()
    assert (entry.before, entry.after) == ({"safety_stock": 5}, {"safety_stock": 8})


def test_xlsx_with_chinese_headers_imports(warehouse: httpx.Client) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["编码", "名称", "单位", "条码"])
    sheet.append(["XL-1", "Excel item", "个", 4006381333931])  # a barcode typed as a number
    out = io.BytesIO()
    book.save(out)
    r = send(warehouse, "catalogue", out.getvalue(), content_type=XLSX)
    assert r.status_code == 200, r.text
    assert warehouse.get("/api/v1/skus/XL-1").json()["barcode"] == "4006381333931"


STOCK_MESSY = ("sku,qty,batch,expiry,unit\n"
               "TEA-001,-3,,,\n"            # row 2: negative
               "CUP-01,2.5,,,\n"            # row 3: not whole
               "GHOST,1,,,\n"               # row 4: unknown SKU
               "TEA-001,2,B1,2025-13-45,\n"  # row 5: bad date
               "CUP-01,1,,,盒\n"             # row 6: unknown unit
               "KIT-01,1,,,\n"              # row 7: a bundle has no stock of its own
               "CUP-01,3,,,箱\n")           # row 8: boxes, but nobody said how many pieces a box holds


def test_messy_stock_file_reports_every_problem_and_writes_nothing(warehouse: httpx.Client,
                                                                   clean: Backend) -> None:
    assert send(warehouse, "catalogue", CATALOGUE).status_code == 200
    before = counts(clean.db)
    r = send(warehouse, "stock", STOCK_MESSY, location="WH")
    assert problems(r) == {(2, "qty"), (3, "qty"), (4, "sku"), (5, "expiry"), (6, "unit"), (7, "sku"), (8, "unit")}
    boxes = next(p for p in r.json()["errors"] if p["row"] == 8)
    assert "no conversion from box to pcs" in boxes["message"]
    unknown = send(warehouse, "stock", "sku,qty\nTEA-001,1\n", location="NOWHERE")
    assert problems(unknown) == {(2, "location")}
    assert counts(clean.db) == before


def test_stock_in_boxes_becomes_pieces_and_reimport_is_a_no_op(warehouse: httpx.Client, clean: Backend) -> None:
    assert send(warehouse, "catalogue", CATALOGUE).status_code == 200
    assert warehouse.post("/api/v1/units", json={"code": "箱", "factor": 12, "base": "个"}).status_code == 201
    stock = "商品编码,数量,批次,有效期,单位\nTEA-001,3,B1,2026-01-31,箱\nTEA-001,4,B2,2026/02/28,个\nCUP-01,10,,,\n"
    dry = send(warehouse, "stock", stock, location="WH", dry_run=True).json()
    assert dry["totals"] == [{"location": "WH", "file_total": 50, "ledger_total": None, "matches": True}]
    assert {"row": 2, "column": "qty", "message": "3 box counted as 36 pcs"} in dry["notes"]
    r = send(warehouse, "stock", stock, location="WH")
    assert r.status_code == 200, r.text
    assert r.json()["totals"] == [{"location": "WH", "file_total": 50, "ledger_total": 50, "matches": True}]
    assert warehouse.get("/api/v1/skus/TEA-001").json()["on_hand"] == 40  # 3 boxes of 12 + 4 pieces
    moves = counts(clean.db)["moves"]
    again = send(warehouse, "stock", stock, location="WH").json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)
    assert counts(clean.db)["moves"] == moves
    assert verify(clean.db) == []


def test_stock_file_is_a_count_that_writes_the_difference(warehouse: httpx.Client, clean: Backend) -> None:
    assert send(warehouse, "catalogue", CATALOGUE).status_code == 200
    assert warehouse.post("/api/v1/moves", json={"sku": "TEA-001", "location": "WH", "kind": "receipt",
                                                 "qty": 10}).status_code == 201
    r = send(warehouse, "stock", "sku,qty\nTEA-001,7\n", location="WH")
    assert r.json()["changes"] == [{"row": 2, "key": "TEA-001@WH", "action": "updated",
                                    "fields": {"on_hand": {"before": 10, "after": 7}}}]
    with clean.db.reading() as session:
        move = session.scalars(select(Move).order_by(Move.id.desc()).limit(1)).one()
        entry = session.scalars(select(AuditEntry).where(AuditEntry.entity == f"move:{move.id}")).one()
    assert (move.kind, move.qty) == ("count", -3)
    # The same audit entry as `ledger.post_move` writes for a count.
    assert (entry.action, entry.before, entry.after) == ("stock.count", {"on_hand": 10, "reserved": 0},
                                                         {"on_hand": 7, "reserved": 0})
    assert verify(clean.db) == []


def test_count_below_what_is_reserved_goes_through_the_ledger_and_holds_the_order(warehouse: httpx.Client,
                                                                                    clean: Backend) -> None:
    assert send(warehouse, "catalogue", CATALOGUE).status_code == 200
    assert send(warehouse, "stock", "sku,qty\nTEA-001,5\n", location="WH").status_code == 200
    assert warehouse.post("/api/v1/channels", json={"code": "m", "kind": "manual"}).status_code == 201
    order = warehouse.post("/api/v1/orders", json={"channel": "m", "external_id": "o1",
                                                   "lines": [{"sku": "TEA-001", "qty": 4}]})
    assert order.status_code == 201, order.text
    assert send(warehouse, "stock", "sku,qty\nTEA-001,2\n", location="WH").status_code == 200
    assert warehouse.get(f"/api/v1/orders/{order.json()['id']}").json()["status"] == "held"
    assert verify(clean.db) == []


def test_a_failure_while_applying_the_last_row_leaves_the_database_as_it_was(warehouse: httpx.Client,
                                                                              clean: Backend) -> None:
    assert send(warehouse, "catalogue", CATALOGUE).status_code == 200
    before, before_levels = counts(clean.db), levels(clean.db)

    def fail_on_last(_session: object, move: Move) -> None:
        if move.qty == 9:
            raise RuntimeError("disk full")
    hooks.move_posted.append(fail_on_last)
    try:
        r = send(warehouse, "stock", "sku,qty\nTEA-001,5\nCUP-01,9\n", location="WH")
    finally:
        hooks.move_posted.remove(fail_on_last)
    assert r.status_code == 500
    assert counts(clean.db) == before and levels(clean.db) == before_levels


def test_a_ledger_total_that_differs_from_the_file_rolls_the_whole_import_back(warehouse: httpx.Client,
                                                                               clean: Backend) -> None:
    assert send(warehouse, "catalogue", CATALOGUE).status_code == 200
    before, before_levels = counts(clean.db), levels(clean.db)

    def lose_one(session: Session, move: Move) -> None:
        """Something else in the same transaction takes a unit away from CUP-01's new level."""
        if move.qty == 9:
            session.execute(update(Level).where(Level.sku_id == move.sku_id, Level.location_id == move.location_id)
                            .values(on_hand=Level.on_hand - 1))
    hooks.move_posted.append(lose_one)
    try:
        r = send(warehouse, "stock", "sku,qty\nTEA-001,5\nCUP-01,9\n", location="WH")
    finally:
        hooks.move_posted.remove(lose_one)
    assert r.status_code == 409, r.text
    assert r.json()["detail"] == ("after the import WH holds 13 for the file's SKUs, but the file says 14; "
                                  "nothing was written") and r.json()["field"] == "qty"
    assert counts(clean.db) == before and levels(clean.db) == before_levels
    assert send(warehouse, "stock", "sku,qty\nTEA-001,5\nCUP-01,9\n", location="WH").status_code == 200  # as is


def test_a_bad_last_row_writes_nothing(warehouse: httpx.Client, clean: Backend) -> None:
    before = counts(clean.db)
    body = CATALOGUE + "BAD-1,Bad,pcs,123,,\n"
    assert problems(send(warehouse, "catalogue", body)) == {(5, "barcode")}
    assert counts(clean.db) == before


def test_aliases_are_accepted_by_imports_and_lookups(warehouse: httpx.Client) -> None:
    assert send(warehouse, "catalogue", CATALOGUE).status_code == 200
    r = warehouse.post("/api/v1/aliases", json={"sku": "TEA-001", "alias": "ERP-9001", "source": "erp"})
    assert r.status_code == 201, r.text
    assert send(warehouse, "stock", "sku,qty\nERP-9001,6\n", location="WH").status_code == 200
    assert warehouse.get("/api/v1/skus/ERP-9001").json()["code"] == "TEA-001"
    moved = warehouse.post("/api/v1/moves", json={"sku": "ERP-9001", "location": "WH", "kind": "receipt", "qty": 1})
    assert moved.status_code == 201 and moved.json()["sku"] == "TEA-001"
    assert warehouse.get("/api/v1/skus/TEA-001").json()["on_hand"] == 7
    clash = warehouse.post("/api/v1/aliases", json={"sku": "CUP-01", "alias": "ERP-9001"})
    assert clash.status_code == 409


def test_templates_have_the_issue_headers_in_both_languages(api: httpx.Client) -> None:
    en = api.get("/api/v1/imports/templates/catalogue", params={"lang": "en", "format": "csv"})
    assert en.status_code == 200 and en.content.decode("utf-8-sig").strip() == \
        "code,name,unit,barcode,safety_stock,components"
    zh = api.get("/api/v1/imports/templates/stock", params={"lang": "zh", "format": "csv"})
    assert zh.content.decode("utf-8-sig").strip() == "商品编码,数量,批次,有效期"
    xlsx = api.get("/api/v1/imports/templates/listings", params={"lang": "zh"})
    assert xlsx.headers["content-type"] == XLSX
    sheet = load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
    assert [c.value for c in sheet[1]] == ["商品编码", "平台商品ID", "每包数量"]
    assert api.get("/api/v1/imports/templates/orders").status_code == 422


def test_spot_count_sheet_round_trips_as_counts(warehouse: httpx.Client, clean: Backend) -> None:
    assert send(warehouse, "catalogue", CATALOGUE).status_code == 200
    assert send(warehouse, "stock", "sku,qty\nTEA-001,5\nCUP-01,9\n", location="WH").status_code == 200
    r = warehouse.get("/api/v1/imports/sample", params={"location": "WH", "size": 5, "seed": 1})
    assert r.status_code == 200
    book = load_workbook(io.BytesIO(r.content))
    sheet = book.worksheets[0]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert sorted((code, expected) for code, _, _, expected, _ in rows) == [("CUP-01", 9), ("TEA-001", 5)]
    for row in sheet.iter_rows(min_row=2):
        if row[0].value == "CUP-01":
            row[4].value = 8  # found one fewer; TEA-001 left blank: not counted
    out = io.BytesIO()
    book.save(out)
    back = send(warehouse, "spotcheck", out.getvalue(), content_type=XLSX)
    assert back.status_code == 200, back.text
    assert back.json()["changes"] == [{"row": back.json()["changes"][0]["row"], "key": "CUP-01@WH",
                                       "action": "updated", "fields": {"on_hand": {"before": 9, "after": 8}}}]
    assert warehouse.get("/api/v1/skus/TEA-001").json()["on_hand"] == 5
    assert verify(clean.db) == []


def test_imports_need_the_right_role_and_media_type(warehouse: httpx.Client, clean: Backend, server) -> None:  # type: ignore[no-untyped-def]
    with client_for(server, make_token(clean, "viewer")) as viewer:
        assert send(viewer, "catalogue", CATALOGUE).status_code == 403
    with client_for(server, make_token(clean, "operator", locations=["WH"])) as scoped:
        assert send(scoped, "catalogue", CATALOGUE).status_code == 403
    r = warehouse.post("/api/v1/imports/catalogue", json={"code": "X"})
    assert r.status_code == 415 and r.json()["field"] == "content-type"
    assert counts(clean.db)["skus"] == 0


def test_names_with_backslashes_tabs_and_line_breaks_arrive_intact(warehouse: httpx.Client) -> None:
    name = "龙井 特级\\罐装\tA\nB"  # what COPY's text format must escape on PostgreSQL
    body = f'code,name\nODD-1,"{name}"\n'
    r = send(warehouse, "catalogue", body)
    assert r.status_code == 200, r.text
    assert warehouse.get("/api/v1/skus/ODD-1").json()["name"] == name
    entry = warehouse.get("/api/v1/audit", params={"sku": "ODD-1"}).json()["items"][0]
    assert entry["action"] == "sku.create" and entry["after"]["name"] == name
