"""Reorder suggestions: from the recent sales rate, the supplier's lead time, safety stock and what is
already on order, how many units to order now and the day the stock runs out.

The rule (an order-up-to policy with a reorder point):

    daily rate     = units sold in the window / window days
    position       = free stock (on hand − reserved) + on order
    reorder point  = daily rate × lead time + safety stock
    target         = daily rate × (lead time + cover days) + safety stock
    order now      = ⌈target − position⌉ when position ≤ reorder point, else 0
    runs out on    = today + ⌊free stock / daily rate⌋ days (none while nothing sells)

Cover days are how long one delivery should last once it arrives (the review period).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from omnistock.errors import Invalid


@dataclass(frozen=True)
class StockPicture:
    """What is known about one SKU when suggesting."""

    sku: str
    sold: int            # units sold (sale moves) in the window
    free: int            # on hand − reserved, all locations
    on_order: int
    safety_stock: int
    lead_time_days: int


@dataclass(frozen=True)
class Policy:
    window_days: int = 28
    cover_days: int = 14

    def __post_init__(self) -> None:
        if self.window_days <= 0:
            raise Invalid("the sales window must be at least one day", field="window_days")
        if self.cover_days < 0:
            raise Invalid("cover days cannot be negative", field="cover_days")


@dataclass(frozen=True)
class Suggestion:
    sku: str
    daily_rate: Decimal
    position: int
    reorder_point: Decimal
    target: Decimal
    order_qty: int
    runs_out: date | None


def suggest(picture: StockPicture, policy: Policy, today: date) -> Suggestion:
    if picture.lead_time_days < 0:
        raise Invalid("lead time cannot be negative", field="lead_time_days")
    rate = Decimal(picture.sold) / policy.window_days
    position = picture.free + picture.on_order
    reorder_point = rate * picture.lead_time_days + picture.safety_stock
    target = rate * (picture.lead_time_days + policy.cover_days) + picture.safety_stock
    qty = 0
    if position <= reorder_point and target > position:
        qty = int((target - position).to_integral_value(rounding=ROUND_CEILING))
    return Suggestion(picture.sku, rate, position, reorder_point, target, qty, runs_out(picture.free, rate, today))


def runs_out(free: int, daily_rate: Decimal, today: date) -> date | None:
    """The first day with no free stock left at this rate; today when there is none already."""
    if free <= 0:
        return today
    if daily_rate <= 0:
        return None
    days = int((Decimal(free) / daily_rate).to_integral_value(rounding=ROUND_FLOOR))
    return today + timedelta(days=days)
