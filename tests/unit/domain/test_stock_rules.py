"""Ledger arithmetic without a database."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omnistock.domain.stock import (
    LevelView,
    MoveKind,
    bundle_buildable,
    check_quantity,
    expand_line,
    on_hand_delta,
    plan_reservation,
    sku_available,
)
from omnistock.errors import Invalid

levels = st.lists(st.builds(LevelView, location_id=st.integers(1, 20), on_hand=st.integers(0, 50),
                            reserved=st.integers(0, 50), sellable=st.booleans()),
                  max_size=6, unique_by=lambda lv: lv.location_id)


def test_available_is_sellable_on_hand_minus_reserved_minus_safety() -> None:
    views = [LevelView(1, 10, 3), LevelView(2, 5, 0), LevelView(3, 100, 0, sellable=False)]
    assert sku_available(views, safety_stock=2) == 10


@given(levels, st.integers(0, 100))
def test_available_is_never_negative(views: list[LevelView], safety: int) -> None:
    assert sku_available(views, safety) >= 0


def test_bundle_buildable_is_the_minimum_over_components() -> None:
    assert bundle_buildable({1: 10, 2: 9}, {1: 2, 2: 3}) == 3
    assert bundle_buildable({1: 10}, {1: 2, 2: 1}) == 0  # a missing component builds nothing
    assert bundle_buildable({}, {}) == 0


def test_count_writes_the_difference_and_sale_is_negative() -> None:
    assert on_hand_delta(MoveKind.COUNT, 7, 10) == -3
    assert on_hand_delta(MoveKind.SALE, 2, 10) == -2
    assert on_hand_delta(MoveKind.RECEIPT, 2, 10) == 2


@pytest.mark.parametrize(("kind", "qty"), [(MoveKind.RECEIPT, 0), (MoveKind.COUNT, -1),
                                           (MoveKind.ADJUSTMENT, 0), (MoveKind.TRANSFER, -2)])
def test_quantity_rules_per_kind(kind: MoveKind, qty: int) -> None:
    with pytest.raises(Invalid):
        check_quantity(kind, qty)


def test_booleans_are_not_quantities() -> None:
    with pytest.raises(Invalid):
        check_quantity(MoveKind.RECEIPT, True)


def test_plan_takes_the_fullest_location_first_and_is_deterministic() -> None:
    views = [LevelView(1, 3, 0), LevelView(2, 5, 1), LevelView(3, 4, 0)]
    assert plan_reservation(6, views) == [(2, 4), (3, 2)]
    assert plan_reservation(20, views) is None


@given(levels, st.integers(1, 120))
def test_plan_covers_exactly_what_is_wanted_from_free_units_only(views: list[LevelView], wanted: int) -> None:
    plan = plan_reservation(wanted, views)
    free = {v.location_id: v.free for v in views}
    if plan is None:
        assert sum(free.values()) < wanted
    else:
        assert sum(q for _, q in plan) == wanted
        assert all(0 < q <= free[loc] for loc, q in plan)


def test_a_bundle_line_needs_its_components_times_qty() -> None:
    assert expand_line(9, 3, {1: 2, 2: 1}) == {1: 6, 2: 3}
    assert expand_line(9, 3, {}) == {9: 3}
