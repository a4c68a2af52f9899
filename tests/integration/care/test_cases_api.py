"""Cases over HTTP: intake about an order or standalone, the status flow with reopen, notes, history,
filters and paging, permissions, and bad input that changes nothing."""

from __future__ import annotations

import httpx
import pytest

from conftest import Backend, client_for, make_token
from support.care_api import assert_problem, case, new_case, order, total_cases
from support.core_api import seed
from support.server import LiveServer


def test_case_about_an_order_reads_channel_skus_and_customer_from_it(api: httpx.Client) -> None:
    seed(api, stock=5)
    o = order(api, "JD-1001", 2, price="39.90", email="li@example.com", name="李雷")
    c = new_case(api, category="late_shipment", subject="Where is my parcel?", order_id=o["id"], priority="high",
                 description="下单三天了还没发货")
    for key in ("id", "order_id", "category", "priority", "status", "source", "created_at", "first_response_due",
                "resolution_due", "incident_id"):
        assert key in c
    assert (c["order_id"], c["channel"], c["external_order_id"], c["skus"]) == (o["id"], "m", "JD-1001", ["A"])
    assert c["customer"] == {"name": "李雷", "phone": "13800000000", "email": "li@example.com"}
    assert (c["source"], c["status"], c["order_value"], c["currency"]) == ("customer", "new", "79.80", "CNY")
    assert c["messages"][0]["kind"] == "inbound" and c["messages"][0]["body"] == "下单三天了还没发货"
    assert c["created_at"].endswith("+08:00")


def test_case_found_by_the_platform_order_id(api: httpx.Client) -> None:
    seed(api, stock=5)
    o = order(api, "TB-77", 1)
    c = new_case(api, channel="m", external_order_id="TB-77")
    assert c["order_id"] == o["id"]


def test_standalone_case_and_filter_by_order_id(api: httpx.Client) -> None:
    seed(api, stock=5)
    o = order(api, "o1", 1)
    standalone = new_case(api, subject="Question about invoices", customer={"name": "Ann", "email": "a@x.org"})
    linked = new_case(api, order_id=o["id"])
    assert standalone["order_id"] is None and standalone["channel"] is None
    filtered = api.get("/api/v1/cases", params={"order_id": o["id"]}).json()
    assert (filtered["total"], [i["id"] for i in filtered["items"]]) == (1, [linked["id"]])
    everything = api.get("/api/v1/cases").json()
    assert everything["total"] == 2 and set(everything) == {"items", "total", "next"}


def test_list_pages_with_a_cursor(api: httpx.Client) -> None:
    ids = [new_case(api, subject=f"case {i}")["id"] for i in range(3)]
    first = api.get("/api/v1/cases", params={"limit": 2}).json()
    second = api.get("/api/v1/cases", params={"limit": 2, "cursor": first["next"]}).json()
    assert [i["id"] for i in first["items"] + second["items"]] == sorted(ids, reverse=True)
    assert second["next"] is None


def test_status_flow_with_waiting_reopen_and_full_history(api: httpx.Client) -> None:
    cid = new_case(api)["id"]
    assert api.patch(f"/api/v1/cases/{cid}", json={"assignee": "xiao.li"}).json()["status"] == "open"
    r = api.post(f"/api/v1/cases/{cid}/messages", json={"body": "Could you send a photo?", "channel": "manual",
                                                        "wait": True})
    assert r.status_code == 201 and r.json()["status"] == "recorded"
    waiting = case(api, cid)
    assert waiting["status"] == "waiting_on_customer" and waiting["sla"]["paused"]
    assert waiting["first_response_at"] is not None and waiting["resolution_due"] is None  # clock held
    api.post(f"/api/v1/cases/{cid}/messages", json={"direction": "inbound", "body": "Here it is"})
    assert case(api, cid)["status"] == "open"  # the customer answered
    assert api.post(f"/api/v1/cases/{cid}/notes", json={"body": "photo shows 2 missing"}).status_code == 201
    assert api.post(f"/api/v1/cases/{cid}/resolve").json()["status"] == "resolved"
    reopened = api.post(f"/api/v1/cases/{cid}/reopen", json={"body": "customer says still missing"}).json()
    assert (reopened["status"], reopened["reopen_count"], reopened["resolved_at"]) == ("open", 1, None)
    api.post(f"/api/v1/cases/{cid}/resolve")
    closed = api.post(f"/api/v1/cases/{cid}/status", json={"status": "closed"}).json()
    assert closed["status"] == "closed"
    kinds = [e["kind"] for e in closed["events"]]
    assert kinds[0] == "created" and "assigned" in kinds and "note_added" in kinds and "reopened" in kinds
    assert [p["ended_at"] is not None for p in closed["pauses"]] == [True]
    assert closed["notes"][0]["body"] == "photo shows 2 missing"
    assert all(m["kind"] != "note" for m in closed["messages"])  # notes never mix with customer messages


