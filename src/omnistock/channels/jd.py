"""JD (JOS router): absolute stock per sku, stock reads and polled orders.

Wire format (docs/CHANNEL_APIS.md, checked against JD's generated SDKs, November 2026):

- every call is a form POST to `gateway_url` with `method, app_key, access_token, timestamp` (GMT+8),
  `v=2.0, 360buy_param_json` (business parameters as one JSON string) and `sign`; answers come as
  `{"<method with _>_responce": {...}}` or `{"error_response": {code, zh_desc, en_desc}}`.
- stock: the method is the `stock_method` setting, default `jingdong.stock.write.updateSkuStock` with
  `{"skuId", "stockNum"}` (absolute; answer `{"success": true}`), one sku per call. This is the newest call
  with this payload that we could confirm (JD's C# SDK `StockWriteUpdateSkuStockRequest`; `jd-sdk` on PyPI
  names it `jingdong.stock.updateSkuStock`). JD's Java SDK also carries `jingdong.ware.stock.sku.set`
  (`{"req": {updateModel, stockRfId, skuStocks: [{skuId, stockNum, stockModel, ...}]}}`), which third-party
  notes call the successor, but the values of `updateModel`/`stockModel` are not published where we could
  read them, so it is not used.
- stock reads: `jingdong.sku.read.searchSkuList` with `pageNo`, `page_size`, `field`, `skuStatuValue`
  ("1,2": on and off shelf); answer `page {data, pageNo, pageSize, totalItem}`.
- orders: `jingdong.pop.order.search` with `start_date`/`end_date`, `order_state`, `optional_fields`,
  `page`, `page_size` (<= 100), `dateType=0` (modification time); answer `searchorderinfo_result
  {orderTotal, orderInfoList, apiResult}`. Windows are kept to one day and pages read last to first, like
  Taobao's, so that orders moving in the list while it is read are not lost.

After-sale requests are not read yet: JD's after-sale service orders (`jingdong.asc.query.list`, with
`buId`, `operatePin`, `updateTimeBegin`/`updateTimeEnd`, `pageNumber`, `pageSize` in the `jd-sdk` request
classes) need a vendor id and operator that the other calls do not, and no public source gives the answer's
fields; a refund still shows when the order turns `TRADE_CANCELED`/`LOCKED`.

Rate limit: JOS quotas are per app and per API in the console; no public figure was found. The default
below (10 calls/s, burst 10) is a conservative choice, not a documented number.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from math import ceil
from typing import Any, ClassVar

import httpx
from pydantic import BaseModel, ConfigDict

from omnistock.channels.base import OrderEvent, RateLimit, StockPage, StockResult, StockUpdate
from omnistock.channels.china_time import beijing_text, windows
from omnistock.channels.http import make_client, raise_for_http_status, transport_errors
from omnistock.channels.jd_payloads import (
    ORDER_STATES,
    jos_error,
    jos_sign,
    order_event,
    param_json,
    platform_items,
    response_key,
)
from omnistock.errors import ChannelError, Invalid, PlatformAuthFailed, PlatformInvalid, PlatformTransient

PRODUCTION_GATEWAY = "https://api.jd.com/routerjson"
DEFAULT_STOCK_METHOD = "jingdong.stock.write.updateSkuStock"
SKUS_PER_PAGE = 50
ORDERS_PER_PAGE = 100
ORDER_WINDOW = timedelta(days=1)
SKU_FIELDS = "skuId,wareId,outerId,stockNum,skuName,wareTitle,barCode,status"
ORDER_FIELDS = "orderId,orderState,orderStartTime,modified,consigneeInfo,itemInfoList"


class JDSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    app_key: str
    app_secret: str
    access_token: str
    gateway_url: str = PRODUCTION_GATEWAY
    stock_method: str = DEFAULT_STOCK_METHOD


class JDAdapter:
    kind: ClassVar[str] = "jd"
    settings_model: ClassVar[type[BaseModel]] = JDSettings
    secret_fields: ClassVar[frozenset[str]] = frozenset({"app_secret", "access_token"})
    limits: ClassVar[RateLimit] = RateLimit(per_second=10.0, burst=10)
    max_batch: ClassVar[int] = 1
    webhook_ack: ClassVar[tuple[int, str, bytes]] = (200, "application/json", b"{}")

    def __init__(self, settings: JDSettings | Mapping[str, Any], *, client: httpx.Client | None = None,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.settings = settings if isinstance(settings, JDSettings) else JDSettings.model_validate(settings)
        self._client = make_client(client)
        self._owns_client = client is None
        self._clock = clock or (lambda: datetime.now(UTC))

    def call(self, method: str, business: Mapping[str, object]) -> dict[str, Any]:
        """One signed JOS call; the body under `<method>_responce`, or the typed error."""
        form = {
            "method": method, "app_key": self.settings.app_key, "access_token": self.settings.access_token,
            "timestamp": beijing_text(self._clock()), "v": "2.0", "360buy_param_json": param_json(business),
        }
        form["sign"] = jos_sign(form, self.settings.app_secret)
        with transport_errors("jd"):
            response = self._client.post(self.settings.gateway_url, data=form)
        raise_for_http_status("jd", response)
        try:
            body = response.json()
        except ValueError as exc:
            raise PlatformTransient(f"jd: {method} answered something that is not JSON",
                                    http_status=response.status_code) from exc
        if isinstance(body, dict) and isinstance(body.get("error_response"), dict):
            raise jos_error(body["error_response"])
        payload = body.get(response_key(method)) if isinstance(body, dict) else None
        if not isinstance(payload, dict):
            raise PlatformInvalid(f"jd: {method} answered without {response_key(method)}")
        return payload

    # --- stock -------------------------------------------------------------------------------------

    def set_stock(self, updates: Sequence[StockUpdate]) -> list[StockResult]:
        results: list[StockResult] = []
        for update in updates:
            try:
                results.append(self._push(update))
            except ChannelError as exc:
                if not exc.retryable and not isinstance(exc, PlatformAuthFailed):
                    results.append(StockResult(update.external_id, False, exc))
                    continue
                # Throttling, auth or an outage stops the round; what was already written stays reported.
                if not any(result.ok for result in results):
                    raise
                results += [StockResult(rest.external_id, False, exc) for rest in updates[len(results):]]
                break
        return results

    def _push(self, update: StockUpdate) -> StockResult:
        if not update.external_id.isdigit():
            return StockResult(update.external_id, False,
                               PlatformInvalid(f"jd listing id must be a skuId, got {update.external_id!r}"))
        # JD rejects negative stock; a negative availability means the shop should show none.
        answer = self.call(self.settings.stock_method,
                           {"skuId": int(update.external_id), "stockNum": max(0, update.quantity)})
        if answer.get("success") is False:
            return StockResult(update.external_id, False,
                               PlatformInvalid(f"jd: stock of sku {update.external_id} was not accepted: {answer}"))
        return StockResult(update.external_id, True)

    def fetch_stock(self, cursor: str | None = None) -> StockPage:
        if cursor is not None and not cursor.isdigit():
            raise Invalid(f"jd: unknown stock cursor {cursor!r}", field="cursor")
        page = int(cursor or 1)
        answer = self.call("jingdong.sku.read.searchSkuList", {
            "pageNo": page, "page_size": SKUS_PER_PAGE, "field": SKU_FIELDS, "skuStatuValue": "1,2"})
        listed = answer.get("page")
        found: dict[str, Any] = listed if isinstance(listed, dict) else {}
        skus = [sku for sku in found.get("data") or [] if isinstance(sku, dict)]
        total = int(found.get("totalItem") or 0)
        return StockPage(items=platform_items(skus),
                         next_cursor=str(page + 1) if page * SKUS_PER_PAGE < total and skus else None)

    # --- orders ------------------------------------------------------------------------------------

    def fetch_orders(self, since: datetime, until: datetime) -> list[OrderEvent]:
        latest: dict[str, dict[str, Any]] = {}
        for start, end in windows(since, until, ORDER_WINDOW):
            for order in self._orders_in(start, end):
                key = str(order.get("orderId"))
                if key not in latest or str(order.get("modified", "")) >= str(latest[key].get("modified", "")):
                    latest[key] = order
        events = [order_event(order) for order in latest.values()]
        return sorted(events, key=lambda event: (event.occurred_at or datetime.min.replace(tzinfo=UTC),
                                                 event.external_order_id))

    def _orders_in(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        def page(number: int) -> dict[str, Any]:
            answer = self.call("jingdong.pop.order.search", {
                "start_date": beijing_text(start), "end_date": beijing_text(end),
                "order_state": ",".join(ORDER_STATES), "optional_fields": ORDER_FIELDS,
                "page": str(number), "page_size": str(ORDERS_PER_PAGE), "dateType": 0})
            result = answer.get("searchorderinfo_result")
            if not isinstance(result, dict):
                raise PlatformInvalid("jd: order search answered without searchorderinfo_result")
            api_result = result.get("apiResult")
            if isinstance(api_result, dict) and api_result.get("success") is False:
                raise jos_error({"code": api_result.get("numberCode"), "zh_desc": api_result.get("chineseErrCode"),
                                 "en_desc": api_result.get("englishErrCode")})
            return result

        def orders(result: dict[str, Any]) -> list[dict[str, Any]]:
            return [order for order in result.get("orderInfoList") or [] if isinstance(order, dict)]

        first = page(1)
        found = orders(first)
        pages = ceil(int(first.get("orderTotal") or 0) / ORDERS_PER_PAGE)
        if pages > 1:
            for number in range(pages, 1, -1):
                found += orders(page(number))
            found += orders(page(1))  # orders may have moved up into page 1 meanwhile
        return found

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[OrderEvent]:
        raise Invalid("jd sends no webhooks; orders are polled")

    def test_connection(self) -> None:
        self.call("jingdong.sku.read.searchSkuList", {"pageNo": 1, "page_size": 1, "field": "skuId"})

    def close(self) -> None:
        if self._owns_client:
            self._client.close()
