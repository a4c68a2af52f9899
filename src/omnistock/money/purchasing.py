"""Purchase orders: drafted or placed with a supplier, received in one or several deliveries (each a receipt
move through the ledger with reference `po:<id>`, costed at the PO's unit cost), sent back in part
(adjustment moves out), or cancelled."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from omnistock.domain.access import Principal
from omnistock.domain.costing import UNIT_COST_PLACES
from omnistock.domain.money import require_currency
from omnistock.domain.purchasing import PoStatus, can_become, status_after_receipt, still_receivable
from omnistock.domain.stock import MoveKind
from omnistock.domain.valuation import CostEvent
from omnistock.errors import Conflict, Invalid, NotFound, OmnistockError
from omnistock.money import costbook, presale
from omnistock.money.currency import Books, RateTable
from omnistock.money.suppliers import supplier_by_code
from omnistock.money.tables import PurchaseOrder, PurchaseOrderLine
from omnistock.services import audit, ledger
from omnistock.services.lookup import location_by_code, sku_by_code
from omnistock.store.paging import Page, page_query
from omnistock.store.types import utcnow

MAX_QTY = 10_000_000


@dataclass(frozen=True)
class PoLineSpec:
    sku: str
    qty: int
    unit_cost: Decimal
    currency: str | None = None  # None: the PO's


@dataclass(frozen=True)
class PoSpec:
    supplier: str
    lines: Sequence[PoLineSpec]
    currency: str | None = None
    location: str | None = None
    status: str = PoStatus.ORDERED.value
    note: str | None = None


@dataclass(frozen=True)
class QtySpec:
    sku: str
    qty: int


def check_unit_cost(value: Decimal, field: str) -> Decimal:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise Invalid("unit_cost must be a decimal string such as \"12.50\"", field=field)
    if value < 0:
        raise Invalid("unit_cost cannot be negative", field=field)
    if -value.as_tuple().exponent > UNIT_COST_PLACES:  # type: ignore[operator]
        raise Invalid(f"unit_cost has at most {UNIT_COST_PLACES} decimals", field=field)
    return value


def _check_qty(qty: object, field: str) -> int:
    if isinstance(qty, bool) or not isinstance(qty, int) or not 0 < qty <= MAX_QTY:
        raise Invalid(f"qty must be a whole number from 1 to {MAX_QTY}", field=field)
    return qty


def create_po(session: Session, spec: PoSpec, principal: Principal) -> PurchaseOrder:
    supplier = supplier_by_code(session, spec.supplier)
    currency = require_currency(spec.currency or supplier.currency)
    if spec.status not in (PoStatus.DRAFT.value, PoStatus.ORDERED.value):
        raise Invalid("a new purchase order is draft or ordered", field="status")
    location = location_by_code(session, spec.location, principal=principal) if spec.location else None
    if not spec.lines:
        raise Invalid("a purchase order needs at least one line", field="lines")
    now = utcnow()
    po = PurchaseOrder(supplier_id=supplier.id, supplier=supplier, status=spec.status, currency=currency,
                       location_id=location.id if location else None, location=location, note=spec.note,
                       created_by=principal.name, created_at=now, updated_at=now,
                       ordered_at=now if spec.status == PoStatus.ORDERED.value else None)
    seen: set[str] = set()
    for i, line in enumerate(spec.lines):
        where = f"lines[{i}]"
        qty = _check_qty(line.qty, f"{where}.qty")
        cost = check_unit_cost(line.unit_cost, f"{where}.unit_cost")
        sku = sku_by_code(session, line.sku, field=f"{where}.sku")
        if sku.is_bundle:
            raise Invalid(f"{sku.code!r} is a bundle; order its components", field=f"{where}.sku")
        if sku.code in seen:
            raise Invalid(f"{sku.code!r} is on the order twice; put it on one line", field=f"{where}.sku")
        seen.add(sku.code)
        priced_in = require_currency(line.currency, field=f"{where}.currency") if line.currency else currency
        # A line in the PO's own currency stores none, so that the PO's currency stays the one place to read it.
        po.lines.append(PurchaseOrderLine(sku_id=sku.id, sku=sku, qty=qty, unit_cost=cost,
                                          currency=priced_in if priced_in != currency else None))
    session.add(po)
    session.flush()
    audit.record(session, actor=principal.name, action="po.create", entity=f"po:{po.id}",
                 after={"supplier": supplier.code, "status": po.status, "currency": currency,
                        "lines": [{"sku": ln.sku.code, "qty": ln.qty, "unit_cost": str(ln.unit_cost),
                                   "currency": ln.priced_in(po)} for ln in po.lines]})
    if po.status == PoStatus.ORDERED.value:
        presale.on_order_changed(session, [ln.sku_id for ln in po.lines])
    return po


def get_po(session: Session, po_id: int, *, lock: bool = False) -> PurchaseOrder:
    stmt = select(PurchaseOrder).where(PurchaseOrder.id == po_id)
    if lock:
        stmt = stmt.with_for_update(of=PurchaseOrder)
    po = session.scalar(stmt)
    if po is None:
        raise NotFound(f"no purchase order {po_id}", field="id")
    return po


def _become(session: Session, po: PurchaseOrder, target: PoStatus, actor: str, reason: str | None) -> None:
    current = PoStatus(po.status)
    if not can_become(current, target):
        raise Conflict(f"purchase order {po.id} is {current.value}; it cannot become {target.value}",
                       field="status")
    now = utcnow()
    po.status, po.updated_at = target.value, now
    if target is PoStatus.ORDERED:
        po.ordered_at = now
    audit.record(session, actor=actor, action=f"po.{target.value}", entity=f"po:{po.id}",
                 before={"status": current.value}, after={"status": target.value}, reason=reason)


def place(session: Session, po_id: int, principal: Principal) -> PurchaseOrder:
    """Send a draft to the supplier: from now on its lines are on order."""
    po = get_po(session, po_id, lock=True)
    _become(session, po, PoStatus.ORDERED, principal.name, None)
    presale.on_order_changed(session, [ln.sku_id for ln in po.lines])
    return po


def cancel(session: Session, po_id: int, principal: Principal, reason: str | None = None) -> PurchaseOrder:
    """Nothing more is expected; what was received stays received."""
    po = get_po(session, po_id, lock=True)
    _become(session, po, PoStatus.CANCELLED, principal.name, reason)
    # Pre-sale orders counting on these goods may have lost their cover.
    presale.settle(session, [ln.sku_id for ln in po.lines], f"purchase order {po.id} cancelled")
    presale.on_order_changed(session, [ln.sku_id for ln in po.lines])
    return po


def _lines_by_sku(po: PurchaseOrder, wanted: Sequence[QtySpec]) -> list[tuple[int, PurchaseOrderLine, int]]:
    """(index, PO line, qty) for each requested line, sorted by SKU id: the ledger locks in that order."""
    if not wanted:
        raise Invalid("name at least one line", field="lines")
    by_code = {ln.sku.code: ln for ln in po.lines}
    seen: set[str] = set()
    out = []
    for i, item in enumerate(wanted):
        qty = _check_qty(item.qty, f"lines[{i}].qty")
        line = by_code.get(item.sku)
        if line is None:
            raise Invalid(f"{item.sku!r} is not on purchase order {po.id}", field=f"lines[{i}].sku")
        if item.sku in seen:
            raise Invalid(f"{item.sku!r} is named twice", field=f"lines[{i}].sku")
        seen.add(item.sku)
        out.append((i, line, qty))
    return sorted(out, key=lambda t: t[1].sku_id)


def receive(session: Session, books: Books, po_id: int, location: str, lines: Sequence[QtySpec],
            principal: Principal, *, reason: str | None = None) -> PurchaseOrder:
    """Receive a delivery at `location`. Each line may bring at most what is still outstanding plus the
    supplier's over-receipt tolerance."""
    po = get_po(session, po_id, lock=True)
    if PoStatus(po.status) not in (PoStatus.ORDERED, PoStatus.PARTIALLY_RECEIVED):
        raise Conflict(f"purchase order {po.id} is {po.status}; only an ordered one can be received",
                       field="status")
    location_by_code(session, location, principal=principal)
    tolerance = po.supplier.over_receipt_percent
    todo = _lines_by_sku(po, lines)
    for i, line, qty in todo:
        allowed = still_receivable(line.qty, line.received, tolerance)
        if qty > allowed:
            raise Invalid(f"{line.sku.code}: ordered {line.qty}, received {line.received}; at most {allowed} "
                          f"more may come in (over-receipt tolerance {tolerance.normalize():f} %)",
                          field=f"lines[{i}].qty")
    rates = RateTable(session, books)
    day = books.day_of(po.ordered_at or po.created_at)
    # Every line converts at the rate of the PO's day, whatever its currency; checked before anything is written.
    rates.check(sorted({line.priced_in(po) for _, line, _ in todo}), day)
    for i, line, qty in todo:
        move = _ledger_move(session, ledger.MoveSpec(line.sku.code, location, MoveKind.RECEIPT, qty,
                                                     reason=reason, reference=f"po:{po.id}"), principal, i)
        cost = rates.to_base(line.unit_cost, line.priced_in(po), day, places=UNIT_COST_PLACES)
        costbook.post(session, [costbook.Posting(line.sku_id, CostEvent.PURCHASE, qty, unit_cost=cost,
                                                 reference=f"po:{po.id}", move_id=move)], books.base)
        line.received += qty
    before = po.status
    po.status = status_after_receipt((ln.qty, ln.received) for ln in po.lines).value
    po.updated_at = utcnow()
    audit.record(session, actor=principal.name, action="po.receive", entity=f"po:{po.id}",
                 before={"status": before}, after={"status": po.status, "location": location,
                                                   "lines": [{"sku": ln.sku.code, "qty": q} for _, ln, q in todo]},
                 reason=reason)
    # The goods are here: pre-sale orders waiting for them are reserved, oldest first, in this transaction.
    presale.settle(session, [ln.sku_id for _, ln, _ in todo], f"goods received on purchase order {po.id}")
    return po


