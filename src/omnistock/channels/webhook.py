"""The merchant's own web shop as a channel: omnistock POSTs signed JSON stock changes, the shop POSTs orders.

The format is omnistock's own (docs/webhook-channel.md): order messages and `after_sale.requested`. It is
signed like Shopify and WooCommerce do it — base64 HMAC-SHA256 of the raw body in `X-Omnistock-Signature` — so
that merchants can reuse known code.
GET requests (stock and order reads) have no body; their signature covers the query string instead.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar, Literal
from urllib.parse import urlencode

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from omnistock.channels.base import (
    AfterSale,
    AfterSaleKind,
    Customer,
    OrderEvent,
    OrderEventKind,
    PlatformItem,
    PlatformOrderLine,
    RateLimit,
    StockPage,
    StockResult,
    StockUpdate,
)
from omnistock.channels.http import make_client, raise_for_http_status, transport_errors
from omnistock.channels.signing import hmac_sha256_base64, same
from omnistock.errors import Invalid, PlatformInvalid, PlatformTransient, SignatureInvalid

PLATFORM = "webhook"
SIGNATURE_HEADER = "X-Omnistock-Signature"
DELIVERY_HEADER = "X-Omnistock-Delivery"
MAX_BATCH = 100


class WebhookChannelSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt `stock_url` must not silently turn reads off

    url: str                      # where stock changes are POSTed
    secret: str                   # shared HMAC key, both directions
    stock_url: str | None = None  # optional: GET the shop's stock for reconciliation
    orders_url: str | None = None  # optional: GET orders changed in a time range


# --- the incoming order format (pydantic only here, at the edge) -----------------------------------

class _Customer(BaseModel):
    name: str | None = None
    phone: str | None = None
    email: str | None = None


class _Line(BaseModel):
    external_id: str = Field(min_length=1)
    qty: int = Field(gt=0)
    unit_price: Decimal | None = None
    external_sku: str | None = None


class _Order(BaseModel):
    id: str = Field(min_length=1)
    currency: str | None = None
    customer: _Customer | None = None
    lines: list[_Line]
    updated_at: datetime | None = None


class _OrderMessage(BaseModel):
    event: Literal["order.created", "order.updated", "order.cancelled", "order.refunded", "order.shipped"]
    id: str = Field(min_length=1)
    order: _Order


class _AfterSale(BaseModel):
    id: str = Field(min_length=1)
    order_id: str = Field(min_length=1)
    kind: Literal["refund", "return", "exchange", "dispute"]
    reason: str | None = None
    note: str | None = None
    amount: Decimal | None = None
    currency: str | None = None
    customer: _Customer | None = None
    lines: list[_Line] = []
    requested_at: datetime | None = None


class _AfterSaleMessage(BaseModel):
    event: Literal["after_sale.requested"]
    id: str = Field(min_length=1)
    after_sale: _AfterSale


class _StockItem(BaseModel):
    external_id: str = Field(min_length=1)
    quantity: int
    external_sku: str | None = None
    title: str | None = None


class _StockAnswer(BaseModel):
    items: list[_StockItem]
    next_cursor: str | None = None


class _ItemResult(BaseModel):
    external_id: str
    ok: bool
    error: str | None = None


class _PushAnswer(BaseModel):
    results: list[_ItemResult] = []


def signature(secret: str, message: bytes) -> str:
    return hmac_sha256_base64(secret, message)


def _mismatch(what: str, exc: ValidationError) -> Invalid:
    return Invalid(f"webhook channel: {what} does not match the format",
                   errors=[{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()])


def order_event(message: Mapping[str, Any]) -> OrderEvent:
    """One order or after-sale message (webhook body or an entry of the orders read) as an OrderEvent."""
    if message.get("event") == "after_sale.requested":
        return after_sale_event(message)
    try:
        parsed = _OrderMessage.model_validate(message)
    except ValidationError as exc:
        raise _mismatch("order message", exc) from exc
    order = parsed.order
    customer = Customer(**order.customer.model_dump()) if order.customer else None
    lines = [PlatformOrderLine(line.external_id, line.qty, line.external_sku, line.unit_price)
             for line in order.lines]
    return OrderEvent(kind=OrderEventKind(parsed.event.removeprefix("order.")), external_order_id=order.id,
                      lines=lines, event_id=parsed.id, platform_status=parsed.event, currency=order.currency,
                      customer=customer, occurred_at=order.updated_at, raw=dict(message))


def after_sale_event(message: Mapping[str, Any]) -> OrderEvent:
    """`after_sale.requested`: the buyer asks for a refund, return or exchange (or disputes the payment) and the
    shop has not settled it yet; it changes no stock (a refund that goes through is `order.refunded`)."""
    try:
        parsed = _AfterSaleMessage.model_validate(message)
    except ValidationError as exc:
        raise _mismatch("after-sale message", exc) from exc
    request = parsed.after_sale
    return OrderEvent(
        kind=OrderEventKind.AFTER_SALE, external_order_id=request.order_id,
        lines=[PlatformOrderLine(line.external_id, line.qty, line.external_sku, line.unit_price)
               for line in request.lines],
        event_id=parsed.id, platform_status=parsed.event, currency=request.currency,
        customer=Customer(**request.customer.model_dump()) if request.customer else None,
        occurred_at=request.requested_at, raw=dict(message),
        after_sale=AfterSale(request_id=request.id, kind=AfterSaleKind(request.kind), reason=request.reason,
                             note=request.note, amount=request.amount))


class WebhookChannelAdapter:
    kind: ClassVar[str] = "webhook"
    settings_model: ClassVar[type[BaseModel]] = WebhookChannelSettings
    secret_fields: ClassVar[frozenset[str]] = frozenset({"secret"})
    limits: ClassVar[RateLimit] = RateLimit(per_second=5.0, burst=10)  # a small shop server, be gentle
    max_batch: ClassVar[int] = MAX_BATCH
    webhook_ack: ClassVar[tuple[int, str, bytes]] = (200, "application/json", b'{"ok":true}')

    def __init__(self, settings: WebhookChannelSettings | Mapping[str, Any], *,
                 client: httpx.Client | None = None) -> None:
        self.settings = (settings if isinstance(settings, WebhookChannelSettings)
                         else WebhookChannelSettings.model_validate(settings))
        self._client = make_client(client)

    # --- outgoing ----------------------------------------------------------------------------------

    def _post(self, payload: Mapping[str, Any]) -> httpx.Response:
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json", DELIVERY_HEADER: str(uuid.uuid4()),
                   SIGNATURE_HEADER: signature(self.settings.secret, body)}
        with transport_errors(PLATFORM):
            response = self._client.post(self.settings.url, content=body, headers=headers)
        self._check(response)
        return response

    def _get(self, url: str, query: Mapping[str, str]) -> Any:
        encoded = urlencode(query)
        headers = {SIGNATURE_HEADER: signature(self.settings.secret, encoded.encode("ascii"))}
        with transport_errors(PLATFORM):
            response = self._client.get(f"{url}{'&' if '?' in url else '?'}{encoded}", headers=headers)
        self._check(response)
        try:
            return response.json()
        except ValueError as exc:
            raise PlatformTransient(f"webhook channel: {url} did not answer JSON") from exc

    @staticmethod
    def _check(response: httpx.Response) -> None:
        raise_for_http_status(PLATFORM, response)
        if not 200 <= response.status_code < 300:
            raise PlatformInvalid(f"webhook channel: shop answered HTTP {response.status_code}: "
                                  f"{response.text[:200]}", http_status=response.status_code)

    def set_stock(self, updates: Sequence[StockUpdate]) -> list[StockResult]:
        results: list[StockResult] = []
        for start in range(0, len(updates), MAX_BATCH):
            batch = updates[start:start + MAX_BATCH]
            response = self._post({
                "type": "stock.set", "sent_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "items": [{"external_id": u.external_id, "external_sku": u.external_sku,
                           "quantity": max(0, u.quantity)} for u in batch]})
            results.extend(_batch_results(batch, response))
        return results

    def fetch_stock(self, cursor: str | None = None) -> StockPage:
        if not self.settings.stock_url:
            return StockPage([], None)
        try:
            answer = _StockAnswer.model_validate(self._get(self.settings.stock_url, {"cursor": cursor or ""}))
        except ValidationError as exc:
            raise PlatformInvalid(f"webhook channel: stock answer does not match the format: {exc}") from exc
        items = [PlatformItem(i.external_id, max(0, i.quantity), i.external_sku, i.title)
                 for i in answer.items]
        return StockPage(items, answer.next_cursor or None)

    def fetch_orders(self, since: datetime, until: datetime) -> list[OrderEvent]:
        if not self.settings.orders_url:
            return []
        answer = self._get(self.settings.orders_url, {"since": since.isoformat(), "until": until.isoformat()})
        events = answer.get("events") if isinstance(answer, dict) else None
        if not isinstance(events, list):
            raise PlatformInvalid("webhook channel: orders answer must be {\"events\": [...]}")
        try:
            return [order_event(e) for e in events]
        except Invalid as exc:
            raise PlatformInvalid(f"webhook channel: orders answer: {exc.message}") from exc

    # --- incoming ----------------------------------------------------------------------------------

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[OrderEvent]:
        given = {k.lower(): v for k, v in headers.items()}.get(SIGNATURE_HEADER.lower(), "")
        if not given or not same(given, signature(self.settings.secret, body)):
            raise SignatureInvalid("webhook channel: X-Omnistock-Signature does not match the body")
        try:
            message = json.loads(body)
        except ValueError as exc:
            raise Invalid("webhook channel: body is not JSON") from exc
        if not isinstance(message, dict):
            raise Invalid("webhook channel: body must be a JSON object")
        return [order_event(message)]

    def test_connection(self) -> None:
        if self.settings.stock_url:
            self.fetch_stock()
        else:
            self._post({"type": "ping", "sent_at": datetime.now(UTC).isoformat(timespec="seconds")})

    def close(self) -> None:
        self._client.close()


def _batch_results(batch: Sequence[StockUpdate], response: httpx.Response) -> list[StockResult]:
    """All items ok on a 2xx, unless the shop reported per-item results."""
    try:
        reported = _PushAnswer.model_validate(response.json()).results if response.content else []
    except (ValueError, ValidationError):
        reported = []  # a 2xx without the optional results is a success for every item
    by_id = {r.external_id: r for r in reported}
    results = []
    for update in batch:
        result = by_id.get(update.external_id)
        if result is None or result.ok:
            results.append(StockResult(update.external_id, ok=True))
        else:
            reason = result.error or "no reason given"
            results.append(StockResult(update.external_id, ok=False,
                                       error=PlatformInvalid(f"shop refused: {reason}")))
    return results
