"""Browser tests of the console: a real `omnistock serve` process (SQLite file, free port, sync workers on)
pushing to simulated Tmall and JD shops on loopback, driven by Playwright through Debian's Chromium.

Chromium is the system one (/usr/bin/chromium); `playwright install` is never run. Without it the tests are
skipped, except under CI=true where they must run (`make test` installs it)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from omnistock.channels.simulator import SimListing, SimRegistry, Simulator
from omnistock.config import Settings
from omnistock.services import tokens
from omnistock.store.db import Database
from omnistock.web.users import create_user
from support.server import free_port

CHROMIUM = Path("/usr/bin/chromium")
BIN = Path(sys.executable).with_name("omnistock")
SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
PASSWORD = "console-pass-1"
USERS = {"ops": ("admin", None, None), "viewer": ("viewer", None, None), "kefu": ("agent", None, None),
         "jingan": ("operator", ["S1"], ["pos1"])}
TAOBAO = {"app_key": "tb-app", "app_secret": "tb-secret", "session": "tb-session"}
JD = {"app_key": "jd-app", "app_secret": "jd-secret", "access_token": "jd-token"}

try:
    from playwright.sync_api import Browser, Page, sync_playwright
except ImportError:  # pragma: no cover - the dev extras install it
    sync_playwright = None  # type: ignore[assignment]


def _need_browser() -> None:
    if sync_playwright is not None and CHROMIUM.exists():
        return
    reason = "Playwright and /usr/bin/chromium are needed for the console's browser tests"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: they may not be skipped)")
    pytest.skip(reason)


@dataclass
class Console:
    url: str
    api: httpx.Client
    sim: Simulator


@contextmanager
def serving(where: Path) -> Iterator[tuple[str, str]]:
    """`omnistock serve` (sync workers on) on a new SQLite file in `where`: (its URL, its database URL)."""
    env = {**os.environ, "OMNISTOCK_DATABASE_URL": f"sqlite:///{where / 'console.db'}",
           "OMNISTOCK_SECRET_KEY": "console-e2e-key", "OMNISTOCK_TIMEZONE": "Asia/Shanghai"}
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (where / "serve.log").open("w")
    proc = subprocess.Popen([str(BIN), "serve", "--host", "127.0.0.1", "--port", str(port)], env=env,
                            cwd=where, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_until_up(url, proc, where)
        yield url, env["OMNISTOCK_DATABASE_URL"]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="session")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    _need_browser()
    with Simulator(SimRegistry(seed=7)) as sim, serving(tmp_path_factory.mktemp("console")) as (url, database_url):
        token = _setup_token(database_url)
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as api:
            _shop(api, sim)
            _users(database_url)
            yield Console(url, api, sim)


@dataclass
class FreshConsole:
    """A new install: nothing in the database but its people, and a simulated shop waiting to be connected."""

    url: str
    database_url: str
    sim: Simulator


@pytest.fixture(scope="module")
def simulator() -> Iterator[Simulator]:
    """Simulated platforms on loopback (as tests/integration/sync/conftest.py starts them)."""
    with Simulator(SimRegistry(seed=21)) as sim:
        yield sim


@pytest.fixture(scope="module")
def fresh_console(tmp_path_factory: pytest.TempPathFactory, simulator: Simulator) -> Iterator[FreshConsole]:
    _need_browser()
    with serving(tmp_path_factory.mktemp("fresh")) as (url, database_url):
        _people(database_url, {"boss": ("admin", None, None), "li": ("operator", None, None),
                               "kefu": ("agent", None, None)})
        yield FreshConsole(url, database_url, simulator)


def _wait_until_up(url: str, proc: subprocess.Popen[bytes], where: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("omnistock serve exited:\n" + (where / "serve.log").read_text())
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("omnistock serve did not start:\n" + (where / "serve.log").read_text())


def _setup_token(database_url: str) -> str:
    """An API token to set the shop up; the console users are made once the shop's stores and tills exist."""
    db = Database(Settings(database_url=database_url, secret_key="console-e2e-key"))
    try:
        with db.transaction() as session:
            _, token = tokens.create_token(session, name="e2e-setup", role="admin", actor="e2e")
        return token
    finally:
        db.dispose()


def _users(database_url: str) -> None:
    _people(database_url, USERS)


def _people(database_url: str, people: dict[str, tuple[str, list[str] | None, list[str] | None]]) -> None:
    """The people of the shop, as `omnistock user create` makes them (same service, same database)."""
    db = Database(Settings(database_url=database_url, secret_key="console-e2e-key"))
    try:
        with db.transaction() as session:
            for name, (role, locations, channels) in people.items():
                create_user(session, username=name, password=PASSWORD, role=role, locations=locations,
                            channels=channels, actor="e2e")
    finally:
        db.dispose()


