"""Alerts, reconciliation and the trace in the console: acknowledge an alert, run a reconciliation of a
simulated Taobao shop that heals its drift, and read a SKU's trace."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import httpx
import pytest

from conftest import Backend
from omnistock.channels.simulator import SimListing, SimRegistry, Simulator
from omnistock.watch import alerts
from support.core_api import seed
from support.server import LiveServer

from .conftest import csrf_of, make_user, signed_in

TAOBAO = {"app_key": "tb-app", "app_secret": "tb-secret", "session": "tb-session"}


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(SimRegistry(seed=11)) as simulator:
        yield simulator


def test_an_operator_acknowledges_an_alert(api: httpx.Client, clean: Backend, server: LiveServer) -> None:
    seed(api, stock=1)
    with clean.db.transaction() as session:
        alerts.raise_alert(session, alerts.Condition(kind="drift", key="drift:test", severity="critical",
                                                     message="JD shows 40 of A, it should show 1"))
    make_user(clean, "ops", "operator")
    make_user(clean, "look", "viewer")
    with signed_in(server, "look", lang="en") as viewer:
        page = viewer.get("/").text
        assert "JD shows 40 of A" in page and "Critical" in page
        assert "/ack" not in viewer.get("/reports").text
    with signed_in(server, "ops", lang="en") as client:
        alert_id = re.search(r'action="/alerts/(\d+)/ack"', client.get("/reports").text).group(1)  # type: ignore[union-attr]
        done = client.post(f"/alerts/{alert_id}/ack", data={"csrf": csrf_of(client, "/reports")})
        assert done.status_code == 303
        assert "No alert." in client.get("/reports").text
        assert "JD shows 40 of A" in client.get("/reports?alerts=acknowledged").text
    assert api.get(f"/api/v1/alerts/{alert_id}").json()["acknowledged_by"] == "user:ops"


def test_a_reconciliation_run_from_the_console_heals_the_drift(api: httpx.Client, clean: Backend,
                                                               server: LiveServer, sim: Simulator) -> None:
    seed(api, stock=6)
    shop = sim.registry.add_shop(f"tb-{time.monotonic_ns()}", "taobao", TAOBAO)
    shop.upsert_listing(SimListing("1001", 40, external_sku="A"))
    assert api.post("/api/v1/channels", json={"code": "tb", "kind": "taobao", "settings": {
        **TAOBAO, "gateway_url": f"{sim.url}/taobao/{shop.code}/router/rest"}}).status_code == 201
    api.post("/api/v1/channels/tb/listings", json={"sku": "A", "external_id": "1001"})
    make_user(clean, "ops", "operator")
    with signed_in(server, "ops", lang="en") as client:
        token = csrf_of(client, "/reports")
        refused = client.post("/reconciliations", data={"csrf": token, "channel": "m"})
        assert refused.status_code == 422 and "has no platform to read stock from" in refused.text
        started = client.post("/reconciliations", data={"csrf": token, "channel": "tb", "heal": "1"})
        assert started.status_code == 303
        run_page = started.headers["location"]
        deadline = time.monotonic() + 60
        page = client.get(run_page).text
        while "<strong>running</strong>" in page and time.monotonic() < deadline:
            time.sleep(0.2)
            page = client.get(f"{run_page}/part").text
    assert "1001" in page and re.search(r">\s*40\s*<", page)  # the platform showed 40, not the 6 we have
    run_id = run_page.rsplit("/", 1)[1]
    assert api.get(f"/api/v1/reconciliations/{run_id}").json()["mode"] == "heal"


def test_the_sku_page_loads_its_trace(api: httpx.Client, clean: Backend, server: LiveServer) -> None:
    seed(api, stock=4)
    make_user(clean, "ops", "viewer")
    with signed_in(server, "ops", lang="en") as client:
        assert 'hx-get="/skus/A/trace"' in client.get("/skus/A").text
        fragment = client.get("/skus/A/trace", headers={"HX-Request": "true"})
        page = client.get("/skus/A/trace")
    assert fragment.status_code == 200 and "<html" not in fragment.text and "receipt" in fragment.text
    assert "<html" in page.text and "Trace" in page.text
