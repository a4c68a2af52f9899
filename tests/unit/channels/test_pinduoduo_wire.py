"""Pinduoduo wire rules without a network: signing, 30-minute windows, error codes, order states."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omnistock.channels.base import OrderEventKind
from omnistock.channels.pinduoduo import (
    PinduoduoAdapter,
    beijing_time,
    order_event,
    order_windows,
    raise_for_error,
    sign,
    split_external_id,
)
from omnistock.errors import (
    Invalid,
    PlatformAuthFailed,
    PlatformInvalid,
    PlatformThrottled,
    PlatformTransient,
)


def test_sign_matches_the_official_pdd_test_vector() -> None:
    params = {"type": "pdd.order.number.list.get", "client_id": "1", "data_type": "XML", "order_status": "1",
              "page": "1", "page_size": "10", "timestamp": "1480411125",
              "access_token": "asd78172s8ds9a921j9qqwda12312w1w21211"}
    assert sign(params, "testSecret") == "E4DE3ED21002510DED352819E7AE6775"


def test_sign_ignores_the_sign_parameter_itself_and_empty_values() -> None:
    params = {"type": "pdd.goods.list.get", "client_id": "1", "timestamp": "1"}
    assert sign({**params, "sign": "X", "outer_id": ""}, "s") == sign(params, "s")


@given(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)),
       st.integers(min_value=1, max_value=3 * 24 * 3600))
def test_order_windows_cover_the_range_in_steps_of_at_most_30_minutes(since: datetime, seconds: int) -> None:
    until = since + timedelta(seconds=seconds)
    windows = order_windows(since, until)
    assert all(0 < end - start <= 1800 for start, end in windows)
    assert windows[0][0] <= since.timestamp() and windows[-1][1] >= until.timestamp()
    assert all(a[1] == b[0] for a, b in itertools.pairwise(windows))


@pytest.mark.parametrize(("code", "error"), [
    (70031, PlatformThrottled), (52101, PlatformThrottled), (10019, PlatformAuthFailed),
    (20004, PlatformAuthFailed), (20032, PlatformAuthFailed), (52103, PlatformTransient),
    (50000, PlatformTransient), (10000, PlatformInvalid),
])
def test_error_codes_become_typed_errors(code: int, error: type[Exception]) -> None:
    with pytest.raises(error) as caught:
        raise_for_error({"error_response": {"error_code": code, "error_msg": "x", "sub_code": None}})
    assert caught.type is error


def test_throttle_error_carries_a_retry_after() -> None:
    with pytest.raises(PlatformThrottled) as caught:
        raise_for_error({"error_response": {"error_code": "70031", "error_msg": "调用过于频繁"}})
    assert caught.value.retry_after > 0 and caught.value.code == "70031"


def test_listing_id_must_be_goods_and_sku() -> None:
    assert split_external_id("123/456") == ("123", "456")
    with pytest.raises(Invalid):
        split_external_id("123")


def _order(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "order_sn": "240101-1", "order_status": 1, "refund_status": 1, "confirm_status": 1,
        "updated_at": "2024-01-01 12:00:00", "receiver_name": "张三", "receiver_phone": "138",
        "item_list": [{"goods_id": 11, "sku_id": 22, "goods_count": 2, "outer_id": "A1", "goods_price": 9.9}]}
    return base | fields


@pytest.mark.parametrize(("fields", "kind"), [
    ({}, OrderEventKind.CREATED),
    ({"confirm_status": 2}, OrderEventKind.CANCELLED),
    ({"refund_status": 4, "order_status": 2}, OrderEventKind.REFUNDED),
    ({"order_status": 2}, OrderEventKind.SHIPPED),
    ({"refund_status": 3}, OrderEventKind.UPDATED),
])
def test_order_states_map_to_event_kinds(fields: dict[str, object], kind: OrderEventKind) -> None:
    assert order_event(_order(**fields)).kind is kind


def test_order_lines_use_goods_and_sku_as_listing_id_and_beijing_time() -> None:
    event = order_event(_order())
    lines = [(line.external_id, line.qty, line.external_sku, str(line.unit_price)) for line in event.lines]
    assert lines == [("11/22", 2, "A1", "9.9")]
    assert event.occurred_at == datetime(2024, 1, 1, 4, 0, tzinfo=UTC)
    assert beijing_time("garbage") is None


def test_pdd_refuses_webhooks_because_orders_are_polled() -> None:
    adapter = PinduoduoAdapter({"client_id": "c", "client_secret": "s", "access_token": "t"})
    try:
        with pytest.raises(Invalid):
            adapter.parse_webhook({}, b"{}")
    finally:
        adapter.close()
