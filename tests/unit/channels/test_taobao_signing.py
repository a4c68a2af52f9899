"""Taobao TOP signing and error envelopes without a network: the documented vectors and the error codes."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from omnistock.channels.taobao_payloads import ban_seconds, response_key, top_error, top_sign, wire_value
from omnistock.errors import (
    PlatformAuthFailed,
    PlatformInvalid,
    PlatformNotFound,
    PlatformThrottled,
    PlatformTransient,
)

SECRET = "helloworld"
VECTOR_PARAMS = {
    "app_key": "12345678", "format": "json", "method": "taobao.item.quantity.update", "num_iid": "1001",
    "quantity": "5", "session": "test", "sku_id": "2002", "timestamp": "2024-01-01 12:00:00", "type": "1",
    "v": "2.0",
}


def test_md5_sign_matches_the_documented_vector() -> None:
    params = {**VECTOR_PARAMS, "sign_method": "md5"}
    assert top_sign(params, SECRET, "md5") == "C1562DE21B1BB8FBEBE9CEBA5ACBF166"


def test_hmac_sign_matches_the_documented_vector() -> None:
    params = {**VECTOR_PARAMS, "sign_method": "hmac"}
    assert top_sign(params, SECRET, "hmac") == "576B971F47409A461469C19557D59C40"


def test_hmac_sha256_sign_is_upper_hex_hmac_sha256_of_sorted_pairs() -> None:
    params = {**VECTOR_PARAMS, "sign_method": "hmac-sha256"}
    text = "".join(name + params[name] for name in sorted(params))
    expected = hmac.new(SECRET.encode(), text.encode(), hashlib.sha256).hexdigest().upper()
    assert top_sign(params, SECRET, "hmac-sha256") == expected


def test_sign_ignores_an_existing_sign_parameter() -> None:
    params = {**VECTOR_PARAMS, "sign_method": "md5"}
    assert top_sign({**params, "sign": "WHATEVER"}, SECRET, "md5") == top_sign(params, SECRET, "md5")


def test_unknown_sign_method_is_refused() -> None:
    with pytest.raises(ValueError):
        top_sign(VECTOR_PARAMS, SECRET, "sha1")


def test_booleans_travel_in_lower_case() -> None:
    assert (wire_value(True), wire_value(False), wire_value(7)) == ("true", "false", "7")


def test_response_key_drops_the_taobao_prefix() -> None:
    assert response_key("taobao.skus.quantity.update") == "skus_quantity_update_response"


def test_call_limited_is_throttled_for_the_announced_ban() -> None:
    error = top_error({"code": 7, "msg": "App Call Limited", "sub_code": "accesscontrol.limited-by-app-access-count",
                       "sub_msg": "This ban will last for 3 more seconds"})
    assert isinstance(error, PlatformThrottled)
    assert error.retry_after == 3.0


def test_call_limited_without_a_hint_waits_one_second() -> None:
    assert ban_seconds(None) == 1.0
    error = top_error({"code": 7, "msg": "App Call Limited"})
    assert isinstance(error, PlatformThrottled) and error.retry_after == 1.0


@pytest.mark.parametrize("code", [25, 26, 27])
def test_signature_and_session_errors_are_auth_failures(code: int) -> None:
    assert isinstance(top_error({"code": code, "msg": "Invalid"}), PlatformAuthFailed)


def test_remote_service_error_with_isp_sub_code_is_transient() -> None:
    error = top_error({"code": 15, "msg": "Remote service error", "sub_code": "isp.service-unavailable"})
    assert isinstance(error, PlatformTransient)
    assert error.retryable


def test_remote_service_error_with_isv_sub_code_is_invalid() -> None:
    error = top_error({"code": 15, "msg": "Remote service error", "sub_code": "isv.invalid-parameter"})
    assert isinstance(error, PlatformInvalid)
    assert not error.retryable


def test_missing_item_is_not_found() -> None:
    error = top_error({"code": 15, "msg": "Remote service error", "sub_code": "isv.item-not-exist"})
    assert isinstance(error, PlatformNotFound)
