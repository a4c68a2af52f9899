"""What a simulated platform remembers: shops, their displayed stock, orders, faults and webhook settings.

Platform modules read and change this state; the shop itself enforces the rules every platform shares
(never below zero, refuse a sale it cannot fill, restore stock on cancel) and announces order events.
"""

from __future__ import annotations

import asyncio
import importlib
import itertools
import random
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from types import ModuleType

from omnistock.channels.simulator.limiter import TokenBucket
from omnistock.channels.simulator.shoppers import ShopperPool
from omnistock.channels.simulator.webhooks import WebhookDispatcher


@dataclass
class SimListing:
    external_id: str  # exactly as omnistock's listing external_id for the platform
    quantity: int  # what the platform displays now (never < 0)
    external_sku: str | None = None
    title: str | None = None
    barcode: str | None = None
    price: Decimal = Decimal("10.00")
    extra: dict[str, str] = field(default_factory=dict)  # platform specific ids
    history: list[tuple[float, int, str]] = field(default_factory=list)  # (unix time, quantity, source)


@dataclass
class SimOrderLine:
    external_id: str
    qty: int
    unit_price: Decimal
    external_sku: str | None = None


@dataclass
class SimOrder:
    id: str  # platform order id (digits as a string)
    status: str  # neutral: "paid" | "cancelled" | "refunded" | "shipped"
    lines: list[SimOrderLine]
    customer: dict[str, str]
    currency: str
    created_at: datetime
    modified_at: datetime


AFTER_SALE_KINDS = ("refund", "return", "exchange", "dispute")


@dataclass
class SimAfterSale:
    """A buyer's after-sale request about one order (a dispute is one the bank or the platform raised), open
    until the platform settles it; each platform module shows it in its own wire format."""

    id: str  # the platform's after-sale / refund / dispute id (digits as a string)
    order_id: str
    kind: str  # neutral: one of AFTER_SALE_KINDS
    reason: str
    note: str
    status: str  # neutral: "open" | "closed"
    created_at: datetime
    modified_at: datetime


@dataclass
class Faults:
    latency_ms: tuple[int, int] = (0, 0)
    error_rate: float = 0.0
    down_until: float = 0.0  # unix time
    auth_broken: bool = False
    # While > 0 every call is refused at the platform's front door (HTTP 429 style) with this Retry-After.
    overload_retry_after: float = 0.0


@dataclass
class WebhookConfig:
    url: str | None = None
    delay_s: tuple[float, float] = (0.0, 0.0)
    duplicate_rate: float = 0.0
    loss_rate: float = 0.0
    reorder: bool = False


class GateKind(StrEnum):
    OK = "ok"
    THROTTLED = "throttled"
    DOWN = "down"
    ERROR = "error"
    AUTH = "auth"


@dataclass(frozen=True)
class Gate:
    """The verdict on one API call before the platform handles it; `retry_after` is in seconds.

    A THROTTLED gate comes either from the rate limit bucket (`overload` False: the platform's own throttle
    answer, e.g. Shopify's cost THROTTLED) or from the injected overload fault (`overload` True: an HTTP 429
    with Retry-After where the platform has one).
    """

    kind: GateKind
    retry_after: float = 0.0
    overload: bool = False

    @property
    def ok(self) -> bool:
        return self.kind is GateKind.OK


@dataclass(frozen=True)
class SimCall:
    """One API call as the platform's front door saw it, for tests that check how a client paces itself.

    `at` is `time.monotonic()` when the call arrived; `retry_after` is the wait the platform needs before the
    next call would pass (0 unless throttled); each platform announces it in its own way, usually rounded up
    to whole seconds.
    """

    at: float
    op: str
    verdict: GateKind
    retry_after: float = 0.0


# Enough for any test or benchmark run; a demo that runs for days keeps only the most recent calls.
CALL_LOG_SIZE = 10_000

# Called with (shop, order snapshot, event) whenever an order is created or changes.
OrderListener = Callable[["SimShop", SimOrder, str], None]
# Called with (shop, order snapshot, request snapshot) whenever a buyer raises an after-sale request.
AfterSaleListener = Callable[["SimShop", SimOrder, SimAfterSale], None]


def _now() -> datetime:
    return datetime.now(UTC)


