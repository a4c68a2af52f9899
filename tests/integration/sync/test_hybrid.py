"""What besides a level change makes omnistock push, and the scheduled half of the hybrid mode: an oversold
order, a changed policy or safety stock, the full sync that repairs a lost change and the order poll that
catches a lost webhook."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update

from conftest import Backend
from omnistock.store.tables import Level
from omnistock.store.types import utcnow
from omnistock.sync.tables import ChannelSync
from omnistock.sync.worker import Worker
from support.core_api import seed, sku
from support.platforms import connect, list_item, wait_until
from support.server import LiveServer
from support.workers import sync_worker


@pytest.fixture
def scheduled_worker(clean: Backend) -> Iterator[Worker]:
    """A worker with the scheduled order poll and full sync on (the `worker` fixture has them off)."""
    with sync_worker(clean, poll=True, full_sync=True) as running:
        yield running


def _schedule(backend: Backend, channel_code: str, *, poll_due: bool | None = None,
              full_sync_due: bool | None = None) -> None:
    """Make a channel's scheduled job due now (True) or not for a long while (False)."""
    from omnistock.services.lookup import channel_by_code

    now = utcnow()
    values = {}
    if poll_due is not None:
        values["last_poll_at"] = now - timedelta(days=1) if poll_due else now + timedelta(days=1)
    if full_sync_due is not None:
        values["last_full_sync_at"] = now - timedelta(days=1) if full_sync_due else now + timedelta(days=1)
    with backend.db.transaction() as s:
        channel_id = channel_by_code(s, channel_code).id
        s.execute(update(ChannelSync).where(ChannelSync.channel_id == channel_id).values(**values))


def test_an_oversold_order_pushes_every_listing_of_its_sku(api: httpx.Client, sim, server: LiveServer,  # type: ignore[no-untyped-def]
                                                          worker: Worker) -> None:
    seed(api, stock=1)
    jd, pdd = connect(api, sim, "jd"), connect(api, sim, "pinduoduo")
    j_item, p_item = list_item(api, jd, "A", 1), list_item(api, pdd, "A", 2)
    wait_until(lambda: jd.shows(j_item) == 1 and pdd.shows(p_item) == 1, what="both show 1")
    # Someone set the platforms' stock by hand: omnistock does not know, and no level changes.
    jd.shop.set_quantity(j_item, 9)
    pdd.shop.set_quantity(p_item, 9)
    order = api.post("/api/v1/orders", json={"channel": "m", "external_id": "X-1", "lines": [{"sku": "A", "qty": 2}]})
    assert order.json()["status"] == "held"
    wait_until(lambda: jd.shows(j_item) == 1 and pdd.shows(p_item) == 1, what="both pushed back to 1")


def test_a_changed_policy_and_safety_stock_are_pushed(api: httpx.Client, sim, server: LiveServer,  # type: ignore[no-untyped-def]
                                                     worker: Worker) -> None:
    seed(api, stock=10)
    jd = connect(api, sim, "jd")
    item = list_item(api, jd, "A", 3)
    wait_until(lambda: jd.shows(item) == 10, what="shows 10")
    r = api.put(f"/api/v1/channels/{jd.code}/policy", json={"policy": {"kind": "shared", "buffer": 3}})
    assert r.status_code == 200, r.text
    wait_until(lambda: jd.shows(item) == 7, what="the buffer of 3 is pushed")
    r = api.patch("/api/v1/skus/A", json={"safety_stock": 5, "reason": "keep some for the store"})
    assert r.status_code == 200, r.text
    wait_until(lambda: jd.shows(item) == 2, what="10 - safety 5 - buffer 3")


def test_the_full_sync_repairs_a_change_whose_mark_was_lost(api: httpx.Client, sim, server: LiveServer,  # type: ignore[no-untyped-def]
                                                           clean: Backend, scheduled_worker: Worker) -> None:
    seed(api, stock=10)
    jd = connect(api, sim, "jd")
    item = list_item(api, jd, "A", 4)
    wait_until(lambda: jd.shows(item) == 10, what="shows 10")
    _schedule(clean, jd.code, poll_due=False, full_sync_due=False)
    with clean.db.engine.begin() as conn:  # a change that marked nothing (written behind omnistock's back)
        conn.execute(update(Level).values(on_hand=4))
    time.sleep(2.5)  # a few schedule checks: nothing is due, nothing is dirty
    assert jd.shows(item) == 10
    _schedule(clean, jd.code, full_sync_due=True)
    wait_until(lambda: jd.shows(item) == 4, what="the full sync pushes 4")


def test_the_scheduled_poll_takes_in_an_order_whose_webhook_was_lost(api: httpx.Client, sim,  # type: ignore[no-untyped-def]
                                                                     server: LiveServer, clean: Backend,
                                                                     scheduled_worker: Worker) -> None:
    seed(api, stock=10)
    shopify = connect(api, sim, "shopify", webhook_base=server.url)
    taobao = connect(api, sim, "taobao")
    s_item, t_item = list_item(api, shopify, "A", 5), list_item(api, taobao, "A", 6)
    wait_until(lambda: shopify.shows(s_item) == 10 and taobao.shows(t_item) == 10, what="both show 10")
    _schedule(clean, shopify.code, poll_due=False)
    _schedule(clean, taobao.code, poll_due=False)
    shopify.shop.webhook.loss_rate = 1.0  # every webhook is lost
    assert shopify.shop.buy(s_item, 3) is not None
    time.sleep(2.5)
    assert sku(api)["reserved"] == 0  # nothing heard of it
    _schedule(clean, shopify.code, poll_due=True)
    wait_until(lambda: sku(api)["reserved"] == 3, what="the poll takes the order in")
    wait_until(lambda: taobao.shows(t_item) == 7, what="taobao shows 7")
