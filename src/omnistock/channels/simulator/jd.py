"""JD's JOS router as a fake: MD5-signed calls with business parameters in `360buy_param_json`, absolute
stock per sku, paged sku search, order search by modification time, answers under `..._responce` (JD's
spelling) and errors as `{"error_response": {code, zh_desc, en_desc}}`.

Listings are "<skuId>". Codes 12 (signature), 19 (access_token) and 21 (app_key) are JD's; JD publishes no
throttle or outage codes, so the ones used here ("90" frequency, "67" backend unavailable, "80" bad
parameter) are this simulator's choice, worded the way JD words such errors.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from omnistock.channels.simulator.router_wire import beijing_text, parse_beijing, read_params
from omnistock.channels.simulator.state import Gate, GateKind, SimOrder, SimRegistry, SimShop

PLATFORM = "jd"
RATE_LIMIT: tuple[float, int] = (10.0, 10)  # JOS quotas are per app/API in the console; the adapter's default
WEBHOOK_RETRIES = 0  # no push: orders are polled
MAX_SKU_PAGE = 100
MAX_ORDER_PAGE = 100
STOCK_METHODS = ("jingdong.stock.write.updateSkuStock", "jingdong.stock.updateSkuStock")
ORDER_STATE = {"paid": "WAIT_SELLER_STOCK_OUT", "shipped": "WAIT_GOODS_RECEIVE_CONFIRM",
               "cancelled": "TRADE_CANCELED", "refunded": "TRADE_CANCELED"}
STATE_REMARK = {"WAIT_SELLER_STOCK_OUT": "等待出库", "WAIT_GOODS_RECEIVE_CONFIRM": "等待确认收货",
                "TRADE_CANCELED": "(删除)库房取消"}
OPERATIONS = {**{method: "set_stock" for method in STOCK_METHODS},
              "jingdong.sku.read.searchSkuList": "read_stock", "jingdong.pop.order.search": "orders"}


class JosError(Exception):
    def __init__(self, code: str, zh_desc: str, en_desc: str) -> None:
        super().__init__(en_desc)
        self.code, self.zh_desc, self.en_desc = code, zh_desc, en_desc

    def envelope(self) -> dict[str, Any]:
        return {"error_response": {"code": self.code, "zh_desc": self.zh_desc, "en_desc": self.en_desc}}


def bad_parameter(zh_desc: str, en_desc: str) -> JosError:
    return JosError("80", zh_desc, en_desc)


def expected_sign(params: Mapping[str, str], secret: str) -> str:
    text = "".join(name + params[name] for name in sorted(params) if name != "sign")
    return hashlib.md5((secret + text + secret).encode()).hexdigest().upper()


def check_request(shop: SimShop, params: Mapping[str, str]) -> dict[str, Any]:
    """The gateway's checks; the business parameters when they pass."""
    if not params.get("method"):
        raise JosError("14", "方法名为空", "Missing method")
    if params.get("app_key") != shop.credentials.get("app_key"):
        raise JosError("21", "无效app_key", "Invalid app_key")
    if params.get("sign") != expected_sign(params, shop.credentials.get("app_secret", "")):
        raise JosError("12", "无效签名", "Invalid signature")
    if params.get("access_token") != shop.credentials.get("access_token"):
        raise JosError("19", "无效access_token", "Invalid access_token")
    try:
        parse_beijing(params.get("timestamp", ""))
        business = json.loads(params.get("360buy_param_json") or "{}")
    except ValueError:
        raise bad_parameter("timestamp或360buy_param_json格式错误", "Invalid timestamp or 360buy_param_json") from None
    if not isinstance(business, dict):
        raise bad_parameter("360buy_param_json必须是JSON对象", "360buy_param_json must be a JSON object")
    return business


def gate_error(gate: Gate) -> JosError | None:
    if gate.kind is GateKind.THROTTLED:
        return JosError("90", "调用频率超限，请稍后再试", "Call frequency limit exceeded, try again later")
    if gate.kind is GateKind.ERROR:
        return JosError("67", "平台连接后端服务不可用", "Platform backend service unavailable")
    if gate.kind is GateKind.AUTH:
        return JosError("19", "无效access_token", "Invalid access_token")
    return None


def integer(business: Mapping[str, Any], name: str, default: int | None = None,
            low: int | None = None, high: int | None = None) -> int:
    raw = business.get(name)
    if raw in (None, ""):
        if default is None:
            raise bad_parameter(f"{name}不能为空", f"{name} is required")
        return default
    try:
        value = int(str(raw))
    except ValueError:
        raise bad_parameter(f"{name}必须是整数", f"{name} must be an integer") from None
    if (low is not None and value < low) or (high is not None and value > high):
        raise bad_parameter(f"{name}超出范围", f"{name} must be between {low} and {high}")
    return value


def update_sku_stock(shop: SimShop, business: Mapping[str, Any]) -> dict[str, Any]:
    sku_id = str(integer(business, "skuId"))
    stock = integer(business, "stockNum")
    if stock < 0:
        raise bad_parameter("库存数不能为负数", "stockNum must not be negative")
    with shop.lock:
        if sku_id not in shop.listings:
            raise bad_parameter(f"商品sku {sku_id} 不存在", f"sku {sku_id} does not exist")
        shop.set_quantity(sku_id, stock)
    return {"code": "0", "success": True}


