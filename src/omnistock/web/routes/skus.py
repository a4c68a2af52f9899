"""SKUs: the searchable list, and the SKU page with its figures per location, what each platform shows
against what it should, and the forms that move stock (reason required, large changes confirmed)."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from omnistock.api.deps import run
from omnistock.domain.access import Permission
from omnistock.domain.stock import MoveKind
from omnistock.errors import OmnistockError
from omnistock.services import catalogue, ledger
from omnistock.services.lookup import sku_by_code
from omnistock.web.context import Post, Seen, Visitor, posted_values, require
from omnistock.web.forms import Errors, is_large_change, optional_text, required_text, whole
from omnistock.web.reads import orders as order_reads
from omnistock.web.reads import sku_page, skus
from omnistock.web.reads.paging import page_number
from omnistock.web.render import render
from omnistock.web.routing import console_router

router = console_router()
FORM_KINDS = (MoveKind.RECEIPT, MoveKind.ADJUSTMENT, MoveKind.COUNT, MoveKind.TRANSFER)


@router.get("/skus")
def sku_list(request: Request, who: Seen, q: str | None = None, low: str | None = None,
             location: str | None = None, channel: str | None = None, page: str | None = None) -> Response:
    f = skus.SkuFilter(search=(q or "").strip() or None, low=bool(low), location=location or None,
                       channel=channel or None)
    with request.app.state.db.reading() as session:
        found = skus.list_page(session, who.principal, f, page=page_number(page))
        return render(request, "skus.html", {
            "found": found, "filter": f, "is_low": skus.is_low,
            "locations": order_reads.location_codes(session, who.principal),
            "channels": [(c, c) for c in order_reads.channel_codes(session, who.principal)]})


def _page(request: Request, who: Visitor, code: str, *, status: int = 200, kind: str | None = None,
          errors: Errors | None = None, confirm: bool = False) -> Response:
    with request.app.state.db.reading() as session:
        sku = sku_by_code(session, code, field="code")
        values: dict[str, Any] = {
            "sku": sku, "fig": catalogue.figures(session, sku, who.principal),
            "listings": sku_page.listings_of(session, sku, who.principal),
            "moves": sku_page.recent_moves(session, sku, who.principal),
            "locations": order_reads.location_codes(session, who.principal),
            # a transfer may send stock anywhere: the destination is not limited by the sender's scope
            "all_locations": order_reads.location_codes(session, None),
            "kinds": FORM_KINDS, "open_kind": kind, "errors": errors or Errors(), "confirm": confirm,
            "posted": posted_values(request), "form_key": secrets.token_urlsafe(16),
            "done": request.query_params.get("done")}
        return render(request, "sku.html", values, status=status)


@router.get("/skus/{code:path}")
def sku_detail(code: str, request: Request, who: Seen) -> Response:
    return _page(request, who, code)


@router.post("/skus/{code:path}/moves")
def post_move(code: str, request: Request, post: Post) -> Response:
    who, form = post.visitor, post.form
    require(who, Permission.STOCK_WRITE)
    request.state.posted = form
    text = who.language.text
    errors = Errors("kind", "location", "to_location", "qty", "reason", "reference")
    kind = next((k for k in FORM_KINDS if k.value == form.get("kind")), None)
    if kind is None:
        errors["kind"] = text.gettext("Choose what to do.")
        return _page(request, who, code, status=422, errors=errors)
    qty = whole(form, "qty", text, errors)
    location = form.get("location")
    if not location:
        errors["location"] = text.gettext("Required.")
    to_location = form.get("to_location") or None
    if kind is MoveKind.TRANSFER and not to_location:
        errors["to_location"] = text.gettext("Required.")
    reason = required_text(form, "reason", text, errors)
    reference = optional_text(form, "reference", text, errors)
    if errors or qty is None:
        return _page(request, who, code, status=422, kind=kind.value, errors=errors)
    if not form.get("confirmed") and is_large_change(kind, qty, _on_hand(request, who, code, location)):
        return _page(request, who, code, kind=kind.value, errors=errors, confirm=True)
    spec = ledger.MoveSpec(sku=code, location=location, kind=kind, qty=qty, to_location=to_location, reason=reason,
                           reference=reference, idempotency_key=f"console:{form.get('form_key')}"
                           if form.get("form_key") else None)
    try:
        run(request.app.state.db, lambda session: ledger.post_move(session, spec, who.principal))
    except OmnistockError as exc:
        errors.take(exc, text)
        return _page(request, who, code, status=exc.status, kind=kind.value, errors=errors)
    return RedirectResponse(f"/skus/{code}?done={kind.value}", status_code=303)


def _on_hand(request: Request, who: Visitor, code: str, location: str) -> int:
    with request.app.state.db.reading() as session:
        fig = catalogue.figures(session, sku_by_code(session, code, field="code"), who.principal)
    return next((lf.on_hand for lf in fig.locations if lf.location == location), 0)
