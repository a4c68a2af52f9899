"""Shopify wire shapes: the GraphQL documents omnistock sends and the mapping of Shopify's answers and
webhook payloads to omnistock's plain values. No I/O here."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from omnistock.channels.base import (
    AfterSale,
    AfterSaleKind,
    Customer,
    OrderEvent,
    OrderEventKind,
    PlatformItem,
    PlatformOrderLine,
)
from omnistock.errors import PlatformAuthFailed, PlatformInvalid, PlatformThrottled, PlatformTransient

LINE_PAGE = 40

SET_QUANTITIES = """
mutation SetQuantities($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) {
    inventoryAdjustmentGroup { id }
    userErrors { code field message }
  }
}"""

VARIANT_ITEM = """
query VariantItem($id: ID!) {
  productVariant(id: $id) { id inventoryItem { id } }
}"""

LEVELS = """
query Levels($location: ID!, $first: Int!, $after: String) {
  location(id: $location) {
    inventoryLevels(first: $first, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes {
        quantities(names: ["available"]) { name quantity }
        item { id sku variant { id sku displayName barcode } }
      }
    }
  }
}"""

_LINE_FIELDS = "id sku quantity variant { id } originalUnitPriceSet { shopMoney { amount } }"
_ORDER_FIELDS = f"""
  id createdAt updatedAt cancelledAt displayFinancialStatus displayFulfillmentStatus currencyCode email phone
  customer {{ displayName }}
  lineItems(first: {LINE_PAGE}) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {_LINE_FIELDS} }} }}"""

ORDERS = f"""
query Orders($query: String!, $first: Int!, $after: String) {{
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{ {_ORDER_FIELDS} }}
  }}
}}"""

ORDER_LINES = f"""
query OrderLines($id: ID!, $after: String) {{
  order(id: $id) {{
    lineItems(first: {LINE_PAGE}, after: $after) {{
      pageInfo {{ hasNextPage endCursor }}
      nodes {{ {_LINE_FIELDS} }}
    }}
  }}
}}"""

SHOP_AND_LOCATION = """
query Check($location: ID!) {
  shop { name }
  location(id: $location) { id }
}"""


def gid(kind: str, value: str) -> str:
    return value if value.startswith("gid://") else f"gid://shopify/{kind}/{value}"


def numeric(value: str) -> str:
    return value.rsplit("/", 1)[-1]


def search_time(moment: datetime, *, round_up: bool = False) -> str:
    """A time for Shopify's search syntax: UTC, whole seconds (windows stay contiguous when both ends
    are cut the same way). `round_up` is for a window's exclusive end: cut down, it would leave the orders of
    its last fraction of a second (Shopify keeps whole seconds) to the next poll; reading a little past the
    end is free, since orders seen twice are de-duplicated."""
    utc = moment.astimezone(UTC)
    whole = utc.replace(microsecond=0)
    if round_up and whole < utc:
        whole += timedelta(seconds=1)
    return whole.strftime("%Y-%m-%dT%H:%M:%SZ")


# --- errors ------------------------------------------------------------------------------------------


def graphql_error(errors: Any, extensions: Mapping[str, Any] | None) -> Exception:
    """The typed error for a GraphQL `errors` answer (HTTP 200)."""
    listed: list[Any] = errors if isinstance(errors, list) else [{"message": str(errors)}]
    found = [e for e in listed if isinstance(e, dict)]
    codes = [str((e.get("extensions") or {}).get("code", "")) for e in found]
    message = "; ".join(str(e.get("message")) for e in found) or str(errors)
    if "THROTTLED" in codes:
        return PlatformThrottled(f"shopify: throttled ({message})", retry_after=throttle_wait(extensions),
                                 code="THROTTLED", http_status=200)
    if "ACCESS_DENIED" in codes:
        return PlatformAuthFailed(f"shopify: access denied, the app lacks a scope ({message})",
                                  code="ACCESS_DENIED")
    if "INTERNAL_SERVER_ERROR" in codes:
        return PlatformTransient(f"shopify: internal error ({message})", code="INTERNAL_SERVER_ERROR")
    return PlatformInvalid(f"shopify: request rejected ({message})", code=codes[0] if codes else None)


def throttle_wait(extensions: Mapping[str, Any] | None) -> float:
    """Seconds until the cost bucket holds the requested cost: (requested - available) / restore rate."""
    cost = (extensions or {}).get("cost") or {}
    status = cost.get("throttleStatus") or {}
    try:
        requested = float(cost.get("requestedQueryCost") or 0)
        available = float(status.get("currentlyAvailable") or 0)
        restore = float(status.get("restoreRate") or 0)
    except (TypeError, ValueError):
        return 1.0
    if restore <= 0:
        return 1.0
    return max(0.1, (requested - available) / restore)


# --- stock -------------------------------------------------------------------------------------------


def level_item(node: Mapping[str, Any]) -> PlatformItem | None:
    """One inventory level as a PlatformItem keyed by its variant (None for an item without a variant)."""
    item = node.get("item") or {}
    variant = item.get("variant") or {}
    if not variant.get("id"):
        return None
    quantities = node.get("quantities") or []
    available = next((q.get("quantity") for q in quantities if q.get("name") == "available"), 0)
    return PlatformItem(external_id=numeric(variant["id"]), quantity=int(available or 0),
                        external_sku=variant.get("sku") or item.get("sku") or None,
                        title=variant.get("displayName"), barcode=variant.get("barcode") or None)


# --- orders ------------------------------------------------------------------------------------------


def _parse_time(text: Any) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _price(text: Any) -> Decimal | None:
    try:
        return Decimal(str(text)) if text is not None else None
    except InvalidOperation:
        return None


def graphql_kind(order: Mapping[str, Any], since: datetime) -> tuple[OrderEventKind, str]:
    """What a polled order means now, and its status text: the latest state wins."""
    financial = str(order.get("displayFinancialStatus") or "").lower()
    if order.get("cancelledAt"):
        return OrderEventKind.CANCELLED, "cancelled"
    if financial == "refunded":
        return OrderEventKind.REFUNDED, financial
    if order.get("displayFulfillmentStatus") == "FULFILLED":
        return OrderEventKind.SHIPPED, "fulfilled"
    created = _parse_time(order.get("createdAt"))
    fresh = created is not None and created >= since.replace(microsecond=0)
    return (OrderEventKind.CREATED if fresh else OrderEventKind.UPDATED), financial or "open"


def graphql_line(node: Mapping[str, Any]) -> PlatformOrderLine:
    variant = node.get("variant") or {}
    money = ((node.get("originalUnitPriceSet") or {}).get("shopMoney") or {}).get("amount")
    return PlatformOrderLine(external_id=numeric(variant["id"]) if variant.get("id") else "",
                             qty=int(node.get("quantity") or 0), external_sku=node.get("sku") or None,
                             unit_price=_price(money))


def graphql_order_event(order: Mapping[str, Any], lines: list[PlatformOrderLine],
                        since: datetime) -> OrderEvent:
    kind, status = graphql_kind(order, since)
    customer = order.get("customer") or {}
    return OrderEvent(
        kind=kind, external_order_id=numeric(str(order["id"])), lines=lines, event_id=None,
        platform_status=status, currency=order.get("currencyCode"),
        customer=Customer(name=customer.get("displayName"), phone=order.get("phone"),
                          email=order.get("email")),
        occurred_at=_parse_time(order.get("updatedAt")), raw=order)


# --- webhooks ----------------------------------------------------------------------------------------


def _webhook_line(line: Mapping[str, Any], qty: Any = None) -> PlatformOrderLine:
    variant_id = line.get("variant_id")
    return PlatformOrderLine(external_id=str(variant_id) if variant_id is not None else "",
                             qty=int(qty if qty is not None else line.get("quantity") or 0),
                             external_sku=line.get("sku") or None, unit_price=_price(line.get("price")))


def webhook_kind(topic: str, order: Mapping[str, Any]) -> OrderEventKind:
    if topic == "orders/create":
        return OrderEventKind.CREATED
    if topic == "orders/cancelled" or order.get("cancelled_at"):
        return OrderEventKind.CANCELLED
    if order.get("financial_status") == "refunded":
        return OrderEventKind.REFUNDED
    if order.get("fulfillment_status") == "fulfilled":
        return OrderEventKind.SHIPPED
    return OrderEventKind.UPDATED


def webhook_order_event(topic: str, order: Mapping[str, Any], event_id: str | None) -> OrderEvent:
    customer = order.get("customer") or {}
    name = " ".join(p for p in (customer.get("first_name"), customer.get("last_name")) if p) or None
    kind = webhook_kind(topic, order)
    return OrderEvent(
        kind=kind, external_order_id=str(order["id"]),
        lines=[_webhook_line(line) for line in order.get("line_items") or []], event_id=event_id,
        platform_status="cancelled" if kind is OrderEventKind.CANCELLED else order.get("financial_status"),
        currency=order.get("currency"),
        customer=Customer(name=name, phone=order.get("phone") or customer.get("phone"),
                          email=order.get("email") or customer.get("email")),
        occurred_at=_parse_time(order.get("updated_at") or order.get("created_at")), raw=order)


def webhook_refund_event(refund: Mapping[str, Any], event_id: str | None) -> OrderEvent:
    """`refunds/create`: the refunded lines (a partial refund names only some lines and quantities)."""
    lines = [_webhook_line(item.get("line_item") or {}, item.get("quantity"))
             for item in refund.get("refund_line_items") or []]
    return OrderEvent(kind=OrderEventKind.REFUNDED, external_order_id=str(refund["order_id"]), lines=lines,
                      event_id=event_id, platform_status="refunded",
                      occurred_at=_parse_time(refund.get("created_at")), raw=refund)


# --- after-sale requests -----------------------------------------------------------------------------
# Shopify sends no buyer refund request (a refund is the merchant's act: refunds/create). What is still open on
# the platform comes as a Shopify Payments dispute (`disputes/create`, `disputes/update`: the REST Dispute
# resource, shopify.dev admin-rest Dispute: id, order_id, type inquiry|chargeback, amount, currency, reason,
# network_reason_code, status, evidence_due_by, initiated_at...) or as a return the buyer asks for
# (`returns/request`: id, status "requested", order {id, admin_graphql_api_id}, return_line_items with
# quantity, return_reason, return_reason_note, customer_note and the fulfilled line item). Neither shows in
# the order poll, which reads orders only: Shopify retries these webhooks as it retries every other.

DISPUTE_TOPICS = frozenset({"disputes/create", "disputes/update"})
DISPUTE_SETTLED = frozenset({"won", "lost", "accepted", "charge_refunded", "prevented"})


def dispute_event(dispute: Mapping[str, Any], event_id: str | None) -> OrderEvent | None:
    """A dispute on the charge of an order; None for one on a charge without an order (nothing to follow)."""
    order_id = dispute.get("order_id")
    if order_id in (None, ""):
        return None
    status = str(dispute.get("status") or "")
    stage = str(dispute.get("type") or "chargeback")
    return OrderEvent(
        kind=OrderEventKind.AFTER_SALE, external_order_id=numeric(str(order_id)), lines=[], event_id=event_id,
        platform_status=f"{stage} {status}".strip(), currency=dispute.get("currency") or None,
        occurred_at=_parse_time(dispute.get("initiated_at")), raw=dispute,
        after_sale=AfterSale(request_id=f"dispute:{dispute['id']}", kind=AfterSaleKind.DISPUTE,
                             reason=dispute.get("reason") or None, amount=_price(dispute.get("amount")),
                             closed=status in DISPUTE_SETTLED))


def return_request_event(request: Mapping[str, Any], event_id: str | None) -> OrderEvent:
    """`returns/request`: the buyer asks to send goods back; lines are the items and quantities asked for."""
    order = request.get("order") or {}
    order_id = order.get("id") or order.get("admin_graphql_api_id")
    if order_id in (None, ""):
        raise KeyError("order")
    items = request.get("return_line_items") or []
    lines = [_webhook_line(((item.get("fulfillment_line_item") or {}).get("line_item")) or {}, item.get("quantity"))
             for item in items]
    reasons = [str(item["return_reason"]).lower() for item in items if item.get("return_reason")]
    notes = [str(item[name]) for item in items for name in ("return_reason_note", "customer_note")
             if item.get(name)]
    return OrderEvent(
        kind=OrderEventKind.AFTER_SALE, external_order_id=numeric(str(order_id)), lines=lines, event_id=event_id,
        platform_status=f"return {request.get('status') or 'requested'}".lower(),
        occurred_at=_parse_time(request.get("created_at")), raw=request,
        after_sale=AfterSale(request_id=f"return:{numeric(str(request['id']))}", kind=AfterSaleKind.RETURN,
                             reason=", ".join(dict.fromkeys(reasons)) or None,
                             note=" / ".join(dict.fromkeys(notes)) or None))
