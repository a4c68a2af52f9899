"""Case categories are extensible: a merchant adds one over the API, cases, filters and SLA policies use it, and
bad input is refused with a problem response that changes nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import pytest

from conftest import Backend, client_for, make_token
from support.care_api import assert_problem, case, new_case
from support.server import LiveServer

BUILT_IN = ["out_of_stock", "late_shipment", "wrong_quantity", "other"]


def _codes(api: httpx.Client) -> list[str]:
    r = api.get("/api/v1/care/categories")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == len(body["items"])
    return [c["code"] for c in body["items"]]


def test_a_new_category_is_listed_and_used_by_cases(api: httpx.Client) -> None:
    assert _codes(api) == BUILT_IN
    r = api.post("/api/v1/care/categories", json={"code": "damaged_goods", "name": " 破损 / Damaged "})
    assert r.status_code == 201, r.text
    assert r.json() == {"code": "damaged_goods", "name": "破损 / Damaged", "built_in": False}
    assert _codes(api) == [*BUILT_IN, "damaged_goods"]
    damaged = new_case(api, category="damaged_goods", subject="杯子碎了")
    other = new_case(api, category="other")
    assert case(api, damaged["id"])["category"] == "damaged_goods"
    listed = api.get("/api/v1/cases", params={"category": "damaged_goods"}).json()
    assert [c["id"] for c in listed["items"]] == [damaged["id"]] and listed["total"] == 1
    moved = api.patch(f"/api/v1/cases/{other['id']}", json={"category": "damaged_goods"})
    assert moved.status_code == 200 and moved.json()["category"] == "damaged_goods", moved.text


def test_an_sla_policy_can_name_a_new_category(api: httpx.Client) -> None:
    api.post("/api/v1/care/categories", json={"code": "damaged_goods", "name": "破损"})
    r = api.put("/api/v1/care/sla-policies", json={"policies": [
        {"category": "damaged_goods", "first_response_minutes": 10, "resolution_minutes": 120}]})
    assert r.status_code == 200, r.text
    c = new_case(api, category="damaged_goods")
    created = datetime.fromisoformat(c["created_at"])
    assert datetime.fromisoformat(c["first_response_due"]) == created + timedelta(minutes=10)
    assert datetime.fromisoformat(c["resolution_due"]) == created + timedelta(hours=2)


@pytest.mark.parametrize(("body", "status", "field"), [
    ({"code": "Damaged", "name": "x"}, 422, "code"),           # upper case
    ({"code": "d", "name": "x"}, 422, "code"),                 # too short
    ({"code": "damaged goods", "name": "x"}, 422, "code"),     # a space
    ({"code": "9lives", "name": "x"}, 422, "code"),            # starts with a digit
    ({"code": "out_of_stock", "name": "x"}, 409, "code"),      # a built-in one
    ({"code": "damaged_goods", "name": "   "}, 422, "name"),
    ({"code": "damaged_goods"}, 422, "name"),
    ({"code": "damaged_goods", "name": "x", "colour": "red"}, 422, "colour"),
])
def test_bad_categories_are_refused_and_change_nothing(api: httpx.Client, body: dict[str, str], status: int,
                                                      field: str) -> None:
    assert_problem(api.post("/api/v1/care/categories", json=body), status, field)
    assert _codes(api) == BUILT_IN


def test_a_category_is_added_once(api: httpx.Client) -> None:
    assert api.post("/api/v1/care/categories", json={"code": "damaged_goods", "name": "破损"}).status_code == 201
    assert_problem(api.post("/api/v1/care/categories", json={"code": "damaged_goods", "name": "again"}), 409, "code")
    [added] = [c for c in api.get("/api/v1/care/categories").json()["items"] if c["code"] == "damaged_goods"]
    assert added["name"] == "破损"


def test_only_admins_add_categories_and_unknown_ones_stay_refused(api: httpx.Client, clean: Backend,
                                                                  server: LiveServer) -> None:
    with client_for(server, make_token(clean, "agent")) as agent:
        assert_problem(agent.post("/api/v1/care/categories", json={"code": "damaged_goods", "name": "破损"}), 403)
        assert _codes(agent) == BUILT_IN  # agents read them
        assert_problem(agent.post("/api/v1/cases", json={"category": "damaged_goods", "subject": "x"}), 422,
                       "category")
    assert api.get("/api/v1/cases").json()["total"] == 0
