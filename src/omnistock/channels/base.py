"""The one small protocol every platform adapter implements, and the plain values it speaks.

The sync engine and order intake know only these types, never a platform's name or payloads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel


@dataclass(frozen=True)
class RateLimit:
    """A platform's documented rate limit as a token bucket: `per_second` refill, `burst` capacity."""

    per_second: float
    burst: int


@dataclass(frozen=True)
class StockUpdate:
    """Set one listing to an absolute quantity. `extra` is the listing's stored extra data."""

    external_id: str
    quantity: int
    extra: Mapping[str, Any] = field(default_factory=dict)
    external_sku: str | None = None


@dataclass(frozen=True)
class StockResult:
    """Outcome of one update inside a (batch) call. `extra_updates` is merged into the listing's extra
    (for example a Shopify inventory item id looked up once)."""

    external_id: str
    ok: bool
    error: Exception | None = None
    extra_updates: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PlatformItem:
    """One sellable item as the platform shows it (a read for reconciliation and listing proposals)."""

    external_id: str
    quantity: int
    external_sku: str | None = None  # the merchant's own code on the platform (outer id / SKU field)
    title: str | None = None
    barcode: str | None = None


@dataclass(frozen=True)
class StockPage:
    items: Sequence[PlatformItem]
    next_cursor: str | None  # None on the last page


class OrderEventKind(StrEnum):
    CREATED = "created"     # a new order that should reserve stock
    UPDATED = "updated"     # changed, still live (paid, address changed...)
    CANCELLED = "cancelled"  # release the reservation
    REFUNDED = "refunded"   # refunded after shipping or before: release or return
    SHIPPED = "shipped"     # the platform says it shipped/completed
    # The buyer asks for money or goods back, or disputes the charge, and the platform has not settled it yet:
    # stock is untouched (a refund that goes through comes later as REFUNDED); `OrderEvent.after_sale` says what.
    AFTER_SALE = "after_sale"


class AfterSaleKind(StrEnum):
    REFUND = "refund"      # money back, goods kept or never sent (仅退款, 发货前整单退款)
    RETURN = "return"      # goods sent back for a refund (退货退款, Shopify return request)
    EXCHANGE = "exchange"  # goods exchanged, resent or repaired (换货, 补寄, 维修)
    DISPUTE = "dispute"    # a third party steps in: chargeback or inquiry, 平台介入 / 客服仲裁


@dataclass(frozen=True)
class AfterSale:
    """What an AFTER_SALE event asks. `request_id` is the platform's own id of the request (after-sale, refund
    or dispute id, prefixed by what it is), the same in every later message about that request; `reason` is
    the reason as the platform words it (缺货, product_not_received); `note` the buyer's own words, where the
    platform passes them on; `closed` marks a message that the request is over on the platform (a dispute
    won or lost): worth noting where it is followed, never a new request."""

    request_id: str
    kind: AfterSaleKind
    reason: str | None = None
    note: str | None = None
    amount: Decimal | None = None
    closed: bool = False


@dataclass(frozen=True)
class PlatformOrderLine:
    external_id: str              # listing external id, in the same form as the listing mapping
    qty: int
    external_sku: str | None = None
    unit_price: Decimal | None = None


@dataclass(frozen=True)
class Customer:
    name: str | None = None
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class OrderEvent:
    """An order as the platform told it. `event_id` is the delivery/event key for de-duplication
    (None where the platform has none, then (order id, kind, status, updated_at) is used)."""

    kind: OrderEventKind
    external_order_id: str
    lines: Sequence[PlatformOrderLine]
    event_id: str | None = None
    platform_status: str | None = None
    currency: str | None = None
    customer: Customer | None = None
    occurred_at: datetime | None = None
    raw: Mapping[str, Any] | None = None
    after_sale: AfterSale | None = None  # set on AFTER_SALE events only


class ChannelAdapter(Protocol):
    """What omnistock needs from a platform. Implementations raise the `ChannelError` subclasses of
    `omnistock.errors` for whole-call failures and report per-item failures in `StockResult`."""

    kind: ClassVar[str]
    settings_model: ClassVar[type[BaseModel]]
    secret_fields: ClassVar[frozenset[str]]
    limits: ClassVar[RateLimit]
    max_batch: ClassVar[int]
    webhook_ack: ClassVar[tuple[int, str, bytes]]  # status, content type, body to answer a delivery

    def set_stock(self, updates: Sequence[StockUpdate]) -> list[StockResult]: ...

    def fetch_stock(self, cursor: str | None = None) -> StockPage: ...

    def fetch_orders(self, since: datetime, until: datetime) -> list[OrderEvent]: ...

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[OrderEvent]: ...

    def test_connection(self) -> None: ...

    def close(self) -> None: ...
