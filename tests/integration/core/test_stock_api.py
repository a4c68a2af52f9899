"""The core API contract over HTTP: catalogue, moves, availability, bundles, audit."""

from __future__ import annotations

import httpx
import pytest

from support.core_api import seed, sku


def test_receipt_shows_on_hand_and_available_per_location(api: httpx.Client) -> None:
    seed(api, stock=7)
    api.post("/api/v1/locations", json={"code": "S1", "name": "Store", "kind": "store"})
    api.post("/api/v1/moves", json={"sku": "A", "location": "S1", "kind": "receipt", "qty": 3})
    body = sku(api)
    assert (body["on_hand"], body["reserved"], body["available"]) == (10, 0, 10)
    assert {loc["location"]: loc["on_hand"] for loc in body["locations"]} == {"S1": 3, "WH": 7}


def test_safety_stock_is_held_back_and_never_negative(api: httpx.Client) -> None:
    seed(api, stock=3, safety=5)
    assert sku(api)["available"] == 0
    api.post("/api/v1/moves", json={"sku": "A", "location": "WH", "kind": "receipt", "qty": 4})
    assert sku(api)["available"] == 2


def test_unsellable_location_does_not_count_as_available(api: httpx.Client) -> None:
    seed(api)
    api.post("/api/v1/locations", json={"code": "QC", "name": "Quarantine", "kind": "warehouse", "sellable": False})
    api.post("/api/v1/moves", json={"sku": "A", "location": "QC", "kind": "receipt", "qty": 5})
    body = sku(api)
    assert (body["on_hand"], body["available"]) == (5, 0)


def test_count_writes_the_difference_as_a_move(api: httpx.Client) -> None:
    seed(api, stock=10)
    r = api.post("/api/v1/moves", json={"sku": "A", "location": "WH", "kind": "count", "qty": 8,
                                        "reason": "stocktake"})
    assert r.status_code == 201
    assert (r.json()["qty"], r.json()["counted"]) == (-2, 8)
    assert sku(api)["on_hand"] == 8


def test_transfer_moves_units_between_locations(api: httpx.Client) -> None:
    seed(api, stock=10)
    api.post("/api/v1/locations", json={"code": "S1", "name": "Store", "kind": "store"})
    r = api.post("/api/v1/moves", json={"sku": "A", "location": "WH", "kind": "transfer", "qty": 4,
                                        "to_location": "S1"})
    assert r.status_code == 201, r.text
    assert {loc["location"]: loc["on_hand"] for loc in sku(api)["locations"]} == {"S1": 4, "WH": 6}


def test_transfer_cannot_take_reserved_units(api: httpx.Client) -> None:
    seed(api, stock=5)
    api.post("/api/v1/locations", json={"code": "S1", "name": "Store", "kind": "store"})
    api.post("/api/v1/orders", json={"channel": "m", "external_id": "o1", "lines": [{"sku": "A", "qty": 4}]})
    r = api.post("/api/v1/moves", json={"sku": "A", "location": "WH", "kind": "transfer", "qty": 2,
                                        "to_location": "S1"})
    assert r.status_code == 409
    assert sku(api)["on_hand"] == 5


