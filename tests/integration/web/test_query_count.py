"""No console page runs a query per row: the SQL count of each page stays small and does not grow with the
number of SKUs or orders (counted with an SQLAlchemy before_cursor_execute listener)."""

from __future__ import annotations

import httpx

from conftest import Backend
from support.core_api import seed
from support.server import LiveServer

from .conftest import counted_queries, make_user, signed_in


def _catalogue(api: httpx.Client, skus: int) -> None:
    seed(api, stock=20)
    api.post("/api/v1/locations", json={"code": "S1", "name": "Store", "kind": "store"})
    for i in range(skus):
        code = f"K{i:03d}"
        assert api.post("/api/v1/skus", json={"code": code, "name": f"Kit {i}", "safety_stock": i % 3,
                                              "components": [{"sku": "A", "qty": 1 + i % 2}] if i % 5 == 0 else []}
                        ).status_code == 201
        if i % 5:
            api.post("/api/v1/moves", json={"sku": code, "location": "WH" if i % 2 else "S1", "kind": "receipt",
                                            "qty": 1 + i})
    for i in range(12):
        api.post("/api/v1/orders", json={"channel": "m", "external_id": f"o{i}", "lines": [{"sku": "A", "qty": 3}]})


def _queries(backend: Backend, client: httpx.Client, path: str) -> int:
    with counted_queries(backend) as seen:
        response = client.get(path)
    assert response.status_code == 200, response.text
    return len(seen)


def test_the_sku_list_with_50_skus_makes_at_most_10_queries(api: httpx.Client, clean: Backend,
                                                            server: LiveServer) -> None:
    _catalogue(api, 60)
    make_user(clean, "ops")
    with signed_in(server, "ops") as client:
        page = client.get("/skus")
        assert page.text.count('<th scope="row"><a href="/skus/') == 50
        assert _queries(clean, client, "/skus") <= 10
        assert _queries(clean, client, "/skus?low=1") <= 10
        assert _queries(clean, client, "/skus?page=2&q=K") <= 10


def test_page_queries_do_not_grow_with_the_data(api: httpx.Client, clean: Backend, server: LiveServer) -> None:
    _catalogue(api, 5)
    make_user(clean, "ops")
    with signed_in(server, "ops") as client:
        small = {path: _queries(clean, client, path) for path in ("/", "/skus/A", "/orders", "/orders?status=held")}
        _catalogue_more(api)
        large = {path: _queries(clean, client, path) for path in small}
    dashboard = large.pop("/") - small.pop("/")
    assert large == small and max(small.values()) <= 10
    # The dashboard reads each channel's health with sync.health.channel_health (about ten small queries per
    # channel); everything else on it is a fixed number of set-based queries.
    assert dashboard <= 10


def test_the_dashboard_costs_a_fixed_number_of_queries_plus_each_channels_health(
        api: httpx.Client, clean: Backend, server: LiveServer) -> None:
    _catalogue(api, 5)
    make_user(clean, "ops")
    with signed_in(server, "ops") as client:
        one = _queries(clean, client, "/")
        for code in ("c2", "c3", "c4"):
            api.post("/api/v1/channels", json={"code": code, "kind": "manual"})
        four = _queries(clean, client, "/")
    per_channel = (four - one) / 3
    # fixed part: session, channels, last pushes, alerts (2), held orders (3), low stock (3), today (2), chart (3)
    assert per_channel <= 10 and one - per_channel <= 18


def _catalogue_more(api: httpx.Client) -> None:
    api.post("/api/v1/channels", json={"code": "second", "kind": "manual"})
    for i in range(40):
        api.post("/api/v1/skus", json={"code": f"M{i:03d}", "name": f"More {i}"})
        api.post("/api/v1/orders", json={"channel": "m", "external_id": f"more{i}", "lines": [{"sku": "A", "qty": 1}]})
