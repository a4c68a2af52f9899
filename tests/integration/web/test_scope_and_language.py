"""A store manager sees only their store; the console speaks Chinese by default and English on request."""

from __future__ import annotations

import re

import httpx

from conftest import Backend
from support.core_api import seed
from support.server import LiveServer

from .conftest import browser, csrf_of, make_user, signed_in, try_sign_in


def _two_stores(api: httpx.Client) -> tuple[int, int]:
    seed(api, stock=5)
    for code in ("S1", "S2"):
        assert api.post("/api/v1/locations", json={"code": code, "name": f"Store {code}", "kind": "store"}
                        ).status_code == 201
    for code in ("pos1", "pos2"):
        assert api.post("/api/v1/channels", json={"code": code, "kind": "manual"}).status_code == 201
    api.post("/api/v1/moves", json={"sku": "A", "location": "S1", "kind": "receipt", "qty": 4})
    api.post("/api/v1/moves", json={"sku": "A", "location": "S2", "kind": "receipt", "qty": 9})
    own = api.post("/api/v1/orders", json={"channel": "pos1", "external_id": "own-1",
                                           "lines": [{"sku": "A", "qty": 1}]})
    other = api.post("/api/v1/orders", json={"channel": "pos2", "external_id": "other-1",
                                             "lines": [{"sku": "A", "qty": 50}]})
    return int(own.json()["id"]), int(other.json()["id"])


def test_a_store_manager_sees_and_changes_only_their_store(api: httpx.Client, clean: Backend,
                                                           server: LiveServer) -> None:
    own, other = _two_stores(api)
    make_user(clean, "s1boss", "operator", locations=["S1"], channels=["pos1"])
    with signed_in(server, "s1boss", lang="en") as client:
        page = client.get("/skus/A").text
        rows = re.findall(r'<tr><th scope="row">([A-Z0-9]+)</th>', page)
        assert rows == ["S1"]
        assert re.search(r'data-figure="on_hand">4<', page)
        orders = client.get("/orders").text
        assert "own-1" in orders and "other-1" not in orders
        assert client.get(f"/orders/{other}").status_code == 403
        assert client.get(f"/orders/{own}").status_code == 200
        dashboard = client.get("/").text
        assert "other-1" not in dashboard and "pos2" not in dashboard
        token = csrf_of(client, "/skus/A")
        refused = client.post("/skus/A/moves", data={"csrf": token, "kind": "adjustment", "location": "S2",
                                                     "qty": "-1", "reason": "x"})
        assert refused.status_code == 403
    figures = api.get("/api/v1/skus/A").json()["locations"]
    assert {f["location"]: f["on_hand"] for f in figures}["S2"] == 9


def test_the_console_speaks_chinese_unless_asked_otherwise(api: httpx.Client, clean: Backend,
                                                           server: LiveServer) -> None:
    seed(api, stock=5)
    make_user(clean, "ops")
    with signed_in(server, "ops") as client:
        zh = client.get("/skus/A")
        assert '<html lang="zh-CN">' in zh.text and "实物库存" in zh.text and "可售" in zh.text
        en = client.get("/skus/A?lang=en")
        assert '<html lang="en">' in en.text
        assert all(label in en.text for label in ("On hand", "Reserved", "Available"))
        assert "omnistock_lang=en" in en.headers["set-cookie"]
        assert '<html lang="en">' in client.get("/orders").text  # remembered
        assert '<html lang="zh-CN">' in client.get("/orders?lang=zh-CN").text
        assert '<html lang="zh-CN">' in client.get("/").text


def test_the_first_visit_follows_the_browser_language(clean: Backend, server: LiveServer) -> None:
    make_user(clean, "ops")
    with browser(server, lang="en-GB,en;q=0.9") as client:
        assert "Sign in" in client.get("/login").text
        assert try_sign_in(client, "ops").status_code == 303
        assert "Dashboard" in client.get("/").text
    with browser(server, lang="zh-CN,zh;q=0.9") as client:
        assert "登录" in client.get("/login").text
