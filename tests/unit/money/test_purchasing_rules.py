"""Purchase-order rules: over-receipt tolerance, statuses, on order, pre-sale."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omnistock.domain.purchasing import (
    PoStatus,
    bundle_overdrawn,
    can_become,
    incoming_pool,
    on_order,
    presale_covers,
    receivable_total,
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


def test_presale_pool_is_what_is_on_order_less_what_waiting_orders_claimed() -> None:
    assert (incoming_pool(10, 0).units, incoming_pool(10, 0).overdrawn) == (10, 0)
    assert (incoming_pool(10, 4).units, incoming_pool(10, 4).overdrawn) == (6, 0)
    # claims beyond what is on order came out of the stock on hand: every channel sees that much less
    assert (incoming_pool(2, 5).units, incoming_pool(2, 5).overdrawn) == (0, 3)


def test_a_presale_order_is_covered_by_available_and_unclaimed_on_order_units() -> None:
    assert presale_covers({1: 5}, {1: 2}, {1: 4}, {})
    assert not presale_covers({1: 7}, {1: 2}, {1: 4}, {})
    assert not presale_covers({1: 5}, {1: 2}, {1: 4}, {1: 2})  # earlier pre-sale orders came first
    assert not presale_covers({1: 1, 2: 1}, {1: 1}, {}, {})  # every SKU of the order must be covered


@given(st.lists(st.integers(1, 20), max_size=30), st.integers(0, 50), st.integers(0, 100))
def test_promises_never_exceed_stock_on_hand_and_on_order(orders: list[int], available: int, ordered: int) -> None:
    """Orders taken one after the other, each only when covered: what was promised never exceeds what is
    available plus what is on order, and the pool the channels are shown plus the promises add up to it."""
    claimed = 0
    for qty in orders:
        if presale_covers({1: qty}, {1: available}, {1: ordered}, {1: claimed}):
            claimed += qty
    assert claimed <= available + ordered
    pool = incoming_pool(ordered, claimed)
    assert pool.units + claimed - pool.overdrawn == ordered and pool.overdrawn <= available


def test_overdrawn_components_lower_a_bundle_by_whole_bundles_rounded_up() -> None:
    assert bundle_overdrawn({1: 3, 2: 0}, {1: 2, 2: 1}) == 2
    assert bundle_overdrawn({}, {1: 2}) == 0
