"""Taobao trade, item and listing id mapping without a network."""

from __future__ import annotations

from decimal import Decimal

import pytest

from omnistock.channels.base import OrderEventKind
from omnistock.channels.taobao_payloads import platform_items, split_external_id, trade_event


def trade(status: str, *refunds: str) -> dict[str, object]:
    orders = [{"num_iid": 11, "sku_id": 22, "num": 2, "price": "9.90", "outer_sku_id": "A-1", "refund_status": r}
              for r in (refunds or ("NO_REFUND",))]
    return {"tid": 123456789012345, "status": status, "modified": "2024-01-01 20:00:00",
            "receiver_name": "王", "receiver_mobile": "138", "orders": {"order": orders}}


@pytest.mark.parametrize("status,kind", [
    ("WAIT_BUYER_PAY", OrderEventKind.CREATED),
    ("WAIT_SELLER_SEND_GOODS", OrderEventKind.CREATED),
    ("TRADE_CLOSED", OrderEventKind.CANCELLED),
    ("TRADE_CLOSED_BY_TAOBAO", OrderEventKind.CANCELLED),
    ("WAIT_BUYER_CONFIRM_GOODS", OrderEventKind.SHIPPED),
    ("TRADE_FINISHED", OrderEventKind.SHIPPED),
])
def test_trade_status_maps_to_event_kind(status: str, kind: OrderEventKind) -> None:
    assert trade_event(trade(status)).kind is kind


def test_trade_whose_orders_are_all_refunded_is_refunded() -> None:
    assert trade_event(trade("TRADE_CLOSED", "SUCCESS")).kind is OrderEventKind.REFUNDED
    assert trade_event(trade("TRADE_FINISHED", "SUCCESS", "NO_REFUND")).kind is OrderEventKind.SHIPPED


def test_trade_lines_use_listing_ids_and_outer_ids() -> None:
    event = trade_event(trade("WAIT_SELLER_SEND_GOODS"))
    assert event.external_order_id == "123456789012345"
    line = event.lines[0]
    assert (line.external_id, line.qty, line.external_sku, line.unit_price) == ("11/22", 2, "A-1", Decimal("9.90"))
    assert event.customer is not None and event.customer.phone == "138"


def test_items_without_skus_are_listed_by_num_iid() -> None:
    found = platform_items([{"num_iid": 1, "num": 4, "outer_id": "P1", "title": "Tea"},
                            {"num_iid": 2, "num": 9, "title": "Cup"}],
                           [{"num_iid": 2, "sku_id": 21, "quantity": 5, "outer_id": "C-S"},
                            {"num_iid": 2, "sku_id": 22, "quantity": 4}])
    assert [(item.external_id, item.quantity, item.external_sku) for item in found] == [
        ("1", 4, "P1"), ("2/21", 5, "C-S"), ("2/22", 4, None)]


@pytest.mark.parametrize("bad", ["", "abc", "1/x", "1/2/3", "/2"])
def test_malformed_listing_ids_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        split_external_id(bad)


def test_listing_ids_split_into_item_and_sku() -> None:
    assert split_external_id("1001") == ("1001", None)
    assert split_external_id("1001/2002") == ("1001", "2002")
