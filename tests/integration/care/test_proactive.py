"""Proactive cases: a held order opens exactly one case by itself, with contact, order, cause and a drafted
first message; the rule is configurable."""

from __future__ import annotations

import httpx

from conftest import Backend
from omnistock.care.proactive import on_order_held
from omnistock.care.tables import CareCase
from omnistock.store.tables import Order
from support.care_api import assert_problem, cases_of_order, order, the_case_of, total_cases
from support.core_api import seed


def test_held_order_opens_one_proactive_case_even_when_delivered_twice(api: httpx.Client) -> None:
    seed(api, stock=1)
    first = order(api, "JD-88", 3)
    again = order(api, "JD-88", 3)  # the platform delivered the same order event twice
    assert first["status"] == "held" and again["id"] == first["id"]
    c = the_case_of(api, first["id"])
    assert (c["source"], c["category"], c["priority"], c["status"]) == ("proactive", "out_of_stock", "high", "new")
    assert c["customer"] == {"name": "王小明", "phone": "13800000000", "email": "wang@example.com"}
    assert c["cause"] == first["hold_reason"] and c["cause"].startswith("insufficient_stock")
    assert c["skus"] == ["A"] and c["external_order_id"] == "JD-88"
    draft = c["messages"][0]
    assert (draft["status"], draft["template"], draft["locale"]) == ("draft", "oversell_apology", "zh")
    assert "王小明" in draft["body"] and "JD-88" in draft["body"] and "JD-88" in draft["subject"]
    assert c["first_response_due"] is not None  # the SLA clock runs before the customer writes


def test_a_second_hold_of_the_same_order_adds_history_not_a_case(api: httpx.Client) -> None:
    seed(api, stock=5)
    o = order(api, "o1", 2)
    assert o["status"] == "reserved" and cases_of_order(api, o["id"]) == []
    count = {"sku": "A", "location": "WH", "kind": "count", "qty": 0, "reason": "stocktake"}
    api.post("/api/v1/moves", json=count)  # the units were not there: the order is held
    assert api.get(f"/api/v1/orders/{o['id']}").json()["status"] == "held"
    api.post("/api/v1/moves", json={"sku": "A", "location": "WH", "kind": "receipt", "qty": 5})
    assert api.post(f"/api/v1/orders/{o['id']}/release").json()["status"] == "reserved"
    api.post("/api/v1/moves", json=count)  # held a second time
    c = the_case_of(api, o["id"])
    assert c["cause"].startswith("stock_shortfall")
    assert [e["kind"] for e in c["events"]].count("order_held_again") == 1


def test_hook_run_twice_in_one_transaction_opens_one_case(api: httpx.Client, clean: Backend) -> None:
    seed(api, stock=0)
    oid = order(api, "o1", 1)["id"]
    with clean.db.transaction() as session:
        held = session.get(Order, oid)
        assert held is not None
        on_order_held(session, held)
        on_order_held(session, held)
    with clean.db.reading() as session:
        assert session.query(CareCase).filter(CareCase.order_id == oid).count() == 1


def test_draft_offers_the_standard_compensation_when_the_order_value_is_known(api: httpx.Client) -> None:
    seed(api, stock=0)
    o = order(api, "o1", 1, price="50.00")
    body = the_case_of(api, o["id"])["messages"][0]["body"]
    assert "10.00 CNY 优惠券" in body  # out_of_stock under 100 CNY: a 10 CNY coupon


def test_rules_are_configurable(api: httpx.Client) -> None:
    seed(api, stock=0)
    rules = api.get("/api/v1/care/proactive-rules").json()["items"]
    assert {r["cause"] for r in rules} >= {"insufficient_stock", "stock_shortfall"}
    r = api.put("/api/v1/care/proactive-rules/insufficient_stock", json={"enabled": False})
    assert r.status_code == 200 and r.json()["enabled"] is False
    quiet = order(api, "o1", 1)
    assert quiet["status"] == "held" and cases_of_order(api, quiet["id"]) == []
    api.put("/api/v1/care/proactive-rules/insufficient_stock",
            json={"category": "late_shipment", "priority": "urgent", "template": "incident_update", "locale": "en"})
    c = the_case_of(api, order(api, "o2", 1)["id"])
    assert (c["category"], c["priority"], c["locale"]) == ("late_shipment", "urgent", "en")
    assert c["messages"][0]["body"].startswith("Dear 王小明")


def test_bad_rule_is_refused_and_changes_nothing(api: httpx.Client) -> None:
    assert_problem(api.put("/api/v1/care/proactive-rules/insufficient_stock", json={"template": "nope"}), 404,
                   "template")
    assert_problem(api.put("/api/v1/care/proactive-rules/insufficient_stock", json={"category": "nope"}), 422,
                   "category")
    assert_problem(api.put("/api/v1/care/proactive-rules/insufficient_stock", json={"priority": "asap"}), 422,
                   "priority")
    rule = next(r for r in api.get("/api/v1/care/proactive-rules").json()["items"]
                if r["cause"] == "insufficient_stock")
    assert (rule["enabled"], rule["template"], rule["category"]) == (True, "oversell_apology", "out_of_stock")


def test_the_rule_for_the_cause_wins_over_the_catch_all(api: httpx.Client) -> None:
    seed(api, stock=0)
    api.put("/api/v1/care/proactive-rules/insufficient_stock", json={"enabled": False})
    order(api, "o1", 1)
    assert total_cases(api) == 0
    api.put("/api/v1/care/proactive-rules/*", json={"category": "other", "priority": "normal"})
    # the rule for the cause itself (disabled) wins over the catch-all
    order(api, "o2", 1)
    assert total_cases(api) == 0