def test_idempotency_key_replays_the_first_move(api: httpx.Client) -> None:
    seed(api)
    body = {"sku": "A", "location": "WH", "kind": "receipt", "qty": 5, "idempotency_key": "grn-1"}
    first = api.post("/api/v1/moves", json=body)
    again = api.post("/api/v1/moves", json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert sku(api)["on_hand"] == 5


def test_bundle_availability_is_the_minimum_over_components(api: httpx.Client) -> None:
    seed(api, stock=10)
    api.post("/api/v1/skus", json={"code": "B", "name": "Beta"})
    api.post("/api/v1/moves", json={"sku": "B", "location": "WH", "kind": "receipt", "qty": 9})
    r = api.post("/api/v1/skus", json={"code": "KIT", "name": "Kit",
                                       "components": [{"sku": "A", "qty": 2}, {"sku": "B", "qty": 3}]})
    assert r.status_code == 201, r.text
    assert sku(api, "KIT")["available"] == 3  # A: 10 // 2 = 5, B: 9 // 3 = 3


def test_selling_a_bundle_reserves_its_components(api: httpx.Client) -> None:
    seed(api, stock=10)
    api.post("/api/v1/skus", json={"code": "KIT", "name": "Kit", "components": [{"sku": "A", "qty": 2}]})
    r = api.post("/api/v1/orders", json={"channel": "m", "external_id": "k1", "lines": [{"sku": "KIT", "qty": 3}]})
    assert r.json()["status"] == "reserved"
    assert sku(api)["reserved"] == 6
    assert sku(api, "KIT")["available"] == 2


def test_manual_changes_are_in_the_audit_trail_with_before_and_after(api: httpx.Client) -> None:
    seed(api, stock=10)
    api.post("/api/v1/moves", json={"sku": "A", "location": "WH", "kind": "adjustment", "qty": -3,
                                    "reason": "damaged in transit"})
    api.patch("/api/v1/skus/A", json={"safety_stock": 2, "reason": "flash sale buffer"})
    items = api.get("/api/v1/audit", params={"sku": "A"}).json()["items"]
    adjust = next(i for i in items if i["action"] == "stock.adjustment")
    assert (adjust["before"]["on_hand"], adjust["after"]["on_hand"]) == (10, 7)
    assert adjust["reason"] == "damaged in transit" and adjust["actor"].startswith("token:")
    edit = next(i for i in items if i["action"] == "sku.update")
    assert (edit["before"], edit["after"]) == ({"safety_stock": 0}, {"safety_stock": 2})
    by_actor = api.get("/api/v1/audit", params={"actor": adjust["actor"]}).json()
    assert by_actor["total"] >= 4


def _walk(api: httpx.Client, path: str, key: str) -> tuple[list[object], set[int]]:
    """Every item of a collection, three per page, following `next`; and the totals each page gave."""
    seen: list[object] = []
    totals: set[int] = set()
    cursor = None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        body = api.get(path, params=params).json()
        assert len(body["items"]) <= 3
        totals.add(body["total"])
        seen += [item[key] for item in body["items"]]
        cursor = body.get("next")
        if not cursor:
            return seen, totals


def test_collections_page_with_cursor(api: httpx.Client) -> None:
    seed(api, stock=100)
    for i in range(7):
        api.post("/api/v1/orders", json={"channel": "m", "external_id": f"p{i}", "lines": [{"sku": "A", "qty": 1}]})
        api.post("/api/v1/locations", json={"code": f"S{i}", "name": f"Store {i}", "kind": "store"})
        api.post("/api/v1/channels", json={"code": f"c{i}", "kind": "manual"})
    for path, key, count in (("/api/v1/orders", "id", 7), ("/api/v1/locations", "code", 8),
                             ("/api/v1/channels", "code", 8), ("/api/v1/audit", "id", None)):
        seen, totals = _walk(api, path, key)
        assert len(totals) == 1, path
        assert len(seen) == len(set(seen)) == totals.pop(), path
        if count is not None:
            assert len(seen) == count, path


def test_counts_and_transfers_are_in_the_audit_trail(api: httpx.Client) -> None:
    seed(api, stock=10)
    api.post("/api/v1/locations", json={"code": "S1", "name": "Store", "kind": "store"})
    api.post("/api/v1/moves", json={"sku": "A", "location": "WH", "kind": "count", "qty": 8,
                                    "reason": "monthly stocktake"})
    api.post("/api/v1/moves", json={"sku": "A", "location": "WH", "kind": "transfer", "qty": 3, "to_location": "S1",
                                    "reason": "restock the store"})
    items = api.get("/api/v1/audit", params={"sku": "A"}).json()["items"]
    count = next(i for i in items if i["action"] == "stock.count")
    assert (count["before"]["on_hand"], count["after"]["on_hand"], count["reason"]) == (10, 8, "monthly stocktake")
    transfer = next(i for i in items if i["action"] == "stock.transfer")
    assert transfer["reason"] == "restock the store" and transfer["actor"].startswith("token:")
    assert {loc["location"]: loc["on_hand"] for loc in sku(api)["locations"]} == {"WH": 5, "S1": 3}


@pytest.mark.parametrize("path", ["/api/v1/skus/A", "/api/v1/orders", "/api/v1/audit"])
def test_routes_need_a_token(api: httpx.Client, path: str) -> None:
    assert httpx.get(str(api.base_url) + path).status_code == 401
    bad = httpx.get(str(api.base_url) + path, headers={"Authorization": "Bearer nope-nope-nope"})
    assert bad.status_code == 401


def test_health_and_openapi_need_no_token(api: httpx.Client) -> None:
    base = str(api.base_url)
    assert httpx.get(base + "/healthz").json()["status"] == "ok"
    assert "/api/v1/orders" in httpx.get(base + "/openapi.json").json()["paths"]