def search_sku_list(shop: SimShop, business: Mapping[str, Any]) -> dict[str, Any]:
    page_no = integer(business, "pageNo", 1, 1)
    page_size = integer(business, "page_size", 20, 1, MAX_SKU_PAGE)
    fields = {name for name in str(business.get("field") or "").split(",") if name} | {"skuId", "wareId"}
    with shop.lock:
        skus = sorted((listing for key, listing in shop.listings.items() if key.isdigit()),
                      key=lambda listing: int(listing.external_id))
        page = skus[(page_no - 1) * page_size: page_no * page_size]
        data = [{name: value for name, value in {
            "skuId": int(listing.external_id), "wareId": int(listing.extra.get("wareId", listing.external_id)),
            "outerId": listing.external_sku, "stockNum": listing.quantity, "skuName": listing.title,
            "wareTitle": listing.title, "barCode": listing.barcode, "jdPrice": float(listing.price),
            "status": 1}.items() if name in fields and value is not None}
            for listing in page]
    return {"code": "0", "page": {"data": data, "pageNo": page_no, "pageSize": page_size, "totalItem": len(skus)}}


def order_json(order: SimOrder) -> dict[str, Any]:
    state = ORDER_STATE.get(order.status, "WAIT_SELLER_STOCK_OUT")
    total = sum(line.unit_price * line.qty for line in order.lines)
    return {
        "orderId": order.id, "venderId": "1", "orderState": state, "orderStateRemark": STATE_REMARK.get(state, ""),
        "orderStartTime": beijing_text(order.created_at), "modified": beijing_text(order.modified_at),
        "orderTotalPrice": f"{total:.2f}", "orderPayment": f"{total:.2f}",
        "consigneeInfo": {"fullname": order.customer.get("name", ""), "mobile": order.customer.get("phone", ""),
                          "telephone": "", "fullAddress": ""},
        "itemInfoList": [{"skuId": line.external_id, "outerSkuId": line.external_sku or "",
                          "skuName": "", "jdPrice": f"{line.unit_price:.2f}", "itemTotal": str(line.qty),
                          "wareId": line.external_id} for line in order.lines],
    }


def pop_order_search(shop: SimShop, business: Mapping[str, Any]) -> dict[str, Any]:
    try:
        start = parse_beijing(str(business.get("start_date") or ""))
        end = parse_beijing(str(business.get("end_date") or ""))
    except ValueError:
        raise bad_parameter("start_date和end_date格式为yyyy-MM-dd HH:mm:ss",
                            "start_date and end_date must be yyyy-MM-dd HH:mm:ss") from None
    if end < start:
        raise bad_parameter("结束时间必须大于开始时间", "end_date must not be before start_date")
    page = integer(business, "page", 1, 1)
    page_size = integer(business, "page_size", 20, 1, MAX_ORDER_PAGE)
    states = {state for state in str(business.get("order_state") or "").split(",") if state}
    by_created = str(business.get("dateType", "0")) == "1"
    with shop.lock:
        candidates = list(shop.orders.values())
    def moment(order: SimOrder) -> datetime:
        return (order.created_at if by_created else order.modified_at).replace(microsecond=0)
    matching = sorted((order for order in candidates if start <= moment(order) <= end
                       and (not states or ORDER_STATE.get(order.status) in states)),
                      key=lambda order: (moment(order), order.id), reverse=str(business.get("sortType")) == "1")
    chosen = matching[(page - 1) * page_size: page * page_size]
    return {"code": "0", "searchorderinfo_result": {
        "orderTotal": len(matching), "orderInfoList": [order_json(order) for order in chosen],
        "apiResult": {"success": True, "chineseErrCode": "成功", "englishErrCode": "success", "numberCode": 10100000}}}


HANDLERS: dict[str, Callable[[SimShop, Mapping[str, Any]], dict[str, Any]]] = {
    **{method: update_sku_stock for method in STOCK_METHODS},
    "jingdong.sku.read.searchSkuList": search_sku_list,
    "jingdong.pop.order.search": pop_order_search,
}


def router(registry: SimRegistry) -> APIRouter:
    api = APIRouter(tags=["jd"])

    @api.api_route(f"/{PLATFORM}/{{shop_code}}/routerjson", methods=["GET", "POST"])
    async def jos_router(shop_code: str, request: Request) -> Response:
        shop = registry.shops.get(shop_code)
        if shop is None or shop.platform != PLATFORM:
            return JSONResponse({"detail": f"no jd shop {shop_code!r}"}, status_code=404)
        params = await read_params(request)
        method = params.get("method", "")
        gate = await shop.gate(OPERATIONS.get(method, method or "unknown"))
        if gate.kind is GateKind.DOWN:
            return Response("Service Unavailable", status_code=503, media_type="text/plain")
        try:
            refusal = gate_error(gate)
            if refusal is not None:
                raise refusal
            business = check_request(shop, params)
            handler = HANDLERS.get(method)
            if handler is None:
                raise JosError("15", "不存在的方法名", "Invalid Method")
            answer = handler(shop, business)
        except JosError as exc:
            return JSONResponse(exc.envelope())
        except KeyError as exc:  # a listing removed while the call ran
            return JSONResponse(bad_parameter("商品sku不存在", f"sku {exc} does not exist").envelope())
        return JSONResponse({method.replace(".", "_") + "_responce": answer})

    return api


def order_webhook(shop: SimShop, order: SimOrder, event: str) -> tuple[dict[str, str], bytes] | None:
    return None  # JD's order messages need JD's own message service; omnistock polls instead
