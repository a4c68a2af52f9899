"""Pinduoduo after-sale requests: one entry of `pdd.refund.list.increment.get` as an omnistock event. No I/O.

Status and type values from the PDD SDKs' field comments (售后列表增量查询, November 2026). A request is
reported while it is open, i.e. while the merchant or the platform still has to act; a closed one (refund done,
refused, withdrawn by the buyer, lapsed) is not: the refund that went through comes from the order poll
(refund_status 4) as REFUNDED, and a request that died needs no answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from omnistock.channels.base import AfterSale, AfterSaleKind, OrderEvent, OrderEventKind, PlatformOrderLine
from omnistock.channels.china_time import parse_beijing

# after_sales_type: 2 仅退款, 3 退货退款, 4 换货, 5 缺货补寄, 6 维修
TYPE_KIND: Mapping[int, AfterSaleKind] = {2: AfterSaleKind.REFUND, 3: AfterSaleKind.RETURN,
                                          4: AfterSaleKind.EXCHANGE, 5: AfterSaleKind.EXCHANGE,
                                          6: AfterSaleKind.EXCHANGE}
# after_sales_status still waiting on someone: 2 买家申请退款，待商家处理, 3 退货退款，待商家处理, 4 商家同意退款，
# 退款中, 5 平台同意退款，退款中, 6 驳回退款，待买家处理, 7 已同意退货退款，待用户发货, 8 平台处理中, 14 换货补寄待商家
# 处理, 15 换货补寄待用户处理, 18 换货补寄待用户确认完成, 21 待商家同意维修, 22 待用户确认发货, 27 待用户确认收货,
# 31 已同意拒收退款，待用户拒收, 32 补寄待商家发货, 33 待商家召回. Closed: 0 无售后, 9 平台拒绝, 10 退款成功,
# 11 买家撤销, 12/13 买家逾期, 16 换货补寄成功, 17 换货补寄失败, 24 维修关闭, 25 维修成功.
OPEN_STATUSES = frozenset({2, 3, 4, 5, 6, 7, 8, 14, 15, 18, 21, 22, 27, 31, 32, 33})
PLATFORM_STEPS_IN = 8  # 平台处理中: the platform arbitrates, a dispute


def _int(value: object) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return 0


def _text(value: object) -> str | None:
    return (str(value).strip() or None) if value is not None else None


def _time(text: str | None) -> datetime | None:
    try:
        return parse_beijing(text) if text else None
    except ValueError:
        return None


def _amount(value: object) -> Decimal | None:
    try:
        return Decimal(str(value)) if value not in (None, "") else None
    except InvalidOperation:
        return None


def after_sale_event(refund: Mapping[str, Any]) -> OrderEvent | None:
    """One `refund_list` entry; None when the request is closed (or the entry names no order)."""
    status = _int(refund.get("after_sales_status"))
    order_sn = _text(refund.get("order_sn"))
    if status not in OPEN_STATUSES or order_sn is None or refund.get("id") in (None, ""):
        return None
    kind = AfterSaleKind.DISPUTE if status == PLATFORM_STEPS_IN else TYPE_KIND.get(
        _int(refund.get("after_sales_type")), AfterSaleKind.REFUND)
    lines = []
    if refund.get("goods_id") not in (None, "") and refund.get("sku_id") not in (None, ""):
        lines.append(PlatformOrderLine(external_id=f"{refund['goods_id']}/{refund['sku_id']}",
                                       qty=_int(refund.get("goods_number")),
                                       external_sku=_text(refund.get("outer_id"))))
    updated = _text(refund.get("updated_time")) or _text(refund.get("created_time"))
    return OrderEvent(
        kind=OrderEventKind.AFTER_SALE, external_order_id=order_sn, lines=lines,
        # One event per state of the request: the same state polled again is a duplicate, a new state is news.
        event_id=f"pdd-after-sale:{refund['id']}:{status}",
        platform_status=f"after_sales_type={_int(refund.get('after_sales_type'))}/after_sales_status={status}",
        currency="CNY", occurred_at=_time(updated), raw=dict(refund),
        after_sale=AfterSale(request_id=f"after_sale:{refund['id']}", kind=kind,
                             reason=_text(refund.get("after_sale_reason")),
                             amount=_amount(refund.get("refund_amount"))))
