"""WooCommerce OAuth 1.0a signing, webhook signatures and status mapping, without a network."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime

import pytest

from omnistock.channels.base import OrderEventKind
from omnistock.channels.woocommerce import WooCommerceAdapter
from omnistock.channels.woocommerce_payloads import (
    oauth_signature,
    oauth_string_to_sign,
    order_event,
    query_time,
    signed_query,
    split_external_id,
)
from omnistock.errors import SignatureInvalid

URL = "http://shop.example/wp-json/wc/v3/orders"
PARAMS = {"page": "2", "modified_after": "2026-01-02T03:04:05", "oauth_consumer_key": "ck_1",
          "oauth_nonce": "n0nce", "oauth_signature_method": "HMAC-SHA256", "oauth_timestamp": "1767225600"}
# Written out by hand from the rule: keys sorted, each pair k%3Dv joined by %26, percent signs of the
# encoded values doubled (":" → "%3A" → "%253A").
BASE_STRING = ("GET&http%3A%2F%2Fshop.example%2Fwp-json%2Fwc%2Fv3%2Forders"
               "&modified_after%3D2026-01-02T03%253A04%253A05%26oauth_consumer_key%3Dck_1%26oauth_nonce%3Dn0nce%26oauth_signature_method%3DHMAC-SHA256"
               "%26oauth_timestamp%3D1767225600%26page%3D2")


def test_string_to_sign_matches_the_hand_written_base_string() -> None:
    assert oauth_string_to_sign("get", URL, {**PARAMS, "oauth_signature": "ignored"}) == BASE_STRING


def test_signature_is_base64_hmac_sha256_keyed_with_secret_and_ampersand() -> None:
    expected = base64.b64encode(hmac.new(b"cs_1&", BASE_STRING.encode(), hashlib.sha256).digest()).decode()
    assert oauth_signature("GET", URL, PARAMS, "cs_1") == expected


def test_reserved_characters_are_encoded_twice() -> None:
    text = oauth_string_to_sign("GET", URL, {"search": "a b+c~"})
    assert text.endswith("&search%3Da%2520b%252Bc~")


def test_signed_query_carries_every_oauth_parameter() -> None:
    query = signed_query("GET", URL, {"page": "1"}, "ck_1", "cs_1", "nonce", 1767225600)
    assert query["oauth_signature_method"] == "HMAC-SHA256" and query["oauth_timestamp"] == "1767225600"
    assert query["oauth_signature"] == oauth_signature("GET", URL, query, "cs_1")


@pytest.mark.parametrize(("status", "topic", "kind"), [
    ("processing", "order.created", OrderEventKind.CREATED),
    ("on-hold", "order.updated", OrderEventKind.UPDATED),
    ("pending", "order.updated", OrderEventKind.UPDATED),
    ("cancelled", "order.updated", OrderEventKind.CANCELLED),
    ("failed", "order.updated", OrderEventKind.CANCELLED),
    ("refunded", "order.updated", OrderEventKind.REFUNDED),
    ("completed", "order.updated", OrderEventKind.SHIPPED),
])
def test_statuses_map_to_event_kinds(status: str, topic: str, kind: OrderEventKind) -> None:
    event = order_event({"id": 5, "status": status, "line_items": []}, topic=topic)
    assert event is not None and event.kind is kind


def test_checkout_drafts_are_not_orders_yet() -> None:
    assert order_event({"id": 5, "status": "checkout-draft"}, topic="order.created") is None


def test_webhook_signature_is_checked_over_the_raw_body() -> None:
    adapter = WooCommerceAdapter({"base_url": "https://shop.example", "consumer_key": "ck",
                                  "consumer_secret": "cs", "webhook_secret": "whs"})
    body = b'{"id":7,"status":"processing","line_items":[{"product_id":3,"variation_id":4,"quantity":2}]}'
    good = base64.b64encode(hmac.new(b"whs", body, hashlib.sha256).digest()).decode()
    headers = {"X-WC-Webhook-Topic": "order.created", "X-WC-Webhook-Signature": good,
               "X-WC-Webhook-Delivery-ID": "d-1"}
    [event] = adapter.parse_webhook(headers, body)
    assert (event.external_order_id, event.event_id, event.lines[0].external_id) == ("7", "d-1", "3/4")
    with pytest.raises(SignatureInvalid):
        adapter.parse_webhook({**headers, "X-WC-Webhook-Signature": good[:-2] + "A="}, body)
    adapter.close()


def test_listing_ids_are_products_or_product_slash_variation() -> None:
    assert split_external_id("12") == (12, None)
    assert split_external_id("12/34") == (12, 34)
    for bad in ("", "x", "12/", "12/x"):
        with pytest.raises(ValueError):
            split_external_id(bad)


def test_query_times_are_whole_gmt_seconds_moved_outwards() -> None:
    moment = datetime(2026, 1, 2, 3, 4, 5, 600_000, tzinfo=UTC)
    assert (query_time(moment, -1), query_time(moment, +1)) == ("2026-01-02T03:04:04", "2026-01-02T03:04:06")
