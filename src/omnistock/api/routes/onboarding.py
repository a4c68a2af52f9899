"""Onboarding over HTTP: imports (CSV as text/csv or XLSX as its own media type in the body), templates, spot
count sheets, units, aliases, duplicates and merges, repairs, backups."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from omnistock.api import problems
from omnistock.api.deps import DB, Reader, require, run
from omnistock.api.views import when
from omnistock.domain.access import Permission, Principal
from omnistock.errors import Forbidden, OmnistockError
from omnistock.onboarding import aliases, backup, duplicates, imports, merge, repair, spotcheck, templates, units
from omnistock.onboarding.report import ImportReport
from omnistock.onboarding.schemas import AliasIn, MergeIn, RepairIn, UnitIn
from omnistock.onboarding.tables import ImportRun
from omnistock.store.paging import page_query

router = APIRouter(prefix="/api/v1", tags=["onboarding"])
CatalogueWriter = Annotated[Principal, Depends(require(Permission.CATALOGUE_WRITE))]
StockWriter = Annotated[Principal, Depends(require(Permission.STOCK_WRITE))]
ConfigWriter = Annotated[Principal, Depends(require(Permission.CONFIG_WRITE))]
BODY_TYPES = frozenset({"text/csv", "text/plain", "application/csv", "application/octet-stream", templates.XLSX,
                        "application/vnd.ms-excel.sheet.macroenabled.12"})


class UnsupportedMediaType(OmnistockError):
    status = 415
    title = "Unsupported media type"


def _not_scoped(principal: Principal) -> None:
    if principal.scoped:
        raise Forbidden("the catalogue is shared by every store; a scoped token cannot change it")


async def _upload(request: Request, name: str) -> imports.ImportFile:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in BODY_TYPES:
        raise UnsupportedMediaType(f"send the file as the body with Content-Type text/csv or {templates.XLSX}",
                                   field="content-type")
    return imports.ImportFile(await request.body(), name, content_type)


def _answer(report: ImportReport) -> JSONResponse:
    if report.problems:
        first = report.problems[0]
        return problems.problem(422, "Invalid input", report.summary(), field=first.column,
                                errors=[p.as_dict() for p in report.problems], report=report.as_dict())
    return JSONResponse(report.as_dict())


@router.post("/imports/catalogue")
async def import_catalogue(request: Request, principal: CatalogueWriter, db: DB,
                           dry_run: bool = False) -> JSONResponse:
    _not_scoped(principal)
    upload = await _upload(request, "catalogue upload")
    report = await run_in_threadpool(imports.import_catalogue, db, upload, principal, dry_run=dry_run)
    return _answer(report)


@router.post("/imports/stock")
async def import_stock(request: Request, principal: StockWriter, db: DB, location: str | None = None,
                       dry_run: bool = False) -> JSONResponse:
    upload = await _upload(request, "stock upload")
    report = await run_in_threadpool(imports.import_stock, db, upload, principal, location=location,
                                     dry_run=dry_run)
    return _answer(report)


@router.post("/imports/spotcheck")
async def import_spotcheck(request: Request, principal: StockWriter, db: DB, dry_run: bool = False) -> JSONResponse:
    upload = await _upload(request, "spot count upload")
    report = await run_in_threadpool(imports.import_stock, db, upload, principal, location=None, dry_run=dry_run,
                                     spot_check=True)
    return _answer(report)


@router.get("/imports/templates/{kind}")
def import_template(kind: str, principal: Reader, lang: str = "zh", format: str = "xlsx") -> Response:
    data, media_type, name = templates.template(kind, lang, format)
    return Response(data, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/imports/sample")
def import_sample(principal: Reader, db: DB, location: str, size: int = 30, lang: str = "zh",
                  seed: int | None = None) -> Response:
    with db.reading() as session:
        data, _ = spotcheck.sample_sheet(session, principal, location=location, size=size, lang=lang, seed=seed)
    return Response(data, media_type=templates.XLSX,
                    headers={"Content-Disposition": f'attachment; filename="spotcheck-{location}.xlsx"'})


@router.get("/imports")
def list_imports(principal: Reader, db: DB, request: Request, limit: int = 50,
                 cursor: str | None = None) -> dict[str, Any]:
    zone = request.app.state.settings.zone
    with db.reading() as session:
        page = page_query(session, select(ImportRun), ImportRun.id, limit=limit, cursor=cursor)
        items = [{"id": r.id, "kind": r.kind, "file_name": r.file_name, "sha256": r.file_sha256, "rows": r.rows,
                  "created": r.created, "updated": r.updated, "unchanged": r.unchanged, "backup": r.backup,
                  "actor": r.actor, "at": when(r.at, zone), "totals": r.totals} for r in page.items]
    return {"items": items, "total": page.total, "next": page.next}


# --- units, aliases, duplicates, merge -----------------------------------------------------------


@router.get("/units")
def list_units(principal: Reader, db: DB) -> dict[str, Any]:
    with db.reading() as session:
        items = [u.__dict__ | {"names": list(u.names)} for u in units.list_units(session)]
    return {"items": items, "total": len(items), "next": None}


@router.post("/units", status_code=201)
def define_unit(body: UnitIn, principal: CatalogueWriter, db: DB) -> dict[str, Any]:
    _not_scoped(principal)
    view = run(db, lambda s: units.define_unit(s, body.code, body.factor, body.base, name=body.name,
                                               actor=principal.name))
    return view.__dict__ | {"names": list(view.names)}


@router.get("/aliases")
def list_aliases(principal: Reader, db: DB, sku: str | None = None) -> dict[str, Any]:
    with db.reading() as session:
        items = [a.__dict__ for a in aliases.list_aliases(session, sku)]
    return {"items": items, "total": len(items), "next": None}


@router.post("/aliases", status_code=201)
def add_alias(body: AliasIn, principal: CatalogueWriter, db: DB) -> dict[str, Any]:
    _not_scoped(principal)
    return run(db, lambda s: aliases.add_alias(s, body.sku, body.alias, source=body.source,
                                               actor=principal.name).__dict__)


@router.delete("/aliases/{alias}", status_code=204)
def remove_alias(alias: str, principal: CatalogueWriter, db: DB) -> Response:
    _not_scoped(principal)
    run(db, lambda s: aliases.remove_alias(s, alias, actor=principal.name))
    return Response(status_code=204)


@router.get("/catalogue/duplicates")
def list_duplicates(principal: Reader, db: DB) -> dict[str, Any]:
    with db.reading() as session:
        items = [{"reason": g.reason, "survivor": g.survivor, "duplicates": list(g.duplicates)}
                 for g in duplicates.find_duplicates(session)]
    return {"items": items, "total": len(items), "next": None}


@router.post("/catalogue/merge")
def merge_skus(body: MergeIn, principal: CatalogueWriter, db: DB) -> dict[str, Any]:
    _not_scoped(principal)
    return run(db, lambda s: merge.merge_skus(s, body.survivor, body.duplicate, reason=body.reason,
                                              actor=principal.name).__dict__)


# --- repairs and backups -------------------------------------------------------------------------


@router.get("/repairs")
def list_repairs(principal: Reader, db: DB) -> dict[str, Any]:
    with db.reading() as session:
        items = [i.__dict__ for i in repair.find_issues(session)]
    return {"items": items, "total": len(items), "next": None}


@router.post("/repairs/{issue_id}/apply")
def apply_repair(issue_id: str, body: RepairIn, principal: StockWriter, db: DB) -> dict[str, Any]:
    if principal.scoped:
        raise Forbidden("repairs change stock and the catalogue everywhere; a scoped token cannot apply them")
    if issue_id.startswith("duplicate:") and not principal.can(Permission.CATALOGUE_WRITE):
        raise Forbidden("merging SKUs needs catalogue:write")
    done = run(db, lambda s: repair.apply_fix(s, issue_id, principal, reason=body.reason, qty=body.qty))
    return {"id": issue_id, "done": done}


@router.get("/backups")
def list_backups(principal: ConfigWriter, db: DB) -> dict[str, Any]:
    items = [{"file": str(b.path), "method": b.method, "size": b.size, "taken_at": b.taken_at.isoformat()}
             for b in backup.list_backups(db.settings)]
    return {"items": items, "total": len(items), "next": None}


@router.post("/backups", status_code=201)
async def create_backup(principal: ConfigWriter, db: DB) -> dict[str, Any]:
    taken = await run_in_threadpool(backup.automatic_backup, db, "manual")
    return {"file": str(taken.path), "method": taken.method, "size": taken.size,
            "taken_at": taken.taken_at.isoformat()}
