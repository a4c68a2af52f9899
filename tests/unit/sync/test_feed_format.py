"""The feed format read on its own: row types, sales grouped by sale id, every bad row named."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

from omnistock.errors import Invalid
from omnistock.sync.feed import sale_events
from omnistock.sync.feed_format import ItemRef, SaleStatus, parse_feed, sale_events_order

ZONE = ZoneInfo("Asia/Shanghai")


def errors_of(data: bytes, content_type: str | None = None) -> list[tuple[object, str]]:
    """Bad rows are reported with the batch; only an unreadable body raises."""
    try:
        found = parse_feed(data, ZONE, content_type=content_type).errors.as_dicts()
    except Invalid as exc:
        found = exc.errors
    return [(e.get("row"), e["field"]) for e in found]


def test_csv_counts_and_multi_line_sales() -> None:
    text = ("type,sku,external_id,qty,sale_id,status,sold_at,unit_price\n"
            "count,A,,5,,,,\n"
            "sale,,POS-1,2,R1,,2026-11-26 10:00,19.90\n"
            "sale,B,,1,R1,,,\n"
            "sale,,,,R0,returned,,\n")
    batch = parse_feed(text.encode(), ZONE)
    assert not batch.errors
    assert [(c.item, c.qty, c.where.row) for c in batch.counts] == [(ItemRef("A", None), 5, 2)]
    r1, r0 = batch.sales
    assert (r1.sale_id, r1.status, [ln.qty for ln in r1.lines]) == ("R1", SaleStatus.SOLD, [2, 1])
    assert r1.sold_at is not None and r1.sold_at.utcoffset().total_seconds() == 8 * 3600  # type: ignore[union-attr]
    assert str(r1.lines[0].unit_price) == "19.90"
    assert (r0.status, r0.lines) == (SaleStatus.RETURNED, [])


def test_chinese_headers_and_words() -> None:
    text = "类型,商品编码,数量,销售单号,状态\n盘点,A,3,,\n销售,A,1,X1,待发货\n"
    batch = parse_feed(text.encode(), ZONE)
    assert batch.counts[0].qty == 3 and batch.sales[0].status is SaleStatus.OPEN


def test_every_bad_csv_row_is_named_and_the_good_rows_are_kept() -> None:
    text = ("type,sku,external_id,qty,sale_id,status,location\n"
            "count,A,B1,1,,,\n"        # 2: both sku and external id
            "count,A,,-1,,,\n"         # 3: negative count
            "sale,A,,1,,,\n"           # 4: no sale id
            "sale,A,,1,R1,lost,\n"     # 5: unknown status
            "sale,A,,1,R2,,S1\n"       # 6: a sale has no location
            "count,C,,1,R3,,\n"        # 7: a count has no sale id
            "count,D,,2,,,\n"          # 8: fine
            "sale,,,,R4,open,\n"       # 9: an open sale without lines
            "count,D,,3,,,\n")         # 10: D counted twice
    assert errors_of(text.encode()) == [
        (2, "sku"), (3, "qty"), (4, "sale_id"), (5, "status"), (6, "location"), (7, "sale_id"),
        (9, "sku"), (9, "qty"), (9, "lines"), (10, "sku")]
    batch = parse_feed(text.encode(), ZONE)
    assert [c.where.row for c in batch.counts] == [8, 10]  # rows that read well stay for the catalogue check


def test_a_sale_cannot_be_both_sold_and_open() -> None:
    assert errors_of(b"type,sku,qty,sale_id,status\nsale,A,1,R1,sold\nsale,A,1,R1,open\n") == [(3, "sale_id")]


def test_json_feed_and_its_errors_by_path() -> None:
    body = {"counts": [{"external_id": "POS-1", "qty": 0}],
            "sales": [{"sale_id": "R1", "status": "open", "lines": [{"sku": "A", "qty": 2, "unit_price": "3.5"}]},
                      {"sale_id": "R1", "status": "cancelled"}]}
    batch = parse_feed(json.dumps(body).encode(), ZONE, content_type="application/json")
    assert batch.counts[0].item == ItemRef(None, "POS-1")
    assert [s.status for s in sale_events_order(batch.sales)] == [SaleStatus.OPEN, SaleStatus.CANCELLED]
    bad = {"counts": [{"sku": "A", "qty": "3"}], "sales": [{"sale_id": "R1", "status": "cancelled",
                                                            "lines": [{"sku": "A", "qty": 1}]}], "extra": 1}
    assert errors_of(json.dumps(bad).encode()) == [(None, "counts[0].qty"), (None, "extra")]
    assert errors_of(json.dumps({"sales": [{"sale_id": "R1", "status": "cancelled",
                                            "lines": [{"sku": "A", "qty": 1}]}]}).encode()) == [
        (None, "sales[0].lines")]


def test_sale_events_carry_ids_that_make_a_resent_feed_a_duplicate() -> None:
    batch = parse_feed(b"type,sku,qty,sale_id\nsale,A,2,R1\n", ZONE)
    created, shipped = sale_events(batch.sales[0])
    assert (created.event_id, shipped.event_id) == ("feed:R1", "feed:R1:shipped")
    assert created.lines[0].external_id == "sku:A" and created.lines[0].external_sku == "A"
    again = sale_events(parse_feed(b"type,sku,qty,sale_id\nsale,A,2,R1\n", ZONE).sales[0])
    assert [e.event_id for e in again] == [created.event_id, shipped.event_id]
    (cancel,) = sale_events(parse_feed(b"type,sale_id,status\nsale,R1,cancelled\n", ZONE).sales[0])
    assert cancel.event_id == "feed:R1:cancelled" and cancel.kind.value == "cancelled"
