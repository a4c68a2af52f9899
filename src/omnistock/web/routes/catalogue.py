"""The catalogue: creating a SKU (a bundle with its components) and a location, through the same service functions
as the API (`services.catalogue`), with every problem shown next to its field; and the locations there are."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from omnistock.api.deps import run
from omnistock.domain.access import Permission
from omnistock.errors import OmnistockError
from omnistock.onboarding import units
from omnistock.services import catalogue
from omnistock.store.tables import Location
from omnistock.web.context import Form, Post, Seen, Visitor, posted_values, require, whole_business
from omnistock.web.forms import Errors, optional_text, required_text, whole
from omnistock.web.i18n import Text
from omnistock.web.reads.paging import numbered, page_number
from omnistock.web.render import render
from omnistock.web.routing import console_router

router = console_router()
COMPONENT_ROWS = 4  # component lines of the form; a bigger bundle comes from a catalogue import
SKU_FIELDS = ("code", "name", "unit", "barcode", "safety_stock",
              *[f"components[{i}].{part}" for i in range(COMPONENT_ROWS) for part in ("sku", "qty")])
LOCATION_FIELDS = ("code", "name", "kind", "sellable")


def _page(request: Request, who: Visitor, *, errors: dict[str, Errors] | None = None, status: int = 200) -> Response:
    whole_business(who)
    with request.app.state.db.reading() as session:
        values: dict[str, Any] = {
            "units": [(u.code, " / ".join((u.code, *u.names))) for u in units.list_units(session)],
            "locations": numbered(session, select(Location).order_by(Location.code),
                                  page=page_number(request.query_params.get("page"))),
            "location_kinds": catalogue.LOCATION_KINDS, "component_rows": COMPONENT_ROWS,
            "errors": errors or {}, "posted": posted_values(request), "done": request.query_params.get("done")}
        return render(request, "catalogue.html", values, status=status)


@router.get("/catalogue")
def catalogue_page(request: Request, who: Seen) -> Response:
    return _page(request, who)


def _components(form: Form, text: Text, errors: Errors) -> list[catalogue.ComponentSpec]:
    """The filled component lines; a line with a SKU needs a quantity (1 when left empty)."""
    found = []
    for i in range(COMPONENT_ROWS):
        code = form.get(f"components[{i}].sku")
        if not code:
            if form.get(f"components[{i}].qty"):
                errors[f"components[{i}].sku"] = text.gettext("Required.")
            continue
        qty = whole(form, f"components[{i}].qty", text, errors, required=False, default=1)
        found.append(catalogue.ComponentSpec(code, qty if qty is not None else 1))
    return found


@router.post("/catalogue/skus")
def sku_create(request: Request, post: Post) -> Response:
    who, form = post.visitor, post.form
    require(who, Permission.CATALOGUE_WRITE)
    whole_business(who)
    request.state.posted = form
    text = who.language.text
    errors = Errors(*SKU_FIELDS)
    code = required_text(form, "code", text, errors, max_length=64)
    name = required_text(form, "name", text, errors, max_length=200)
    unit = form.get("unit") or "pcs"
    with request.app.state.db.reading() as session:
        known = {u.code for u in units.list_units(session)}
    if unit not in known:
        errors["unit"] = text.gettext("Choose one of the units.")
    barcode = optional_text(form, "barcode", text, errors, max_length=32)
    safety = whole(form, "safety_stock", text, errors, required=False, default=0)
    components = _components(form, text, errors)
    if errors:
        return _page(request, who, errors={"sku": errors}, status=422)
    spec = catalogue.SkuSpec(code=code, name=name, unit=unit, barcode=barcode, safety_stock=safety or 0,
                             components=components)
    try:
        run(request.app.state.db, lambda session: catalogue.create_sku(session, spec, actor=who.principal.name))
    except OmnistockError as exc:
        errors.take(exc, text)
        return _page(request, who, errors={"sku": errors}, status=exc.status)
    return RedirectResponse(f"/skus/{code}?done=created", status_code=303)


@router.post("/catalogue/locations")
def location_create(request: Request, post: Post) -> Response:
    who, form = post.visitor, post.form
    require(who, Permission.CONFIG_WRITE)
    whole_business(who)
    request.state.posted = form
    text = who.language.text
    errors = Errors(*LOCATION_FIELDS)
    code = required_text(form, "code", text, errors, max_length=64)
    name = required_text(form, "name", text, errors, max_length=200)
    kind = form.get("kind")
    if kind not in catalogue.LOCATION_KINDS:
        errors["kind"] = text.gettext("Choose what kind of place it is.")
    if errors:
        return _page(request, who, errors={"location": errors}, status=422)
    try:
        run(request.app.state.db, lambda session: catalogue.create_location(
            session, code=code, name=name, kind=kind, sellable=form.get("sellable") == "1",
            actor=who.principal.name))
    except OmnistockError as exc:
        errors.take(exc, text)
        return _page(request, who, errors={"location": errors}, status=exc.status)
    return RedirectResponse(f"/catalogue?done=location&code={code}", status_code=303)
