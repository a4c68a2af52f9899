"""Bad input gets a 4xx problem response naming the field, and nothing is written."""

from __future__ import annotations

import httpx
import pytest

from support.core_api import seed, sku

PROBLEM = "application/problem+json"


def assert_problem(r: httpx.Response, status: int, field: str | None = None) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    assert body["detail"] and "Traceback" not in r.text
    if field is not None:
        assert body.get("field") == field, body
    return body


@pytest.mark.parametrize(("body", "field"), [
    ({"sku": "NOPE", "location": "WH", "kind": "receipt", "qty": 1}, "sku"),
    ({"sku": "A", "location": "NOPE", "kind": "receipt", "qty": 1}, "location"),
])
def test_unknown_sku_or_location_is_404_naming_the_field(api: httpx.Client, body: dict, field: str) -> None:
    seed(api, stock=5)
    assert_problem(api.post("/api/v1/moves", json=body), 404, field)
    assert sku(api)["on_hand"] == 5


@pytest.mark.parametrize(("kind", "qty"), [("receipt", 0), ("receipt", -1), ("transfer", 0), ("count", -3),
                                           ("adjustment", 0)])
def test_zero_or_negative_quantity_where_not_allowed(api: httpx.Client, kind: str, qty: int) -> None:
    seed(api, stock=5)
    body = {"sku": "A", "location": "WH", "kind": kind, "qty": qty}
    if kind == "transfer":
        body["to_location"] = "WH"
    assert_problem(api.post("/api/v1/moves", json=body), 422, "qty")
    assert sku(api)["on_hand"] == 5


@pytest.mark.parametrize("qty", [1.5, "3", None, True])
def test_non_integer_quantity_is_refused(api: httpx.Client, qty: object) -> None:
    seed(api, stock=5)
    assert_problem(api.post("/api/v1/moves", json={"sku": "A", "location": "WH", "kind": "receipt", "qty": qty}),
                   422, "qty")
    r = api.post("/api/v1/orders", json={"channel": "m", "external_id": "x", "lines": [{"sku": "A", "qty": qty}]})
    assert_problem(r, 422, "lines[0].qty")
    assert sku(api)["on_hand"] == 5 and api.get("/api/v1/orders").json()["total"] == 0


def test_adjustment_below_zero_is_refused(api: httpx.Client) -> None:
    seed(api, stock=2)
    r = api.post("/api/v1/moves", json={"sku": "A", "location": "WH", "kind": "adjustment", "qty": -3})
    assert_problem(r, 422, "qty")
    assert sku(api)["on_hand"] == 2


def test_malformed_json_is_400(api: httpx.Client) -> None:
    r = api.post("/api/v1/moves", content=b"{oops", headers={"content-type": "application/json"})
    assert_problem(r, 400, "body")


def test_oversized_payload_is_413_and_writes_nothing(api: httpx.Client) -> None:
    seed(api)
    big = {"code": "BIG", "name": "x" * 2_000_000}
    assert_problem(api.post("/api/v1/skus", json=big), 413, "body")
    assert api.get("/api/v1/skus/BIG").status_code == 404


def test_duplicate_codes_are_409(api: httpx.Client) -> None:
    seed(api)
    assert_problem(api.post("/api/v1/skus", json={"code": "A", "name": "again"}), 409, "code")
    assert_problem(api.post("/api/v1/locations", json={"code": "WH", "name": "again", "kind": "store"}), 409, "code")
    assert_problem(api.post("/api/v1/channels", json={"code": "m", "kind": "manual"}), 409, "code")
    assert sku(api)["name"] == "Alpha"


def test_missing_fields_are_named(api: httpx.Client) -> None:
    body = assert_problem(api.post("/api/v1/skus", json={"code": "Z"}), 422, "name")
    assert "name is required" in body["detail"]


def test_unknown_fields_are_refused_not_ignored(api: httpx.Client) -> None:
    seed(api)
    assert_problem(api.post("/api/v1/moves", json={"sku": "A", "location": "WH", "kind": "receipt", "qty": 1,
                                                   "quantity": 5}), 422, "quantity")


def test_order_with_unknown_sku_writes_no_order(api: httpx.Client) -> None:
    seed(api, stock=5)
    r = api.post("/api/v1/orders", json={"channel": "m", "external_id": "x",
                                         "lines": [{"sku": "A", "qty": 1}, {"sku": "NOPE", "qty": 1}]})
    assert_problem(r, 404, "lines[1].sku")
    assert api.get("/api/v1/orders").json()["total"] == 0 and sku(api)["reserved"] == 0


def test_order_on_unknown_channel_is_404(api: httpx.Client) -> None:
    seed(api, stock=5)
    r = api.post("/api/v1/orders", json={"channel": "nope", "external_id": "x", "lines": [{"sku": "A", "qty": 1}]})
    assert_problem(r, 404, "channel")


def test_money_as_a_float_is_refused(api: httpx.Client) -> None:
    seed(api, stock=5)
    r = api.post("/api/v1/orders", json={"channel": "m", "external_id": "x",
                                         "lines": [{"sku": "A", "qty": 1, "unit_price": 19.9}]})
    assert_problem(r, 422, "lines[0].unit_price")
    ok = api.post("/api/v1/orders", json={"channel": "m", "external_id": "y", "currency": "CNY",
                                          "lines": [{"sku": "A", "qty": 1, "unit_price": "19.90"}]})
    assert ok.status_code == 201 and ok.json()["lines"][0]["unit_price"].startswith("19.9")


def test_bad_currency_code_is_refused(api: httpx.Client) -> None:
    seed(api, stock=5)
    r = api.post("/api/v1/orders", json={"channel": "m", "external_id": "x", "currency": "yuan",
                                         "lines": [{"sku": "A", "qty": 1}]})
    assert_problem(r, 422, "currency")


def test_bundle_that_contains_itself_or_unknown_component(api: httpx.Client) -> None:
    seed(api)
    assert_problem(api.post("/api/v1/skus", json={"code": "K", "name": "K", "components": [{"sku": "K", "qty": 1}]}),
                   422, "components[0].sku")
    assert_problem(api.post("/api/v1/skus", json={"code": "K", "name": "K",
                                                  "components": [{"sku": "NOPE", "qty": 1}]}),
                   404, "components[0].sku")
    assert api.get("/api/v1/skus/K").status_code == 404


def test_stock_cannot_be_moved_on_a_bundle(api: httpx.Client) -> None:
    seed(api)
    api.post("/api/v1/skus", json={"code": "K", "name": "K", "components": [{"sku": "A", "qty": 2}]})
    assert_problem(api.post("/api/v1/moves", json={"sku": "K", "location": "WH", "kind": "receipt", "qty": 1}),
                   422, "sku")


def test_transfer_without_destination(api: httpx.Client) -> None:
    seed(api, stock=5)
    assert_problem(api.post("/api/v1/moves", json={"sku": "A", "location": "WH", "kind": "transfer", "qty": 1}),
                   422, "to_location")


def test_bad_cursor_and_limit(api: httpx.Client) -> None:
    assert_problem(api.get("/api/v1/orders", params={"cursor": "garbage!"}), 422, "cursor")
    assert_problem(api.get("/api/v1/orders", params={"limit": 0}), 422, "limit")
    assert_problem(api.get("/api/v1/orders", params={"status": "lost"}), 422, "status")
