"""Customer service in the console: the queue sorted by SLA with countdowns, answering a case, and a
compensation above an agent's limit that waits for an administrator's approval."""

from __future__ import annotations

import re

import httpx

from conftest import Backend
from support.core_api import seed
from support.server import LiveServer

from .conftest import csrf_of, make_user, signed_in


def _held_orders(api: httpx.Client, *names: str) -> list[int]:
    """One proactive case per held order (the complaint desk opens it when the order is held)."""
    seed(api, stock=1)
    for name in names:
        api.post("/api/v1/orders", json={"channel": "m", "external_id": name, "currency": "CNY",
                                         "customer": {"name": "张三", "phone": "13800000000"},
                                         "lines": [{"sku": "A", "qty": 5, "unit_price": "100.00"}]})
    cases = api.get("/api/v1/cases").json()["items"]
    assert len(cases) == len(names)
    return sorted(int(c["id"]) for c in cases)


def test_the_queue_counts_down_to_the_most_urgent_case_first(api: httpx.Client, clean: Backend,
                                                             server: LiveServer) -> None:
    first, second = _held_orders(api, "Q-1", "Q-2")
    api.post(f"/api/v1/cases/{first}/status", json={"status": "waiting_on_customer"})
    make_user(clean, "cs", "agent")
    with signed_in(server, "cs", lang="en") as client:
        page = client.get("/care").text
        fragment = client.get("/care/parts/queue", headers={"HX-Request": "true"}).text
    order = [int(n) for n in re.findall(r'href="/care/cases/(\d+)"', page)]
    assert order == [second, first]  # the waiting case's clock is paused: it goes last
    assert re.search(r'class="countdown[^"]*" data-deadline="[^"]+"[^>]*>\d+:\d\d<', page)
    assert "Paused" in page and 'hx-trigger="every 30s"' in page
    assert f'href="/care/cases/{second}"' in fragment and "<html" not in fragment


def test_an_agent_answers_a_case_from_its_page(api: httpx.Client, clean: Backend, server: LiveServer) -> None:
    (case_id,) = _held_orders(api, "C-1")
    make_user(clean, "cs", "agent")
    with signed_in(server, "cs", lang="en") as client:
        page = client.get(f"/care/cases/{case_id}").text
        assert "C-1" in page and 'href="/skus/A"' in page and "Draft, not sent" in page
        draft = re.search(r'name="message_id" value="(\d+)"', page).group(1)  # type: ignore[union-attr]
        token = csrf_of(client, f"/care/cases/{case_id}")
        sent = client.post(f"/care/cases/{case_id}/send", data={"csrf": token, "message_id": draft,
                                                                "channel": "manual"})
        assert sent.status_code == 303
        empty = client.post(f"/care/cases/{case_id}/reply", data={"csrf": token, "channel": "manual", "body": ""})
        assert empty.status_code == 422 and "give a body or a template" in empty.text
        replied = client.post(f"/care/cases/{case_id}/reply", data={"csrf": token, "channel": "manual",
                                                                    "body": "我们已加急补货。"})
        assert replied.status_code == 303
        note = client.post(f"/care/cases/{case_id}/note", data={"csrf": token, "body": "called the warehouse"})
        assert note.status_code == 303
    detail = api.get(f"/api/v1/cases/{case_id}").json()
    assert detail["first_response_at"] is not None
    assert [m["body"] for m in detail["messages"]][-1] == "我们已加急补货。"
    assert detail["notes"][0]["author"] == "user:cs"


def test_a_compensation_above_the_agents_limit_waits_for_approval(api: httpx.Client, clean: Backend,
                                                                  server: LiveServer) -> None:
    (case_id,) = _held_orders(api, "P-1")
    make_user(clean, "cs", "agent")
    make_user(clean, "boss", "admin")
    with signed_in(server, "cs", lang="en") as agent:
        token = csrf_of(agent, f"/care/cases/{case_id}")
        asked = agent.post(f"/care/cases/{case_id}/compensate", data={"csrf": token, "kind": "coupon",
                                                                       "amount": "80", "note": "sorry"})
        assert asked.status_code == 303
        page = agent.get(f"/care/cases/{case_id}").text
        assert "Waiting for approval" in page
        comp_id = re.search(r'action="/care/compensations/(\d+)/approve"', page).group(1)  # type: ignore[union-attr]
        refused = agent.post(f"/care/compensations/{comp_id}/approve", data={"csrf": token})
        assert refused.status_code == 403
    with signed_in(server, "boss", lang="en") as admin:
        approved = admin.post(f"/care/compensations/{comp_id}/approve",
                              data={"csrf": csrf_of(admin, f"/care/cases/{case_id}")})
        assert approved.status_code == 303
    comps = api.get(f"/api/v1/cases/{case_id}").json()["compensations"]
    assert [(c["status"], c["decided_by"]) for c in comps] == [("granted", "user:boss")]


def test_an_incident_resolves_all_its_cases_after_confirmation(api: httpx.Client, clean: Backend,
                                                               server: LiveServer) -> None:
    ids = _held_orders(api, "I-1", "I-2")
    make_user(clean, "cs", "agent")
    with signed_in(server, "cs", lang="en") as client:
        token = csrf_of(client, "/care/incidents")
        opened = client.post("/care/incidents", data={"csrf": token, "title": "JD showed stock we did not have"})
        assert opened.status_code == 303
        incident = opened.headers["location"]
        attached = client.post(f"{incident}/attach", data={"csrf": token, "case_ids": ",".join(map(str, ids))})
        assert attached.status_code == 303
        ask = client.post(f"{incident}/resolve", data={"csrf": token, "fix": "reconciled JD"})
        assert "Yes, resolve all" in ask.text
        assert {c["status"] for c in api.get("/api/v1/cases").json()["items"]} == {"new"}
        done = client.post(f"{incident}/resolve", data={"csrf": token, "fix": "reconciled JD", "confirmed": "1"})
        assert done.status_code == 200 and "Done for 2 cases" in done.text
    assert {c["status"] for c in api.get("/api/v1/cases").json()["items"]} == {"resolved"}
