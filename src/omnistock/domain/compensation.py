"""Standard compensation for a complaint case: which gesture a case gets, what it costs the merchant,
and who may approve it.

Money: every amount is Decimal in the currency it names and is rounded to that currency's minor unit
with ROUND_HALF_UP (2 decimals for CNY/USD/EUR, 0 for JPY/KRW; see money.py). Order-value bands are
half-open: a band [100, 500) holds 100 and 499.99, and 500 belongs to the next band.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType

from omnistock.domain.money import require_currency, round_money
from omnistock.errors import Invalid

ANY_CATEGORY = "*"


class CompensationKind(StrEnum):
    COUPON = "coupon"                  # a coupon of `amount` for the next order
    PARTIAL_REFUND = "partial_refund"  # `percent` of the order value (optionally capped) or `amount`
    FULL_REFUND = "full_refund"        # the whole order value, goods not taken back
    RESHIP = "reship"                  # the goods again, at the merchant's cost
    GIFT = "gift"                      # a gift whose cost to the merchant is `amount`


@dataclass(frozen=True)
class CompensationRule:
    """One line of the compensation table: for `category` and orders worth at least
    `min_order_value` and less than `max_order_value` (None: no upper bound), in `currency`, offer
    `kind`. Category "*" matches any category, after the rules naming it."""

    id: str
    category: str
    kind: CompensationKind
    min_order_value: Decimal = Decimal(0)
    max_order_value: Decimal | None = None
    amount: Decimal | None = None
    percent: Decimal | None = None
    cap: Decimal | None = None
    currency: str = "CNY"

    def __post_init__(self) -> None:
        if not self.id or not self.category:
            raise Invalid("a compensation rule needs an id and a category", field="id")
        try:
            object.__setattr__(self, "kind", CompensationKind(self.kind))
        except ValueError:
            raise Invalid(f"unknown compensation kind {self.kind!r}", field="kind") from None
        require_currency(self.currency)
        if self.min_order_value < 0:
            raise Invalid("the lower band limit cannot be negative", field="min_order_value")
        if self.max_order_value is not None and self.max_order_value <= self.min_order_value:
            raise Invalid("the upper band limit must be above the lower one", field="max_order_value")
        _check_amounts(self)

    def covers(self, category: str, order_value: Decimal, currency: str) -> bool:
        return (self.category in (category, ANY_CATEGORY) and self.currency == currency
                and self.min_order_value <= order_value
                and (self.max_order_value is None or order_value < self.max_order_value))

    def amount_for(self, order_value: Decimal) -> Decimal:
        """The amount offered on an order worth `order_value`, rounded; a refund never exceeds the order."""
        match self.kind:
            case CompensationKind.COUPON | CompensationKind.GIFT:
                assert self.amount is not None
                offered = self.amount
            case CompensationKind.PARTIAL_REFUND:
                offered = self._partial_refund(order_value)
            case CompensationKind.FULL_REFUND:
                offered = order_value
            case CompensationKind.RESHIP:
                offered = Decimal(0)  # no money goes to the customer; cost_of() prices the goods
        return round_money(offered, self.currency)

    def _partial_refund(self, order_value: Decimal) -> Decimal:
        if self.amount is not None:
            return min(self.amount, order_value)
        assert self.percent is not None
        refund = order_value * self.percent / 100
        if self.cap is not None:
            refund = min(refund, self.cap)
        return refund


def _check_amounts(rule: CompensationRule) -> None:
    fixed_kinds = (CompensationKind.COUPON, CompensationKind.GIFT)
    if rule.kind in fixed_kinds and (rule.amount is None or rule.percent is not None or rule.cap is not None):
        raise Invalid(f"a {rule.kind} rule takes an amount (and no percent or cap)", field="amount")
    if rule.kind is CompensationKind.PARTIAL_REFUND:
        if (rule.amount is None) == (rule.percent is None):
            raise Invalid("a partial refund takes either a percent or an amount", field="percent")
        if rule.cap is not None and rule.percent is None:
            raise Invalid("only a percentage refund can be capped", field="cap")
        if rule.percent is not None and not 0 < rule.percent <= 100:
            raise Invalid(f"percent must be above 0 and at most 100, got {rule.percent}", field="percent")
    if rule.kind in (CompensationKind.FULL_REFUND, CompensationKind.RESHIP) and (
            rule.amount is not None or rule.percent is not None or rule.cap is not None):
        raise Invalid(f"a {rule.kind} rule takes no amount, percent or cap", field="amount")
    for name in ("amount", "cap"):
        value = getattr(rule, name)
        if value is not None and value <= 0:
            raise Invalid(f"{name} must be positive, got {value}", field=name)


# The standard table, in CNY. A merchant in another currency, or with other habits, sets their own.
DEFAULT_RULES: tuple[CompensationRule, ...] = (
    CompensationRule("oos-small", "out_of_stock", CompensationKind.COUPON,
                     max_order_value=Decimal(100), amount=Decimal(10)),
    CompensationRule("oos-medium", "out_of_stock", CompensationKind.PARTIAL_REFUND,
                     min_order_value=Decimal(100), max_order_value=Decimal(500), percent=Decimal(10)),
    CompensationRule("oos-large", "out_of_stock", CompensationKind.PARTIAL_REFUND,
                     min_order_value=Decimal(500), percent=Decimal(15), cap=Decimal(200)),
    CompensationRule("late-small", "late_shipment", CompensationKind.COUPON,
                     max_order_value=Decimal(200), amount=Decimal(5)),
    CompensationRule("late-large", "late_shipment", CompensationKind.COUPON,
                     min_order_value=Decimal(200), amount=Decimal(20)),
    CompensationRule("wrong-quantity", "wrong_quantity", CompensationKind.RESHIP),
)


@dataclass(frozen=True)
class Proposal:
    """The standard compensation for one case: `amount` is what the customer gets, in `currency`."""

    kind: CompensationKind
    amount: Decimal
    currency: str
    rule_id: str


def propose(category: str, order_value: Decimal, currency: str,
            rules: Sequence[CompensationRule] = DEFAULT_RULES) -> Proposal | None:
    """The standard compensation for a case of `category` on an order worth `order_value`.

    Rules naming the category come before "*" rules; among those, the first in `rules` order wins.
    Only rules in the order's currency apply. None when no rule covers the case: the agent decides."""
    require_currency(currency)
    if order_value < 0:
        raise Invalid(f"order value cannot be negative, got {order_value}", field="order_value")
    covering = [rule for rule in rules if rule.covers(category, order_value, currency)]
    covering.sort(key=lambda rule: rule.category == ANY_CATEGORY)  # stable: keeps table order
    if not covering:
        return None
    rule = covering[0]
    return Proposal(rule.kind, rule.amount_for(order_value), currency, rule.id)


