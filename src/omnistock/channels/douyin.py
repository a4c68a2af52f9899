"""Douyin shop (抖店) adapter: `POST {gateway}/{method as path}` signed with HMAC-SHA256 (or MD5), and pushes.

Sources followed (November 2026):
- Official Doudian Go SDK (`doudian.com/open/sdk_golang`, core/doudian_op_api_client.go, utils/sign_util.go):
  query parameters `app_key, method, access_token, timestamp (Unix seconds), v=2, sign_method, sign`, body =
  param_json sent as `application/json`,
  sign = HMAC-SHA256(key=secret, secret + "app_key"… "v2" + secret) hex.
  (CHANNEL_APIS.md writes the timestamp as 'yyyy-MM-dd HH:mm:ss'; the official SDK sends Unix seconds.)
- Official request/response classes: `sku.syncStock` (`incremental` false = full overwrite, `idempotent_id`),
  `product.listV2` (page from 1, size ≤ 100, page*size ≤ 10 000), `sku.list` (`stock_num`, `code`),
  `order.searchList` (`update_time_start/end` Unix s, page from 0, size ≤ 100, `order_status` 1 待支付 /
  105 已支付 / 2 备货中 / 101 部分发货 / 3 已发货 / 4 已取消 / 5 已完成, sku `after_sale_info.refund_status`
  3 = 退款成功), `order.orderDetail` (`shop_order_id`).
- Error codes (new scheme `code`/`sub_code`, 10000 = success): 60000 触发限流, 20000/20001 service errors,
  30001/30002 permission, 40001/40003 with `isv.signature-invalid`, `isv.access-token-expired`...,
  40003 `isv.idempotent-id-existed` 幂等ID重复. Old responses carry `err_no`/`message` (0 = success) only.
- Push: the `doudian` PyPI SDK checks header `app-id` and `event-sign` = MD5 hex(app_key + body + app_secret);
  messages `[{tag, msg_id, data}]` with `data` a JSON string. Tags from the jinritemai-go SDK (third party,
  unconfirmed against the official list): 100 created, 101 paid, 102 shipped, 103 completed,
  105 address changed, 106 cancelled, 206 refund succeeded. A push carries ids only (`p_id`), so the order's
  lines are read with `order.orderDetail`. After-sale requests still open come as pushes 200 (buyer asks),
  208 (buyer changes the request) and 212 (buyer asks customer service to arbitrate); they need no detail
  read (see douyin_payloads). The order poll does not report them.
Unconfirmed: the numeric rate limit per app; `limits` below is conservative.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar, Literal

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
from omnistock.channels.douyin_payloads import AFTER_SALE_TAGS, after_sale_event
from omnistock.channels.http import make_client, raise_for_http_status, transport_errors
from omnistock.channels.signing import md5_hex, same
from omnistock.errors import (
    Invalid,
    PlatformAuthFailed,
    PlatformInvalid,
    PlatformThrottled,
    PlatformTransient,
    SignatureInvalid,
)

PLATFORM = "douyin"
PRODUCT_PAGE_SIZE = 100
SKU_READS_PER_PAGE = 10  # sku.list calls per stock page: stays inside one burst of the rate limit
ORDER_PAGE_SIZE = 100

SUCCESS_CODE = 10000
THROTTLE_CODE = 60000
TRANSIENT_CODES = frozenset({20000, 20001})
AUTH_CODES = frozenset({30001, 30002})
AUTH_SUB_CODE_PREFIXES = ("isv.signature-", "isv.access-token-", "isv.app-id-", "isv.authorization-")
IDEMPOTENT_REPEAT = "isv.idempotent-id-existed"

# Push tags that move stock, and what they mean to omnistock.
TAG_KINDS: Mapping[str, OrderEventKind] = {
    "100": OrderEventKind.CREATED, "101": OrderEventKind.UPDATED, "102": OrderEventKind.SHIPPED,
    "103": OrderEventKind.SHIPPED, "105": OrderEventKind.UPDATED, "106": OrderEventKind.CANCELLED,
    "206": OrderEventKind.REFUNDED,
}


class DouyinSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt gateway_url would silently mean production

    app_key: str
    app_secret: str
    access_token: str
    sign_method: Literal["hmac-sha256", "md5"] = "hmac-sha256"
    gateway_url: str = "https://openapi-fxg.jinritemai.com"


def param_json(params: Mapping[str, object]) -> str:
    return json.dumps(params, sort_keys=True, separators=(",", ":"))


def sign(app_key: str, secret: str, method: str, params_json: str, timestamp: str, v: str = "2",
         sign_method: str = "hmac-sha256") -> str:
    pattern = f"{secret}app_key{app_key}method{method}param_json{params_json}timestamp{timestamp}v{v}{secret}"
    if sign_method == "md5":
        return md5_hex(pattern)
    return hmac.new(secret.encode("utf-8"), pattern.encode("utf-8"), hashlib.sha256).hexdigest()


def push_sign(app_key: str, secret: str, body: bytes) -> str:
    return hashlib.md5(app_key.encode("utf-8") + body + secret.encode("utf-8")).hexdigest()


def split_external_id(external_id: str) -> tuple[str, str]:
    product_id, _, sku_id = external_id.partition("/")
    if not product_id.isdigit() or not sku_id.isdigit():
        raise Invalid(f"douyin listing id must be '<product_id>/<sku_id>', got {external_id!r}",
                      field="external_id")
    return product_id, sku_id


def idempotent_id(update: StockUpdate) -> str:
    """Same id for a retry of the same push, a fresh one otherwise.

    With a `push_id` from the sync engine the id is a hash of (listing, quantity, push): a retried request
    that already landed is refused by Douyin as a repeat, which we read as success. Without one, a random id:
    a full overwrite is harmless to repeat, whereas a hash of (listing, quantity) alone would make Douyin
    refuse a later, legitimate return to an earlier quantity (5 → 3 → 5).
    """
    push_id = update.extra.get("push_id")
    if push_id is None:
        return uuid.uuid4().hex
    digest = hashlib.sha256(f"{update.external_id}|{update.quantity}|{push_id}".encode()).hexdigest()
    return digest[:32]


def raise_for_error(body: Mapping[str, Any]) -> None:
    if "code" in body:
        code = _int(body.get("code"))
        if code == SUCCESS_CODE:
            return
        sub_code = str(body.get("sub_code") or "")
        text = " / ".join(str(t) for t in (body.get("msg"), sub_code, body.get("sub_msg")) if t)
    else:
        code = _int(body.get("err_no"))
        if code == 0:
            return
        sub_code = ""
        text = str(body.get("message") or "")
    message = f"douyin error {code}: {text}"
    if code == THROTTLE_CODE or "限流" in text or "频率" in text:
        raise PlatformThrottled(message, retry_after=1.0, code=str(code))
    if code in AUTH_CODES or sub_code.startswith(AUTH_SUB_CODE_PREFIXES):
        raise PlatformAuthFailed(message, code=sub_code or str(code))
    if code in TRANSIENT_CODES:
        raise PlatformTransient(message, code=str(code))
    raise PlatformInvalid(message, code=sub_code or str(code))


class DouyinAdapter:
    kind: ClassVar[str] = "douyin"
    settings_model: ClassVar[type[BaseModel]] = DouyinSettings
    secret_fields: ClassVar[frozenset[str]] = frozenset({"app_secret", "access_token"})
    limits: ClassVar[RateLimit] = RateLimit(per_second=10.0, burst=20)
    max_batch: ClassVar[int] = 1  # sku.syncStock sets one sku per call
    webhook_ack: ClassVar[tuple[int, str, bytes]] = (200, "application/json", b'{"code":0,"msg":"success"}')

    def __init__(self, settings: DouyinSettings | Mapping[str, Any], *,
                 client: httpx.Client | None = None) -> None:
        self.settings = (settings if isinstance(settings, DouyinSettings)
                         else DouyinSettings.model_validate(settings))
        self._client = make_client(client)
        self._products: tuple[int, list[Mapping[str, Any]], int] | None = None  # (page, products, total)

    def call(self, method: str, params: Mapping[str, object]) -> dict[str, Any]:
        """One signed call; returns the whole JSON body."""
        s = self.settings
        body = param_json(params)
        timestamp = str(int(time.time()))
        query = {"app_key": s.app_key, "method": method, "access_token": s.access_token,
                 "timestamp": timestamp, "v": "2", "sign_method": s.sign_method,
                 "sign": sign(s.app_key, s.app_secret, method, body, timestamp, "2", s.sign_method)}
        url = f"{s.gateway_url.rstrip('/')}/{method.replace('.', '/')}"
        with transport_errors(PLATFORM):
            response = self._client.post(url, params=query, content=body.encode("utf-8"),
                                         headers={"Content-Type": "application/json"})
        raise_for_http_status(PLATFORM, response)
        try:
            answer = response.json()
        except ValueError as exc:
            raise PlatformTransient(f"douyin: answer is not JSON (HTTP {response.status_code})") from exc
        if not isinstance(answer, dict):
            raise PlatformTransient("douyin: answer is not a JSON object")
        raise_for_error(answer)
        return answer

    # --- stock -------------------------------------------------------------------------------------

    def set_stock(self, updates: Sequence[StockUpdate]) -> list[StockResult]:
        results = []
        for update in updates:
            try:
                product_id, sku_id = split_external_id(update.external_id)
                self.call("sku.syncStock", {
                    "product_id": int(product_id), "sku_id": int(sku_id),
                    "stock_num": max(0, update.quantity), "incremental": False,
                    "idempotent_id": idempotent_id(update)})
            except PlatformInvalid as exc:
                if exc.code == IDEMPOTENT_REPEAT:  # this very push landed before: done
                    results.append(StockResult(update.external_id, ok=True))
                else:
                    results.append(StockResult(update.external_id, ok=False, error=exc))
                continue
            except Invalid as exc:
                results.append(StockResult(update.external_id, ok=False, error=exc))
                continue
            results.append(StockResult(update.external_id, ok=True))
        return results

    def fetch_stock(self, cursor: str | None = None) -> StockPage:
        """One page = the skus of up to SKU_READS_PER_PAGE products (one `sku.list` call each).

        The cursor is "<product page>:<offset>", so a read throttled halfway resumes where it stopped; the
        product page itself is kept between calls to avoid listing it again for every slice.
        """
        page_text, _, offset_text = (cursor or "1:0").partition(":")
        page, offset = int(page_text), int(offset_text or 0)
        products, total = self._product_page(page)
        items = []
        for product in products[offset:offset + SKU_READS_PER_PAGE]:
            product_id = str(product.get("product_id"))
            for sku in self.call("sku.list", {"product_id": int(product_id)}).get("data") or []:
                spec = " ".join(str(sku[k]) for k in ("spec_detail_name1", "spec_detail_name2",
                                                       "spec_detail_name3") if sku.get(k))
                title = " ".join(t for t in (product.get("name"), spec) if t) or None
                items.append(PlatformItem(
                    external_id=f"{product_id}/{sku.get('id')}", quantity=_int(sku.get("stock_num")),
                    external_sku=sku.get("code") or None, title=title))
        if offset + SKU_READS_PER_PAGE < len(products):
            return StockPage(items, f"{page}:{offset + SKU_READS_PER_PAGE}")
        self._products = None
        return StockPage(items, f"{page + 1}:0" if page * PRODUCT_PAGE_SIZE < total else None)

    def _product_page(self, page: int) -> tuple[list[Mapping[str, Any]], int]:
        cached = self._products  # one read: the adapter is shared between threads
        if cached is None or cached[0] != page:
            answer = self.call("product.listV2", {"page": page, "size": PRODUCT_PAGE_SIZE}).get("data") or {}
            cached = (page, list(answer.get("data") or []), _int(answer.get("total")))
            self._products = cached
        return cached[1], cached[2]

    # --- orders ------------------------------------------------------------------------------------

    def fetch_orders(self, since: datetime, until: datetime) -> list[OrderEvent]:
        start, end = int(since.timestamp()), int(until.timestamp()) + 1
        first = self._order_page(start, end, 0)
        pages = max(1, -(-_int(first.get("total")) // ORDER_PAGE_SIZE))
        # Read the last page first and walk back: an order updated meanwhile leaves its place and shifts the
        # others towards pages still to be read, so nothing is skipped (a repeat is removed below).
        answers = [first] if pages == 1 else [
            self._order_page(start, end, p) for p in range(pages - 1, -1, -1)]
        seen: set[tuple[str, str]] = set()
        events = []
        for answer in answers:
            for order in answer.get("shop_order_list") or []:
                key = (str(order.get("order_id")), str(order.get("update_time")))
                if key not in seen:
                    seen.add(key)
                    events.append(order_event(order))
        return events

    def _order_page(self, start: int, end: int, page: int) -> Mapping[str, Any]:
        answer = self.call("order.searchList", {
            "update_time_start": start, "update_time_end": end, "page": page, "size": ORDER_PAGE_SIZE,
            "order_by": "update_time", "order_asc": True}).get("data")
        return answer if isinstance(answer, Mapping) else {}

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[OrderEvent]:
        lowered = {k.lower(): v for k, v in headers.items()}
        expected = push_sign(self.settings.app_key, self.settings.app_secret, body)
        signed = same(lowered.get("event-sign", ""), expected)
        if lowered.get("app-id") != self.settings.app_key or not signed:
            raise SignatureInvalid("douyin push: app-id or event-sign does not match")
        try:
            messages = json.loads(body)
        except ValueError as exc:
            raise Invalid("douyin push: body is not JSON") from exc
        if not isinstance(messages, list):
            raise Invalid("douyin push: body must be a JSON array of messages")
        details: dict[str, Mapping[str, Any]] = {}  # one detail read per order, however many messages
        events = []
        for message in messages:
            if isinstance(message, dict) and str(message.get("tag")) in AFTER_SALE_TAGS:
                request = after_sale_event(str(message["tag"]), message, _message_data(message))
                if request is None:
                    raise Invalid(f"douyin push: message {message.get('msg_id')} has no p_id or aftersale_id")
                events.append(request)
                continue
            kind = TAG_KINDS.get(str(message.get("tag"))) if isinstance(message, dict) else None
            if kind is None:
                continue  # a tag that does not move stock (or the console's test message)
            order_id = str(_message_data(message).get("p_id") or "")
            if not order_id:
                raise Invalid(f"douyin push: message {message.get('msg_id')} has no p_id")
            if order_id not in details:
                answer = self.call("order.orderDetail", {"shop_order_id": order_id}).get("data") or {}
                details[order_id] = answer.get("shop_order_detail") or {}
            event = order_event(details[order_id], kind=kind)
            events.append(OrderEvent(kind=kind, external_order_id=order_id, lines=event.lines,
                                     event_id=str(message.get("msg_id")), currency=event.currency,
                                     platform_status=event.platform_status, customer=event.customer,
                                     occurred_at=event.occurred_at, raw=dict(message)))
        return events

    def test_connection(self) -> None:
        self.call("product.listV2", {"page": 1, "size": 1})

    def close(self) -> None:
        self._client.close()


def _message_data(message: Mapping[str, Any]) -> Mapping[str, Any]:
    data = message.get("data")
    if isinstance(data, str):  # Douyin sends the data object as a JSON string
        try:
            data = json.loads(data)
        except ValueError as exc:
            raise Invalid(f"douyin push: data of message {message.get('msg_id')} is not JSON") from exc
    return data if isinstance(data, Mapping) else {}


def order_kind(order: Mapping[str, Any]) -> OrderEventKind:
    status = _int(order.get("order_status"))
    skus = order.get("sku_order_list") or []
    if status == 4:
        return OrderEventKind.CANCELLED
    if skus and all(_int((s.get("after_sale_info") or {}).get("refund_status")) == 3 for s in skus):
        return OrderEventKind.REFUNDED
    if status in (3, 5):
        return OrderEventKind.SHIPPED
    if status == 101:
        return OrderEventKind.UPDATED
    return OrderEventKind.CREATED


def order_event(order: Mapping[str, Any], kind: OrderEventKind | None = None) -> OrderEvent:
    lines = [PlatformOrderLine(external_id=f"{s.get('product_id')}/{s.get('sku_id')}",
                               qty=_int(s.get("item_num")), external_sku=s.get("code") or None,
                               unit_price=Decimal(_int(s.get("origin_amount"))) / 100)
             for s in order.get("sku_order_list") or []]
    updated = _int(order.get("update_time"))
    occurred = datetime.fromtimestamp(updated, UTC) if updated else None
    customer = Customer(name=order.get("post_receiver") or None, phone=order.get("post_tel") or None)
    return OrderEvent(kind=kind or order_kind(order), external_order_id=str(order.get("order_id")),
                      lines=lines, platform_status=str(order.get("order_status")), currency="CNY",
                      customer=customer, occurred_at=occurred,
                      raw=dict(order))


def _int(value: object) -> int:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return 0
