"""Writing a checked catalogue plan set-based: SKUs, bundle components and their audit entries go in as a few
multi-row statements instead of one round trip per SKU, keeping the rules and the audit trail of
`services.catalogue.create_sku` / `update_sku` (action, entity and before/after shapes are the same)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from omnistock.onboarding.bulk import chunks, insert_rows
from omnistock.onboarding.catalogue_check import SkuPlan
from omnistock.store.tables import AuditEntry, BundleComponent, Sku
from omnistock.store.types import utcnow
from omnistock.sync.dirty import mark_skus

SKUS = cast(Table, Sku.__table__)
COMPONENTS = cast(Table, BundleComponent.__table__)
AUDIT = cast(Table, AuditEntry.__table__)
def apply_catalogue(session: Session, plans: Sequence[SkuPlan], *, actor: str, reason: str) -> None:
    """Create and update the planned SKUs (plans without changes are skipped)."""
    now = utcnow()
    new = [p for p in plans if p.existing is None]
    changed = [p for p in plans if p.existing is not None and p.changes]
    ids = _insert_skus(session, new, now)
    ids.update({p.code: p.existing.id for p in changed if p.existing is not None})
    _update_skus(session, changed)
    rebuilt = [p for p in new if p.components] + [p for p in changed if "components" in p.changes]
    _replace_components(session, rebuilt, ids)
    _audit(session, new, changed, ids, actor=actor, reason=reason, now=now)
    # Safety stock and bundle contents change what platforms may show: mark their listings for a push.
    touched = [ids[p.code] for p in changed if {"safety_stock", "components"} & set(p.changes)]
    if touched:
        mark_skus(session, touched)


def _insert_skus(session: Session, plans: Sequence[SkuPlan], now: Any) -> dict[str, int]:
    """Insert the new SKUs (plain executemany, the drivers' fast path) and read their ids back in one query:
    every id above the largest one before is new."""
    if not plans:
        return {}
    before = session.scalar(select(func.max(SKUS.c.id))) or 0
    insert_rows(session, SKUS, [{"code": p.code, "name": p.name, "unit": p.unit, "barcode": p.barcode,
                                 "safety_stock": p.safety_stock, "active": True, "is_bundle": p.is_bundle,
                                 "created_at": now} for p in plans])
    wanted = {p.code for p in plans}
    return {code: sku_id for code, sku_id in session.execute(select(SKUS.c.code, SKUS.c.id).where(SKUS.c.id > before))
            if code in wanted}


def _update_skus(session: Session, plans: Sequence[SkuPlan]) -> None:
    table = SKUS
    stmt = (update(table).where(table.c.id == bindparam("b_id"))
            .values(name=bindparam("b_name"), unit=bindparam("b_unit"), barcode=bindparam("b_barcode"),
                    safety_stock=bindparam("b_safety"), is_bundle=bindparam("b_bundle")))
    for part in chunks(plans):
        session.execute(stmt, [{"b_id": p.existing.id if p.existing else 0, "b_name": p.name, "b_unit": p.unit,
                                "b_barcode": p.barcode, "b_safety": p.safety_stock, "b_bundle": p.is_bundle}
                               for p in part])


def _replace_components(session: Session, plans: Sequence[SkuPlan], ids: dict[str, int]) -> None:
    table = COMPONENTS
    bundle_ids = [ids[p.code] for p in plans]
    for part in chunks(bundle_ids):
        session.execute(delete(table).where(table.c.bundle_id.in_(part)))
    rows = [{"bundle_id": ids[p.code], "component_id": ids[code], "qty": qty}
            for p in plans for code, qty in p.components]
    insert_rows(session, table, rows)


def _audit(session: Session, new: Iterable[SkuPlan], changed: Iterable[SkuPlan], ids: dict[str, int], *,
           actor: str, reason: str, now: Any) -> None:
    rows = [{"at": now, "actor": actor, "action": "sku.create", "sku_id": ids[p.code], "location_id": None,
             "entity": f"sku:{p.code}", "before": None, "after": _sku_fields(p), "reason": reason} for p in new]
    for p in changed:
        rows.append({"at": now, "actor": actor, "action": "sku.update", "sku_id": ids[p.code], "location_id": None,
                     "entity": f"sku:{p.code}", "before": {k: _shape(k, b) for k, (b, _) in p.changes.items()},
                     "after": {k: _shape(k, a) for k, (_, a) in p.changes.items()}, "reason": reason})
    insert_rows(session, AUDIT, rows)


def _sku_fields(p: SkuPlan) -> dict[str, Any]:
    """The same shape as services.catalogue.sku_fields."""
    return {"code": p.code, "name": p.name, "unit": p.unit, "barcode": p.barcode, "safety_stock": p.safety_stock,
            "active": True, "components": [{"sku": c, "qty": q} for c, q in p.components]}


def _shape(name: str, value: Any) -> Any:
    """Components as the core's audit shows them (a list of {sku, qty}); other fields as they are."""
    if name != "components":
        return value
    parts = [piece.partition("*") for piece in (value or "").split(";") if piece]
    return [{"sku": code, "qty": int(qty)} for code, _, qty in parts]
