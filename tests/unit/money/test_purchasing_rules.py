"""Purchase-order rules: over-receipt tolerance, statuses, on order, pre-sale."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omnistock.domain.purchasing import (
    PoStatus,
    can_become,
    on_order,
    receivable_total,
    sellable_with_presale,
    status_after_receipt,
    still_receivable,
)

D = Decimal


@pytest.mark.parametrize(("ordered", "tolerance", "most"), [
    (10, D(0), 10), (10, D(5), 10), (20, D(5), 21), (20, D("10"), 22), (3, D("33.4"), 4), (100, D("2.5"), 102),
])
def test_tolerance_allows_ordered_plus_the_percentage_rounded_down(ordered: int, tolerance: Decimal,
                                                                   most: int) -> None:
    assert receivable_total(ordered, tolerance) == most


def test_still_receivable_after_partial_receipts() -> None:
    assert still_receivable(10, 4, D(0)) == 6
    assert still_receivable(10, 10, D(0)) == 0
    assert still_receivable(20, 20, D(10)) == 2
    assert still_receivable(20, 22, D(10)) == 0


@given(st.integers(1, 10_000), st.integers(0, 20_000), st.decimals(0, 100, places=2))
def test_never_more_than_tolerance_and_never_negative(ordered: int, received: int, tolerance: Decimal) -> None:
    left = still_receivable(ordered, received, tolerance)
    assert left >= 0
    assert received + left <= ordered * (1 + tolerance / 100) or left == 0


def test_drafts_cancelled_and_received_pos_are_not_on_order() -> None:
    assert on_order(PoStatus.ORDERED, 10, 3) == 7
    assert on_order(PoStatus.PARTIALLY_RECEIVED, 10, 3) == 7
    for status in (PoStatus.DRAFT, PoStatus.CANCELLED, PoStatus.RECEIVED):
        assert on_order(status, 10, 3) == 0
    assert on_order(PoStatus.PARTIALLY_RECEIVED, 10, 12) == 0  # an over-receipt never makes it negative


def test_status_after_receipt() -> None:
    assert status_after_receipt([(10, 4), (5, 5)]) is PoStatus.PARTIALLY_RECEIVED
    assert status_after_receipt([(10, 10), (5, 6)]) is PoStatus.RECEIVED


def test_transitions() -> None:
    assert can_become(PoStatus.DRAFT, PoStatus.ORDERED)
    assert not can_become(PoStatus.DRAFT, PoStatus.RECEIVED)
    assert can_become(PoStatus.PARTIALLY_RECEIVED, PoStatus.CANCELLED)
    assert not can_become(PoStatus.RECEIVED, PoStatus.CANCELLED)
    assert not can_become(PoStatus.CANCELLED, PoStatus.ORDERED)


def test_presale_adds_on_order_only_when_enabled() -> None:
    assert sellable_with_presale(3, 10, False) == 3
    assert sellable_with_presale(3, 10, True) == 13
    assert sellable_with_presale(-2, 1, True) == 0
