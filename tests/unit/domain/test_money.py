"""The one rounding rule for money: the currency's minor unit, half away from zero."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omnistock.domain.money import MINOR_UNITS, is_currency, minor_unit, require_currency, round_money
from omnistock.errors import Invalid

D = Decimal


@pytest.mark.parametrize("currency, places", [("CNY", 2), ("USD", 2), ("EUR", 2), ("JPY", 0), ("KRW", 0),
                                              ("KWD", 3)])
def test_minor_units_follow_iso_4217(currency: str, places: int) -> None:
    assert minor_unit(currency) == places


@pytest.mark.parametrize("amount, currency, rounded", [
    (D("0.005"), "CNY", D("0.01")),
    (D("0.004999"), "CNY", D("0.00")),
    (D("-0.005"), "CNY", D("-0.01")),
    (D("2.675"), "USD", D("2.68")),
    (D("10"), "EUR", D("10.00")),
    (D("1234.5"), "JPY", D("1235")),
    (D("-1234.5"), "JPY", D("-1235")),
    (D("99.49"), "KRW", D("99")),
    (D("1.0005"), "KWD", D("1.001")),
])
def test_round_money_rounds_half_away_from_zero_to_the_minor_unit(
        amount: Decimal, currency: str, rounded: Decimal) -> None:
    result = round_money(amount, currency)
    assert result == rounded
    assert result.as_tuple().exponent == -minor_unit(currency)


def test_round_money_refuses_float() -> None:
    with pytest.raises(TypeError):
        round_money(0.1, "CNY")  # type: ignore[arg-type]


def test_unknown_currency_is_invalid_with_the_field_named() -> None:
    assert not is_currency("RMB")
    with pytest.raises(Invalid) as caught:
        require_currency("RMB", field="supplier.currency")
    assert caught.value.field == "supplier.currency"
    with pytest.raises(Invalid):
        round_money(D("1"), "rmb")


def test_every_listed_code_is_three_upper_case_letters() -> None:
    assert all(len(code) == 3 and code.isalpha() and code.isupper() for code in MINOR_UNITS)
    assert all(places in (0, 2, 3) for places in MINOR_UNITS.values())


@given(st.decimals(min_value=D("-1e9"), max_value=D("1e9"), places=6), st.sampled_from(sorted(MINOR_UNITS)))
def test_rounding_moves_an_amount_by_at_most_half_a_minor_unit(amount: Decimal, currency: str) -> None:
    rounded = round_money(amount, currency)
    half = D(5).scaleb(-minor_unit(currency) - 1)
    assert abs(rounded - amount) <= half
    assert round_money(rounded, currency) == rounded
