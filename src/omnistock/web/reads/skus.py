"""SKU figures for many SKUs at once: one query for every level they need (their own and their bundle
components'), the same arithmetic as `services.catalogue.figures` (a test holds the two equal)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, exists, select
from sqlalchemy.orm import Session

from omnistock.domain.access import Principal
from omnistock.domain.stock import LevelView, bundle_buildable, sku_available
from omnistock.services.catalogue import LocationFigures, SkuFigures
from omnistock.store.tables import Channel, Level, Location, Sku
from omnistock.sync.tables import Listing
from omnistock.web.reads.paging import Numbered, numbered

_Row = tuple[LevelView, str]  # a level and its location code


def is_low(fig: SkuFigures) -> bool:
    """Low stock: an active SKU with no more left to sell than its safety stock (or nothing at all)."""
    return fig.sku.active and fig.available <= fig.sku.safety_stock


def _level_rows(session: Session, sku_ids: Iterable[int], principal: Principal) -> dict[int, list[_Row]]:
    ids = sorted(set(sku_ids))
    out: dict[int, list[_Row]] = defaultdict(list)
    if not ids:
        return out
    stmt = (select(Level.sku_id, Level.on_hand, Level.reserved, Location.id, Location.code, Location.sellable)
            .join(Location, Location.id == Level.location_id).where(Level.sku_id.in_(ids)).order_by(Location.code))
    if principal.locations is not None:
        stmt = stmt.where(Location.code.in_(sorted(principal.locations)))
    for sku_id, on_hand, reserved, loc_id, code, sellable in session.execute(stmt):
        out[sku_id].append((LevelView(loc_id, on_hand, reserved, sellable), code))
    return out


def _plain(sku: Sku, rows: list[_Row]) -> SkuFigures:
    views = [view for view, _ in rows]
    locations = [LocationFigures(code, view.on_hand, view.reserved, view.free) for view, code in rows]
    return SkuFigures(sku, sum(v.on_hand for v in views), sum(v.reserved for v in views),
                      sku_available(views, sku.safety_stock), locations)


def _bundle(sku: Sku, rows: dict[int, list[_Row]]) -> SkuFigures:
    comps = {c.component_id: c.qty for c in sku.components}
    per_part = {c.component_id: _plain(c.component, rows.get(c.component_id, [])) for c in sku.components}
    by_loc: dict[str, dict[str, dict[int, int]]] = {}
    for cid, fig in per_part.items():
        for lf in fig.locations:
            slot = by_loc.setdefault(lf.location, {"on_hand": {}, "reserved": {}, "available": {}})
            slot["on_hand"][cid], slot["reserved"][cid], slot["available"][cid] = lf.on_hand, lf.reserved, lf.available
    locations = [LocationFigures(code, bundle_buildable(s["on_hand"], comps), bundle_buildable(s["reserved"], comps),
                                 bundle_buildable(s["available"], comps)) for code, s in sorted(by_loc.items())]
    available = max(0, bundle_buildable({c: f.available for c, f in per_part.items()}, comps) - sku.safety_stock)
    return SkuFigures(sku, bundle_buildable({c: f.on_hand for c, f in per_part.items()}, comps),
                      bundle_buildable({c: f.reserved for c, f in per_part.items()}, comps), available, locations)


def figures_of(session: Session, skus: Sequence[Sku], principal: Principal) -> dict[int, SkuFigures]:
    """Figures of each SKU within the caller's scope, in one query (components come loaded with the SKUs)."""
    needed = {s.id for s in skus if not s.is_bundle} | {c.component_id for s in skus for c in s.components}
    rows = _level_rows(session, needed, principal)
    return {s.id: _bundle(s, rows) if s.is_bundle else _plain(s, rows.get(s.id, [])) for s in skus}


@dataclass(frozen=True)
class SkuFilter:
    search: str | None = None
    low: bool = False
    location: str | None = None  # stocked (or reserved) at this location
    channel: str | None = None   # listed on this channel


def _matching(f: SkuFilter, principal: Principal) -> Select[Any]:
    stmt = select(Sku)
    if f.search:
        like = f"%{f.search}%"
        stmt = stmt.where(Sku.code.ilike(like) | Sku.name.ilike(like) | (Sku.barcode == f.search))
    if f.location and principal.sees_location(f.location):
        stmt = stmt.where(exists().where(Level.sku_id == Sku.id, Level.location_id == Location.id,
                                         Location.code == f.location, (Level.on_hand != 0) | (Level.reserved != 0)))
    if f.channel and principal.sees_channel(f.channel):
        stmt = stmt.where(exists().where(Listing.sku_id == Sku.id, Listing.channel_id == Channel.id,
                                         Channel.code == f.channel))
    return stmt.order_by(Sku.code)


def list_page(session: Session, principal: Principal, f: SkuFilter, *, page: int,
              per_page: int = 50) -> Numbered[SkuFigures]:
    """One page of SKUs with their figures: 3–4 queries whatever the page size. The low-stock filter needs
    every matching SKU's figures first (low is not a column), still in a fixed number of queries."""
    stmt = _matching(f, principal)
    if f.low:
        everything = list(session.scalars(stmt))
        figures = figures_of(session, everything, principal)
        low = [figures[s.id] for s in everything if is_low(figures[s.id])]
        pages = max(1, -(-len(low) // per_page))
        page = min(page, pages)
        return Numbered(low[(page - 1) * per_page: page * per_page], len(low), page, per_page)
    found = numbered(session, stmt, page=page, per_page=per_page)
    figures = figures_of(session, found.items, principal)
    return Numbered([figures[s.id] for s in found.items], found.total, found.page, per_page)


def low_stock(session: Session, principal: Principal, *, limit: int = 10) -> tuple[int, list[SkuFigures]]:
    """How many SKUs are low, and the `limit` with the least left to sell."""
    skus = list(session.scalars(select(Sku).where(Sku.active.is_(True))))
    figures = figures_of(session, skus, principal)
    low = sorted((figures[s.id] for s in skus if is_low(figures[s.id])), key=lambda f: (f.available, f.sku.code))
    return len(low), low[:limit]
