"""Cleaning imported or existing data: probable duplicate SKUs with a merge, and the repairs list (negative stock,
orphan reservations, duplicates) with each suggested fix. Every change needs a reason and is confirmed first;
the services (`onboarding.merge`, `onboarding.repair`) record it in the audit trail."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from omnistock.api.deps import run
from omnistock.domain.access import Permission
from omnistock.errors import OmnistockError
from omnistock.onboarding import duplicates, merge, repair
from omnistock.web.context import Post, Seen, Visitor, posted_values, require, whole_business
from omnistock.web.forms import Errors, required_text, whole
from omnistock.web.render import render
from omnistock.web.routing import console_router

router = console_router()


def _duplicates_page(request: Request, who: Visitor, *, errors: Errors | None = None, confirm: bool = False,
                     status: int = 200) -> Response:
    whole_business(who)
    with request.app.state.db.reading() as session:
        groups = duplicates.find_duplicates(session)
    return render(request, "onboarding/duplicates.html", {
        "groups": groups, "errors": errors or Errors(), "confirm": confirm, "posted": posted_values(request),
        "merged": request.query_params.get("merged"), "into": request.query_params.get("into")}, status=status)


@router.get("/onboarding/duplicates")
def duplicates_page(request: Request, who: Seen) -> Response:
    return _duplicates_page(request, who)


@router.post("/onboarding/duplicates/merge")
def merge_post(request: Request, post: Post) -> Response:
    who, form = post.visitor, post.form
    require(who, Permission.CATALOGUE_WRITE)
    whole_business(who)
    request.state.posted = form
    text = who.language.text
    errors = Errors("survivor", "duplicate", "reason")
    survivor, duplicate = form.get("survivor"), form.get("duplicate")
    reason = required_text(form, "reason", text, errors)
    if not survivor or not duplicate:
        errors["form"] = text.gettext("Choose the SKU to keep and the one to merge into it.")
    if errors:
        return _duplicates_page(request, who, errors=errors, status=422)
    if form.get("confirmed") != "1":
        return _duplicates_page(request, who, errors=errors, confirm=True)
    try:
        run(request.app.state.db, lambda session: merge.merge_skus(session, survivor, duplicate, reason=reason,
                                                                   actor=who.principal.name))
    except OmnistockError as exc:
        errors.take(exc, text)
        return _duplicates_page(request, who, errors=errors, status=exc.status)
    return RedirectResponse("/onboarding/duplicates?" + urlencode({"merged": duplicate, "into": survivor}),
                            status_code=303)


def _repairs_page(request: Request, who: Visitor, *, errors: Errors | None = None, confirm: bool = False,
                  status: int = 200) -> Response:
    whole_business(who)
    with request.app.state.db.reading() as session:
        issues = repair.find_issues(session)
    values: dict[str, Any] = {"issues": issues, "errors": errors or Errors(), "confirm": confirm,
                              "posted": posted_values(request), "done": request.query_params.get("done")}
    return render(request, "onboarding/repairs.html", values, status=status)


@router.get("/onboarding/repairs")
def repairs_page(request: Request, who: Seen) -> Response:
    return _repairs_page(request, who)


@router.post("/onboarding/repairs/apply")
def repair_post(request: Request, post: Post) -> Response:
    who, form = post.visitor, post.form
    require(who, Permission.STOCK_WRITE)
    whole_business(who)
    issue = form.get("issue")
    if issue.startswith("duplicate:"):
        require(who, Permission.CATALOGUE_WRITE)  # a duplicate's fix is a merge, as in the API
    request.state.posted = form
    text = who.language.text
    errors = Errors("issue", "reason", "qty")
    reason = required_text(form, "reason", text, errors)
    qty = whole(form, "qty", text, errors, required=False)
    if not issue:
        errors["form"] = text.gettext("Choose the problem to repair.")
    if errors:
        return _repairs_page(request, who, errors=errors, status=422)
    if form.get("confirmed") != "1":
        return _repairs_page(request, who, errors=errors, confirm=True)
    try:
        done = run(request.app.state.db, lambda session: repair.apply_fix(session, issue, who.principal,
                                                                          reason=reason, qty=qty))
    except OmnistockError as exc:
        errors.take(exc, text)
        return _repairs_page(request, who, errors=errors, status=exc.status)
    return RedirectResponse("/onboarding/repairs?" + urlencode({"done": done}), status_code=303)
