"""Pinduoduo's POP router as a fake: MD5-signed calls, stock by goods/sku, paged goods list, orders and
after-sale requests in windows of at most 30 minutes, and PDD's `error_response` envelope with its documented
codes.

Self-contained: the signature is checked here with its own code, never with omnistock's adapter helpers.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from omnistock.channels.simulator.state import GateKind, SimAfterSale, SimListing, SimOrder, SimRegistry, SimShop

PLATFORM = "pinduoduo"
RATE_LIMIT: tuple[float, int] = (10.0, 20)  # PDD sets limits per API and app; unpublished in general
WEBHOOK_RETRIES = 0  # no push: orders are polled
MAX_WINDOW_S = 30 * 60
MAX_PAGE_SIZE = 100
BEIJING = ZoneInfo("Asia/Shanghai")


class PddError(Exception):
    def __init__(self, code: int, msg: str, sub_msg: str = "") -> None:
        super().__init__(msg)
        self.code, self.msg, self.sub_msg = code, msg, sub_msg

    def envelope(self) -> dict[str, Any]:
        return {"error_response": {"error_code": self.code, "error_msg": self.msg, "sub_code": None,
                                   "sub_msg": self.sub_msg, "request_id": _request_id()}}


def _request_id() -> str:
    return str(time.time_ns())


def expected_sign(params: Mapping[str, str], secret: str) -> str:
    text = "".join(f"{k}{params[k]}" for k in sorted(params) if k != "sign" and params[k] != "")
    return hashlib.md5(f"{secret}{text}{secret}".encode()).hexdigest().upper()


def _as_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return "" if value is None else str(value)


async def _read_params(request: Request) -> dict[str, str]:
    """PDD takes the parameters as a JSON object or as a form; either way they are signed as text."""
    raw = await request.body()
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            raise PddError(10001, "公共参数错误", "body is not JSON") from None
        if not isinstance(body, dict):
            raise PddError(10001, "公共参数错误", "body must be a JSON object")
        params = {str(k): _as_text(v) for k, v in body.items()}
    else:  # application/x-www-form-urlencoded, as the PHP SDK and most hand-written clients send
        params = dict(parse_qsl(raw.decode("utf-8", errors="replace"), keep_blank_values=True))
    return {**dict(request.query_params), **params}


def _check_credentials(shop: SimShop, params: Mapping[str, str]) -> None:
    for name in ("type", "client_id", "timestamp", "sign"):
        if not params.get(name):
            raise PddError(10001, f"公共参数错误:{name}")
    if params["client_id"] != shop.credentials.get("client_id"):
        raise PddError(10016, "client下线或者clientId不正确")
    if params["sign"] != expected_sign(params, shop.credentials.get("client_secret", "")):
        raise PddError(20004, "签名sign校验失败")
    if params.get("access_token") != shop.credentials.get("access_token"):
        raise PddError(20032, "access_token或client_id错误")


def _gate_error(kind: GateKind, overload: bool) -> PddError | None:
    if kind is GateKind.THROTTLED:
        if overload:
            return PddError(52101, "当前接口被限流，请稍后重试")
        return PddError(70031, "调用过于频繁，请调整调用频率")
    if kind is GateKind.DOWN:
        return PddError(52103, "服务暂时不可用，请稍后重试")
    if kind is GateKind.ERROR:
        return PddError(50000, "系统内部错误")
    if kind is GateKind.AUTH:
        return PddError(10019, "access_token已过期")
    return None


def _int_param(params: Mapping[str, str], name: str, default: int | None = None) -> int:
    raw = params.get(name)
    if raw in (None, ""):
        if default is None:
            raise PddError(10000, "参数错误", f"{name} 不能为空")
        return default
    try:
        return int(str(raw))
    except ValueError:
        raise PddError(10000, "参数错误", f"{name} 必须是整数") from None


def _ids(external_id: str) -> tuple[int, int] | None:
    goods, _, sku = external_id.partition("/")
    return (int(goods), int(sku)) if goods.isdigit() and sku.isdigit() else None


# --- the API calls ---------------------------------------------------------------------------------------

def quantity_update(shop: SimShop, params: Mapping[str, str]) -> dict[str, Any]:
    goods_id = _int_param(params, "goods_id")
    quantity = _int_param(params, "quantity")
    update_type = _int_param(params, "update_type", 1)
    with shop.lock:
        if params.get("sku_id"):
            external_id = f"{goods_id}/{_int_param(params, 'sku_id')}"
        else:
            outer = params.get("outer_id") or ""
            matches = [lid for lid, li in shop.listings.items()
                       if lid.startswith(f"{goods_id}/") and outer and li.external_sku == outer]
            if not matches:
                raise PddError(10000, "参数错误", "sku_id和outer_id必填一个且需存在")
            external_id = matches[0]
        listing = shop.listings.get(external_id)
        if listing is None:
            raise PddError(10000, "参数错误", f"商品或sku不存在: {external_id}")
        if update_type == 1:
            if quantity < 0:
                raise PddError(10000, "参数错误", "全量更新时quantity必须大于等于0")
            shop.set_quantity(external_id, quantity, "api")
        elif update_type == 2:
            if listing.quantity + quantity < 0:
                raise PddError(10000, "参数错误", "增量更新后库存不能小于0")
            shop.adjust_quantity(external_id, quantity, "api")
        else:
            raise PddError(10000, "参数错误", "update_type只能为1或2")
    return {"goods_quantity_update_response": {"is_success": True, "request_id": _request_id()}}


def goods_list(shop: SimShop, params: Mapping[str, str]) -> dict[str, Any]:
    page = _int_param(params, "page", 1)
    size = _int_param(params, "page_size", 100)
    if page < 1 or not 1 <= size <= MAX_PAGE_SIZE:
        raise PddError(10000, "参数错误", "page从1开始，page_size最大100")
    with shop.lock:
        goods: dict[int, list[tuple[int, SimListing]]] = {}
        for listing in shop.listings.values():
            ids = _ids(listing.external_id)
            if ids is not None:
                goods.setdefault(ids[0], []).append((ids[1], listing))
        ordered = sorted(goods.items())
        chosen = ordered[(page - 1) * size: page * size]
        goods_list = [_goods_json(goods_id, sorted(skus, key=lambda s: s[0])) for goods_id, skus in chosen]
    return {"goods_list_get_response": {"goods_list": goods_list, "total_count": len(ordered)}}


def _goods_json(goods_id: int, skus: list[tuple[int, SimListing]]) -> dict[str, Any]:
    return {
        "goods_id": goods_id, "goods_name": skus[0][1].title or f"goods {goods_id}",
        "goods_quantity": sum(li.quantity for _, li in skus), "goods_reserve_quantity": 0,
        "is_more_sku": int(len(skus) > 1), "is_onsale": 1, "image_url": "", "thumb_url": "",
        "created_at": 1700000000,
        "sku_list": [{"sku_id": sku_id, "sku_quantity": li.quantity, "reserve_quantity": 0,
                      "outer_id": li.external_sku or "", "outer_goods_id": None, "spec": "",
                      "spec_details": [], "is_sku_onsale": 1} for sku_id, li in skus],
    }


def order_increment(shop: SimShop, params: Mapping[str, str]) -> dict[str, Any]:
    start = _int_param(params, "start_updated_at")
    end = _int_param(params, "end_updated_at")
    if end < start:
        raise PddError(10000, "参数错误", "end_updated_at不能早于start_updated_at")
    if end - start > MAX_WINDOW_S:
        raise PddError(10000, "参数错误", "开始时间结束时间间距不超过30分钟")
    page = _int_param(params, "page", 1)
    size = _int_param(params, "page_size", 100)
    if page < 1 or not 1 <= size <= MAX_PAGE_SIZE:
        raise PddError(10000, "参数错误", "page从1开始，page_size最大100")
    order_status = _int_param(params, "order_status", 5)
    refund_status = _int_param(params, "refund_status", 5)
    found = [_order_json(o) for o in shop.orders_modified_between(
        datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC))]
    found = [o for o in found
             if order_status in (5, o["order_status"]) and refund_status in (5, o["refund_status"])]
    chosen = found[(page - 1) * size: page * size]
    return {"order_sn_increment_get_response": {"total_count": len(found), "order_sn_list": chosen,
                                                "has_next": page * size < len(found)}}


# neutral status -> (order_status 发货状态, refund_status 售后状态, confirm_status 成交状态)
STATUS_FIELDS = {"paid": (1, 1, 1), "shipped": (2, 1, 1), "cancelled": (1, 4, 2), "refunded": (2, 4, 1)}


def _order_json(order: SimOrder) -> dict[str, Any]:
    order_status, refund_status, confirm_status = STATUS_FIELDS.get(order.status, (1, 1, 1))
    goods_amount = sum((line.unit_price * line.qty for line in order.lines), Decimal(0))
    items = []
    for line in order.lines:
        goods_id, sku_id = _ids(line.external_id) or (0, 0)
        items.append({"goods_id": goods_id, "sku_id": sku_id, "goods_count": line.qty,
                      "goods_price": float(line.unit_price), "outer_id": line.external_sku or "",
                      "outer_goods_id": "", "goods_name": f"goods {goods_id}", "goods_spec": "",
                      "goods_img": ""})
    return {
        "order_sn": order.id, "order_status": order_status, "refund_status": refund_status,
        "confirm_status": confirm_status, "group_status": 2 if confirm_status == 2 else 1,
        "after_sales_status": 10 if refund_status == 4 else 0, "is_lucky_flag": 1, "trade_type": 0,
        "created_time": _beijing(order.created_at), "confirm_time": _beijing(order.created_at),
        "pay_time": _beijing(order.created_at), "updated_at": _beijing(order.modified_at),
        "receiver_name": order.customer.get("name", ""), "receiver_phone": order.customer.get("phone", ""),
        "goods_amount": float(goods_amount), "pay_amount": float(goods_amount), "discount_amount": 0.0,
        "postage": 0.0, "item_list": items,
    }


# neutral after-sale kind -> (after_sales_type, after_sales_status while open); a dispute is a refund request the
# platform took over (平台处理中). A closed request shows as 11 买家撤销.
AFTER_SALE_FIELDS = {"refund": (2, 2), "return": (3, 3), "exchange": (4, 14), "dispute": (2, 8)}
CLOSED_STATUS = 11


def refund_increment(shop: SimShop, params: Mapping[str, str]) -> dict[str, Any]:
    """`pdd.refund.list.increment.get`: after-sale requests changed in a window of at most 30 minutes."""
    start = _int_param(params, "start_updated_at")
    end = _int_param(params, "end_updated_at")
    for name in ("after_sales_status", "after_sales_type"):
        _int_param(params, name)  # both are required by PDD
    if end < start:
        raise PddError(10000, "参数错误", "end_updated_at不能早于start_updated_at")
    if end - start > MAX_WINDOW_S:
        raise PddError(10000, "参数错误", "开始时间结束时间间距不超过30分钟")
    page = _int_param(params, "page", 1)
    size = _int_param(params, "page_size", 100)
    if page < 1 or not 1 <= size <= MAX_PAGE_SIZE:
        raise PddError(10000, "参数错误", "page从1开始，page_size最大100")
    status_filter, type_filter = _int_param(params, "after_sales_status"), _int_param(params, "after_sales_type")
    with shop.lock:
        found = [_refund_json(r, shop.orders[r.order_id]) for r in shop.after_sales_modified_between(
            datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC))]
    found = [r for r in found if status_filter in (1, r["after_sales_status"])
             and type_filter in (1, r["after_sales_type"])]
    chosen = found[(page - 1) * size: page * size]
    return {"refund_increment_get_response": {"total_count": len(found), "refund_list": chosen}}


def _refund_json(request: SimAfterSale, order: SimOrder) -> dict[str, Any]:
    kind, status = AFTER_SALE_FIELDS[request.kind]
    line = order.lines[0]
    goods_id, sku_id = _ids(line.external_id) or (0, 0)
    amount = sum((ln.unit_price * ln.qty for ln in order.lines), Decimal(0))
    return {"id": int(request.id), "order_sn": order.id, "after_sales_type": kind,
            "after_sales_status": status if request.status == "open" else CLOSED_STATUS,
            "after_sale_reason": request.reason, "goods_id": goods_id, "sku_id": str(sku_id),
            "goods_name": f"goods {goods_id}", "goods_number": str(line.qty), "goods_price": f"{line.unit_price:.2f}",
            "outer_id": line.external_sku or "", "outer_goods_id": "", "order_amount": f"{amount:.2f}",
            "refund_amount": f"{amount:.2f}", "discount_amount": "0.00", "confirm_time": _beijing(order.created_at),
            "created_time": _beijing(request.created_at), "updated_time": _beijing(request.modified_at),
            "tracking_number": "", "speed_refund_flag": 0, "speed_refund_status": ""}


def _beijing(moment: datetime) -> str:
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


CALLS = {
    "pdd.goods.quantity.update": ("set_stock", quantity_update),
    "pdd.goods.list.get": ("read_stock", goods_list),
    "pdd.order.number.list.increment.get": ("orders", order_increment),
    "pdd.refund.list.increment.get": ("after_sales", refund_increment),
}


def router(registry: SimRegistry) -> APIRouter:
    api = APIRouter(prefix=f"/{PLATFORM}/{{shop}}", tags=[PLATFORM])

    @api.post("/api/router")
    async def gateway(shop: str, request: Request) -> JSONResponse:
        try:
            found = registry.shops.get(shop)
            if found is None or found.platform != PLATFORM:
                raise PddError(10016, "client下线或者clientId不正确")
            params = await _read_params(request)
            _check_credentials(found, params)
            call = CALLS.get(params["type"])
            if call is None:
                raise PddError(10017, "type不正确")
            op, handler = call
            gate = await found.gate(op)
            error = _gate_error(gate.kind, gate.overload)
            if error is not None:
                raise error
            return JSONResponse(handler(found, params))
        except PddError as exc:
            return JSONResponse(exc.envelope())

    return api


def order_webhook(shop: SimShop, order: SimOrder, event: str) -> tuple[dict[str, str], bytes] | None:
    return None  # PDD has no order push for ISVs here: its orders are polled
