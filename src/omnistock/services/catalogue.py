"""SKUs, bundles and locations: create, edit (audited) and read with their stock figures."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from omnistock.domain.access import Principal
from omnistock.domain.stock import LevelView, bundle_buildable, sku_available
from omnistock.errors import Conflict, Invalid
from omnistock.services import audit
from omnistock.services.lookup import sku_by_code
from omnistock.store.paging import Page, page_query
from omnistock.store.tables import BundleComponent, Level, Location, Sku

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/]{0,63}$")
LOCATION_KINDS = ("warehouse", "store", "distributor")


def check_code(code: str, field_name: str = "code") -> str:
    code = code.strip()
    if not CODE_RE.match(code):
        raise Invalid("a code is 1–64 letters, digits, '.', '_', '-' or '/', starting with a letter or digit",
                      field=field_name)
    return code


@dataclass(frozen=True)
class ComponentSpec:
    sku: str
    qty: int


@dataclass(frozen=True)
class SkuSpec:
    code: str
    name: str
    unit: str = "pcs"
    barcode: str | None = None
    safety_stock: int = 0
    active: bool = True
    components: Sequence[ComponentSpec] = field(default_factory=tuple)


def create_sku(session: Session, spec: SkuSpec, *, actor: str) -> Sku:
    code = check_code(spec.code)
    if session.scalar(select(Sku.id).where(Sku.code == code)) is not None:
        raise Conflict(f"SKU {code!r} exists already", field="code")
    if spec.safety_stock < 0:
        raise Invalid("safety_stock cannot be negative", field="safety_stock")
    sku = Sku(code=code, name=spec.name.strip(), unit=spec.unit, barcode=spec.barcode,
              safety_stock=spec.safety_stock, active=spec.active, is_bundle=bool(spec.components))
    if not sku.name:
        raise Invalid("name cannot be empty", field="name")
    session.add(sku)
    session.flush()
    _set_components(session, sku, spec.components)
    audit.record(session, actor=actor, action="sku.create", sku_id=sku.id, entity=f"sku:{code}",
                 after=sku_fields(sku))
    return sku


def _set_components(session: Session, sku: Sku, components: Sequence[ComponentSpec]) -> None:
    seen: set[str] = set()
    for i, comp in enumerate(components):
        where = f"components[{i}].sku"
        if comp.sku == sku.code:
            raise Invalid("a bundle cannot contain itself", field=where)
        if comp.sku in seen:
            raise Invalid(f"component {comp.sku!r} is listed twice", field=where)
        seen.add(comp.sku)
        if comp.qty <= 0:
            raise Invalid("component qty must be greater than 0", field=f"components[{i}].qty")
        part = sku_by_code(session, comp.sku, field=where)
        if part.is_bundle:
            raise Invalid(f"{comp.sku!r} is itself a bundle; nest components directly", field=where)
        sku.components.append(BundleComponent(bundle_id=sku.id, component_id=part.id, qty=comp.qty, component=part))


EDITABLE = ("name", "unit", "barcode", "safety_stock", "active")


def sku_fields(sku: Sku) -> dict[str, Any]:
    return {"code": sku.code, "name": sku.name, "unit": sku.unit, "barcode": sku.barcode,
            "safety_stock": sku.safety_stock, "active": sku.active,
            "components": [{"sku": c.component.code, "qty": c.qty} for c in sku.components]}


def update_sku(session: Session, code: str, changes: dict[str, Any], *, actor: str,
               reason: str | None = None) -> Sku:
    sku = sku_by_code(session, code, field="code")
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise Invalid(f"cannot change {', '.join(sorted(unknown))}", field=sorted(unknown)[0])
    if "safety_stock" in changes and (changes["safety_stock"] is None or changes["safety_stock"] < 0):
        raise Invalid("safety_stock cannot be negative", field="safety_stock")
    if "name" in changes and not (changes["name"] or "").strip():
        raise Invalid("name cannot be empty", field="name")
    before = sku_fields(sku)
    for key, value in changes.items():
        setattr(sku, key, value)
    after = sku_fields(sku)
    if after != before:
        audit.record(session, actor=actor, action="sku.update", sku_id=sku.id, entity=f"sku:{code}",
                     before={k: before[k] for k in changes}, after={k: after[k] for k in changes},
                     reason=reason)
    return sku


def create_location(session: Session, *, code: str, name: str, kind: str, sellable: bool, actor: str) -> Location:
    code = check_code(code)
    if kind not in LOCATION_KINDS:
        raise Invalid(f"kind must be one of {', '.join(LOCATION_KINDS)}", field="kind")
    if session.scalar(select(Location.id).where(Location.code == code)) is not None:
        raise Conflict(f"location {code!r} exists already", field="code")
    if not name.strip():
        raise Invalid("name cannot be empty", field="name")
    loc = Location(code=code, name=name.strip(), kind=kind, sellable=sellable)
    session.add(loc)
    session.flush()
    audit.record(session, actor=actor, action="location.create", location_id=loc.id, entity=f"location:{code}",
                 after={"code": code, "name": loc.name, "kind": kind, "sellable": sellable})
    return loc


# --- reading stock figures --------------------------------------------------------------------


@dataclass(frozen=True)
class LocationFigures:
    location: str
    on_hand: int
    reserved: int
    available: int


@dataclass(frozen=True)
class SkuFigures:
    sku: Sku
    on_hand: int
    reserved: int
    available: int
    locations: list[LocationFigures]


def _levels(session: Session, sku_ids: Sequence[int], principal: Principal) -> dict[int, list[tuple[Level, Location]]]:
    stmt = (select(Level, Location).join(Location, Location.id == Level.location_id)
            .where(Level.sku_id.in_(sku_ids)).order_by(Location.code))
    out: dict[int, list[tuple[Level, Location]]] = {i: [] for i in sku_ids}
    for lv, loc in session.execute(stmt):
        if principal.sees_location(loc.code):
            out[lv.sku_id].append((lv, loc))
    return out


def _plain_figures(sku: Sku, rows: list[tuple[Level, Location]]) -> SkuFigures:
    views = [LevelView(loc.id, lv.on_hand, lv.reserved, loc.sellable) for lv, loc in rows]
    locs = [LocationFigures(loc.code, lv.on_hand, lv.reserved, v.free) for (lv, loc), v in zip(rows, views)]
    return SkuFigures(sku, sum(lv.on_hand for lv, _ in rows), sum(lv.reserved for lv, _ in rows),
                      sku_available(views, sku.safety_stock), locs)


def figures(session: Session, sku: Sku, principal: Principal) -> SkuFigures:
    """On hand, reserved and available, in total and per location (within the caller's scope).
    A bundle has no stock of its own: its figures are what its components can build."""
    if not sku.is_bundle:
        return _plain_figures(sku, _levels(session, [sku.id], principal)[sku.id])
    comps = {c.component_id: c.qty for c in sku.components}
    parts = {c.component_id: c.component for c in sku.components}
    rows = _levels(session, list(comps), principal)
    per_part = {cid: _plain_figures(parts[cid], rows[cid]) for cid in comps}
    by_loc: dict[str, dict[str, dict[int, int]]] = {}
    for cid, fig in per_part.items():
        for lf in fig.locations:
            slot = by_loc.setdefault(lf.location, {"on_hand": {}, "reserved": {}, "available": {}})
            slot["on_hand"][cid] = lf.on_hand
            slot["reserved"][cid] = lf.reserved
            slot["available"][cid] = lf.available
    locations = [LocationFigures(code, bundle_buildable(s["on_hand"], comps), bundle_buildable(s["reserved"], comps),
                                 bundle_buildable(s["available"], comps)) for code, s in sorted(by_loc.items())]
    available = max(0, bundle_buildable({c: f.available for c, f in per_part.items()}, comps) - sku.safety_stock)
    return SkuFigures(sku, bundle_buildable({c: f.on_hand for c, f in per_part.items()}, comps),
                      bundle_buildable({c: f.reserved for c, f in per_part.items()}, comps), available, locations)


def list_skus(session: Session, principal: Principal, *, search: str | None = None, limit: int = 50,
              cursor: str | None = None) -> Page[SkuFigures]:
    stmt = select(Sku)
    if search:
        like = f"%{search}%"
        stmt = stmt.where(Sku.code.ilike(like) | Sku.name.ilike(like) | (Sku.barcode == search))
    page = page_query(session, stmt, Sku.id, limit=limit, cursor=cursor)
    return page.map(lambda sku: figures(session, sku, principal))
