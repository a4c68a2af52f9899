"""Orders taken in by polling, for every platform that is polled besides Taobao (tests/integration/sync/
test_propagation.py): the order poller reads the simulated shop over HTTP with the channel's real adapter, the
sale is reserved and shown on another platform, and the cancellation it reads later gives the units back."""

from __future__ import annotations

import httpx
import pytest

from conftest import Backend
from omnistock.channels.simulator import Simulator
from omnistock.services.lookup import channel_by_code
from omnistock.sync import poller
from omnistock.sync.worker import Worker
from support.core_api import seed, sku
from support.platforms import connect, list_item, wait_until
from support.server import LiveServer

PLATFORMS = ["jd", "pinduoduo", "douyin", "shopify", "woocommerce"]


def channel_id(backend: Backend, code: str) -> int:
    with backend.db.reading() as session:
        return channel_by_code(session, code).id


def orders(api: httpx.Client, code: str) -> list[dict]:
    r = api.get("/api/v1/orders", params={"channel": code})
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


@pytest.mark.parametrize("platform", PLATFORMS)
def test_an_order_found_by_polling_is_taken_in_and_its_cancellation_gives_the_units_back(
        api: httpx.Client, sim: Simulator, server: LiveServer, worker: Worker, clean: Backend,
        platform: str) -> None:
    seed(api, stock=10)
    polled = connect(api, sim, platform)  # no webhook URL: only the poll can learn of the sale
    elsewhere = connect(api, sim, "taobao")
    item, other = list_item(api, polled, "A", 1), list_item(api, elsewhere, "A", 2)
    wait_until(lambda: polled.shows(item) == 10 and elsewhere.shows(other) == 10, what="both show 10")
    sold = polled.shop.buy(item, 4)
    assert sold is not None
    polled_id = channel_id(clean, polled.code)

    report = poller.poll_once(clean.db, clean.settings, polled_id)
    assert report.error is None and report.applied == 1, report
    assert poller.poll_once(clean.db, clean.settings, polled_id).applied == 0  # the overlap is de-duplicated
    [order] = orders(api, polled.code)
    assert (order["external_id"], order["status"]) == (sold.id, "reserved")
    assert [(line["sku"], line["qty"]) for line in order["lines"]] == [("A", 4)]
    assert sku(api)["reserved"] == 4
    wait_until(lambda: elsewhere.shows(other) == 6, what=f"the {platform} sale shown on taobao")

    polled.shop.cancel(sold.id)
    report = poller.poll_once(clean.db, clean.settings, polled_id)
    assert report.error is None and report.applied == 1, report
    assert [o["status"] for o in orders(api, polled.code)] == ["cancelled"]
    assert sku(api)["reserved"] == 0
    wait_until(lambda: elsewhere.shows(other) == 10 and polled.shows(item) == 10,
               what="the cancelled units shown again everywhere")
