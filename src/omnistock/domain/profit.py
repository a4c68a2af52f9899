"""Channel profit as arithmetic: the lines of a profit report and how they add up.

    margin = revenue − platform fees − cost of goods sold − compensation

All amounts are in the base currency, each rounded to its minor unit where it arises (a line's revenue, its
fee, a compensation), so that the rows of a report add up to its total exactly. `oversell_cost` is the
part of compensation paid on oversold orders: shown on its own line, already inside `compensation`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal

from omnistock.domain.money import round_money, round_to_places
from omnistock.errors import Invalid

ZERO = Decimal(0)


@dataclass(frozen=True)
class ProfitLine:
    revenue: Decimal = ZERO
    fees: Decimal = ZERO
    cogs: Decimal = ZERO
    compensation: Decimal = ZERO
    oversell_cost: Decimal = ZERO
    oversell_lost_revenue: Decimal = ZERO  # revenue of oversold orders that were cancelled; not in the margin
    oversold_orders: int = 0

    @property
    def margin(self) -> Decimal:
        return self.revenue - self.fees - self.cogs - self.compensation

    @property
    def margin_percent(self) -> Decimal | None:
        """Margin as a percentage of revenue, 2 decimals; None without revenue."""
        if self.revenue == 0:
            return None
        return round_to_places(self.margin * 100 / self.revenue, 2)

    def __add__(self, other: ProfitLine) -> ProfitLine:
        return ProfitLine(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})


def platform_fee(revenue: Decimal, fee_percent: Decimal, currency: str) -> Decimal:
    """The platform's commission on `revenue` (negative for a refund), rounded half up to the minor unit."""
    check_fee_percent(fee_percent)
    return round_money(revenue * fee_percent / 100, currency)


def check_fee_percent(fee_percent: Decimal) -> Decimal:
    if not fee_percent.is_finite() or not 0 <= fee_percent <= 100:
        raise Invalid("fee_percent must be between 0 and 100", field="fee_percent")
    return fee_percent
