"""Moving-average cost of a SKU's stock in the base currency, and conversion between currencies.

Every operation returns the new `CostState` and the amount it moves between stock value and the
profit and loss, so that by construction, for any sequence of operations,

    value == Σ receipt values − Σ issue COGS − Σ receipt corrections
             + Σ customer returns − Σ supplier returns

with nothing lost to rounding: the running value is kept exact; an amount taken for part of the
units at their average cost is rounded to the minor unit (ROUND_HALF_UP, see money.py), while taking
all the units of a position takes its whole value, so the last unit carries the rounding residue.

Rules for the unusual cases:

* Oversell. An issue may take more than is on hand (platforms sell from their own copy). The units
  on hand leave with their whole value; the missing units are costed at the current average cost
  (or, with nothing on hand, at `last_unit_cost`, the average when stock last ran out), and the
  state keeps the negative quantity with a negative value: a hole worth what was booked for it.
* Receipt into a hole. The received units first fill the hole. Those units were booked as COGS at
  the old cost when sold; their real cost is the receipt cost, and the difference is returned as a
  COGS correction (positive when goods came in dearer) for the caller to record as cost of goods
  sold. The rest of the receipt goes into stock at the receipt cost, so the hole never distorts the
  average cost of the goods on hand.
* Customer return. Goods come back at the current average cost (into a hole: at the cost booked
  for it); the returned amount is COGS to reverse.
* Supplier return. Goods leave at the current average cost, never more than is on hand; the
  difference between the supplier's credit and the returned amount is the caller's price variance.

The state always satisfies: no units means no value; a positive quantity has a value >= 0 and a
negative quantity a value <= 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal, localcontext
from types import MappingProxyType

from omnistock.domain.money import is_currency, require_currency, round_money, round_to_places
from omnistock.errors import Conflict, Invalid

__all__ = [
    "UNIT_COST_PLACES", "CostState", "DayRates", "convert", "is_currency", "issue", "receive",
    "return_to_stock", "return_to_supplier",
]

# Decimals kept for a unit cost that had to be computed (an average); the store's column scale.
UNIT_COST_PLACES = 6

# Working precision for value arithmetic: sums and products of realistic amounts stay exact with
# room to spare (28 digits, Decimal's default, is not enough for a 6-decimal cost times a long qty).
_PRECISION = 60


@dataclass(frozen=True)
class CostState:
    """The stock of one SKU and what it is worth, in `currency` (the base currency)."""

    on_hand: int
    value: Decimal
    currency: str = "CNY"
    # The unit cost the last time stock was not zero; costs oversold units and returns when
    # nothing is on hand. Only read while on_hand == 0.
    last_unit_cost: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        require_currency(self.currency)
        if self.on_hand == 0 and self.value != 0:
            raise Invalid(f"no stock cannot be worth {self.value}", field="value")
        if self.on_hand > 0 and self.value < 0 or self.on_hand < 0 and self.value > 0:
            raise Invalid(f"{self.on_hand} units cannot be worth {self.value}", field="value")
        if self.last_unit_cost < 0:
            raise Invalid("a unit cost cannot be negative", field="last_unit_cost")

    @classmethod
    def empty(cls, currency: str = "CNY") -> CostState:
        return cls(0, Decimal(0), currency)

    @property
    def unit_cost(self) -> Decimal:
        """Average cost of one unit (unrounded); with nothing on hand, the last known one."""
        if self.on_hand == 0:
            return self.last_unit_cost
        with localcontext() as ctx:
            ctx.prec = _PRECISION
            return self.value / self.on_hand


def receive(state: CostState, qty: int, unit_cost: Decimal) -> tuple[CostState, Decimal]:
    """Add `qty` units bought at `unit_cost` (base currency); returns the new state and the COGS
    correction for units that filled an oversold hole (zero when nothing was oversold)."""
    _require_qty(qty)
    _require_cost(unit_cost)
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        receipt_value = qty * unit_cost
        correction = Decimal(0)
        if state.on_hand < 0:
            filled = min(qty, -state.on_hand)
            booked = -_share(state, filled)
            correction = filled * unit_cost - booked
        on_hand = state.on_hand + qty
        last = round_to_places(unit_cost, UNIT_COST_PLACES) if on_hand == 0 else state.last_unit_cost
        new = replace(state, on_hand=on_hand, value=state.value + receipt_value - correction,
                      last_unit_cost=last)
    return new, correction


def issue(state: CostState, qty: int) -> tuple[CostState, Decimal]:
    """Take `qty` units out for a sale or shipment; returns the new state and the cost of goods sold.

    Issuing more than is on hand is allowed (an oversell) and leaves a negative position."""
    _require_qty(qty)
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        if state.on_hand > 0:
            from_stock = min(qty, state.on_hand)
            cogs = _share(state, from_stock) + _cost_at_average(state, qty - from_stock)
        else:
            cogs = _cost_at_average(state, qty)
        return _moved(state, -qty, -cogs), cogs


def return_to_stock(state: CostState, qty: int) -> tuple[CostState, Decimal]:
    """Put `qty` units returned by customers back into stock at the current average cost; returns the
    new state and the value added, which is COGS to reverse."""
    _require_qty(qty)
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        if state.on_hand < 0:
            filled = min(qty, -state.on_hand)
            credit = -_share(state, filled) + _cost_at_average(state, qty - filled)
        else:
            credit = _cost_at_average(state, qty)
        return _moved(state, qty, credit), credit


def return_to_supplier(state: CostState, qty: int) -> tuple[CostState, Decimal]:
    """Send `qty` units back to the supplier at the current average cost; returns the new state and
    the stock value removed. Only goods on hand can go back."""
    _require_qty(qty)
    if qty > state.on_hand:
        raise Conflict(f"cannot return {qty} units to the supplier: {max(state.on_hand, 0)} on hand")
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        removed = _share(state, qty)
        return _moved(state, -qty, -removed), removed


def _share(state: CostState, qty: int) -> Decimal:
    """Value of `qty` of the units in the current position (0 < qty <= |on_hand|), signed like the
    position; all the units take the whole value, so that nothing is left behind by rounding."""
    if qty == 0:
        return Decimal(0)
    if qty == abs(state.on_hand):
        return state.value
    share = round_money(state.value * qty / abs(state.on_hand), state.currency)
    # Sub-cent values (a 0.0006 screw) can round above the whole: then the part takes it all.
    return state.value if abs(share) > abs(state.value) else share


def _cost_at_average(state: CostState, qty: int) -> Decimal:
    """What `qty` units cost at the position's average unit cost, rounded; always >= 0."""
    if qty == 0:
        return Decimal(0)
    if state.on_hand == 0:
        return round_money(qty * state.last_unit_cost, state.currency)
    return round_money(state.value * qty / state.on_hand, state.currency)


