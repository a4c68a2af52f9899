"""Shadow and pilot rollout: shadow makes no platform call, pilot pushes only its SKUs, differences are
compared (on request, and on schedule while a channel is in shadow mode), explained through their own channel and
reported before going live."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import select

from conftest import SYSTEM, Backend
from omnistock.channels.simulator import SimListing
from omnistock.config import Settings
from omnistock.domain.stock import MoveKind
from omnistock.services import catalogue, channels, ledger
from omnistock.store import migrate
from omnistock.store.db import Database
from omnistock.store.tables import AuditEntry
from omnistock.store.types import utcnow
from omnistock.sync import rollout
from omnistock.sync.listings import ListingSpec, create_listing
from omnistock.sync.worker import Worker
from omnistock.watch import scheduler
from support.core_api import seed
from support.platforms import CREDENTIALS, ENDPOINT, connect, list_item, wait_until
from support.server import LiveServer

BIN = Path(sys.executable).with_name("omnistock")


def test_shadow_mode_makes_no_platform_call_then_live_pushes(api: httpx.Client, sim, server: LiveServer,  # type: ignore[no-untyped-def]
                                                              worker: Worker) -> None:
    seed(api, stock=10)
    jd = connect(api, sim, "jd")
    r = api.put(f"/api/v1/channels/{jd.code}/mode", json={"mode": "shadow", "reason": "first week: compare only"})
    assert r.status_code == 200, r.text
    item = list_item(api, jd, "A", 1, shown=8)
    api.post("/api/v1/moves", json={"sku": "A", "location": "WH", "kind": "receipt", "qty": 5})
    time.sleep(1.5)  # the worker has had every chance to push
    assert jd.shop.calls["set_stock"] == 0 and jd.shows(item) == 8
    diffs = api.post(f"/api/v1/channels/{jd.code}/rollout/compare").json()["items"]
    assert [(d["sku"], d["expected"], d["platform"]) for d in diffs] == [("A", 15, 8)]
    report = api.get(f"/api/v1/channels/{jd.code}/rollout/report").json()
    assert report["unexplained"] == 1 and not report["ready_for_live"]
    api.post(f"/api/v1/channels/{jd.code}/rollout/differences/{diffs[0]['id']}/explain",
             json={"reason": "platform stock was last set by the old ERP on Monday"})
    assert api.get(f"/api/v1/channels/{jd.code}/rollout/report").json()["ready_for_live"]
    api.put(f"/api/v1/channels/{jd.code}/mode", json={"mode": "live", "reason": "differences explained"})
    wait_until(lambda: jd.shows(item) == 15, what="live pushes the right value")
    audit = api.get("/api/v1/audit").json()["items"]
    assert [a["after"]["mode"] for a in audit if a["action"] == "channel.mode"] == ["live", "shadow"]


def test_pilot_pushes_only_its_skus(api: httpx.Client, sim, server: LiveServer, worker: Worker) -> None:  # type: ignore[no-untyped-def]
    seed(api, stock=10)
    api.post("/api/v1/skus", json={"code": "B", "name": "Beta"})
    api.post("/api/v1/moves", json={"sku": "B", "location": "WH", "kind": "receipt", "qty": 4})
    pdd = connect(api, sim, "pinduoduo")
    api.put(f"/api/v1/channels/{pdd.code}/mode", json={"mode": "pilot", "pilot_skus": ["A"], "reason": "pilot A"})
    a, b = list_item(api, pdd, "A", 1, shown=99), list_item(api, pdd, "B", 2, shown=99)
    wait_until(lambda: pdd.shows(a) == 10, what="the pilot SKU is pushed")
    time.sleep(1.0)
    assert pdd.shows(b) == 99  # outside the pilot: untouched


def test_bad_mode_changes_are_refused(api: httpx.Client, sim) -> None:  # type: ignore[no-untyped-def]
    seed(api)
    jd = connect(api, sim, "jd")
    assert api.put(f"/api/v1/channels/{jd.code}/mode", json={"mode": "pilot", "reason": "x"}).status_code == 422
    assert api.put(f"/api/v1/channels/{jd.code}/mode", json={"mode": "turbo", "reason": "x"}).status_code == 422
    r = api.put(f"/api/v1/channels/{jd.code}/mode", json={"mode": "pilot", "pilot_skus": ["NOPE"], "reason": "x"})
    assert r.status_code == 404 and r.json()["field"] == "pilot_skus[0]"
    assert api.get(f"/api/v1/channels/{jd.code}/rollout/report").json()["mode"] == "live"


def _report(api: httpx.Client, code: str) -> dict:  # type: ignore[type-arg]
    r = api.get(f"/api/v1/channels/{code}/rollout/report")
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_a_shadow_channel_is_compared_on_schedule_and_the_pilot_report_has_what_was_seen(  # type: ignore[no-untyped-def]
        api: httpx.Client, sim, clean: Backend) -> None:
    seed(api, stock=10)
    jd = connect(api, sim, "jd")
    api.put(f"/api/v1/channels/{jd.code}/mode", json={"mode": "shadow", "reason": "compare only"})
    item = list_item(api, jd, "A", 1, shown=8)
    period = timedelta(minutes=clean.settings.rollout_compare_minutes)
    switched = utcnow()
    # The scheduler's job (run here by hand, as a worker's job loop runs it): nothing before a full period of
    # shadow mode, then the difference between what omnistock would show and what the platform shows.
    scheduler.tick(clean.db, clean.settings, lambda: switched + timedelta(seconds=1))
    assert _report(api, jd.code)["items"] == []
    scheduler.tick(clean.db, clean.settings, lambda: switched + period + timedelta(seconds=1))
    report = _report(api, jd.code)
    [seen] = report["items"]
    assert (seen["sku"], seen["external_id"], seen["last_expected"], seen["last_platform"]) == ("A", item, 10, 8)
    assert report["unexplained"] == 1 and not report["ready_for_live"] and report["mode"] == "shadow"
    assert jd.shop.calls["read_stock"] > 0 and jd.shop.calls["set_stock"] == 0  # compared, never pushed
    assert jd.shows(item) == 8
    # A difference that lasts is recorded once; one that changes is recorded again.
    assert rollout.compare_shadowed(clean.db, clean.settings, switched + 2 * period) == 1
    assert _report(api, jd.code)["items"][0]["differences"] == 1
    api.post("/api/v1/moves", json={"sku": "A", "location": "WH", "kind": "receipt", "qty": 2})
    rollout.compare_shadowed(clean.db, clean.settings, switched + 3 * period)
    [seen] = _report(api, jd.code)["items"]
    assert (seen["differences"], seen["unexplained"], seen["last_expected"]) == (2, 2, 12)
    for difference_id in seen["unexplained_ids"]:
        r = api.post(f"/api/v1/channels/{jd.code}/rollout/differences/{difference_id}/explain",
                     json={"reason": "the old ERP set the platform's stock"})
        assert r.status_code == 200, r.text
    assert _report(api, jd.code)["ready_for_live"]


def test_only_channels_in_shadow_mode_are_compared_on_schedule(api: httpx.Client, sim,  # type: ignore[no-untyped-def]
                                                               clean: Backend) -> None:
    seed(api, stock=10)
    jd, pdd, dy = connect(api, sim, "jd"), connect(api, sim, "pinduoduo"), connect(api, sim, "douyin")
    api.put(f"/api/v1/channels/{pdd.code}/mode", json={"mode": "pilot", "pilot_skus": ["A"], "reason": "pilot"})
    api.put(f"/api/v1/channels/{dy.code}/mode", json={"mode": "shadow", "reason": "compare only"})
    for n, conn in enumerate((jd, pdd, dy), start=1):
        list_item(api, conn, "A", n, shown=8)
    assert rollout.compare_shadowed(clean.db, clean.settings, utcnow() + timedelta(days=1)) == 1
    assert dy.shop.calls["read_stock"] > 0 and _report(api, dy.code)["unexplained"] == 1
    assert jd.shop.calls["read_stock"] == 0 and pdd.shop.calls["read_stock"] == 0  # live and pilot: left alone
    assert _report(api, jd.code)["items"] == [] and _report(api, pdd.code)["items"] == []


def test_a_comparison_returns_a_lasting_difference_once(api: httpx.Client, sim) -> None:  # type: ignore[no-untyped-def]
    seed(api, stock=10)
    jd = connect(api, sim, "jd")
    api.put(f"/api/v1/channels/{jd.code}/mode", json={"mode": "shadow", "reason": "compare only"})
    list_item(api, jd, "A", 1, shown=8)
    first = api.post(f"/api/v1/channels/{jd.code}/rollout/compare").json()["items"]
    again = api.post(f"/api/v1/channels/{jd.code}/rollout/compare").json()["items"]
    assert [d["id"] for d in again] == [d["id"] for d in first] and len(first) == 1
    assert _report(api, jd.code)["items"][0]["differences"] == 1


def test_a_difference_is_explained_only_through_its_own_channel(api: httpx.Client, sim) -> None:  # type: ignore[no-untyped-def]
    seed(api, stock=10)
    jd, pdd = connect(api, sim, "jd"), connect(api, sim, "pinduoduo")
    for conn, n in ((jd, 1), (pdd, 2)):
        api.put(f"/api/v1/channels/{conn.code}/mode", json={"mode": "shadow", "reason": "compare only"})
        list_item(api, conn, "A", n, shown=8)
    [diff] = api.post(f"/api/v1/channels/{jd.code}/rollout/compare").json()["items"]
    wrong = api.post(f"/api/v1/channels/{pdd.code}/rollout/differences/{diff['id']}/explain",
                     json={"reason": "explained through the wrong channel"})
    assert wrong.status_code == 404 and wrong.json()["field"] == "id"
    missing = api.post(f"/api/v1/channels/{jd.code}/rollout/differences/{diff['id'] + 999}/explain",
                       json={"reason": "no such difference"})
    assert missing.status_code == 404
    assert _report(api, jd.code)["unexplained"] == 1
    assert not [a for a in api.get("/api/v1/audit").json()["items"] if a["action"] == "rollout.explain"]
    right = api.post(f"/api/v1/channels/{jd.code}/rollout/differences/{diff['id']}/explain",
                     json={"reason": "the old ERP set the platform's stock"})
    assert right.status_code == 200 and right.json()["explanation"] == "the old ERP set the platform's stock"
    assert _report(api, jd.code)["ready_for_live"]


def test_the_rollout_commands_run_shadow_pilot_live_from_the_command_line(tmp_path: Path, sim) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    settings = Settings(database_url=url)
    db = Database(settings)
    migrate.upgrade(db.engine)
    code = f"jd-{uuid.uuid4().hex[:6]}"
    shop = sim.registry.add_shop(code, "jd", dict(CREDENTIALS["jd"]))
    shop.upsert_listing(SimListing("7001", 8))
    key, path = ENDPOINT["jd"]
    with db.transaction() as session:
        catalogue.create_location(session, code="WH", name="Main", kind="warehouse", sellable=True, actor="test")
        catalogue.create_sku(session, catalogue.SkuSpec(code="A", name="Alpha"), actor="test")
        ledger.post_move(session, ledger.MoveSpec(sku="A", location="WH", kind=MoveKind.RECEIPT, qty=10), SYSTEM)
        channels.create_channel(session, settings, code=code, kind="jd", name=None, actor="test",
                                settings={**CREDENTIALS["jd"], key: f"{sim.url}/jd/{code}{path}"})
        channels.create_channel(session, settings, code="m", kind="manual", name=None, settings=None, actor="test")
        create_listing(session, code, ListingSpec("A", "7001"), SYSTEM)
    db.dispose()
    env = {**os.environ, "OMNISTOCK_DATABASE_URL": url, "COLUMNS": "200"}

    def omni(*args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([str(BIN), "rollout", *args], env=env, cwd=tmp_path, capture_output=True, text=True,
                              timeout=120)
        assert (done.returncode == 0) == ok, done.stderr + done.stdout
        return done

    assert f"{code}: shadow" in omni("mode", code, "shadow", "--reason", "compare first").stdout
    compared = omni("compare", code).stdout
    assert "1 difference(s)" in compared
    difference_id = re.search(r"(\d+)\s*│\s*A\s*│\s*7001\s*│\s*10\s*│\s*8\s*│", compared)
    assert difference_id is not None, compared
    ident = difference_id.group(1)
    assert "1 unexplained difference(s)" in omni("report", code).stdout
    refused = omni("explain", "m", ident, "--reason", "wrong channel", ok=False)
    assert f"no rollout difference {ident} on channel m" in refused.stderr
    assert "explained" in omni("explain", code, ident, "--reason", "the old ERP set it on Monday").stdout
    assert "ready for live" in omni("report", code).stdout
    assert f"{code}: pilot (A)" in omni("mode", code, "pilot", "--sku", "A", "--reason", "pilot A").stdout
    assert f"{code}: live" in omni("mode", code, "live", "--reason", "differences explained").stdout
    assert "say why" in omni("mode", code, "shadow", "--reason", " ", ok=False).stderr
    assert shop.calls["set_stock"] == 0  # no worker ran: the commands themselves push nothing
    with db.reading() as session:
        modes = [(e.after or {}).get("mode") for e in session.scalars(
            select(AuditEntry).where(AuditEntry.action == "channel.mode").order_by(AuditEntry.id))]
    db.dispose()
    assert modes == ["shadow", "pilot", "live"]
