"""/api/v1/cases: intake, reading and listing, working a case (status, assignment, notes, messages)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from omnistock.api.deps import DB, Reader, run
from omnistock.care import delivery, handling, kb, messages
from omnistock.care.cases import CaseFilter, CaseSpec, Customer, Defaults, get_case, list_cases, open_case
from omnistock.care.routes.common import CaseWriter, settings_of, zone_of
from omnistock.care.schemas import CaseIn, CasePatchIn, NoteIn, ReplyIn, SendIn, StatusIn
from omnistock.care.tables import CareDelivery, CareMessage
from omnistock.care.views import case_detail, case_view, message_view, team_code, when

router = APIRouter(prefix="/api/v1/cases", tags=["care"])


@router.post("", status_code=201)
def create_case(body: CaseIn, principal: CaseWriter, db: DB, request: Request) -> dict[str, Any]:
    zone, settings = zone_of(request), settings_of(request)
    who = body.customer
    spec = CaseSpec(category=body.category, subject=body.subject, priority=body.priority, order_id=body.order_id,
                    channel=body.channel, external_order_id=body.external_order_id,
                    customer=Customer(who.name, who.phone, who.email) if who else Customer(),
                    description=body.description, skus=tuple(body.skus), order_value=body.order_value,
                    currency=body.currency, locale=body.locale, team=body.team, assignee=body.assignee)

    def action(session: Session) -> dict[str, Any]:
        case = open_case(session, spec, principal, Defaults.of(settings))
        session.flush()
        return case_detail(session, case, zone)
    return run(db, action)


@router.get("")
def list_all(principal: Reader, db: DB, request: Request, order_id: int | None = None, status: str | None = None,
             category: str | None = None, priority: str | None = None, source: str | None = None,
             assignee: str | None = None, incident_id: int | None = None, channel: str | None = None,
             limit: int = 50, cursor: str | None = None) -> dict[str, Any]:
    zone = zone_of(request)
    filters = CaseFilter(order_id=order_id, status=status, category=category, priority=priority, source=source,
                         assignee=assignee, incident_id=incident_id, channel=channel)
    with db.reading() as session:
        page = list_cases(session, principal, filters, limit=limit, cursor=cursor)
        items = [case_view(c, zone, team_code(session, c)) for c in page.items]
    return {"items": items, "total": page.total, "next": page.next}


@router.get("/{case_id}")
def read_case(case_id: int, principal: Reader, db: DB, request: Request) -> dict[str, Any]:
    with db.reading() as session:
        return case_detail(session, get_case(session, case_id, principal), zone_of(request))


@router.patch("/{case_id}")
def patch_case(case_id: int, body: CasePatchIn, principal: CaseWriter, db: DB, request: Request) -> dict[str, Any]:
    patch = handling.CasePatch(**body.model_dump(exclude_unset=True))

    def action(session: Session) -> dict[str, Any]:
        case = handling.update_case(session, case_id, principal, patch)
        session.flush()
        return case_detail(session, case, zone_of(request))
    return run(db, action)


def _status(case_id: int, status: str, note: str | None, principal: Any, db: Any, request: Request) -> dict[str, Any]:
    def action(session: Session) -> dict[str, Any]:
        if status == "reopen":
            case = handling.reopen(session, case_id, principal, note=note)
        else:
            case = handling.set_status(session, case_id, principal, status, note=note)
        session.flush()
        return case_detail(session, case, zone_of(request))
    return run(db, action)


@router.post("/{case_id}/status")
def change_status(case_id: int, body: StatusIn, principal: CaseWriter, db: DB, request: Request) -> dict[str, Any]:
    return _status(case_id, body.status, body.note, principal, db, request)


@router.post("/{case_id}/resolve")
def resolve(case_id: int, principal: CaseWriter, db: DB, request: Request,
            body: Annotated[NoteIn | None, Body()] = None) -> dict[str, Any]:
    return _status(case_id, "resolved", body.body if body else None, principal, db, request)


@router.post("/{case_id}/reopen")
def reopen(case_id: int, principal: CaseWriter, db: DB, request: Request,
           body: Annotated[NoteIn | None, Body()] = None) -> dict[str, Any]:
    return _status(case_id, "reopen", body.body if body else None, principal, db, request)


@router.post("/{case_id}/notes", status_code=201)
def add_note(case_id: int, body: NoteIn, principal: CaseWriter, db: DB, request: Request) -> dict[str, Any]:
    return run(db, lambda s: message_view(handling.add_note(s, case_id, principal, body.body), zone_of(request)))


def _message_out(db: Any, message_id: int, request: Request) -> dict[str, Any]:
    with db.reading() as session:
        message = session.get(CareMessage, message_id)
        tries = list(session.scalars(select(CareDelivery).where(CareDelivery.message_id == message_id)
                                     .order_by(CareDelivery.id)))
        return message_view(message, zone_of(request), tries)


@router.post("/{case_id}/messages", status_code=201)
def post_message(case_id: int, body: ReplyIn, principal: CaseWriter, db: DB, request: Request) -> dict[str, Any]:
    """outbound: a reply to the customer, sent through the channel's sender (or recorded with "manual");
    inbound: what the customer wrote (body required)."""
    settings = settings_of(request)
    if body.direction == "inbound":
        channel = body.channel if body.channel not in ("auto",) else None
        mid = run(db, lambda s: messages.customer_wrote(s, case_id, principal, body.body or "", channel=channel).id)
        return _message_out(db, mid, request)
    spec = messages.ReplySpec(body=body.body, template=body.template, subject=body.subject, channel=body.channel,
                              wait=body.wait, compensation=body.compensation)
    message = run(db, lambda s: messages.reply(s, case_id, principal, spec, settings))
    if message.status == "queued":
        delivery.deliver(db, settings, message.id)
    return _message_out(db, message.id, request)


@router.post("/{case_id}/messages/{message_id}/send")
def send_message(case_id: int, message_id: int, principal: CaseWriter, db: DB, request: Request,
                 body: Annotated[SendIn | None, Body()] = None) -> dict[str, Any]:
    """Send a draft (the proactive first message, edited or not) or retry a failed message."""
    settings = settings_of(request)
    body = body or SendIn()
    message = run(db, lambda s: messages.send_draft(s, case_id, message_id, principal, settings,
                                                    channel=body.channel, body=body.body, subject=body.subject))
    if message.status == "queued":
        delivery.deliver(db, settings, message.id)
    return _message_out(db, message.id, request)


@router.get("/{case_id}/suggestions")
def suggestions(case_id: int, principal: Reader, db: DB, request: Request, limit: int = 5) -> dict[str, Any]:
    """Knowledge-base articles and templates for the case's category (its language first)."""
    zone = zone_of(request)
    with db.reading() as session:
        case = get_case(session, case_id, principal)
        items = [kb.article_view(a, lambda dt: when(dt, zone)) for a in kb.suggestions(session, case,
                                                                                       limit=min(limit, 50))]
    return {"items": items, "total": len(items), "next": None}
