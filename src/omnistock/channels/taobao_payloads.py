"""Taobao/Tmall TOP wire details: request signing, error envelopes, and the item, sku and trade payloads.

Sources (checked November 2026): TOP's signing rule and the `error_response` envelope as in
docs/CHANNEL_APIS.md; field names and list wrappers (`items.item`, `skus.sku`, `trades.trade`,
`orders.order`) and trade/refund status values from the TOP API reference as mirrored in the generated
SDK github.com/bububa/opentaobao (model/product, model/trade).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from omnistock.channels.base import (
    AfterSale,
    AfterSaleKind,
    Customer,
    OrderEvent,
    OrderEventKind,
    PlatformItem,
    PlatformOrderLine,
)
from omnistock.channels.china_time import parse_beijing
from omnistock.channels.signing import concat_sorted, hmac_hex, md5_hex
from omnistock.errors import (
    ChannelError,
    PlatformAuthFailed,
    PlatformInvalid,
    PlatformNotFound,
    PlatformThrottled,
    PlatformTransient,
)

SIGN_METHODS = ("md5", "hmac", "hmac-sha256")

# TOP platform error codes (open.taobao.com "平台错误码").
CALL_LIMITED = "7"
REMOTE_SERVICE_ERROR = "15"
AUTH_CODES = frozenset({
    "11",  # Insufficient ISV Permissions
    "12",  # Insufficient User Permissions
    "25",  # Invalid Signature
    "26",  # Missing Session
    "27",  # Invalid Session (sub_code invalid-sessionkey / session-expired)
    "28",  # Missing App Key
    "29",  # Invalid App Key
})
_BAN_SECONDS = re.compile(r"ban will last for\s+(\d+(?:\.\d+)?)\s+more seconds", re.IGNORECASE)

# Trade statuses (Trade.status in the TOP reference).
CREATED_STATUSES = frozenset({"WAIT_BUYER_PAY", "WAIT_SELLER_SEND_GOODS", "TRADE_NO_CREATE_PAY",
                              "PAY_PENDING", "WAIT_PRE_AUTH_CONFIRM", "PAID_FORBID_CONSIGN"})
CANCELLED_STATUSES = frozenset({"TRADE_CLOSED", "TRADE_CLOSED_BY_TAOBAO"})
SHIPPED_STATUSES = frozenset({"WAIT_BUYER_CONFIRM_GOODS", "TRADE_FINISHED", "TRADE_BUYER_SIGNED",
                              "SELLER_CONSIGNED_PART"})
REFUND_SUCCESS = "SUCCESS"  # Order.refund_status once the money went back to the buyer


def wire_value(value: object) -> str:
    """How a parameter travels (and is signed): TOP spells booleans in lower case."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def top_sign(params: Mapping[str, str], secret: str, sign_method: str) -> str:
    """TOP's signature over every parameter except `sign`, upper-case hex."""
    text = concat_sorted(params)
    if sign_method == "md5":
        return md5_hex(secret + text + secret).upper()
    if sign_method == "hmac":
        return hmac_hex(secret, text, "md5").upper()
    if sign_method == "hmac-sha256":
        return hmac_hex(secret, text, "sha256").upper()
    raise ValueError(f"unknown TOP sign_method {sign_method!r}")


def response_key(method: str) -> str:
    """`taobao.item.quantity.update` answers under `item_quantity_update_response`."""
    return method.removeprefix("taobao.").replace(".", "_") + "_response"


def ban_seconds(sub_msg: str | None, default: float = 1.0) -> float:
    """The wait TOP announces in `sub_msg`, e.g. "This ban will last for 1 more seconds"."""
    match = _BAN_SECONDS.search(sub_msg or "")
    return float(match.group(1)) if match else default


