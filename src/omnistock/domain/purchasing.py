"""Purchase orders as rules: the statuses a PO goes through, how many units may still be received on a
line (the supplier's over-receipt tolerance), what counts as on order, and what a channel may sell when
pre-sale of on-order stock is on."""

from __future__ import annotations

from collections.abc import Iterable
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


def sellable_with_presale(available: int, on_order: int, enabled: bool) -> int:
    """What a channel may show: its available stock, plus the units on order when the channel sells
    on-order stock as pre-sale (预售). Off by default; a negative figure never reaches a platform."""
    shown = available + on_order if enabled else available
    return max(0, shown)
