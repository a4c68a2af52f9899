"""After-sale requests in each platform's own payload, parsed into AFTER_SALE events (no I/O).

The payloads follow the platforms' documented shapes (see each payload module's docstring for the source)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from omnistock.channels import douyin_payloads, pinduoduo_payloads, shopify_payloads, taobao_payloads
from omnistock.channels.base import AfterSale, AfterSaleKind, OrderEvent, OrderEventKind
from omnistock.channels.shopify import ShopifyAdapter
from omnistock.channels.signing import hmac_sha256_base64
from omnistock.channels.webhook import order_event
from omnistock.errors import Invalid

# --- Shopify -------------------------------------------------------------------------------------------------

DISPUTE = {"id": 1052608616, "order_id": 450789469, "type": "chargeback", "currency": "USD", "amount": "11.50",
           "reason": "product_not_received", "network_reason_code": "4855", "status": "needs_response",
           "evidence_due_by": "2026-11-20T19:00:00-05:00", "evidence_sent_on": None, "finalized_on": None,
           "initiated_at": "2026-11-06T19:00:00-05:00"}


def test_a_shopify_dispute_is_an_open_request_about_its_order() -> None:
    event = shopify_payloads.dispute_event(DISPUTE, "ev-1")
    assert event is not None
    assert (event.kind, event.external_order_id, event.event_id, event.platform_status, event.currency) == (
        OrderEventKind.AFTER_SALE, "450789469", "ev-1", "chargeback needs_response", "USD")
    assert event.after_sale == AfterSale("dispute:1052608616", AfterSaleKind.DISPUTE, "product_not_received",
                                         amount=Decimal("11.50"))
    assert event.occurred_at == datetime(2026, 11, 7, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize("status", ["won", "lost", "accepted"])
def test_a_settled_shopify_dispute_is_marked_closed(status: str) -> None:
    event = shopify_payloads.dispute_event({**DISPUTE, "status": status}, "ev-2")
    assert event is not None and event.after_sale is not None and event.after_sale.closed


def test_a_shopify_dispute_without_an_order_is_not_an_order_event() -> None:
    assert shopify_payloads.dispute_event({**DISPUTE, "order_id": None}, "ev-3") is None


RETURN = {"id": 945000954, "admin_graphql_api_id": "gid://shopify/Return/945000954", "status": "requested",
          "order": {"id": 450789469, "admin_graphql_api_id": "gid://shopify/Order/450789469"},
          "return_line_items": [
              {"id": 1, "quantity": 1, "return_reason": "DEFECTIVE", "return_reason_note": "",
               "customer_note": "Cracked on arrival",
               "fulfillment_line_item": {"id": 9, "line_item": {"variant_id": 39072856, "sku": "MUG-1", "price": "9.00",
                                                                "quantity": 2}}},
              {"id": 2, "quantity": 1, "return_reason": "defective", "customer_note": None,
               "fulfillment_line_item": {"id": 10, "line_item": {"variant_id": 39072857, "sku": "MUG-2"}}}]}


def test_a_shopify_return_request_names_the_items_and_the_buyers_words() -> None:
    event = shopify_payloads.return_request_event(RETURN, "ev-4")
    assert (event.kind, event.external_order_id, event.platform_status) == (
        OrderEventKind.AFTER_SALE, "450789469", "return requested")
    assert event.after_sale == AfterSale("return:945000954", AfterSaleKind.RETURN, "defective", "Cracked on arrival")
    assert [(line.external_id, line.qty, line.external_sku) for line in event.lines] == [
        ("39072856", 1, "MUG-1"), ("39072857", 1, "MUG-2")]


def test_the_shopify_adapter_routes_after_sale_topics_and_refuses_a_malformed_one() -> None:
    adapter = ShopifyAdapter({"shop_url": "https://example.myshopify.com", "access_token": "t",
                              "location_id": "1", "webhook_secret": "hush"})

    def deliver(topic: str, payload: object) -> list[OrderEvent]:
        body = json.dumps(payload).encode()
        return list(adapter.parse_webhook({"X-Shopify-Topic": topic, "X-Shopify-Event-Id": "e",
                                           "X-Shopify-Hmac-Sha256": hmac_sha256_base64("hush", body)}, body))

    assert [e.kind for e in deliver("disputes/update", DISPUTE)] == [OrderEventKind.AFTER_SALE]
    assert deliver("disputes/create", {**DISPUTE, "order_id": None}) == []
    with pytest.raises(Invalid):
        deliver("returns/request", {"id": 5, "order": {}})
    adapter.close()


# --- Pinduoduo -----------------------------------------------------------------------------------------------

PDD_REFUND = {"id": 2938471, "order_sn": "231107-123456789", "after_sales_type": 3, "after_sales_status": 3,
              "after_sale_reason": "缺货", "refund_amount": "59.00", "goods_id": 8001, "sku_id": "9001",
              "goods_number": "1", "outer_id": "A-1", "created_time": "2026-11-07 10:00:00",
              "updated_time": "2026-11-07 10:05:00"}


def test_a_pdd_return_request_waiting_on_the_merchant_is_reported() -> None:
    event = pinduoduo_payloads.after_sale_event(PDD_REFUND)
    assert event is not None
    assert (event.kind, event.external_order_id, event.event_id) == (
        OrderEventKind.AFTER_SALE, "231107-123456789", "pdd-after-sale:2938471:3")
    assert event.after_sale == AfterSale("after_sale:2938471", AfterSaleKind.RETURN, "缺货", amount=Decimal("59.00"))
    assert [(line.external_id, line.qty, line.external_sku) for line in event.lines] == [("8001/9001", 1, "A-1")]
    assert event.occurred_at == datetime(2026, 11, 7, 2, 5, tzinfo=UTC)  # Beijing time on the wire


@pytest.mark.parametrize(("after_sales_type", "status", "kind"), [
    (2, 2, AfterSaleKind.REFUND), (4, 14, AfterSaleKind.EXCHANGE), (5, 32, AfterSaleKind.EXCHANGE),
    (2, 8, AfterSaleKind.DISPUTE)])
def test_pdd_types_and_the_platforms_arbitration_map_to_request_kinds(after_sales_type: int, status: int,
                                                                      kind: AfterSaleKind) -> None:
    event = pinduoduo_payloads.after_sale_event({**PDD_REFUND, "after_sales_type": after_sales_type,
                                                 "after_sales_status": status})
    assert event is not None and event.after_sale is not None and event.after_sale.kind is kind


@pytest.mark.parametrize("status", [0, 9, 10, 11, 12, 13, 16, 17, 24, 25])
def test_a_closed_pdd_request_is_not_reported(status: int) -> None:
    assert pinduoduo_payloads.after_sale_event({**PDD_REFUND, "after_sales_status": status}) is None


# --- Taobao --------------------------------------------------------------------------------------------------

TB_REFUND = {"refund_id": "99887766", "tid": 3301122334455, "oid": 3301122334456, "status": "WAIT_SELLER_AGREE",
             "has_good_return": False, "reason": "缺货", "desc": "等了三天还没发", "refund_fee": "88.00",
             "cs_status": 1, "created": "2026-11-07 09:00:00", "modified": "2026-11-07 09:01:00"}


def test_a_taobao_refund_waiting_for_the_seller_is_an_open_request() -> None:
    event = taobao_payloads.refund_event(TB_REFUND)
    assert event is not None
    assert (event.kind, event.external_order_id, event.platform_status) == (
        OrderEventKind.AFTER_SALE, "3301122334455", "WAIT_SELLER_AGREE")
    assert event.after_sale == AfterSale("refund:99887766", AfterSaleKind.REFUND, "缺货", "等了三天还没发",
                                         amount=Decimal("88.00"))


@pytest.mark.parametrize(("change", "kind"), [
    ({"has_good_return": True}, AfterSaleKind.RETURN),
    ({"status": "WAIT_SELLER_CONSIGN_GOODS"}, AfterSaleKind.EXCHANGE),
    ({"cs_status": 3}, AfterSaleKind.DISPUTE),
    ({"cs_status": "2", "has_good_return": "true"}, AfterSaleKind.DISPUTE)])
def test_taobao_goods_back_exchanges_and_customer_service_map_to_request_kinds(change: dict[str, object],
                                                                               kind: AfterSaleKind) -> None:
    event = taobao_payloads.refund_event({**TB_REFUND, **change})
    assert event is not None and event.after_sale is not None and event.after_sale.kind is kind


@pytest.mark.parametrize("status", ["SUCCESS", "CLOSED"])
def test_a_settled_taobao_refund_is_not_reported(status: str) -> None:
    assert taobao_payloads.refund_event({**TB_REFUND, "status": status}) is None


# --- Douyin --------------------------------------------------------------------------------------------------


def _push(tag: str, data: Mapping[str, object]) -> dict[str, object]:
    return {"tag": tag, "msg_id": "7000000000000000042", "data": json.dumps(data)}


def test_a_douyin_after_sale_push_reads_its_reason_code() -> None:
    data = {"p_id": 6920000000000000001, "s_id": 6920000000000000002, "shop_id": 1, "aftersale_id": 7100000000001,
            "aftersale_status": 6, "aftersale_type": 0, "reason_code": 14, "refund_amount": 5990,
            "apply_time": 1762480800}
    message = _push("200", data)
    event = douyin_payloads.after_sale_event("200", message, data)
    assert event is not None
    assert (event.kind, event.external_order_id, event.event_id) == (
        OrderEventKind.AFTER_SALE, "6920000000000000001", "7000000000000000042")
    assert event.after_sale == AfterSale("aftersale:7100000000001", AfterSaleKind.RETURN, "缺货",
                                         amount=Decimal("59.90"))
    assert event.occurred_at == datetime.fromtimestamp(1762480800, UTC)


def test_a_douyin_arbitration_push_is_a_dispute_and_a_push_without_ids_is_refused() -> None:
    data = {"p_id": 1, "s_id": 1, "aftersale_id": 2, "aftersale_status": 6, "aftersale_type": 1,
            "arbitrate_id": "x", "arbitrate_status": 1}
    event = douyin_payloads.after_sale_event("212", _push("212", data), data)
    assert event is not None and event.after_sale is not None
    assert (event.after_sale.kind, event.after_sale.reason) == (AfterSaleKind.DISPUTE, None)
    assert douyin_payloads.after_sale_event("200", _push("200", {"p_id": 1}), {"p_id": 1}) is None


# --- the own shop's webhook format ---------------------------------------------------------------------------


def test_the_webhook_channels_after_sale_message_is_an_open_request() -> None:
    event = order_event({"event": "after_sale.requested", "id": "ev-9", "after_sale": {
        "id": "AS-1", "order_id": "WEB-7", "kind": "return", "reason": "尺码不合适", "note": "换大一号",
        "amount": "59.00", "currency": "CNY", "customer": {"name": "韩梅梅"},
        "lines": [{"external_id": "W-1", "qty": 1}], "requested_at": "2026-11-07T10:00:00+08:00"}})
    assert (event.kind, event.external_order_id, event.event_id, event.platform_status) == (
        OrderEventKind.AFTER_SALE, "WEB-7", "ev-9", "after_sale.requested")
    assert event.after_sale == AfterSale("AS-1", AfterSaleKind.RETURN, "尺码不合适", "换大一号", Decimal("59.00"))
    assert event.customer is not None and event.customer.name == "韩梅梅"
    assert [(line.external_id, line.qty) for line in event.lines] == [("W-1", 1)]


def test_a_malformed_after_sale_message_names_the_bad_fields() -> None:
    with pytest.raises(Invalid) as bad:
        order_event({"event": "after_sale.requested", "id": "ev-10",
                     "after_sale": {"id": "AS-2", "kind": "complaint"}})
    fields = {e["field"] for e in bad.value.errors or []}
    assert {"after_sale.order_id", "after_sale.kind"} <= fields
