"""Bringing data in (数据导入): the steps in the order that keeps a merchant's data safe, the import templates,
and each import — upload a CSV/XLSX file, read the dry-run report, then confirm to apply it (the service takes
the automatic backup first) — with the totals check and the spot-count sheet after a stock import."""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from omnistock.domain.access import Permission, Principal
from omnistock.errors import Invalid, NotFound, OmnistockError
from omnistock.onboarding import imports, spotcheck, templates
from omnistock.web.context import Form, Seen, Visitor, require, whole_business
from omnistock.web.forms import Errors
from omnistock.web.i18n import Text
from omnistock.web.import_view import KINDS, ImportView, of_plan, of_report
from omnistock.web.reads import onboarding as reads
from omnistock.web.reads.orders import location_codes
from omnistock.web.render import render
from omnistock.web.routing import console_router
from omnistock.web.uploads import Upload, Uploaded, UploadedFile

router = console_router()
# What each import needs, as the API asks it (a listing import maps platform items: channel configuration).
NEEDS = {"catalogue": Permission.CATALOGUE_WRITE, "stock": Permission.STOCK_WRITE,
         "spotcheck": Permission.STOCK_WRITE, "listings": Permission.CONFIG_WRITE}
SAMPLE_SIZE = 30


def import_title(text: Text, kind: str) -> str:
    return {"catalogue": text.gettext("Import the catalogue"), "stock": text.gettext("Import opening stock"),
            "listings": text.gettext("Import platform listings"),
            "spotcheck": text.gettext("Import a spot count")}[kind]


def sheet_lang(who: Visitor) -> str:
    """The header language of templates and sheets: the visitor's."""
    return "zh" if who.language.locale == "zh_CN" else "en"


def _download(data: bytes, media_type: str, name: str) -> Response:
    return Response(data, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"',
                                                          "Cache-Control": "no-store",
                                                          "X-Content-Type-Options": "nosniff"})


@router.get("/onboarding")
def hub(request: Request, who: Seen) -> Response:
    whole_business(who)
    with request.app.state.db.reading() as session:
        return render(request, "onboarding/hub.html", {
            "runs": reads.recent_runs(session), "locations": location_codes(session, None),
            "sample_size": SAMPLE_SIZE, "sheet_lang": sheet_lang(who)})


@router.get("/onboarding/templates/{kind}")
def template_download(kind: str, request: Request, who: Seen, lang: str | None = None,
                      format: str = "xlsx") -> Response:
    """An empty template with the headers the import reads (Chinese or English)."""
    whole_business(who)
    data, media_type, name = templates.template(kind, lang or sheet_lang(who), format)
    return _download(data, media_type, name)


@router.get("/onboarding/spotcheck")
def spotcheck_download(request: Request, who: Seen, location: str = "", size: str = "",
                       lang: str | None = None) -> Response:
    """A random sample of a location's SKUs to count by hand (人工抽检), as an XLSX sheet."""
    whole_business(who)
    if not location:
        raise Invalid("choose the location to spot-count", field="location")
    count = int(size) if size.isdigit() else SAMPLE_SIZE
    with request.app.state.db.reading() as session:
        data, _picked = spotcheck.sample_sheet(session, who.principal, location=location, size=count,
                                               lang=lang or sheet_lang(who))
    return _download(data, templates.XLSX, f"spotcheck-{location}.xlsx")


def _import_page(request: Request, who: Visitor, kind: str, *, errors: Errors | None = None,
                 view: ImportView | None = None, upload: UploadedFile | None = None,
                 posted: Form | None = None, notice: str | None = None, status: int = 200) -> Response:
    with request.app.state.db.reading() as session:
        values: dict[str, Any] = {
            "kind": kind, "title": import_title(who.language.text, kind), "errors": errors or Errors(), "view": view,
            "notice": notice, "upload": None,
            "posted": posted.values() if posted else {}, "sheet_lang": sheet_lang(who),
            "may_import": who.can(NEEDS[kind]), "sample_size": SAMPLE_SIZE,
            "locations": location_codes(session, None) if kind in ("stock", "spotcheck") else [],
            "channels": reads.channel_choices(session) if kind == "listings" else []}
    if upload is not None and view is not None and view.can_apply:
        # The confirmation sends the very file that was checked (its SHA-256 is checked on the way back).
        values["upload"] = {"name": upload.name, "content_type": upload.content_type or "",
                            "data": base64.b64encode(upload.data).decode("ascii"),
                            "sha256": hashlib.sha256(upload.data).hexdigest()}
    return render(request, "onboarding/import.html", values, status=status)


