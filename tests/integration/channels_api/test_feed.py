"""Feeds: a store sends counts and sales as CSV or JSON and reads its allocations back; a feed is applied whole
or refused with every bad row named; sending it twice has no second effect."""

from __future__ import annotations

import csv
import io

import httpx

from conftest import Backend, client_for, make_token
from support.channel_db import Stored
from support.core_api import sku
from support.server import LiveServer

COUNTS_CSV = """type,sku,external_id,qty
count,,POS-A,5
count,B,,3
"""

SALE_R1 = {"sales": [{"sale_id": "R1", "status": "sold", "sold_at": "2026-11-26T10:00:00",
                      "lines": [{"external_id": "POS-A", "qty": 2, "unit_price": "19.90"}]}]}


def store(api: httpx.Client) -> None:
    """A warehouse with 10 of A, a store S1 and its feed `s1` with two mapped till codes."""
    for code, kind in (("WH", "warehouse"), ("S1", "store")):
        assert api.post("/api/v1/locations", json={"code": code, "name": code, "kind": kind}).status_code == 201
    for code in ("A", "B"):
        assert api.post("/api/v1/skus", json={"code": code, "name": f"Item {code}"}).status_code == 201
    assert api.post("/api/v1/moves", json={"sku": "A", "location": "WH", "kind": "receipt",
                                           "qty": 10}).status_code == 201
    r = api.post("/api/v1/channels", json={"code": "s1", "kind": "feed", "name": "Store 1",
                                           "settings": {"location": "S1"}})
    assert r.status_code == 201, r.text
    for external_id, code, pack in (("POS-A", "A", 1), ("POS-A6", "A", 6), ("POS-B", "B", 1)):
        r = api.post("/api/v1/channels/s1/listings", json={"sku": code, "external_id": external_id,
                                                           "pack_size": pack})
        assert r.status_code == 201, r.text


def post_csv(api: httpx.Client, text: str, code: str = "s1") -> httpx.Response:
    return api.post(f"/api/v1/channels/{code}/feed", content=text.encode(), headers={"Content-Type": "text/csv"})


def test_counts_become_stocktakes_at_the_feeds_location(api: httpx.Client, stored: Stored) -> None:
    store(api)
    r = post_csv(api, COUNTS_CSV)
    assert r.status_code == 200, r.text
    assert {(c["sku"], c["location"], c["counted"], c["change"]) for c in r.json()["counts"]} == {
        ("A", "S1", 5, 5), ("B", "S1", 3, 3)}
    assert stored.on_hand("A", "S1") == 5 and stored.on_hand("A", "WH") == 10
    moves = stored.moves()
    r = post_csv(api, COUNTS_CSV)  # the same counts again: what is there is already recorded
    assert [c["change"] for c in r.json()["counts"]] == [0, 0]
    assert stored.on_hand("A", "S1") == 5 and stored.moves() == moves + 2


def test_pack_codes_count_their_units_and_add_up(api: httpx.Client, stored: Stored) -> None:
    store(api)
    r = post_csv(api, "类型,平台商品ID,数量\n盘点,POS-A,4\n盘点,POS-A6,2\n")
    assert r.status_code == 200, r.text
    assert r.json()["counts"] == [{"sku": "A", "location": "S1", "counted": 16, "change": 16}]
    assert stored.on_hand("A", "S1") == 16


def test_a_counter_sale_leaves_the_stores_shelf_once_however_often_it_is_sent(
        api: httpx.Client, stored: Stored) -> None:
    store(api)
    post_csv(api, COUNTS_CSV)
    r = api.post("/api/v1/channels/s1/feed", json=SALE_R1)
    assert r.status_code == 200, r.text
    sale = r.json()["sales"][0]
    assert sale["results"] == ["created", "shipped"] and sale["order_status"] == "shipped"
    assert stored.on_hand("A", "S1") == 3 and stored.on_hand("A", "WH") == 10
    again = api.post("/api/v1/channels/s1/feed", json=SALE_R1).json()["sales"][0]
    assert again["results"] == ["duplicate", "duplicate"] and again["order_id"] == sale["order_id"]
    assert stored.on_hand("A", "S1") == 3 and len(stored.orders("s1")) == 1
    order = api.get(f"/api/v1/orders/{sale['order_id']}").json()
    assert order["external_id"] == "R1" and order["lines"][0]["unit_price"] == "19.9000"
    back = api.post("/api/v1/channels/s1/feed", json={"sales": [{"sale_id": "R1", "status": "returned"}]})
    assert back.json()["sales"][0]["order_status"] == "returned"
    assert stored.on_hand("A", "S1") == 5
    assert {row.source for row in stored.inbox("s1")} == {"feed"}


def test_an_open_sale_reserves_wherever_the_stock_is_and_a_cancellation_releases_it(api: httpx.Client) -> None:
    store(api)
    text = "type,sale_id,status,sku,qty\nsale,R2,open,A,4\nsale,R2,open,B,0\n"
    r = post_csv(api, text)
    assert r.status_code == 422 and r.json()["errors"] == [
        {"row": 3, "field": "qty", "message": "row 3: qty must be at least 1"}]
    r = post_csv(api, "type,sale_id,status,sku,qty\nsale,R2,open,A,4\n")
    assert r.json()["sales"][0]["order_status"] == "reserved"
    assert sku(api, "A")["reserved"] == 4
    r = post_csv(api, "type,sale_id,status\nsale,R2,cancelled\n")
    assert r.json()["sales"][0]["order_status"] == "cancelled"
    assert sku(api, "A")["reserved"] == 0


