"""WooCommerce order webhooks through `POST /webhooks/{code}`, signed as WooCommerce signs them (by the simulator's
own WooCommerce module, or delivered by the simulated shop itself): signature, duplicates, a cancellation
before its order, an `order.updated` for an order never seen, and what each WooCommerce status does to the
stock."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import httpx
import pytest

from omnistock.channels.simulator import SimOrder, Simulator
from omnistock.channels.simulator import woocommerce as woo_sim
from support.channel_db import Stored
from support.core_api import seed, sku
from support.platforms import CREDENTIALS, Connected, connect, list_item, wait_until
from support.server import LiveServer

SIGNATURE = "X-WC-Webhook-Signature"


def shop_with_item(api: httpx.Client, sim: Simulator, *, webhook_base: str | None = None) -> tuple[Connected, str]:
    seed(api, stock=10)
    conn = connect(api, sim, "woocommerce", webhook_base=webhook_base)
    return conn, list_item(api, conn, "A", 1, shown=10)


def bought(conn: Connected, item: str, qty: int = 2) -> SimOrder:
    order = conn.shop.buy(item, qty)
    assert order is not None
    return order


def delivery(conn: Connected, order: SimOrder, event: str, status: str | None = None) -> tuple[dict[str, str], bytes]:
    built = woo_sim.order_webhook(conn.shop, order, event, status)
    assert built is not None
    return built


def post(api: httpx.Client, conn: Connected, headers: dict[str, str], body: bytes) -> httpx.Response:
    return api.post(f"/webhooks/{conn.code}", content=body, headers=headers)


def accepted(api: httpx.Client, conn: Connected, built: tuple[dict[str, str], bytes]) -> None:
    r = post(api, conn, *built)
    assert r.status_code == 200, r.text


def statuses(stored: Stored, conn: Connected) -> list[str]:
    return [o.status for o in stored.orders(conn.code)]


def signed_with(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def test_a_bad_or_missing_signature_is_refused_and_nothing_is_recorded(api: httpx.Client, sim: Simulator,
                                                                       stored: Stored) -> None:
    conn, item = shop_with_item(api, sim)
    headers, body = delivery(conn, bought(conn, item), "created")
    assert headers[SIGNATURE] == signed_with(CREDENTIALS["woocommerce"]["webhook_secret"], body)
    other_secret = {**headers, SIGNATURE: signed_with("not-the-webhook-secret", body)}
    no_signature = {k: v for k, v in headers.items() if k != SIGNATURE}
    tampered = body.replace(b'"quantity":2', b'"quantity":1')
    assert tampered != body
    for h, b in ((other_secret, body), (no_signature, body), (headers, tampered)):
        r = post(api, conn, h, b)
        assert r.status_code == 401, r.text
        assert r.json()["title"] == "Invalid signature"
    assert stored.inbox(conn.code) == [] and stored.orders(conn.code) == []
    assert sku(api)["reserved"] == 0


def test_the_ping_sent_when_a_webhook_is_saved_is_answered_and_records_nothing(
        api: httpx.Client, sim: Simulator, stored: Stored) -> None:
    conn, _ = shop_with_item(api, sim)
    r = api.post(f"/webhooks/{conn.code}", content=b"webhook_id=7",
                 headers={"Content-Type": "application/x-www-form-urlencoded", "X-WC-Webhook-ID": "7"})
    assert r.status_code == 200, r.text
    assert stored.inbox(conn.code) == []


def test_a_duplicate_delivery_or_a_second_topic_for_the_order_has_no_second_effect(
        api: httpx.Client, sim: Simulator, stored: Stored) -> None:
    conn, item = shop_with_item(api, sim)
    order = bought(conn, item)
    created = delivery(conn, order, "created")
    accepted(api, conn, created)
    accepted(api, conn, created)  # the same delivery id again
    assert len(stored.inbox(conn.code)) == 1
    # WooCommerce follows order.created with an order.updated of the same order, under its own delivery id.
    accepted(api, conn, delivery(conn, order, "updated"))
    assert statuses(stored, conn) == ["reserved"] and sku(api)["reserved"] == 2


def test_a_cancellation_that_arrives_first_is_applied_when_its_order_arrives(
        api: httpx.Client, sim: Simulator, stored: Stored) -> None:
    conn, item = shop_with_item(api, sim)
    order = bought(conn, item, 4)
    created = delivery(conn, order, "created")
    conn.shop.cancel(order.id)
    cancelled = delivery(conn, conn.shop.orders[order.id], "cancelled")  # order.updated, status cancelled
    accepted(api, conn, cancelled)
    assert stored.orders(conn.code) == []
    assert [row.status for row in stored.inbox(conn.code)] == ["waiting"]
    accepted(api, conn, created)
    assert statuses(stored, conn) == ["cancelled"] and sku(api)["reserved"] == 0
    assert all(row.status == "done" for row in stored.inbox(conn.code))


@pytest.mark.parametrize("status", ["pending", "on-hold", "processing"])
def test_an_order_updated_for_an_order_never_seen_creates_it(api: httpx.Client, sim: Simulator, stored: Stored,
                                                             status: str) -> None:
    # WooCommerce never retries a delivery: when order.created was lost, the first update must take it in.
    conn, item = shop_with_item(api, sim)
    headers, body = delivery(conn, bought(conn, item, 3), "updated", status)
    assert headers["X-WC-Webhook-Topic"] == "order.updated"
    accepted(api, conn, (headers, body))
    assert statuses(stored, conn) == ["reserved"] and sku(api)["reserved"] == 3


@pytest.mark.parametrize("status", ["pending", "on-hold", "processing"])
def test_a_live_status_reserves(api: httpx.Client, sim: Simulator, stored: Stored, status: str) -> None:
    conn, item = shop_with_item(api, sim)
    accepted(api, conn, delivery(conn, bought(conn, item), "created", status))
    assert statuses(stored, conn) == ["reserved"]
    assert (sku(api)["reserved"], sku(api)["on_hand"]) == (2, 10)


@pytest.mark.parametrize("status", ["cancelled", "failed", "refunded"])
def test_a_cancelled_failed_or_refunded_order_releases_its_stock(api: httpx.Client, sim: Simulator, stored: Stored,
                                                                  status: str) -> None:
    conn, item = shop_with_item(api, sim)
    order = bought(conn, item)
    accepted(api, conn, delivery(conn, order, "created", "on-hold"))
    assert sku(api)["reserved"] == 2
    accepted(api, conn, delivery(conn, order, "updated", status))
    assert statuses(stored, conn) == ["cancelled"]
    assert (sku(api)["reserved"], sku(api)["on_hand"]) == (0, 10)


def test_an_order_moving_through_live_statuses_keeps_one_reservation_and_completed_ships_it(
        api: httpx.Client, sim: Simulator, stored: Stored) -> None:
    conn, item = shop_with_item(api, sim)
    order = bought(conn, item)
    accepted(api, conn, delivery(conn, order, "created", "pending"))
    for status in ("on-hold", "processing"):
        accepted(api, conn, delivery(conn, order, "updated", status))
        assert statuses(stored, conn) == ["reserved"] and sku(api)["reserved"] == 2
    conn.shop.ship(order.id)
    completed = delivery(conn, conn.shop.orders[order.id], "updated")
    assert json.loads(completed[1])["status"] == "completed"
    accepted(api, conn, completed)
    accepted(api, conn, delivery(conn, conn.shop.orders[order.id], "updated"))  # told twice, shipped once
    assert statuses(stored, conn) == ["shipped"]
    assert (sku(api)["reserved"], sku(api)["on_hand"]) == (0, 8)


def test_the_simulated_shop_delivers_an_order_and_its_cancellation(api: httpx.Client, sim: Simulator,
                                                                   stored: Stored, server: LiveServer) -> None:
    conn, item = shop_with_item(api, sim, webhook_base=server.url)
    order = bought(conn, item, 3)
    wait_until(lambda: sku(api)["reserved"] == 3, what="the delivered order reserved")
    conn.shop.cancel(order.id)
    wait_until(lambda: statuses(stored, conn) == ["cancelled"], what="the delivered cancellation applied")
    assert sku(api)["reserved"] == 0
    assert sim.registry.dispatcher.wait_idle(10)
    attempts = sim.registry.dispatcher.attempts(conn.shop.code)
    assert [(a.event, a.status) for a in attempts] == [("created", 200), ("cancelled", 200)]
