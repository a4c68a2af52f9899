"""The small world the stateful (hypothesis) tests of the ledger start from."""

from __future__ import annotations

from conftest import Backend
from omnistock.services import catalogue, channels

SKUS = ["A", "B"]
LOCS = ["L1", "L2"]


def seed_world(backend: Backend) -> None:
    """An empty database with two sellable warehouses, SKUs A and B, a kit of 2 A + 1 B, and a manual channel."""
    backend.reset()
    with backend.db.transaction() as s:
        for code in LOCS:
            catalogue.create_location(s, code=code, name=code, kind="warehouse", sellable=True, actor="t")
        for code in SKUS:
            catalogue.create_sku(s, catalogue.SkuSpec(code=code, name=code), actor="t")
        catalogue.create_sku(s, catalogue.SkuSpec(code="KIT", name="kit", components=[
            catalogue.ComponentSpec("A", 2), catalogue.ComponentSpec("B", 1)]), actor="t")
        channels.create_channel(s, backend.settings, code="m", kind="manual", name=None, settings=None, actor="t")
