"""Standard compensation: the default table, rule validation, cost to the merchant, approval limits."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omnistock.domain.compensation import (
    DEFAULT_APPROVAL_LIMITS,
    DEFAULT_RULES,
    CompensationCosts,
    CompensationKind,
    CompensationRule,
    Proposal,
    approvers,
    cost_of,
    may_grant,
    needs_approval,
    propose,
)
from omnistock.errors import Invalid

D = Decimal
Kind = CompensationKind


# --- the default table -------------------------------------------------------------------------------


@pytest.mark.parametrize("order_value, kind, amount, rule_id", [
    (D("0"), Kind.COUPON, D("10.00"), "oos-small"),
    (D("99.99"), Kind.COUPON, D("10.00"), "oos-small"),
    (D("100"), Kind.PARTIAL_REFUND, D("10.00"), "oos-medium"),
    (D("123.45"), Kind.PARTIAL_REFUND, D("12.35"), "oos-medium"),   # 12.345 rounds half up
    (D("499.99"), Kind.PARTIAL_REFUND, D("50.00"), "oos-medium"),   # 49.999
    (D("500"), Kind.PARTIAL_REFUND, D("75.00"), "oos-large"),
    (D("1333.33"), Kind.PARTIAL_REFUND, D("200.00"), "oos-large"),  # 15% would be 200.00 (199.9995)
    (D("5000"), Kind.PARTIAL_REFUND, D("200.00"), "oos-large"),     # capped
])
def test_out_of_stock_compensation_by_order_value_band(order_value: Decimal, kind: Kind, amount: Decimal,
                                                       rule_id: str) -> None:
    assert propose("out_of_stock", order_value, "CNY") == Proposal(kind, amount, "CNY", rule_id)


def test_late_shipment_gets_a_coupon_and_wrong_quantity_a_reship() -> None:
    assert propose("late_shipment", D("50"), "CNY") == Proposal(Kind.COUPON, D("5.00"), "CNY", "late-small")
    assert propose("late_shipment", D("200"), "CNY") == Proposal(Kind.COUPON, D("20.00"), "CNY", "late-large")
    assert propose("wrong_quantity", D("80"), "CNY") == Proposal(Kind.RESHIP, D("0.00"), "CNY", "wrong-quantity")


def test_no_standard_compensation_leaves_the_choice_to_the_agent() -> None:
    assert propose("other", D("80"), "CNY") is None
    assert propose("out_of_stock", D("80"), "USD") is None  # the default table is in CNY


def test_default_rules_cover_every_out_of_stock_value_exactly_once() -> None:
    for value in (D("0"), D("99.99"), D("100"), D("499.99"), D("500"), D("10000000")):
        assert sum(rule.covers("out_of_stock", value, "CNY") for rule in DEFAULT_RULES) == 1


def test_proposal_in_jpy_is_rounded_to_whole_yen() -> None:
    rules = [CompensationRule("jp", "out_of_stock", Kind.PARTIAL_REFUND, percent=D("7"), currency="JPY")]
    assert propose("out_of_stock", D("1250"), "JPY", rules) == Proposal(Kind.PARTIAL_REFUND, D("88"), "JPY", "jp")


def test_rule_for_the_category_wins_over_a_catch_all_listed_first() -> None:
    rules = [CompensationRule("any", "*", Kind.COUPON, amount=D("3")),
             CompensationRule("late", "late_shipment", Kind.GIFT, amount=D("15"))]
    assert propose("late_shipment", D("10"), "CNY", rules).rule_id == "late"  # type: ignore[union-attr]
    assert propose("other", D("10"), "CNY", rules).rule_id == "any"  # type: ignore[union-attr]


def test_first_of_overlapping_rules_wins() -> None:
    rules = [CompensationRule("a", "other", Kind.COUPON, amount=D("3")),
             CompensationRule("b", "other", Kind.COUPON, amount=D("4"))]
    assert propose("other", D("10"), "CNY", rules).rule_id == "a"  # type: ignore[union-attr]


def test_refunds_never_exceed_the_order_value() -> None:
    rules = [CompensationRule("fixed", "other", Kind.PARTIAL_REFUND, amount=D("30")),
             CompensationRule("all", "wrong_quantity", Kind.FULL_REFUND)]
    assert propose("other", D("12.5"), "CNY", rules).amount == D("12.50")  # type: ignore[union-attr]
    assert propose("other", D("99"), "CNY", rules).amount == D("30.00")  # type: ignore[union-attr]
    assert propose("wrong_quantity", D("99.9"), "CNY", rules).amount == D("99.90")  # type: ignore[union-attr]


def test_propose_refuses_negative_order_value_and_unknown_currency() -> None:
    with pytest.raises(Invalid):
        propose("out_of_stock", D("-1"), "CNY")
    with pytest.raises(Invalid):
        propose("out_of_stock", D("1"), "RMB")


@pytest.mark.parametrize("kwargs", [
    {"kind": Kind.COUPON},                                               # no amount
    {"kind": Kind.COUPON, "amount": D("5"), "percent": D("10")},
    {"kind": Kind.GIFT, "amount": D("0")},
    {"kind": Kind.PARTIAL_REFUND},                                       # neither
    {"kind": Kind.PARTIAL_REFUND, "amount": D("5"), "percent": D("10")},  # both
    {"kind": Kind.PARTIAL_REFUND, "amount": D("5"), "cap": D("3")},
    {"kind": Kind.PARTIAL_REFUND, "percent": D("0")},
    {"kind": Kind.PARTIAL_REFUND, "percent": D("101")},
    {"kind": Kind.PARTIAL_REFUND, "percent": D("10"), "cap": D("-1")},
    {"kind": Kind.FULL_REFUND, "amount": D("5")},
    {"kind": Kind.RESHIP, "percent": D("5")},
    {"kind": "voucher"},
    {"kind": Kind.RESHIP, "min_order_value": D("-1")},
    {"kind": Kind.RESHIP, "min_order_value": D("100"), "max_order_value": D("100")},
    {"kind": Kind.RESHIP, "currency": "RMB"},
    {"kind": Kind.RESHIP, "id": ""},
])
def test_broken_rule_is_refused(kwargs: dict[str, object]) -> None:
    arguments: dict[str, object] = {"id": "r", "category": "other", **kwargs}
    with pytest.raises(Invalid):
        CompensationRule(**arguments)  # type: ignore[arg-type]


def test_rule_kind_given_as_text_becomes_the_enum() -> None:
    rule = CompensationRule("r", "other", "coupon", amount=D("5"))  # type: ignore[arg-type]
    assert rule.kind is Kind.COUPON


@given(st.decimals(min_value=D("0"), max_value=D("1000000"), places=2))
def test_out_of_stock_proposal_is_positive_rounded_and_within_bounds(order_value: Decimal) -> None:
    proposal = propose("out_of_stock", order_value, "CNY")
    assert proposal is not None
    assert proposal.amount == proposal.amount.quantize(D("0.01"))
    assert D("0") < proposal.amount <= D("200")
    if proposal.kind is Kind.PARTIAL_REFUND:
        assert proposal.amount <= order_value


# --- cost to the merchant ----------------------------------------------------------------------------


def test_coupon_costs_its_face_value_by_default_and_less_with_a_redemption_rate() -> None:
    coupon = Proposal(Kind.COUPON, D("10.00"), "CNY", "oos-small")
    assert cost_of(coupon, D("80")) == D("10.00")
    assert cost_of(coupon, D("80"), costs=CompensationCosts(coupon_redemption_rate=D("0.35"))) == D("3.50")


def test_refunds_and_gifts_cost_their_amount_and_a_full_refund_the_order() -> None:
    assert cost_of(Proposal(Kind.PARTIAL_REFUND, D("12.35"), "CNY", "r"), D("123.45")) == D("12.35")
    assert cost_of(Proposal(Kind.GIFT, D("15"), "CNY", "r"), D("123.45")) == D("15.00")
    assert cost_of(Proposal(Kind.FULL_REFUND, D("123.45"), "CNY", "r"), D("123.45")) == D("123.45")


def test_reship_costs_the_goods_plus_shipping() -> None:
    reship = Proposal(Kind.RESHIP, D("0"), "CNY", "wrong-quantity")
    costs = CompensationCosts(reship_shipping=D("12"))
    assert cost_of(reship, D("80"), goods_cost=D("31.255"), costs=costs) == D("43.26")


def test_reship_cost_without_the_goods_cost_is_refused() -> None:
    with pytest.raises(Invalid) as caught:
        cost_of(Proposal(Kind.RESHIP, D("0"), "CNY", "r"), D("80"))
    assert caught.value.field == "goods_cost"


def test_cost_is_rounded_to_the_proposal_currency() -> None:
    coupon = Proposal(Kind.COUPON, D("500"), "JPY", "r")
    assert cost_of(coupon, D("3000"), costs=CompensationCosts(coupon_redemption_rate=D("0.333"))) == D("167")


@pytest.mark.parametrize("kwargs", [{"coupon_redemption_rate": D("1.1")}, {"coupon_redemption_rate": D("-0.1")},
                                    {"reship_shipping": D("-1")}])
def test_broken_cost_settings_are_refused(kwargs: dict[str, Decimal]) -> None:
    with pytest.raises(Invalid):
        CompensationCosts(**kwargs)


# --- approval ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("cost, role, needed", [
    (D("50"), "agent", False),
    (D("50.01"), "agent", True),
    (D("500"), "supervisor", False),
    (D("500.01"), "supervisor", True),
    (D("1000000"), "admin", False),
    (D("0"), "viewer", False),
    (D("0.01"), "viewer", True),   # a role without a limit may grant nothing that costs money
])
def test_approval_needed_above_the_role_limit(cost: Decimal, role: str, needed: bool) -> None:
    assert needs_approval(cost, role) is needed
    assert may_grant(cost, role) is not needed


def test_default_limits_are_agent_50_supervisor_500_admin_unlimited() -> None:
    assert dict(DEFAULT_APPROVAL_LIMITS) == {"agent": D("50"), "supervisor": D("500"), "admin": None}


def test_approvers_lists_whom_to_ask_first() -> None:
    assert approvers(D("30")) == ["agent", "supervisor", "admin"]
    assert approvers(D("120")) == ["supervisor", "admin"]
    assert approvers(D("5000")) == ["admin"]


def test_custom_limits_apply() -> None:
    limits = {"agent": D("20"), "lead": D("100"), "owner": None}
    assert needs_approval(D("30"), "agent", limits)
    assert approvers(D("30"), limits) == ["lead", "owner"]


def test_negative_cost_is_refused() -> None:
    with pytest.raises(Invalid):
        needs_approval(D("-1"), "agent")
