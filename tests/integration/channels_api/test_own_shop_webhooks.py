"""Orders from the merchant's own web shop (the `webhook` channel kind) through `POST /webhooks/{code}`, built and
signed exactly as docs/webhook-channel.md tells the shop to: base64 HMAC-SHA256 of the raw body in
`X-Omnistock-Signature`. The shop's stock endpoint is a loopback receiver."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest

from omnistock.channels.simulator.receiver import WebhookReceiver
from support.channel_db import Stored
from support.core_api import seed, sku

SECRET = "whsec_own_shop"
ITEM = "MUG-RED"


@dataclass
class OwnShop:
    code: str
    stock_endpoint: WebhookReceiver


@pytest.fixture
def own(api: httpx.Client) -> Iterator[OwnShop]:
    seed(api, stock=10)
    with WebhookReceiver() as endpoint:
        code = f"own-{uuid.uuid4().hex[:6]}"
        r = api.post("/api/v1/channels", json={"code": code, "kind": "webhook",
                                               "settings": {"url": endpoint.url, "secret": SECRET}})
        assert r.status_code == 201, r.text
        r = api.post(f"/api/v1/channels/{code}/listings", json={"sku": "A", "external_id": ITEM})
        assert r.status_code == 201, r.text
        yield OwnShop(code, endpoint)


def message(event: str, order_id: str, *, qty: int = 2, event_id: str | None = None) -> bytes:
    """An order message in the documented format, as the shop's code would serialise it."""
    return json.dumps({
        "event": f"order.{event}", "id": event_id or f"evt_{uuid.uuid4().hex[:10]}",
        "order": {"id": order_id, "currency": "EUR",
                  "customer": {"name": "Ada Lovelace", "phone": "+44 20 0000 0000", "email": "ada@example.org"},
                  "lines": [{"external_id": ITEM, "qty": qty, "unit_price": "12.50"}],
                  "updated_at": "2026-11-26T08:29:41+00:00"}}).encode()


def signature(body: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def send(api: httpx.Client, shop: OwnShop, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
    sent = headers if headers is not None else {"X-Omnistock-Signature": signature(body)}
    return api.post(f"/webhooks/{shop.code}", content=body, headers={"Content-Type": "application/json", **sent})


def accepted(api: httpx.Client, shop: OwnShop, body: bytes) -> None:
    r = send(api, shop, body)
    assert r.status_code == 200, r.text
    assert r.json() == {"ok": True}


def orders(api: httpx.Client, shop: OwnShop) -> list[dict[str, Any]]:
    r = api.get("/api/v1/orders", params={"channel": shop.code})
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


def test_a_bad_or_missing_signature_is_refused_and_nothing_is_recorded(api: httpx.Client, own: OwnShop,
                                                                       stored: Stored) -> None:
    body = message("created", "10234")
    tampered = body.replace(b'"qty": 2', b'"qty": 9')
    assert tampered != body
    for sent, headers in (
            (body, {"X-Omnistock-Signature": signature(body, "another-secret")}),
            (body, {}),
            (body, {"X-Omnistock-Signature": signature(body)[:-4] + "AAA="}),
            (tampered, {"X-Omnistock-Signature": signature(body)})):
        r = send(api, own, sent, headers)
        assert r.status_code == 401, r.text
        assert r.json()["title"] == "Invalid signature"
    assert stored.inbox(own.code) == [] and stored.orders(own.code) == []
    assert sku(api)["reserved"] == 0


def test_a_signed_message_out_of_format_is_refused_with_its_fields_named(api: httpx.Client, own: OwnShop,
                                                                          stored: Stored) -> None:
    body = json.dumps({"event": "order.paid", "id": "evt_1",
                       "order": {"id": "10234", "lines": [{"external_id": ITEM, "qty": 0}]}}).encode()
    r = send(api, own, body)
    assert r.status_code == 422, r.text
    assert {"event", "order.lines.0.qty"} <= {e["field"] for e in r.json()["errors"]}
    assert stored.inbox(own.code) == [] and stored.orders(own.code) == []


def test_a_duplicate_delivery_answers_200_and_has_no_second_effect(api: httpx.Client, own: OwnShop,
                                                                   stored: Stored) -> None:
    body = message("created", "10234", event_id="evt_000187")
    accepted(api, own, body)
    accepted(api, own, body)  # "omnistock ignores an id it has seen, so resend freely"
    assert len(stored.inbox(own.code)) == 1
    accepted(api, own, message("created", "10234"))  # the same order again under a new event id
    accepted(api, own, message("updated", "10234"))
    [order] = orders(api, own)
    assert order["status"] == "reserved" and order["customer"]["name"] == "Ada Lovelace"
    assert order["currency"] == "EUR" and Decimal(order["lines"][0]["unit_price"]) == Decimal("12.50")
    assert sku(api)["reserved"] == 2


@pytest.mark.parametrize("release", ["cancelled", "refunded"])
def test_a_release_that_arrives_first_is_applied_when_its_order_arrives(api: httpx.Client, own: OwnShop,
                                                                        stored: Stored, release: str) -> None:
    accepted(api, own, message(release, "10235", qty=4))
    assert stored.orders(own.code) == []
    assert [row.status for row in stored.inbox(own.code)] == ["waiting"]
    accepted(api, own, message("created", "10235", qty=4))
    assert [o["status"] for o in orders(api, own)] == ["cancelled"]
    assert sku(api)["reserved"] == 0
    assert all(row.status == "done" for row in stored.inbox(own.code))


def test_shipped_takes_the_units_out_and_a_refund_after_shipping_returns_them(api: httpx.Client,
                                                                             own: OwnShop) -> None:
    accepted(api, own, message("created", "10236", qty=3))
    assert (sku(api)["reserved"], sku(api)["on_hand"]) == (3, 10)
    accepted(api, own, message("shipped", "10236", qty=3))
    assert [o["status"] for o in orders(api, own)] == ["shipped"]
    assert (sku(api)["reserved"], sku(api)["on_hand"]) == (0, 7)
    accepted(api, own, message("refunded", "10236", qty=3))
    assert [o["status"] for o in orders(api, own)] == ["returned"]
