"""Reorder suggestions against hand-computed examples."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from omnistock.domain.reorder import Policy, StockPicture, runs_out, suggest
from omnistock.errors import Invalid

TODAY = date(2024, 6, 1)


def test_hand_computed_suggestion() -> None:
    # 56 sold in 28 days = 2 a day. Free 12 + on order 6 = position 18.
    # Reorder point 2 × 10 + 5 = 25 ≥ 18, so order up to 2 × (10 + 14) + 5 = 53: 35 units.
    # 12 free units last 6 days.
    s = suggest(StockPicture("A", sold=56, free=12, on_order=6, safety_stock=5, lead_time_days=10), Policy(28, 14),
                TODAY)
    assert s.daily_rate == Decimal(2)
    assert (s.position, s.reorder_point, s.target) == (18, Decimal(25), Decimal(53))
    assert s.order_qty == 35
    assert s.runs_out == date(2024, 6, 7)


def test_nothing_to_order_above_the_reorder_point() -> None:
    s = suggest(StockPicture("A", sold=56, free=20, on_order=6, safety_stock=5, lead_time_days=10), Policy(28, 14),
                TODAY)
    assert s.order_qty == 0 and s.runs_out == date(2024, 6, 11)


def test_fractional_rate_rounds_the_order_up() -> None:
    # 10 sold in 28 days: 0.357.. a day; target 0.357 × 21 + 0 = 7.5 → order 8 with nothing in stock.
    s = suggest(StockPicture("A", sold=10, free=0, on_order=0, safety_stock=0, lead_time_days=7), Policy(28, 14),
                TODAY)
    assert s.order_qty == 8 and s.runs_out == TODAY


def test_a_sku_that_does_not_sell_only_orders_up_to_safety_stock() -> None:
    s = suggest(StockPicture("A", sold=0, free=1, on_order=0, safety_stock=4, lead_time_days=3), Policy(), TODAY)
    assert s.order_qty == 3 and s.runs_out is None


def test_runs_out_today_without_free_stock() -> None:
    assert runs_out(0, Decimal(1), TODAY) == TODAY
    assert runs_out(-3, Decimal(0), TODAY) == TODAY


@pytest.mark.parametrize(("window", "cover"), [(0, 1), (1, -1)])
def test_bad_policy_is_refused(window: int, cover: int) -> None:
    with pytest.raises(Invalid):
        Policy(window, cover)
