"""`POST /webhooks/{code}` as a platform calls it: deliveries built by the simulator's own platform modules.
A bad or missing signature is refused with nothing recorded; a duplicate has no second effect; a
cancellation that arrives first is applied when its order arrives."""

from __future__ import annotations

import base64

import httpx
import pytest

from omnistock.channels.simulator import SimOrder, Simulator
from omnistock.channels.simulator import douyin as douyin_sim
from omnistock.channels.simulator import shopify as shopify_sim
from support.channel_db import Stored
from support.core_api import seed, sku
from support.platforms import Connected, connect, list_item

SIGNATURE = {"shopify": "X-Shopify-Hmac-Sha256", "douyin": "event-sign"}
BUILDERS = {"shopify": shopify_sim.order_webhook, "douyin": douyin_sim.order_webhook}


def delivery(conn: Connected, order: SimOrder | None, event: str) -> tuple[dict[str, str], bytes]:
    assert order is not None
    built = BUILDERS[conn.platform](conn.shop, order, event)
    assert built is not None
    return built


def post(api: httpx.Client, conn: Connected, headers: dict[str, str], body: bytes) -> httpx.Response:
    return api.post(f"/webhooks/{conn.code}", content=body, headers=headers)


def shop_with_item(api: httpx.Client, sim: Simulator, platform: str) -> tuple[Connected, str]:
    seed(api, stock=10)
    conn = connect(api, sim, platform)  # no webhook URL: the test delivers each push itself
    return conn, list_item(api, conn, "A", 1, shown=10)


def forged(signature: str) -> str:
    raw = base64.b64decode(signature) if signature.endswith("=") else signature.encode()
    flipped = bytes([raw[0] ^ 1]) + raw[1:]
    return base64.b64encode(flipped).decode() if signature.endswith("=") else flipped.decode(errors="replace")


@pytest.mark.parametrize("platform", ["shopify", "douyin"])
def test_a_bad_or_missing_signature_is_refused_and_nothing_is_recorded(
        api: httpx.Client, sim: Simulator, stored: Stored, platform: str) -> None:
    conn, item = shop_with_item(api, sim, platform)
    order = conn.shop.buy(item, 2)
    headers, body = delivery(conn, order, "created")
    name = SIGNATURE[platform]
    bad_signature = {**headers, name: forged(headers[name])}
    no_signature = {k: v for k, v in headers.items() if k != name}
    tampered_body = body.replace(b'"quantity":2', b'"quantity":1') if platform == "shopify" else body + b" "
    for h, b in ((bad_signature, body), (no_signature, body), (headers, tampered_body)):
        r = post(api, conn, h, b)
        assert r.status_code == 401, r.text
        assert r.json()["title"] == "Invalid signature"
    assert stored.inbox(conn.code) == [] and stored.orders(conn.code) == []
    assert sku(api)["reserved"] == 0


@pytest.mark.parametrize("platform", ["shopify", "douyin"])
def test_a_duplicate_delivery_answers_200_and_has_no_second_effect(
        api: httpx.Client, sim: Simulator, stored: Stored, platform: str) -> None:
    conn, item = shop_with_item(api, sim, platform)
    order = conn.shop.buy(item, 2)
    headers, body = delivery(conn, order, "created")
    assert post(api, conn, headers, body).status_code == 200
    rows = len(stored.inbox(conn.code))
    assert post(api, conn, headers, body).status_code == 200
    assert len(stored.inbox(conn.code)) == rows
    assert len(stored.orders(conn.code)) == 1 and sku(api)["reserved"] == 2


def test_a_shopify_redelivery_under_new_ids_has_no_second_effect(api: httpx.Client, sim: Simulator,
                                                                stored: Stored) -> None:
    conn, item = shop_with_item(api, sim, "shopify")
    order = conn.shop.buy(item, 3)
    first = delivery(conn, order, "created")
    again = delivery(conn, order, "created")  # the same order, new X-Shopify-Event-Id and Webhook-Id
    assert first[0]["X-Shopify-Event-Id"] != again[0]["X-Shopify-Event-Id"]
    assert post(api, conn, *first).status_code == 200
    assert post(api, conn, *again).status_code == 200
    assert len(stored.orders(conn.code)) == 1 and sku(api)["reserved"] == 3


@pytest.mark.parametrize("platform", ["shopify", "douyin"])
def test_a_cancellation_that_arrives_first_is_applied_when_its_order_arrives(
        api: httpx.Client, sim: Simulator, stored: Stored, platform: str) -> None:
    conn, item = shop_with_item(api, sim, platform)
    order = conn.shop.buy(item, 4)
    assert order is not None
    created = delivery(conn, order, "created")
    conn.shop.cancel(order.id)
    cancelled = delivery(conn, conn.shop.orders[order.id], "cancelled")
    assert post(api, conn, *cancelled).status_code == 200
    assert stored.orders(conn.code) == []
    assert [row.status for row in stored.inbox(conn.code)] == ["waiting"]
    assert post(api, conn, *created).status_code == 200
    assert [o.status for o in stored.orders(conn.code)] == ["cancelled"]
    assert sku(api)["reserved"] == 0
    assert all(row.status == "done" for row in stored.inbox(conn.code))
    assert post(api, conn, *cancelled).status_code == 200  # and once more: still one cancelled order
    assert [o.status for o in stored.orders(conn.code)] == ["cancelled"]


def test_webhooks_for_unknown_or_passive_channels_are_refused(api: httpx.Client, stored: Stored) -> None:
    seed(api)
    assert api.post("/webhooks/nope", content=b"{}").status_code == 404
    assert api.post("/webhooks/m", content=b"{}").status_code == 422
    assert stored.inbox("m") == []
