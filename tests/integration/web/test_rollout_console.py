"""A channel's rollout in the console, against a simulated JD shop on loopback (SQLite and PostgreSQL): switching
shadow / pilot / live is confirmed first and audited, the comparison reads the platform, and the pilot report's
differences are explained before going live."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from conftest import Backend
from omnistock.channels.simulator import SimRegistry, Simulator
from support.core_api import seed
from support.platforms import connect, list_item
from support.server import LiveServer

from .conftest import csrf_of, make_user, signed_in


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(SimRegistry(seed=11)) as simulator:
        yield simulator


def _mode(api: httpx.Client, code: str) -> tuple[str, list[str] | None]:
    report = api.get(f"/api/v1/channels/{code}/rollout/report").json()
    return report["mode"], report["pilot_skus"]


def test_switching_modes_is_confirmed_audited_and_the_pilot_report_is_explained(
        api: httpx.Client, clean: Backend, server: LiveServer, sim: Simulator) -> None:
    seed(api, stock=10)
    jd = connect(api, sim, "jd")
    list_item(api, jd, "A", 1, shown=3)  # the platform shows 3; omnistock would show 10
    make_user(clean, "boss")
    with signed_in(server, "boss", lang="en") as client:
        listed = client.get("/onboarding/rollout").text
        assert f'href="/onboarding/rollout/{jd.code}"' in listed and "Live" in listed
        token = csrf_of(client, f"/onboarding/rollout/{jd.code}")
        path = f"/onboarding/rollout/{jd.code}"
        reasonless = client.post(f"{path}/mode", data={"csrf": token, "mode": "shadow", "reason": ""})
        assert reasonless.status_code == 422 and re.search(r'id="mode-reason-error"[^>]*>Required\.', reasonless.text)
        asked = client.post(f"{path}/mode", data={"csrf": token, "mode": "shadow", "reason": "compare first"})
        assert "Switch to shadow? Nothing is pushed" in asked.text and _mode(api, jd.code)[0] == "live"
        done = client.post(f"{path}/mode", data={"csrf": token, "mode": "shadow", "reason": "compare first",
                                                 "confirmed": "1"})
        assert done.status_code == 303 and _mode(api, jd.code) == ("shadow", None)
        unknown = client.post(f"{path}/mode", data={"csrf": token, "mode": "pilot", "pilot_skus": "A, NOPE",
                                                    "reason": "two SKUs", "confirmed": "1"})
        assert unknown.status_code == 404
        assert re.search(r'id="mode-pilot_skus-error"[^>]*>[^<]*NOPE', unknown.text)

        compared = client.post(f"{path}/compare", data={"csrf": token})
        assert compared.status_code == 303 and "seen=1" in compared.headers["location"]
        report = client.get(compared.headers["location"]).text
        assert "Compared with the platform: 1 listing(s) differ." in report and "1 difference unexplained" in report
        row = re.search(r'<th scope="row">A</th><td>[^<]+</td><td class="num">1</td><td class="num">1</td>'
                        r'\s*<td class="num">10</td><td class="num">3</td>', report)
        assert row, report
        ids = re.findall(r'name="difference" value="(\d+)"', report)
        explained = client.post(f"{path}/explain", data={"csrf": token, "sku": "A", "difference": ids,
                                                         "reason": "the old ERP pushed 3 by hand"})
        assert explained.status_code == 303
        assert "Ready for live" in client.get(path).text

        pilot = client.post(f"{path}/mode", data={"csrf": token, "mode": "pilot", "pilot_skus": "A",
                                                  "reason": "one SKU first", "confirmed": "1"})
        assert pilot.status_code == 303 and _mode(api, jd.code) == ("pilot", ["A"])
        live = client.post(f"{path}/mode", data={"csrf": token, "mode": "live", "reason": "all explained",
                                                 "confirmed": "1"})
        assert live.status_code == 303 and _mode(api, jd.code)[0] == "live"
        forged = client.post(f"{path}/mode", data={"csrf": "forged", "mode": "shadow", "reason": "x",
                                                   "confirmed": "1"})
        assert forged.status_code == 403 and _mode(api, jd.code)[0] == "live"
    report_api = api.get(f"/api/v1/channels/{jd.code}/rollout/report").json()
    assert report_api["ready_for_live"] and report_api["items"][0]["sku"] == "A"
    audit = api.get("/api/v1/audit", params={"actor": "user:boss"}).json()["items"]
    modes = [e["after"]["mode"] for e in audit if e["action"] == "channel.mode"]
    assert sorted(modes) == ["live", "pilot", "shadow"]
    assert any(e["action"] == "rollout.explain" for e in audit)


def test_an_operator_reads_the_rollout_but_cannot_switch_it(api: httpx.Client, clean: Backend,
                                                            server: LiveServer) -> None:
    seed(api)
    make_user(clean, "li", "operator")
    with signed_in(server, "li", lang="en") as client:
        page = client.get("/onboarding/rollout/m")
        assert page.status_code == 200 and 'action="/onboarding/rollout/m/mode"' not in page.text
        token = csrf_of(client, "/onboarding/rollout/m")
        refused = client.post("/onboarding/rollout/m/mode", data={"csrf": token, "mode": "shadow", "reason": "x",
                                                                  "confirmed": "1"})
        assert refused.status_code == 403
        assert client.post("/onboarding/rollout/m/compare", data={"csrf": token}).status_code == 403
    assert _mode(api, "m")[0] == "live"
