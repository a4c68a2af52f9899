"""The console's set-based SKU figures are exactly what `services.catalogue.figures` gives one SKU at a
time (plain SKUs, bundles, non-sellable locations, reservations, and a scoped caller)."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from conftest import Backend
from omnistock.domain.access import Principal, Role
from omnistock.services.catalogue import figures
from omnistock.store.tables import Sku
from omnistock.web.reads.skus import figures_of, is_low, low_stock

RECEIPTS = [("A", "WH", 10), ("A", "S1", 3), ("A", "DMG", 4), ("B", "WH", 7), ("B", "S1", 1)]


def _catalogue(api: httpx.Client) -> None:
    for code, kind, sellable in (("WH", "warehouse", True), ("S1", "store", True), ("DMG", "warehouse", False)):
        api.post("/api/v1/locations", json={"code": code, "name": code, "kind": kind, "sellable": sellable})
    api.post("/api/v1/skus", json={"code": "A", "name": "Alpha", "safety_stock": 2})
    api.post("/api/v1/skus", json={"code": "B", "name": "Beta", "safety_stock": 0})
    api.post("/api/v1/skus", json={"code": "EMPTY", "name": "Nothing yet", "safety_stock": 3})
    api.post("/api/v1/skus", json={"code": "KIT", "name": "Kit", "safety_stock": 1,
                                   "components": [{"sku": "A", "qty": 2}, {"sku": "B", "qty": 1}]})
    api.post("/api/v1/channels", json={"code": "m", "kind": "manual"})
    for sku, loc, qty in RECEIPTS:
        api.post("/api/v1/moves", json={"sku": sku, "location": loc, "kind": "receipt", "qty": qty})
    api.post("/api/v1/orders", json={"channel": "m", "external_id": "o1", "lines": [{"sku": "KIT", "qty": 2}]})


def test_batched_figures_equal_the_services_figures(api: httpx.Client, clean: Backend) -> None:
    _catalogue(api)
    callers = [Principal("all", Role.ADMIN), Principal("store", Role.OPERATOR, locations=frozenset({"S1"}))]
    with clean.db.reading() as session:
        skus = list(session.scalars(select(Sku).order_by(Sku.code)))
        for caller in callers:
            batched = figures_of(session, skus, caller)
            one_by_one = {s.id: figures(session, s, caller) for s in skus}
            assert batched == one_by_one, caller


def test_low_stock_means_no_more_to_sell_than_the_safety_stock(api: httpx.Client, clean: Backend) -> None:
    _catalogue(api)
    with clean.db.reading() as session:
        count, low = low_stock(session, Principal("all", Role.ADMIN))
        codes = [f.sku.code for f in low]
        assert all(is_low(f) for f in low)
    assert "EMPTY" in codes and "B" not in codes and count == len(codes)
