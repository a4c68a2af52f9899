"""JD JOS wire details: request signing, error envelopes, and the sku and order payloads.

Sources (checked November 2026): signing and `error_response {code, zh_desc, en_desc}` as in
docs/CHANNEL_APIS.md; method names, parameters and answer fields from JD's generated SDKs (the C# `JDSDK`
request/response/domain classes `StockWriteUpdateSkuStockRequest`, `SkuReadSearchSkuListRequest`,
`PopOrderSearchResponse`, `OrderListResult`, `ItemInfo`). Codes 12 (invalid signature), 15 (invalid
method), 19 (invalid access_token) and 21 (invalid app_key) are seen in public client code; JD's throttle
codes are not published, so throttling is recognised by its description (frequency / limit words).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from omnistock.channels.base import (
    Customer,
    OrderEvent,
    OrderEventKind,
    PlatformItem,
    PlatformOrderLine,
)
from omnistock.channels.china_time import parse_beijing
from omnistock.channels.signing import concat_sorted, md5_hex
from omnistock.errors import (
    ChannelError,
    PlatformAuthFailed,
    PlatformInvalid,
    PlatformThrottled,
    PlatformTransient,
)

AUTH_CODES = frozenset({"12", "19", "21"})  # invalid signature, invalid access_token, invalid app_key
_THROTTLE_WORDS = ("频率", "频繁", "限流", "调用次数", "调用超限", "访问超限", "frequen", "rate limit", "call limit",
                   "calls limit", "limited", "too many")
_AUTH_WORDS = ("token", "授权", "签名", "signature", "app_key", "appkey")
_TRANSIENT_WORDS = ("繁忙", "超时", "不可用", "稍后", "busy", "timeout", "unavailable", "try again")

ORDER_STATES = ("WAIT_SELLER_STOCK_OUT", "WAIT_SELLER_DELIVERY", "WAIT_GOODS_RECEIVE_CONFIRM", "FINISHED_L",
                "TRADE_CANCELED", "LOCKED", "POP_ORDER_PAUSE", "PAUSE")
_KIND_BY_STATE = {
    "WAIT_SELLER_STOCK_OUT": OrderEventKind.CREATED,
    "WAIT_SELLER_DELIVERY": OrderEventKind.CREATED,
    "TRADE_CANCELED": OrderEventKind.CANCELLED,
    "LOCKED": OrderEventKind.CANCELLED,  # locked while a cancellation is processed: stop treating it as live
    "WAIT_GOODS_RECEIVE_CONFIRM": OrderEventKind.SHIPPED,
    "FINISHED_L": OrderEventKind.SHIPPED,
}


def jos_sign(params: Mapping[str, str], secret: str) -> str:
    """MD5(secret + sorted name+value of every parameter but `sign` + secret), upper-case hex."""
    return md5_hex(secret + concat_sorted(params) + secret).upper()


def param_json(business: Mapping[str, object]) -> str:
    """The `360buy_param_json` string; it is signed as sent, so it is produced exactly once."""
    return json.dumps(business, ensure_ascii=False, separators=(",", ":"))


def response_key(method: str) -> str:
    """`jingdong.pop.order.search` answers under `jingdong_pop_order_search_responce` (JD's spelling)."""
    return method.replace(".", "_") + "_responce"


def jos_error(error: Mapping[str, Any]) -> ChannelError:
    code = str(error.get("code", ""))
    text = " / ".join(str(part) for part in (error.get("zh_desc"), error.get("en_desc")) if part)
    message = f"jd: error {code}: {text}"
    lowered = text.lower()
    if any(word in lowered for word in _THROTTLE_WORDS):
        return PlatformThrottled(message, retry_after=1.0, code=code)
    if code in AUTH_CODES or any(word in lowered for word in _AUTH_WORDS):
        return PlatformAuthFailed(message, code=code)
    if any(word in lowered for word in _TRANSIENT_WORDS):
        return PlatformTransient(message, code=code)
    return PlatformInvalid(message, code=code)


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


def _price(value: object) -> Decimal | None:
    try:
        return Decimal(str(value)) if value not in (None, "") else None
    except InvalidOperation:
        return None


def platform_items(skus: Iterable[Mapping[str, Any]]) -> list[PlatformItem]:
    """Skus of `jingdong.sku.read.searchSkuList` (`page.data`)."""
    return [PlatformItem(external_id=str(sku.get("skuId")), quantity=int(sku.get("stockNum") or 0),
                         external_sku=_text(sku.get("outerId")),
                         title=_text(sku.get("skuName")) or _text(sku.get("wareTitle")),
                         barcode=_text(sku.get("barCode")))
            for sku in skus]


def order_event(order: dict[str, Any]) -> OrderEvent:
    """One entry of `searchorderinfo_result.orderInfoList` as an order event."""
    state = str(order.get("orderState", ""))
    consignee = _mapping(order.get("consigneeInfo"))
    name = _text(consignee.get("fullname"))
    phone = _text(consignee.get("mobile")) or _text(consignee.get("telephone"))
    modified = _text(order.get("modified")) or _text(order.get("orderStartTime"))
    found = order.get("itemInfoList")
    items = found if isinstance(found, list) else []
    return OrderEvent(
        kind=_KIND_BY_STATE.get(state, OrderEventKind.UPDATED),
        external_order_id=str(order.get("orderId")),
        lines=[PlatformOrderLine(external_id=str(item.get("skuId")), qty=int(item.get("itemTotal") or 0),
                                 external_sku=_text(item.get("outerSkuId")), unit_price=_price(item.get("jdPrice")))
               for item in items if isinstance(item, dict)],
        platform_status=state or None,
        currency="CNY",
        customer=Customer(name=name, phone=phone) if name or phone else None,
        occurred_at=parse_beijing(modified) if modified else None,
        raw=order)
