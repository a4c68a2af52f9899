"""WooCommerce through REST API v3: absolute stock on products and variations, paged stock reads, orders
polled and received by webhook.

Wire format (CHANNEL_APIS.md, checked against the WooCommerce REST API docs, WooCommerce's
WC_REST_Authentication and the official client github.com/woocommerce/wc-api-php, November 2026):

- `{base_url}/wp-json/wc/v3/…`. Over https: HTTP Basic with the consumer key and secret. Over plain http:
  OAuth 1.0a one-legged in the query string (`oauth_consumer_key, oauth_nonce, oauth_signature_method=
  HMAC-SHA256, oauth_timestamp, oauth_signature`), signed over every query parameter but never the body,
  keyed with `consumer_secret&` (see `woocommerce_payloads.oauth_string_to_sign`).
- stock: `PUT products/{id}` or `products/{id}/variations/{vid}` with `{"manage_stock": true,
  "stock_quantity": N}` (absolute); several at once through `POST products/batch` or
  `products/{id}/variations/batch` `{"update": [...]}`, at most 100 per call, variations grouped by
  their parent. Each answer is checked: an item the shop did not take (error, or another quantity) fails.
- stock reads: `GET products?per_page=100&page=N&orderby=id&order=asc`, and the variations of every
  variable product; pages from `X-WP-TotalPages`. Listing ids: "<product_id>" or
  "<product_id>/<variation_id>".
- orders: `GET orders?modified_after&modified_before&dates_are_gmt=true&orderby=modified&order=asc&page`;
  webhooks `order.created`, `order.updated`, `order.deleted` signed with `X-WC-Webhook-Signature`
  (base64 HMAC-SHA256 of the raw body), event id `X-WC-Webhook-Delivery-ID`. WooCommerce never retries a
  delivery: polling is what catches up.
- after-sale requests: WooCommerce core has none to send. Buyers cannot ask for a refund or a return in the
  shop (a refund is the merchant's own act and shows as status `refunded`), and a card dispute lives with the
  payment gateway (Stripe, PayPal…), not in the REST API; extensions that add return requests bring their
  own endpoints. Nothing is mapped to AFTER_SALE here.
- rate limit: WooCommerce documents none (hosts may add one); 5 calls/s with a burst of 10 is a courteous
  default, and 429/503 with `Retry-After` are honoured as throttling.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar

import httpx
from pydantic import BaseModel, ConfigDict, Field

from omnistock.channels.base import OrderEvent, PlatformItem, RateLimit, StockPage, StockResult, StockUpdate
from omnistock.channels.http import make_client, raise_for_http_status, transport_errors
from omnistock.channels.signing import hmac_sha256_base64, same
from omnistock.channels.woocommerce_payloads import (
    batch_error,
    deleted_event,
    order_event,
    query_time,
    signed_query,
    split_external_id,
    stock_item,
)
from omnistock.errors import (
    ChannelError,
    Invalid,
    PlatformAuthFailed,
    PlatformInvalid,
    PlatformNotFound,
    PlatformTransient,
    SignatureInvalid,
)

PER_PAGE = 100
MAX_BATCH = 100
ORDER_TOPICS = frozenset({"order.created", "order.updated", "order.restored"})

Target = tuple[StockUpdate, int]  # an update and the id it is written under (product or variation)


class WooCommerceSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_url: str = Field(pattern=r"^https?://", description="the site, e.g. https://shop.example.com")
    consumer_key: str
    consumer_secret: str
    webhook_secret: str


class WooCommerceAdapter:
    kind: ClassVar[str] = "woocommerce"
    settings_model: ClassVar[type[BaseModel]] = WooCommerceSettings
    secret_fields: ClassVar[frozenset[str]] = frozenset({"consumer_key", "consumer_secret", "webhook_secret"})
    limits: ClassVar[RateLimit] = RateLimit(per_second=5.0, burst=10)
    max_batch: ClassVar[int] = MAX_BATCH
    webhook_ack: ClassVar[tuple[int, str, bytes]] = (200, "text/plain", b"")

    def __init__(self, settings: WooCommerceSettings | Mapping[str, Any], *,
                 client: httpx.Client | None = None) -> None:
        self.settings = (settings if isinstance(settings, WooCommerceSettings)
                         else WooCommerceSettings.model_validate(settings))
        self._client = make_client(client)
        self._owns_client = client is None
        self._api = f"{self.settings.base_url.rstrip('/')}/wp-json/wc/v3"
        self._basic = self.settings.base_url.startswith("https://")

    # --- HTTP --------------------------------------------------------------------------------------

    def request(self, method: str, path: str, params: Mapping[str, Any] | None = None,
                body: Any = None) -> httpx.Response:
        url = f"{self._api}/{path}"
        query = {name: str(value).lower() if isinstance(value, bool) else str(value)
                 for name, value in (params or {}).items()}
        auth: tuple[str, str] | None = None
        if self._basic:
            auth = (self.settings.consumer_key, self.settings.consumer_secret)
        else:
            query = signed_query(method, url, query, self.settings.consumer_key,
                                 self.settings.consumer_secret, nonce=uuid.uuid4().hex,
                                 timestamp=int(time.time()))
        content = None if body is None else json.dumps(body)
        headers = None if body is None else {"Content-Type": "application/json"}
        with transport_errors("woocommerce"):
            response = self._client.request(method, url, params=query, auth=auth, content=content,
                                            headers=headers)
        self._check(response)
        return response

    def _check(self, response: httpx.Response) -> None:
        if response.status_code < 400:
            return
        try:
            error = response.json()
        except ValueError:
            error = {}
        error = error if isinstance(error, dict) else {}
        code, message = error.get("code"), error.get("message") or response.text[:200]
        if response.status_code in (401, 403):
            raise PlatformAuthFailed(
                f"woocommerce: {self.settings.base_url} refused the consumer key/secret (HTTP "
                f"{response.status_code}: {message}); check the REST API key and its read/write permission",
                code=code, http_status=response.status_code)
        raise_for_http_status("woocommerce", response)
        missing = response.status_code == 404 or "invalid_id" in str(code)
        kind = PlatformNotFound if missing else PlatformInvalid
        raise kind(f"woocommerce: {message}", code=code, http_status=response.status_code)

    def _json(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            raise PlatformTransient("woocommerce: answer is not JSON",
                                    http_status=response.status_code) from exc

    # --- stock -------------------------------------------------------------------------------------

    def set_stock(self, updates: Sequence[StockUpdate]) -> list[StockResult]:
        results: dict[str, StockResult] = {}
        groups: dict[int | None, list[Target]] = {}  # None: simple products; else the parent's variations
        for update in updates:
            try:
                product, variation = split_external_id(update.external_id)
            except ValueError as exc:
                results[update.external_id] = StockResult(update.external_id, False,
                                                          PlatformInvalid(str(exc)))
                continue
            if variation is None:
                groups.setdefault(None, []).append((update, product))
            else:
                groups.setdefault(product, []).append((update, variation))
        try:
            for parent, targets in groups.items():
                for start in range(0, len(targets), MAX_BATCH):
                    results.update(self._write(parent, targets[start:start + MAX_BATCH]))
        except ChannelError as exc:
            # Throttling, auth or an outage stops the round; what was already written stays reported.
            if not any(result.ok for result in results.values()):
                raise
            for update in updates:
                results.setdefault(update.external_id, StockResult(update.external_id, False, exc))
        return [results[update.external_id] for update in updates]

    def _write(self, parent: int | None, targets: list[Target]) -> dict[str, StockResult]:
        base = "products" if parent is None else f"products/{parent}/variations"
        if len(targets) == 1:
            update, ident = targets[0]
            try:
                answer = self._json(self.request("PUT", f"{base}/{ident}", body=_change(update)))
            except (PlatformNotFound, PlatformInvalid) as exc:
                return {update.external_id: StockResult(update.external_id, False, exc)}
            return {update.external_id: _taken(update, answer)}
        changes = [{"id": ident, **_change(update)} for update, ident in targets]
        answer = self._json(self.request("POST", f"{base}/batch", body={"update": changes}))
        items = (answer or {}).get("update") or []
        answered = {item.get("id"): item for item in items if isinstance(item, dict)}
        results = {}
        for update, ident in targets:
            item = answered.get(ident)
            if item is None:
                missing = PlatformInvalid(f"woocommerce: id {ident} missing from the answer")
                results[update.external_id] = StockResult(update.external_id, False, missing)
            elif isinstance(item.get("error"), dict):
                results[update.external_id] = StockResult(update.external_id, False,
                                                          batch_error(item["error"]))
            else:
                results[update.external_id] = _taken(update, item)
        return results

    def fetch_stock(self, cursor: str | None = None) -> StockPage:
        if cursor is not None and not cursor.isdigit():
            raise Invalid(f"woocommerce: unknown stock cursor {cursor!r}", field="cursor")
        page = int(cursor or 1)
        response = self.request("GET", "products", {"per_page": PER_PAGE, "page": page, "orderby": "id",
                                                   "order": "asc"})
        items: list[PlatformItem] = []
        for product in self._json(response) or []:
            if product.get("type") == "variable":
                items += [stock_item(f"{product['id']}/{v['id']}", v, v.get("name") or product.get("name"))
                          for v in self._variations(int(product["id"]))]
            else:
                items.append(stock_item(str(product["id"]), product))
        pages = int(response.headers.get("X-WP-TotalPages") or 0)
        return StockPage(items=items, next_cursor=str(page + 1) if page < pages else None)

    def _variations(self, product: int) -> Iterator[dict[str, Any]]:
        yield from self._pages(f"products/{product}/variations", {"orderby": "id", "order": "asc"})

    def _pages(self, path: str, params: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        page = 1
        while True:
            response = self.request("GET", path, {**params, "per_page": PER_PAGE, "page": page})
            yield from self._json(response) or []
            if page >= int(response.headers.get("X-WP-TotalPages") or 0):
                return
            page += 1

    # --- orders ------------------------------------------------------------------------------------

    def fetch_orders(self, since: datetime, until: datetime) -> list[OrderEvent]:
        params = {"modified_after": query_time(since, -1), "modified_before": query_time(until, +1),
                  "dates_are_gmt": True, "orderby": "modified", "order": "asc"}
        events = [order_event(order, since=since) for order in self._pages("orders", params)]
        return [event for event in events if event is not None]

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[OrderEvent]:
        given = {name.lower(): value for name, value in headers.items()}
        topic = given.get("x-wc-webhook-topic")
        if topic is None and body.startswith(b"webhook_id="):
            return []  # the unsigned ping WooCommerce sends when a webhook is saved
        signature = given.get("x-wc-webhook-signature", "")
        if not signature or not same(hmac_sha256_base64(self.settings.webhook_secret, body), signature):
            raise SignatureInvalid("woocommerce: X-WC-Webhook-Signature does not match the body")
        event_id = given.get("x-wc-webhook-delivery-id") or None
        try:
            payload = json.loads(body)
            if topic == "order.deleted":
                return [deleted_event(payload, event_id)]
            if topic in ORDER_TOPICS:
                event = order_event(payload, topic=topic, event_id=event_id)
                return [event] if event is not None else []
        except (KeyError, TypeError, ValueError) as exc:
            raise Invalid(f"woocommerce: {topic} webhook without the expected fields ({exc})") from exc
        return []  # product and customer topics carry no order

    def test_connection(self) -> None:
        self.request("GET", "products", {"per_page": 1})

    def close(self) -> None:
        if self._owns_client:
            self._client.close()


def _change(update: StockUpdate) -> dict[str, Any]:
    return {"manage_stock": True, "stock_quantity": max(0, update.quantity)}


def _taken(update: StockUpdate, answer: Any) -> StockResult:
    """Success only when the shop shows what was sent (a product not managing stock ignores the quantity)."""
    shown = answer.get("stock_quantity") if isinstance(answer, dict) else None
    if shown != max(0, update.quantity):
        refused = PlatformInvalid(f"woocommerce: {update.external_id} shows {shown} after the update")
        return StockResult(update.external_id, False, refused)
    return StockResult(update.external_id, True)
