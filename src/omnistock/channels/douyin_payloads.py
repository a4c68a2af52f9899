"""Douyin shop (抖店) after-sale push messages as omnistock events. No I/O here.

Sources (November 2026): the message classes of the Doudian SDKs on GitHub (zsmhub/doudian-sdk message/, which
links each to op.jinritemai.com/docs/message-docs/31/…, and bububa/jinritemai-go message/refund):
- 200 买家发起售后申请 (doudian_refund_RefundCreated): `aftersale_id, aftersale_status, aftersale_type, apply_time,
  p_id, s_id, shop_id, reason_code, refund_amount` (分), `refund_post_amount`, `refund_voucher_num`;
- 208 买家修改售后申请: the same with `modify_time`;
- 212 买家发起客服仲裁: `aftersale_id, aftersale_status, aftersale_type, arbitrate_id, arbitrate_status, p_id, s_id`.
`aftersale_type` 0 退货, 1 售后仅退款, 2 发货前整单退款 (jinritemai-go); 3 换货 is unconfirmed. The reason codes
below are the list jinritemai-go copies from the 200 message's documentation. A push names the order only: no
detail read is needed, since a request changes no stock.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from omnistock.channels.base import AfterSale, AfterSaleKind, OrderEvent, OrderEventKind

REQUESTED, MODIFIED, ARBITRATION = "200", "208", "212"
AFTER_SALE_TAGS = frozenset({REQUESTED, MODIFIED, ARBITRATION})
TYPE_KIND: Mapping[int, AfterSaleKind] = {0: AfterSaleKind.RETURN, 1: AfterSaleKind.REFUND,
                                          2: AfterSaleKind.REFUND, 3: AfterSaleKind.EXCHANGE}
REASONS: Mapping[int, str] = {
    1: "多拍/错拍/不想要", 2: "未按约定时间发货", 3: "快递一直未送达", 4: "快递无跟踪记录",
    5: "收到商品少件/错件/空包裹", 6: "不喜欢/效果不好", 7: "做工粗糙/有瑕疵/破损或污渍", 8: "功能故障",
    9: "效果与商品描述不符", 10: "商品材质/品牌/外观等描述不符", 11: "生产日期/保质期/规格等描述不符",
    12: "假冒品牌", 13: "协商一致退款", 14: "缺货", 15: "其他", 16: "大小/尺寸/重量与商品描述不符",
    17: "生产日期/保质期与商品描述不符", 18: "品种/规格/成分等描述不符", 19: "商品腐烂/变质", 20: "少件/漏发",
    21: "包装/商品破损", 22: "商家发错货", 23: "与商家协商一致退款", 24: "退运费",
    25: "品种/产品/规格/成分等描述不符", 26: "商品腐烂/变质/死亡", 27: "商品变质/过期", 28: "规格等描述不符",
    29: "收到商品少件/错件/空包裹", 30: "盗版", 31: "做工粗糙/有瑕疵/有污渍", 32: "产品破损/损坏",
    33: "商品材质/外观等描述不符", 34: "使用后过敏",
}


def _int(value: object) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def after_sale_event(tag: str, message: Mapping[str, Any], data: Mapping[str, Any]) -> OrderEvent | None:
    """One after-sale push (`data` already decoded from its JSON string); None if it names no order or
    request."""
    order_id, request_id = _int(data.get("p_id")), _int(data.get("aftersale_id"))
    if order_id is None or request_id is None:
        return None
    kind = AfterSaleKind.DISPUTE if tag == ARBITRATION else TYPE_KIND.get(
        _int(data.get("aftersale_type")) or 0, AfterSaleKind.REFUND)
    reason_code = _int(data.get("reason_code"))
    cents = _int(data.get("refund_amount"))
    stamp = _int(data.get("apply_time") or data.get("modify_time"))
    return OrderEvent(
        kind=OrderEventKind.AFTER_SALE, external_order_id=str(order_id), lines=[],
        event_id=str(message.get("msg_id")) if message.get("msg_id") else None,
        platform_status=f"tag {tag} aftersale_status={data.get('aftersale_status')}", currency="CNY",
        occurred_at=datetime.fromtimestamp(stamp, UTC) if stamp else None, raw=dict(message),
        after_sale=AfterSale(request_id=f"aftersale:{request_id}", kind=kind,
                             reason=REASONS.get(reason_code) if reason_code is not None else None,
                             amount=Decimal(cents) / 100 if cents is not None else None))
