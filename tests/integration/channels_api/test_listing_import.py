"""Importing listings: CSV (English or Chinese headers), XLSX or JSON; a dry run writes nothing and says what
would be created, updated or left unchanged; a file with any bad row writes nothing and names each row."""

from __future__ import annotations

import io

import httpx
from openpyxl import Workbook

from support.channel_db import Stored
from support.core_api import seed


def setup(api: httpx.Client) -> None:
    seed(api)
    for code in ("B", "C"):
        assert api.post("/api/v1/skus", json={"code": code, "name": f"Item {code}"}).status_code == 201
    assert api.post("/api/v1/channels", json={"code": "jd1", "kind": "manual"}).status_code == 201


def import_csv(api: httpx.Client, text: str, *, dry_run: bool = False) -> httpx.Response:
    return api.post("/api/v1/channels/jd1/listings/import", params={"dry_run": str(dry_run).lower()},
                    content=text.encode("utf-8"), headers={"Content-Type": "text/csv"})


def mapped(stored: Stored) -> dict[str, tuple[int, int]]:
    return {lst.external_id: (lst.sku_id, lst.pack_size) for lst in stored.listings("jd1")}


def test_a_dry_run_reports_and_writes_nothing_then_the_import_applies_it(api: httpx.Client, stored: Stored) -> None:
    setup(api)
    text = "sku,external_id,pack_size\nA,1001,\nB,1002,6\n"
    r = import_csv(api, text, dry_run=True)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["dry_run"], body["created"], body["updated"], body["unchanged"]) == (True, 2, 0, 0)
    assert [(i["row"], i["action"], i["external_id"], i["pack_size"]) for i in body["items"]] == [
        (2, "create", "1001", 1), (3, "create", "1002", 6)]
    assert stored.listings("jd1") == []
    r = import_csv(api, text)
    assert r.status_code == 200 and r.json()["created"] == 2
    assert len(stored.listings("jd1")) == 2
    assert all(lst.dirty for lst in stored.listings("jd1"))  # a new mapping is pushed at once


def test_changed_rows_update_and_the_rest_are_unchanged(api: httpx.Client, stored: Stored) -> None:
    setup(api)
    import_csv(api, "sku,external_id,pack_size\nA,1001,1\nB,1002,6\nC,1003,2\n")
    stored.set_listings_clean("jd1")
    r = import_csv(api, "sku,external_id,pack_size\nA,1001,1\nC,1002,6\nC,1003,3\nA,1004,\n", dry_run=True)
    body = r.json()
    assert [(i["external_id"], i["action"]) for i in body["items"]] == [
        ("1001", "unchanged"), ("1002", "update"), ("1003", "update"), ("1004", "create")]
    assert body["items"][1]["before"] == {"sku": "B", "pack_size": 6, "external_sku": None}
    r = import_csv(api, "sku,external_id,pack_size\nA,1001,1\nC,1002,6\nC,1003,3\nA,1004,\n")
    assert (r.json()["created"], r.json()["updated"], r.json()["unchanged"]) == (1, 2, 1)
    listings = {lst.external_id: lst for lst in stored.listings("jd1")}
    assert listings["1003"].pack_size == 3 and listings["1002"].dirty and not listings["1001"].dirty
    updates = [e for e in api.get("/api/v1/audit").json()["items"] if e["action"] == "listing.update"]
    assert len(updates) == 2


def test_chinese_headers_and_an_excel_workbook_are_read_alike(api: httpx.Client, stored: Stored) -> None:
    setup(api)
    r = import_csv(api, "商品编码,平台商品ID,每包数量,备注\nA,2001,2,第一批\n", dry_run=True)
    assert r.json()["items"][0]["pack_size"] == 2 and r.json()["ignored_columns"] == ["备注"]
    book = Workbook()
    sheet = book.active
    sheet.append(["商品编码", "平台商品ID", "每包数量"])
    sheet.append(["A", 2001, 2])
    sheet.append([None, None, None])
    sheet.append(["NOPE", 2002.0, 1])
    data = io.BytesIO()
    book.save(data)
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    r = api.post("/api/v1/channels/jd1/listings/import", content=data.getvalue(), headers={"Content-Type": xlsx})
    assert r.status_code == 422
    assert r.json()["errors"] == [{"row": 4, "field": "sku", "message": "row 4: unknown SKU 'NOPE'"}]
    assert stored.listings("jd1") == []


def test_any_bad_row_writes_nothing_and_every_row_is_named(api: httpx.Client, stored: Stored) -> None:
    setup(api)
    text = ("sku,external_id,pack_size\n"
            "A,3001,1\n"      # fine
            "X,3002,1\n"      # unknown SKU
            "B,,1\n"          # no external id
            "B,3004,0\n"      # pack below 1
            "C,3001,1\n"      # mapped twice
            "C,3006,1.5\n")   # not whole
    dry = import_csv(api, text, dry_run=True)
    assert dry.status_code == 200
    assert [(e["row"], e["field"]) for e in dry.json()["errors"]] == [
        (3, "sku"), (4, "external_id"), (5, "pack_size"), (6, "external_id"), (7, "pack_size")]
    r = import_csv(api, text)
    assert r.status_code == 422
    assert [e["row"] for e in r.json()["errors"]] == [3, 4, 5, 6, 7]
    assert "nothing was written" in r.json()["detail"]
    assert stored.listings("jd1") == []
    r = import_csv(api, "sku,pack_size\nA,1\n")
    assert r.status_code == 422 and r.json()["field"] == "external_id" and r.json()["errors"][0]["row"] == 1


def test_json_rows_import_with_paths_in_errors(api: httpx.Client, stored: Stored) -> None:
    setup(api)
    r = api.post("/api/v1/channels/jd1/listings/import",
                 json={"rows": [{"sku": "A", "external_id": "4001"}, {"sku": "B", "external_id": "4002",
                                                                       "pack_size": "6"}]})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "rows[1].pack_size"
    r = api.post("/api/v1/channels/jd1/listings/import",
                 json={"rows": [{"sku": "A", "external_id": "4001"}, {"sku": "B", "external_id": "4002",
                                                                       "pack_size": 6, "colour": "red"}]})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "rows[1].colour"
    r = api.post("/api/v1/channels/jd1/listings/import",
                 json=[{"sku": "A", "external_id": "4001"}, {"sku": "B", "external_id": "4002", "pack_size": 6}])
    assert r.status_code == 200 and r.json()["created"] == 2
    assert sorted(mapped(stored)) == ["4001", "4002"]
    assert api.post("/api/v1/channels/nope/listings/import", json=[]).status_code == 404