def _moved(state: CostState, qty: int, value: Decimal) -> CostState:
    on_hand = state.on_hand + qty
    last = state.last_unit_cost
    if on_hand == 0 and state.on_hand != 0:
        # Remember what a unit cost while there were units, to cost the next oversell or return.
        last = round_to_places(state.unit_cost, UNIT_COST_PLACES)
    return replace(state, on_hand=on_hand, value=state.value + value, last_unit_cost=last)


def _require_qty(qty: int) -> None:
    if isinstance(qty, bool) or not isinstance(qty, int) or qty <= 0:
        raise Invalid(f"quantity must be a positive whole number, got {qty!r}", field="qty")


def _require_cost(unit_cost: Decimal) -> None:
    if not isinstance(unit_cost, Decimal) or not unit_cost.is_finite():
        raise Invalid(f"unit cost must be a Decimal amount, got {unit_cost!r}", field="unit_cost")
    if unit_cost < 0:
        raise Invalid(f"unit cost cannot be negative, got {unit_cost}", field="unit_cost")


# --- currencies ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayRates:
    """The exchange rates of one day: `rates[code]` is how many units of `base` one unit of `code`
    buys (e.g. base CNY, rates {"USD": Decimal("7.1")}). The base itself is always 1."""

    day: date
    base: str
    rates: Mapping[str, Decimal] = field(default_factory=dict)

    def __post_init__(self) -> None:
        require_currency(self.base, field="base")
        for code, rate in self.rates.items():
            require_currency(code, field="rates")
            if not isinstance(rate, Decimal) or not rate.is_finite() or rate <= 0:
                raise Invalid(f"the rate of {code} must be a positive Decimal, got {rate!r}", field="rates")
            if code == self.base and rate != 1:
                raise Invalid(f"the base currency {code} has the rate 1, got {rate}", field="rates")
        object.__setattr__(self, "rates", MappingProxyType(dict(self.rates)))

    def rate(self, currency: str) -> Decimal:
        """Units of the base currency per unit of `currency`."""
        if currency == self.base:
            return Decimal(1)
        try:
            return self.rates[currency]
        except KeyError:
            raise Invalid(f"no exchange rate for {currency} on {self.day.isoformat()}",
                          field="currency") from None


def convert(amount: Decimal, from_currency: str, to_currency: str, rates_for_day: DayRates,
            *, places: int | None = None) -> Decimal:
    """`amount` in `from_currency` expressed in `to_currency` at the day's rates, rounded half up to
    the minor unit of `to_currency`, or to `places` decimals (e.g. UNIT_COST_PLACES for a unit cost).

    Neither currency has to be the base: the amount is converted through it."""
    require_currency(from_currency, field="from_currency")
    require_currency(to_currency, field="to_currency")
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise Invalid(f"amount must be a Decimal, got {amount!r}", field="amount")
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        if from_currency == to_currency:
            converted = amount
        else:
            converted = amount * rates_for_day.rate(from_currency) / rates_for_day.rate(to_currency)
        if places is None:
            return round_money(converted, to_currency)
        return round_to_places(converted, places)
