"""Connecting omnistock channels to simulated shops: one place that knows each platform's settings."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from omnistock.channels.simulator import SimListing, SimShop, Simulator
from omnistock.channels.simulator.state import WebhookConfig

CREDENTIALS: dict[str, dict[str, str]] = {
    "taobao": {"app_key": "tb-key", "app_secret": "tb-secret", "session": "tb-session"},
    "jd": {"app_key": "jd-key", "app_secret": "jd-secret", "access_token": "jd-token"},
    "pinduoduo": {"client_id": "pdd-id", "client_secret": "pdd-secret", "access_token": "pdd-token"},
    "douyin": {"app_key": "dy-key", "app_secret": "dy-secret", "access_token": "dy-token"},
    "shopify": {"access_token": "shpat-test", "webhook_secret": "shp-hook"},
    "woocommerce": {"consumer_key": "ck_test", "consumer_secret": "cs_test", "webhook_secret": "wc-hook"},
}
ENDPOINT = {  # setting name and path after the simulator's shop prefix
    "taobao": ("gateway_url", "/router/rest"),
    "jd": ("gateway_url", "/routerjson"),
    "pinduoduo": ("gateway_url", "/api/router"),
    "douyin": ("gateway_url", ""),
    "shopify": ("shop_url", ""),
    "woocommerce": ("base_url", ""),
}
# How each platform names one item in our listings; n makes distinct items.
ITEM: dict[str, Callable[[int], str]] = {
    "taobao": lambda n: f"{5000 + n}/{6000 + n}",
    "jd": lambda n: f"{7000 + n}",
    "pinduoduo": lambda n: f"{8000 + n}/{9000 + n}",
    "douyin": lambda n: f"{3000 + n}/{4000 + n}",
    "shopify": lambda n: f"{40000 + n}",
    "woocommerce": lambda n: f"{100 + n}/{200 + n}",
}


@dataclass
class Connected:
    platform: str
    code: str
    shop: SimShop

    def shows(self, external_id: str) -> int:
        return self.shop.listings[external_id].quantity


def connect(api: httpx.Client, sim: Simulator, platform: str, *, webhook_base: str | None = None,
            extra_settings: dict[str, Any] | None = None) -> Connected:
    """A simulated shop and the omnistock channel that speaks to it (webhooks aimed at omnistock)."""
    code = f"{platform[:4]}-{uuid.uuid4().hex[:6]}"
    webhook = WebhookConfig(url=f"{webhook_base}/webhooks/{code}") if webhook_base else None
    shop = sim.registry.add_shop(code, platform, dict(CREDENTIALS[platform]), webhook=webhook)
    key, path = ENDPOINT[platform]
    settings = {**CREDENTIALS[platform], key: f"{sim.url}/{platform}/{code}{path}", **(extra_settings or {})}
    if platform == "shopify":
        settings["location_id"] = "1"
    r = api.post("/api/v1/channels", json={"code": code, "kind": platform, "settings": settings})
    assert r.status_code == 201, r.text
    return Connected(platform, code, shop)


def list_item(api: httpx.Client, conn: Connected, sku: str, n: int, *, shown: int = 0, pack: int = 1) -> str:
    external_id = ITEM[conn.platform](n)
    conn.shop.upsert_listing(SimListing(external_id, shown, external_sku=f"{sku}-{n}"))
    r = api.post(f"/api/v1/channels/{conn.code}/listings",
                 json={"sku": sku, "external_id": external_id, "pack_size": pack})
    assert r.status_code == 201, r.text
    return external_id


def wait_until(check: Callable[[], bool], timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
