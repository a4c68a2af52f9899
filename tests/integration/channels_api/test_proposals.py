"""Proposing listings from what a platform shows (outer id, barcode, name), and reporting platform items
seen in orders that map to no SKU."""

from __future__ import annotations

import httpx

from omnistock.channels.simulator import SimListing, Simulator
from omnistock.channels.simulator import shopify as shopify_sim
from support.channel_db import Stored
from support.platforms import connect


def catalogue(api: httpx.Client) -> None:
    skus = [{"code": "TEA-1", "name": "Green Tea 绿茶"},
            {"code": "TEA-2", "name": "Black tea", "barcode": "6901234567892"},
            {"code": "MUG-1", "name": "Mug"}, {"code": "MUG-2", "name": "mug"}, {"code": "CUP-1", "name": "Cup"}]
    for body in skus:
        assert api.post("/api/v1/skus", json=body).status_code == 201


def test_items_are_matched_by_outer_id_barcode_then_name_across_every_page(
        api: httpx.Client, sim: Simulator, stored: Stored) -> None:
    catalogue(api)
    jd = connect(api, sim, "jd")
    shop = jd.shop
    shop.upsert_listing(SimListing("7001", 3, external_sku="ｔｅａ－１", title="whatever"))
    shop.upsert_listing(SimListing("7002", 3, barcode="6901234567892", title="Tea, black"))
    shop.upsert_listing(SimListing("7003", 3, title="ＧＲＥＥＮ　ｔｅａ 绿茶"))
    shop.upsert_listing(SimListing("7004", 3, title="MUG"))       # two SKUs are called mug
    shop.upsert_listing(SimListing("7005", 3, external_sku="CUP-1"))
    for n in range(60):  # unmatched filler past JD's first page of 50
        shop.upsert_listing(SimListing(str(7100 + n), 0, title=f"filler {n}"))
    assert api.post(f"/api/v1/channels/{jd.code}/listings",
                    json={"sku": "CUP-1", "external_id": "7005"}).status_code == 201
    r = api.post(f"/api/v1/channels/{jd.code}/listings/propose")
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["items_read"], body["already_mapped"]) == (65, 1)
    assert {(p["external_id"], p["sku"], p["matched_by"]) for p in body["proposals"]} == {
        ("7001", "TEA-1", "outer_id"), ("7002", "TEA-2", "barcode"), ("7003", "TEA-1", "name")}
    mug = next(u for u in body["unmatched"] if u["external_id"] == "7004")
    assert mug["candidates"] == ["MUG-1", "MUG-2"] and mug["sku"] is None
    assert len(body["unmatched"]) == 61
    assert len(stored.listings(jd.code)) == 1  # proposing writes nothing


def test_proposing_needs_a_platform(api: httpx.Client) -> None:
    assert api.post("/api/v1/channels", json={"code": "m", "kind": "manual"}).status_code == 201
    r = api.post("/api/v1/channels/m/listings/propose")
    assert r.status_code == 422 and r.json()["field"] == "channel"


def test_an_ordered_item_mapped_to_nothing_is_reported_until_it_is_mapped(
        api: httpx.Client, sim: Simulator, stored: Stored) -> None:
    catalogue(api)
    conn = connect(api, sim, "shopify")
    conn.shop.upsert_listing(SimListing("49999", 5, external_sku="GIFT-BOX", title="Gift box"))
    order = conn.shop.buy("49999", 1)
    assert order is not None
    built = shopify_sim.order_webhook(conn.shop, order, "created")
    assert built is not None
    headers, body = built
    assert api.post(f"/webhooks/{conn.code}", content=body, headers=headers).status_code == 200
    r = api.get(f"/api/v1/channels/{conn.code}/unmapped")
    assert r.status_code == 200
    assert [(u["external_id"], u["external_sku"], u["seen_in"], u["times_seen"]) for u in r.json()["items"]] == [
        ("49999", "GIFT-BOX", "order", 1)]
    assert [o.status for o in stored.orders(conn.code)] == ["held"]
    assert api.post(f"/api/v1/channels/{conn.code}/listings",
                    json={"sku": "CUP-1", "external_id": "49999"}).status_code == 201
    assert api.get(f"/api/v1/channels/{conn.code}/unmapped").json() == {"items": [], "total": 0, "next": None}
