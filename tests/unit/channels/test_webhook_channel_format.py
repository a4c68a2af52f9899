"""The webhook channel's own format without a network: signature and order messages."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from omnistock.channels.base import OrderEventKind
from omnistock.channels.webhook import WebhookChannelAdapter, order_event, signature
from omnistock.errors import Invalid, SignatureInvalid


def test_signature_is_base64_hmac_sha256_like_shopify() -> None:
    body = b'{"id":1,"line_items":[{"sku":"A1","quantity":2}]}'
    assert signature("hush", body) == "zpbp7IzIw4YFVQlm1FLI90NeWEZWRgu5TJ0tsG+oTJ0="


def _message(event: str = "order.created", **order: object) -> dict[str, object]:
    return {"event": event, "id": "evt-1", "order": {
        "id": "1001", "currency": "EUR", "customer": {"name": "Ada", "email": "ada@example.org"},
        "lines": [{"external_id": "SKU-1", "qty": 2, "unit_price": "4.50"}], **order}}


@pytest.mark.parametrize("kind", [k for k in OrderEventKind if k is not OrderEventKind.AFTER_SALE])
def test_every_order_event_name_maps_to_its_kind(kind: OrderEventKind) -> None:
    assert order_event(_message(f"order.{kind.value}")).kind is kind


def test_an_after_sale_request_is_its_own_message_not_an_order_event() -> None:
    # `after_sale.requested` carries an `after_sale` object (test_after_sale_payloads); as an order event it is
    # refused, so that no order message can pass for a request.
    with pytest.raises(Invalid):
        order_event(_message("order.after_sale"))


def test_order_message_keeps_event_id_lines_and_customer() -> None:
    event = order_event(_message())
    assert (event.event_id, event.external_order_id, event.currency) == ("evt-1", "1001", "EUR")
    lines = [(line.external_id, line.qty, line.unit_price) for line in event.lines]
    assert lines == [("SKU-1", 2, Decimal("4.50"))]
    assert event.customer is not None and event.customer.email == "ada@example.org"


@pytest.mark.parametrize("broken", [
    _message("order.teleported"),
    _message(lines=[{"external_id": "SKU-1", "qty": 0}]),
    {"event": "order.created", "id": "evt-1"},
])
def test_malformed_order_messages_are_invalid_with_the_fields_named(broken: dict[str, object]) -> None:
    with pytest.raises(Invalid) as caught:
        order_event(broken)
    assert caught.value.errors


def test_parse_webhook_checks_the_signature_of_the_raw_body() -> None:
    adapter = WebhookChannelAdapter({"url": "http://127.0.0.1:9/stock", "secret": "s3cret"})
    body = json.dumps(_message()).encode()
    try:
        [event] = adapter.parse_webhook({"x-omnistock-signature": signature("s3cret", body)}, body)
        assert event.event_id == "evt-1"
        with pytest.raises(SignatureInvalid):
            adapter.parse_webhook({"X-Omnistock-Signature": signature("other", body)}, body)
        with pytest.raises(SignatureInvalid):
            adapter.parse_webhook({}, body)
    finally:
        adapter.close()