def test_wrong_transition_is_409_and_writes_nothing(api: httpx.Client) -> None:
    cid = new_case(api)["id"]
    before = len(case(api, cid)["events"])
    assert_problem(api.post(f"/api/v1/cases/{cid}/status", json={"status": "closed"}), 409, "status")
    assert_problem(api.post(f"/api/v1/cases/{cid}/reopen"), 409, "status")
    after = case(api, cid)
    assert after["status"] == "new" and len(after["events"]) == before


@pytest.mark.parametrize(("body", "status", "field"), [
    ({"category": "no_such", "subject": "x"}, 422, "category"),
    ({"category": "other", "subject": "x", "priority": "asap"}, 422, "priority"),
    ({"category": "other", "subject": "   "}, 422, "subject"),
    ({"category": "other", "subject": "x", "order_id": 999}, 404, "order_id"),
    ({"category": "other", "subject": "x", "channel": "nope", "external_order_id": "1"}, 404, "channel"),
    ({"category": "other", "subject": "x", "order_value": 19.9}, 422, "order_value"),
    ({"category": "other", "subject": "x", "currency": "XYZ"}, 422, "currency"),
    ({"category": "other", "subject": "x", "team": "night-shift"}, 404, "team"),
    ({"category": "other", "subject": "x", "colour": "red"}, 422, "colour"),
])
def test_bad_case_input_is_a_clear_4xx_and_nothing_is_written(api: httpx.Client, body: dict, status: int,
                                                               field: str) -> None:
    seed(api)
    assert_problem(api.post("/api/v1/cases", json=body), status, field)
    assert total_cases(api) == 0


def test_bad_filters_and_unknown_case_are_4xx(api: httpx.Client) -> None:
    assert_problem(api.get("/api/v1/cases", params={"status": "lost"}), 422, "status")
    assert_problem(api.get("/api/v1/cases", params={"limit": 0}), 422, "limit")
    assert_problem(api.get("/api/v1/cases/12345"), 404, "id")
    assert_problem(api.post("/api/v1/cases/12345/notes", json={"body": "x"}), 404, "id")


def test_agent_works_cases_and_viewer_only_reads(api: httpx.Client, clean: Backend, server: LiveServer) -> None:
    cid = new_case(api)["id"]
    with client_for(server, make_token(clean, "agent")) as agent, \
            client_for(server, make_token(clean, "viewer")) as viewer:
        assert agent.post("/api/v1/cases", json={"category": "other", "subject": "by agent"}).status_code == 201
        assert agent.post(f"/api/v1/cases/{cid}/notes", json={"body": "on it"}).status_code == 201
        assert viewer.get(f"/api/v1/cases/{cid}").status_code == 200
        assert viewer.get("/api/v1/cases").json()["total"] == 2
        assert_problem(viewer.post("/api/v1/cases", json={"category": "other", "subject": "no"}), 403)
        assert_problem(viewer.post(f"/api/v1/cases/{cid}/resolve"), 403)
        assert_problem(agent.put("/api/v1/care/sla-policies", json={"policies": []}), 403)  # settings: admin
    assert total_cases(api) == 2 and case(api, cid)["status"] == "new"


def test_channel_scoped_token_sees_only_its_channels_cases(api: httpx.Client, clean: Backend,
                                                           server: LiveServer) -> None:
    seed(api, stock=5)
    api.post("/api/v1/channels", json={"code": "jd", "kind": "manual"})
    mine = new_case(api, order_id=order(api, "o1", 1, channel="jd")["id"])
    other = new_case(api, order_id=order(api, "o2", 1)["id"])
    with client_for(server, make_token(clean, "agent", channels=["jd"])) as jd_agent:
        assert [i["id"] for i in jd_agent.get("/api/v1/cases").json()["items"]] == [mine["id"]]
        assert_problem(jd_agent.get(f"/api/v1/cases/{other['id']}"), 403)
