"""`omnistock demo`: a throwaway embedded database with a small seeded catalogue, served on loopback."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from omnistock.config import Settings
from omnistock.domain.access import Principal, Role
from omnistock.domain.stock import MoveKind
from omnistock.services import catalogue, channels, ledger, tokens
from omnistock.store import migrate
from omnistock.store.db import Database
from omnistock.store.tables import Sku

DEMO = Principal(name="demo", role=Role.ADMIN)
LOCATIONS = [("WH-SH", "上海仓 Shanghai warehouse", "warehouse"), ("ST-BJ", "北京门店 Beijing store", "store")]
SKUS = [
    ("TEA-001", "龙井绿茶 250g Longjing tea", 120, 10),
    ("TEA-002", "铁观音 250g Tieguanyin", 80, 5),
    ("CUP-001", "青瓷茶杯 Celadon cup", 300, 20),
    ("POT-001", "紫砂壶 Yixing teapot", 15, 2),
    ("GIFT-01", "礼盒: 龙井 + 2 杯 Gift box", 0, 0),
]


def seed(session: Session, settings: Settings) -> None:
    for code, name, kind in LOCATIONS:
        catalogue.create_location(session, code=code, name=name, kind=kind, sellable=True, actor=DEMO.name)
    for code, name, stock, safety in SKUS:
        components = ([catalogue.ComponentSpec("TEA-001", 1), catalogue.ComponentSpec("CUP-001", 2)]
                      if code == "GIFT-01" else [])
        catalogue.create_sku(session, catalogue.SkuSpec(code=code, name=name, safety_stock=safety,
                                                        components=components), actor=DEMO.name)
        if stock:
            ledger.post_move(session, ledger.MoveSpec(code, "WH-SH", MoveKind.RECEIPT, stock,
                                                      reason="opening stock"), DEMO)
            ledger.post_move(session, ledger.MoveSpec(code, "ST-BJ", MoveKind.RECEIPT, max(1, stock // 10),
                                                      reason="opening stock"), DEMO)
    channels.create_channel(session, settings, code="manual", kind="manual", name="手工订单 Manual orders",
                            settings=None, actor=DEMO.name)


def prepare(directory: Path) -> tuple[Settings, Database, str]:
    """Create (or reuse) the demo database, seed it once, and make a fresh admin token."""
    directory.mkdir(parents=True, exist_ok=True)
    settings = Settings(database_url=f"sqlite:///{directory / 'demo.db'}")
    db = Database(settings)
    migrate.upgrade(db.engine)
    with db.transaction() as session:
        if not session.scalar(select(func.count()).select_from(Sku)):
            seed(session, settings)
        _, token = tokens.create_token(session, name="demo", role="admin", actor=DEMO.name)
    return settings, db, token
