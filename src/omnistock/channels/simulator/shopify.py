"""Simulated Shopify: the Admin GraphQL endpoint with cost-based throttling, and signed order webhooks.

Endpoint: `POST /shopify/{shop}/admin/api/{version}/graphql.json` with `X-Shopify-Access-Token`.
Root fields: `shop`, `productVariant(id:)`, `location(id:)` (with `inventoryLevels`), `orders`, `order(id:)`,
and the mutation `inventorySetQuantities(input:)`. Root-field string/ID/input arguments must be passed as
variables, as omnistock's adapter does. The requested cost is a simplified version of Shopify's rule
(objects 1, connections 2 + first × node cost, mutations 10; over 1000 is MAX_COST_EXCEEDED); the bucket
must hold the requested cost and gets back what the answer did not use; calls over the bucket get Shopify's
`THROTTLED` error with HTTP 200 and `extensions.cost.throttleStatus`; the injected overload fault gives
HTTP 429 with `Retry-After`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from omnistock.channels.simulator import gql
from omnistock.channels.simulator.gql import Field, GraphQLError
from omnistock.channels.simulator.shopify_schema import (
    gid,
    iso,
    location_id,
    location_obj,
    numeric,
    order_obj,
    orders_connection,
    set_quantities,
    variant_obj,
)
from omnistock.channels.simulator.state import Gate, GateKind, SimAfterSale, SimOrder, SimRegistry, SimShop

PLATFORM = "shopify"
# GraphQL Admin API, Standard plan: restores 100 cost points per second (shopify.dev "GraphQL Admin API
# rate limits"); the bucket holds 20 seconds of restore, as Shopify reports in throttleStatus.
RATE_LIMIT: tuple[float, int] = (100.0, 2000)
WEBHOOK_RETRIES = 8  # Shopify retries a failed delivery 8 times over 4 hours
CURRENCY = "USD"
AUTH_ERROR = "[API] Invalid API key or access token (unrecognized login or wrong password)"
MUTATION_COST = 10
MAX_QUERY_COST = 1000  # Shopify refuses a single query whose requested cost is higher

TOPICS = {"created": "orders/create", "updated": "orders/updated", "cancelled": "orders/cancelled",
          "refunded": "refunds/create"}
# Idempotent mutation results, by (shop, key): a retried call gets the first answer back.
_idempotent_results: dict[tuple[str, str], dict[str, Any]] = {}


def requested_cost(fields: list[Field], variables: dict[str, Any], mutation: bool = False) -> int:
    if mutation:
        return MUTATION_COST
    total = 0
    for f in fields:
        if not f.selections:
            continue
        first = gql.substitute(f.args.get("first"), variables)
        inner = requested_cost(f.selections, variables)
        if isinstance(first, int):
            total += 2 + first * max(1, inner)
        elif f.name in ("nodes", "edges", "node", "pageInfo"):
            total += inner  # the wrapper itself is priced by the connection above
        else:
            total += 1 + inner
    return total


def actual_cost(data: Any, mutation: bool = False) -> int:
    """What the answer really cost: one point per object returned (mutations cost their fixed price)."""
    if mutation:
        return MUTATION_COST
    if isinstance(data, dict):
        return 1 + sum(actual_cost(v) for v in data.values())
    if isinstance(data, list):
        return sum(actual_cost(v) for v in data)
    return 0


def _query_roots(shop: SimShop, version: str) -> dict[str, Any]:
    def product_variant(args: dict[str, Any]) -> dict[str, Any] | None:
        listing = shop.listings.get(numeric(str(args.get("id") or "")))
        return variant_obj(shop, listing) if listing else None

    def location(args: dict[str, Any]) -> dict[str, Any] | None:
        return location_obj(shop) if numeric(str(args.get("id") or "")) == location_id(shop) else None

    def order(args: dict[str, Any]) -> dict[str, Any] | None:
        found = shop.orders.get(numeric(str(args.get("id") or "")))
        return order_obj(shop, found) if found else None

    return {"__typename": "QueryRoot", "productVariant": product_variant, "location": location,
            "order": order, "orders": lambda args: orders_connection(shop, args),
            "shop": {"__typename": "Shop", "name": shop.code, "myshopifyDomain": f"{shop.code}.myshopify.com",
                     "currencyCode": shop.currency}}


def _mutation_roots(shop: SimShop, version: str, directives: dict[str, dict[str, Any]]) -> dict[str, Any]:
    def inventory_set_quantities(args: dict[str, Any]) -> dict[str, Any]:
        key = directives.get("idempotent", {}).get("key")
        if key is not None and (shop.code, str(key)) in _idempotent_results:
            return _idempotent_results[(shop.code, str(key))]
        payload = set_quantities(shop, version, args.get("input"))
        if key is not None:
            _idempotent_results[(shop.code, str(key))] = payload
        return payload

    return {"__typename": "Mutation", "inventorySetQuantities": inventory_set_quantities}


def _require_variables(fields: list[Field]) -> None:
    for f in fields:
        for name, value in f.args.items():
            if isinstance(value, (str, dict, list)) and not isinstance(value, gql.EnumValue):
                raise GraphQLError(f"The simulator requires argument '{name}' of '{f.name}' as a variable "
                                   f"(got a literal)", "LITERAL_ARGUMENT", [f.key])


def _operation_name(fields: list[Field]) -> str:
    names = {f.name for f in fields}
    if "inventorySetQuantities" in names:
        return "set_stock"
    if names & {"orders", "order"}:
        return "orders"
    if names & {"location", "productVariant"}:
        return "read_stock"
    return "other"


def _throttle_status(shop: SimShop) -> dict[str, float]:
    return {"maximumAvailable": float(shop.bucket.capacity),
            "currentlyAvailable": float(int(shop.bucket.available)), "restoreRate": float(shop.bucket.rate)}


def _refusal(shop: SimShop, gate: Gate, cost: int) -> Response:
    if gate.kind is GateKind.DOWN:
        return JSONResponse({"errors": "Service Unavailable"}, status_code=503)
    if gate.kind is GateKind.AUTH:
        return JSONResponse({"errors": AUTH_ERROR}, status_code=401)
    if gate.kind is GateKind.ERROR:
        return JSONResponse({"errors": "Internal Server Error"}, status_code=500)
    if gate.overload:
        return JSONResponse({"errors": "Exceeded 2 calls per second for api client. Reduce request rates to "
                             "resume uninterrupted service."}, status_code=429,
                            headers={"Retry-After": str(max(1, math.ceil(gate.retry_after)))})
    return JSONResponse({
        "errors": [{"message": "Throttled", "extensions": {
            "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
        "extensions": {"cost": {"requestedQueryCost": cost, "actualQueryCost": None,
                                "throttleStatus": _throttle_status(shop)}},
    })


def router(registry: SimRegistry) -> APIRouter:
    api = APIRouter(tags=["shopify"])

    @api.post("/shopify/{shop_code}/admin/api/{version}/graphql.json")
    async def graphql(shop_code: str, version: str, request: Request) -> Response:
        try:
            shop = registry.shop(shop_code)
        except KeyError:
            return JSONResponse({"errors": "Not Found"}, status_code=404)
        if request.headers.get("x-shopify-access-token") != shop.credentials.get("access_token"):
            with shop.lock:
                shop.calls["auth_failed"] += 1
            return JSONResponse({"errors": AUTH_ERROR}, status_code=401)
        try:
            body = json.loads(await request.body())
            query, variables = body["query"], body.get("variables") or {}
            if not isinstance(query, str) or not isinstance(variables, dict):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"errors": {"query": "Required parameter missing or invalid"}},
                                status_code=400)
        try:
            operation = gql.parse(query, body.get("operationName"))
            variables = {**operation.variable_defaults, **variables}
            _require_variables(operation.selections)
        except GraphQLError as exc:
            return JSONResponse({"errors": [exc.as_json()]})
        mutation = operation.kind == "mutation"
        cost = requested_cost(operation.selections, variables, mutation)
        if cost > MAX_QUERY_COST:
            return JSONResponse({"errors": [{
                "message": f"Query cost is {cost}, which exceeds the single query max cost limit "
                           f"({MAX_QUERY_COST}).",
                "extensions": {"code": "MAX_COST_EXCEEDED", "cost": cost, "maxCost": MAX_QUERY_COST}}]})
        gate = await shop.gate(_operation_name(operation.selections), cost)
        if not gate.ok:
            return _refusal(shop, gate, cost)
        roots: dict[str, Any]
        try:
            if mutation:
                if len(operation.selections) != 1:
                    raise GraphQLError("The simulator runs one mutation field per request")
                roots = _mutation_roots(shop, version, operation.selections[0].directives)
            else:
                roots = _query_roots(shop, version)
            data = gql.execute(roots, operation.selections, variables)
        except GraphQLError as exc:
            return JSONResponse({"errors": [exc.as_json()]})
        actual = min(cost, actual_cost(data, mutation))
        shop.bucket.give_back(cost - actual)
        return JSONResponse({"data": data, "extensions": {"cost": {
            "requestedQueryCost": cost, "actualQueryCost": actual,
            "throttleStatus": _throttle_status(shop)}}})

    return api


# --- webhooks -----------------------------------------------------------------------------------------


def _order_payload(shop: SimShop, order: SimOrder) -> dict[str, Any]:
    name = order.customer.get("name", "").split(" ", 1)
    return {
        "id": int(order.id), "admin_graphql_api_id": gid("Order", order.id), "name": f"#{order.id}",
        "created_at": iso(order.created_at), "updated_at": iso(order.modified_at),
        "cancelled_at": iso(order.modified_at) if order.status == "cancelled" else None,
        "cancel_reason": "customer" if order.status == "cancelled" else None,
        "financial_status": "refunded" if order.status == "refunded" else "paid",
        "fulfillment_status": "fulfilled" if order.status == "shipped" else None,
        "currency": order.currency, "email": order.customer.get("email"),
        "phone": order.customer.get("phone"),
        "customer": {"first_name": name[0] or None, "last_name": name[1] if len(name) > 1 else None,
                     "email": order.customer.get("email"), "phone": order.customer.get("phone")}
        if order.customer else None,
        "line_items": [_line_payload(order, n) for n in range(len(order.lines))],
    }


def _line_payload(order: SimOrder, index: int) -> dict[str, Any]:
    line = order.lines[index]
    return {"id": int(f"{order.id}{index + 1:03d}"), "variant_id": int(line.external_id)
            if line.external_id.isdigit() else None, "sku": line.external_sku, "quantity": line.qty,
            "price": str(line.unit_price), "name": line.external_sku or line.external_id}


def _refund_payload(order: SimOrder) -> dict[str, Any]:
    return {"id": int(f"9{order.id}"), "order_id": int(order.id), "created_at": iso(order.modified_at),
            "admin_graphql_api_id": gid("Refund", f"9{order.id}"), "restock": False,
            "refund_line_items": [
                {"id": int(f"8{order.id}{n + 1:03d}"), "line_item_id": int(f"{order.id}{n + 1:03d}"),
                 "quantity": line.qty, "restock_type": "no_restock", "line_item": _line_payload(order, n)}
                for n, line in enumerate(order.lines)]}


def sign(secret: str, body: bytes) -> str:
    """Shopify's X-Shopify-Hmac-Sha256: base64 HMAC-SHA256 of the raw body (written here, not imported)."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


