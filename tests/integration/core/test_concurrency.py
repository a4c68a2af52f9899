"""No oversell under concurrency: real clients racing over HTTP for the last units."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx

from support.core_api import seed, sku

CLIENTS = 64


def race(base_url: str, token: str, make_body, n: int = CLIENTS) -> list[httpx.Response]:  # type: ignore[no-untyped-def]
    """n clients, each with its own connection, released at the same moment."""
    gate = threading.Barrier(n)

    def one(i: int) -> httpx.Response:
        with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=120) as c:
            gate.wait()
            return c.post("/api/v1/orders", json=make_body(i))
    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(one, range(n)))


def test_64_clients_racing_for_the_last_10_units_reserve_exactly_10(api: httpx.Client) -> None:
    seed(api, stock=10)
    token = api.headers["Authorization"].split()[1]
    responses = race(str(api.base_url), token,
                     lambda i: {"channel": "m", "external_id": f"race-{i}", "lines": [{"sku": "A", "qty": 1}]})
    assert all(r.status_code == 201 for r in responses), [r.text for r in responses if r.status_code != 201]
    statuses = [r.json()["status"] for r in responses]
    assert statuses.count("reserved") == 10 and statuses.count("held") == CLIENTS - 10
    figures = sku(api)
    assert (figures["on_hand"], figures["reserved"], figures["available"]) == (10, 10, 0)
    assert api.get("/api/v1/orders", params={"status": "held"}).json()["total"] == CLIENTS - 10


def test_the_same_order_delivered_64_times_at_once_reserves_once(api: httpx.Client) -> None:
    seed(api, stock=10)
    token = api.headers["Authorization"].split()[1]
    responses = race(str(api.base_url), token,
                     lambda i: {"channel": "m", "external_id": "dup", "lines": [{"sku": "A", "qty": 3}]})
    assert sorted({r.status_code for r in responses}) in ([200, 201], [201])
    assert [r.status_code for r in responses].count(201) == 1
    assert len({r.json()["id"] for r in responses}) == 1
    assert sku(api)["reserved"] == 3


def test_concurrent_bundles_and_components_never_oversell_a_shared_component(api: httpx.Client) -> None:
    seed(api, stock=12)
    api.post("/api/v1/skus", json={"code": "KIT", "name": "Kit", "components": [{"sku": "A", "qty": 3}]})
    token = api.headers["Authorization"].split()[1]
    responses = race(str(api.base_url), token, lambda i: {
        "channel": "m", "external_id": f"mix-{i}",
        "lines": [{"sku": "KIT" if i % 2 else "A", "qty": 1}]}, n=32)
    reserved_units = sum(3 if r.json()["lines"][0]["sku"] == "KIT" else 1
                         for r in responses if r.json()["status"] == "reserved")
    assert reserved_units <= 12
    assert sku(api)["reserved"] == reserved_units
