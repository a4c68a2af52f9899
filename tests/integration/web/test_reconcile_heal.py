"""Healing the differences a person picks from a reconciliation run, over the API and from the console, against a
simulated JD shop whose stock two people edited by hand: only the picked listing is pushed again."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from conftest import Backend, client_for, make_token
from omnistock.channels.simulator import SimListing, SimRegistry, Simulator
from omnistock.sync.worker import Worker
from support.core_api import seed
from support.platforms import Connected, connect, list_item, wait_until
from support.server import LiveServer
from support.watch_api import reconcile
from support.workers import sync_worker

from .conftest import csrf_of, make_user, signed_in


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(SimRegistry(seed=21)) as simulator:
        yield simulator


@pytest.fixture
def worker(clean: Backend) -> Iterator[Worker]:
    """The sync worker that pushes what is marked (and confirms heals), in this process."""
    with sync_worker(clean) as running:
        yield running


def _two_edited_by_hand(api: httpx.Client, sim: Simulator) -> tuple[Connected, str, str, dict[str, int]]:
    """A JD shop showing 3 and 4 where omnistock pushed 10, and an item with stock that maps to no SKU;
    a run in alert mode found them. Returns the shop, the two items and the difference id of each item."""
    seed(api, stock=10)
    jd = connect(api, sim, "jd")
    first, second = list_item(api, jd, "A", 1), list_item(api, jd, "A", 2)
    wait_until(lambda: jd.shows(first) == 10 and jd.shows(second) == 10, what="first push")
    jd.shop.set_quantity(first, 3, source="manual")
    jd.shop.set_quantity(second, 4, source="manual")
    jd.shop.upsert_listing(SimListing("7999", 6, external_sku="OLD-1"))
    run = reconcile(api, jd.code)
    ids = {d["external_id"]: d["id"] for d in run["differences"]}
    assert {d["external_id"]: (d["kind"], d["status"]) for d in run["differences"]} == {
        first: ("drift", "open"), second: ("drift", "open"), "7999": ("unmapped", "open")}
    return jd, first, second, {**ids, "run": run["id"]}


def _statuses(api: httpx.Client, run_id: int) -> dict[str, tuple[str, str]]:
    return {d["external_id"]: (d["status"], d["action"])
            for d in api.get(f"/api/v1/reconciliations/{run_id}").json()["differences"]}


def test_the_api_heals_only_the_picked_differences(api: httpx.Client, clean: Backend, server: LiveServer,
                                                   sim: Simulator, worker: Worker) -> None:
    jd, first, second, ids = _two_edited_by_hand(api, sim)
    run_id = ids["run"]
    url = f"/api/v1/reconciliations/{run_id}/heal"
    before = _statuses(api, run_id)

    empty = api.post(url, json={"differences": []})
    unknown = api.post(url, json={"differences": [ids[first], 999_999]})
    unmapped = api.post(url, json={"differences": [ids["7999"]]})
    assert (empty.status_code, unknown.status_code, unmapped.status_code) == (422, 422, 422)
    assert unknown.json()["field"] == "differences" and "999999" in unknown.json()["detail"]
    assert "only open drift" in unmapped.json()["detail"]
    with client_for(server, make_token(clean, "viewer")) as viewer:
        assert viewer.post(url, json={"differences": [ids[first]]}).status_code == 403
    assert api.post("/api/v1/reconciliations/999999/heal", json={"differences": [1]}).status_code == 404
    assert _statuses(api, run_id) == before  # nothing was marked by any refused request

    healed = api.post(url, json={"differences": [ids[first]]})
    assert healed.status_code == 202, healed.text
    assert healed.json() == {"id": run_id, "healing": [ids[first]]}
    assert _statuses(api, run_id)[second] == ("open", "alert")
    wait_until(lambda: jd.shows(first) == 10, what="the picked listing pushed again")
    assert jd.shows(second) == 4  # the other difference was left as it was
    wait_until(lambda: _statuses(api, run_id)[first] == ("healed", "heal"), timeout=60,
               what="the heal confirmed once the push went through")
    again = api.post(url, json={"differences": [ids[first]]})
    assert again.status_code == 422 and "healed" in again.json()["detail"]
    audit = api.get("/api/v1/audit", params={"actor": "token:test-admin"}).json()["items"]
    assert [e["after"]["differences"] for e in audit if e["action"] == "reconciliation.heal"] == [[ids[first]]]


def test_a_running_reconciliation_cannot_be_healed_yet(api: httpx.Client, server: LiveServer,
                                                       sim: Simulator) -> None:
    seed(api, stock=5)
    jd = connect(api, sim, "jd")
    list_item(api, jd, "A", 3)
    jd.shop.faults.latency_ms = (1500, 1500)  # a slow platform keeps the run reading
    try:
        started = api.post("/api/v1/reconciliations", json={"channel": jd.code}).json()
        early = api.post(f"/api/v1/reconciliations/{started['id']}/heal", json={"differences": [1]})
    finally:
        jd.shop.faults.latency_ms = (0, 0)
    assert early.status_code == 409 and "running" in early.json()["detail"]
    wait_until(lambda: api.get(f"/api/v1/reconciliations/{started['id']}").json()["status"] != "running",
               timeout=60, what="the run finishing")


def test_an_operator_ticks_one_difference_and_heals_it_from_the_console(
        api: httpx.Client, clean: Backend, server: LiveServer, sim: Simulator, worker: Worker) -> None:
    jd, first, second, ids = _two_edited_by_hand(api, sim)
    page_url = f"/reconciliations/{ids['run']}"
    make_user(clean, "ops", "operator")
    make_user(clean, "look", "viewer")
    with signed_in(server, "look") as viewer:
        page = viewer.get(page_url).text
        assert 'name="difference"' not in page and "/heal" not in page
        forged = viewer.post(f"{page_url}/heal", data={"csrf": csrf_of(viewer, page_url),
                                                       "difference": str(ids[first])})
        assert forged.status_code == 403
    with signed_in(server, "ops") as client:
        page = client.get(page_url).text
        # zh-CN: the run's and the differences' codes are shown as words
        assert "已完成" in page and "漂移" in page and "未映射" in page and "待处理" in page
        reports = client.get("/reports").text  # the run's alerts, said from their detail
        assert f"{jd.code}：A 的 2 个商品库存与应显示的不一致" in reports
        assert f"{jd.code}：1 个有库存的平台商品没有对应的 SKU（7999）" in reports
        boxes = re.findall(r'name="difference" value="(\d+)"', page)
        assert sorted(map(int, boxes)) == sorted([ids[first], ids[second]])  # unmapped items cannot be pushed
        token = csrf_of(client, page_url)
        nothing = client.post(f"{page_url}/heal", data={"csrf": token})
        assert nothing.status_code == 422 and "请至少勾选一项差异" in nothing.text
        done = client.post(f"{page_url}/heal", data={"csrf": token, "difference": str(ids[second])})
        assert done.status_code == 303 and done.headers["location"] == f"{page_url}?done=heal"
        after = client.get(done.headers["location"]).text
        assert "正在重新推送" in after
        part = client.get(f"{page_url}/part", headers={"HX-Request": "true"})
        assert part.status_code == 286  # a finished run's part tells htmx to stop polling
    wait_until(lambda: jd.shows(second) == 10, what="the ticked listing pushed again")
    assert jd.shows(first) == 3
    assert _statuses(api, ids["run"])[first] == ("open", "alert")
