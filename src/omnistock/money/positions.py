"""What is on order and what a unit costs now, per SKU: the figures shown beside on hand."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from omnistock.domain.costing import UNIT_COST_PLACES, CostState
from omnistock.domain.money import round_to_places
from omnistock.domain.purchasing import OPEN
from omnistock.domain.stock import bundle_buildable
from omnistock.money.currency import Books
from omnistock.money.tables import PurchaseOrder, PurchaseOrderLine, SkuCost
from omnistock.money.views import amount_text
from omnistock.store.tables import Location, Sku


def on_order(session: Session, sku_ids: Sequence[int]) -> dict[int, dict[str | None, int]]:
    """Units ordered and not yet received on open POs, per SKU and expected location (None: not given)."""
    out: dict[int, dict[str | None, int]] = defaultdict(dict)
    if not sku_ids:
        return out
    stmt = (select(PurchaseOrderLine.sku_id, Location.code,
                   func.sum(PurchaseOrderLine.qty - PurchaseOrderLine.received))
            .join(PurchaseOrder, PurchaseOrder.id == PurchaseOrderLine.po_id)
            .outerjoin(Location, Location.id == PurchaseOrder.location_id)
            .where(PurchaseOrderLine.sku_id.in_(sorted(set(sku_ids))),
                   PurchaseOrder.status.in_([s.value for s in OPEN]),
                   PurchaseOrderLine.qty > PurchaseOrderLine.received)
            .group_by(PurchaseOrderLine.sku_id, Location.code))
    for sku_id, location, qty in session.execute(stmt):
        out[sku_id][location] = int(qty)
    return out


def unit_costs(session: Session, sku_ids: Sequence[int]) -> dict[int, tuple[Decimal, str]]:
    """The current average unit cost (and its currency) of the SKUs that have a cost position."""
    rows = session.scalars(select(SkuCost).where(SkuCost.sku_id.in_(sorted(set(sku_ids))))).all()
    return {r.sku_id: (round_to_places(CostState(r.on_hand, r.value, r.currency, r.last_unit_cost).unit_cost,
                                       UNIT_COST_PLACES), r.currency) for r in rows}


def sku_money_fields(session: Session, sku: Sku) -> dict[str, Any]:
    """`on_order` (total and per location) and `unit_cost` for a SKU's view; a bundle's are what its
    components make."""
    comps = {c.component_id: c.qty for c in sku.components} if sku.is_bundle else {sku.id: 1}
    ordered = on_order(session, list(comps))
    costs = unit_costs(session, list(comps))
    if sku.is_bundle:
        total = bundle_buildable({cid: sum(ordered.get(cid, {}).values()) for cid in comps}, comps)
        by_location: dict[str | None, int] = {}
    else:
        by_location = ordered.get(sku.id, {})
        total = sum(by_location.values())
    cost: Decimal | None = None
    currency = Books.of().base
    if comps and all(cid in costs for cid in comps):
        cost = sum((costs[cid][0] * qty for cid, qty in comps.items()), Decimal(0))
        currency = next(iter(costs.values()))[1]
    return {"on_order": total,
            "on_order_locations": [{"location": loc, "on_order": qty}
                                   for loc, qty in sorted(by_location.items(), key=lambda kv: kv[0] or "")],
            "unit_cost": amount_text(cost), "cost_currency": currency}
