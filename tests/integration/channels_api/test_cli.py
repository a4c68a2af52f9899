"""The channel, listing, feed and simulate commands as a merchant runs them, on a real SQLite file and against
the simulator over loopback: in-process for speed, and the installed `omnistock` entry point as a real process
for a feed round trip and for `simulate` (which must stop on Ctrl+C)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner, Result

from omnistock.channels.simulator import SimListing, Simulator
from omnistock.cli import app
from omnistock.config import get_settings
from support.platforms import CREDENTIALS, ENDPOINT
from support.server import free_port

BIN = Path(sys.executable).with_name("omnistock")
Omni = Callable[..., Result]
MISSING = {
    "shopify": ["shop_url", "access_token", "location_id", "webhook_secret"],
    "woocommerce": ["base_url", "consumer_key", "consumer_secret", "webhook_secret"],
    "taobao": ["app_key", "app_secret", "session"],
    "jd": ["app_key", "app_secret", "access_token"],
    "pinduoduo": ["client_id", "client_secret", "access_token"],
    "douyin": ["app_key", "app_secret", "access_token"],
    "webhook": ["url", "secret"],
    "feed": ["location"],
}

SECRET_FIELDS = {
    "shopify": ("access_token", "webhook_secret"),
    "woocommerce": ("consumer_key", "consumer_secret", "webhook_secret"),
    "taobao": ("app_secret", "session"),
    "jd": ("app_secret", "access_token"),
    "pinduoduo": ("client_secret", "access_token"),
    "douyin": ("app_secret", "access_token"),
}


@pytest.fixture
def omni(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Omni]:
    monkeypatch.setenv("OMNISTOCK_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("COLUMNS", "400")  # tables wide enough that no code is wrapped
    get_settings.cache_clear()
    runner = CliRunner()

    def run(*args: str, ok: bool = True) -> Result:
        result = runner.invoke(app, list(args))
        if ok:
            assert result.exit_code == 0, result.stderr or result.output
        return result
    run("db", "upgrade")
    run("location", "add", "WH", "Main warehouse")
    run("location", "add", "S1", "Store", "--kind", "store")
    run("sku", "add", "A", "Alpha")
    run("sku", "add", "B", "Beta")
    yield run
    get_settings.cache_clear()


def settings_args(sim: Simulator, platform: str, code: str) -> list[str]:
    key, path = ENDPOINT[platform]
    values = {**CREDENTIALS[platform], key: f"{sim.url}/{platform}/{code}{path}"}
    if platform == "shopify":
        values["location_id"] = "1"
    return [arg for k, v in values.items() for arg in ("--setting", f"{k}={v}")]


def test_channel_add_names_each_missing_setting(omni: Omni) -> None:
    for kind, keys in MISSING.items():
        result = omni("channel", "add", f"c-{kind}", "--kind", kind, ok=False)
        assert result.exit_code == 1 and result.exception is not None
        for key in keys:
            assert key in result.stderr, (kind, key, result.stderr)
    result = omni("channel", "add", "c", "--kind", "shopify", "--setting", "shop_url", ok=False)
    assert "key=value" in result.stderr
    assert "c-" not in omni("channel", "list").stdout


@pytest.mark.parametrize("platform", ["shopify", "woocommerce", "taobao", "jd", "pinduoduo", "douyin"])
def test_each_platform_is_added_listed_masked_and_tested_from_the_cli(omni: Omni, sim: Simulator,
                                                                      platform: str) -> None:
    code = f"cli-{platform}-{time.monotonic_ns() % 10**8}"
    sim.registry.add_shop(code, platform, dict(CREDENTIALS[platform]))
    omni("channel", "add", code, "--kind", platform, "--name", "My shop", *settings_args(sim, platform, code))
    listed = omni("channel", "list").stdout
    assert code in listed and "••••••" in listed
    secrets = [CREDENTIALS[platform][name] for name in SECRET_FIELDS[platform]]
    assert not any(secret in listed for secret in secrets)
    engine = create_engine(get_settings().database_url)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT settings FROM channels WHERE code = :c"), {"c": code}).scalar_one()
    engine.dispose()
    assert stored.count("$enc") == len(secrets) and not any(secret in stored for secret in secrets)
    assert "ok" in omni("channel", "test", code).stdout
    sim.registry.shop(code).faults.auth_broken = True
    broken = omni("channel", "test", code, ok=False)
    assert broken.exit_code == 1 and broken.stderr.count("\n") == 1 and "error:" in broken.stderr


def test_listings_are_added_imported_and_proposed_from_the_cli(omni: Omni, sim: Simulator,
                                                               tmp_path: Path) -> None:
    code = f"cli-jd-{time.monotonic_ns() % 10**8}"
    shop = sim.registry.add_shop(code, "jd", dict(CREDENTIALS["jd"]))
    shop.upsert_listing(SimListing("7101", 1, external_sku="A"))
    shop.upsert_listing(SimListing("7102", 1, title="beta"))
    omni("channel", "add", code, "--kind", "jd", *settings_args(sim, "jd", code))
    omni("listing", "add", "--channel", code, "--sku", "A", "--external-id", "7001", "--pack-size", "6")
    good = tmp_path / "good.csv"
    good.write_text("商品编码,平台商品ID,每包数量\nA,7001,6\nB,7002,\n", encoding="utf-8")
    dry = omni("listing", "import", str(good), "--channel", code, "--dry-run").stdout
    assert "would create 1" in dry and "would leave 1 unchanged" in dry
    assert "7002" not in omni("listing", "list", "--channel", code).stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("sku,external_id,pack_size\nB,7003,1\nNOPE,7004,1\nB,7005,x\n", encoding="utf-8")
    refused = omni("listing", "import", str(bad), "--channel", code, ok=False)
    assert "row 3: unknown SKU 'NOPE'" in refused.stderr and "row 4:" in refused.stderr
    assert "7003" not in omni("listing", "list", "--channel", code).stdout
    assert "created 1" in omni("listing", "import", str(good), "--channel", code).stdout
    assert "7002" in omni("listing", "list", "--channel", code).stdout
    proposals = tmp_path / "proposals.csv"
    shown = omni("listing", "propose", "--channel", code, "--out", str(proposals)).stdout
    assert "2 proposed" in shown
    assert proposals.read_text().splitlines() == ["sku,external_id,pack_size", "A,7101,1", "B,7102,1"]


def test_a_feed_round_trip_through_the_installed_command(omni: Omni, tmp_path: Path) -> None:
    # Set up in-process (fast), then run the installed entry point as a merchant's script would.
    omni("stock", "receive", "A", "10", "--location", "WH")
    omni("stock", "count", "A", "5", "--location", "S1")
    omni("channel", "add", "store-1", "--kind", "feed", "--setting", "location=S1")
    omni("listing", "add", "--channel", "store-1", "--sku", "A", "--external-id", "POS-A")
    env = {**os.environ, "COLUMNS": "400"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(BIN), *args], env=env, cwd=tmp_path, capture_output=True, text=True,
                              timeout=120)
    feed = tmp_path / "feed.json"
    feed.write_text(json.dumps({"counts": [{"external_id": "POS-A", "qty": 4}],
                                "sales": [{"sale_id": "T-1", "lines": [{"sku": "A", "qty": 1}]}]}))
    done = run("feed", "import", str(feed), "--channel", "store-1")
    assert done.returncode == 0, done.stderr
    assert "1 count(s) and 1 sale(s) applied" in done.stdout and "shipped" in done.stdout
    assert "│ A   │ S1       │ 4       │ +0     │" in done.stdout  # the sale left S1 (5 → 4), the count agrees
    allocations = run("feed", "allocations", "--channel", "store-1")
    assert allocations.stdout.splitlines() == ["external_id,sku,pack_size,quantity", "POS-A,A,1,14"]
    bad = tmp_path / "bad.csv"
    bad.write_text("type,sku,qty\ncount,A,-1\n")
    refused = run("feed", "import", str(bad), "--channel", "store-1")
    assert refused.returncode == 1 and "row 2: qty must be at least 0" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert "duplicate" in omni("feed", "import", str(feed), "--channel", "store-1").stdout


def test_simulate_serves_a_shop_per_platform_until_interrupted(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "OMNISTOCK_DATABASE_URL": f"sqlite:///{tmp_path / 'unused.db'}", "COLUMNS": "400"}
    proc = subprocess.Popen([str(BIN), "simulate", "--port", str(port), "--no-webhooks", "--items", "2"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stderr is not None
    try:
        lines: list[str] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "ready" in line:
                break
        output = "".join(lines)
        assert "ready" in output, output + proc.stderr.read()
        settings = [json.loads(line.split("settings: ", 1)[1]) for line in lines if line.startswith("settings: ")]
        assert len(settings) == 6
        shopify = next(s for s in settings if "shop_url" in s)
        assert shopify["shop_url"] == f"http://127.0.0.1:{port}/shopify/sim-shopify-1"
        health = httpx.get(f"http://127.0.0.1:{port}/_sim/health", timeout=5).json()
        assert health == {"ok": True, "shops": 6}
        shop = httpx.get(f"http://127.0.0.1:{port}/_sim/shops/sim-jd-1", timeout=5).json()
        assert shop["listings"] == {"7001": 0, "7002": 0}
        assert "omnistock channel add sim-jd-1 --kind jd" in output
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)  # its threads stop within 20 s; a loaded machine may take longer
        except subprocess.TimeoutExpired:
            proc.kill()
            raise AssertionError("simulate did not stop within 60 s of Ctrl+C: " + proc.communicate()[1]) from None
    assert proc.returncode == 0
