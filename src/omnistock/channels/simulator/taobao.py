"""Taobao's TOP router as a fake: signed form calls (md5, hmac, hmac-sha256), absolute or delta stock per
item or sku, paged item and sku reads, trades searched in windows of at most one day, the refunds buyers asked
for (`taobao.refunds.receive.get`), and TOP's
`error_response` envelope with its codes (7 throttle, 25 signature, 27 session, 15 + isp.* transient).

Listings are "<num_iid>" (an item without skus) or "<num_iid>/<sku_id>". An item whose stock is all gone
leaves the on-sale list and shows in the warehouse list under banner `sold_out`, as on Taobao.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from math import ceil
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from omnistock.channels.simulator.router_wire import (
    beijing_text,
    parse_beijing,
    read_params,
    request_id,
    to_the_second,
)
from omnistock.channels.simulator.state import (
    Gate,
    GateKind,
    SimAfterSale,
    SimListing,
    SimOrder,
    SimRegistry,
    SimShop,
)

PLATFORM = "taobao"
RATE_LIMIT: tuple[float, int] = (5.0, 10)  # TOP quotas are per app/API in the console; the adapter's default
WEBHOOK_RETRIES = 0  # no push here (TMC is out of scope): orders are polled
MAX_SKUS_PER_CALL = 20
MAX_NUM_IIDS = 40
MAX_ITEM_PAGE = 200
MAX_TRADE_PAGE = 100
MAX_WINDOW = timedelta(days=1)
TIMESTAMP_TOLERANCE = timedelta(minutes=10)
SIGN_METHODS = ("md5", "hmac", "hmac-sha256")
TRADE_STATUS = {"paid": "WAIT_SELLER_SEND_GOODS", "shipped": "WAIT_BUYER_CONFIRM_GOODS",
                "cancelled": "TRADE_CLOSED_BY_TAOBAO", "refunded": "TRADE_CLOSED"}
OPERATIONS = {"taobao.item.quantity.update": "set_stock", "taobao.skus.quantity.update": "set_stock",
              "taobao.items.onsale.get": "read_stock", "taobao.items.inventory.get": "read_stock",
              "taobao.item.skus.get": "read_stock", "taobao.trades.sold.increment.get": "orders",
              "taobao.refunds.receive.get": "after_sales"}


class TopError(Exception):
    def __init__(self, code: int, msg: str, sub_code: str | None = None, sub_msg: str | None = None) -> None:
        super().__init__(msg)
        self.code, self.msg, self.sub_code, self.sub_msg = code, msg, sub_code, sub_msg

    def envelope(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "msg": self.msg}
        if self.sub_code:
            error["sub_code"] = self.sub_code
        if self.sub_msg:
            error["sub_msg"] = self.sub_msg
        error["request_id"] = request_id()
        return {"error_response": error}


def invalid(sub_msg: str, field: str = "") -> TopError:
    return TopError(15, "Remote service error", "isv.invalid-parameter" + (f":{field}" if field else ""), sub_msg)


def expected_sign(params: Mapping[str, str], secret: str, sign_method: str) -> str:
    text = "".join(name + params[name] for name in sorted(params) if name != "sign")
    if sign_method == "md5":
        return hashlib.md5((secret + text + secret).encode()).hexdigest().upper()
    digest = hashlib.md5 if sign_method == "hmac" else hashlib.sha256
    return hmac.new(secret.encode(), text.encode(), digest).hexdigest().upper()


def check_request(shop: SimShop, params: Mapping[str, str]) -> None:
    """The gateway's checks, in TOP's order: app, signature, timestamp, session."""
    if not params.get("method"):
        raise TopError(21, "Missing Method")
    if not params.get("app_key"):
        raise TopError(28, "Missing App Key")
    if params["app_key"] != shop.credentials.get("app_key"):
        raise TopError(29, "Invalid App Key")
    sign_method = params.get("sign_method", "md5")
    if sign_method not in SIGN_METHODS:
        raise TopError(41, "Invalid Arguments", "isv.invalid-parameter:sign_method")
    if params.get("sign") != expected_sign(params, shop.credentials.get("app_secret", ""), sign_method):
        raise TopError(25, "Invalid signature")
    try:
        sent = parse_beijing(params.get("timestamp", ""))
    except ValueError:
        raise TopError(31, "Invalid Timestamp") from None
    if abs(datetime.now(UTC) - sent) > TIMESTAMP_TOLERANCE:
        raise TopError(31, "Invalid Timestamp", sub_msg="timestamp is more than 10 minutes off GMT+8 time")
    if not params.get("session"):
        raise TopError(26, "Missing Session")
    if params["session"] != shop.credentials.get("session"):
        raise TopError(27, "Invalid session", "invalid-sessionkey", "SessionKey非法")


def gate_error(gate: Gate) -> TopError | None:
    if gate.kind is GateKind.THROTTLED:
        return TopError(7, "App Call Limited", "accesscontrol.limited-by-app-access-count",
                        f"This ban will last for {max(1, ceil(gate.retry_after))} more seconds")
    if gate.kind is GateKind.ERROR:
        return TopError(15, "Remote service error", "isp.service-unavailable", "服务暂时不可用")
    if gate.kind is GateKind.AUTH:
        return TopError(27, "Invalid session", "session-expired", "SessionKey已过期")
    return None


def number(params: Mapping[str, str], name: str, default: int | None = None,
           low: int | None = None, high: int | None = None) -> int:
    raw = params.get(name, "")
    if raw == "":
        if default is None:
            raise TopError(40, f"Missing Required Arguments:{name}")
        return default
    try:
        value = int(raw)
    except ValueError:
        raise TopError(41, f"Invalid Arguments:{name}") from None
    if (low is not None and value < low) or (high is not None and value > high):
        raise TopError(41, f"Invalid Arguments:{name}", f"isv.invalid-parameter:{name}",
                       f"{name} must be between {low} and {high}")
    return value


def required(params: Mapping[str, str], name: str) -> str:
    if not params.get(name):
        raise TopError(40, f"Missing Required Arguments:{name}")
    return params[name]


def picked(entry: dict[str, Any], fields: set[str]) -> dict[str, Any]:
    """TOP answers only the fields asked for."""
    return {name: value for name, value in entry.items() if name in fields and value is not None}


# --- items and skus ------------------------------------------------------------------------------------

def items_of(shop: SimShop) -> dict[str, list[SimListing]]:
    """Listings grouped by num_iid, in num_iid order."""
    grouped: dict[str, list[SimListing]] = {}
    for listing in shop.listings.values():
        num_iid, _, sku_id = listing.external_id.partition("/")
        if num_iid.isdigit() and (not sku_id or sku_id.isdigit()):
            grouped.setdefault(num_iid, []).append(listing)
    return {key: grouped[key] for key in sorted(grouped, key=int)}


def sku_listings(group: list[SimListing]) -> list[SimListing]:
    return sorted((entry for entry in group if "/" in entry.external_id), key=lambda e: e.external_id)


def item_group(shop: SimShop, num_iid: str) -> list[SimListing]:
    group = items_of(shop).get(num_iid)
    if not group:
        raise TopError(15, "Remote service error", "isv.item-not-exist", f"商品{num_iid}不存在")
    return group


def resolve_sku(shop: SimShop, num_iid: str, sku_id: str | None, outer_id: str | None) -> list[SimListing]:
    group = item_group(shop, num_iid)
    if sku_id:
        listing = shop.listings.get(f"{num_iid}/{sku_id}")
        if listing is None:
            raise TopError(15, "Remote service error", "isv.sku-not-exist", f"SKU {sku_id} 不存在")
        return [listing]
    if outer_id:
        matches = [entry for entry in sku_listings(group) if entry.external_sku == outer_id]
        if not matches:
            raise TopError(15, "Remote service error", "isv.sku-not-exist", f"商家编码 {outer_id} 不存在")
        return matches
    if sku_listings(group):
        raise invalid("该商品有SKU，请指定sku_id或outer_id", "sku_id")
    return group


def apply_quantity(shop: SimShop, listings: list[SimListing], quantity: int, update_type: int) -> None:
    for listing in listings:
        if update_type == 1:
            shop.set_quantity(listing.external_id, quantity)
        else:
            shop.adjust_quantity(listing.external_id, quantity)


def item_answer(shop: SimShop, num_iid: str, touched: list[SimListing]) -> dict[str, Any]:
    now = beijing_text(datetime.now(UTC))
    item: dict[str, Any] = {"num_iid": int(num_iid), "num": sum(e.quantity for e in item_group(shop, num_iid)),
                            "modified": now}
    skus = [{"sku_id": int(e.external_id.split("/")[1]), "quantity": e.quantity, "modified": now}
            for e in touched if "/" in e.external_id]
    if skus:
        item["skus"] = {"sku": skus}
    return {"item": item}


def item_quantity_update(shop: SimShop, params: Mapping[str, str]) -> dict[str, Any]:
    num_iid = str(number(params, "num_iid"))
    quantity = number(params, "quantity")
    update_type = number(params, "type", 1, 1, 2)
    if update_type == 1 and quantity < 0:
        raise invalid("全量更新时库存不能为负数", "quantity")
    with shop.lock:
        listings = resolve_sku(shop, num_iid, params.get("sku_id") or None, params.get("outer_id") or None)
        apply_quantity(shop, listings, quantity, update_type)
        return item_answer(shop, num_iid, listings)


def skus_quantity_update(shop: SimShop, params: Mapping[str, str]) -> dict[str, Any]:
    num_iid = str(number(params, "num_iid"))
    update_type = number(params, "type", 1, 1, 2)
    by_sku = params.get("skuid_quantities") or ""
    text = by_sku or params.get("outerid_quantities") or ""
    if not text:
        raise TopError(40, "Missing Required Arguments:skuid_quantities")
    pairs = [pair.split(":") for pair in text.strip(";").split(";")]
    if len(pairs) > MAX_SKUS_PER_CALL:
        raise invalid(f"最多支持{MAX_SKUS_PER_CALL}个SKU同时修改", "skuid_quantities")
    if any(len(pair) != 2 or not pair[0] or not pair[1].lstrip("-").isdigit() for pair in pairs):
        raise invalid("格式为skuId:库存修改值;skuId:库存修改值", "skuid_quantities")
    with shop.lock:
        # All or nothing: every sku is resolved before any quantity changes.
        planned = [(resolve_sku(shop, num_iid, key if by_sku else None, None if by_sku else key), int(qty))
                   for key, qty in pairs]
        if update_type == 1 and any(qty < 0 for _, qty in planned):
            raise invalid("全量更新时库存不能为负数", "skuid_quantities")
        for listings, qty in planned:
            apply_quantity(shop, listings, qty, update_type)
        return item_answer(shop, num_iid, [entry for listings, _ in planned for entry in listings])


def item_list(shop: SimShop, params: Mapping[str, str], on_sale: bool) -> dict[str, Any]:
    fields = set(required(params, "fields").split(","))
    page_no = number(params, "page_no", 1, 1)
    page_size = number(params, "page_size", 40, 1, MAX_ITEM_PAGE)
    banner = params.get("banner") or "for_shelved"
    with shop.lock:
        chosen = []
        for num_iid, group in items_of(shop).items():
            total = sum(entry.quantity for entry in group)
            if (on_sale and total > 0) or (not on_sale and banner == "sold_out" and total == 0):
                chosen.append((num_iid, group, total))
        page = chosen[(page_no - 1) * page_size: page_no * page_size]
        items = [picked({"num_iid": int(num_iid), "title": group[0].title, "num": total,
                         "outer_id": next((e.external_sku for e in group if e.external_id == num_iid), None),
                         "approve_status": "onsale" if on_sale else "instock"}, fields)
                 for num_iid, group, total in page]
    answer: dict[str, Any] = {"total_results": len(chosen)}
    if items:
        answer["items"] = {"item": items}
    return answer


def item_skus_get(shop: SimShop, params: Mapping[str, str]) -> dict[str, Any]:
    fields = set(required(params, "fields").split(","))
    num_iids = [part for part in required(params, "num_iids").split(",") if part]
    if len(num_iids) > MAX_NUM_IIDS or not all(part.isdigit() for part in num_iids):
        raise invalid(f"num_iids最多{MAX_NUM_IIDS}个数字ID", "num_iids")
    with shop.lock:
        grouped = items_of(shop)
        skus = [picked({"sku_id": int(e.external_id.split("/")[1]), "num_iid": int(num_iid),
                        "quantity": e.quantity, "outer_id": e.external_sku, "barcode": e.barcode,
                        "price": f"{e.price:.2f}", "status": "normal"}, fields)
                for num_iid in num_iids for e in sku_listings(grouped.get(num_iid, []))]
    return {"skus": {"sku": skus}} if skus else {}


# --- trades --------------------------------------------------------------------------------------------

def trade_json(order: SimOrder, fields: set[str]) -> dict[str, Any]:
    status = TRADE_STATUS.get(order.status, "WAIT_SELLER_SEND_GOODS")
    refund = "SUCCESS" if order.status == "refunded" else "NO_REFUND"
    sub_orders = []
    for index, line in enumerate(order.lines, start=1):
        num_iid, _, sku_id = line.external_id.partition("/")
        sub_orders.append({
            "oid": int(f"{order.id}{index:02d}") if order.id.isdigit() else index,
            "num_iid": int(num_iid) if num_iid.isdigit() else num_iid, "sku_id": sku_id or None,
            "num": line.qty, "price": f"{line.unit_price:.2f}", "total_fee": f"{line.unit_price * line.qty:.2f}",
            "status": status, "refund_status": refund,
            "outer_sku_id": line.external_sku if sku_id else None,
            "outer_iid": None if sku_id else line.external_sku})
    sub_fields = {name.removeprefix("orders.") for name in fields if name.startswith("orders.")}
    if sub_fields:
        sub_orders = [picked(entry, sub_fields) for entry in sub_orders]
    else:
        sub_orders = [{k: v for k, v in entry.items() if v is not None} for entry in sub_orders]
    trade = {
        "tid": int(order.id) if order.id.isdigit() else order.id, "tid_str": order.id, "status": status,
        "created": beijing_text(order.created_at), "modified": beijing_text(order.modified_at),
        "pay_time": beijing_text(order.created_at), "buyer_nick": order.customer.get("name"),
        "receiver_name": order.customer.get("name"), "receiver_mobile": order.customer.get("phone"),
        "orders": {"order": sub_orders} if ("orders" in fields or sub_fields) else None,
    }
    return picked(trade, fields | ({"orders"} if sub_fields else set()))


def trades_sold_increment_get(shop: SimShop, params: Mapping[str, str]) -> dict[str, Any]:
    fields = set(required(params, "fields").split(","))
    try:
        start = parse_beijing(required(params, "start_modified"))
        end = parse_beijing(required(params, "end_modified"))
    except ValueError:
        raise TopError(41, "Invalid Arguments:start_modified/end_modified", "isv.invalid-parameter",
                       "时间格式为yyyy-MM-dd HH:mm:ss") from None
    if end < start:
        raise invalid("end_modified必须大于start_modified", "end_modified")
    if end - start > MAX_WINDOW:
        raise invalid("查询修改时间跨度不能大于一天", "end_modified")
    page_no = number(params, "page_no", 1, 1)
    page_size = number(params, "page_size", 40, 1, MAX_TRADE_PAGE)
    use_has_next = params.get("use_has_next") == "true"
    # Times on the wire are whole seconds: a trade modified at 12:00:00.4 is "12:00:00", inside an end of 12:00:00.
    matching = [order for order in shop.orders_modified_between(start, end + timedelta(seconds=1))
                if start <= to_the_second(order.modified_at) <= end]
    matching.reverse()  # newest modification first, as TOP sorts
    page = matching[(page_no - 1) * page_size: page_no * page_size]
    answer: dict[str, Any] = {}
    if page:
        answer["trades"] = {"trade": [trade_json(order, fields) for order in page]}
    if use_has_next:
        answer["has_next"] = page_no * page_size < len(matching)
    else:
        answer["total_results"] = len(matching)
    return answer


# --- refunds (after-sale requests) --------------------------------------------------------------------------

# neutral after-sale kind -> (refund status while open, has_good_return, cs_status); a dispute is a refund that
# Taobao's customer service stepped into (客服已经介入). A closed request shows as CLOSED.
REFUND_FIELDS = {"refund": ("WAIT_SELLER_AGREE", False, 1), "return": ("WAIT_SELLER_AGREE", True, 1),
                 "exchange": ("WAIT_SELLER_CONSIGN_GOODS", True, 1), "dispute": ("WAIT_SELLER_AGREE", False, 3)}


def refund_json(request: SimAfterSale, order: SimOrder, fields: set[str]) -> dict[str, Any]:
    status, goods_back, cs_status = REFUND_FIELDS[request.kind]
    line = order.lines[0]
    total = sum((ln.unit_price * ln.qty for ln in order.lines), Decimal(0))
    num_iid = line.external_id.partition("/")[0]
    return picked({
        "refund_id": request.id, "tid": int(order.id) if order.id.isdigit() else order.id,
        "oid": int(f"{order.id}01") if order.id.isdigit() else 1, "status": status if request.status == "open"
        else "CLOSED", "has_good_return": goods_back, "cs_status": cs_status, "reason": request.reason or None,
        "desc": request.note or None, "refund_fee": f"{total:.2f}", "total_fee": f"{total:.2f}",
        "payment": "0.00", "order_status": TRADE_STATUS.get(order.status, "WAIT_SELLER_SEND_GOODS"),
        "good_status": "BUYER_RECEIVED" if order.status == "shipped" else "BUYER_NOT_RECEIVED",
        "created": beijing_text(request.created_at), "modified": beijing_text(request.modified_at),
        "num_iid": int(num_iid) if num_iid.isdigit() else num_iid, "num": line.qty,
        "buyer_nick": order.customer.get("name"), "refund_phase": "onsale" if order.status == "paid" else "aftersale",
    }, fields)


def refunds_receive_get(shop: SimShop, params: Mapping[str, str]) -> dict[str, Any]:
    """`taobao.refunds.receive.get`: the refunds buyers asked of this seller, by modification time."""
    fields = set(required(params, "fields").split(","))
    try:
        start = parse_beijing(params["start_modified"]) if params.get("start_modified") else None
        end = parse_beijing(params["end_modified"]) if params.get("end_modified") else None
    except ValueError:
        raise TopError(41, "Invalid Arguments:start_modified/end_modified", "isv.invalid-parameter",
                       "时间格式为yyyy-MM-dd HH:mm:ss") from None
    page_no = number(params, "page_no", 1, 1)
    page_size = number(params, "page_size", 40, 1, MAX_TRADE_PAGE)
    wanted = params.get("status") or None
    lo = start or datetime(1970, 1, 1, tzinfo=UTC)
    hi = end + timedelta(seconds=1) if end else datetime.now(UTC) + timedelta(days=1)
    with shop.lock:
        matching = [refund_json(r, shop.orders[r.order_id], fields | {"status"})
                    for r in shop.after_sales_modified_between(lo, hi)
                    if (end is None or to_the_second(r.modified_at) <= end)]
    matching = [r for r in matching if wanted in (None, r["status"])]
    matching.reverse()  # newest modification first, as TOP sorts
    page = [{k: v for k, v in r.items() if k in fields}
            for r in matching[(page_no - 1) * page_size: page_no * page_size]]
    answer: dict[str, Any] = {"total_results": len(matching)}
    if params.get("use_has_next") == "true":
        answer = {"has_next": page_no * page_size < len(matching)}
    if page:
        answer["refunds"] = {"refund": page}
    return answer


HANDLERS: dict[str, Callable[[SimShop, Mapping[str, str]], dict[str, Any]]] = {
    "taobao.item.quantity.update": item_quantity_update,
    "taobao.skus.quantity.update": skus_quantity_update,
    "taobao.items.onsale.get": lambda shop, params: item_list(shop, params, on_sale=True),
    "taobao.items.inventory.get": lambda shop, params: item_list(shop, params, on_sale=False),
    "taobao.item.skus.get": item_skus_get,
    "taobao.trades.sold.increment.get": trades_sold_increment_get,
    "taobao.refunds.receive.get": refunds_receive_get,
}


def router(registry: SimRegistry) -> APIRouter:
    api = APIRouter(tags=["taobao"])

    @api.api_route(f"/{PLATFORM}/{{shop_code}}/router/rest", methods=["GET", "POST"])
    async def top_router(shop_code: str, request: Request) -> Response:
        shop = registry.shops.get(shop_code)
        if shop is None or shop.platform != PLATFORM:
            return JSONResponse({"detail": f"no taobao shop {shop_code!r}"}, status_code=404)
        params = await read_params(request)
        method = params.get("method", "")
        gate = await shop.gate(OPERATIONS.get(method, method or "unknown"))
        if gate.kind is GateKind.DOWN:
            return Response("Service Unavailable", status_code=503, media_type="text/plain")
        try:
            refusal = gate_error(gate)
            if refusal is not None:
                raise refusal
            check_request(shop, params)
            handler = HANDLERS.get(method)
            if handler is None:
                raise TopError(22, "Invalid Method")
            answer = handler(shop, params)
        except TopError as exc:
            return JSONResponse(exc.envelope())
        except KeyError as exc:  # a listing removed while the call ran
            return JSONResponse(TopError(15, "Remote service error", "isv.item-not-exist", str(exc)).envelope())
        answer["request_id"] = request_id()
        return JSONResponse({method.removeprefix("taobao.").replace(".", "_") + "_response": answer})

    return api


def order_webhook(shop: SimShop, order: SimOrder, event: str) -> tuple[dict[str, str], bytes] | None:
    return None  # Taobao pushes through TMC, which the simulator does not play: omnistock polls
