"""Purchasing: suppliers, purchase orders (receive, return, place, cancel) and reorder suggestions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request
from sqlalchemy.orm import Session

from omnistock.api.deps import DB, Reader, require, run
from omnistock.api.schemas import ReasonIn
from omnistock.domain.access import Permission, Principal
from omnistock.domain.money import round_to_places
from omnistock.domain.reorder import Policy
from omnistock.money import purchasing, reorder, suppliers
from omnistock.money.currency import Books
from omnistock.money.schemas import DeliveryIn, DraftIn, PoIn, SkuSupplierIn, SupplierIn, SupplierPatch
from omnistock.money.views import amount_text, po_view, supplier_view
from omnistock.store.types import utcnow

router = APIRouter(prefix="/api/v1", tags=["purchasing"])
CatalogueWriter = Annotated[Principal, Depends(require(Permission.CATALOGUE_WRITE))]
StockWriter = Annotated[Principal, Depends(require(Permission.STOCK_WRITE))]


def books(request: Request) -> Books:
    return Books.of(request.app.state.settings)


MoneyBooks = Annotated[Books, Depends(books)]


# --- suppliers ----------------------------------------------------------------------------------


@router.post("/suppliers", status_code=201)
def create_supplier(body: SupplierIn, principal: CatalogueWriter, db: DB, bk: MoneyBooks) -> dict[str, Any]:
    spec = suppliers.SupplierSpec(code=body.code, name=body.name, currency=body.currency or bk.base,
                                  lead_time_days=body.lead_time_days, contact=body.contact,
                                  over_receipt_percent=body.over_receipt_percent)
    return run(db, lambda s: supplier_view(suppliers.create_supplier(s, spec, actor=principal.name)))


@router.get("/suppliers")
def list_suppliers(principal: Reader, db: DB, limit: int = 50, cursor: str | None = None) -> dict[str, Any]:
    with db.reading() as session:
        page = suppliers.list_suppliers(session, limit=limit, cursor=cursor)
        return {"items": [supplier_view(s) for s in page.items], "total": page.total, "next": page.next}


@router.get("/suppliers/{code}")
def get_supplier(code: str, principal: Reader, db: DB) -> dict[str, Any]:
    with db.reading() as session:
        return supplier_view(suppliers.supplier_by_code(session, code, field="code"))


@router.patch("/suppliers/{code}")
def update_supplier(code: str, body: SupplierPatch, principal: CatalogueWriter, db: DB) -> dict[str, Any]:
    changes = body.model_dump(exclude_unset=True)
    return run(db, lambda s: supplier_view(suppliers.update_supplier(s, code, changes, actor=principal.name)))


@router.put("/skus/{code}/supplier")
def set_sku_supplier(code: str, body: SkuSupplierIn, principal: CatalogueWriter, db: DB) -> dict[str, Any]:
    def action(session: Session) -> dict[str, Any]:
        link = suppliers.set_sku_supplier(session, code, body.supplier, body.unit_cost, actor=principal.name)
        return {"sku": code, "supplier": link.supplier.code, "unit_cost": amount_text(link.unit_cost),
                "currency": link.supplier.currency}
    return run(db, action)


# --- purchase orders -----------------------------------------------------------------------------


@router.post("/purchase-orders", status_code=201)
def create_po(body: PoIn, principal: StockWriter, db: DB, request: Request) -> dict[str, Any]:
    spec = purchasing.PoSpec(supplier=body.supplier, currency=body.currency, location=body.location,
                             status=body.status, note=body.note,
                             lines=[purchasing.PoLineSpec(ln.sku, ln.qty, ln.unit_cost, ln.currency)
                                    for ln in body.lines])
    zone = request.app.state.settings.zone
    return run(db, lambda s: po_view(purchasing.create_po(s, spec, principal), zone))


@router.get("/purchase-orders")
def list_pos(principal: Reader, db: DB, request: Request, status: str | None = None, supplier: str | None = None,
             limit: int = 50, cursor: str | None = None) -> dict[str, Any]:
    zone = request.app.state.settings.zone
    with db.reading() as session:
        page = purchasing.list_pos(session, status=status, supplier=supplier, limit=limit, cursor=cursor)
        return {"items": [po_view(po, zone) for po in page.items], "total": page.total, "next": page.next}


@router.get("/purchase-orders/{po_id}")
def get_po(po_id: int, principal: Reader, db: DB, request: Request) -> dict[str, Any]:
    with db.reading() as session:
        return po_view(purchasing.get_po(session, po_id), request.app.state.settings.zone)


@router.post("/purchase-orders/{po_id}/receive")
def receive(po_id: int, body: DeliveryIn, principal: StockWriter, db: DB, bk: MoneyBooks) -> dict[str, Any]:
    lines = [purchasing.QtySpec(ln.sku, ln.qty) for ln in body.lines]
    return run(db, lambda s: po_view(purchasing.receive(s, bk, po_id, body.location, lines, principal,
                                                        reason=body.reason), bk.zone))


@router.post("/purchase-orders/{po_id}/return")
def return_goods(po_id: int, body: DeliveryIn, principal: StockWriter, db: DB, bk: MoneyBooks) -> dict[str, Any]:
    lines = [purchasing.QtySpec(ln.sku, ln.qty) for ln in body.lines]
    return run(db, lambda s: po_view(purchasing.return_goods(s, bk, po_id, body.location, lines, principal,
                                                             reason=body.reason), bk.zone))


@router.post("/purchase-orders/{po_id}/place")
def place(po_id: int, principal: StockWriter, db: DB, bk: MoneyBooks) -> dict[str, Any]:
    return run(db, lambda s: po_view(purchasing.place(s, po_id, principal), bk.zone))


@router.post("/purchase-orders/{po_id}/cancel")
def cancel(po_id: int, principal: StockWriter, db: DB, bk: MoneyBooks,
           body: Annotated[ReasonIn | None, Body()] = None) -> dict[str, Any]:
    reason = body.reason if body else None
    return run(db, lambda s: po_view(purchasing.cancel(s, po_id, principal, reason), bk.zone))


# --- reorder -------------------------------------------------------------------------------------


def reorder_view(line: reorder.ReorderLine) -> dict[str, Any]:
    s = line.suggestion
    return {"sku": s.sku, "name": line.name, "supplier": line.supplier, "lead_time_days": line.lead_time_days,
            "daily_rate": amount_text(round_to_places(s.daily_rate, 4)),
            "free": line.free, "on_order": line.on_order,
            "reorder_point": amount_text(round_to_places(s.reorder_point, 2)),
            "order_qty": s.order_qty, "runs_out": s.runs_out.isoformat() if s.runs_out else None,
            "unit_cost": amount_text(line.unit_cost), "currency": line.currency}


@router.get("/reorder/suggestions")
def suggestions(principal: Reader, db: DB, bk: MoneyBooks, window_days: Annotated[int, Query(ge=1, le=365)] = 28,
                cover_days: Annotated[int, Query(ge=0, le=365)] = 14, sku: str | None = None,
                include_all: Annotated[bool, Query(alias="all")] = False) -> dict[str, Any]:
    policy = Policy(window_days, cover_days)
    with db.reading() as session:
        lines = reorder.suggestions(session, bk, policy, utcnow(), sku=sku, only_needed=not include_all and not sku)
    items = [reorder_view(line) for line in lines]
    return {"items": items, "total": len(items), "next": None}


@router.post("/reorder/drafts", status_code=201)
def draft(principal: StockWriter, db: DB, bk: MoneyBooks,
          body: Annotated[DraftIn | None, Body()] = None) -> dict[str, Any]:
    policy = Policy(body.window_days, body.cover_days) if body else Policy()

    def action(session: Session) -> dict[str, Any]:
        lines = reorder.suggestions(session, bk, policy, utcnow())
        drafts, orphans = reorder.draft_orders(session, lines, principal)
        return {"drafts": [po_view(po, bk.zone) for po in drafts], "no_supplier": orphans}
    return run(db, action)