def top_error(error: Mapping[str, Any]) -> ChannelError:
    """The typed error for one `error_response`."""
    code = str(error.get("code", ""))
    sub_code = str(error.get("sub_code") or "")
    text = " / ".join(str(part) for part in (error.get("msg"), sub_code, error.get("sub_msg")) if part)
    message = f"taobao: error {code}: {text}"
    if code == CALL_LIMITED:
        return PlatformThrottled(message, retry_after=ban_seconds(error.get("sub_msg")), code=code)
    if code in AUTH_CODES:
        return PlatformAuthFailed(message, code=code)
    # isp.* sub codes are failures on Taobao's side ("service provider"): worth trying again.
    if sub_code.startswith("isp."):
        return PlatformTransient(message, code=code)
    if "not-exist" in sub_code or "not-found" in sub_code:
        return PlatformNotFound(message, code=code)
    return PlatformInvalid(message, code=code)


def listed(container: object, name: str) -> list[dict[str, Any]]:
    """TOP wraps lists as {"items": {"item": [...]}}; an empty list may come as {} or not at all."""
    if not isinstance(container, Mapping):
        return []
    inner = container.get(name)
    if isinstance(inner, list):
        return [entry for entry in inner if isinstance(entry, dict)]
    return []


def split_external_id(external_id: str) -> tuple[str, str | None]:
    """"<num_iid>" or "<num_iid>/<sku_id>" into its digits; ValueError for anything else."""
    num_iid, _, sku_id = external_id.partition("/")
    if not num_iid.isdigit() or (sku_id and not sku_id.isdigit()) or external_id.count("/") > 1:
        raise ValueError(f"taobao listing id must be <num_iid> or <num_iid>/<sku_id>, got {external_id!r}")
    return num_iid, sku_id or None


