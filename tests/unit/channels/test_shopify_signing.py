"""Shopify webhook signing and answer mapping, without a network."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from omnistock.channels.base import OrderEventKind
from omnistock.channels.shopify import ShopifyAdapter
from omnistock.channels.shopify_payloads import graphql_error, search_time, throttle_wait
from omnistock.channels.signing import hmac_sha256_base64
from omnistock.errors import PlatformAuthFailed, PlatformInvalid, PlatformThrottled, SignatureInvalid

VECTOR_BODY = b'{"id":1,"line_items":[{"sku":"A1","quantity":2}]}'
VECTOR_SIGNATURE = "zpbp7IzIw4YFVQlm1FLI90NeWEZWRgu5TJ0tsG+oTJ0="


@pytest.fixture
def adapter() -> ShopifyAdapter:
    return ShopifyAdapter({"shop_url": "https://example.myshopify.com", "access_token": "t",
                           "location_id": "1", "webhook_secret": "hush"})


def test_webhook_signature_matches_the_documented_vector() -> None:
    assert hmac_sha256_base64("hush", VECTOR_BODY) == VECTOR_SIGNATURE


def test_the_vector_delivery_verifies_and_parses(adapter: ShopifyAdapter) -> None:
    headers = {"x-shopify-hmac-sha256": VECTOR_SIGNATURE, "x-shopify-topic": "orders/create",
               "x-shopify-webhook-id": "w-1"}
    [event] = adapter.parse_webhook(headers, VECTOR_BODY)
    assert (event.kind, event.external_order_id, event.event_id) == (OrderEventKind.CREATED, "1", "w-1")
    assert [(line.external_sku, line.qty) for line in event.lines] == [("A1", 2)]


def test_a_signature_made_with_another_secret_is_rejected(adapter: ShopifyAdapter) -> None:
    headers = {"X-Shopify-Hmac-Sha256": hmac_sha256_base64("not-hush", VECTOR_BODY),
               "X-Shopify-Topic": "orders/create"}
    with pytest.raises(SignatureInvalid):
        adapter.parse_webhook(headers, VECTOR_BODY)


def test_topics_without_orders_are_acknowledged_and_ignored(adapter: ShopifyAdapter) -> None:
    body = b'{"inventory_item_id":1,"available":3}'
    headers = {"X-Shopify-Hmac-Sha256": hmac_sha256_base64("hush", body),
               "X-Shopify-Topic": "inventory_levels/update"}
    assert adapter.parse_webhook(headers, body) == []


def test_throttle_wait_is_missing_points_over_restore_rate() -> None:
    extensions = {"cost": {"requestedQueryCost": 110, "actualQueryCost": None,
                           "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 10,
                                              "restoreRate": 100.0}}}
    assert throttle_wait(extensions) == pytest.approx(1.0)
    assert throttle_wait(None) == 1.0


def test_graphql_errors_map_to_typed_errors() -> None:
    throttled = graphql_error([{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                              {"cost": {"requestedQueryCost": 50, "throttleStatus": {
                                  "currentlyAvailable": 0, "restoreRate": 100.0}}})
    assert isinstance(throttled, PlatformThrottled) and throttled.retry_after == pytest.approx(0.5)
    denied = graphql_error([{"message": "no scope", "extensions": {"code": "ACCESS_DENIED"}}], None)
    assert isinstance(denied, PlatformAuthFailed)
    unknown = graphql_error(
        [{"message": "Field 'x' doesn't exist", "extensions": {"code": "undefinedField"}}], None)
    assert isinstance(unknown, PlatformInvalid) and unknown.code == "undefinedField"


def test_search_times_are_whole_utc_seconds() -> None:
    moment = datetime(2026, 3, 1, 8, 30, 15, 900_000, tzinfo=timezone(timedelta(hours=8)))
    assert search_time(moment) == "2026-03-01T00:30:15Z"
    assert search_time(datetime(2026, 3, 1, tzinfo=UTC)) == "2026-03-01T00:00:00Z"


def test_the_end_of_an_order_window_is_rounded_up_to_take_in_its_last_second() -> None:
    # An order updated at 00:30:15.4 is stored as 00:30:15; a poll ending at 00:30:15.9 must still see it.
    moment = datetime(2026, 3, 1, 0, 30, 15, 900_000, tzinfo=UTC)
    assert search_time(moment, round_up=True) == "2026-03-01T00:30:16Z"
    assert search_time(datetime(2026, 3, 1, 0, 30, 15, tzinfo=UTC), round_up=True) == "2026-03-01T00:30:15Z"
