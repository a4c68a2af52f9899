"""Douyin shop (抖店) as a fake: `POST /{method as path}` with signed query parameters and a JSON body,
absolute or incremental stock with idempotent ids, product/sku listing, order search and detail, and the
signed order and after-sale pushes (a JSON array of {tag, msg_id, data}).

Self-contained: signatures are checked here with their own code, never with omnistock's adapter helpers.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
import zlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from omnistock.channels.simulator.state import GateKind, SimAfterSale, SimListing, SimOrder, SimRegistry, SimShop

PLATFORM = "douyin"
RATE_LIMIT: tuple[float, int] = (10.0, 20)  # Doudian sets limits per API and app; unpublished in general
WEBHOOK_RETRIES = 3  # Doudian re-pushes unacknowledged messages (count unconfirmed)
MAX_PRODUCT_PAGE = 100
MAX_ORDER_PAGE = 100

_msg_ids = itertools.count(7_000_000_000_000_000_001)

# The main messages of the error codes (sub codes and sub messages say the rest).
PLATFORM_PARAM = "非法的参数（平台校验）"
BUSINESS_PARAM = "非法的参数（业务校验）"
BUSINESS_MISSING = "缺少必选参数（业务校验）"
BUSINESS_FAILED = "业务处理失败"


class DouyinError(Exception):
    def __init__(self, code: int, msg: str, sub_code: str = "", sub_msg: str = "") -> None:
        super().__init__(msg)
        self.code, self.msg, self.sub_code, self.sub_msg = code, msg, sub_code, sub_msg


def envelope(data: object, code: int = 10000, msg: str = "success", sub_code: str = "",
             sub_msg: str = "") -> dict[str, Any]:
    """Both schemes at once: the current `code`/`msg`/`sub_code` and the older `err_no`/`message`."""
    return {"data": data, "code": code, "msg": msg, "sub_code": sub_code, "sub_msg": sub_msg,
            "log_id": str(time.time_ns()), "err_no": 0 if code == 10000 else code,
            "message": msg if code == 10000 else (sub_msg or msg)}


def expected_sign(app_key: str, secret: str, method: str, params_json: str, timestamp: str, v: str,
                  sign_method: str) -> str:
    pattern = f"{secret}app_key{app_key}method{method}param_json{params_json}timestamp{timestamp}v{v}{secret}"
    if sign_method == "hmac-sha256":
        return hmac.new(secret.encode(), pattern.encode(), hashlib.sha256).hexdigest()
    return hashlib.md5(pattern.encode()).hexdigest()


def _valid_timestamp(value: str) -> bool:
    if value.isdigit():
        return True
    try:
        datetime.strptime(value, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return False
    return True


def _check_request(shop: SimShop, method: str, query: Mapping[str, str], params_json: str) -> None:
    missing = [("isv.app-id-missing", "app_key"), ("isv.access-token-missing", "access_token"),
               ("isv.signature-missing", "sign")]
    for sub_code, name in missing:
        if not query.get(name):
            raise DouyinError(40001, "缺少必选参数（平台校验）", sub_code, f"{name} 不能为空")
    if query["app_key"] != shop.credentials.get("app_key"):
        raise DouyinError(40003, PLATFORM_PARAM, "isv.app-id-invalid", "认证失败，app_key不存在")
    timestamp = query.get("timestamp", "")
    if not _valid_timestamp(timestamp):
        raise DouyinError(40003, PLATFORM_PARAM, "isv.timestamp-format-error", "时间戳格式错误")
    sign_method = query.get("sign_method") or "md5"
    sign = expected_sign(query["app_key"], shop.credentials.get("app_secret", ""), method, params_json,
                         timestamp, query.get("v", ""), sign_method)
    if query.get("v") != "2" or query.get("method") != method or not hmac.compare_digest(query["sign"], sign):
        raise DouyinError(40003, PLATFORM_PARAM, "isv.signature-invalid", "签名校验失败")
    if query["access_token"] != shop.credentials.get("access_token"):
        raise DouyinError(40003, PLATFORM_PARAM, "isv.access-token-no-existed",
                          "access_token不存在，请使用最新的access_token访问")


def _gate_error(kind: GateKind) -> DouyinError | None:
    if kind is GateKind.THROTTLED:
        return DouyinError(60000, "触发限流，请稍后重试")
    if kind is GateKind.DOWN:
        return DouyinError(20000, "服务不可用", "dop.service-error", "内部错误，请反馈客服或答疑群")
    if kind is GateKind.ERROR:
        return DouyinError(20001, "内部服务超时")
    if kind is GateKind.AUTH:
        return DouyinError(30001, "操作权限不足", "dop.authorization-no-existed",
                           "店铺授权已失效，请重新授权")
    return None


def _int(params: Mapping[str, Any], name: str, default: int | None = None) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        if default is None:
            raise DouyinError(40002, BUSINESS_MISSING, "isv.missing-parameter", f"{name} 不能为空")
        return default
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise DouyinError(40004, BUSINESS_PARAM, "isv.parameter-invalid", f"{name} 必须是整数") from None


def _ids(external_id: str) -> tuple[int, int] | None:
    product, _, sku = external_id.partition("/")
    return (int(product), int(sku)) if product.isdigit() and sku.isdigit() else None


def _products(shop: SimShop) -> dict[int, list[tuple[int, SimListing]]]:
    products: dict[int, list[tuple[int, SimListing]]] = {}
    for listing in shop.listings.values():
        ids = _ids(listing.external_id)
        if ids is not None:
            products.setdefault(ids[0], []).append((ids[1], listing))
    return products


# --- the API calls ---------------------------------------------------------------------------------------

def sync_stock(shop: SimShop, params: Mapping[str, Any]) -> object:
    product_id = _int(params, "product_id")
    incremental = params.get("incremental") in (True, "true")
    idempotent_id = str(params.get("idempotent_id") or "")
    if incremental and not idempotent_id:
        raise DouyinError(40002, BUSINESS_MISSING, "isv.missing-parameter", "增量更新时idempotent_id必填")
    stock_num = _int(params, "stock_num")
    with shop.lock:
        if params.get("sku_id") not in (None, ""):
            external_id = f"{product_id}/{_int(params, 'sku_id')}"
        else:
            code = str(params.get("code") or "")
            matches = [lid for lid, li in shop.listings.items()
                       if lid.startswith(f"{product_id}/") and code and li.external_sku == code]
            external_id = matches[0] if matches else ""
        listing = shop.listings.get(external_id)
        if listing is None:
            raise DouyinError(50002, BUSINESS_FAILED, "isv.business-failed", "sku不存在")
        if idempotent_id and shop.seen_key(f"douyin:sku.syncStock:{idempotent_id}"):
            raise DouyinError(40003, PLATFORM_PARAM, "isv.idempotent-id-existed", "幂等ID重复")
        if incremental:
            if listing.quantity + stock_num < 0:
                raise DouyinError(50002, BUSINESS_FAILED, "isv.business-failed", "库存不足")
            shop.adjust_quantity(external_id, stock_num, "api")
        else:
            if stock_num < 0:
                raise DouyinError(40004, BUSINESS_PARAM, "isv.parameter-invalid", "stock_num不能小于0")
            shop.set_quantity(external_id, stock_num, "api")
    return {}


def product_list(shop: SimShop, params: Mapping[str, Any]) -> object:
    page, size = _int(params, "page", 1), _int(params, "size", 10)
    if not 1 <= page <= MAX_PRODUCT_PAGE or not 1 <= size <= 100 or page * size > 10000:
        raise DouyinError(40004, BUSINESS_PARAM, "isv.parameter-invalid", "page从1开始，size范围1~100")
    with shop.lock:
        products = sorted(_products(shop).items())
        chosen = products[(page - 1) * size: page * size]
        data = [{"product_id": pid, "product_id_str": str(pid), "name": skus[0][1].title or f"product {pid}",
                 "status": 0, "check_status": 3, "product_type": 0, "create_time": 1700000000,
                 "update_time": 1700000000, "outer_product_id": ""} for pid, skus in chosen]
    return {"data": data, "total": len(products), "page": page, "size": size}


def sku_list(shop: SimShop, params: Mapping[str, Any]) -> object:
    product_id = _int(params, "product_id")
    with shop.lock:
        skus = sorted(_products(shop).get(product_id, []), key=lambda s: s[0])
        if not skus:
            raise DouyinError(50002, BUSINESS_FAILED, "isv.business-failed", "商品不存在")
        return [{"id": sku_id, "product_id": product_id, "product_id_str": str(product_id),
                 "code": li.external_sku or "", "stock_num": li.quantity, "prehold_stock_num": 0,
                 "sku_type": 0, "price": int(li.price * 100), "out_sku_id": 0, "spec_detail_name1": "",
                 "spec_detail_name2": "", "spec_detail_name3": ""} for sku_id, li in skus]


def order_search(shop: SimShop, params: Mapping[str, Any]) -> object:
    start, end = _int(params, "update_time_start", 0), _int(params, "update_time_end", int(time.time()) + 1)
    page, size = _int(params, "page", 0), _int(params, "size", 10)
    if page < 0 or not 1 <= size <= MAX_ORDER_PAGE:
        raise DouyinError(40004, BUSINESS_PARAM, "isv.parameter-invalid", "page从0开始，size限制100以内")
    found = shop.orders_modified_between(datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC))
    key = "modified_at" if params.get("order_by") == "update_time" else "created_at"
    found.sort(key=lambda o: getattr(o, key), reverse=params.get("order_asc") not in (True, "true"))
    chosen = found[page * size: (page + 1) * size]
    return {"page": page, "size": size, "total": len(found),
            "shop_order_list": [order_json(o) for o in chosen]}


def order_detail(shop: SimShop, params: Mapping[str, Any]) -> object:
    with shop.lock:
        order = shop.orders.get(str(params.get("shop_order_id") or ""))
        if order is None:
            raise DouyinError(50002, BUSINESS_FAILED, "isv.business-failed", "订单不存在")
        return {"shop_order_detail": order_json(order)}


# neutral status -> (order_status, description, sku refund_status)
STATUS_FIELDS = {"paid": (2, "备货中", 0), "shipped": (3, "已发货", 0), "cancelled": (4, "已取消", 0),
                 "refunded": (3, "已发货", 3)}


def order_json(order: SimOrder) -> dict[str, Any]:
    status, desc, refund_status = STATUS_FIELDS.get(order.status, (2, "备货中", 0))
    skus = []
    for n, line in enumerate(order.lines):
        product_id, sku_id = _ids(line.external_id) or (0, 0)
        cents = int(line.unit_price * 100)
        skus.append({
            "order_id": order.id if n == 0 else f"{order.id}{n}", "parent_order_id": order.id,
            "order_level": 3, "product_id": product_id, "product_id_str": str(product_id), "sku_id": sku_id,
            "item_num": line.qty,
            "code": line.external_sku or "", "origin_amount": cents, "sum_amount": cents * line.qty,
            "order_status": status, "order_status_desc": desc, "product_name": f"product {product_id}",
            "after_sale_info": {"after_sale_status": 12 if refund_status else 0,
                                "after_sale_type": 1 if refund_status else 0,
                                "refund_status": refund_status}})
    total = sum((line.unit_price * line.qty for line in order.lines), Decimal(0))
    return {
        "order_id": order.id, "order_level": 2, "order_status": status, "order_status_desc": desc,
        "main_status": status, "create_time": int(order.created_at.timestamp()),
        "update_time": int(order.modified_at.timestamp()), "pay_time": int(order.created_at.timestamp()),
        "order_amount": int(total * 100), "pay_amount": int(total * 100), "post_amount": 0,
        "post_receiver": order.customer.get("name", ""), "post_tel": order.customer.get("phone", ""),
        "buyer_words": "", "seller_words": "", "cancel_reason": "" if status != 4 else "买家取消",
        "sku_order_list": skus,
    }


CALLS: dict[str, tuple[str, Callable[[SimShop, Mapping[str, Any]], object]]] = {
    "sku.syncStock": ("set_stock", sync_stock),
    "product.listV2": ("read_stock", product_list),
    "sku.list": ("read_stock", sku_list),
    "order.searchList": ("orders", order_search),
    "order.orderDetail": ("orders", order_detail),
}


def router(registry: SimRegistry) -> APIRouter:
    api = APIRouter(prefix=f"/{PLATFORM}/{{shop}}", tags=[PLATFORM])

    @api.post("/{path:path}")
    async def gateway(shop: str, path: str, request: Request) -> JSONResponse:
        method = path.strip("/").replace("/", ".")
        try:
            found = registry.shops.get(shop)
            if found is None or found.platform != PLATFORM:
                raise DouyinError(40003, PLATFORM_PARAM, "isv.app-id-invalid", "认证失败，app_key不存在")
            query = dict(request.query_params)
            # The SDKs send param_json as the body; older clients put it in the query. Sign what was sent.
            params_json = query.get("param_json") or (await request.body()).decode("utf-8") or "{}"
            _check_request(found, method, query, params_json)
            call = CALLS.get(method)
            if call is None:
                raise DouyinError(70000, "接口服务已下线", "isp.api-service-off", "API不存在或API已下线")
            try:
                params = json.loads(params_json)
            except ValueError:
                params = None
            if not isinstance(params, dict):
                raise DouyinError(40003, PLATFORM_PARAM, "isv.parameter-format-invalid",
                                  "业务参数json解析失败")
            op, handler = call
            gate = await found.gate(op)
            error = _gate_error(gate.kind)
            if error is not None:
                raise error
            return JSONResponse(envelope(handler(found, params)))
        except DouyinError as exc:
            return JSONResponse(envelope({}, exc.code, exc.msg, exc.sub_code, exc.sub_msg))

    return api


# --- the push ------------------------------------------------------------------------------------------

def _message(tag: str, data: Mapping[str, Any]) -> dict[str, str]:
    return {"tag": tag, "msg_id": str(next(_msg_ids)),
            "data": json.dumps(data, separators=(",", ":"), ensure_ascii=False)}


def order_webhook(shop: SimShop, order: SimOrder, event: str) -> tuple[dict[str, str], bytes] | None:
    """The push Douyin sends for an order event, signed as Douyin signs it."""
    shop_id = zlib.crc32(shop.code.encode()) % 10**8
    now = int(time.time())
    sub_ids = [order.id if n == 0 else f"{order.id}{n}" for n in range(len(order.lines))]
    base = {"p_id": _num(order.id), "s_ids": [_num(s) for s in sub_ids], "shop_id": shop_id, "order_type": 0,
            "biz": 2}
    if event == "created":
        created = int(order.created_at.timestamp())
        messages = [_message("100", {**base, "order_status": 1, "create_time": created}),
                    _message("101", {**base, "order_status": 2, "pay_type": 1, "pay_time": now})]
    elif event == "cancelled":
        messages = [_message("106", {**base, "order_status": 4, "cancel_time": now,
                                     "cancel_reason": "买家取消"})]
    elif event == "refunded":
        total = sum((line.unit_price * line.qty for line in order.lines), Decimal(0))
        messages = [_message("206", {"p_id": _num(order.id), "s_id": _num(sub_ids[0]), "shop_id": shop_id,
                                     "aftersale_id": f"{order.id}01", "aftersale_status": 12,
                                     "aftersale_type": 2, "refund_amount": int(total * 100),
                                     "success_time": now})]
    elif event == "updated":
        tag = "102" if order.status == "shipped" else "105"
        messages = [_message(tag, {**base, "order_status": 3 if tag == "102" else 2, "update_time": now})]
    else:
        return None
    return _signed(shop, messages)


# A few of the reason codes of push 200 (the rest are 15 其他 here).
REASON_CODES = {"多拍/错拍/不想要": 1, "未按约定时间发货": 2, "快递一直未送达": 3, "不喜欢/效果不好": 6, "功能故障": 8,
                "协商一致退款": 13, "缺货": 14, "其他": 15, "少件/漏发": 20, "商家发错货": 22}


def after_sale_webhook(shop: SimShop, order: SimOrder,
                       request: SimAfterSale) -> tuple[dict[str, str], bytes] | None:
    """Push 200 (买家发起售后申请) for a request, 212 (买家发起客服仲裁) for a dispute, signed as Douyin signs it."""
    shop_id = zlib.crc32(shop.code.encode()) % 10**8
    created = int(request.created_at.timestamp())
    aftersale_type = {"return": 0, "exchange": 3}.get(request.kind, 2 if order.status == "paid" else 1)
    base = {"p_id": _num(order.id), "s_id": _num(order.id), "shop_id": shop_id, "aftersale_id": _num(request.id),
            "aftersale_status": 6, "aftersale_type": aftersale_type}  # 6 待商家处理
    if request.kind == "dispute":
        message = _message("212", {**base, "arbitrate_id": f"{request.id}01", "arbitrate_status": 1})
    else:
        total = sum((line.unit_price * line.qty for line in order.lines), Decimal(0))
        message = _message("200", {**base, "reason_code": REASON_CODES.get(request.reason, 15),
                                   "refund_amount": int(total * 100), "refund_post_amount": 0,
                                   "refund_voucher_num": 0, "apply_time": created,
                                   "latest_record": request.note or "买家发起售后申请"})
    return _signed(shop, [message])


def _signed(shop: SimShop, messages: list[dict[str, str]]) -> tuple[dict[str, str], bytes]:
    body = json.dumps(messages, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    app_key, secret = shop.credentials.get("app_key", ""), shop.credentials.get("app_secret", "")
    event_sign = hashlib.md5(app_key.encode() + body + secret.encode()).hexdigest()
    return {"Content-Type": "application/json", "app-id": app_key, "event-sign": event_sign}, body


def _num(order_id: str) -> int | str:
    """Douyin's push writes order ids as numbers (Long in the official SDK)."""
    return int(order_id) if order_id.isdigit() else order_id