def test_a_cancellation_sent_before_its_sale_is_applied_when_the_sale_arrives(api: httpx.Client) -> None:
    store(api)
    r = api.post("/api/v1/channels/s1/feed", json={"sales": [{"sale_id": "R9", "status": "cancelled"}]})
    assert r.json()["sales"][0]["results"] == ["waiting"]
    r = api.post("/api/v1/channels/s1/feed", json={"sales": [{"sale_id": "R9", "status": "open",
                                                             "lines": [{"sku": "A", "qty": 1}]}]})
    assert r.json()["sales"][0]["order_status"] == "cancelled"
    assert sku(api, "A")["reserved"] == 0


def test_a_feed_with_any_bad_row_writes_nothing_and_names_every_row(api: httpx.Client, stored: Stored) -> None:
    store(api)
    moves = stored.moves()
    text = ("type,sku,external_id,qty,location,sale_id\n"
            "count,A,,5,,\n"            # row 2: fine
            "count,NOPE,,1,,\n"         # row 3: unknown SKU
            "count,B,,x,,\n"            # row 4: not a number
            "count,,POS-Z,2,,\n"        # row 5: unmapped till code
            "count,B,,1,WH,\n"          # row 6: another location
            "sale,,POS-A,1,,\n"         # row 7: no sale id
            "count,A,,6,,\n"            # row 8: A counted twice
            "refund,A,,1,,\n")          # row 9: unknown type
    r = post_csv(api, text)
    assert r.status_code == 422, r.text
    assert [(e["row"], e["field"]) for e in r.json()["errors"]] == [
        (3, "sku"), (4, "qty"), (5, "external_id"), (6, "location"), (7, "sale_id"), (8, "sku"), (9, "type")]
    r = post_csv(api, text.replace("count,B,,x,,\n", "").replace("sale,,POS-A,1,,\n", "")
                 .replace("refund,A,,1,,\n", "").replace("count,A,,6,,\n", ""))
    assert r.status_code == 422, r.text
    assert [(e["row"], e["field"]) for e in r.json()["errors"]] == [(3, "sku"), (4, "external_id"), (5, "location")]
    assert stored.moves() == moves and stored.on_hand("A", "S1") == 0 and stored.orders("s1") == []


def test_bad_json_feeds_name_the_path(api: httpx.Client, stored: Stored) -> None:
    store(api)
    bad = {"counts": [{"sku": "A", "qty": -1}, {"sku": "A", "external_id": "POS-A", "qty": 1}],
           "sales": [{"sale_id": "R1", "lines": [{"sku": "A", "qty": 1, "unit_price": 1.5}]}]}
    r = api.post("/api/v1/channels/s1/feed", json=bad)
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"counts[0].qty", "sales[0].lines[0].unit_price"}
    bad = {"counts": [{"sku": "A", "external_id": "POS-A", "qty": 1}], "sales": [{"sale_id": "R1"}]}
    r = api.post("/api/v1/channels/s1/feed", json=bad)
    assert {e["field"] for e in r.json()["errors"]} == {"counts[0].sku", "sales[0].lines"}
    r = api.post("/api/v1/channels/s1/feed", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["field"] == "body"
    assert stored.moves() == 1  # the receipt of the set-up only


def test_allocations_show_what_each_listing_should_show_as_csv_or_json(api: httpx.Client) -> None:
    store(api)
    post_csv(api, COUNTS_CSV)  # S1: A 5, B 3; WH: A 10
    r = api.get("/api/v1/channels/s1/feed/allocations", params={"format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [(row["external_id"], row["sku"], row["pack_size"], row["quantity"]) for row in rows] == [
        ("POS-A", "A", "1", "15"), ("POS-A6", "A", "6", "2"), ("POS-B", "B", "1", "3")]
    by_accept = api.get("/api/v1/channels/s1/feed/allocations", headers={"Accept": "text/csv"})
    assert by_accept.text == r.text
    data = api.get("/api/v1/channels/s1/feed/allocations").json()
    assert data["total"] == 3 and [a["quantity"] for a in data["items"]] == [15, 2, 3]
    assert sku(api, "A")["available"] == 15
    assert api.get("/api/v1/channels/s1/feed/allocations", params={"format": "xml"}).status_code == 422


def test_only_feed_channels_take_feeds_and_writers_send_them(api: httpx.Client, clean: Backend,
                                                           server: LiveServer) -> None:
    store(api)
    assert api.post("/api/v1/channels", json={"code": "m", "kind": "manual"}).status_code == 201
    assert post_csv(api, COUNTS_CSV, code="m").status_code == 422
    assert post_csv(api, COUNTS_CSV, code="nope").status_code == 404
    assert post_csv(api, "").status_code == 422
    with client_for(server, make_token(clean, "viewer")) as viewer:
        assert post_csv(viewer, COUNTS_CSV).status_code == 403
        assert viewer.get("/api/v1/channels/s1/feed/allocations").status_code == 200
    with client_for(server, make_token(clean, "operator", locations=["WH"])) as elsewhere:
        assert post_csv(elsewhere, COUNTS_CSV).status_code == 403  # counts at S1, outside its scope
    assert sku(api, "A")["on_hand"] == 10
