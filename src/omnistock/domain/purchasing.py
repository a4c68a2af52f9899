"""Purchase orders as rules: the statuses a PO goes through, how many units may still be received on a
line (the supplier's over-receipt tolerance), what counts as on order, and what pre-sale of on-order stock
may still promise."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from enum import StrEnum


class PoStatus(StrEnum):
    DRAFT = "draft"
    ORDERED = "ordered"
    PARTIALLY_RECEIVED = "partially_received"
    RECEIVED = "received"
    CANCELLED = "cancelled"


# A draft is only a plan and a cancelled or fully received PO expects nothing more: neither is on order.
OPEN = frozenset({PoStatus.ORDERED, PoStatus.PARTIALLY_RECEIVED})

TRANSITIONS: dict[PoStatus, frozenset[PoStatus]] = {
    PoStatus.DRAFT: frozenset({PoStatus.ORDERED, PoStatus.CANCELLED}),
    PoStatus.ORDERED: frozenset({PoStatus.PARTIALLY_RECEIVED, PoStatus.RECEIVED, PoStatus.CANCELLED}),
    PoStatus.PARTIALLY_RECEIVED: frozenset({PoStatus.PARTIALLY_RECEIVED, PoStatus.RECEIVED,
                                            PoStatus.CANCELLED}),
    PoStatus.RECEIVED: frozenset(),
    PoStatus.CANCELLED: frozenset(),
}


def can_become(current: PoStatus, target: PoStatus) -> bool:
    return target in TRANSITIONS[current]


def receivable_total(ordered: int, tolerance_percent: Decimal) -> int:
    """The most units a line ordered `ordered` may receive in all: ordered plus the supplier's
    tolerance, rounded down (a 5 % tolerance on 10 units allows 10, on 20 units allows 21)."""
    extra = (Decimal(ordered) * tolerance_percent / 100).to_integral_value(rounding=ROUND_FLOOR)
    return ordered + max(0, int(extra))


def still_receivable(ordered: int, received: int, tolerance_percent: Decimal) -> int:
    """How many more units the line may receive now."""
    return max(0, receivable_total(ordered, tolerance_percent) - received)


def outstanding(ordered: int, received: int) -> int:
    """Units ordered and not yet received; an over-receipt leaves nothing outstanding, never less."""
    return max(0, ordered - received)


def on_order(status: PoStatus, ordered: int, received: int) -> int:
    """What a line adds to the SKU's on-order figure."""
    return outstanding(ordered, received) if status in OPEN else 0


def status_after_receipt(lines: Iterable[tuple[int, int]]) -> PoStatus:
    """The status of an ordered PO once some goods came in: received when every (ordered, received)
    line has all its units, otherwise partially received."""
    if all(received >= ordered for ordered, received in lines):
        return PoStatus.RECEIVED
    return PoStatus.PARTIALLY_RECEIVED


@dataclass(frozen=True)
class IncomingPool:
    """What pre-sale channels may still sell of one stocked SKU's on-order units: `units` nobody has claimed
    yet, and `overdrawn`, units pre-sale orders claimed beyond what is on order. Overdrawn units can only come
    out of the stock on hand, so every channel is shown that much less (no unit is promised twice)."""

    units: int
    overdrawn: int


def incoming_pool(on_order: int, claimed: int) -> IncomingPool:
    """The pool left once pre-sale orders waiting for goods (`claimed` units) take theirs, oldest first."""
    left = max(0, on_order) - max(0, claimed)
    return IncomingPool(left, 0) if left >= 0 else IncomingPool(0, -left)


def presale_covers(need: Mapping[int, int], available: Mapping[int, int], on_order: Mapping[int, int],
                   claimed: Mapping[int, int]) -> bool:
    """Whether a pre-sale order needing `need` units per stocked SKU can be promised: for every SKU, what it
    needs is at most what is available plus what is on order, less what earlier pre-sale orders claimed.
    Then stock on hand and on order together cover every promise made."""
    return all(qty <= available.get(sid, 0) + on_order.get(sid, 0) - claimed.get(sid, 0)
               for sid, qty in need.items())


def bundle_overdrawn(overdrawn: Mapping[int, int], components: Mapping[int, int]) -> int:
    """Bundles fewer to show when components are overdrawn: at most one bundle per `qty` overdrawn units of
    any component, rounded up (never fewer than the bundles those units could have built)."""
    return max((-(-overdrawn.get(cid, 0) // qty) for cid, qty in components.items()), default=0)