class SimShop:
    """One merchant's shop on one platform."""

    def __init__(self, code: str, platform: str, credentials: dict[str, str], rate_limit: tuple[float, int],
                 webhook: WebhookConfig | None = None, faults: Faults | None = None,
                 currency: str = "CNY", seed: int | str | None = None,
                 listener: OrderListener | None = None,
                 after_sale_listener: AfterSaleListener | None = None) -> None:
        self.code = code
        self.platform = platform
        self.credentials = dict(credentials)
        self.currency = currency
        self.listings: dict[str, SimListing] = {}
        self.orders: dict[str, SimOrder] = {}
        self.after_sales: dict[str, SimAfterSale] = {}
        self.faults = faults or Faults()
        self.webhook = webhook or WebhookConfig()
        self.rate_limit = rate_limit
        self.bucket = TokenBucket(rate_limit[0], rate_limit[1])
        self.calls: Counter[str] = Counter()
        self._call_log: deque[SimCall] = deque(maxlen=CALL_LOG_SIZE)
        self.refused_sales = 0
        self.sold_units = 0
        self.lock = threading.RLock()
        self.rng = random.Random(seed)
        self._listener = listener
        self._after_sale_listener = after_sale_listener
        self._order_ids = itertools.count(100001)
        self._after_sale_ids = itertools.count(700001)
        self._seen_keys: set[str] = set()

    # --- the gate every API call passes ------------------------------------------------------------

    async def gate(self, op: str, cost: float = 1.0) -> Gate:
        arrived = time.monotonic()
        with self.lock:
            self.calls[op] += 1
            low, high = self.faults.latency_ms
            delay = self.rng.uniform(low, high) / 1000 if high > 0 else 0.0
        if delay:
            await asyncio.sleep(delay)
        verdict = self._verdict(cost)
        with self.lock:
            self._call_log.append(SimCall(arrived, op, verdict.kind, verdict.retry_after))
        return verdict

    def _verdict(self, cost: float) -> Gate:
        with self.lock:
            remaining_outage = self.faults.down_until - time.time()
            if remaining_outage > 0:
                return Gate(GateKind.DOWN, retry_after=remaining_outage)
            if self.faults.auth_broken:
                return Gate(GateKind.AUTH)
            if self.faults.error_rate and self.rng.random() < self.faults.error_rate:
                return Gate(GateKind.ERROR, retry_after=1.0)
            if self.faults.overload_retry_after > 0:
                return Gate(GateKind.THROTTLED, retry_after=self.faults.overload_retry_after, overload=True)
        wait = self.bucket.take(cost)
        if wait:
            return Gate(GateKind.THROTTLED, retry_after=wait)
        return Gate(GateKind.OK)

    def call_log(self, op: str | None = None) -> list[SimCall]:
        """The calls that reached the front door, oldest first (of `op` only, when given)."""
        with self.lock:
            return [c for c in self._call_log if op is None or c.op == op]

    def set_rate_limit(self, per_second: float, burst: int) -> None:
        self.rate_limit = (per_second, burst)
        self.bucket.reconfigure(per_second, burst)

    # --- displayed stock ---------------------------------------------------------------------------

    def set_quantity(self, external_id: str, qty: int, source: str = "api") -> SimListing:
        with self.lock:
            listing = self.listings[external_id]
            listing.quantity = max(0, int(qty))
            listing.history.append((time.time(), listing.quantity, source))
            return listing

    def adjust_quantity(self, external_id: str, delta: int, source: str = "api") -> SimListing:
        with self.lock:
            return self.set_quantity(external_id, self.listings[external_id].quantity + delta, source)

    def upsert_listing(self, listing: SimListing) -> None:
        with self.lock:
            listing.quantity = max(0, listing.quantity)
            if not listing.history or listing.history[-1][1] != listing.quantity:
                listing.history.append((time.time(), listing.quantity, "manual"))
            self.listings[listing.external_id] = listing

    def remove_listing(self, external_id: str) -> None:
        with self.lock:
            del self.listings[external_id]

    # --- orders ------------------------------------------------------------------------------------

    def buy(self, external_id: str, qty: int, customer: dict[str, str] | None = None) -> SimOrder | None:
        """A shopper buys from the displayed stock; None when the platform shows too little."""
        with self.lock:
            listing = self.listings[external_id]
            if qty <= 0 or qty > listing.quantity:
                self.refused_sales += max(qty, 0)
                return None
            self.set_quantity(external_id, listing.quantity - qty, "sale")
            self.sold_units += qty
            now = _now()
            order = SimOrder(
                id=str(next(self._order_ids)), status="paid",
                lines=[SimOrderLine(external_id, qty, listing.price, listing.external_sku)],
                customer=dict(customer or {}), currency=self.currency, created_at=now, modified_at=now)
            self.orders[order.id] = order
            self._announce(order, "created")
            return order

    def cancel(self, order_id: str) -> SimOrder:
        """Cancel an order and give its units back to the displayed stock (once)."""
        with self.lock:
            order = self.orders[order_id]
            if order.status == "cancelled":
                return order
            if order.status == "paid":
                for line in order.lines:
                    if line.external_id in self.listings:
                        self.adjust_quantity(line.external_id, line.qty, "cancel")
            return self._change(order, "cancelled", "cancelled")

    def refund(self, order_id: str) -> SimOrder:
        with self.lock:
            return self._change(self.orders[order_id], "refunded", "refunded")

    def ship(self, order_id: str) -> SimOrder:
        with self.lock:
            return self._change(self.orders[order_id], "shipped", "updated")

    def _change(self, order: SimOrder, status: str, event: str) -> SimOrder:
        order.status = status
        order.modified_at = max(_now(), order.modified_at)
        self._announce(order, event)
        return order

    def _announce(self, order: SimOrder, event: str) -> None:
        if self._listener is not None:
            # A snapshot: the delivery must show the order as it was when the event happened.
            snapshot = replace(order, lines=list(order.lines), customer=dict(order.customer))
            self._listener(self, snapshot, event)

    def request_after_sale(self, order_id: str, kind: str = "refund", reason: str = "",
                           note: str = "") -> SimAfterSale:
        """The buyer (or, for a dispute, the bank) raises an after-sale request about an order; stock and the
        order stay as they are until the merchant settles it (refund, cancel...). KeyError for an unknown
        order, ValueError for an unknown kind."""
        if kind not in AFTER_SALE_KINDS:
            raise ValueError(f"after-sale kind must be one of {', '.join(AFTER_SALE_KINDS)}")
        with self.lock:
            order = self.orders[order_id]
            now = _now()
            request = SimAfterSale(str(next(self._after_sale_ids)), order.id, kind, reason, note, "open", now, now)
            self.after_sales[request.id] = request
            if self._after_sale_listener is not None:
                self._after_sale_listener(self, replace(order, lines=list(order.lines), customer=dict(order.customer)),
                                          replace(request))
            return request

    def after_sales_modified_between(self, start: datetime, end: datetime) -> list[SimAfterSale]:
        with self.lock:
            found = [r for r in self.after_sales.values() if start <= r.modified_at < end]
        return sorted(found, key=lambda r: (r.modified_at, int(r.id) if r.id.isdigit() else 0))

    def orders_modified_between(self, start: datetime, end: datetime) -> list[SimOrder]:
        with self.lock:
            found = [o for o in self.orders.values() if start <= o.modified_at < end]
        return sorted(found, key=lambda o: (o.modified_at, int(o.id) if o.id.isdigit() else 0))

    def seen_key(self, key: str) -> bool:
        """Idempotency keys: True when the key was used before (and remember it either way)."""
        with self.lock:
            if key in self._seen_keys:
                return True
            self._seen_keys.add(key)
            return False

    def snapshot(self) -> dict[str, object]:
        with self.lock:
            return {
                "code": self.code, "platform": self.platform,
                "listings": {k: v.quantity for k, v in self.listings.items()},
                "calls": dict(self.calls), "sold_units": self.sold_units,
                "refused_sales": self.refused_sales, "orders": len(self.orders),
            }


