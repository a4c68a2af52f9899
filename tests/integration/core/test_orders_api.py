"""Orders over HTTP: idempotent intake, reserve or hold, ship, cancel, return, release."""

from __future__ import annotations

import httpx

from support.core_api import seed, sku


def order(api: httpx.Client, ext: str, qty: int, sku_code: str = "A", **extra: object) -> httpx.Response:
    return api.post("/api/v1/orders", json={"channel": "m", "external_id": ext,
                                            "lines": [{"sku": sku_code, "qty": qty}], **extra})


def test_order_is_reserved_at_once(api: httpx.Client) -> None:
    seed(api, stock=5)
    r = order(api, "o1", 2, customer={"name": "王小明", "phone": "13800000000"}, currency="CNY")
    assert r.status_code == 201
    body = r.json()
    assert body["status"] == "reserved" and body["lines"] == [
        {"sku": "A", "qty": 2, "reserved": 2, "shipped": 0, "returned": 0, "unit_price": None}]
    assert (sku(api)["reserved"], sku(api)["available"]) == (2, 3)


def test_same_external_id_returns_the_same_order_and_reserves_once(api: httpx.Client) -> None:
    seed(api, stock=5)
    first, again = order(api, "o1", 2), order(api, "o1", 2)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert sku(api)["reserved"] == 2


def test_order_beyond_stock_is_held_with_reason_and_reserves_nothing(api: httpx.Client) -> None:
    seed(api, stock=3)
    api.post("/api/v1/skus", json={"code": "B", "name": "Beta"})
    api.post("/api/v1/moves", json={"sku": "B", "location": "WH", "kind": "receipt", "qty": 10})
    r = api.post("/api/v1/orders", json={"channel": "m", "external_id": "h1",
                                         "lines": [{"sku": "B", "qty": 1}, {"sku": "A", "qty": 4}]})
    body = r.json()
    assert body["status"] == "held" and "A wanted 4, reservable 3" in body["hold_reason"]
    assert sku(api, "B")["reserved"] == 0  # never partly reserved
    held = api.get("/api/v1/orders", params={"status": "held"}).json()
    assert held["total"] == 1 and held["items"][0]["hold_reason"]


def test_ship_consumes_the_reservation_and_writes_a_sale(api: httpx.Client) -> None:
    seed(api, stock=5)
    oid = order(api, "o1", 2).json()["id"]
    r = api.post(f"/api/v1/orders/{oid}/ship")
    assert r.status_code == 200 and r.json()["status"] == "shipped"
    assert (sku(api)["on_hand"], sku(api)["reserved"], sku(api)["available"]) == (3, 0, 3)
    kinds = [e["kind"] for e in api.get(f"/api/v1/orders/{oid}").json()["events"]]
    assert kinds == ["created", "reserved", "shipped"]


def test_cancel_releases_the_reservation(api: httpx.Client) -> None:
    seed(api, stock=5)
    oid = order(api, "o1", 5).json()["id"]
    assert sku(api)["available"] == 0
    assert api.post(f"/api/v1/orders/{oid}/cancel", json={"reason": "buyer changed mind"}).json()["status"] == \
        "cancelled"
    assert (sku(api)["reserved"], sku(api)["available"]) == (0, 5)


def test_return_brings_stock_back(api: httpx.Client) -> None:
    seed(api, stock=5)
    oid = order(api, "o1", 2).json()["id"]
    api.post(f"/api/v1/orders/{oid}/ship")
    r = api.post(f"/api/v1/orders/{oid}/return")
    assert r.json()["status"] == "returned"
    assert sku(api)["on_hand"] == 5


def test_held_order_is_released_when_stock_arrives(api: httpx.Client) -> None:
    seed(api, stock=1)
    oid = order(api, "o1", 3).json()["id"]
    assert api.post(f"/api/v1/orders/{oid}/release").status_code == 409
    api.post("/api/v1/moves", json={"sku": "A", "location": "WH", "kind": "receipt", "qty": 2})
    r = api.post(f"/api/v1/orders/{oid}/release", json={"reason": "stock arrived"})
    assert r.status_code == 200 and r.json()["status"] == "reserved"
    assert sku(api)["reserved"] == 3


def test_wrong_transitions_are_conflicts_that_change_nothing(api: httpx.Client) -> None:
    seed(api, stock=5)
    oid = order(api, "o1", 2).json()["id"]
    assert api.post(f"/api/v1/orders/{oid}/return").status_code == 409
    api.post(f"/api/v1/orders/{oid}/ship")
    assert api.post(f"/api/v1/orders/{oid}/cancel").status_code == 409
    assert sku(api)["on_hand"] == 3


def test_count_below_reservations_holds_the_order_that_lost_its_units(api: httpx.Client) -> None:
    seed(api, stock=5)
    first = order(api, "o1", 2).json()["id"]
    second = order(api, "o2", 3).json()["id"]
    api.post("/api/v1/moves", json={"sku": "A", "location": "WH", "kind": "count", "qty": 2, "reason": "count"})
    assert api.get(f"/api/v1/orders/{first}").json()["status"] == "reserved"
    held = api.get(f"/api/v1/orders/{second}").json()
    assert held["status"] == "held" and held["hold_reason"].startswith("stock_shortfall")
    figures = sku(api)
    assert (figures["on_hand"], figures["reserved"]) == (2, 2)


def test_count_below_reservations_moves_them_to_another_location_first(api: httpx.Client) -> None:
    seed(api, stock=5)
    api.post("/api/v1/locations", json={"code": "S1", "name": "Store", "kind": "store"})
    api.post("/api/v1/moves", json={"sku": "A", "location": "S1", "kind": "receipt", "qty": 1})
    oid = order(api, "o1", 4).json()["id"]  # taken from WH, the location with most free units
    api.post("/api/v1/moves", json={"sku": "A", "location": "WH", "kind": "count", "qty": 3})
    # WH now has 3 but 4 were reserved there; S1 has only 1 free, so the order cannot move whole: held.
    assert api.get(f"/api/v1/orders/{oid}").json()["status"] == "held"
    api.post("/api/v1/moves", json={"sku": "A", "location": "S1", "kind": "receipt", "qty": 9})
    oid2 = order(api, "o2", 3).json()["id"]
    loc_before = {x["location"]: x["reserved"] for x in sku(api)["locations"]}
    assert loc_before == {"S1": 3, "WH": 0}
    api.post("/api/v1/moves", json={"sku": "A", "location": "S1", "kind": "count", "qty": 1})
    assert api.get(f"/api/v1/orders/{oid2}").json()["status"] == "reserved"
    assert {x["location"]: x["reserved"] for x in sku(api)["locations"]} == {"S1": 0, "WH": 3}


def test_times_are_shown_in_the_merchant_zone(api: httpx.Client) -> None:
    seed(api, stock=1)
    assert order(api, "o1", 1).json()["created_at"].endswith("+08:00")
