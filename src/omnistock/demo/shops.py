"""The demo's simulated shops: one per platform, connected as omnistock channels, every SKU listed."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from omnistock.channels.simulator import SimListing, SimRegistry
from omnistock.channels.simulator.state import WebhookConfig
from omnistock.config import Settings
from omnistock.demo.seed import DEMO
from omnistock.services import channels
from omnistock.store.tables import Channel, Sku
from omnistock.sync import dirty
from omnistock.sync.listings import ListingSpec, create_listing
from omnistock.sync.pusher import channel_state
from omnistock.sync.tables import Listing

# platform: (credentials, endpoint setting, path after the shop prefix, webhooks?, item id for the n-th SKU)
PLATFORMS: dict[str, tuple[dict[str, str], str, str, bool]] = {
    "shopify": ({"access_token": "demo-token", "webhook_secret": "demo-hook", "location_id": "1"},
                "shop_url", "", True),
    "woocommerce": ({"consumer_key": "ck_demo", "consumer_secret": "cs_demo", "webhook_secret": "demo-hook"},
                    "base_url", "", True),
    "taobao": ({"app_key": "demo", "app_secret": "demo-secret", "session": "demo-session"},
               "gateway_url", "/router/rest", False),
    "jd": ({"app_key": "demo", "app_secret": "demo-secret", "access_token": "demo-token"},
           "gateway_url", "/routerjson", False),
    "douyin": ({"app_key": "demo", "app_secret": "demo-secret", "access_token": "demo-token"},
               "gateway_url", "", True),
}


def item_id(platform: str, n: int) -> str:
    return {"shopify": f"{41000 + n}", "woocommerce": f"{300 + n}", "taobao": f"{51000 + n}/{61000 + n}",
            "jd": f"{71000 + n}", "douyin": f"{31000 + n}/{41000 + n}"}[platform]


@dataclass(frozen=True)
class DemoShop:
    platform: str
    code: str  # the shop's code in the simulator and the channel's code in omnistock
    items: dict[str, str]  # SKU code -> platform item id


def connect_all(session: Session, settings: Settings, registry: SimRegistry, sim_url: str,
                api_url: str) -> list[DemoShop]:
    """Create (or reuse) a channel per platform and list every plain SKU on it; shops start empty."""
    skus = list(session.scalars(select(Sku).where(Sku.active.is_(True)).order_by(Sku.code)))
    shops = []
    for platform, (creds, key, path, webhooks) in PLATFORMS.items():
        code = f"demo-{platform}"
        hook = WebhookConfig(url=f"{api_url}/webhooks/{code}", delay_s=(0.05, 0.4)) if webhooks else None
        shop = registry.add_shop(code, platform, dict(creds), webhook=hook)
        items = {sku.code: item_id(platform, n) for n, sku in enumerate(skus)}
        for sku in skus:
            shop.upsert_listing(SimListing(items[sku.code], 0, external_sku=sku.code, title=sku.name))
        if session.scalar(select(Channel.id).where(Channel.code == code)) is None:
            channels.create_channel(session, settings, code=code, kind=platform, name=f"Demo {platform}",
                                    settings={**creds, key: f"{sim_url}/{platform}/{code}{path}"}, actor=DEMO.name)
            session.flush()
            for sku in skus:
                create_listing(session, code, ListingSpec(sku.code, items[sku.code], sku.code), DEMO)
            state = channel_state(session, session.scalar(select(Channel.id).where(Channel.code == code)) or 0)
            state.poll_minutes = 0.05  # polled platforms: every 3 s in the demo
        shops.append(DemoShop(platform, code, items))
    # The simulated shops start empty every run: push every listing at once.
    dirty.mark_listings(session, Listing.channel_id.in_(
        select(Channel.id).where(Channel.code.in_([s.code for s in shops]))))
    return shops
