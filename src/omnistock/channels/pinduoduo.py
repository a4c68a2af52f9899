"""Pinduoduo (拼多多) adapter: the POP router API, signed with MD5, orders polled in 30-minute windows.

Sources followed (November 2026):
- Official PDD POP SDKs (Java `com.pdd.pop.sdk`, PHP `Com\\Pdd\\Pop\\Sdk`): router URL, system parameters
  `type, client_id, timestamp (Unix s), data_type=JSON, version=V1, access_token, sign`, the sign
  UPPER(MD5(secret + sorted name+value + secret)) and the Java SDK's JSON body of string values.
- Official request/response classes of `pdd.goods.quantity.update` (`update_type` 1 = full overwrite),
  `pdd.goods.list.get` (page from 1, page_size ≤ 100, `sku_list[].sku_quantity`) and
  `pdd.order.number.list.increment.get` (`start_updated_at`/`end_updated_at` at most 30 minutes apart, page
  from 1, page_size ≤ 100, "page from the last page backwards to avoid missing orders";
  `confirm_status` 0 未成交 / 1 已成交 / 2 已取消, `order_status` 1 待发货 / 2 已发货待签收 / 3 已签收,
  `refund_status` 1 无售后或售后关闭 / 2 售后处理中 / 3 退款中 / 4 退款成功).
- PDD's documented error table (返回错误码说明): 52101 当前接口被限流 and 70031 调用过于频繁 (throttle),
  10019 access_token已过期, 20004 签名sign校验失败, 10016/20031/20032 (auth),
  5xxxx gateway errors (transient).
- After-sale requests: `pdd.refund.list.increment.get` (售后列表增量查询; request and answer classes of the
  PDD SDKs: `start_updated_at`/`end_updated_at` at most 30 minutes apart, `after_sales_status`,
  `after_sales_type`, page from 1, page_size ≤ 100; answer `refund_increment_get_response {total_count,
  refund_list[{id, order_sn, after_sales_type 2 仅退款 / 3 退货退款 / 4 换货 / 5 缺货补寄 / 6 维修,
  after_sales_status, after_sale_reason, refund_amount, goods_id, sku_id, goods_number, created_time,
  updated_time}]}`), polled with the orders over the same windows; see pinduoduo_payloads.
Unconfirmed: the numeric rate limit per app (PDD sets it per API and per app); `limits` below is conservative.
Unconfirmed: `after_sales_status` = 1 and `after_sales_type` = 1 as "every status / every type" (the SDK
comments list the statuses from 2 on and type 1 as 全部).
PDD has no order push for ISVs outside its message service, so orders are polled and `parse_webhook` refuses.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import httpx
from pydantic import BaseModel, ConfigDict

from omnistock.channels.base import (
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
from omnistock.channels.pinduoduo_payloads import after_sale_event
from omnistock.channels.signing import concat_sorted, md5_hex
from omnistock.errors import (
    Invalid,
    PlatformAuthFailed,
    PlatformInvalid,
    PlatformThrottled,
    PlatformTransient,
)

PLATFORM = "pinduoduo"
BEIJING = ZoneInfo("Asia/Shanghai")
ORDER_WINDOW = timedelta(minutes=30)  # PDD refuses a wider `start_updated_at`..`end_updated_at`
PAGE_SIZE = 100

ORDER_FILTER: Mapping[str, object] = {"is_lucky_flag": 0, "order_status": 5, "refund_status": 5}  # 5 = every one
REFUND_FILTER: Mapping[str, object] = {"after_sales_status": 1, "after_sales_type": 1}  # 1 = every one

THROTTLE_CODES = frozenset({52101, 70031, 70036})
AUTH_CODES = frozenset({10016, 10019, 20004, 20005, 20031, 20032, 30000, 70032, 70034, 70035})
TRANSIENT_CODES = frozenset({50000, 50001, 50002, 52001, 52002, 52102, 52103, 70033})
# 70036 is the call quota of an app still in test status: it refills slowly, not within a second.
SLOW_REFILL_CODES = frozenset({70036})


class PinduoduoSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt gateway_url would silently mean production

    client_id: str
    client_secret: str
    access_token: str
    gateway_url: str = "https://gw-api.pinduoduo.com/api/router"


def sign(params: Mapping[str, object], secret: str) -> str:
    """UPPER(MD5(secret + sorted name+value + secret)), skipping `sign` and empty values as the SDKs do."""
    present = {k: v for k, v in params.items() if v is not None and v != ""}
    return md5_hex(secret + concat_sorted(present) + secret).upper()


def split_external_id(external_id: str) -> tuple[str, str]:
    goods_id, _, sku_id = external_id.partition("/")
    if not goods_id.isdigit() or not sku_id.isdigit():
        raise Invalid(f"pinduoduo listing id must be '<goods_id>/<sku_id>', got {external_id!r}",
                      field="external_id")
    return goods_id, sku_id


def order_windows(since: datetime, until: datetime) -> list[tuple[int, int]]:
    """Unix-second windows of at most 30 minutes covering [since, until]."""
    start, end = math.floor(since.timestamp()), math.ceil(until.timestamp())
    step = int(ORDER_WINDOW.total_seconds())
    return [(s, min(s + step, end)) for s in range(start, end, step)]


def raise_for_error(body: Mapping[str, Any]) -> None:
    """Turn PDD's `error_response` envelope into the typed error the sync engine understands."""
    error = body.get("error_response")
    if not isinstance(error, Mapping):
        return
    try:
        code = int(error.get("error_code") or 0)
    except (TypeError, ValueError):
        code = 0
    text = " / ".join(str(t) for t in (error.get("error_msg"), error.get("sub_msg")) if t)
    message = f"pinduoduo error {code}: {text}"
    if code in THROTTLE_CODES:
        wait = 60.0 if code in SLOW_REFILL_CODES else 1.0
        raise PlatformThrottled(message, retry_after=wait, code=str(code))
    if code in AUTH_CODES:
        raise PlatformAuthFailed(message, code=str(code))
    if code in TRANSIENT_CODES:
        raise PlatformTransient(message, code=str(code))
    raise PlatformInvalid(message, code=str(code))


