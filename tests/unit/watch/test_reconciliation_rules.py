"""The reconciliation rules: which difference a listing shows, and what a channel's setting does about it."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from omnistock.domain.reconciliation import (
    DifferenceKind,
    Mode,
    Observed,
    action_for,
    classify,
    needs_expected,
    unmapped,
)

quantities = st.integers(min_value=0, max_value=10_000)


@given(quantities, st.none() | quantities, st.booleans())
def test_a_platform_showing_the_expected_value_is_no_difference(expected: int, last: int | None,
                                                                 pending: bool) -> None:
    assert classify(Observed(expected, last, pending, expected)) is None


@given(quantities, st.none() | quantities, st.booleans())
def test_a_listing_the_platform_no_longer_has_is_missing_even_while_a_push_waits(expected: int, last: int | None,
                                                                                  pending: bool) -> None:
    assert classify(Observed(expected, last, pending, None)) is DifferenceKind.MISSING


@given(quantities, quantities, st.none() | quantities)
def test_another_number_is_drift_unless_a_push_is_pending(expected: int, shown: int, last: int | None) -> None:
    if shown in (expected, last):
        return
    assert classify(Observed(expected, last, False, shown)) is DifferenceKind.DRIFT
    assert classify(Observed(expected, last, True, shown)) is DifferenceKind.STALE


def test_a_lost_push_is_drift_although_the_last_push_had_the_right_value() -> None:
    assert classify(Observed(expected=5, last_pushed=5, pending=False, platform=9)) is DifferenceKind.DRIFT


@given(quantities, quantities)
def test_a_settled_listing_showing_its_last_push_is_no_difference_and_needs_no_target(last: int,
                                                                                       target: int) -> None:
    # A partition quota that moved with sales is not lowered at once: the platform lags on purpose.
    assert not needs_expected(last, False, last)
    assert classify(Observed(None, last, False, last)) is None
    assert classify(Observed(target, last, False, last)) is None


def test_what_needs_a_target_to_be_judged() -> None:
    assert needs_expected(5, True, 5)  # pending: the push may change it
    assert needs_expected(None, False, 5)  # never pushed
    assert needs_expected(5, False, 3)  # shows something else
    assert needs_expected(5, False, None)  # gone from the platform


def test_only_unmapped_items_with_stock_are_reported() -> None:
    assert unmapped(3) is DifferenceKind.UNMAPPED
    assert unmapped(0) is None


def test_what_each_setting_does() -> None:
    assert action_for(DifferenceKind.DRIFT, Mode.HEAL) == "heal"
    assert action_for(DifferenceKind.DRIFT, Mode.ALERT) == "alert"
    assert action_for(DifferenceKind.DRIFT, Mode.HOLD) == "hold"
    assert action_for(DifferenceKind.MISSING, Mode.HEAL) == "alert"  # a push cannot bring a listing back
    assert action_for(DifferenceKind.MISSING, Mode.HOLD) == "hold"
    for mode in Mode:
        assert action_for(DifferenceKind.STALE, mode) == "none"
        assert action_for(DifferenceKind.UNMAPPED, mode) == "none"
