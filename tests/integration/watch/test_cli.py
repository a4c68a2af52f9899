"""The watch's commands as a user runs them: a real `omnistock` process on a SQLite file, reading a simulated
platform over loopback; and `reconcile --heal` beside a live server and worker on both engines."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook

from conftest import Backend
from omnistock.channels.base import RateLimit
from omnistock.channels.simulator import SimListing, Simulator
from omnistock.config import Settings
from omnistock.domain.access import Principal, Role
from omnistock.domain.stock import MoveKind
from omnistock.services import catalogue, channels, ledger
from omnistock.store import migrate
from omnistock.store.db import Database
from omnistock.store.tables import Channel
from omnistock.sync import pusher
from omnistock.sync.adapters import forget_all
from omnistock.sync.limiter import TokenBucket
from omnistock.sync.listings import ListingSpec, create_listing
from omnistock.sync.worker import Worker
from omnistock.watch.report_figures import Week
from support.core_api import seed
from support.platforms import CREDENTIALS, connect, list_item, wait_until
from support.watch_api import alerts_of

BIN = Path(sys.executable).with_name("omnistock")
ADMIN = Principal(name="test", role=Role.ADMIN)


@pytest.fixture
def shop(tmp_path: Path, sim: Simulator):  # type: ignore[no-untyped-def]
    """A SQLite database with SKU A (7 in stock) listed on a simulated JD shop, pushed once, then edited there."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    settings = Settings(database_url=url)
    db = Database(settings)
    migrate.upgrade(db.engine)
    code = f"jd-cli-{tmp_path.name[-6:]}"
    sim_shop = sim.registry.add_shop(code, "jd", dict(CREDENTIALS["jd"]))
    sim_shop.upsert_listing(SimListing("7001", 0))
    with db.transaction() as s:
        catalogue.create_location(s, code="WH", name="Main", kind="warehouse", sellable=True, actor="t")
        catalogue.create_sku(s, catalogue.SkuSpec(code="A", name="Alpha"), actor="t")
        ledger.post_move(s, ledger.MoveSpec(sku="A", location="WH", kind=MoveKind.RECEIPT, qty=7), ADMIN)
        channels.create_channel(s, settings, code=code, kind="jd", name=None, actor="t",
                                settings={**CREDENTIALS["jd"], "gateway_url": f"{sim.url}/jd/{code}/routerjson"})
        create_listing(s, code, ListingSpec("A", "7001"), ADMIN)
    with db.reading() as s:
        channel_id = s.query(Channel).filter_by(code=code).one().id
    pusher.push_once(db, settings, channel_id, TokenBucket(RateLimit(100, 100)))
    assert sim_shop.listings["7001"].quantity == 7
    sim_shop.set_quantity("7001", 2, source="manual")
    env = {**os.environ, "OMNISTOCK_DATABASE_URL": url, "COLUMNS": "250"}

    def run(*args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([str(BIN), *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
        if ok:
            assert done.returncode == 0, done.stderr + done.stdout
        return done
    yield run, code
    db.dispose()
    forget_all()


def test_reconcile_trace_report_and_alerts_from_the_command_line(shop, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run, code = shop
    out = run("reconcile", "--channel", code, "--xlsx", "diff.xlsx", "--csv", "diff.csv")
    assert "drift" in out.stdout and f"{code}: done, 1 listing(s) checked" in out.stdout
    rows = list(csv.DictReader((tmp_path / "diff.csv").open()))
    assert [(r["sku"], r["external_id"], r["kind"], r["expected"], r["platform"]) for r in rows] == \
        [("A", "7001", "drift", "7", "2")]
    sheet = load_workbook(tmp_path / "diff.xlsx").active
    assert list(sheet.iter_rows(min_row=2, values_only=True))[0][:6] == (code, "A", "7001", "drift", 7, 2)

    trace = run("trace", "A", "--at", datetime.now(UTC).isoformat())
    assert "push" in trace.stdout and "difference" in trace.stdout and "move" in trace.stdout
    assert "What each platform showed" in trace.stdout

    alerts = run("alert", "list")
    assert "drift" in alerts.stdout and code in alerts.stdout
    bad = run("notifier", "add", "bad", "webhook", "--setting", "secret=x", ok=False)
    assert bad.returncode != 0 and "settings.url" in bad.stderr

    week = Week.of(datetime.now(UTC).date(), Settings().zone).label
    report = run("report", "weekly", "--week", week, "--out", "reports")
    assert "Pushes" in report.stdout
    assert (tmp_path / "reports" / f"omnistock-sync-{week}.html").read_text().count("data:image/png") == 3
    assert (tmp_path / "reports" / f"omnistock-sync-{week}.xlsx").stat().st_size > 0

    missing = run("reconcile", "--channel", "nope", ok=False)
    assert missing.returncode != 0 and "unknown channel" in missing.stderr


def test_reconcile_heal_from_the_command_line_beside_a_live_server(api: httpx.Client, clean: Backend, sim: Simulator,
                                                                  worker: Worker, tmp_path: Path) -> None:
    """`omnistock reconcile --heal` in its own process, on the database a running server and worker use (both
    engines): the drift is pushed again by that worker, confirmed healed, and its alert resolves."""
    seed(api, stock=7)
    jd = connect(api, sim, "jd")
    item = list_item(api, jd, "A", 1)
    wait_until(lambda: jd.shows(item) == 7, what="first push")
    jd.shop.set_quantity(item, 2, source="manual")
    env = {**os.environ, "OMNISTOCK_DATABASE_URL": clean.settings.database_url,
           "OMNISTOCK_SECRET_KEY": clean.settings.secret_key or "", "COLUMNS": "250"}
    done = subprocess.run([str(BIN), "reconcile", "--channel", jd.code, "--heal", "--csv", "heal.csv"], env=env,
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr + done.stdout
    assert f"{jd.code}: done, 1 listing(s) checked" in done.stdout and "1 difference(s)" in done.stdout
    rows = list(csv.DictReader((tmp_path / "heal.csv").open()))
    assert [(r["sku"], r["kind"], r["expected"], r["platform"], r["action"]) for r in rows] == \
        [("A", "drift", "7", "2", "heal")]  # the channel is set to alert: --heal overrides it for this run

    [run] = api.get("/api/v1/reconciliations", params={"channel": jd.code}).json()["items"]
    assert (run["trigger"], run["mode"]) == ("cli", "heal")
    wait_until(lambda: jd.shows(item) == 7, what="the server's worker pushing the healed value")
    wait_until(lambda: api.get(f"/api/v1/reconciliations/{run['id']}").json()["differences"][0]["status"]
               == "healed", timeout=60, what="the heal confirmed by the hold job")
    wait_until(lambda: alerts_of(api, "drift") == [], what="the drift alert resolved")
    assert [a["channel"] for a in alerts_of(api, "drift", status="resolved")] == [jd.code]

    again = subprocess.run([str(BIN), "reconcile", "--channel", jd.code], env=env, cwd=tmp_path,
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and "0 difference(s)" in again.stdout, again.stderr + again.stdout