def _post(api: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = api.post(path, json=body)
    assert response.status_code in (200, 201), (path, response.text)
    return dict(response.json())


def _shop(api: httpx.Client, sim: Simulator) -> None:
    """A tea shop: a warehouse and two stores, Tmall and JD shops (simulated), and a till per store."""
    tmall = sim.registry.add_shop("tmall-flagship", "taobao", TAOBAO)
    jd = sim.registry.add_shop("jd-store", "jd", JD)
    for shop, items in ((tmall, ("1001", "1002", "1003", "1004")), (jd, ("7001", "7002"))):
        for item in items:
            shop.upsert_listing(SimListing(item, 0, external_sku=item, title=item))
    for code, name, kind in (("WH", "主仓 Main warehouse", "warehouse"), ("S1", "静安店 Jing'an store", "store"),
                             ("S2", "徐汇店 Xuhui store", "store")):
        _post(api, "/api/v1/locations", {"code": code, "name": name, "kind": kind})
    for code, name, safety in (("TEA-001", "龙井茶 250g", 5), ("TEA-002", "碧螺春 100g", 2),
                               ("TEA-003", "白毫银针 50g", 0), ("CUP-01", "青瓷茶杯", 2)):
        _post(api, "/api/v1/skus", {"code": code, "name": name, "safety_stock": safety})
    _post(api, "/api/v1/skus", {"code": "KIT-01", "name": "茶具礼盒", "components": [
        {"sku": "TEA-001", "qty": 1}, {"sku": "CUP-01", "qty": 2}]})
    _post(api, "/api/v1/channels", {"code": "tmall", "kind": "taobao", "name": "天猫旗舰店", "settings": {
        **TAOBAO, "gateway_url": f"{sim.url}/taobao/tmall-flagship/router/rest"}})
    _post(api, "/api/v1/channels", {"code": "jd", "kind": "jd", "name": "京东自营店", "settings": {
        **JD, "gateway_url": f"{sim.url}/jd/jd-store/routerjson"}})
    _post(api, "/api/v1/channels", {"code": "pos1", "kind": "manual", "name": "静安店收银"})
    _post(api, "/api/v1/channels", {"code": "pos2", "kind": "manual", "name": "徐汇店收银"})
    for channel, sku, item in (("tmall", "TEA-001", "1001"), ("tmall", "TEA-002", "1002"), ("tmall", "TEA-003", "1003"),
                               ("tmall", "CUP-01", "1004"), ("jd", "TEA-001", "7001"), ("jd", "KIT-01", "7002")):
        _post(api, f"/api/v1/channels/{channel}/listings", {"sku": sku, "external_id": item})
    for sku, location, qty in (("TEA-001", "WH", 120), ("TEA-001", "S1", 12), ("TEA-001", "S2", 9),
                               ("TEA-002", "WH", 3), ("CUP-01", "WH", 40), ("CUP-01", "S1", 6)):
        _post(api, "/api/v1/moves", {"sku": sku, "location": location, "kind": "receipt", "qty": qty,
                                     "reason": "opening stock"})
    for n, (channel, sku, qty) in enumerate((("tmall", "TEA-001", 2), ("jd", "TEA-001", 1), ("tmall", "CUP-01", 4),
                                             ("jd", "KIT-01", 1), ("pos1", "TEA-001", 1), ("pos2", "TEA-001", 2))):
        _post(api, "/api/v1/orders", {"channel": channel, "external_id": f"{channel.upper()}-{1000 + n}",
                                      "lines": [{"sku": sku, "qty": qty, "unit_price": "128.00"}], "currency": "CNY"})
    _post(api, "/api/v1/orders", {"channel": "tmall", "external_id": "TMALL-2001", "currency": "CNY",
                                  "customer": {"name": "王芳", "phone": "13900000000"},
                                  "lines": [{"sku": "TEA-003", "qty": 2, "unit_price": "298.00"}]})
    _post(api, "/api/v1/orders", {"channel": "pos2", "external_id": "POS2-3001",
                                  "lines": [{"sku": "TEA-003", "qty": 1}]})


# Module scope, not session: the sync Playwright API keeps an asyncio loop running in the main thread while it
# is open, and later tests that call asyncio.run() would find it there.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    _need_browser()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, console: Console) -> Iterator[Page]:
    context = browser.new_context(base_url=console.url, locale="zh-CN", viewport={"width": 1280, "height": 900},
                                  timezone_id="Asia/Shanghai")
    context.set_default_timeout(30_000)
    opened = context.new_page()
    yield opened
    context.close()


def sign_in(page: Page, username: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    page.locator("form[action='/login'] button[type=submit]").click()
    page.wait_for_url(lambda url: "/login" not in url)


def shot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