def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise NotFound(f"no import of {kind!r}")
    return kind


@router.get("/onboarding/imports/{kind}")
def import_form(kind: str, request: Request, who: Seen) -> Response:
    whole_business(who)
    return _import_page(request, who, _kind(kind))


def _confirmed_file(form: Form) -> UploadedFile | None:
    """The file sent back by the confirmation form, if it came back whole."""
    try:
        data = base64.b64decode(form.get("file_data"), validate=True)
    except (binascii.Error, ValueError):
        return None
    if not data or hashlib.sha256(data).hexdigest() != form.get("file_sha256"):
        return None
    return UploadedFile(form.get("file_name"), form.get("file_type") or None, data)


def _run(request: Request, principal: Principal, kind: str, upload: UploadedFile, form: Form, *,
         dry_run: bool) -> ImportView:
    db = request.app.state.db
    file = imports.ImportFile(upload.data, upload.name or None, upload.content_type)
    if kind == "catalogue":
        return of_report(imports.import_catalogue(db, file, principal, dry_run=dry_run))
    if kind in ("stock", "spotcheck"):
        return of_report(imports.import_stock(db, file, principal, location=form.get("location") or None,
                                              dry_run=dry_run, spot_check=kind == "spotcheck"))
    plan = imports.import_listings(db, file, principal, channel=form.get("channel"), dry_run=dry_run)
    return of_plan(plan, dry_run=dry_run)


def _file_problem(exc: OmnistockError, errors: Errors, text: Text) -> None:
    """A refusal of the whole file (unreadable, a header missing...) goes next to the file field."""
    if exc.field in errors.fields:
        errors.take(exc, text)
    else:
        errors["file"] = f"{text.gettext('The file cannot be imported.')} ({exc.message})"


def _handle(request: Request, kind: str, upload_form: Upload) -> Response:
    who, form = upload_form.visitor, upload_form.form
    require(who, NEEDS[kind])
    whole_business(who)
    text = who.language.text
    errors = Errors("file", "location", "channel")
    applying = form.get("apply") == "1"
    upload = _confirmed_file(form) if applying else upload_form.files.get("file")
    if upload is None:
        errors["file"] = text.gettext("The file did not come back whole; choose it again.") if applying else \
            text.gettext("Choose a CSV or XLSX file.")
    if kind == "listings" and not form.get("channel"):
        errors["channel"] = text.gettext("Required.")
    if errors or upload is None:
        return _import_page(request, who, kind, errors=errors, posted=form, status=422)
    notice = None
    try:
        view = _run(request, who.principal, kind, upload, form, dry_run=not applying)
    except Invalid as exc:
        if not applying:
            _file_problem(exc, errors, text)
            return _import_page(request, who, kind, errors=errors, posted=form, status=exc.status)
        # Refused on applying (the database changed since the check): the dry run says what is wrong now.
        try:
            view = _run(request, who.principal, kind, upload, form, dry_run=True)
        except Invalid as again:
            _file_problem(again, errors, text)
            return _import_page(request, who, kind, errors=errors, posted=form, status=again.status)
        notice = text.gettext("Nothing was imported: the file no longer passes the check.")
    except OmnistockError as exc:
        errors.take(exc, text)
        return _import_page(request, who, kind, errors=errors, posted=form, status=exc.status)
    status = 422 if view.problem_count else 200
    return _import_page(request, who, kind, view=view, upload=upload, posted=form, notice=notice, status=status)


@router.post("/onboarding/imports/{kind}")
async def import_post(kind: str, request: Request, upload: Uploaded) -> Response:
    """First the dry run of the uploaded file; applied only when its confirmation comes back (`apply=1`)."""
    return await run_in_threadpool(_handle, request, _kind(kind), upload)

