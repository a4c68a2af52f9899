"""No console page runs a query per row: the SQL count of each page stays small and does not grow with the
number of SKUs or orders (counted with an SQLAlchemy before_cursor_execute listener)."""

from __future__ import annotations

import httpx

from conftest import Backend
from omnistock.store.types import utcnow
from omnistock.watch.report_figures import Week
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
    dashboard = small.pop("/")
    assert large.pop("/") == dashboard and dashboard <= 22
    assert large == small and max(small.values()) <= 10


def test_the_dashboard_costs_the_same_for_one_channel_or_many(api: httpx.Client, clean: Backend,
                                                              server: LiveServer) -> None:
    _catalogue(api, 5)
    make_user(clean, "ops")
    with signed_in(server, "ops") as client:
        one = _queries(clean, client, "/")
        for code in ("c2", "c3", "c4"):
            api.post("/api/v1/channels", json={"code": code, "kind": "manual"})
            api.post(f"/api/v1/channels/{code}/listings", json={"sku": "A", "external_id": f"{code}-A"})
        four = _queries(clean, client, "/")
        parts = {path: _queries(clean, client, path) for path in ("/parts/sync", "/channels")}
        api.post("/api/v1/channels", json={"code": "c5", "kind": "manual"})
        assert {path: _queries(clean, client, path) for path in parts} == parts
    # session, channels with their breakers, listings, calls, latencies, last errors (the sync table); alerts (2)
    # and their SKUs and channels (2); held orders (3); low stock (4); today (2); the chart (3)
    assert four == one and one <= 22
    assert parts["/parts/sync"] <= 6


def test_channel_care_report_and_incident_pages_do_not_grow_with_the_data(api: httpx.Client, clean: Backend,
                                                                           server: LiveServer) -> None:
    _catalogue(api, 5)
    incident = api.post("/api/v1/incidents", json={"title": "JD showed stock we did not have"}).json()["id"]
    _attach_every_case(api, incident)
    make_user(clean, "ops")
    week = Week.of(utcnow().astimezone(clean.settings.zone).date(), clean.settings.zone).label
    paths = ("/channels/m", "/channels/m/parts/health", "/care", "/care/parts/queue", "/care/incidents",
             f"/care/incidents/{incident}", "/reports", f"/reports/weekly?week={week}")
    with signed_in(server, "ops") as client:
        small = {path: _queries(clean, client, path) for path in paths}
        _catalogue_more(api)
        for i in range(30):
            api.post("/api/v1/channels/m/listings", json={"sku": f"M{i:03d}", "external_id": f"item-{i}"})
        _attach_every_case(api, incident)
        large = {path: _queries(clean, client, path) for path in paths}
    assert api.get("/api/v1/cases").json()["total"] > 20  # the held orders opened cases
    assert large == small
    weekly = small.pop(f"/reports/weekly?week={week}")  # two weeks of grouped figures (and care's table looked up)
    assert max(small.values()) <= 16 and weekly <= 20, (small, weekly)


def _attach_every_case(api: httpx.Client, incident: int) -> None:
    ids = [c["id"] for c in api.get("/api/v1/cases", params={"limit": 200}).json()["items"]]
    assert api.post(f"/api/v1/incidents/{incident}/cases", json={"case_ids": ids}).status_code == 200


def _catalogue_more(api: httpx.Client) -> None:
    api.post("/api/v1/channels", json={"code": "second", "kind": "manual"})
    for i in range(40):
        api.post("/api/v1/skus", json={"code": f"M{i:03d}", "name": f"More {i}"})
        api.post("/api/v1/orders", json={"channel": "m", "external_id": f"more{i}", "lines": [{"sku": "A", "qty": 1}]})


def test_catalogue_and_onboarding_pages_do_not_grow_with_the_data(api: httpx.Client, clean: Backend,
                                                                  server: LiveServer) -> None:
    _catalogue(api, 5)
    make_user(clean, "ops")
    paths = ("/catalogue", "/onboarding", "/onboarding/imports/catalogue", "/onboarding/imports/stock",
             "/onboarding/imports/listings", "/onboarding/backups", "/onboarding/duplicates", "/onboarding/repairs",
             "/onboarding/rollout", "/onboarding/rollout/m")
    with signed_in(server, "ops") as client:
        # The first read of a channel's rollout report makes its sync state row (sync.rollout): count from then on.
        assert client.get("/onboarding/rollout/m").status_code == 200
        small = {path: _queries(clean, client, path) for path in paths}
        _catalogue_more(api)
        for i in range(30):
            api.post("/api/v1/skus", json={"code": f"DUP{i:03d}", "name": f"More {i}"})  # same names: duplicates
            api.post("/api/v1/locations", json={"code": f"L{i:02d}", "name": f"Store {i}", "kind": "store"})
        large = {path: _queries(clean, client, path) for path in paths}
    assert api.get("/api/v1/catalogue/duplicates").json()["total"] >= 30
    assert large == small and max(small.values()) <= 6, small
