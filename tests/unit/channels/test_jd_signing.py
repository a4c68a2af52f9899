"""JD JOS signing and error envelopes without a network, checked against the documented rule by hand."""

from __future__ import annotations

import hashlib

import pytest

from omnistock.channels.base import OrderEventKind
from omnistock.channels.jd_payloads import jos_error, jos_sign, order_event, param_json, response_key
from omnistock.errors import PlatformAuthFailed, PlatformInvalid, PlatformThrottled, PlatformTransient


def test_sign_is_upper_md5_of_secret_sorted_pairs_secret() -> None:
    params = {
        "method": "jingdong.stock.write.updateSkuStock", "app_key": "ak", "access_token": "tok",
        "timestamp": "2024-01-01 12:00:00", "v": "2.0", "360buy_param_json": '{"skuId":1001,"stockNum":5}',
    }
    # Sorted by name: "360buy_param_json" < "access_token" < "app_key" < "method" < "timestamp" < "v".
    text = ("sec" + '360buy_param_json{"skuId":1001,"stockNum":5}' + "access_tokentok" + "app_keyak"
            + "methodjingdong.stock.write.updateSkuStock" + "timestamp2024-01-01 12:00:00" + "v2.0" + "sec")
    assert jos_sign(params, "sec") == hashlib.md5(text.encode()).hexdigest().upper()
    assert jos_sign({**params, "sign": "X"}, "sec") == jos_sign(params, "sec")


def test_param_json_is_compact_and_keeps_chinese() -> None:
    assert param_json({"skuId": 1, "name": "红"}) == '{"skuId":1,"name":"红"}'


def test_response_key_uses_jds_spelling() -> None:
    assert response_key("jingdong.pop.order.search") == "jingdong_pop_order_search_responce"


@pytest.mark.parametrize("error", [
    {"code": "19", "zh_desc": "无效access_token", "en_desc": "Invalid access_token"},
    {"code": "12", "zh_desc": "无效签名", "en_desc": "Invalid signature"},
])
def test_token_and_signature_errors_are_auth_failures(error: dict[str, str]) -> None:
    assert isinstance(jos_error(error), PlatformAuthFailed)


def test_frequency_errors_are_throttled() -> None:
    error = jos_error({"code": "90", "zh_desc": "调用频率超限", "en_desc": "Call frequency limit exceeded"})
    assert isinstance(error, PlatformThrottled)
    assert error.retry_after > 0


def test_busy_backend_is_transient() -> None:
    assert isinstance(jos_error({"code": "67", "zh_desc": "平台连接后端服务不可用"}), PlatformTransient)


def test_other_errors_are_invalid() -> None:
    assert isinstance(jos_error({"code": "15", "zh_desc": "不存在的方法名", "en_desc": "Invalid Method"}),
                      PlatformInvalid)


@pytest.mark.parametrize("state,kind", [
    ("WAIT_SELLER_STOCK_OUT", OrderEventKind.CREATED),
    ("TRADE_CANCELED", OrderEventKind.CANCELLED),
    ("LOCKED", OrderEventKind.CANCELLED),
    ("FINISHED_L", OrderEventKind.SHIPPED),
    ("WAIT_GOODS_RECEIVE_CONFIRM", OrderEventKind.SHIPPED),
    ("POP_ORDER_PAUSE", OrderEventKind.UPDATED),
])
def test_order_states_map_to_event_kinds(state: str, kind: OrderEventKind) -> None:
    event = order_event({"orderId": "1", "orderState": state, "modified": "2024-01-01 20:00:00",
                         "itemInfoList": [{"skuId": "77", "itemTotal": "2", "jdPrice": "9.90"}]})
    assert event.kind is kind
    assert event.lines[0].external_id == "77" and event.lines[0].qty == 2
    assert event.occurred_at is not None and event.occurred_at.hour == 12  # 20:00 Beijing is 12:00 UTC
