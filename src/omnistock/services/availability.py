"""Available stock for many SKUs at once (set-based: one query for levels, one for components)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from omnistock.domain.stock import LevelView, bundle_buildable, sku_available
from omnistock.store.tables import BundleComponent, Level, Location, Sku


def available_by_sku(session: Session, sku_ids: Iterable[int]) -> dict[int, int]:
    """Sellable available (after safety stock, never below 0) for each SKU; bundles from their components."""
    ids = set(sku_ids)
    if not ids:
        return {}
    comps: dict[int, dict[int, int]] = defaultdict(dict)
    for bid, cid, qty in session.execute(select(BundleComponent.bundle_id, BundleComponent.component_id,
                                                BundleComponent.qty).where(BundleComponent.bundle_id.in_(ids))):
        comps[bid][cid] = qty
    stocked = (ids - set(comps)) | {c for parts in comps.values() for c in parts}
    safety = dict(session.execute(select(Sku.id, Sku.safety_stock).where(Sku.id.in_(stocked | set(comps)))).all())
    views: dict[int, list[LevelView]] = defaultdict(list)
    for sid, lid, on_hand, reserved in session.execute(
            select(Level.sku_id, Level.location_id, Level.on_hand, Level.reserved)
            .join(Location, Location.id == Level.location_id)
            .where(Level.sku_id.in_(stocked), Location.sellable.is_(True))):
        views[sid].append(LevelView(lid, on_hand, reserved))
    plain = {sid: sku_available(views[sid], safety.get(sid, 0)) for sid in stocked}
    out = {sid: plain[sid] for sid in ids if sid not in comps}
    for bid, parts in comps.items():
        out[bid] = max(0, bundle_buildable(plain, parts) - safety.get(bid, 0))
    return out
