"""What each stock change does to the moving-average cost, and that value is never lost or made up."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from omnistock.domain.costing import UNIT_COST_PLACES, CostState, DayRates, convert
from omnistock.domain.valuation import CostEffect, CostEvent, apply

D = Decimal
RATES = DayRates(date(2024, 5, 7), "CNY", {"USD": D("7.1063"), "EUR": D("7.6841"), "JPY": D("0.045612")})


def test_hand_computed_receipts_in_two_currencies_and_a_sale() -> None:
    state = CostState.empty()
    state, first = apply(state, CostEvent.PURCHASE, 10, D("5.00"))           # 50.00 CNY
    usd_cost = convert(D("1.00"), "USD", "CNY", RATES, places=UNIT_COST_PLACES)  # 7.106300 CNY
    state, second = apply(state, CostEvent.PURCHASE, 10, usd_cost)           # 71.063 CNY
    assert state.value == D("121.063")
    assert state.unit_cost == D("6.0531500")
    state, sale = apply(state, CostEvent.SALE, 4)
    assert sale == CostEffect(cogs=D("24.21"))                               # 4 × 6.05315 = 24.2126
    assert state.value == D("121.063") - D("24.21")
    assert (first.received, second.received) == (D("50.00"), D("71.063000"))


def test_other_receipts_and_finds_come_in_at_the_current_average() -> None:
    state, _ = apply(CostState.empty(), CostEvent.PURCHASE, 4, D("2.50"))
    state, receipt = apply(state, CostEvent.RECEIPT, 2)
    assert receipt.received == D("5.00") and state.unit_cost == D("2.5")
    state, found = apply(state, CostEvent.FOUND, 1)
    assert found == CostEffect(loss=D("-2.500000"))
    state, lost = apply(state, CostEvent.WRITE_OFF, 3)
    assert lost == CostEffect(loss=D("7.50")) and state.on_hand == 4


def test_order_return_reverses_cogs_and_supplier_return_takes_value_out() -> None:
    state, _ = apply(CostState.empty(), CostEvent.PURCHASE, 10, D("3"))
    state, sale = apply(state, CostEvent.SALE, 2)
    state, back = apply(state, CostEvent.ORDER_RETURN, 2)
    assert back.cogs == -sale.cogs == D("-6.00")
    state, out = apply(state, CostEvent.SUPPLIER_RETURN, 5)
    assert out == CostEffect(to_supplier=D("15.00")) and state.value == D("15.00")


CURRENCIES = st.sampled_from(["CNY", "USD", "EUR", "JPY"])
PURCHASE = st.tuples(st.just("buy"), st.integers(1, 500), st.decimals(0, 1000, places=2), CURRENCIES)
SALE = st.tuples(st.just("sell"), st.integers(1, 500))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(PURCHASE, SALE), min_size=1, max_size=40))
def test_valuation_always_equals_receipts_minus_cost_of_goods_sold(steps: list[tuple]) -> None:
    state = CostState.empty()
    receipts = cogs = D(0)
    for step in steps:
        if step[0] == "buy":
            _, qty, price, currency = step
            unit_cost = convert(price, currency, "CNY", RATES, places=UNIT_COST_PLACES)
            receipts += qty * unit_cost
            state, effect = apply(state, CostEvent.PURCHASE, qty, unit_cost)
        else:
            state, effect = apply(state, CostEvent.SALE, step[1])
        cogs += effect.cogs
        assert state.value == receipts - cogs
    if state.on_hand == 0:
        assert state.value == 0


EVENTS = st.sampled_from(list(CostEvent))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(EVENTS, st.integers(1, 200), st.decimals(0, 500, places=4)), min_size=1, max_size=40))
def test_every_event_keeps_value_equal_to_the_sum_of_its_effects(steps: list[tuple]) -> None:
    state = CostState.empty()
    total = CostEffect()
    for event, qty, cost in steps:
        if event is CostEvent.SUPPLIER_RETURN and qty > state.on_hand:
            continue  # refused by the rules: only goods on hand go back
        state, effect = apply(state, event, qty, cost if event is CostEvent.PURCHASE else None)
        total = CostEffect(total.received + effect.received, total.cogs + effect.cogs, total.loss + effect.loss,
                           total.to_supplier + effect.to_supplier)
    assert state.value == total.stock_value
    assert (state.on_hand == 0) <= (state.value == 0)