def _wire_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


class PinduoduoAdapter:
    kind: ClassVar[str] = "pinduoduo"
    settings_model: ClassVar[type[BaseModel]] = PinduoduoSettings
    secret_fields: ClassVar[frozenset[str]] = frozenset({"client_secret", "access_token"})
    limits: ClassVar[RateLimit] = RateLimit(per_second=10.0, burst=20)
    max_batch: ClassVar[int] = 1  # pdd.goods.quantity.update sets one sku per call
    webhook_ack: ClassVar[tuple[int, str, bytes]] = (200, "application/json", b"{}")

    def __init__(self, settings: PinduoduoSettings | Mapping[str, Any], *,
                 client: httpx.Client | None = None) -> None:
        self.settings = (settings if isinstance(settings, PinduoduoSettings)
                         else PinduoduoSettings.model_validate(settings))
        self._client = make_client(client)

    # --- the router call ---------------------------------------------------------------------------

    def call(self, method: str, params: Mapping[str, object]) -> dict[str, Any]:
        """One signed router call; returns the whole JSON body (the caller picks `<name>_response`)."""
        wire = {k: _wire_value(v) for k, v in params.items() if v is not None}
        wire.update(type=method, client_id=self.settings.client_id, access_token=self.settings.access_token,
                    timestamp=str(int(time.time())), data_type="JSON", version="V1")
        wire["sign"] = sign(wire, self.settings.client_secret)
        with transport_errors(PLATFORM):
            response = self._client.post(self.settings.gateway_url, json=wire)
        raise_for_http_status(PLATFORM, response)
        try:
            body = response.json()
        except ValueError as exc:
            raise PlatformTransient(f"pinduoduo: answer is not JSON (HTTP {response.status_code})") from exc
        if not isinstance(body, dict):
            raise PlatformTransient("pinduoduo: answer is not a JSON object")
        raise_for_error(body)
        return body

    # --- stock -------------------------------------------------------------------------------------

    def set_stock(self, updates: Sequence[StockUpdate]) -> list[StockResult]:
        results = []
        for update in updates:
            try:
                goods_id, sku_id = split_external_id(update.external_id)
                body = self.call("pdd.goods.quantity.update", {
                    "goods_id": goods_id, "sku_id": sku_id, "quantity": max(0, update.quantity),
                    "update_type": 1})
            except (Invalid, PlatformInvalid) as exc:
                results.append(StockResult(update.external_id, ok=False, error=exc))
                continue
            answer = body.get("goods_quantity_update_response") or {}
            if answer.get("is_success") is True:
                results.append(StockResult(update.external_id, ok=True))
            else:
                results.append(StockResult(update.external_id, ok=False, error=PlatformInvalid(
                    f"pinduoduo: quantity update not confirmed: {json.dumps(answer)[:200]}")))
        return results

    def fetch_stock(self, cursor: str | None = None) -> StockPage:
        page = int(cursor) if cursor else 1
        body = self.call("pdd.goods.list.get", {"page": page, "page_size": PAGE_SIZE})
        answer = body.get("goods_list_get_response") or {}
        items = []
        for goods in answer.get("goods_list") or []:
            for sku in goods.get("sku_list") or []:
                title = " ".join(t for t in (goods.get("goods_name"), sku.get("spec")) if t) or None
                items.append(PlatformItem(
                    external_id=f"{goods['goods_id']}/{sku['sku_id']}",
                    quantity=int(sku.get("sku_quantity") or 0),
                    external_sku=sku.get("outer_id") or None, title=title))
        total = int(answer.get("total_count") or 0)
        return StockPage(items, str(page + 1) if page * PAGE_SIZE < total else None)

    # --- orders ------------------------------------------------------------------------------------

    def fetch_orders(self, since: datetime, until: datetime) -> list[OrderEvent]:
        """Orders changed in the range, then the after-sale requests still open that changed in it (after the
        orders, so that a request about an order seen for the first time finds the order taken in)."""
        seen: set[tuple[str, str]] = set()
        events = []
        requests: dict[str, OrderEvent] = {}
        for start, end in order_windows(since, until):
            for order in self._orders_in_window(start, end):
                key = (str(order.get("order_sn")), str(order.get("updated_at")))
                if key not in seen:
                    seen.add(key)
                    events.append(order_event(order))
            for refund in self._pages(start, end, "pdd.refund.list.increment.get", "refund_increment_get_response",
                                      "refund_list", REFUND_FILTER):
                found = after_sale_event(refund)
                if found is not None and found.event_id is not None:
                    requests[found.event_id] = found
        return events + list(requests.values())

    def _orders_in_window(self, start: int, end: int) -> list[Mapping[str, Any]]:
        return self._pages(start, end, "pdd.order.number.list.increment.get", "order_sn_increment_get_response",
                           "order_sn_list", ORDER_FILTER)

    def _pages(self, start: int, end: int, method: str, answer_key: str, list_key: str,
               filters: Mapping[str, object]) -> list[Mapping[str, Any]]:
        # PDD: read the last page first and walk back, so an entry updated meanwhile (which moves to the end
        # of the list) is read twice rather than skipped. Page 1 is read first only to learn the count.
        def page(number: int) -> Mapping[str, Any]:
            body = self.call(method, {"start_updated_at": start, "end_updated_at": end, "page": number,
                                      "page_size": PAGE_SIZE, **filters})
            answer = body.get(answer_key)
            return answer if isinstance(answer, Mapping) else {}

        first = page(1)
        pages = max(1, math.ceil(int(first.get("total_count") or 0) / PAGE_SIZE))
        if pages == 1:
            return list(first.get(list_key) or [])
        found: list[Mapping[str, Any]] = []
        for number in range(pages, 0, -1):
            found.extend(page(number).get(list_key) or [])
        return found

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[OrderEvent]:
        raise Invalid("pinduoduo has no order webhook: its orders are polled")

    def test_connection(self) -> None:
        self.call("pdd.goods.list.get", {"page": 1, "page_size": 1})

    def close(self) -> None:
        self._client.close()


