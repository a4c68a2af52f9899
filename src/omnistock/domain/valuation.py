"""What each kind of stock change does to a SKU's moving-average cost (costing.py), and where the money
goes: stock value, cost of goods sold, or a stock loss/gain. Every change keeps

    stock value == Σ received − Σ COGS − Σ loss − Σ sent back to suppliers

(see CostEffect) exactly, because each amount is the one costing.py moved.

Rules: purchases come in at their own cost (converted to the base currency); any other receipt, found
stock and a customer return outside an order come in at the current average; shipments leave at the
average as COGS and an order's return reverses COGS at the current average; write-offs leave at the
average as a stock loss; goods returned to a supplier leave at the average.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, localcontext
from enum import StrEnum

from omnistock.domain.costing import (
    UNIT_COST_PLACES,
    CostState,
    issue,
    receive,
    return_to_stock,
    return_to_supplier,
)
from omnistock.domain.money import round_to_places


class CostEvent(StrEnum):
    PURCHASE = "purchase"                # a receipt against a PO, at the PO's unit cost
    RECEIPT = "receipt"                  # any other receipt, at the current average
    FOUND = "found"                      # an adjustment or count that found units
    WRITE_OFF = "write_off"              # an adjustment or count that lost units
    SALE = "sale"                        # an order shipped: COGS
    ORDER_RETURN = "order_return"        # a shipped order came back: COGS reversed
    SUPPLIER_RETURN = "supplier_return"  # goods sent back to the supplier


@dataclass(frozen=True)
class CostEffect:
    """Where one change moved money, signed, in the base currency: `received` is goods that came in at
    a cost (qty × unit cost); `cogs` is cost of goods sold booked (+) or reversed (−), including the
    correction when a receipt fills an oversold hole; `loss` is a write-off (+) or a find (−);
    `to_supplier` is the stock value of goods sent back to a supplier."""

    received: Decimal = Decimal(0)
    cogs: Decimal = Decimal(0)
    loss: Decimal = Decimal(0)
    to_supplier: Decimal = Decimal(0)

    @property
    def stock_value(self) -> Decimal:
        """The change of the SKU's stock value."""
        return self.received - self.cogs - self.loss - self.to_supplier


def average_cost(state: CostState) -> Decimal:
    """The current unit cost, rounded to the unit-cost places, for goods that come in at average."""
    return round_to_places(state.unit_cost, UNIT_COST_PLACES)


def apply(state: CostState, event: CostEvent, qty: int, unit_cost: Decimal | None = None
          ) -> tuple[CostState, CostEffect]:
    """Apply one change of `qty` units (> 0); `unit_cost` (base currency) is only for a purchase."""
    match event:
        case CostEvent.PURCHASE | CostEvent.RECEIPT:
            if event is CostEvent.PURCHASE and unit_cost is None:
                raise ValueError("a purchase needs its unit cost")
            cost = unit_cost if event is CostEvent.PURCHASE and unit_cost is not None else average_cost(state)
            new, correction = receive(state, qty, cost)
            return new, CostEffect(received=_times(qty, cost), cogs=correction)
        case CostEvent.FOUND:
            cost = average_cost(state)
            new, correction = receive(state, qty, cost)
            return new, CostEffect(cogs=correction, loss=-_times(qty, cost))
        case CostEvent.SALE:
            new, cogs = issue(state, qty)
            return new, CostEffect(cogs=cogs)
        case CostEvent.WRITE_OFF:
            new, lost = issue(state, qty)
            return new, CostEffect(loss=lost)
        case CostEvent.ORDER_RETURN:
            new, credit = return_to_stock(state, qty)
            return new, CostEffect(cogs=-credit)
        case CostEvent.SUPPLIER_RETURN:
            new, removed = return_to_supplier(state, qty)
            return new, CostEffect(to_supplier=removed)
    raise ValueError(f"unknown cost event {event!r}")


def _times(qty: int, cost: Decimal) -> Decimal:
    # The same working precision as costing.py, so that the amounts add up to its value exactly.
    with localcontext() as ctx:
        ctx.prec = 60
        return qty * cost
