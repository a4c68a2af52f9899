"""Access by role and store (分权管理): denied calls are 403 and change nothing."""

from __future__ import annotations

import httpx
import pytest

from conftest import Backend, client_for, make_token
from support.core_api import seed, sku
from support.server import LiveServer

RECEIPT = {"sku": "A", "location": "WH", "kind": "receipt", "qty": 1}
# (method, path, body) for each kind of change, and which roles may make it
CHANGES = {
    "sku": ("POST", "/api/v1/skus", {"code": "NEW", "name": "New"}),
    "location": ("POST", "/api/v1/locations", {"code": "L2", "name": "L2", "kind": "store"}),
    "channel": ("POST", "/api/v1/channels", {"code": "c2", "kind": "manual"}),
    "move": ("POST", "/api/v1/moves", RECEIPT),
    "order": ("POST", "/api/v1/orders", {"channel": "m", "external_id": "r1", "lines": [{"sku": "A", "qty": 1}]}),
    "token": ("POST", "/api/v1/tokens", {"name": "x", "role": "viewer"}),
}
ALLOWED = {
    "admin": set(CHANGES),
    "operator": {"sku", "move", "order"},
    "agent": set(),
    "viewer": set(),
}


@pytest.mark.parametrize("role", sorted(ALLOWED))
def test_each_role_may_change_only_what_it_is_granted(api: httpx.Client, clean: Backend, server: LiveServer,
                                                      role: str) -> None:
    seed(api, stock=5)
    with client_for(server, make_token(clean, role)) as client:
        for what, (method, path, body) in CHANGES.items():
            r = client.request(method, path, json=body)
            if what in ALLOWED[role]:
                assert r.status_code == 201, (role, what, r.text)
            else:
                assert r.status_code == 403, (role, what, r.text)
                assert r.headers["content-type"].startswith("application/problem+json")
        # every role reads
        assert client.get("/api/v1/skus/A").status_code == 200
        assert client.get("/api/v1/orders").status_code == 200
    expected_on_hand = 6 if "move" in ALLOWED[role] else 5
    assert sku(api)["on_hand"] == expected_on_hand
    assert api.get("/api/v1/skus/NEW").status_code == (200 if "sku" in ALLOWED[role] else 404)


def test_store_manager_sees_and_changes_only_its_store(api: httpx.Client, clean: Backend,
                                                       server: LiveServer) -> None:
    seed(api, stock=5)
    api.post("/api/v1/locations", json={"code": "S1", "name": "Store 1", "kind": "store"})
    api.post("/api/v1/locations", json={"code": "S2", "name": "Store 2", "kind": "store"})
    api.post("/api/v1/channels", json={"code": "pos1", "kind": "manual"})
    api.post("/api/v1/channels", json={"code": "pos2", "kind": "manual"})
    api.post("/api/v1/moves", json={"sku": "A", "location": "S2", "kind": "receipt", "qty": 9})
    token = make_token(clean, "operator", locations=["S1"], channels=["pos1"], name="store1-manager")
    with client_for(server, token) as store1:
        assert store1.post("/api/v1/moves", json={"sku": "A", "location": "S1", "kind": "receipt",
                                                  "qty": 4}).status_code == 201
        denied = store1.post("/api/v1/moves", json={"sku": "A", "location": "S2", "kind": "adjustment", "qty": -9})
        assert denied.status_code == 403
        figures = store1.get("/api/v1/skus/A").json()
        assert [loc["location"] for loc in figures["locations"]] == ["S1"] and figures["on_hand"] == 4
        own = store1.post("/api/v1/orders", json={"channel": "pos1", "external_id": "s1-1",
                                                  "lines": [{"sku": "A", "qty": 1}]})
        assert own.status_code == 201 and own.json()["status"] == "reserved"
        assert store1.post("/api/v1/orders", json={"channel": "pos2", "external_id": "s2-1",
                                                   "lines": [{"sku": "A", "qty": 1}]}).status_code == 403
        other = api.post("/api/v1/orders", json={"channel": "pos2", "external_id": "s2-2",
                                                 "lines": [{"sku": "A", "qty": 1}]}).json()
        assert store1.get(f"/api/v1/orders/{other['id']}").status_code == 403
        assert store1.post(f"/api/v1/orders/{other['id']}/cancel").status_code == 403
        listed = store1.get("/api/v1/orders").json()
        assert [o["external_id"] for o in listed["items"]] == ["s1-1"]
        assert store1.post("/api/v1/skus", json={"code": "X", "name": "X"}).status_code == 403
        audit = store1.get("/api/v1/audit").json()["items"]
        assert audit and all(e["location"] == "S1" for e in audit)
    # store 2's stock and order are untouched
    assert api.get(f"/api/v1/orders/{other['id']}").json()["status"] == "reserved"
    assert {loc["location"]: loc["on_hand"] for loc in sku(api)["locations"]}["S2"] == 9


@pytest.mark.parametrize("role", sorted(ALLOWED))
def test_only_roles_with_orders_may_ship_cancel_and_return(api: httpx.Client, clean: Backend, server: LiveServer,
                                                          role: str) -> None:
    seed(api, stock=5)
    ids = [api.post("/api/v1/orders", json={"channel": "m", "external_id": f"o{i}",
                                            "lines": [{"sku": "A", "qty": 1}]}).json()["id"] for i in range(3)]
    api.post(f"/api/v1/orders/{ids[2]}/ship")  # the one to return
    may = "order" in ALLOWED[role]
    with client_for(server, make_token(clean, role)) as client:
        for action, order_id, after in (("ship", ids[0], "shipped"), ("cancel", ids[1], "cancelled"),
                                         ("return", ids[2], "returned")):
            r = client.post(f"/api/v1/orders/{order_id}/{action}")
            if may:
                assert r.status_code == 200 and r.json()["status"] == after, (role, action, r.text)
            else:
                assert r.status_code == 403, (role, action, r.text)
                assert r.headers["content-type"].startswith("application/problem+json")
    statuses = [api.get(f"/api/v1/orders/{i}").json()["status"] for i in ids]
    assert statuses == (["shipped", "cancelled", "returned"] if may else ["reserved", "reserved", "shipped"])
    expected = {"on_hand": 4, "reserved": 0} if may else {"on_hand": 4, "reserved": 2}
    assert {k: sku(api)[k] for k in expected} == expected