def order_kind(order: Mapping[str, Any]) -> OrderEventKind:
    if _int(order.get("confirm_status")) == 2:
        return OrderEventKind.CANCELLED
    if _int(order.get("refund_status")) == 4:
        return OrderEventKind.REFUNDED
    if _int(order.get("order_status")) in (2, 3):
        return OrderEventKind.SHIPPED
    if _int(order.get("refund_status")) in (2, 3):
        return OrderEventKind.UPDATED  # after-sales open: still live until the refund succeeds
    return OrderEventKind.CREATED


def order_event(order: Mapping[str, Any]) -> OrderEvent:
    lines = [PlatformOrderLine(
        external_id=f"{item.get('goods_id')}/{item.get('sku_id')}", qty=_int(item.get("goods_count")),
        external_sku=item.get("outer_id") or None, unit_price=_decimal(item.get("goods_price")))
        for item in order.get("item_list") or []]
    status = "/".join(f"{k}={order.get(k)}" for k in ("order_status", "refund_status", "confirm_status"))
    customer = Customer(name=order.get("receiver_name") or None, phone=order.get("receiver_phone") or None)
    return OrderEvent(kind=order_kind(order), external_order_id=str(order.get("order_sn")), lines=lines,
                      platform_status=status, currency="CNY", customer=customer,
                      occurred_at=beijing_time(order.get("updated_at")), raw=dict(order))


def beijing_time(value: object) -> datetime | None:
    """PDD writes times as 'yyyy-MM-dd HH:mm:ss' in Beijing time."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING)
    except ValueError:
        return None


def _int(value: object) -> int:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return 0


def _decimal(value: object) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None
