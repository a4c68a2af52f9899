"""Compensation: proposals from the standard table, approval limits per role, cost recorded, and the
incident's bulk compensation applied once per case however often it is sent."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx

from conftest import Backend, client_for, make_token
from support.care_api import assert_problem, case, new_case, order, the_case_of
from support.core_api import seed
from support.server import LiveServer


def _oversold_case(api: httpx.Client, ext: str, price: str) -> dict:
    return the_case_of(api, order(api, ext, 1, price=price)["id"])


def test_proposal_follows_the_standard_table(api: httpx.Client) -> None:
    seed(api, stock=0)
    small, medium = _oversold_case(api, "o1", "50.00"), _oversold_case(api, "o2", "300.00")
    p_small = api.get(f"/api/v1/cases/{small['id']}/compensation-proposal").json()["proposal"]
    p_medium = api.get(f"/api/v1/cases/{medium['id']}/compensation-proposal").json()["proposal"]
    assert (p_small["kind"], p_small["amount"], p_small["cost"]) == ("coupon", "10.00", "10.00")
    assert (p_medium["kind"], p_medium["amount"]) == ("partial_refund", "30.00")
    unknown_value = new_case(api)
    assert api.get(f"/api/v1/cases/{unknown_value['id']}/compensation-proposal").json()["proposal"] is None


def test_agent_within_the_limit_grants_at_once_with_the_cost_recorded(api: httpx.Client, clean: Backend,
                                                                      server: LiveServer) -> None:
    seed(api, stock=0)
    c = _oversold_case(api, "o1", "50.00")
    with client_for(server, make_token(clean, "agent")) as agent:
        r = agent.post(f"/api/v1/cases/{c['id']}/compensations", json={})
    assert r.status_code == 201, r.text
    comp = r.json()
    assert (comp["status"], comp["kind"], comp["amount"], comp["cost"], comp["currency"], comp["sku"]) == (
        "granted", "coupon", "10.00", "10.00", "CNY", "A")
    assert case(api, c["id"])["compensations"][0]["id"] == comp["id"]


def test_approval_limit_is_enforced(api: httpx.Client, clean: Backend, server: LiveServer) -> None:
    seed(api, stock=0)
    c = _oversold_case(api, "o1", "1000.00")
    with client_for(server, make_token(clean, "agent")) as agent, \
            client_for(server, make_token(clean, "operator")) as supervisor:
        pending = agent.post(f"/api/v1/cases/{c['id']}/compensations",
                             json={"kind": "coupon", "amount": "80"}).json()
        assert pending["status"] == "pending_approval" and pending["cost"] == "80.00"
        assert_problem(agent.post(f"/api/v1/compensations/{pending['id']}/approve"), 403, "cost")
        assert api.get("/api/v1/compensations", params={"status": "pending_approval"}).json()["total"] == 1
        approved = supervisor.post(f"/api/v1/compensations/{pending['id']}/approve",
                                   json={"note": "loyal customer"}).json()
        assert (approved["status"], approved["decided_by"]) == ("granted", "token:test-operator")
        assert_problem(supervisor.post(f"/api/v1/compensations/{pending['id']}/approve"), 409, "status")
        big = supervisor.post(f"/api/v1/cases/{c['id']}/compensations", json={"kind": "full_refund"}).json()
        assert (big["status"], big["cost"]) == ("pending_approval", "1000.00")  # over the operator's 500
        assert_problem(supervisor.post(f"/api/v1/compensations/{big['id']}/reject"), 403, "cost")
    rejected = api.post(f"/api/v1/compensations/{big['id']}/reject", json={"note": "reship instead"}).json()
    assert rejected["status"] == "rejected"
    events = [e["kind"] for e in case(api, c["id"])["events"]]
    assert events.count("compensation_pending") == 2 and "compensation_approved" in events


def test_approval_limits_are_settable(api: httpx.Client, clean: Backend, server: LiveServer) -> None:
    seed(api, stock=0)
    c = _oversold_case(api, "o1", "1000.00")
    r = api.put("/api/v1/care/approval-limits", json={"limits": {"agent": "200"}})
    assert r.json() == {"currency": "CNY", "limits": {"admin": None, "agent": "200", "operator": "500"}}
    assert_problem(api.put("/api/v1/care/approval-limits", json={"limits": {"agent": 20.5}}), 422, "limits")
    assert_problem(api.put("/api/v1/care/approval-limits", json={"limits": {"viewer": "5"}}), 422)
    with client_for(server, make_token(clean, "agent")) as agent:
        assert agent.post(f"/api/v1/cases/{c['id']}/compensations",
                          json={"kind": "coupon", "amount": "150"}).json()["status"] == "granted"


def test_bad_compensation_is_refused_and_nothing_is_written(api: httpx.Client) -> None:
    seed(api, stock=0)
    c = _oversold_case(api, "o1", "100.00")
    url = f"/api/v1/cases/{c['id']}/compensations"
    assert_problem(api.post(url, json={"kind": "reship"}), 422, "goods_cost")
    assert_problem(api.post(url, json={"kind": "coupon"}), 422, "amount")
    assert_problem(api.post(url, json={"kind": "coupon", "amount": 5.5}), 422, "amount")
    assert_problem(api.post(url, json={"kind": "partial_refund", "percent": "150"}), 422, "percent")
    assert_problem(api.post(url, json={"kind": "voucher"}), 422, "kind")
    standalone = new_case(api)
    assert_problem(api.post(f"/api/v1/cases/{standalone['id']}/compensations", json={}), 422, "kind")
    assert api.get("/api/v1/compensations").json()["total"] == 0
    reship = api.post(url, json={"kind": "reship", "goods_cost": "35.50"}).json()
    assert (reship["amount"], reship["cost"]) == ("0.00", "35.50")


def test_same_idempotency_key_grants_once(api: httpx.Client) -> None:
    seed(api, stock=0)
    c = _oversold_case(api, "o1", "50.00")
    body = {"kind": "gift", "amount": "8", "idempotency_key": "ticket-42"}
    first = api.post(f"/api/v1/cases/{c['id']}/compensations", json=body)
    again = api.post(f"/api/v1/cases/{c['id']}/compensations", json=body)
    assert (first.status_code, again.status_code) == (201, 200) and first.json()["id"] == again.json()["id"]


def test_bulk_incident_compensation_is_applied_once_per_case(api: httpx.Client) -> None:
    seed(api, stock=0)
    cases = [_oversold_case(api, f"o{i}", "80.00")["id"] for i in range(3)]
    incident = api.post("/api/v1/incidents", json={"title": "JD oversell of A", "channel": "m", "skus": ["A"],
                                                   "case_ids": cases}).json()
    url = f"/api/v1/incidents/{incident['id']}/compensate"
    gesture = {"kind": "coupon", "amount": "20", "note": "sorry for the oversell"}
    first = api.post(url, json=gesture).json()
    assert (sorted(first["done"]), first["already"]) == (sorted(cases), [])
    retry = api.post(url, json=gesture).json()
    assert (retry["done"], sorted(retry["already"])) == ([], sorted(cases))
    late = _oversold_case(api, "o9", "80.00")["id"]
    api.post(f"/api/v1/incidents/{incident['id']}/cases", json={"case_ids": [late]})
    third = api.post(url, json=gesture).json()
    assert third["done"] == [late] and len(third["already"]) == 3
    granted = api.get("/api/v1/compensations", params={"incident_id": incident["id"]}).json()
    assert granted["total"] == 4 and {c["cost"] for c in granted["items"]} == {"20.00"}
    assert sorted(c["case_id"] for c in granted["items"]) == sorted([*cases, late])


def test_concurrent_retries_of_a_bulk_compensation_still_grant_once(api: httpx.Client) -> None:
    seed(api, stock=0)
    cases = [_oversold_case(api, f"o{i}", "80.00")["id"] for i in range(4)]
    iid = api.post("/api/v1/incidents", json={"title": "oversell", "case_ids": cases}).json()["id"]
    body = {"kind": "standard", "idempotency_key": "incident-compensation-1"}
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: api.post(f"/api/v1/incidents/{iid}/compensate", json=body), range(4)))
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    assert sum(len(a.json()["done"]) for a in answers) == 4
    assert api.get("/api/v1/compensations", params={"incident_id": iid}).json()["total"] == 4


def test_bulk_compensation_skips_cases_it_cannot_price(api: httpx.Client) -> None:
    seed(api, stock=0)
    priced = _oversold_case(api, "o1", "80.00")["id"]
    unpriced = new_case(api)["id"]
    iid = api.post("/api/v1/incidents", json={"title": "mixed", "case_ids": [priced, unpriced]}).json()["id"]
    out = api.post(f"/api/v1/incidents/{iid}/compensate", json={"kind": "standard"}).json()
    assert out["done"] == [priced] and [s["case_id"] for s in out["skipped"]] == [unpriced]
    assert_problem(api.post(f"/api/v1/incidents/{iid}/compensate", json={"kind": "cash"}), 422, "kind")


def test_compensation_table_is_replaceable(api: httpx.Client) -> None:
    seed(api, stock=0)
    rules = {"rules": [{"id": "oos-all", "category": "out_of_stock", "kind": "gift", "amount": "15"}]}
    assert api.put("/api/v1/care/compensation-rules", json=rules).json()["items"][0]["amount"] == "15"
    c = _oversold_case(api, "o1", "50.00")
    assert api.get(f"/api/v1/cases/{c['id']}/compensation-proposal").json()["proposal"]["kind"] == "gift"
    bad = {"rules": [{"id": "x", "category": "out_of_stock", "kind": "coupon"}]}
    assert_problem(api.put("/api/v1/care/compensation-rules", json=bad), 422, "rules[0].amount")
    assert api.put("/api/v1/care/compensation-rules", json={"rules": []}).json()["total"] == 6  # standard again
