"""The console's set-based reads are exactly what the services give one row at a time: SKU figures as
`services.catalogue.figures` (plain SKUs, bundles, non-sellable locations, reservations, and a scoped caller),
and channel health as `sync.health.channel_health`."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select, update

from conftest import Backend
from omnistock.domain.access import Principal, Role
from omnistock.services.catalogue import figures
from omnistock.store.tables import Channel, Sku
from omnistock.store.types import utcnow
from omnistock.sync import calls
from omnistock.sync.health import channel_health
from omnistock.sync.tables import ChannelSync, Listing
from omnistock.web.reads.health import channels_health
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


def test_the_health_of_every_channel_at_once_equals_channel_health(api: httpx.Client, clean: Backend) -> None:
    """Channels with calls in and out of the windows, failures, batch calls, waiting and failing listings and an
    open breaker: the console's grouped read gives each exactly what `sync.health.channel_health` gives it."""
    _catalogue(api)
    for code in ("jd", "tb", "quiet"):
        api.post("/api/v1/channels", json={"code": code, "kind": "manual"})
    for code, item in (("jd", "j1"), ("jd", "j2"), ("tb", "t1")):
        api.post(f"/api/v1/channels/{code}/listings", json={"sku": "A", "external_id": item})
    now = utcnow()
    with clean.db.transaction() as session:
        ids = dict(session.execute(select(Channel.code, Channel.id)).all())
        for n, (code, op, ok, latency, minutes) in enumerate([
                ("jd", "set_stock", True, 120, 1), ("jd", "set_stock", False, 900, 2),
                ("jd", "set_stock", True, 80, 30), ("jd", "fetch_stock", True, 400, 3),
                ("jd", "set_stock", False, 50, 90), ("tb", "set_stock", True, 60, 10),
                ("tb", "set_stock", True, 70, 10)]):
            calls.record(session, channel_id=ids[code], op=op, ok=ok, latency_ms=latency,
                         at=now - timedelta(minutes=minutes), error=None if ok else f"boom {n}",
                         call_id="batch-1" if code == "tb" else None)  # tb: one batch call of two rows
        session.execute(update(Listing).where(Listing.external_id == "j2")
                        .values(failing_since=now - timedelta(minutes=20), dirty_since=now - timedelta(minutes=5)))
        session.merge(ChannelSync(channel_id=ids["tb"], breaker="open"))
    with clean.db.reading() as session:
        for caller in (Principal("all", Role.ADMIN), Principal("jd only", Role.VIEWER, channels=frozenset({"jd"}))):
            views = channels_health(session, caller, now)
            assert [v.channel.code for v in views] == sorted(c for c in ids if caller.sees_channel(c))
            for view in views:
                assert view.health == channel_health(session, view.channel, now), view.channel.code
    by_code = {v.channel.code: v.health for v in views}
    assert by_code["jd"].errors_5m == 1 and by_code["jd"].last_error["message"] == "boom 4"  # type: ignore[index]  # the newest row
