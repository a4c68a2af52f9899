"""Incidents: one cause behind many cases, and the bulk actions on all of them at once (message every
customer, compensate every case, resolve all with the fix). Resolving all is confirmed first."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from omnistock.api.deps import run
from omnistock.care import delivery, incident_actions, incidents
from omnistock.care.compensations import CompensationSpec
from omnistock.care.incident_actions import BulkResult
from omnistock.care.messages import ReplySpec
from omnistock.care.templates import all_templates
from omnistock.domain.access import Permission
from omnistock.errors import Invalid, NotFound, OmnistockError
from omnistock.store.types import utcnow
from omnistock.web.context import Form, Post, Seen, Visitor, posted_values, require
from omnistock.web.forms import Errors, decimal_number, required_text
from omnistock.web.reads import care as care_reads
from omnistock.web.render import render
from omnistock.web.routes.care_cases import CHANNELS, COMPENSATION_KINDS
from omnistock.web.routing import console_router

router = console_router()


@router.get("/care/incidents")
def incident_list(request: Request, who: Seen, status: str | None = None, cursor: str | None = None) -> Response:
    status = status if status in ("open", "resolved") else None
    with request.app.state.db.reading() as session:
        page = incidents.list_incidents(session, who.principal, status=status, limit=50, cursor=cursor or None)
        counts = care_reads.case_counts(session, [i.id for i in page.items])
        return render(request, "care/incidents.html", {"page": page, "counts": counts, "status": status,
                                                       "cursor": cursor, "errors": Errors()})


@router.post("/care/incidents")
def incident_open(request: Request, post: Post) -> Response:
    who, form = post.visitor, post.form
    require(who, Permission.CASES_WRITE)
    errors = Errors("title", "cause", "channel", "skus")
    title = required_text(form, "title", who.language.text, errors, max_length=200)
    spec = incidents.IncidentSpec(title=title, cause=form.get("cause") or None, channel=form.get("channel") or None,
                                  skus=tuple(s.strip() for s in form.get("skus").split(",") if s.strip()))
    if not errors:
        try:
            incident = run(request.app.state.db, lambda s: incidents.open_incident(s, spec, who.principal))
            return RedirectResponse(f"/care/incidents/{incident.id}", status_code=303)
        except OmnistockError as exc:
            if exc.status == 403:
                raise
            errors.take(exc, who.language.text)
    with request.app.state.db.reading() as session:
        page = incidents.list_incidents(session, who.principal, limit=50)
        counts = care_reads.case_counts(session, [i.id for i in page.items])
        return render(request, "care/incidents.html", {"page": page, "counts": counts, "status": None,
                                                       "cursor": None, "errors": errors, "posted": form.values()},
                      status=422)


def _page(request: Request, who: Visitor, incident_id: int, *, errors: dict[str, Errors] | None = None,
          result: BulkResult | None = None, confirm: str | None = None, status: int = 200) -> Response:
    with request.app.state.db.reading() as session:
        incident = incidents.get_incident(session, incident_id, who.principal)
        cases = incidents.cases_of(session, incident, who.principal)
        values = {"incident": incident, "cases": cases, "now": utcnow(), "due_of": care_reads.due_of,
                  "templates": sorted({t.key for t in all_templates(session)}), "channels": CHANNELS,
                  "compensation_kinds": COMPENSATION_KINDS, "errors": errors or {}, "result": result,
                  "confirm": confirm, "form_key": secrets.token_urlsafe(16),
                  "posted": posted_values(request)}
        return render(request, "care/incident.html", values, status=status)


@router.get("/care/incidents/{incident_id}")
def incident_detail(incident_id: int, request: Request, who: Seen) -> Response:
    return _page(request, who, incident_id)


def _case_ids(form: Form) -> list[int]:
    raw = [part.strip() for part in form.get("case_ids").replace("\n", ",").split(",") if part.strip()]
    if not raw or not all(part.isdigit() for part in raw):
        raise Invalid("give case numbers separated by commas", field="case_ids")
    return [int(part) for part in raw]


def _attach(request: Request, who: Visitor, incident_id: int, form: Form, errors: Errors) -> BulkResult | None:
    ids = _case_ids(form)
    run(request.app.state.db, lambda s: incidents.attach_cases(s, incident_id, ids, who.principal))
    return None


def _message(request: Request, who: Visitor, incident_id: int, form: Form, errors: Errors) -> BulkResult | None:
    settings = request.app.state.settings
    spec = ReplySpec(body=form.get("body") or None, template=form.get("template") or None,
                     subject=form.get("subject") or None, channel=form.get("channel") or "auto")
    result = run(request.app.state.db, lambda s: incident_actions.message_all(
        s, incident_id, who.principal, spec, settings, idempotency_key=form.get("form_key") or None))
    for message_id in result.message_ids:
        delivery.deliver(request.app.state.db, settings, message_id)
    return result


def _compensate(request: Request, who: Visitor, incident_id: int, form: Form, errors: Errors) -> BulkResult | None:
    text = who.language.text
    spec = CompensationSpec(kind=form.get("kind") or "standard", amount=decimal_number(form, "amount", text, errors),
                            percent=decimal_number(form, "percent", text, errors), note=form.get("note") or None)
    if errors:
        return None
    settings = request.app.state.settings
    return run(request.app.state.db, lambda s: incident_actions.compensate_all(
        s, incident_id, who.principal, spec, settings, idempotency_key=form.get("form_key") or None))


def _resolve(request: Request, who: Visitor, incident_id: int, form: Form, errors: Errors) -> BulkResult | None:
    return run(request.app.state.db, lambda s: incident_actions.resolve_all(
        s, incident_id, who.principal, fix=form.get("fix") or None, note=form.get("note") or None))


Action = Callable[[Request, Visitor, int, Form, Errors], BulkResult | None]
ACTIONS: dict[str, tuple[Action, tuple[str, ...]]] = {
    "attach": (_attach, ("case_ids",)),
    "message": (_message, ("body", "template", "subject", "channel")),
    "compensate": (_compensate, ("kind", "amount", "percent", "note")),
    "resolve": (_resolve, ("fix", "note")),
}


@router.post("/care/incidents/{incident_id}/{action}")
def incident_action(incident_id: int, action: str, request: Request, post: Post) -> Response:
    who, form = post.visitor, post.form
    require(who, Permission.CASES_WRITE)
    request.state.posted = form
    if action not in ACTIONS:
        raise NotFound("no such incident action")
    if action == "resolve" and not form.get("confirmed"):
        return _page(request, who, incident_id, confirm="resolve")
    handler, fields = ACTIONS[action]
    errors = Errors(*fields)
    result: Any = None
    try:
        result = handler(request, who, incident_id, form, errors)
    except OmnistockError as exc:
        if exc.status in (403, 404) and exc.field in (None, "id"):
            raise
        errors.take(exc, who.language.text)
    if errors:
        return _page(request, who, incident_id, errors={action: errors}, status=422)
    if result is None:
        return RedirectResponse(f"/care/incidents/{incident_id}", status_code=303)
    return _page(request, who, incident_id, result=result)
