"""Merging a duplicate SKU into the one that survives: every move, level, reservation, order line, listing,
alias and bundle component of the duplicate moves over, so the ledger still adds up; the duplicate stays
(inactive, renamed) so that nothing pointing at it breaks, and its old code becomes an alias of the survivor.
One audited action."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, delete, select, update
from sqlalchemy.orm import Session

from omnistock.errors import Invalid
from omnistock.onboarding.tables import SkuAlias
from omnistock.services import audit
from omnistock.services.lookup import sku_by_code
from omnistock.store.levels import lock_levels
from omnistock.store.tables import BundleComponent, Level, Move, OrderLine, Reservation, Sku
from omnistock.sync.dirty import mark_skus
from omnistock.sync.tables import Listing

# Features with their own rows per SKU (cost positions...) follow a merge here: (session, survivor id,
# duplicate id), called inside the merge's transaction after the core rows moved.
merged: list[Callable[[Session, int, int], None]] = []


@dataclass(frozen=True)
class MergeResult:
    survivor: str
    duplicate: str
    renamed_to: str
    moved: dict[str, int]


def merge_skus(session: Session, survivor_code: str, duplicate_code: str, *, reason: str,
               actor: str) -> MergeResult:
    if not reason or not reason.strip():
        raise Invalid("a merge needs a reason (it is kept in the audit trail)", field="reason")
    survivor = sku_by_code(session, survivor_code, field="survivor")
    duplicate = sku_by_code(session, duplicate_code, field="duplicate")
    _check(survivor, duplicate)
    old_code = duplicate.code
    moved = {"levels": _merge_levels(session, survivor, duplicate)}
    moved.update(_repoint(session, survivor.id, duplicate.id))
    moved["bundle_components"] = _merge_components(session, survivor.id, duplicate.id)
    for follow in merged:
        follow(session, survivor.id, duplicate.id)
    renamed = f"{old_code[:50]}~merged{duplicate.id}"[:64]
    before = {"code": old_code, "active": duplicate.active, "barcode": duplicate.barcode}
    if survivor.barcode is None and duplicate.barcode:
        survivor.barcode = duplicate.barcode
    duplicate.code, duplicate.active, duplicate.barcode = renamed, False, None
    session.flush()
    session.add(SkuAlias(sku_id=survivor.id, alias=old_code, source="merge"))
    mark_skus(session, [survivor.id])
    audit.record(session, actor=actor, action="sku.merge", sku_id=survivor.id, entity=f"sku:{survivor.code}",
                 before={"duplicate": before}, after={"duplicate": {"code": renamed, "active": False},
                                                      "moved": moved}, reason=reason)
    audit.record(session, actor=actor, action="sku.merged_into", sku_id=duplicate.id, entity=f"sku:{renamed}",
                 before=before, after={"survivor": survivor.code}, reason=reason)
    return MergeResult(survivor.code, old_code, renamed, moved)


def _check(survivor: Sku, duplicate: Sku) -> None:
    if survivor.id == duplicate.id:
        raise Invalid("a SKU cannot be merged into itself", field="duplicate")
    if survivor.is_bundle or duplicate.is_bundle:
        raise Invalid("bundles are not merged: give the surviving bundle the components and deactivate the other",
                      field="duplicate")
    if survivor.unit != duplicate.unit:
        raise Invalid(f"{duplicate.code} counts in {duplicate.unit} and {survivor.code} in {survivor.unit}; "
                      "their quantities cannot be added", field="duplicate")
    if not duplicate.active:
        raise Invalid(f"{duplicate.code} is inactive (already merged?)", field="duplicate")


def _merge_levels(session: Session, survivor: Sku, duplicate: Sku) -> int:
    """Add the duplicate's on hand and reserved to the survivor's level at each location, locking the levels
    of both SKUs in key order first."""
    dup_locs = list(session.scalars(select(Level.location_id).where(Level.sku_id == duplicate.id)))
    keys = [(duplicate.id, loc) for loc in dup_locs] + [(survivor.id, loc) for loc in dup_locs]
    levels = lock_levels(session, keys)
    for loc in dup_locs:
        gone, kept = levels[(duplicate.id, loc)], levels[(survivor.id, loc)]
        kept.on_hand += gone.on_hand
        kept.reserved += gone.reserved
        session.delete(gone)
    session.flush()
    return len(dup_locs)


def _repoint(session: Session, survivor_id: int, duplicate_id: int) -> dict[str, int]:
    counts: dict[str, int] = {}
    for name, model in (("moves", Move), ("reservations", Reservation), ("order_lines", OrderLine),
                        ("listings", Listing), ("aliases", SkuAlias)):
        table = cast(Table, cast(Any, model).__table__)
        result = session.execute(update(table).where(table.c.sku_id == duplicate_id).values(sku_id=survivor_id))
        counts[name] = int(getattr(result, "rowcount", 0) or 0)
    return counts


def _merge_components(session: Session, survivor_id: int, duplicate_id: int) -> int:
    """Bundles that held the duplicate hold the survivor (adding quantities when they held both)."""
    rows = session.scalars(select(BundleComponent).where(BundleComponent.component_id == duplicate_id)).all()
    for row in rows:
        both = session.get(BundleComponent, (row.bundle_id, survivor_id))
        if both is not None:
            both.qty += row.qty
        else:
            session.add(BundleComponent(bundle_id=row.bundle_id, component_id=survivor_id, qty=row.qty))
        session.execute(delete(BundleComponent).where(BundleComponent.bundle_id == row.bundle_id,
                                                      BundleComponent.component_id == duplicate_id))
    return len(rows)
