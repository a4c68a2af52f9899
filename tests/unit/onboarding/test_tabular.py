"""Reading spreadsheets: headers in any language and width, rows numbered as the spreadsheet shows them."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from openpyxl import Workbook

from omnistock.errors import Invalid
from omnistock.onboarding.tabular import Column, RowErrors, cell_text, read_table, whole_number

COLUMNS = (Column("sku", ("商品编码",)), Column("external_id", ("平台商品ID",)),
           Column("pack_size", ("每包数量",), required=False))


def xlsx(*rows: list[object]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_chinese_full_width_and_spaced_headers_mean_the_same_columns() -> None:
    table = read_table("ＳＫＵ, External ID ,每包数量,备注\nA,1,2,x\n".encode(), COLUMNS)
    assert table.columns == ("sku", "external_id", "pack_size")
    assert table.rows[0].values == {"sku": "A", "external_id": "1", "pack_size": "2"}
    assert table.ignored_headers == ("备注",)


def test_rows_keep_spreadsheet_numbers_across_blank_lines() -> None:
    table = read_table(b"sku,external_id\nA,1\n,\n\nB,2\n", COLUMNS)
    assert [(r.number, r.text("sku")) for r in table.rows] == [(2, "A"), (5, "B")]
    assert table.rows[0].text("pack_size") is None


def test_gbk_csv_from_excel_and_semicolons_are_read() -> None:
    table = read_table("商品编码;平台商品ID\n红茶;88\n".encode("gb18030"), COLUMNS)
    assert table.rows[0].values == {"sku": "红茶", "external_id": "88"}


def test_utf8_bom_is_not_part_of_the_first_header() -> None:
    assert read_table("\ufeffsku,external_id\nA,1\n".encode(), COLUMNS).columns == ("sku", "external_id")


def test_xlsx_numbers_read_as_people_see_them() -> None:
    table = read_table(xlsx(["商品编码", "平台商品ID", "每包数量"], ["A", 6901234567892, 6.0],
                            [None, None, None], ["B", "7/1", 1]), COLUMNS)
    assert [(r.number, r.values) for r in table.rows] == [
        (2, {"sku": "A", "external_id": "6901234567892", "pack_size": "6"}),
        (4, {"sku": "B", "external_id": "7/1", "pack_size": "1"})]


def test_a_missing_required_column_is_named_with_row_one() -> None:
    with pytest.raises(Invalid) as caught:
        read_table(b"pack_size\n1\n", COLUMNS)
    assert caught.value.field == "sku"
    assert [(e["row"], e["field"]) for e in caught.value.errors] == [(1, "sku"), (1, "external_id")]


def test_two_headers_for_one_column_and_empty_files_are_refused() -> None:
    with pytest.raises(Invalid, match="two headers mean 'sku'"):
        read_table("sku,商品编码,external_id\nA,A,1\n".encode(), COLUMNS)
    with pytest.raises(Invalid, match="empty"):
        read_table(b"", COLUMNS)
    with pytest.raises(Invalid, match="cannot be read as .xlsx"):
        read_table(b"PK\x03\x04 not a workbook", COLUMNS)


def test_too_many_rows_are_refused() -> None:
    with pytest.raises(Invalid, match="more than 2 rows"):
        read_table(b"sku,external_id\nA,1\nB,2\nC,3\n", COLUMNS, max_rows=2)


@pytest.mark.parametrize(("text", "value"), [("12", 12), ("12.0", 12), ("1,200", 1200), (" -3 ", -3)])
def test_whole_numbers_as_people_write_them(text: str, value: int) -> None:
    assert whole_number(text) == value


@pytest.mark.parametrize("text", ["1.5", "ten", "", "nan", "inf"])
def test_not_whole_numbers(text: str) -> None:
    with pytest.raises(ValueError):
        whole_number(text)


def test_cell_text_of_excel_values() -> None:
    assert cell_text(12.0) == "12" and cell_text(0.1) == "0.1" and cell_text(None) == ""
    assert cell_text(datetime(2026, 11, 26)) == "2026-11-26"
    assert cell_text(datetime(2026, 11, 26, 9, 30)) == "2026-11-26 09:30:00"


def test_errors_are_listed_by_row_and_refuse_the_whole_file() -> None:
    errors = RowErrors()
    errors.add(7, "qty", "bad qty")
    errors.add(3, "sku", "unknown SKU")
    errors.add(None, "rows[0].sku", "rows[0].sku is required")
    assert [e["field"] for e in errors.as_dicts()] == ["sku", "qty", "rows[0].sku"]
    with pytest.raises(Invalid) as caught:
        errors.raise_if_any("the import was refused")
    assert caught.value.field == "sku"
    assert caught.value.message == "the import was refused: row 3: unknown SKU (and 2 more); nothing was written"
    RowErrors().raise_if_any("never raised")
