"""Ledger arithmetic: move kinds and their signs, availability, bundle math, where a reservation is taken."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from omnistock.errors import Invalid


class MoveKind(StrEnum):
    RECEIPT = "receipt"
    SALE = "sale"
    RETURN = "return"
    TRANSFER = "transfer"
    ADJUSTMENT = "adjustment"
    COUNT = "count"


# Kinds a person (or an API client acting for one) may post directly; sales come only from shipping orders.
MANUAL_KINDS = frozenset({MoveKind.RECEIPT, MoveKind.ADJUSTMENT, MoveKind.COUNT, MoveKind.TRANSFER,
                          MoveKind.RETURN})


@dataclass(frozen=True)
class LevelView:
    location_id: int
    on_hand: int
    reserved: int
    sellable: bool = True

    @property
    def free(self) -> int:
        """Units that can still be reserved here."""
        return max(0, self.on_hand - self.reserved) if self.sellable else 0


def check_quantity(kind: MoveKind, qty: object) -> int:
    """The quantity rule per kind: counts may be 0, adjustments are signed and non-zero, the rest positive."""
    if isinstance(qty, bool) or not isinstance(qty, int):
        raise Invalid("qty must be a whole number", field="qty")
    if kind is MoveKind.COUNT:
        if qty < 0:
            raise Invalid("a count cannot be negative", field="qty")
    elif kind is MoveKind.ADJUSTMENT:
        if qty == 0:
            raise Invalid("an adjustment of 0 changes nothing", field="qty")
    elif qty <= 0:
        raise Invalid(f"qty must be greater than 0 for a {kind.value}", field="qty")
    return qty


def on_hand_delta(kind: MoveKind, qty: int, on_hand: int) -> int:
    """How much a move changes on hand at its location. A count writes the difference to what was there."""
    if kind is MoveKind.COUNT:
        return qty - on_hand
    if kind is MoveKind.SALE:
        return -qty
    return qty


def sku_available(levels: Iterable[LevelView], safety_stock: int) -> int:
    """Sellable on hand − reserved − safety stock, never below 0."""
    sellable = sum(lv.on_hand - lv.reserved for lv in levels if lv.sellable)
    return max(0, sellable - safety_stock)


def bundle_buildable(component_figures: Mapping[int, int], components: Mapping[int, int]) -> int:
    """How many bundles the component figures make: the minimum over components of figure // qty."""
    if not components:
        return 0
    return max(0, min(component_figures.get(cid, 0) // qty for cid, qty in components.items()))


def plan_reservation(wanted: int, levels: Sequence[LevelView]) -> list[tuple[int, int]] | None:
    """Where to take `wanted` units from: the locations with the most free units first (fewest split
    shipments), ties by location id so the plan is deterministic. None when they cannot cover it."""
    if wanted <= 0:
        return []
    plan: list[tuple[int, int]] = []
    remaining = wanted
    for lv in sorted(levels, key=lambda x: (-x.free, x.location_id)):
        if remaining == 0:
            break
        take = min(lv.free, remaining)
        if take > 0:
            plan.append((lv.location_id, take))
            remaining -= take
    return plan if remaining == 0 else None


@dataclass(frozen=True)
class Take:
    """Units of one stocked SKU reserved at one location for one order line."""

    line: int  # the line's position in the order
    sku_id: int
    location_id: int
    qty: int


@dataclass(frozen=True)
class OrderPlan:
    """Where every unit of an order comes from, or what it lacks: `takes` when it can be reserved in full,
    else `short` as (sku_id, wanted, reservable), in sku_id order, and no takes at all (never a part)."""

    takes: tuple[Take, ...] = ()
    short: tuple[tuple[int, int, int], ...] = ()

    @property
    def reserved(self) -> bool:
        return not self.short


def plan_order(lines: Sequence[Mapping[int, int]], levels: Mapping[int, Sequence[LevelView]]) -> OrderPlan:
    """Reserve an order all or nothing: `lines` are the units per stocked SKU each line needs (`expand_line`),
    `levels` the levels the order may take from, per SKU. Lines are served in order, each from the locations
    with the most free units first (`plan_reservation`), the levels counting what earlier lines took."""
    needs: dict[int, int] = {}
    for units in lines:
        for sid, q in units.items():
            needs[sid] = needs.get(sid, 0) + q
    short = []
    for sid, wanted in sorted(needs.items()):
        free = sum(v.free for v in levels.get(sid, ()))
        if free < wanted:
            short.append((sid, wanted, free))
    if short:
        return OrderPlan(short=tuple(short))
    views = {sid: list(levels.get(sid, ())) for sid in needs}
    takes = []
    for n, units in enumerate(lines):
        for sid, q in sorted(units.items()):
            plan = plan_reservation(q, views[sid])
            assert plan is not None  # the totals were checked above
            taken = dict(plan)
            takes += [Take(n, sid, lid, take) for lid, take in plan]
            views[sid] = [LevelView(v.location_id, v.on_hand, v.reserved + taken.get(v.location_id, 0), v.sellable)
                          for v in views[sid]]
    return OrderPlan(takes=tuple(takes))


def expand_line(sku_id: int, qty: int, components: Mapping[int, int]) -> dict[int, int]:
    """Units per stocked SKU that one order line needs: a bundle needs its components × qty."""
    if components:
        return {cid: per * qty for cid, per in components.items()}
    return {sku_id: qty}
