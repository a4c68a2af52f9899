"""An order's platform lines read back from the payload the inbox kept of its delivery (what the watch uses to
complete an order held for an unmapped item): each platform's shape, and the payloads that do not carry the
lines whole, which must give None rather than a part of the order."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from omnistock.channels.stored_orders import platform_lines


def lines(kind: str, raw: dict[str, Any]) -> list[tuple[str, int, str | None, Decimal | None]] | None:
    found = platform_lines(kind, raw)
    return None if found is None else [(ln.external_id, ln.qty, ln.external_sku, ln.unit_price) for ln in found]


def test_the_own_shop_message_is_read_back_whole() -> None:
    raw = {"event": "order.created", "id": "d1", "order": {"id": "W1", "lines": [
        {"external_id": "a-1", "qty": 2, "unit_price": "9.90"}, {"external_id": "b-6", "qty": 1, "external_sku": "B"}]}}
    assert lines("webhook", raw) == [("a-1", 2, None, Decimal("9.90")), ("b-6", 1, "B", None)]


@pytest.mark.parametrize(("kind", "raw", "expected"), [
    ("jd", {"orderId": "9", "orderState": "WAIT_SELLER_STOCK_OUT",
            "itemInfoList": [{"skuId": "7001", "itemTotal": "3", "outerSkuId": "A", "jdPrice": "5.00"}]},
     [("7001", 3, "A", Decimal("5.00"))]),
    ("taobao", {"tid": 1, "status": "WAIT_SELLER_SEND_GOODS",
                "orders": {"order": [{"num_iid": 5001, "sku_id": "6001", "num": 2, "outer_sku_id": "A"}]}},
     [("5001/6001", 2, "A", None)]),
    ("pinduoduo", {"order_sn": "P1", "order_status": 1, "refund_status": 1,
                   "item_list": [{"goods_id": 8001, "sku_id": 9001, "goods_count": 4, "outer_id": "A"}]},
     [("8001/9001", 4, "A", None)]),
    ("woocommerce", {"id": 77, "status": "processing", "line_items": [
        {"product_id": 101, "variation_id": 201, "quantity": 1, "sku": "A", "price": 12.5}]},
     [("101/201", 1, "A", Decimal("12.5"))]),
    ("shopify", {"id": 450, "line_items": [{"variant_id": 40001, "quantity": 2, "sku": "A", "price": "3.00"}]},
     [("40001", 2, "A", Decimal("3.00"))]),
    ("shopify", {"id": "gid://shopify/Order/450", "lineItems": {"pageInfo": {"hasNextPage": False}, "nodes": [
        {"variant": {"id": "gid://shopify/ProductVariant/40001"}, "quantity": 1, "sku": "A"}]}},
     [("40001", 1, "A", None)]),
    ("douyin", {"order_id": "D1", "order_status": 2, "sku_order_list": [
        {"product_id": 3001, "sku_id": 4001, "item_num": 2, "code": "A", "origin_amount": 990}]},
     [("3001/4001", 2, "A", Decimal("9.9"))]),
])
def test_each_platform_order_is_read_back_from_its_kept_payload(kind: str, raw: dict[str, Any],
                                                                expected: list[Any]) -> None:
    assert lines(kind, raw) == expected


@pytest.mark.parametrize(("kind", "raw"), [
    ("douyin", {"tag": "100", "msg_id": "m1", "data": "{\"p_id\": \"D1\"}"}),  # a push names only the order
    ("shopify", {"id": "gid://shopify/Order/1", "lineItems": {"pageInfo": {"hasNextPage": True}, "nodes": [
        {"variant": {"id": "gid://shopify/ProductVariant/1"}, "quantity": 1}]}}),  # more line pages read apart
    ("shopify", {"id": "gid://shopify/Order/2", "lineItems": {"nodes": [{"variant": None, "quantity": 1}]}}),
    ("webhook", {"event": "order.created", "id": "d2", "order": {"id": "W2"}}),  # does not match the format
    ("jd", {"orderId": "9"}),
    ("woocommerce", {"id": 78, "status": "checkout-draft", "line_items": [{"product_id": 1, "quantity": 1}]}),
    ("manual", {"lines": [{"external_id": "x", "qty": 1}]}),  # no platform, no parser
    ("webhook", {}),
])
def test_a_payload_that_does_not_carry_the_lines_whole_gives_none(kind: str, raw: dict[str, Any]) -> None:
    assert platform_lines(kind, raw) is None
