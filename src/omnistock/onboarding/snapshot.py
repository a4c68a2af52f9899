"""What an import checks a file against, read set-based in one go (never one query per row): the
catalogue with its bundles, aliases and which SKUs hold stock; the locations; the units."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from omnistock.onboarding.tables import SkuAlias, Unit
from omnistock.onboarding.unitbook import UnitBook, UnitDef
from omnistock.store.tables import BundleComponent, Level, Location, Sku


@dataclass
class SkuState:
    id: int
    code: str
    name: str
    unit: str
    barcode: str | None
    safety_stock: int
    is_bundle: bool
    components: tuple[tuple[str, int], ...] = ()
    has_stock: bool = False


@dataclass
class Catalogue:
    skus: dict[str, SkuState] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)  # alias → SKU code
    units: UnitBook = field(default_factory=UnitBook.of)

    def resolve(self, code: str) -> SkuState | None:
        """The SKU with this code, or the one this alias names."""
        found = self.skus.get(code)
        if found is None and code in self.aliases:
            found = self.skus.get(self.aliases[code])
        return found


def unit_book(session: Session) -> UnitBook:
    rows = session.scalars(select(Unit).order_by(Unit.id)).all()
    return UnitBook.of(UnitDef(u.code, (u.name,) if u.name else (), u.base, u.factor) for u in rows)


def load_catalogue(session: Session, *, full: bool = True) -> Catalogue:
    """The catalogue; without `full`, leaving out what only a catalogue import needs (components, which SKUs
    hold stock)."""
    cat = Catalogue(units=unit_book(session))
    by_id: dict[int, SkuState] = {}
    for row in session.execute(select(Sku.id, Sku.code, Sku.name, Sku.unit, Sku.barcode, Sku.safety_stock,
                                      Sku.is_bundle)):
        state = SkuState(row.id, row.code, row.name, row.unit, row.barcode, row.safety_stock, row.is_bundle)
        cat.skus[row.code] = by_id[row.id] = state
    if full:
        _bundles_and_stock(session, by_id)
    for alias, sku_id in session.execute(select(SkuAlias.alias, SkuAlias.sku_id)):
        cat.aliases[alias] = by_id[sku_id].code
    return cat


def _bundles_and_stock(session: Session, by_id: dict[int, SkuState]) -> None:
    parts: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for bundle_id, component_id, qty in session.execute(
            select(BundleComponent.bundle_id, BundleComponent.component_id, BundleComponent.qty)
            .order_by(BundleComponent.bundle_id, BundleComponent.component_id)):
        parts[bundle_id].append((by_id[component_id].code, qty))
    for bundle_id, comps in parts.items():
        by_id[bundle_id].components = tuple(sorted(comps))
    stocked = select(Level.sku_id).group_by(Level.sku_id).having(
        func.sum(func.abs(Level.on_hand)) + func.sum(func.abs(Level.reserved)) > 0)
    for sku_id in session.scalars(stocked):
        by_id[sku_id].has_stock = True


def location_ids(session: Session) -> dict[str, int]:
    return {code: lid for lid, code in session.execute(select(Location.id, Location.code))}
