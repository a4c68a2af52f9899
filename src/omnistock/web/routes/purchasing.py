"""Purchasing in the console: suppliers (list, add), purchase orders (list, create with lines, place a draft,
receive a delivery into a location, in part or in full, cancel after a confirmation)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from omnistock.api.deps import run
from omnistock.domain.access import Permission
from omnistock.domain.purchasing import PoStatus, on_order, outstanding
from omnistock.errors import OmnistockError
from omnistock.money import purchasing, suppliers
from omnistock.money.currency import Books
from omnistock.money.tables import PurchaseOrder
from omnistock.web.context import Form, Post, Seen, Visitor, posted_values, require
from omnistock.web.forms import Errors, decimal_number, optional_text, required_text, whole
from omnistock.web.i18n import Text
from omnistock.web.reads import orders as order_reads
from omnistock.web.reads import purchasing as reads
from omnistock.web.reads.paging import page_number
from omnistock.web.render import render
from omnistock.web.routing import console_router

router = console_router()
NEW_PO_ROWS = 8  # blank line rows on the new purchase order form; empty rows are left out
SUPPLIER_FIELDS = ("code", "name", "currency", "lead_time_days", "contact", "over_receipt_percent")
LINE_FIELDS = ("sku", "qty", "unit_cost", "currency")


def po_status_label(text: Text) -> Callable[[str], str]:
    names = {"draft": text.pgettext("purchase order status", "Draft"),
             "ordered": text.pgettext("purchase order status", "Ordered"),
             "partially_received": text.pgettext("purchase order status", "Partly received"),
             "received": text.pgettext("purchase order status", "Received"),
             "cancelled": text.pgettext("purchase order status", "Cancelled")}
    return lambda status: names.get(status, status)


def expected(po: PurchaseOrder) -> int:
    """Units the PO still brings (what counts as on order)."""
    return sum(on_order(PoStatus(po.status), ln.qty, ln.received) for ln in po.lines)


def _labels(who: Visitor) -> dict[str, Any]:
    return {"po_status_label": po_status_label(who.language.text), "outstanding": outstanding, "expected": expected}


@router.get("/purchasing")
def purchasing_home(who: Seen) -> Response:
    return RedirectResponse("/purchasing/orders", status_code=303)


# --- suppliers -----------------------------------------------------------------------------------


def _suppliers_page(request: Request, who: Visitor, *, errors: Errors | None = None, status: int = 200) -> Response:
    with request.app.state.db.reading() as session:
        found = reads.suppliers(session, page=page_number(request.query_params.get("page")))
        return render(request, "money/suppliers.html", {
            "found": found, "errors": errors or Errors(), "posted": posted_values(request),
            "base": Books.of(request.app.state.settings).base, "done": request.query_params.get("done")},
            status=status)


@router.get("/purchasing/suppliers")
def supplier_list(request: Request, who: Seen) -> Response:
    return _suppliers_page(request, who)


@router.post("/purchasing/suppliers")
def supplier_create(request: Request, post: Post) -> Response:
    who, form = post.visitor, post.form
    require(who, Permission.CATALOGUE_WRITE)
    request.state.posted = form
    text = who.language.text
    errors = Errors(*SUPPLIER_FIELDS)
    code = required_text(form, "code", text, errors, max_length=64)
    name = required_text(form, "name", text, errors, max_length=200)
    lead = whole(form, "lead_time_days", text, errors, required=False, default=0)
    tolerance = decimal_number(form, "over_receipt_percent", text, errors)
    contact = optional_text(form, "contact", text, errors, max_length=500)
    if not errors:
        spec = suppliers.SupplierSpec(code, name, form.get("currency").upper() or Books.of(request.app.state.settings)
                                      .base, lead or 0, contact, tolerance if tolerance is not None else Decimal(0))
        try:
            run(request.app.state.db, lambda s: suppliers.create_supplier(s, spec, actor=who.principal.name))
            return RedirectResponse("/purchasing/suppliers?done=created", status_code=303)
        except OmnistockError as exc:
            if exc.status == 403:
                raise
            errors.take(exc, text)
            return _suppliers_page(request, who, errors=errors, status=exc.status)
    return _suppliers_page(request, who, errors=errors, status=422)


# --- purchase orders -----------------------------------------------------------------------------


@router.get("/purchasing/orders")
def po_list(request: Request, who: Seen, status: str | None = None, supplier: str | None = None,
            page: str | None = None) -> Response:
    status = status if status in reads.STATUSES else None
    with request.app.state.db.reading() as session:
        found = reads.purchase_orders(session, status=status, supplier=supplier or None, page=page_number(page))
        label = po_status_label(who.language.text)
        return render(request, "money/orders.html", {
            "found": found, "status": status, "supplier": supplier or "",
            "statuses": [(s, label(s)) for s in reads.STATUSES], "suppliers": reads.supplier_choices(session),
            **_labels(who)})


def _new_page(request: Request, who: Visitor, *, errors: Errors | None = None, status: int = 200) -> Response:
    with request.app.state.db.reading() as session:
        return render(request, "money/order_new.html", {
            "suppliers": reads.supplier_choices(session),
            "locations": order_reads.location_codes(session, who.principal),
            "rows": range(NEW_PO_ROWS), "errors": errors or Errors(), "posted": posted_values(request)}, status=status)


@router.get("/purchasing/orders/new")
def po_new(request: Request, who: Seen) -> Response:
    require(who, Permission.STOCK_WRITE)
    return _new_page(request, who)


def _new_lines(form: Form, text: Text, errors: Errors) -> tuple[list[purchasing.PoLineSpec], list[int]]:
    """The filled rows as PO lines, and the form row of each (service errors name the line's index)."""
    lines, rows = [], []
    for i in range(NEW_PO_ROWS):
        sku = form.get(f"lines[{i}].sku")
        if not sku:
            continue
        qty = whole(form, f"lines[{i}].qty", text, errors)
        cost = decimal_number(form, f"lines[{i}].unit_cost", text, errors)
        if cost is None and f"lines[{i}].unit_cost" not in errors:
            errors[f"lines[{i}].unit_cost"] = text.gettext("Required.")
        if qty is not None and cost is not None:
            lines.append(purchasing.PoLineSpec(sku, qty, cost, form.get(f"lines[{i}].currency").upper() or None))
            rows.append(i)
    return lines, rows


def _renumbered(exc: OmnistockError, rows: Sequence[int]) -> OmnistockError:
    """A service error naming `lines[k]` of the lines sent, renamed after the form row it came from."""
    field = exc.field or ""
    if field.startswith("lines[") and "]" in field:
        index = field[6:field.index("]")]
        if index.isdigit() and int(index) < len(rows):
            exc.field = f"lines[{rows[int(index)]}]{field[field.index(']') + 1:]}"
    return exc


@router.post("/purchasing/orders/new")
def po_create(request: Request, post: Post) -> Response:
    who, form = post.visitor, post.form
    require(who, Permission.STOCK_WRITE)
    request.state.posted = form
    text = who.language.text
    errors = Errors("supplier", "currency", "location", "status", "note", "lines",
                    *[f"lines[{i}].{f}" for i in range(NEW_PO_ROWS) for f in LINE_FIELDS])
    supplier = required_text(form, "supplier", text, errors, max_length=64)
    note = optional_text(form, "note", text, errors, max_length=2000)
    lines, rows = _new_lines(form, text, errors)
    if not lines and not errors:
        errors["lines"] = text.gettext("Enter at least one line.")
    if not errors:
        spec = purchasing.PoSpec(supplier, lines, form.get("currency").upper() or None, form.get("location") or None,
                                 PoStatus.DRAFT.value if form.get("draft") else PoStatus.ORDERED.value, note)
        try:
            po_id = run(request.app.state.db, lambda s: purchasing.create_po(s, spec, who.principal).id)
            return RedirectResponse(f"/purchasing/orders/{po_id}?done=created", status_code=303)
        except OmnistockError as exc:
            if exc.status == 403:
                raise
            errors.take(_renumbered(exc, rows), text)
            return _new_page(request, who, errors=errors, status=exc.status)
    return _new_page(request, who, errors=errors, status=422)


def _po_page(request: Request, who: Visitor, po_id: int, *, errors: Errors | None = None,
             confirm: str | None = None, status: int = 200) -> Response:
    with request.app.state.db.reading() as session:
        po = purchasing.get_po(session, po_id)
        return render(request, "money/order.html", {
            "po": po, "locations": order_reads.location_codes(session, who.principal),
            "receivable": PoStatus(po.status) in (PoStatus.ORDERED, PoStatus.PARTIALLY_RECEIVED),
            "cancellable": PoStatus(po.status) in (PoStatus.DRAFT, PoStatus.ORDERED, PoStatus.PARTIALLY_RECEIVED),
            "errors": errors or Errors(), "confirm": confirm, "posted": posted_values(request),
            "done": request.query_params.get("done"), **_labels(who)}, status=status)


@router.get("/purchasing/orders/{po_id}")
def po_detail(po_id: int, request: Request, who: Seen) -> Response:
    return _po_page(request, who, po_id)


def _delivery(form: Form, po_lines: Sequence[Any], text: Text, errors: Errors) -> tuple[list[purchasing.QtySpec],
                                                                                         list[int]]:
    lines, rows = [], []
    for i, line in enumerate(po_lines):
        qty = whole(form, f"lines[{i}].qty", text, errors, required=False)
        if qty:
            lines.append(purchasing.QtySpec(line.sku.code, qty))
            rows.append(i)
    if not lines and not errors:
        errors["lines"] = text.gettext("Enter the quantity received on at least one line.")
    return lines, rows


@router.post("/purchasing/orders/{po_id}/{action}")
def po_action(po_id: int, action: str, request: Request, post: Post) -> Response:
    who, form = post.visitor, post.form
    require(who, Permission.STOCK_WRITE)
    request.state.posted = form
    text = who.language.text
    db, books = request.app.state.db, Books.of(request.app.state.settings)
    if action not in ("place", "receive", "cancel"):
        return _po_page(request, who, po_id, status=404)
    with db.reading() as session:
        po_lines = list(purchasing.get_po(session, po_id).lines)
    errors = Errors("location", "lines", "reason", "status", "currency",
                    *[f"lines[{i}].{f}" for i in range(len(po_lines)) for f in ("sku", "qty")])
    reason = optional_text(form, "reason", text, errors, max_length=500)
    if action == "cancel" and not form.get("confirmed"):
        return _po_page(request, who, po_id, confirm="cancel")
    rows: list[int] = []
    code = 422
    try:
        if action == "receive":
            location = required_text(form, "location", text, errors, max_length=64)
            lines, rows = _delivery(form, po_lines, text, errors)
            if not errors:
                run(db, lambda s: purchasing.receive(s, books, po_id, location, lines, who.principal, reason=reason))
        elif action == "place":
            run(db, lambda s: purchasing.place(s, po_id, who.principal))
        elif not errors:
            run(db, lambda s: purchasing.cancel(s, po_id, who.principal, reason))
    except OmnistockError as exc:
        if exc.status in (403, 404) and exc.field in (None, "id"):
            raise
        errors.take(_renumbered(exc, rows), text)
        code = exc.status
    if errors:
        return _po_page(request, who, po_id, errors=errors, status=code)
    return RedirectResponse(f"/purchasing/orders/{po_id}?done={action}", status_code=303)
