"""SKUs and locations."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select

from omnistock.api.deps import DB, Reader, require, run
from omnistock.api.schemas import LocationIn, SkuIn, SkuPatch
from omnistock.api.views import location_view, sku_view
from omnistock.domain.access import Permission, Principal
from omnistock.errors import Forbidden
from omnistock.services import catalogue
from omnistock.services.lookup import sku_by_code
from omnistock.store.paging import page_query
from omnistock.store.tables import Location

router = APIRouter(prefix="/api/v1", tags=["catalogue"])
CatalogueWriter = Annotated[Principal, Depends(require(Permission.CATALOGUE_WRITE))]
ConfigWriter = Annotated[Principal, Depends(require(Permission.CONFIG_WRITE))]


def _not_scoped(principal: Principal) -> None:
    if principal.scoped:
        raise Forbidden("the catalogue is shared by every store; a scoped token cannot change it")


@router.post("/skus", status_code=201)
def create_sku(body: SkuIn, principal: CatalogueWriter, db: DB) -> dict[str, Any]:
    _not_scoped(principal)
    spec = catalogue.SkuSpec(code=body.code, name=body.name, unit=body.unit, barcode=body.barcode,
                             safety_stock=body.safety_stock, active=body.active,
                             components=[catalogue.ComponentSpec(c.sku, c.qty) for c in body.components])

    def action(session: Any) -> dict[str, Any]:
        sku = catalogue.create_sku(session, spec, actor=principal.name)
        return sku_view(catalogue.figures(session, sku, principal))
    return run(db, action)


@router.get("/skus")
def list_skus(principal: Reader, db: DB, q: str | None = None, limit: Annotated[int, Query()] = 50,
              cursor: str | None = None) -> dict[str, Any]:
    with db.reading() as session:
        page = catalogue.list_skus(session, principal, search=q, limit=limit, cursor=cursor)
        return {"items": [sku_view(f) for f in page.items], "total": page.total, "next": page.next}


@router.get("/skus/{code}")
def get_sku(code: str, principal: Reader, db: DB) -> dict[str, Any]:
    with db.reading() as session:
        return sku_view(catalogue.figures(session, sku_by_code(session, code, field="code"), principal))


@router.patch("/skus/{code}")
def update_sku(code: str, body: SkuPatch, principal: CatalogueWriter, db: DB) -> dict[str, Any]:
    _not_scoped(principal)
    changes = body.model_dump(exclude_unset=True, exclude={"reason"})

    def action(session: Any) -> dict[str, Any]:
        sku = catalogue.update_sku(session, code, changes, actor=principal.name, reason=body.reason)
        return sku_view(catalogue.figures(session, sku, principal))
    return run(db, action)


@router.post("/locations", status_code=201)
def create_location(body: LocationIn, principal: ConfigWriter, db: DB) -> dict[str, Any]:
    return run(db, lambda s: location_view(catalogue.create_location(
        s, code=body.code, name=body.name, kind=body.kind, sellable=body.sellable, actor=principal.name)))


@router.get("/locations")
def list_locations(principal: Reader, db: DB, limit: int = 100, cursor: str | None = None) -> dict[str, Any]:
    stmt = select(Location)
    if principal.locations is not None:  # a store manager sees only their stores
        stmt = stmt.where(Location.code.in_(sorted(principal.locations)))
    with db.reading() as session:
        page = page_query(session, stmt, Location.id, limit=limit, cursor=cursor)
        return {"items": [location_view(loc) for loc in page.items], "total": page.total, "next": page.next}
