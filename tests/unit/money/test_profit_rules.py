"""Profit lines: margin, fees and how rows add up."""

from __future__ import annotations

from decimal import Decimal

import pytest

from omnistock.domain.profit import ProfitLine, platform_fee
from omnistock.errors import Invalid

D = Decimal


def test_margin_is_revenue_less_fees_cogs_and_compensation() -> None:
    line = ProfitLine(revenue=D("110.00"), fees=D("2.00"), cogs=D("18.00"), compensation=D("10.00"),
                      oversell_cost=D("10.00"))
    assert line.margin == D("80.00")
    assert line.margin_percent == D("72.73")


def test_rows_add_up() -> None:
    a = ProfitLine(revenue=D("40"), fees=D("2"), cogs=D("12"), oversold_orders=1)
    b = ProfitLine(revenue=D("70"), cogs=D("6"), compensation=D("5"))
    assert a + b == ProfitLine(revenue=D("110"), fees=D("2"), cogs=D("18"), compensation=D("5"), oversold_orders=1)
    assert ProfitLine().margin_percent is None


def test_fee_is_rounded_half_up_and_a_refund_gives_it_back() -> None:
    assert platform_fee(D("19.90"), D("5"), "CNY") == D("1.00")     # 0.995 → 1.00
    assert platform_fee(D("-19.90"), D("5"), "CNY") == D("-1.00")
    assert platform_fee(D("1000"), D("0.6"), "JPY") == D("6")


@pytest.mark.parametrize("percent", [D("-1"), D("100.01"), D("NaN")])
def test_fee_percent_must_be_between_0_and_100(percent: Decimal) -> None:
    with pytest.raises(Invalid):
        platform_fee(D(1), percent, "CNY")