def _text(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


def platform_items(items: Iterable[Mapping[str, Any]], skus: Iterable[Mapping[str, Any]]) -> list[PlatformItem]:
    """One PlatformItem per sku, or per item for an item sold without skus."""
    skus_by_item: dict[str, list[Mapping[str, Any]]] = {}
    for sku in skus:
        skus_by_item.setdefault(str(sku.get("num_iid")), []).append(sku)
    found: list[PlatformItem] = []
    for item in items:
        num_iid = str(item.get("num_iid"))
        title = _text(item.get("title"))
        item_skus = skus_by_item.get(num_iid, [])
        if not item_skus:
            found.append(PlatformItem(external_id=num_iid, quantity=int(item.get("num") or 0),
                                      external_sku=_text(item.get("outer_id")), title=title))
            continue
        for sku in item_skus:
            found.append(PlatformItem(
                external_id=f"{num_iid}/{sku.get('sku_id')}", quantity=int(sku.get("quantity") or 0),
                external_sku=_text(sku.get("outer_id")), title=title, barcode=_text(sku.get("barcode"))))
    return found


def trade_kind(trade: Mapping[str, Any], orders: list[dict[str, Any]]) -> OrderEventKind:
    status = str(trade.get("status", ""))
    # A refund shows on the sub-orders; the trade itself then closes (TRADE_CLOSED) or stays finished.
    if orders and all(order.get("refund_status") == REFUND_SUCCESS for order in orders):
        return OrderEventKind.REFUNDED
    if status in CANCELLED_STATUSES:
        return OrderEventKind.CANCELLED
    if status in SHIPPED_STATUSES:
        return OrderEventKind.SHIPPED
    if status in CREATED_STATUSES:
        return OrderEventKind.CREATED
    return OrderEventKind.UPDATED


def _price(value: object) -> Decimal | None:
    try:
        return Decimal(str(value)) if value not in (None, "") else None
    except InvalidOperation:
        return None


def order_line(order: Mapping[str, Any]) -> PlatformOrderLine:
    num_iid, sku_id = order.get("num_iid"), _text(order.get("sku_id"))
    return PlatformOrderLine(
        external_id=f"{num_iid}/{sku_id}" if sku_id else str(num_iid),
        qty=int(order.get("num") or 0),
        external_sku=_text(order.get("outer_sku_id")) or _text(order.get("outer_iid")),
        unit_price=_price(order.get("price")))


def trade_event(trade: dict[str, Any]) -> OrderEvent:
    """One trade of `taobao.trades.sold.increment.get` as an order event."""
    orders = listed(trade.get("orders"), "order")
    modified = _text(trade.get("modified"))
    name = _text(trade.get("receiver_name")) or _text(trade.get("buyer_nick"))
    phone = _text(trade.get("receiver_mobile")) or _text(trade.get("receiver_phone"))
    return OrderEvent(
        kind=trade_kind(trade, orders),
        external_order_id=_text(trade.get("tid_str")) or str(trade.get("tid")),
        lines=[order_line(order) for order in orders],
        platform_status=_text(trade.get("status")),
        currency="CNY",
        customer=Customer(name=name, phone=phone) if name or phone else None,
        occurred_at=parse_beijing(modified) if modified else None,
        raw=trade)


# --- after-sale requests -----------------------------------------------------------------------------------
# `taobao.refunds.receive.get` (查询卖家收到的退款列表; the Refund object of the TOP reference as mirrored in
# bububa/opentaobao model/refund): `refunds.refund[]` with refund_id, tid, oid, status, has_good_return, reason,
# desc, refund_fee, cs_status (客服介入: 1 不需 / 2 需要 / 3 已经介入 / 4..6 处理中和完成), created, modified.
# A request is reported while it waits on someone; SUCCESS comes from the trades as REFUNDED, CLOSED needs no
# answer. Taobao's TMC pushes (taobao_refund_RefundCreated...) are out of scope: omnistock polls.

REFUND_FIELDS = "refund_id,tid,oid,status,has_good_return,reason,desc,refund_fee,cs_status,created,modified,num"
OPEN_REFUND_STATUSES = frozenset({"WAIT_SELLER_AGREE", "WAIT_BUYER_RETURN_GOODS", "WAIT_SELLER_CONFIRM_GOODS",
                                  "SELLER_REFUSE_BUYER", "WAIT_SELLER_CONSIGN_GOODS",
                                  "WAIT_BUYER_CONFIRM_EXCHANGE_SELLER_SEND_GOODS"})
EXCHANGE_STATUSES = frozenset({"WAIT_SELLER_CONSIGN_GOODS", "WAIT_BUYER_CONFIRM_EXCHANGE_SELLER_SEND_GOODS"})
CUSTOMER_SERVICE_IN = frozenset({2, 3, 4, 5})  # cs_status: Taobao's customer service steps in (a dispute)


def refund_event(refund: Mapping[str, Any]) -> OrderEvent | None:
    """One refund of `taobao.refunds.receive.get`; None when it is settled (or names no trade)."""
    status = str(refund.get("status") or "")
    tid = _text(refund.get("tid"))
    if status not in OPEN_REFUND_STATUSES or tid is None or _text(refund.get("refund_id")) is None:
        return None
    try:
        cs_status = int(refund.get("cs_status") or 0)
    except (TypeError, ValueError):
        cs_status = 0
    if cs_status in CUSTOMER_SERVICE_IN:
        kind = AfterSaleKind.DISPUTE
    elif status in EXCHANGE_STATUSES:
        kind = AfterSaleKind.EXCHANGE
    elif refund.get("has_good_return") in (True, "true"):
        kind = AfterSaleKind.RETURN
    else:
        kind = AfterSaleKind.REFUND
    modified = _text(refund.get("modified")) or _text(refund.get("created"))
    try:
        occurred = parse_beijing(modified) if modified else None
    except ValueError:
        occurred = None
    return OrderEvent(
        kind=OrderEventKind.AFTER_SALE, external_order_id=tid, lines=[],
        # One event per state of the request: the same state polled again is a duplicate, a new state is news.
        event_id=f"taobao-refund:{refund['refund_id']}:{status}:{cs_status}", platform_status=status,
        currency="CNY", occurred_at=occurred, raw=dict(refund),
        after_sale=AfterSale(request_id=f"refund:{refund['refund_id']}", kind=kind, reason=_text(refund.get("reason")),
                             note=_text(refund.get("desc")), amount=_price(refund.get("refund_fee"))))
