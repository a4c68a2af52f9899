"""Customer service: the case queue sorted by SLA with live countdowns, and the case page with the order
and SKU context, suggested articles and templates, reply, notes, status, and compensation with approval."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from omnistock.api.deps import run
from omnistock.care import compensations, delivery, handling, kb, messages
from omnistock.care.cases import get_case
from omnistock.care.categories import all_categories
from omnistock.care.flow import Status
from omnistock.care.templates import all_templates
from omnistock.domain.access import Permission
from omnistock.domain.compensation import CompensationKind
from omnistock.errors import NotFound, OmnistockError
from omnistock.services import orders
from omnistock.store.tables import Sku
from omnistock.store.types import utcnow
from omnistock.web.context import Form, Post, Seen, Visitor, posted_values, require
from omnistock.web.forms import Errors, decimal_number, required_text
from omnistock.web.reads import care as care_reads
from omnistock.web.reads import skus as sku_reads
from omnistock.web.reads.paging import page_number
from omnistock.web.render import render
from omnistock.web.routing import console_router

router = console_router()
CHANNELS = ("auto", "email", "sms", "chat", "manual")
COMPENSATION_KINDS = ("standard", *[k.value for k in CompensationKind])
STATUS_CHOICES = (Status.OPEN.value, Status.WAITING.value, Status.RESOLVED.value, Status.CLOSED.value, "reopen")


def _queue_values(request: Request, who: Visitor, session: Session) -> dict[str, Any]:
    q = request.query_params
    f = care_reads.QueueFilter(status=q.get("status") or None, category=q.get("category") or None,
                               assignee=who.username if q.get("mine") else None)
    return {"found": care_reads.queue(session, who.principal, f, page=page_number(q.get("page"))), "filter": f,
            "mine": bool(q.get("mine")), "now": utcnow(), "due_of": care_reads.due_of,
            "categories": [(c.code, c.name) for c in all_categories(session)],
            "category_names": {c.code: c.name for c in all_categories(session)}}


@router.get("/care")
def case_queue(request: Request, who: Seen) -> Response:
    with request.app.state.db.reading() as session:
        return render(request, "care/queue.html", _queue_values(request, who, session))


@router.get("/care/parts/queue")
def queue_part(request: Request, who: Seen) -> Response:
    with request.app.state.db.reading() as session:
        return render(request, "care/parts/queue.html", _queue_values(request, who, session))


def _case_page(request: Request, who: Visitor, case_id: int, *, errors: dict[str, Errors] | None = None,
               status: int = 200) -> Response:
    with request.app.state.db.reading() as session:
        case = get_case(session, case_id, who.principal)
        order = None
        if case.order_id is not None:
            try:
                order = orders.get_order(session, case.order_id, who.principal)
            except OmnistockError:
                order = None  # the order is outside this person's scope: the case still shows its copy
        skus = list(session.scalars(select(Sku).where(Sku.code.in_(case.skus or []))))
        values = {
            "case": case, "due": care_reads.due_of(case), "now": utcnow(), "order": order,
            "figures": list(sku_reads.figures_of(session, skus, who.principal).values()),
            "history": care_reads.history(session, case), "suggestions": kb.suggestions(session, case),
            "templates": [t for t in all_templates(session) if t.locale == case.locale],
            "proposal": compensations.standard_proposal(session, case),
            "category_names": {c.code: c.name for c in all_categories(session)},
            "channels": CHANNELS, "compensation_kinds": COMPENSATION_KINDS, "statuses": STATUS_CHOICES,
            "errors": errors or {}, "posted": posted_values(request),
            "form_key": secrets.token_urlsafe(16), "done": request.query_params.get("done")}
        return render(request, "care/case.html", values, status=status)


@router.get("/care/cases/{case_id}")
def case_detail(case_id: int, request: Request, who: Seen) -> Response:
    return _case_page(request, who, case_id)


def _reply(request: Request, who: Visitor, case_id: int, form: Form, errors: Errors) -> None:
    spec = messages.ReplySpec(body=form.get("body") or None, template=form.get("template") or None,
                              subject=form.get("subject") or None, channel=form.get("channel") or "auto",
                              wait=bool(form.get("wait")), compensation=form.get("compensation") or None)
    settings = request.app.state.settings
    message = run(request.app.state.db, lambda s: messages.reply(s, case_id, who.principal, spec, settings))
    if message.status == "queued":
        delivery.deliver(request.app.state.db, settings, message.id)


def _send(request: Request, who: Visitor, case_id: int, form: Form, errors: Errors) -> None:
    """Send a draft (the proactive first message) or retry a failed message, by the channel chosen."""
    message_id = form.get("message_id")
    if not message_id.isdigit():
        errors["message_id"] = who.language.text.gettext("Required.")
        return
    settings = request.app.state.settings
    message = run(request.app.state.db, lambda s: messages.send_draft(
        s, case_id, int(message_id), who.principal, settings, channel=form.get("channel") or "auto"))
    if message.status == "queued":
        delivery.deliver(request.app.state.db, settings, message.id)


def _note(request: Request, who: Visitor, case_id: int, form: Form, errors: Errors) -> None:
    body = required_text(form, "body", who.language.text, errors)
    if not errors:
        run(request.app.state.db, lambda s: handling.add_note(s, case_id, who.principal, body))


def _status(request: Request, who: Visitor, case_id: int, form: Form, errors: Errors) -> None:
    wanted, note = form.get("status"), form.get("note") or None
    if wanted == "reopen":
        run(request.app.state.db, lambda s: handling.reopen(s, case_id, who.principal, note=note))
    else:
        run(request.app.state.db, lambda s: handling.set_status(s, case_id, who.principal, wanted, note=note))


def _compensate(request: Request, who: Visitor, case_id: int, form: Form, errors: Errors) -> None:
    text = who.language.text
    spec = compensations.CompensationSpec(
        kind=form.get("kind") or "standard", amount=decimal_number(form, "amount", text, errors),
        percent=decimal_number(form, "percent", text, errors),
        goods_cost=decimal_number(form, "goods_cost", text, errors), note=form.get("note") or None)
    if not errors:
        settings = request.app.state.settings
        run(request.app.state.db, lambda s: compensations.grant_on_case(
            s, case_id, who.principal, spec, settings, idempotency_key=form.get("form_key") or None))


ACTIONS: dict[str, tuple[Callable[[Request, Visitor, int, Form, Errors], None], tuple[str, ...]]] = {
    "reply": (_reply, ("body", "template", "subject", "channel", "compensation")),
    "send": (_send, ("message_id", "channel")),
    "note": (_note, ("body",)),
    "status": (_status, ("status", "note")),
    "compensate": (_compensate, ("kind", "amount", "percent", "goods_cost", "note")),
}


@router.post("/care/cases/{case_id}/{action}")
def case_action(case_id: int, action: str, request: Request, post: Post) -> Response:
    who, form = post.visitor, post.form
    require(who, Permission.CASES_WRITE)
    request.state.posted = form
    if action not in ACTIONS:
        return _case_page(request, who, case_id, status=404)
    handler, fields = ACTIONS[action]
    errors = Errors(*fields)
    try:
        handler(request, who, case_id, form, errors)
    except OmnistockError as exc:
        if exc.status in (403, 404) and exc.field in (None, "id"):
            raise
        errors.take(exc, who.language.text)
    if errors:
        return _case_page(request, who, case_id, errors={action: errors}, status=422)
    return RedirectResponse(f"/care/cases/{case_id}?done={action}", status_code=303)


@router.post("/care/compensations/{compensation_id}/{decision}")
def decide(compensation_id: int, decision: str, request: Request, post: Post) -> Response:
    """Approve or reject a compensation awaiting approval (only a role whose limit covers it may)."""
    who, form = post.visitor, post.form
    require(who, Permission.CASES_WRITE)
    if decision not in ("approve", "reject"):
        raise NotFound("no such decision")
    settings = request.app.state.settings
    with request.app.state.db.reading() as session:
        case_id = compensations.get_compensation(session, compensation_id, who.principal).case_id
    errors = Errors()
    try:
        run(request.app.state.db, lambda s: compensations.decide(
            s, compensation_id, who.principal, settings, approve=decision == "approve", note=form.get("note") or None))
    except OmnistockError as exc:
        errors.take(exc, who.language.text)
        return _case_page(request, who, case_id, errors={"decide": errors}, status=exc.status)
    return RedirectResponse(f"/care/cases/{case_id}?done={decision}", status_code=303)
