"""An order's platform lines read back from the raw payload the inbox kept of its delivery, through each
platform's own payload parser: an order held because an item mapped to no SKU is completed from it once the
item is mapped. Platform knowledge stays here; callers know only the channel's kind."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from omnistock.channels.base import PlatformOrderLine
from omnistock.errors import Invalid

Reader = Callable[[Mapping[str, Any]], Sequence[PlatformOrderLine] | None]


def _webhook(raw: Mapping[str, Any]) -> Sequence[PlatformOrderLine] | None:
    from omnistock.channels.webhook import order_event

    return order_event(raw).lines  # the kept payload is the whole order message


def _jd(raw: Mapping[str, Any]) -> Sequence[PlatformOrderLine] | None:
    from omnistock.channels.jd_payloads import order_event

    return order_event(dict(raw)).lines if "itemInfoList" in raw else None


def _taobao(raw: Mapping[str, Any]) -> Sequence[PlatformOrderLine] | None:
    from omnistock.channels.taobao_payloads import trade_event

    return trade_event(dict(raw)).lines if "orders" in raw else None


def _pinduoduo(raw: Mapping[str, Any]) -> Sequence[PlatformOrderLine] | None:
    from omnistock.channels.pinduoduo import order_event

    return order_event(raw).lines if "item_list" in raw else None


def _douyin(raw: Mapping[str, Any]) -> Sequence[PlatformOrderLine] | None:
    from omnistock.channels.douyin import order_event

    # A polled order carries its lines; a push message only names the order (its lines came from a detail
    # read that was not kept), so it cannot be read back.
    return order_event(raw).lines if "sku_order_list" in raw else None


def _woocommerce(raw: Mapping[str, Any]) -> Sequence[PlatformOrderLine] | None:
    from omnistock.channels.woocommerce_payloads import order_event

    event = order_event(raw) if "line_items" in raw else None
    return event.lines if event is not None else None


def _shopify(raw: Mapping[str, Any]) -> Sequence[PlatformOrderLine] | None:
    from omnistock.channels.shopify_payloads import graphql_line, webhook_order_event

    if "line_items" in raw:  # a webhook's REST order
        return webhook_order_event("orders/create", raw, None).lines
    connection = raw.get("lineItems")
    if not isinstance(connection, Mapping) or (connection.get("pageInfo") or {}).get("hasNextPage"):
        return None  # a polled order whose further line pages were read apart: the kept payload is not whole
    return [graphql_line(node) for node in connection.get("nodes") or []]


READERS: dict[str, Reader] = {"webhook": _webhook, "jd": _jd, "taobao": _taobao, "pinduoduo": _pinduoduo,
                              "douyin": _douyin, "woocommerce": _woocommerce, "shopify": _shopify}


def platform_lines(kind: str, raw: Mapping[str, Any] | None) -> list[PlatformOrderLine] | None:
    """Every line of the order as the kept payload tells it; None when this kind's payload does not carry them
    whole (or does not parse): the order is then left to a person."""
    reader = READERS.get(kind)
    if reader is None or not raw:
        return None
    try:
        lines = reader(raw)
    except (Invalid, KeyError, TypeError, ValueError, ArithmeticError):
        return None
    if lines is None or not lines or any(not ln.external_id or ln.qty <= 0 for ln in lines):
        return None
    return list(lines)
