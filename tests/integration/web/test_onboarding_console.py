"""Bringing data in through the console, over real HTTP on SQLite and PostgreSQL: the catalogue forms, imports
(dry run first, then confirmed), the totals check and the spot count, backups, duplicates, repairs, rollout; who may
see and do what, and forged posts."""

from __future__ import annotations

import io
import re
from pathlib import Path

import httpx
import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from conftest import Backend
from omnistock.store.tables import Level, Move, Sku
from omnistock.web import uploads
from support.console_imports import confirm, confirmation, dry_run_then_apply, upload
from support.core_api import seed
from support.onboarding import XLSX, counts
from support.server import LiveServer

from .conftest import csrf_of, make_user, signed_in

CATALOGUE_ZH = "编码,名称,单位,条码,安全库存,组件\nTEA-001,龙井茶 250g,个,6901234567892,5,\nCUP-01,青瓷茶杯,,,,\n"
BAD_CATALOGUE = ("code,name,unit,barcode,safety_stock,components\n"
                 "TEA-001,Longjing,pcs,,5,\n"
                 "CUP-01,Cup,盒,,,\n"          # row 3: unknown unit
                 "KIT-01,Kit,,,-2,NOPE*1\n")   # row 4: negative safety stock, unknown component


@pytest.fixture
def backups(backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This test's own backups folder (the automatic backup before every import lands there)."""
    folder = tmp_path / "backups"
    monkeypatch.setattr(backend.settings, "backup_dir", str(folder))
    return folder


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def _xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_the_catalogue_page_creates_locations_and_skus_with_errors_next_to_fields(
        api: httpx.Client, clean: Backend, server: LiveServer) -> None:
    make_user(clean, "boss")
    make_user(clean, "li", "operator")
    with signed_in(server, "boss", lang="en") as client:
        token = csrf_of(client, "/catalogue")
        nameless = client.post("/catalogue/locations", data={"csrf": token, "code": "WH", "name": "",
                                                             "kind": "warehouse", "sellable": "1"})
        assert nameless.status_code == 422 and re.search(r'id="loc-name-error"[^>]*>Required\.', nameless.text)
        bad_code = client.post("/catalogue/locations", data={"csrf": token, "code": "仓 1", "name": "Main",
                                                             "kind": "warehouse"})
        assert bad_code.status_code == 422 and re.search(r'id="loc-code-error"[^>]*>[^<]*a code is 1–64', bad_code.text)
        made = client.post("/catalogue/locations", data={"csrf": token, "code": "WH", "name": "Main",
                                                         "kind": "warehouse", "sellable": "1"})
        assert made.status_code == 303 and made.headers["location"].startswith("/catalogue?done=location")
        again = client.post("/catalogue/locations", data={"csrf": token, "code": "WH", "name": "Main",
                                                          "kind": "warehouse"})
        assert again.status_code == 409 and re.search(r'id="loc-code-error"[^>]*>[^<]*exists already', again.text)
    with signed_in(server, "li", lang="en") as client:
        page = client.get("/catalogue").text
        assert 'action="/catalogue/skus"' in page and 'action="/catalogue/locations"' not in page  # config:write
        token = csrf_of(client, "/catalogue")
        assert client.post("/catalogue/locations", data={"csrf": token, "code": "S9", "name": "Store",
                                                         "kind": "store"}).status_code == 403
        part = client.post("/catalogue/skus", data={"csrf": token, "code": "TEA-001", "name": "Longjing",
                                                    "unit": "pcs", "safety_stock": "5"})
        assert part.status_code == 303 and part.headers["location"] == "/skus/TEA-001?done=created"
        assert "The SKU is created." in client.get(part.headers["location"]).text
        unknown = client.post("/catalogue/skus", data={"csrf": token, "code": "KIT-01", "name": "Kit", "unit": "pcs",
                                                       "components[0].sku": "TEA-001", "components[0].qty": "2",
                                                       "components[1].sku": "NOPE", "components[1].qty": "1"})
        assert unknown.status_code == 404
        assert re.search(r'id="sku-components\[1\]-sku-error"[^>]*>Not found\.', unknown.text)
        assert 'value="Kit"' in unknown.text  # what was typed is kept
        negative = client.post("/catalogue/skus", data={"csrf": token, "code": "X-1", "name": "X", "unit": "pcs",
                                                        "safety_stock": "-1"})
        assert negative.status_code == 422
        assert re.search(r'id="sku-safety_stock-error"[^>]*>[^<]*cannot be negative', negative.text)
        odd_unit = client.post("/catalogue/skus", data={"csrf": token, "code": "X-2", "name": "X", "unit": "dozen"})
        assert odd_unit.status_code == 422 and re.search(r'id="sku-unit-error"', odd_unit.text)
        kit = client.post("/catalogue/skus", data={"csrf": token, "code": "KIT-01", "name": "Kit", "unit": "pcs",
                                                   "components[0].sku": "TEA-001", "components[0].qty": "2"})
        assert kit.status_code == 303
    made_kit = api.get("/api/v1/skus/KIT-01").json()
    assert made_kit["bundle"] and [(c["sku"], c["qty"]) for c in made_kit["components"]] == [("TEA-001", 2)]
    assert sorted(s["code"] for s in api.get("/api/v1/skus").json()["items"]) == ["KIT-01", "TEA-001"]
    audit = api.get("/api/v1/audit", params={"actor": "user:li"}).json()["items"]
    assert {e["action"] for e in audit} == {"sku.create"}


def test_a_dry_run_writes_nothing_and_bad_rows_are_reported_by_row_and_column(
        api: httpx.Client, clean: Backend, server: LiveServer, backups: Path) -> None:
    make_user(clean, "li", "operator")
    before = counts(clean.db)
    with signed_in(server, "li", lang="en") as client:
        bad = upload(client, "catalogue", "bad.csv", BAD_CATALOGUE)
        assert bad.status_code == 422 and "3 problems in 3 rows; nothing was written." in bad.text
        rows = re.findall(r'<tr><td class="num">(\d+)</td><td>(\w+)</td><td>([^<]*)</td><td class="error">',
                          bad.text)
        assert {(int(r), c) for r, c, _v in rows} == {(3, "unit"), (4, "safety_stock"), (4, "components")}
        assert ("3", "unit", "盒") in rows
        assert 'id="form-apply"' not in bad.text  # nothing to confirm
        empty = upload(client, "catalogue", "empty.csv", b"")
        assert empty.status_code == 422 and re.search(r'id="upload-file-error"[^>]*>Choose a CSV or XLSX file\.',
                                                      empty.text)
        headless = upload(client, "catalogue", "no-header.csv", "sku,qty\nA,1\n")
        assert headless.status_code == 422
        assert re.search(r'id="upload-file-error"[^>]*>[^<]*lacks the column\(s\): &#39;code&#39; or &#39;编码&#39;',
                         headless.text)
        good = upload(client, "catalogue", "目录.csv", CATALOGUE_ZH)
        assert good.status_code == 200
        assert "Dry run, nothing written: would be 2 created, 0 updated, 0 unchanged." in good.text
        assert re.search(r"TEA-001</th>\s*<td>created</td>\s*<td>name: — → 龙井茶 250g; unit: — → pcs", good.text)
        assert confirmation(good)["file_name"] == "目录.csv"
    assert counts(clean.db) == before and _files(backups) == []


def test_apply_after_confirmation_then_the_same_file_again_changes_nothing(
        api: httpx.Client, clean: Backend, server: LiveServer, backups: Path) -> None:
    make_user(clean, "li", "operator")
    with signed_in(server, "li", lang="en") as client:
        applied = dry_run_then_apply(client, "catalogue", "catalogue.csv", CATALOGUE_ZH)
        assert applied.status_code == 200, applied.text
        assert "Imported 2 rows: 2 created, 0 updated, 0 unchanged." in applied.text
        assert "Backup taken before applying:" in applied.text and len(_files(backups)) == 1
        after = counts(clean.db)
        again = upload(client, "catalogue", "catalogue.csv", CATALOGUE_ZH)
        assert "Nothing to change: all 2 rows match the database." in again.text
        assert "This file was applied before (import #" in again.text and 'id="form-apply"' not in again.text
        hub = client.get("/onboarding").text
        assert "catalogue.csv" in hub and "user:li" in hub  # the run is listed
        # A confirmation whose file was changed on the way is refused, and writes nothing.
        tampered = confirmation(upload(client, "catalogue", "c2.csv", CATALOGUE_ZH.replace("5,", "6,")))
        tampered["file_data"] = tampered["file_data"][:-8] + "AAAAAAA="
        refused = client.post("/onboarding/imports/catalogue", files={k: (None, v) for k, v in tampered.items()})
        assert refused.status_code == 422 and "did not come back whole" in refused.text
    assert counts(clean.db) == after and len(_files(backups)) == 1
    assert api.get("/api/v1/skus/TEA-001").json()["safety_stock"] == 5


def test_an_xlsx_stock_import_checks_the_totals_and_the_spot_count_comes_back_as_counts(
        api: httpx.Client, clean: Backend, server: LiveServer, backups: Path) -> None:
    seed(api)
    api.post("/api/v1/skus", json={"code": "B", "name": "Beta"})
    make_user(clean, "li", "operator")
    stock = _xlsx([["sku", "qty", "batch", "expiry"], ["A", 12, None, None], ["B", 30, None, None]])
    with signed_in(server, "li", lang="en") as client:
        missing = upload(client, "stock", "stock.xlsx", stock, content_type=XLSX, location="NOPE")
        assert missing.status_code == 422 and "NOPE" in missing.text
        checked = upload(client, "stock", "stock.xlsx", stock, content_type=XLSX, location="WH")
        assert "would be 2 created" in checked.text and "A@WH" in checked.text
        assert re.search(r"<th scope=\"row\">WH</th><td class=\"num\">42</td><td class=\"num\">—</td>", checked.text)
        applied = confirm(client, "stock", checked)
        assert "Imported 2 rows" in applied.text
        assert re.search(r'<th scope="row">WH</th><td class="num">42</td><td class="num">42</td>\s*<td><span '
                         r'class="badge ok">Matches', applied.text)
        link = re.search(r'href="(/onboarding/spotcheck\?location=WH[^"]*)"', applied.text)
        assert link
        sheet = client.get(link.group(1).replace("&amp;", "&"))
        assert sheet.status_code == 200 and sheet.headers["content-type"] == XLSX
        book = load_workbook(io.BytesIO(sheet.content))
        grid = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
        assert grid[0] == ["sku", "name", "location", "expected", "counted"]
        filled = [grid[0]] + [[*r[:4], 11 if r[0] == "A" else None] for r in grid[1:]]
        counted = dry_run_then_apply(client, "spotcheck", "spotcheck-WH.xlsx", _xlsx(filled))
        assert "0 created, 1 updated, 0 unchanged." in counted.text and "on_hand: 12 → 11" in counted.text
    assert api.get("/api/v1/skus/A").json()["on_hand"] == 11 and api.get("/api/v1/skus/B").json()["on_hand"] == 30
    assert len(_files(backups)) == 2  # one before each applied import
    with clean.db.reading() as session:
        kinds = list(session.scalars(select(Move.kind).order_by(Move.id)))
    assert kinds == ["count", "count", "count"]


def test_listings_are_imported_with_the_real_importer_in_chinese_and_from_xlsx(
        api: httpx.Client, clean: Backend, server: LiveServer, backups: Path) -> None:
    seed(api)
    make_user(clean, "boss")
    make_user(clean, "li", "operator")
    rows = "商品编码,平台商品ID,每包数量\nA,p-1,1\nA,p-2,6\nZZZ,p-3,1\nA,p-1,2\n"
    with signed_in(server, "boss", lang="en") as client:
        channel_page = client.get("/channels/m").text
        assert 'action="/onboarding/imports/listings"' in channel_page
        assert 'enctype="multipart/form-data"' in channel_page
        no_channel = upload(client, "listings", "l.csv", rows)
        assert no_channel.status_code == 422
        assert re.search(r'id="upload-channel-error"[^>]*>Required\.', no_channel.text)
        bad = upload(client, "listings", "l.csv", rows, channel="m")
        assert bad.status_code == 422 and "2 problems in 4 rows; nothing was written." in bad.text
        assert "row 4: unknown SKU &#39;ZZZ&#39;" in bad.text
        assert "row 5: &#39;p-1&#39; is mapped twice (first row 2)" in bad.text
        sheet = _xlsx([["sku", "external_id", "pack_size"], ["A", "p-1", 1], ["A", "p-2", 6]])
        applied = dry_run_then_apply(client, "listings", "listings.xlsx", sheet, channel="m")
        assert "Imported 2 rows: 2 created, 0 updated, 0 unchanged." in applied.text
        assert "Backup taken before applying:" in applied.text
        again = upload(client, "listings", "listings.xlsx", sheet, content_type=XLSX, channel="m")
        assert "Nothing to change: all 2 rows match the database." in again.text
    with signed_in(server, "li", lang="en") as client:
        page = client.get("/onboarding/imports/listings").text
        assert "importing needs another role" in page and 'action="/onboarding/imports/listings"' not in page
        refused = upload(client, "listings", "l.csv", rows, channel="m", token=csrf_of(client, "/onboarding"))
        assert refused.status_code == 403
    listed = api.get("/api/v1/channels/m/listings").json()["items"]
    assert sorted((x["external_id"], x["pack_size"]) for x in listed) == [("p-1", 1), ("p-2", 6)]
    assert len(_files(backups)) == 1


def test_a_viewer_reads_without_forms_a_forged_post_changes_nothing_and_store_managers_are_kept_out(
        api: httpx.Client, clean: Backend, server: LiveServer, backups: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    seed(api)
    make_user(clean, "look", "viewer")
    make_user(clean, "kefu", "agent")
    make_user(clean, "boss")
    make_user(clean, "jingan", "operator", locations=["WH"])
    before = counts(clean.db)
    for name in ("look", "kefu"):
        with signed_in(server, name, lang="en") as client:
            for path in ("/onboarding", "/catalogue", "/onboarding/imports/catalogue", "/onboarding/imports/stock",
                         "/onboarding/duplicates", "/onboarding/repairs", "/onboarding/rollout",
                         "/onboarding/rollout/m", "/onboarding/backups"):
                page = client.get(path)
                assert page.status_code == 200, (path, page.text)
                assert len(re.findall(r'<form method="post"', page.text)) == 1, path  # only "sign out"
            token = csrf_of(client, "/onboarding")
            assert upload(client, "catalogue", "c.csv", CATALOGUE_ZH, token=token).status_code == 403
            assert client.post("/catalogue/skus", data={"csrf": token, "code": "Z", "name": "Z"}).status_code == 403
            assert client.post("/onboarding/backups", data={"csrf": token, "confirmed": "1"}).status_code == 403
            assert client.get("/onboarding/templates/stock?lang=zh&format=csv").status_code == 200  # reading is fine
    with signed_in(server, "boss", lang="en") as client:
        forged = upload(client, "catalogue", "c.csv", CATALOGUE_ZH, token="forged")
        assert forged.status_code == 403 and "did not come from the console" in forged.text
        assert client.post("/catalogue/skus", data={"code": "Z", "name": "Z"}).status_code == 403
        assert client.post("/onboarding/backups", data={"confirmed": "1"}).status_code == 403
        plain = client.post("/onboarding/imports/catalogue", data={"csrf": csrf_of(client, "/onboarding")})
        assert plain.status_code == 422  # not an upload
        monkeypatch.setattr(uploads, "MAX_UPLOAD", 1000)  # the server runs in this process
        too_big = upload(client, "catalogue", "big.csv", CATALOGUE_ZH + "X,Y,,,,\n" * 200)
        assert too_big.status_code == 413
    with signed_in(server, "jingan", lang="en") as client:
        dashboard = client.get("/").text
        assert 'href="/onboarding"' not in dashboard
        for path in ("/onboarding", "/catalogue", "/onboarding/imports/stock", "/onboarding/rollout/m"):
            assert client.get(path).status_code == 403, path
        assert upload(client, "stock", "s.csv", "sku,qty\nA,5\n", token=csrf_of(client, "/"),
                      location="WH").status_code == 403
    assert counts(clean.db) == before and _files(backups) == []


def test_templates_download_with_chinese_or_english_headers(clean: Backend, server: LiveServer) -> None:
    make_user(clean, "look", "viewer")
    with signed_in(server, "look") as client:
        zh = client.get("/onboarding/templates/catalogue?format=csv")  # the visitor's language: Chinese
        en = client.get("/onboarding/templates/listings?lang=en&format=xlsx")
        assert client.get("/onboarding/templates/nope").status_code == 422
    assert zh.status_code == 200
    assert zh.content.decode("utf-8-sig").splitlines()[0] == "编码,名称,单位,条码,安全库存,组件"
    assert 'filename="omnistock-catalogue-zh.csv"' in zh.headers["content-disposition"]
    header = next(load_workbook(io.BytesIO(en.content)).worksheets[0].iter_rows(values_only=True))
    assert list(header) == ["sku", "external_id", "pack_size"]


def test_backups_are_listed_and_taken_after_confirmation(clean: Backend, server: LiveServer, backups: Path) -> None:
    make_user(clean, "boss")
    make_user(clean, "li", "operator")
    with signed_in(server, "boss", lang="en") as client:
        page = client.get("/onboarding/backups").text
        assert "No backup yet." in page and "omnistock backup restore FILE" in page
        token = csrf_of(client, "/onboarding/backups")
        asked = client.post("/onboarding/backups", data={"csrf": token})
        assert asked.status_code == 200 and "Confirm and back up" in asked.text and _files(backups) == []
        taken = client.post("/onboarding/backups", data={"csrf": token, "confirmed": "1"})
        assert taken.status_code == 303
        [name] = _files(backups)
        listed = client.get(taken.headers["location"]).text
        assert f"Backup written: {name}" in listed and f'<th scope="row">{name}</th>' in listed
    with signed_in(server, "li", lang="en") as client:
        page = client.get("/onboarding/backups").text
        assert "listed and taken by an administrator" in page and name not in page


def _negative_stock(backend: Backend) -> None:
    """Legacy data: a level driven below zero, written consistently (a move and its level)."""
    with backend.db.transaction() as session:
        sku = session.scalar(select(Sku.id).where(Sku.code == "A"))
        wh = session.scalar(select(Level.location_id).where(Level.sku_id == sku))
        session.add(Move(sku_id=sku, location_id=wh, kind="adjustment", qty=-9, actor="legacy"))
        level = session.scalar(select(Level).where(Level.sku_id == sku, Level.location_id == wh))
        assert level is not None
        level.on_hand -= 9


def test_duplicates_are_merged_and_repairs_applied_with_a_reason_after_confirmation(
        api: httpx.Client, clean: Backend, server: LiveServer) -> None:
    seed(api, stock=4)
    for code in ("TEA-1", "TEA-1-OLD"):
        assert api.post("/api/v1/skus", json={"code": code, "name": "Tea", "barcode": "6901234567892"}
                        ).status_code == 201
    api.post("/api/v1/moves", json={"sku": "TEA-1-OLD", "location": "WH", "kind": "receipt", "qty": 3})
    _negative_stock(clean)
    make_user(clean, "li", "operator")
    with signed_in(server, "li", lang="en") as client:
        page = client.get("/onboarding/duplicates").text
        assert "same barcode 6901234567892" in page
        token = csrf_of(client, "/onboarding/duplicates")
        merge = {"csrf": token, "survivor": "TEA-1-OLD", "duplicate": "TEA-1"}
        reasonless = client.post("/onboarding/duplicates/merge", data={**merge, "reason": ""})
        assert reasonless.status_code == 422 and re.search(r'id="merge-TEA-1-reason-error"[^>]*>Required\.',
                                                           reasonless.text)
        asked = client.post("/onboarding/duplicates/merge", data={**merge, "reason": "same tea, old code"})
        assert asked.status_code == 200 and "Confirm the merge" in asked.text
        assert api.get("/api/v1/skus/TEA-1").json()["active"]  # not yet
        merged = client.post("/onboarding/duplicates/merge", data={**merge, "reason": "same tea, old code",
                                                                   "confirmed": "1"})
        assert merged.status_code == 303
        assert "TEA-1 is merged into TEA-1-OLD" in client.get(merged.headers["location"]).text

        repairs = client.get("/onboarding/repairs").text
        assert "Negative stock" in repairs and "on hand is -5" in repairs
        fix = {"csrf": token, "issue": "negative:A@WH", "qty": "2"}
        assert client.post("/onboarding/repairs/apply", data={**fix, "reason": " "}).status_code == 422
        asked = client.post("/onboarding/repairs/apply", data={**fix, "reason": "counted the shelf"})
        assert "Confirm the fix" in asked.text and api.get("/api/v1/skus/A").json()["on_hand"] == -5
        done = client.post("/onboarding/repairs/apply", data={**fix, "reason": "counted the shelf", "confirmed": "1"})
        assert done.status_code == 303
        assert "Done: counted A at WH: 2" in client.get(done.headers["location"]).text
        gone = client.post("/onboarding/repairs/apply", data={**fix, "reason": "again", "confirmed": "1"})
        assert gone.status_code == 404  # the issue is fixed: nothing applied twice
    assert api.get("/api/v1/skus/A").json()["on_hand"] == 2
    survivor = api.get("/api/v1/skus/TEA-1-OLD").json()
    assert survivor["on_hand"] == 3 and api.get("/api/v1/skus/TEA-1").json()["code"] == "TEA-1-OLD"  # an alias now
    audit = api.get("/api/v1/audit", params={"actor": "user:li"}).json()["items"]
    assert any(e["action"] == "sku.merge" and e["reason"] == "same tea, old code" for e in audit)
