"""The stage of one strategy's run: a fresh SQLite database seeded with the catalogue, five fresh simulated shops
(platform latency, webhook delay and loss, each platform's own rate limit) and the omnistock channels and listings
that connect them. Shops start empty: each strategy fills them with its own mechanism before the sale."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from flash.scenario import PLATFORMS, Catalogue, Shape
from omnistock.channels.simulator import Faults, SimListing, SimRegistry, SimShop, Simulator, WebhookConfig
from omnistock.config import Settings
from omnistock.demo.shops import PLATFORMS as DEMO_PLATFORMS
from omnistock.domain.access import Principal, Role
from omnistock.domain.stock import MoveKind
from omnistock.services import catalogue as catalogue_service
from omnistock.services import channels, ledger, tokens
from omnistock.store import migrate
from omnistock.store.db import Database
from omnistock.store.tables import Channel
from omnistock.sync.listings import ListingSpec, create_listing
from omnistock.sync.pusher import channel_state

BENCH = Principal(name="bench", role=Role.ADMIN)
LOCATION = "WH"
SECRET_KEY = "flash-sale-bench-only"
TAOBAO_SKUS_PER_ITEM = 10  # ordinary SKUs are variants of a few items on Taobao, whose pushes batch per item


def item_id(platform: str, n: int, hot: bool) -> str:
    """How the n-th SKU is named on a platform, in the form omnistock's adapter and the simulator share."""
    if platform == "taobao":
        num_iid = 51000 + n if hot else 52000 + n // TAOBAO_SKUS_PER_ITEM
        return f"{num_iid}/{61000 + n}"
    return {"shopify": f"{41000 + n}", "woocommerce": f"{300 + n}", "jd": f"{71000 + n}",
            "douyin": f"{31000 + n}/{41000 + n}"}[platform]


@dataclass
class Stage:
    directory: Path
    settings: Settings
    db: Database
    sim: Simulator
    token: str
    shops: dict[str, SimShop]  # platform -> shop
    codes: dict[str, str]  # platform -> channel code (also the shop's code)
    items: dict[str, dict[str, str]]  # platform -> SKU code -> external id
    sku_ids: dict[str, int] = field(default_factory=dict)

    def sku_of(self, platform: str) -> dict[str, str]:
        """External id -> SKU code on one platform."""
        return {ext: sku for sku, ext in self.items[platform].items()}

    def close(self) -> None:
        self.sim.stop()
        self.db.dispose()


def build(shape: Shape, cat: Catalogue, directory: Path, database_url: str, seed: int) -> Stage:
    """The stage on an empty database at `database_url` (a SQLite file in `directory`, or PostgreSQL)."""
    directory.mkdir(parents=True, exist_ok=True)
    settings = Settings(database_url=database_url, secret_key=SECRET_KEY)
    db = Database(settings)
    migrate.upgrade(db.engine)
    sim = Simulator(SimRegistry(seed=seed))
    sim.start()
    shops, codes, items = {}, {}, {}
    for platform in PLATFORMS:
        creds, _, _, webhooks = DEMO_PLATFORMS[platform]
        code = f"flash-{platform}"
        hook = WebhookConfig(delay_s=shape.webhook_delay_s, loss_rate=shape.webhook_loss,
                             duplicate_rate=shape.webhook_duplicates, reorder=True) if webhooks else None
        shop = sim.registry.add_shop(code, platform, dict(creds), webhook=hook,
                                     faults=Faults(latency_ms=shape.latency_ms))
        items[platform] = {sku: item_id(platform, n, sku in cat.hot) for n, sku in enumerate(cat.stock)}
        for sku, ext in items[platform].items():
            shop.upsert_listing(SimListing(ext, 0, external_sku=sku, title=sku))
        shops[platform], codes[platform] = shop, code
    stage = Stage(directory, settings, db, sim, "", shops, codes, items)
    _seed(stage, shape, cat)
    return stage


def _seed(stage: Stage, shape: Shape, cat: Catalogue) -> None:
    with stage.db.transaction() as session:
        catalogue_service.create_location(session, code=LOCATION, name="Warehouse", kind="warehouse", sellable=True,
                                          actor=BENCH.name)
        for sku, units in cat.stock.items():
            row = catalogue_service.create_sku(session, catalogue_service.SkuSpec(code=sku, name=sku),
                                               actor=BENCH.name)
            stage.sku_ids[sku] = row.id
            ledger.post_move(session, ledger.MoveSpec(sku, LOCATION, MoveKind.RECEIPT, units,
                                                      reason="opening stock"), BENCH)
        for platform in PLATFORMS:
            creds, key, path, _ = DEMO_PLATFORMS[platform]
            code = stage.codes[platform]
            channels.create_channel(session, stage.settings, code=code, kind=platform, name=code,
                                    settings={**creds, key: f"{stage.sim.url}/{platform}/{code}{path}"},
                                    actor=BENCH.name)
            session.flush()
            for sku, ext in stage.items[platform].items():
                create_listing(session, code, ListingSpec(sku, ext, sku), BENCH)
            channel_id = session.scalar(select(Channel.id).where(Channel.code == code))
            assert channel_id is not None
            # The safety net behind webhooks and the only intake of the platforms without them. Written here
            # rather than through PATCH .../sync, which refuses periods under six seconds (the smoke run uses 2 s).
            channel_state(session, channel_id).poll_minutes = shape.poll_s / 60
        _, stage.token = tokens.create_token(session, name="bench", role="admin", actor=BENCH.name)


def aim_webhooks(stage: Stage, api_url: str) -> None:
    """Point the shops that push orders at omnistock's webhook endpoint (known once its server is up)."""
    for platform, shop in stage.shops.items():
        if DEMO_PLATFORMS[platform][3]:
            shop.webhook.url = f"{api_url}/webhooks/{stage.codes[platform]}"
