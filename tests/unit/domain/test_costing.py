"""Moving-average cost: exact valuation, oversells, returns, and conversion between currencies."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omnistock.domain.costing import (
    UNIT_COST_PLACES,
    CostState,
    DayRates,
    convert,
    is_currency,
    issue,
    receive,
    return_to_stock,
    return_to_supplier,
)
from omnistock.errors import Conflict, Invalid

D = Decimal
RATES = DayRates(date(2024, 5, 7), "CNY", {"USD": D("7.1063"), "EUR": D("7.6841"), "JPY": D("0.045612")})


# --- the moving average ----------------------------------------------------------------------------


def test_hand_computed_moving_average() -> None:
    state = CostState.empty()
    state, _ = receive(state, 10, D("5.00"))             # 10 @ 5.00 = 50.00
    state, _ = receive(state, 10, D("8.00"))             # 20 units worth 130.00, 6.50 each
    assert state.unit_cost == D("6.5")
    state, cogs = issue(state, 5)
    assert cogs == D("32.50")
    assert state == CostState(15, D("97.50"))
    state, _ = receive(state, 5, D("9.10"))              # 20 units worth 143.00, 7.15 each
    assert state.unit_cost == D("7.15")
    state, cogs = issue(state, 3)
    assert cogs == D("21.45")
    state, cogs = issue(state, 17)                       # the last units take the whole value
    assert cogs == D("121.55")
    assert state.on_hand == 0 and state.value == 0
    assert state.unit_cost == D("7.15")                  # remembered for the next oversell


def test_rounding_residue_goes_with_the_last_unit() -> None:
    state = CostState(3, D("10.00"))
    state, first = issue(state, 1)
    state, second = issue(state, 1)
    state, last = issue(state, 1)
    assert (first, second, last) == (D("3.33"), D("3.34"), D("3.33"))  # 3.335 rounds half up
    assert first + second + last == D("10.00")
    assert state.value == 0


def test_cogs_is_rounded_to_the_minor_unit_of_the_base_currency() -> None:
    state = CostState(3, D("1000"), "JPY")
    state, cogs = issue(state, 1)
    assert cogs == D("333")
    assert state.value == D("667")


def test_running_value_keeps_sub_cent_unit_costs_exactly() -> None:
    state, _ = receive(CostState.empty(), 1000, D("0.0123"))
    assert state.value == D("12.3000")
    state, cogs = issue(state, 1)
    assert cogs == D("0.01")
    assert state.value == D("12.2900")


def test_receipt_value_stays_exact_for_a_unit_cost_with_many_digits() -> None:
    # An unrounded conversion yields 28 significant digits; times a quantity that is more than
    # Decimal's default precision holds, and the valuation must not lose the last digit.
    unit_cost = D(1) / D(3)
    state, _ = receive(CostState.empty(), 7, unit_cost)
    assert state.value == D("2.3333333333333333333333333331")
    state, cogs = issue(state, 7)
    assert cogs == D("2.3333333333333333333333333331")


def test_a_part_never_takes_more_than_the_whole_value() -> None:
    # 10 screws at 0.0006 are worth 0.006: nine of them round to 0.01, more than all ten are worth.
    state, _ = receive(CostState.empty(), 10, D("0.0006"))
    state, cogs = issue(state, 9)
    assert cogs == D("0.0060")
    assert state == CostState(1, D("0"))


def test_free_goods_lower_the_average() -> None:
    state, _ = receive(CostState.empty(), 1, D("10"))
    state, _ = receive(state, 1, D("0"))
    assert state.unit_cost == D("5")


# --- oversell and negative stock ---------------------------------------------------------------------


def test_oversell_costs_missing_units_at_the_average_and_leaves_a_hole() -> None:
    state = CostState(2, D("20.00"))
    state, cogs = issue(state, 3)
    assert cogs == D("30.00")
    assert state == CostState(-1, D("-10.00"))


def test_receipt_into_a_hole_books_the_price_difference_as_a_cogs_correction() -> None:
    state, correction = receive(CostState(-1, D("-10.00")), 5, D("12.00"))
    assert correction == D("2.00")              # the oversold unit really cost 12, not 10
    assert state == CostState(4, D("48.00"))    # the stock on hand is at the receipt cost
    assert state.unit_cost == D("12")


def test_cheaper_receipt_into_a_hole_gives_a_negative_correction() -> None:
    state, correction = receive(CostState(-2, D("-20.00")), 2, D("7.50"))
    assert correction == D("-5.00")
    assert state.on_hand == 0 and state.value == 0
    assert state.last_unit_cost == D("7.5")


def test_partial_fill_of_a_hole_keeps_the_rest_of_the_hole() -> None:
    state, correction = receive(CostState(-3, D("-10.00")), 1, D("4.00"))
    assert correction == D("0.67")              # booked 3.33 for that unit, it cost 4.00
    assert state == CostState(-2, D("-6.67"))


def test_oversell_with_nothing_on_hand_uses_the_last_unit_cost() -> None:
    state, _ = receive(CostState.empty(), 2, D("6.00"))
    state, _ = issue(state, 2)
    state, cogs = issue(state, 3)
    assert cogs == D("18.00")
    assert state == CostState(-3, D("-18.00"), last_unit_cost=D("6"))
    state, cogs = issue(state, 1)               # deeper into the hole, at the hole's cost
    assert cogs == D("6.00")


def test_oversell_of_a_sku_never_received_is_costed_at_zero_until_goods_arrive() -> None:
    state, cogs = issue(CostState.empty(), 2)
    assert cogs == 0
    state, correction = receive(state, 2, D("9.99"))
    assert correction == D("19.98")
    assert state.value == 0


# --- returns -----------------------------------------------------------------------------------------


def test_customer_return_comes_back_at_the_current_average() -> None:
    state, credit = return_to_stock(CostState(4, D("26.00")), 2)
    assert credit == D("13.00")
    assert state == CostState(6, D("39.00"))


def test_customer_return_with_nothing_on_hand_uses_the_last_unit_cost() -> None:
    state, credit = return_to_stock(CostState(0, D(0), last_unit_cost=D("4.25")), 2)
    assert credit == D("8.50")
    assert state == CostState(2, D("8.50"), last_unit_cost=D("4.25"))


def test_customer_return_into_a_hole_reverses_what_was_booked() -> None:
    state, credit = return_to_stock(CostState(-2, D("-15.00")), 3)
    assert credit == D("22.50")                 # 15.00 for the hole, 7.50 for the extra unit
    assert state == CostState(1, D("7.50"), last_unit_cost=D(0))


def test_supplier_return_leaves_at_the_average_and_keeps_it() -> None:
    state, removed = return_to_supplier(CostState(4, D("26.00")), 1)
    assert removed == D("6.50")
    assert state.unit_cost == D("6.5")


def test_supplier_return_of_more_than_on_hand_is_refused() -> None:
    with pytest.raises(Conflict):
        return_to_supplier(CostState(1, D("5")), 2)
    with pytest.raises(Conflict):
        return_to_supplier(CostState(-1, D("-5")), 1)


# --- bad input ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("qty", [0, -1, True, 1.0])
def test_quantity_must_be_a_positive_whole_number(qty: object) -> None:
    with pytest.raises(Invalid) as caught:
        issue(CostState(5, D("5")), qty)  # type: ignore[arg-type]
    assert caught.value.field == "qty"


@pytest.mark.parametrize("cost", [D("-0.01"), D("NaN"), 1.5])
def test_unit_cost_must_be_a_non_negative_decimal(cost: object) -> None:
    with pytest.raises(Invalid):
        receive(CostState.empty(), 1, cost)  # type: ignore[arg-type]


@pytest.mark.parametrize("on_hand, value", [(0, D("1")), (2, D("-1")), (-2, D("1"))])
def test_impossible_state_is_refused(on_hand: int, value: Decimal) -> None:
    with pytest.raises(Invalid):
        CostState(on_hand, value)


def test_state_in_unknown_currency_is_refused() -> None:
    with pytest.raises(Invalid):
        CostState.empty("RMB")


# --- currencies --------------------------------------------------------------------------------------


def test_is_currency_knows_common_iso_codes_only() -> None:
    assert all(is_currency(code) for code in ("CNY", "USD", "EUR", "JPY", "KRW", "HKD", "KWD"))
    assert not any(is_currency(code) for code in ("RMB", "cny", "US", "XXX", ""))


def test_convert_to_the_base_currency_rounds_to_its_minor_unit() -> None:
    assert convert(D("19.99"), "USD", "CNY", RATES) == D("142.05")   # 142.054937
    assert convert(D("1000"), "JPY", "CNY", RATES) == D("45.61")


def test_convert_from_the_base_currency_divides_by_the_rate() -> None:
    assert convert(D("100"), "CNY", "USD", RATES) == D("14.07")      # 14.0720...
    assert convert(D("100"), "CNY", "JPY", RATES) == D("2192")       # 2192.40, JPY has no decimals


def test_convert_between_two_foreign_currencies_goes_through_the_base() -> None:
    assert convert(D("10"), "EUR", "USD", RATES) == D("10.81")       # 76.841 / 7.1063 = 10.8130


def test_convert_to_the_same_currency_only_rounds() -> None:
    assert convert(D("1.005"), "USD", "USD", RATES) == D("1.01")


def test_convert_can_keep_more_places_for_a_unit_cost() -> None:
    assert convert(D("0.0123"), "USD", "CNY", RATES, places=UNIT_COST_PLACES) == D("0.087407")


def test_convert_without_a_rate_for_the_day_is_refused() -> None:
    with pytest.raises(Invalid) as caught:
        convert(D("1"), "GBP", "CNY", RATES)
    assert "2024-05-07" in caught.value.message


@pytest.mark.parametrize("source, target", [("RMB", "CNY"), ("CNY", "usd")])
def test_convert_with_an_unknown_currency_code_is_refused(source: str, target: str) -> None:
    with pytest.raises(Invalid):
        convert(D("1"), source, target, RATES)


def test_convert_refuses_float_amounts() -> None:
    with pytest.raises(Invalid):
        convert(1.5, "USD", "CNY", RATES)  # type: ignore[arg-type]


@pytest.mark.parametrize("rates", [{"USD": D("0")}, {"USD": D("-7")}, {"CNY": D("2")}, {"RMB": D("1")}])
def test_day_rates_must_be_positive_and_known(rates: dict[str, Decimal]) -> None:
    with pytest.raises(Invalid):
        DayRates(date(2024, 5, 7), "CNY", rates)


# --- properties --------------------------------------------------------------------------------------

CURRENCIES = st.sampled_from(["CNY", "USD", "EUR", "JPY"])
COSTS = st.decimals(min_value=D("0"), max_value=D("5000"), places=4)
QTYS = st.integers(min_value=1, max_value=500)


@dataclass
class Ledger:
    """The sums the caller would record alongside the state."""

    state: CostState = field(default_factory=CostState.empty)
    receipts: Decimal = Decimal(0)
    cogs: Decimal = Decimal(0)
    corrections: Decimal = Decimal(0)
    customer_returns: Decimal = Decimal(0)
    supplier_returns: Decimal = Decimal(0)
    receipt_costs: list[Decimal] = field(default_factory=list)

    def receive(self, qty: int, cost: Decimal, currency: str) -> None:
        unit_cost = convert(cost, currency, "CNY", RATES, places=UNIT_COST_PLACES)
        self.state, correction = receive(self.state, qty, unit_cost)
        self.receipts += qty * unit_cost
        self.corrections += correction
        self.receipt_costs.append(unit_cost)

    def issue(self, qty: int) -> None:
        self.state, cogs = issue(self.state, qty)
        self.cogs += cogs

    def expected_value(self) -> Decimal:
        return (self.receipts - self.cogs - self.corrections + self.customer_returns
                - self.supplier_returns)


RECEIPT = st.tuples(st.just("receive"), QTYS, COSTS, CURRENCIES)
ISSUE = st.tuples(st.just("issue"), QTYS)
ANY_MOVE = st.one_of(RECEIPT, ISSUE, st.tuples(st.just("return_to_stock"), QTYS),
                     st.tuples(st.just("return_to_supplier"), QTYS))


@given(st.lists(ANY_MOVE, max_size=40))
def test_valuation_is_receipts_minus_cogs_exactly_for_any_sequence(moves: list[tuple[Any, ...]]) -> None:
    ledger, on_hand = Ledger(), 0
    for move in moves:
        match move:
            case ("receive", qty, cost, currency):
                ledger.receive(qty, cost, currency)
                on_hand += qty
            case ("issue", qty):
                ledger.issue(qty)
                on_hand -= qty
            case ("return_to_stock", qty):
                ledger.state, credit = return_to_stock(ledger.state, qty)
                ledger.customer_returns += credit
                on_hand += qty
            case ("return_to_supplier", qty):
                if qty > ledger.state.on_hand:
                    continue
                ledger.state, removed = return_to_supplier(ledger.state, qty)
                ledger.supplier_returns += removed
                on_hand -= qty
        assert ledger.state.value == ledger.expected_value()
        assert ledger.state.on_hand == on_hand
        # CostState itself refuses value without stock and value of the wrong sign; check anyway.
        assert (ledger.state.on_hand == 0) <= (ledger.state.value == 0)


@given(st.lists(st.one_of(RECEIPT, ISSUE), max_size=40))
def test_average_stays_within_the_receipt_costs_give_or_take_the_rounding(moves: list[tuple[Any, ...]]) -> None:
    ledger, issues = Ledger(), 0
    for move in moves:
        if move[0] == "receive":
            ledger.receive(*move[1:])
        elif move[1] <= ledger.state.on_hand:  # no oversell here: that re-costs on purpose
            ledger.issue(move[1])
            issues += 1
        state = ledger.state
        if state.on_hand > 0:
            # Each issue rounds its COGS by at most half a cent, and that residue stays in stock.
            slack = D("0.005") * issues
            assert min(ledger.receipt_costs) * state.on_hand - slack <= state.value
            assert state.value <= max(ledger.receipt_costs) * state.on_hand + slack
        else:
            assert state.value == 0
    assert ledger.state.value == ledger.receipts - ledger.cogs


@given(st.lists(st.tuples(QTYS, COSTS), min_size=1, max_size=10))
def test_without_issues_the_average_is_the_weighted_mean_and_within_bounds(
        receipts: list[tuple[int, Decimal]]) -> None:
    state = CostState.empty()
    for qty, cost in receipts:
        state, correction = receive(state, qty, cost)
        assert correction == 0
    total_qty = sum(qty for qty, _ in receipts)
    assert state.value == sum(qty * cost for qty, cost in receipts)
    assert state.on_hand == total_qty
    assert min(cost for _, cost in receipts) <= state.unit_cost <= max(cost for _, cost in receipts)


@given(QTYS, COSTS, st.lists(QTYS, min_size=1, max_size=10))
def test_issuing_everything_takes_exactly_the_receipts(qty: int, cost: Decimal, takes: list[int]) -> None:
    state, _ = receive(CostState.empty(), qty, cost)
    total = D(0)
    for take in takes:
        if take >= state.on_hand:
            break
        before = state.value
        state, cogs = issue(state, take)
        total += cogs
        # A partial take is rounded to the cent, unless that would be more than the whole value.
        assert cogs == cogs.quantize(D("0.01")) or cogs == before
    state, cogs = issue(state, state.on_hand)
    assert total + cogs == qty * cost
    assert state.value == 0


@given(st.decimals(min_value=D("-1000000"), max_value=D("1000000"), places=6), CURRENCIES, CURRENCIES)
def test_converted_amount_has_the_target_minor_unit(amount: Decimal, source: str, target: str) -> None:
    converted = convert(amount, source, target, RATES)
    places = 0 if target == "JPY" else 2
    assert converted == converted.quantize(D(1).scaleb(-places))
    exact = amount * RATES.rate(source) / RATES.rate(target)
    assert abs(converted - exact) <= D("0.5") * D(1).scaleb(-places)