_payloads: dict[str, Callable[[SimShop, SimOrder], dict[str, Any]]] = {
    "refunded": lambda shop, order: _refund_payload(order),
}


def order_webhook(shop: SimShop, order: SimOrder, event: str) -> tuple[dict[str, str], bytes] | None:
    topic = TOPICS.get(event)
    if topic is None:
        return None
    return _signed(shop, topic, _payloads.get(event, _order_payload)(shop, order))


def _dispute_payload(order: SimOrder, request: SimAfterSale) -> dict[str, Any]:
    """The REST Dispute resource, as `disputes/create` sends it."""
    amount = sum((line.unit_price * line.qty for line in order.lines), Decimal(0))
    return {"id": int(request.id), "order_id": int(order.id), "type": "chargeback", "currency": order.currency,
            "amount": f"{amount:.2f}", "reason": request.reason or "general", "network_reason_code": "4855",
            "status": "needs_response", "evidence_due_by": iso(request.created_at + timedelta(days=7)),
            "evidence_sent_on": None, "finalized_on": None, "initiated_at": iso(request.created_at)}


def _return_payload(order: SimOrder, request: SimAfterSale) -> dict[str, Any]:
    """The Return as `returns/request` sends it: every line of the order asked back, with the buyer's reason."""
    return {"id": int(request.id), "admin_graphql_api_id": gid("Return", request.id), "status": "requested",
            "name": f"#{order.id}-R1", "order": {"id": int(order.id), "admin_graphql_api_id": gid("Order", order.id)},
            "created_at": iso(request.created_at), "total_return_line_items": len(order.lines),
            "return_line_items": [
                {"id": int(f"{request.id}{n + 1:03d}"), "admin_graphql_api_id": gid("ReturnLineItem",
                                                                                     f"{request.id}{n + 1:03d}"),
                 "quantity": line.qty, "return_reason": request.reason or "other", "return_reason_note": "",
                 "customer_note": request.note or None,
                 "fulfillment_line_item": {"id": int(f"7{order.id}{n + 1:03d}"), "line_item": _line_payload(order, n)}}
                for n, line in enumerate(order.lines)],
            "exchange_line_items": [], "total_exchange_line_items": 0}


def after_sale_webhook(shop: SimShop, order: SimOrder,
                       request: SimAfterSale) -> tuple[dict[str, str], bytes] | None:
    """A dispute comes as `disputes/create`, a return request as `returns/request`; Shopify has no buyer refund
    or exchange request of its own (the merchant refunds, an exchange is a return with exchange lines)."""
    if request.kind == "dispute":
        return _signed(shop, "disputes/create", _dispute_payload(order, request))
    if request.kind == "return":
        return _signed(shop, "returns/request", _return_payload(order, request))
    return None


def _signed(shop: SimShop, topic: str, payload: dict[str, Any]) -> tuple[dict[str, str], bytes]:
    body = json.dumps(payload, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": sign(shop.credentials.get("webhook_secret", ""), body),
        "X-Shopify-Shop-Domain": f"{shop.code}.myshopify.com",
        "X-Shopify-API-Version": shop.credentials.get("api_version", "2026-01"),
        "X-Shopify-Webhook-Id": str(uuid.uuid4()),
        "X-Shopify-Event-Id": str(uuid.uuid4()),
        "X-Shopify-Triggered-At": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
    }
    return headers, body