def return_goods(session: Session, books: Books, po_id: int, location: str, lines: Sequence[QtySpec],
                 principal: Principal, *, reason: str | None = None) -> PurchaseOrder:
    """Send received goods back to the supplier from `location`: adjustment moves out, at the average cost."""
    po = get_po(session, po_id, lock=True)
    location_by_code(session, location, principal=principal)
    todo = _lines_by_sku(po, lines)
    for i, line, qty in todo:
        if qty > line.received - line.returned:
            raise Invalid(f"{line.sku.code}: received {line.received}, returned {line.returned}; cannot return "
                          f"{qty}", field=f"lines[{i}].qty")
    why = f"returned to supplier {po.supplier.code}" + (f": {reason}" if reason else "")
    for i, line, qty in todo:
        move = _ledger_move(session, ledger.MoveSpec(line.sku.code, location, MoveKind.ADJUSTMENT, -qty,
                                                     reason=why, reference=f"po:{po.id}"), principal, i)
        costbook.post(session, [costbook.Posting(line.sku_id, CostEvent.SUPPLIER_RETURN, qty,
                                                 reference=f"po:{po.id}", move_id=move)], books.base)
        line.returned += qty
    po.updated_at = utcnow()
    audit.record(session, actor=principal.name, action="po.return", entity=f"po:{po.id}",
                 after={"location": location, "lines": [{"sku": ln.sku.code, "qty": q} for _, ln, q in todo]},
                 reason=reason)
    return po


def _ledger_move(session: Session, spec: ledger.MoveSpec, principal: Principal, index: int) -> int:
    """Post through the core ledger (levels, audit, dirty listings) and leave the costing to us."""
    try:
        with costbook.costed_by_caller(session):
            return ledger.post_move(session, spec, principal).moves[0].id
    except OmnistockError as exc:
        if exc.field in ("qty", "sku"):
            exc.field = f"lines[{index}].{exc.field}"
        raise


def list_pos(session: Session, *, status: str | None = None, supplier: str | None = None, limit: int = 50,
             cursor: str | None = None) -> Page[PurchaseOrder]:
    stmt = select(PurchaseOrder)
    if status:
        if status not in {s.value for s in PoStatus}:
            raise Invalid(f"status must be one of {', '.join(s.value for s in PoStatus)}", field="status")
        stmt = stmt.where(PurchaseOrder.status == status)
    if supplier:
        stmt = stmt.where(PurchaseOrder.supplier_id == supplier_by_code(session, supplier).id)
    return page_query(session, stmt, PurchaseOrder.id, limit=limit, cursor=cursor)