def platform_module(platform: str) -> ModuleType:
    """The simulator module of a platform (raises ValueError for a platform that has none)."""
    if not platform.isidentifier() or platform.startswith("_"):
        raise ValueError(f"unknown platform {platform!r}")
    try:
        return importlib.import_module(f"{__package__}.{platform}")
    except ModuleNotFoundError as exc:
        raise ValueError(f"unknown platform {platform!r}") from exc


class SimRegistry:
    """Every simulated shop of every platform, and the dispatcher that delivers their webhooks."""

    def __init__(self, seed: int | None = None) -> None:
        self.shops: dict[str, SimShop] = {}
        self.seed = seed
        self.dispatcher = WebhookDispatcher(seed=seed)
        self.shoppers = ShopperPool(self)
        self._lock = threading.Lock()

    def add_shop(self, code: str, platform: str, credentials: dict[str, str],
                 rate_limit: tuple[float, int] | None = None, webhook: WebhookConfig | None = None,
                 faults: Faults | None = None, currency: str | None = None) -> SimShop:
        module = platform_module(platform)
        shop = SimShop(code, platform, credentials, rate_limit or module.RATE_LIMIT, webhook, faults,
                       currency=currency or str(getattr(module, "CURRENCY", "CNY")),
                       seed=None if self.seed is None else f"{self.seed}:{code}",
                       listener=self._publish, after_sale_listener=self._publish_after_sale)
        with self._lock:
            if code in self.shops:
                raise ValueError(f"shop {code!r} exists")
            self.shops[code] = shop
        return shop

    def shop(self, code: str) -> SimShop:
        return self.shops[code]

    def remove_shop(self, code: str) -> None:
        with self._lock:
            self.shops.pop(code, None)

    def _publish(self, shop: SimShop, order: SimOrder, event: str) -> None:
        if shop.webhook.url is None:
            return
        module = platform_module(shop.platform)
        delivery = module.order_webhook(shop, order, event)
        if delivery is None:
            return
        headers, body = delivery
        self.dispatcher.submit(shop.code, shop.webhook, order.id, event, headers, body,
                               retries=getattr(module, "WEBHOOK_RETRIES", 0))

    def _publish_after_sale(self, shop: SimShop, order: SimOrder, request: SimAfterSale) -> None:
        """Push the request where the platform pushes after-sale messages (the others serve it to polls only)."""
        if shop.webhook.url is None:
            return
        module = platform_module(shop.platform)
        render = getattr(module, "after_sale_webhook", None)
        delivery = render(shop, order, request) if render is not None else None
        if delivery is None:
            return
        headers, body = delivery
        self.dispatcher.submit(shop.code, shop.webhook, order.id, "after_sale", headers, body,
                               retries=getattr(module, "WEBHOOK_RETRIES", 0))

    def close(self) -> None:
        self.shoppers.stop_all()
        self.dispatcher.close()
