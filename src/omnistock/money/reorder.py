"""Reorder suggestions for every stocked SKU (domain.reorder) from the ledger's sales, and drafting them as
purchase orders, one per supplier."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from omnistock.domain.access import Principal
from omnistock.domain.purchasing import PoStatus
from omnistock.domain.reorder import Policy, StockPicture, Suggestion, suggest
from omnistock.domain.stock import MoveKind
from omnistock.money import presale
from omnistock.money.currency import Books
from omnistock.money.positions import on_order
from omnistock.money.purchasing import PoLineSpec, PoSpec, create_po
from omnistock.money.tables import PurchaseOrder, SkuSupplier
from omnistock.services.lookup import sku_by_code
from omnistock.store.tables import Level, Location, Move, Sku


@dataclass(frozen=True)
class ReorderLine:
    suggestion: Suggestion
    name: str
    supplier: str | None
    lead_time_days: int
    free: int
    on_order: int
    unit_cost: Decimal | None  # the supplier's usual price, in its currency
    currency: str | None


def suggestions(session: Session, books: Books, policy: Policy, now: datetime, *, sku: str | None = None,
                only_needed: bool = True) -> list[ReorderLine]:
    """One line per active stocked SKU (or just `sku`); with `only_needed`, only those to order now."""
    stmt = select(Sku).where(Sku.is_bundle.is_(False), Sku.active.is_(True)).order_by(Sku.code)
    if sku:
        stmt = select(Sku).where(Sku.id == sku_by_code(session, sku).id)
    skus = list(session.scalars(stmt))
    ids = [s.id for s in skus]
    if not ids:
        return []
    since = now - timedelta(days=policy.window_days)
    sold = dict(session.execute(select(Move.sku_id, func.sum(-Move.qty)).where(
        Move.kind == MoveKind.SALE.value, Move.sku_id.in_(ids), Move.at >= since, Move.at < now)
        .group_by(Move.sku_id)).all())
    free = dict(session.execute(select(Level.sku_id, func.sum(Level.on_hand - Level.reserved))
                                .join(Location, Location.id == Level.location_id)
                                .where(Level.sku_id.in_(ids), Location.sellable.is_(True))
                                .group_by(Level.sku_id)).all())
    ordered = on_order(session, ids)
    waiting = presale.claims(session)  # pre-sale orders waiting for goods are demand already: not free
    links = {link.sku_id: link for link in session.scalars(select(SkuSupplier).where(SkuSupplier.sku_id.in_(ids)))}
    today = books.day_of(now)
    out = []
    for s in skus:
        link = links.get(s.id)
        lead = link.supplier.lead_time_days if link else 0
        coming = sum(ordered.get(s.id, {}).values())
        picture = StockPicture(s.code, int(sold.get(s.id) or 0), int(free.get(s.id) or 0) - waiting.get(s.id, 0),
                               coming, s.safety_stock, lead)
        suggestion = suggest(picture, policy, today)
        if only_needed and suggestion.order_qty == 0:
            continue
        out.append(ReorderLine(suggestion, s.name, link.supplier.code if link else None, lead, picture.free, coming,
                               link.unit_cost if link else None, link.supplier.currency if link else None))
    return out


def draft_orders(session: Session, lines: list[ReorderLine], principal: Principal
                 ) -> tuple[list[PurchaseOrder], list[str]]:
    """Draft one PO per supplier for the suggested quantities (at the supplier's usual price, 0 when none is
    known: check the drafts before placing them). Returns the drafts and the SKUs that have no supplier."""
    per_supplier: dict[str, list[PoLineSpec]] = defaultdict(list)
    orphans = []
    for line in lines:
        if line.suggestion.order_qty <= 0:
            continue
        if line.supplier is None:
            orphans.append(line.suggestion.sku)
            continue
        per_supplier[line.supplier].append(PoLineSpec(line.suggestion.sku, line.suggestion.order_qty,
                                                      line.unit_cost if line.unit_cost is not None else Decimal(0)))
    drafts = [create_po(session, PoSpec(supplier=code, lines=specs, status=PoStatus.DRAFT.value,
                                        note="drafted from reorder suggestions"), principal)
              for code, specs in sorted(per_supplier.items())]
    return drafts, orphans
