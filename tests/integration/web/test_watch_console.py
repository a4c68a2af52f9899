"""Alerts, reconciliation, the weekly report and the trace in the console: acknowledge an alert, run a
reconciliation of a simulated Taobao shop that heals its drift, read the weekly report (in both languages, and as
a store manager), and read a SKU's trace."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import httpx
import pytest

from conftest import Backend
from omnistock.channels.simulator import SimListing, SimRegistry, Simulator
from omnistock.store.types import utcnow
from omnistock.watch import alerts
from omnistock.watch.report_figures import Week
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
        while 'data-run-status="running"' in page and time.monotonic() < deadline:
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


def _held_on_two_channels(api: httpx.Client) -> str:
    """Held orders this week: one on pos1, two on pos2. Returns this week's label."""
    seed(api, stock=2)
    api.post("/api/v1/locations", json={"code": "S1", "name": "Store 1", "kind": "store"})
    for code in ("pos1", "pos2"):
        assert api.post("/api/v1/channels", json={"code": code, "kind": "manual"}).status_code == 201
    for channel, external_id in (("pos1", "p1-1"), ("pos2", "p2-1"), ("pos2", "p2-2")):
        held = api.post("/api/v1/orders", json={"channel": channel, "external_id": external_id,
                                                "lines": [{"sku": "A", "qty": 50}]})
        assert held.json()["status"] == "held", held.text
    zone = ZoneInfo("Asia/Shanghai")
    return Week.of(utcnow().astimezone(zone).date(), zone).label


def _figure(page: str, label: str) -> list[int]:
    """This week's value of a figure in every column of the weekly report."""
    row = re.search(rf'<th scope="row">{re.escape(label)}</th>(.*?)</tr>', page, re.S)
    assert row, page
    return [int(n) for n in re.findall(r'<td class="num">(\d+)', row[1])]


def test_the_weekly_report_is_a_console_page_in_both_languages(api: httpx.Client, clean: Backend,
                                                               server: LiveServer) -> None:
    week = _held_on_two_channels(api)
    with clean.db.transaction() as session:  # an alert of no channel: counted once, in the overall column
        alerts.raise_alert(session, alerts.Condition(kind="low_stock", key="low_stock:sku:1", severity="warning",
                                                     message="A is low", sku_id=1))
    make_user(clean, "ops", "viewer")
    with signed_in(server, "ops", lang="en") as client:
        en = client.get(f"/reports/weekly?week={week}").text
        zh = client.get(f"/reports/weekly?week={week}&lang=zh-CN").text
        bad = client.get("/reports/weekly?week=last-tuesday")
        last = client.get("/reports/weekly").text
    assert f"Weekly sync report {week}" in en and 'aria-label="Main"' in en and 'hreflang="zh-CN"' in en
    assert re.search(r'<th scope="col" class="num">All channels</th><th scope="col" class="num">pos1</th>'
                     r'<th scope="col" class="num">pos2</th>', en)
    assert _figure(en, "Orders held") == [3, 1, 2]
    assert _figure(en, "Alerts raised") == [4, 1, 2]  # an oversell alert per held order, and the stock-wide one
    assert f"同步周报 {week}" in zh and _figure(zh, "挂起的订单") == [3, 1, 2] and "全部渠道" in zh
    assert bad.status_code == 422 and "week must look like" in bad.text and "<html" in bad.text
    assert "同步周报" in last  # the last complete week by default, in the language chosen last


def test_a_store_manager_reads_the_weekly_report_of_their_channel_only(api: httpx.Client, clean: Backend,
                                                                       server: LiveServer) -> None:
    week = _held_on_two_channels(api)
    make_user(clean, "s1boss", "operator", locations=["S1"], channels=["pos1"])
    make_user(clean, "s1only", "operator", locations=["S1"])
    with signed_in(server, "s1boss", lang="en") as client:
        page = client.get(f"/reports/weekly?week={week}").text
    assert _figure(page, "Orders held") == [1, 1]  # overall counts only pos1 too
    assert "pos2" not in page and "Only the channels you are responsible for are counted" in page
    with signed_in(server, "s1only") as client:
        store = client.get(f"/reports/weekly?week={week}").text
    assert _figure(store, "挂起的订单") == [0] and "pos1" not in store and "本周您的渠道没有任何活动" in store
