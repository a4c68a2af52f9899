"""A channel's health (`GET /api/v1/channels/{code}/health`) and the same figures for Prometheus (`/metrics`),
after real pushes to a simulated platform, one of which failed."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select

from conftest import Backend, client_for, make_token
from omnistock.sync.tables import PlatformCall
from omnistock.sync.worker import Worker
from support.core_api import seed
from support.platforms import connect, list_item, wait_until
from support.server import LiveServer

HEALTH_KEYS = {"backlog", "oldest_pending_s", "calls_5m", "errors_5m", "calls_60m", "errors_60m", "latency_p50_ms",
               "latency_p95_ms", "breaker", "last_error"}


def _gauges(text: str, channel: str) -> dict[str, float]:
    found = re.findall(rf'^omnistock_sync_(\w+){{channel="{re.escape(channel)}"}} (\S+)$', text, re.M)
    return {name: float(value) for name, value in found}


def test_health_and_metrics_count_calls_errors_and_latency(api: httpx.Client, sim, server: LiveServer,  # type: ignore[no-untyped-def]
                                                          clean: Backend, worker: Worker) -> None:
    seed(api, stock=5)
    jd = connect(api, sim, "jd")
    jd.shop.faults.latency_ms = (40, 60)
    item = list_item(api, jd, "A", 1)
    wait_until(lambda: jd.shows(item) == 5, what="first push")
    jd.shop.faults.error_rate = 1.0  # the next push fails
    api.post("/api/v1/moves", json={"sku": "A", "location": "WH", "kind": "receipt", "qty": 1})
    wait_until(lambda: api.get(f"/api/v1/channels/{jd.code}/health").json()["errors_5m"] >= 1, what="a failure")
    jd.shop.faults.error_rate = 0.0
    wait_until(lambda: jd.shows(item) == 6, timeout=60, what="the platform shows 6")

    def settled() -> dict:  # type: ignore[type-arg]
        return api.get(f"/api/v1/channels/{jd.code}/health").json()  # type: ignore[no-any-return]
    wait_until(lambda: settled()["backlog"] == 0 and settled()["calls_5m"] >= 3, timeout=60,
               what="the retry recorded")  # a platform may apply a change and still answer an error
    health = settled()
    assert HEALTH_KEYS <= set(health)
    assert health["backlog"] == 0 and health["oldest_pending_s"] == 0
    assert health["calls_5m"] >= 3 and health["calls_60m"] == health["calls_5m"]  # first, failed, retried
    assert health["errors_5m"] >= 1 and health["errors_60m"] == health["errors_5m"]
    assert 40 <= health["latency_p50_ms"] <= health["latency_p95_ms"]
    assert health["breaker"] == "closed"
    assert health["last_error"]["message"] and health["last_error"]["at"].endswith("+08:00")

    with clean.db.reading() as s:  # every call keeps what the platform answered
        answers = [(ok, response) for ok, response in s.execute(
            select(PlatformCall.ok, PlatformCall.response).where(PlatformCall.op == "set_stock")
            .order_by(PlatformCall.id))]
    assert all(response and response.startswith("HTTP ") for _, response in answers), answers
    assert any(not ok and "unavailable" in response for ok, response in answers), answers  # JD: an error in a 200
    assert answers[-1][0] and answers[-1][1].startswith("HTTP 200")

    anonymous = httpx.get(f"{server.url}/metrics")
    assert anonymous.status_code == 401  # like every route but /healthz
    with client_for(server, make_token(clean, "viewer")) as viewer:
        metrics = viewer.get("/metrics")
    assert metrics.status_code == 200 and metrics.headers["content-type"].startswith("text/plain")
    gauges = _gauges(metrics.text, jd.code)
    for name in ("backlog", "calls_5m", "errors_5m", "calls_60m", "errors_60m", "latency_p50_ms", "latency_p95_ms"):
        assert gauges[name] == health[name], name
    assert gauges["breaker_open"] == 0
    assert re.search(r"^omnistock_orders_held 0$", metrics.text, re.M)