@dataclass(frozen=True)
class CompensationCosts:
    """Merchant settings that price a compensation.

    `coupon_redemption_rate`: the share of coupons customers actually use; 1 (the default) books
    every coupon at face value, the prudent figure until the merchant knows their own rate.
    `reship_shipping`: what sending a parcel again costs, in the proposal's currency."""

    coupon_redemption_rate: Decimal = Decimal(1)
    reship_shipping: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        if not 0 <= self.coupon_redemption_rate <= 1:
            raise Invalid("the coupon redemption rate is between 0 and 1", field="coupon_redemption_rate")
        if self.reship_shipping < 0:
            raise Invalid("shipping cannot cost less than nothing", field="reship_shipping")


def cost_of(proposal: Proposal, order_value: Decimal, goods_cost: Decimal | None = None,
            *, costs: CompensationCosts = CompensationCosts()) -> Decimal:
    """What `proposal` costs the merchant, in the proposal's currency, rounded.

    coupon: face value × redemption rate; partial refund and gift: the amount; full refund: the order
    value (goods not taken back); reship: `goods_cost` (the cost of goods sent again, required) plus
    the shipping setting."""
    match proposal.kind:
        case CompensationKind.COUPON:
            cost = proposal.amount * costs.coupon_redemption_rate
        case CompensationKind.PARTIAL_REFUND | CompensationKind.GIFT:
            cost = proposal.amount
        case CompensationKind.FULL_REFUND:
            cost = order_value
        case CompensationKind.RESHIP:
            if goods_cost is None:
                raise Invalid("the cost of a reship needs the cost of the goods sent", field="goods_cost")
            cost = goods_cost + costs.reship_shipping
    return round_money(cost, proposal.currency)


# --- approval -----------------------------------------------------------------------------------

# Highest cost, in the base currency, each role may grant on their own; None means no limit.
# A role missing here may grant nothing that costs money.
DEFAULT_APPROVAL_LIMITS: Mapping[str, Decimal | None] = MappingProxyType({
    "agent": Decimal(50),
    "supervisor": Decimal(500),
    "admin": None,
})


def may_grant(cost: Decimal, role: str,
              limits: Mapping[str, Decimal | None] = DEFAULT_APPROVAL_LIMITS) -> bool:
    """True when `role` may grant (or approve) a compensation costing `cost` in the base currency.
    The limit itself is allowed: an agent may grant exactly 50."""
    if cost < 0:
        raise Invalid(f"a cost cannot be negative, got {cost}", field="cost")
    limit = limits.get(role, Decimal(0))
    return limit is None or cost <= limit


def needs_approval(cost: Decimal, role: str,
                   limits: Mapping[str, Decimal | None] = DEFAULT_APPROVAL_LIMITS) -> bool:
    """True when a compensation costing `cost` (base currency) proposed by `role` needs someone
    with a higher limit to approve it."""
    return not may_grant(cost, role, limits)


def approvers(cost: Decimal, limits: Mapping[str, Decimal | None] = DEFAULT_APPROVAL_LIMITS) -> list[str]:
    """Roles that may approve `cost`, the lowest sufficient limit first and unlimited roles last:
    the first is whom to ask."""
    allowed = [role for role in limits if may_grant(cost, role, limits)]
    return sorted(allowed, key=lambda role: (limits[role] is None, limits[role] or 0))
