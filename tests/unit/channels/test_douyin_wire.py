"""Douyin wire rules without a network: signing, push signature, idempotent ids, error codes, order states."""

from __future__ import annotations

import hashlib

import pytest

from omnistock.channels.base import OrderEventKind, StockUpdate
from omnistock.channels.douyin import (
    DouyinAdapter,
    idempotent_id,
    order_event,
    param_json,
    push_sign,
    raise_for_error,
    sign,
)
from omnistock.errors import (
    PlatformAuthFailed,
    PlatformInvalid,
    PlatformThrottled,
    PlatformTransient,
    SignatureInvalid,
)


def test_sign_matches_the_douyin_test_vector() -> None:
    body = param_json({"sku_id": "123", "product_id": "456", "stock_num": 10, "incremental": False,
                       "idempotent_id": "abc"})
    assert body == ('{"idempotent_id":"abc","incremental":false,"product_id":"456","sku_id":"123",'
                    '"stock_num":10}')
    assert sign("ak", "secret", "sku.syncStock", body, "1700000000") == (
        "e67f6e56c30e3b2c88687f7823d258ede0b5bef9353940eeaf79811331dfb43c")


def test_md5_sign_is_md5_of_the_secret_wrapped_pattern() -> None:
    pattern = "secretapp_keyakmethodm.nparam_json{}timestamp1v2secret"
    expected = hashlib.md5(pattern.encode()).hexdigest()
    assert sign("ak", "secret", "m.n", "{}", "1", sign_method="md5") == expected


def test_push_sign_is_md5_of_app_key_body_and_secret() -> None:
    assert push_sign("ak", "sk", b"[]") == hashlib.md5(b"ak[]sk").hexdigest()


def test_idempotent_id_repeats_for_the_same_push_only() -> None:
    first = StockUpdate("1/2", 5, extra={"push_id": "p1"})
    assert idempotent_id(first) == idempotent_id(StockUpdate("1/2", 5, extra={"push_id": "p1"}))
    assert idempotent_id(first) != idempotent_id(StockUpdate("1/2", 5, extra={"push_id": "p2"}))
    assert idempotent_id(StockUpdate("1/2", 5)) != idempotent_id(StockUpdate("1/2", 5))


@pytest.mark.parametrize(("body", "error"), [
    ({"code": 60000, "msg": "触发限流，请稍后重试"}, PlatformThrottled),
    ({"code": 40003, "sub_code": "isv.access-token-expired", "sub_msg": "expired"}, PlatformAuthFailed),
    ({"code": 40003, "sub_code": "isv.signature-invalid"}, PlatformAuthFailed),
    ({"code": 30001, "sub_code": "dop.authorization-no-existed"}, PlatformAuthFailed),
    ({"code": 20000, "sub_code": "dop.service-error"}, PlatformTransient),
    ({"code": 50002, "msg": "业务处理失败"}, PlatformInvalid),
    ({"err_no": 1, "message": "接口调用频率超限"}, PlatformThrottled),
    ({"err_no": 2, "message": "sku不存在"}, PlatformInvalid),
])
def test_error_answers_become_typed_errors(body: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error) as caught:
        raise_for_error(body)
    assert caught.type is error


def test_success_answers_pass_in_both_schemes() -> None:
    raise_for_error({"code": 10000, "msg": "success", "err_no": 0})
    raise_for_error({"err_no": 0, "message": "success"})


def _order(status: int, refund: int = 0) -> dict[str, object]:
    return {"order_id": "69", "order_status": status, "update_time": 1700000000, "post_receiver": "李四",
            "sku_order_list": [{"product_id": 456, "sku_id": 123, "item_num": 2, "code": "A1",
                                "origin_amount": 1990, "after_sale_info": {"refund_status": refund}}]}


@pytest.mark.parametrize(("status", "refund", "kind"), [
    (2, 0, OrderEventKind.CREATED), (105, 0, OrderEventKind.CREATED), (4, 0, OrderEventKind.CANCELLED),
    (3, 0, OrderEventKind.SHIPPED), (5, 3, OrderEventKind.REFUNDED), (101, 0, OrderEventKind.UPDATED),
])
def test_order_states_map_to_event_kinds(status: int, refund: int, kind: OrderEventKind) -> None:
    assert order_event(_order(status, refund)).kind is kind


def test_order_lines_use_product_and_sku_as_listing_id_with_prices_in_yuan() -> None:
    line = order_event(_order(2)).lines[0]
    assert (line.external_id, line.qty, line.external_sku) == ("456/123", 2, "A1")
    assert str(line.unit_price) == "19.9"


def test_push_with_a_wrong_event_sign_is_rejected_before_anything_else() -> None:
    adapter = DouyinAdapter({"app_key": "ak", "app_secret": "sk", "access_token": "t"})
    try:
        with pytest.raises(SignatureInvalid):
            adapter.parse_webhook({"app-id": "ak", "event-sign": "0" * 32}, b"[]")
        with pytest.raises(SignatureInvalid):
            adapter.parse_webhook({"app-id": "other", "event-sign": push_sign("ak", "sk", b"[]")}, b"[]")
        signed = {"App-Id": "ak", "Event-Sign": push_sign("ak", "sk", b"[]")}
        assert adapter.parse_webhook(signed, b"[]") == []
    finally:
        adapter.close()
