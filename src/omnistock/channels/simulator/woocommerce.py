"""Simulated WooCommerce: REST API v3 under `/woocommerce/{shop}/wp-json/wc/v3/`, with WooCommerce's own
OAuth 1.0a check for plain http (as in WC_REST_Authentication::check_oauth_signature), HTTP Basic as if
behind TLS, page + total headers, batch limits, and signed order webhooks that are never retried.

WooCommerce itself has no rate limit; the simulated one stands for the host's (429 with Retry-After).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import time
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from omnistock.channels.simulator.state import Gate, GateKind, SimListing, SimOrder, SimRegistry, SimShop
from omnistock.channels.simulator.woocommerce_catalog import (
    catalog,
    order_json,
    product_json,
    variation_json,
)

PLATFORM = "woocommerce"
RATE_LIMIT: tuple[float, int] = (20.0, 40)  # the host's limit, not WooCommerce's: it documents none
WEBHOOK_RETRIES = 0  # WooCommerce does not retry a failed delivery
CURRENCY = "USD"
MAX_PER_PAGE = 100
MAX_BATCH = 100
TIMESTAMP_WINDOW_S = 15 * 60  # WooCommerce refuses OAuth timestamps older than 15 minutes


class WooError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}

    def response(self) -> JSONResponse:
        return JSONResponse({"code": self.code, "message": self.message, "data": {"status": self.status}},
                            status_code=self.status, headers=self.headers)


# --- authentication ------------------------------------------------------------------------------------


def _rawurlencode(text: str) -> str:
    return quote(text, safe="~")


def oauth_string_to_sign(method: str, url: str, params: dict[str, str]) -> str:
    """WooCommerce's string to sign: sort the raw keys, re-encode keys and values twice (percent signs
    doubled), join `k%3Dv` with `%26`, prefix `METHOD&rawurlencode(url)&`."""
    parts = []
    for key in sorted(k for k in params if k != "oauth_signature"):
        norm_key = _rawurlencode(unquote(key)).replace("%", "%25")
        norm_value = _rawurlencode(unquote(params[key])).replace("%", "%25")
        parts.append(f"{norm_key}%3D{norm_value}")
    return f"{method.upper()}&{_rawurlencode(url)}&{'%26'.join(parts)}"


def _check_oauth(shop: SimShop, request: Request, params: dict[str, str]) -> None:
    if params.get("oauth_consumer_key") != shop.credentials.get("consumer_key"):
        raise WooError(401, "woocommerce_rest_authentication_error", "Consumer key is invalid.")
    method = params.get("oauth_signature_method", "")
    if method not in ("HMAC-SHA1", "HMAC-SHA256"):
        raise WooError(401, "woocommerce_rest_authentication_error",
                       "Invalid signature - signature method is invalid.")
    try:
        stamp = int(params.get("oauth_timestamp", ""))
    except ValueError:
        raise WooError(401, "woocommerce_rest_authentication_error", "Invalid timestamp.") from None
    if abs(time.time() - stamp) > TIMESTAMP_WINDOW_S:
        raise WooError(401, "woocommerce_rest_authentication_error", "Invalid timestamp.")
    url = f"{request.url.scheme}://{request.url.netloc}{request.url.path}"
    secret = shop.credentials.get("consumer_secret", "") + "&"
    digest = hashlib.sha1 if method == "HMAC-SHA1" else hashlib.sha256
    expected = base64.b64encode(hmac.new(secret.encode(), oauth_string_to_sign(request.method, url, params)
                                         .encode(), digest).digest()).decode()
    given = params.get("oauth_signature", "").replace(" ", "+")
    if not hmac.compare_digest(expected, given):
        raise WooError(401, "woocommerce_rest_authentication_error",
                       "Invalid signature - provided signature does not match.")
    if shop.seen_key(f"oauth-nonce:{params.get('oauth_consumer_key')}:{stamp}:{params.get('oauth_nonce')}"):
        raise WooError(401, "woocommerce_rest_authentication_error",
                       "Invalid nonce - nonce has already been used.")


def _check_basic(shop: SimShop, header: str) -> None:
    try:
        key, _, secret = base64.b64decode(header[6:]).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise WooError(401, "woocommerce_rest_authentication_error", "Consumer key is invalid.") from None
    if key != shop.credentials.get("consumer_key"):
        raise WooError(401, "woocommerce_rest_authentication_error", "Consumer key is invalid.")
    if not hmac.compare_digest(secret, shop.credentials.get("consumer_secret", "")):
        raise WooError(401, "woocommerce_rest_authentication_error", "Consumer secret is invalid.")


def authenticate(shop: SimShop, request: Request) -> None:
    params = dict(request.query_params)
    header = request.headers.get("authorization", "")
    if header.startswith("Basic "):
        _check_basic(shop, header)
    elif "oauth_signature" in params:
        _check_oauth(shop, request, params)
    else:
        raise WooError(401, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")


def _refusal(gate: Gate) -> WooError:
    if gate.kind is GateKind.DOWN:
        return WooError(503, "service_unavailable", "Service Unavailable")
    if gate.kind is GateKind.AUTH:
        return WooError(401, "woocommerce_rest_authentication_error", "Consumer key is invalid.")
    if gate.kind is GateKind.ERROR:
        return WooError(500, "internal_server_error", "There has been a critical error on this website.")
    return WooError(429, "too_many_requests", "Too Many Requests",
                    {"Retry-After": str(max(1, math.ceil(gate.retry_after)))})


# --- stock ---------------------------------------------------------------------------------------------


def _paged(items: list[dict[str, Any]], params: dict[str, str]) -> Response:
    try:
        per_page, page = int(params.get("per_page", "10")), int(params.get("page", "1"))
    except ValueError:
        raise WooError(400, "rest_invalid_param", "Invalid parameter(s): per_page, page") from None
    if not 1 <= per_page <= MAX_PER_PAGE or page < 1:
        raise WooError(400, "rest_invalid_param",
                       f"Invalid parameter(s): per_page (between 1 and {MAX_PER_PAGE} inclusive)")
    pages = math.ceil(len(items) / per_page)
    chosen = items[(page - 1) * per_page: page * per_page]
    return JSONResponse(chosen, headers={"X-WP-Total": str(len(items)), "X-WP-TotalPages": str(pages)})


def _apply_stock(shop: SimShop, listing: SimListing, change: dict[str, Any]) -> None:
    if "manage_stock" in change:
        listing.extra["manage_stock"] = "yes" if change["manage_stock"] else "no"
    quantity = change.get("stock_quantity")
    if quantity is not None and listing.extra.get("manage_stock", "yes") == "yes":
        shop.set_quantity(listing.external_id, int(quantity), "api")  # ignored when stock is not managed


def _find(shop: SimShop, product: int, variation: int | None) -> SimListing:
    external_id = str(product) if variation is None else f"{product}/{variation}"
    listing = shop.listings.get(external_id)
    if listing is None:
        code = "woocommerce_rest_product_invalid_id" if variation is None else "woocommerce_rest_invalid_id"
        raise WooError(404 if variation is None else 400, code, "Invalid ID.")
    return listing


def _update(shop: SimShop, product: int, variation: int | None, change: Any) -> dict[str, Any]:
    if not isinstance(change, dict):
        raise WooError(400, "rest_invalid_json", "Invalid JSON body passed.")
    with shop.lock:
        listing = _find(shop, product, variation)
        _apply_stock(shop, listing, change)
        return variation_json(listing) if variation is not None else product_json(product, [listing])


def _batch(shop: SimShop, product: int | None, body: Any) -> dict[str, Any]:
    updates = body.get("update", []) if isinstance(body, dict) else None
    if not isinstance(updates, list):
        raise WooError(400, "rest_invalid_json", "Invalid JSON body passed.")
    if len(updates) > MAX_BATCH:
        raise WooError(413, "woocommerce_rest_request_entity_too_large",
                       f"Unable to accept more than {MAX_BATCH} items for this request.")
    answers = []
    for change in updates:
        ident = change.get("id") if isinstance(change, dict) else None
        try:
            if not isinstance(ident, int):
                raise WooError(400, "woocommerce_rest_invalid_id", "Invalid ID.")
            answers.append(_update(shop, product if product is not None else ident,
                                   ident if product is not None else None, change))
        except WooError as exc:
            answers.append({"id": ident or 0, "error": {"code": exc.code, "message": exc.message,
                                                        "data": {"status": exc.status}}})
    return {"update": answers}


# --- orders --------------------------------------------------------------------------------------------


def _time_param(params: dict[str, str], name: str) -> datetime | None:
    text = params.get(name)
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise WooError(400, "rest_invalid_param", f"Invalid parameter(s): {name}") from None
    # Without dates_are_gmt the site zone applies; the simulated site runs on UTC either way.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _orders(shop: SimShop, params: dict[str, str]) -> list[dict[str, Any]]:
    after, before = _time_param(params, "modified_after"), _time_param(params, "modified_before")
    with shop.lock:
        found = list(shop.orders.values())
    # Stored to the second, compared strictly, as WP_Query's date_query does.
    stamp = {o.id: o.modified_at.replace(microsecond=0) for o in found}
    found = [o for o in found
             if (after is None or stamp[o.id] > after) and (before is None or stamp[o.id] < before)]
    key = {"modified": lambda o: (stamp[o.id], int(o.id)), "id": lambda o: (int(o.id),)}.get(
        params.get("orderby", "date"), lambda o: (o.created_at, int(o.id)))
    found.sort(key=key, reverse=params.get("order", "desc") == "desc")
    return [order_json(o) for o in found]


def router(registry: SimRegistry) -> APIRouter:
    api = APIRouter(tags=["woocommerce"])
    prefix = "/woocommerce/{shop_code}/wp-json/wc/v3"

    async def handle(shop_code: str, request: Request, op: str) -> tuple[SimShop, Any]:
        try:
            shop = registry.shop(shop_code)
        except KeyError:
            raise WooError(404, "rest_no_route",
                           "No route was found matching the URL and request method.") from None
        authenticate(shop, request)
        gate = await shop.gate(op)
        if not gate.ok:
            raise _refusal(gate)
        raw = await request.body()
        try:
            return shop, json.loads(raw) if raw else None
        except ValueError:
            raise WooError(400, "rest_invalid_json", "Invalid JSON body passed.") from None

    @api.get(prefix + "/products")
    async def list_products(shop_code: str, request: Request) -> Response:
        try:
            shop, _ = await handle(shop_code, request, "read_stock")
            products = [product_json(pid, listings) for pid, listings in catalog(shop).items()]
            return _paged(products, dict(request.query_params))
        except WooError as exc:
            return exc.response()

    @api.get(prefix + "/products/{product:int}/variations")
    async def list_variations(shop_code: str, product: int, request: Request) -> Response:
        try:
            shop, _ = await handle(shop_code, request, "read_stock")
            listings = [li for li in catalog(shop).get(product, []) if "/" in li.external_id]
            listings.sort(key=lambda li: int(li.external_id.split("/")[1]))
            return _paged([variation_json(li) for li in listings], dict(request.query_params))
        except WooError as exc:
            return exc.response()

    @api.api_route(prefix + "/products/{product:int}", methods=["PUT", "POST", "PATCH"])
    async def update_product(shop_code: str, product: int, request: Request) -> Response:
        try:
            shop, body = await handle(shop_code, request, "set_stock")
            return JSONResponse(_update(shop, product, None, body))
        except WooError as exc:
            return exc.response()

    @api.api_route(prefix + "/products/{product:int}/variations/{variation:int}",
                   methods=["PUT", "POST", "PATCH"])
    async def update_variation(shop_code: str, product: int, variation: int, request: Request) -> Response:
        try:
            shop, body = await handle(shop_code, request, "set_stock")
            return JSONResponse(_update(shop, product, variation, body))
        except WooError as exc:
            return exc.response()

    @api.post(prefix + "/products/batch")
    async def batch_products(shop_code: str, request: Request) -> Response:
        try:
            shop, body = await handle(shop_code, request, "set_stock")
            return JSONResponse(_batch(shop, None, body))
        except WooError as exc:
            return exc.response()

    @api.post(prefix + "/products/{product:int}/variations/batch")
    async def batch_variations(shop_code: str, product: int, request: Request) -> Response:
        try:
            shop, body = await handle(shop_code, request, "set_stock")
            return JSONResponse(_batch(shop, product, body))
        except WooError as exc:
            return exc.response()

    @api.get(prefix + "/orders")
    async def list_orders(shop_code: str, request: Request) -> Response:
        try:
            shop, _ = await handle(shop_code, request, "orders")
            return _paged(_orders(shop, dict(request.query_params)), dict(request.query_params))
        except WooError as exc:
            return exc.response()

    return api


# --- webhooks ------------------------------------------------------------------------------------------


def order_webhook(shop: SimShop, order: SimOrder, event: str,
                  status: str | None = None) -> tuple[dict[str, str], bytes] | None:
    """`order.created` for a new order, `order.updated` for every later change (a cancellation included).

    `status` shows the order in a WooCommerce status the neutral ones do not cover (`pending`, `on-hold`,
    `failed`): what a shop sends for an unpaid checkout, a bank transfer awaited or a declined card."""
    action = "created" if event == "created" else "updated"
    payload = order_json(order)
    if status is not None:
        payload["status"] = status
    body = json.dumps(payload, separators=(",", ":")).encode()
    secret = shop.credentials.get("webhook_secret", "")
    signature = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "WooCommerce/9.4.0 Hookshot (WordPress/6.7)",
        "X-WC-Webhook-Source": f"https://{shop.code}.example/",
        "X-WC-Webhook-Topic": f"order.{action}",
        "X-WC-Webhook-Resource": "order",
        "X-WC-Webhook-Event": action,
        "X-WC-Webhook-Signature": signature,
        "X-WC-Webhook-ID": "1" if action == "created" else "2",
        "X-WC-Webhook-Delivery-ID": uuid.uuid4().hex,
    }
    return headers, body
