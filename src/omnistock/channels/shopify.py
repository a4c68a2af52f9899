"""Shopify through the Admin GraphQL API: absolute stock at one location, paged stock reads, orders polled
and received by webhook.

Wire format (CHANNEL_APIS.md, checked against shopify.dev in November 2026: the `inventorySetQuantities`
reference, `InventoryQuantityInput` for 2026-01 and 2026-04, and the changelog entries "New
changeFromQuantity field" and "Making changeFromQuantity field required", December 2025):

- `POST {shop_url}/admin/api/{api_version}/graphql.json`, header `X-Shopify-Access-Token`; every value is
  passed as a GraphQL variable.
- stock: `inventorySetQuantities(input: {name: "available", reason: "correction", quantities: [...]})`,
  up to 250 quantities per call, absolute. omnistock is the source of truth, so the compare-and-set guard
  is skipped: from 2026-01 by an explicit `changeFromQuantity: null` on each quantity (mandatory from
  2026-04); before 2026-01 by `ignoreCompareQuantity: true`. Shopify applies all quantities of a call or
  none, so quantities it names in `userErrors` fail and the rest are sent again once.
- a variant's inventory item id is looked up once with `productVariant(id:) { inventoryItem { id } }`
  and handed back in `StockResult.extra_updates["inventory_item_id"]`.
- stock reads: `location(id:) { inventoryLevels(first: 250, after:) }` with the variant of each item.
- orders: `orders(query: "updated_at:>='…' updated_at:<'…'", sortKey: UPDATED_AT)` paged by cursor;
  webhooks `orders/create`, `orders/updated`, `orders/cancelled`, `refunds/create` signed with
  `X-Shopify-Hmac-Sha256` (base64 HMAC-SHA256 of the raw body); the event id is `X-Shopify-Event-Id`
  (falling back to `X-Shopify-Webhook-Id`). After-sale requests still open on the platform come by webhook
  only: `disputes/create` and `disputes/update` (Shopify Payments disputes, the REST Dispute resource) and
  `returns/request` (a return the buyer asks for); see shopify_payloads.
- throttling: cost based; a `THROTTLED` error (HTTP 200) waits (requested cost − currently available) /
  restore rate seconds from `extensions.cost.throttleStatus`; HTTP 429 waits `Retry-After`. An order poll
  waits for the bucket between its pages (a short wait, within a budget) instead of failing: each page costs
  what it returned, so a window with a few hundred orders empties the bucket part-way, and a poll that failed
  then would fail again on the same, growing window for ever.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar

import httpx
from pydantic import BaseModel, ConfigDict, Field

from omnistock.channels.base import (
    OrderEvent,
    PlatformOrderLine,
    RateLimit,
    StockPage,
    StockResult,
    StockUpdate,
)
from omnistock.channels.http import make_client, raise_for_http_status, transport_errors
from omnistock.channels.shopify_payloads import (
    DISPUTE_TOPICS,
    LEVELS,
    ORDER_LINES,
    ORDERS,
    SET_QUANTITIES,
    SHOP_AND_LOCATION,
    VARIANT_ITEM,
    dispute_event,
    gid,
    graphql_error,
    graphql_line,
    graphql_order_event,
    level_item,
    numeric,
    return_request_event,
    search_time,
    webhook_order_event,
    webhook_refund_event,
)
from omnistock.channels.signing import hmac_sha256_base64, same
from omnistock.errors import (
    ChannelError,
    Invalid,
    PlatformAuthFailed,
    PlatformInvalid,
    PlatformNotFound,
    PlatformThrottled,
    PlatformTransient,
    SignatureInvalid,
)

MAX_QUANTITIES = 250
LEVEL_PAGE = 250
ORDER_PAGE = 5  # five orders of up to 40 lines keep a page's cost (~620) under Shopify's 1000-point limit
PAGE_WAIT_S = 5.0  # the longest wait for the cost bucket between two pages of one read
READ_BUDGET_S = 60.0  # all the waiting one paged read may do before it gives up (and is retried later)
ORDER_TOPICS = frozenset({"orders/create", "orders/updated", "orders/cancelled", "orders/fulfilled",
                          "orders/paid", "orders/partially_fulfilled", "orders/edited"})
NOT_FOUND_CODES = frozenset({"INVALID_INVENTORY_ITEM", "ITEM_NOT_STOCKED_AT_LOCATION", "INVALID_LOCATION"})


class ShopifySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    shop_url: str = Field(description="https://{shop}.myshopify.com")
    access_token: str
    api_version: str = Field(default="2026-01", pattern=r"^(\d{4}-\d{2}|unstable)$")
    location_id: str = Field(description="the location omnistock's stock is shown at (number or GID)")
    webhook_secret: str


class ShopifyAdapter:
    kind: ClassVar[str] = "shopify"
    settings_model: ClassVar[type[BaseModel]] = ShopifySettings
    secret_fields: ClassVar[frozenset[str]] = frozenset({"access_token", "webhook_secret"})
    # A stock call costs 10 of the 100 points/s a Standard plan restores: 10 calls/s. The engine's share
    # stays below it so reads and order polls keep room in the same bucket.
    limits: ClassVar[RateLimit] = RateLimit(per_second=8.0, burst=20)
    max_batch: ClassVar[int] = MAX_QUANTITIES
    webhook_ack: ClassVar[tuple[int, str, bytes]] = (200, "text/plain", b"")

    def __init__(self, settings: ShopifySettings | Mapping[str, Any], *,
                 client: httpx.Client | None = None) -> None:
        self.settings = (settings if isinstance(settings, ShopifySettings)
                         else ShopifySettings.model_validate(settings))
        self._client = make_client(client)
        self._owns_client = client is None
        base = self.settings.shop_url.rstrip("/")
        self._endpoint = f"{base}/admin/api/{self.settings.api_version}/graphql.json"
        self._location = gid("Location", self.settings.location_id)

    # --- GraphQL -----------------------------------------------------------------------------------

    def graphql(self, query: str, variables: Mapping[str, Any]) -> dict[str, Any]:
        """One GraphQL call; the `data` object, or the typed error."""
        with transport_errors("shopify"):
            response = self._client.post(self._endpoint, json={"query": query, "variables": dict(variables)},
                                         headers={"X-Shopify-Access-Token": self.settings.access_token})
        if response.status_code in (401, 403):
            raise PlatformAuthFailed(
                f"shopify: the access token was refused by {self.settings.shop_url} "
                f"(HTTP {response.status_code}); check the Admin API access token of the custom app and its "
                "scopes", http_status=response.status_code)
        raise_for_http_status("shopify", response)
        if response.status_code == 404:
            raise PlatformNotFound(f"shopify: no shop or API version at {self._endpoint}", http_status=404)
        try:
            body = response.json()
        except ValueError as exc:
            raise PlatformTransient("shopify: answer is not JSON", http_status=response.status_code) from exc
        if response.status_code >= 400:
            raise PlatformInvalid(f"shopify: HTTP {response.status_code}: {str(body)[:200]}",
                                  http_status=response.status_code)
        if body.get("errors"):
            raise graphql_error(body["errors"], body.get("extensions"))
        data = body.get("data")
        if not isinstance(data, dict):
            raise PlatformInvalid("shopify: answer without data")
        return data

    # --- stock -------------------------------------------------------------------------------------

    def set_stock(self, updates: Sequence[StockUpdate]) -> list[StockResult]:
        results: dict[str, StockResult] = {}
        ready: list[tuple[StockUpdate, str]] = []
        try:
            for update in updates:
                found = self._inventory_item(update)
                if isinstance(found, StockResult):
                    results[update.external_id] = found
                else:
                    ready.append((update, found))
            for start in range(0, len(ready), MAX_QUANTITIES):
                results.update(self._push(ready[start:start + MAX_QUANTITIES], retry=True))
        except ChannelError as exc:
            # Throttling, auth or an outage stops the round; what was already written stays reported.
            if not any(result.ok for result in results.values()):
                raise
            for update in updates:
                results.setdefault(update.external_id, StockResult(update.external_id, False, exc))
        return [results[update.external_id] for update in updates]

    def _inventory_item(self, update: StockUpdate) -> str | StockResult:
        """The inventory item GID of an update, looked up through its variant when not stored yet."""
        stored = update.extra.get("inventory_item_id")
        if stored:
            return gid("InventoryItem", str(stored))
        if not numeric(update.external_id).isdigit():
            return StockResult(update.external_id, False,
                               PlatformInvalid(f"shopify: {update.external_id!r} is not a variant id"))
        data = self.graphql(VARIANT_ITEM, {"id": gid("ProductVariant", update.external_id)})
        variant = data.get("productVariant")
        if not variant or not (variant.get("inventoryItem") or {}).get("id"):
            return StockResult(update.external_id, False,
                               PlatformNotFound(f"shopify: variant {update.external_id} not found"))
        return str(variant["inventoryItem"]["id"])

    def _push(self, batch: list[tuple[StockUpdate, str]], retry: bool) -> dict[str, StockResult]:
        data = self.graphql(SET_QUANTITIES, {"input": self._set_input(batch)})
        payload = data.get("inventorySetQuantities") or {}
        errors = payload.get("userErrors") or []
        if not errors:
            return {update.external_id: StockResult(update.external_id, True,
                                                    extra_updates=self._learned(update, item))
                    for update, item in batch}
        failed: dict[int, Exception] = {}
        for error in errors:
            index = _quantity_index(error.get("field"))
            code, message = error.get("code"), error.get("message")
            kind = PlatformNotFound if code in NOT_FOUND_CODES else PlatformInvalid
            exc = kind(f"shopify: {message} ({code})", code=code)
            if index is None or index >= len(batch):
                # A fault of the whole call (name, reason...): every quantity of it failed.
                return {update.external_id: StockResult(update.external_id, False, exc)
                        for update, _ in batch}
            failed[index] = exc
        results = {batch[i][0].external_id: StockResult(batch[i][0].external_id, False, exc)
                   for i, exc in failed.items()}
        rest = [entry for i, entry in enumerate(batch) if i not in failed]
        if rest and retry:
            results.update(self._push(rest, retry=False))
        elif rest:
            for update, _ in rest:
                results[update.external_id] = StockResult(update.external_id, False,
                                                          PlatformInvalid("shopify: call rejected twice"))
        return results

    def _set_input(self, batch: list[tuple[StockUpdate, str]]) -> dict[str, Any]:
        guard_field = self.settings.api_version >= "2026-01"  # "unstable" sorts after every dated version
        quantities = []
        for update, item in batch:
            quantity: dict[str, Any] = {"inventoryItemId": item, "locationId": self._location,
                                        "quantity": max(0, update.quantity)}
            if guard_field:
                quantity["changeFromQuantity"] = None  # explicit null: no compare-and-set
            quantities.append(quantity)
        data: dict[str, Any] = {"name": "available", "reason": "correction", "quantities": quantities}
        if not guard_field:
            data["ignoreCompareQuantity"] = True
        return data

    @staticmethod
    def _learned(update: StockUpdate, item: str) -> dict[str, Any]:
        return {} if update.extra.get("inventory_item_id") else {"inventory_item_id": numeric(item)}

    def fetch_stock(self, cursor: str | None = None) -> StockPage:
        data = self.graphql(LEVELS, {"location": self._location, "first": LEVEL_PAGE, "after": cursor})
        location = data.get("location")
        if location is None:
            raise PlatformNotFound(f"shopify: location {self.settings.location_id} not found")
        levels = location["inventoryLevels"]
        found = (level_item(node) for node in levels.get("nodes") or [])
        items = [item for item in found if item is not None]
        page = levels.get("pageInfo") or {}
        return StockPage(items=items, next_cursor=page.get("endCursor") if page.get("hasNextPage") else None)

    # --- orders ------------------------------------------------------------------------------------

    def fetch_orders(self, since: datetime, until: datetime) -> list[OrderEvent]:
        query = f"updated_at:>='{search_time(since)}' updated_at:<'{search_time(until, round_up=True)}'"
        events: list[OrderEvent] = []
        after: str | None = None
        deadline = time.monotonic() + READ_BUDGET_S
        while True:
            data = self._page(ORDERS, {"query": query, "first": ORDER_PAGE, "after": after}, deadline)
            orders = data["orders"]
            for order in orders.get("nodes") or []:
                events.append(graphql_order_event(order, self._order_lines(order, deadline), since))
            page = orders.get("pageInfo") or {}
            if not page.get("hasNextPage"):
                return events
            after = page.get("endCursor")

    def _page(self, query: str, variables: Mapping[str, Any], deadline: float) -> dict[str, Any]:
        """One page of a paged read: a THROTTLED answer is waited out (the bucket refills at its restore rate)
        while the wait is short and the read's budget lasts; otherwise it is raised for the caller to retry."""
        while True:
            try:
                return self.graphql(query, variables)
            except PlatformThrottled as exc:
                wait = max(exc.retry_after, 0.05)
                if wait > PAGE_WAIT_S or time.monotonic() + wait > deadline:
                    raise
                time.sleep(wait)

    def _order_lines(self, order: Mapping[str, Any], deadline: float) -> list[PlatformOrderLine]:
        """Every line of an order, reading further line pages when an order has more than one."""
        connection = order.get("lineItems") or {}
        lines = [graphql_line(node) for node in connection.get("nodes") or []]
        while (connection.get("pageInfo") or {}).get("hasNextPage"):
            after = connection["pageInfo"]["endCursor"]
            data = self._page(ORDER_LINES, {"id": order["id"], "after": after}, deadline)
            connection = (data.get("order") or {}).get("lineItems") or {}
            lines += [graphql_line(node) for node in connection.get("nodes") or []]
        return lines

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[OrderEvent]:
        given = {name.lower(): value for name, value in headers.items()}
        signature = given.get("x-shopify-hmac-sha256", "")
        if not signature or not same(hmac_sha256_base64(self.settings.webhook_secret, body), signature):
            raise SignatureInvalid("shopify: X-Shopify-Hmac-Sha256 does not match the body")
        topic = given.get("x-shopify-topic", "")
        event_id = given.get("x-shopify-event-id") or given.get("x-shopify-webhook-id") or None
        try:
            payload = json.loads(body)
        except ValueError as exc:
            raise Invalid("shopify: webhook body is not JSON") from exc
        if not isinstance(payload, dict):
            raise Invalid("shopify: webhook body is not an object")
        try:
            if topic == "refunds/create":
                return [webhook_refund_event(payload, event_id)]
            if topic in DISPUTE_TOPICS:
                found = dispute_event(payload, event_id)
                return [found] if found is not None else []
            if topic == "returns/request":
                return [return_request_event(payload, event_id)]
            if topic in ORDER_TOPICS:
                return [webhook_order_event(topic, payload, event_id)]
        except (KeyError, TypeError, ValueError) as exc:
            raise Invalid(f"shopify: {topic} webhook without the expected fields ({exc})") from exc
        return []  # other topics (inventory, products) carry no order

    def test_connection(self) -> None:
        data = self.graphql(SHOP_AND_LOCATION, {"location": self._location})
        if data.get("location") is None:
            raise PlatformNotFound(f"shopify: location {self.settings.location_id} not found in this shop")

    def close(self) -> None:
        if self._owns_client:
            self._client.close()


def _quantity_index(field: Any) -> int | None:
    """The quantity a user error names: field ["input", "quantities", "3", ...] → 3."""
    if isinstance(field, list) and len(field) >= 3 and field[1] == "quantities" and str(field[2]).isdigit():
        return int(field[2])
    return None
