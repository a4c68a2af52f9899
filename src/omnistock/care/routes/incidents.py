"""/api/v1/incidents: one cause, many cases; bulk message, compensation and resolve; the review."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from omnistock.api.deps import DB, Reader, run
from omnistock.care import delivery, incident_actions, incidents
from omnistock.care.compensations import CompensationSpec
from omnistock.care.messages import ReplySpec
from omnistock.care.reports import incident_review
from omnistock.care.routes.common import CaseWriter, settings_of, zone_of
from omnistock.care.schemas import BulkMessageIn, CaseIdsIn, CompensationIn, IncidentIn, IncidentPatchIn, ResolveIn
from omnistock.care.tables import CareCase, CareIncident
from omnistock.care.views import bulk_view, case_view, incident_view, team_code

router = APIRouter(prefix="/api/v1/incidents", tags=["care"])


def _count(session: Session, incident: CareIncident) -> int:
    return session.scalar(select(func.count()).select_from(CareCase).where(CareCase.incident_id == incident.id)) or 0


def _detail(session: Session, incident: CareIncident, principal: Any, request: Request) -> dict[str, Any]:
    zone = zone_of(request)
    cases = incidents.cases_of(session, incident, principal)
    out = incident_view(incident, zone, len(cases))
    out["case_list"] = [case_view(c, zone, team_code(session, c)) for c in cases]
    return out


@router.post("", status_code=201)
def create_incident(body: IncidentIn, principal: CaseWriter, db: DB, request: Request) -> dict[str, Any]:
    spec = incidents.IncidentSpec(title=body.title, cause=body.cause, channel=body.channel, skus=tuple(body.skus),
                                  started_at=body.started_at, ended_at=body.ended_at)

    def action(session: Session) -> dict[str, Any]:
        incident = incidents.open_incident(session, spec, principal)
        if body.case_ids:
            incidents.attach_cases(session, incident.id, body.case_ids, principal)
        session.flush()
        return _detail(session, incident, principal, request)
    return run(db, action)


@router.get("")
def list_all(principal: Reader, db: DB, request: Request, status: str | None = None, limit: int = 50,
             cursor: str | None = None) -> dict[str, Any]:
    zone = zone_of(request)
    with db.reading() as session:
        page = incidents.list_incidents(session, principal, status=status, limit=limit, cursor=cursor)
        items = [incident_view(i, zone, _count(session, i)) for i in page.items]
    return {"items": items, "total": page.total, "next": page.next}


@router.get("/{incident_id}")
def read_incident(incident_id: int, principal: Reader, db: DB, request: Request) -> dict[str, Any]:
    with db.reading() as session:
        return _detail(session, incidents.get_incident(session, incident_id, principal), principal, request)


@router.patch("/{incident_id}")
def patch_incident(incident_id: int, body: IncidentPatchIn, principal: CaseWriter, db: DB,
                   request: Request) -> dict[str, Any]:
    def action(session: Session) -> dict[str, Any]:
        incident = incidents.update_incident(session, incident_id, principal, **body.model_dump(exclude_unset=True))
        return _detail(session, incident, principal, request)
    return run(db, action)


@router.post("/{incident_id}/cases")
def attach(incident_id: int, body: CaseIdsIn, principal: CaseWriter, db: DB, request: Request) -> dict[str, Any]:
    def action(session: Session) -> dict[str, Any]:
        incidents.attach_cases(session, incident_id, body.case_ids, principal)
        session.flush()
        return _detail(session, incidents.get_incident(session, incident_id, principal), principal, request)
    return run(db, action)


@router.delete("/{incident_id}/cases/{case_id}")
def detach(incident_id: int, case_id: int, principal: CaseWriter, db: DB, request: Request) -> dict[str, Any]:
    def action(session: Session) -> dict[str, Any]:
        incidents.detach_case(session, incident_id, case_id, principal)
        session.flush()
        return _detail(session, incidents.get_incident(session, incident_id, principal), principal, request)
    return run(db, action)


@router.post("/{incident_id}/message")
def message_all(incident_id: int, body: BulkMessageIn, principal: CaseWriter, db: DB,
                request: Request) -> dict[str, Any]:
    """One message to the customer of every case (template variables filled per case). Retrying with the
    same content (or idempotency_key) writes only to cases not reached yet."""
    settings = settings_of(request)
    spec = ReplySpec(body=body.body, template=body.template, subject=body.subject, channel=body.channel)
    result = run(db, lambda s: incident_actions.message_all(s, incident_id, principal, spec, settings,
                                                             idempotency_key=body.idempotency_key))
    outcomes = [delivery.deliver(db, settings, mid) for mid in result.message_ids]
    out = bulk_view(result)
    out["sent"] = sum(1 for r in outcomes if r is not None and r.ok)
    out["failed"] = sum(1 for r in outcomes if r is not None and not r.ok)
    return out


@router.post("/{incident_id}/compensate")
def compensate_all(incident_id: int, body: CompensationIn, principal: CaseWriter, db: DB,
                   request: Request) -> dict[str, Any]:
    """One compensation on every case, applied once per case however often it is sent."""
    spec = CompensationSpec(kind=body.kind, amount=body.amount, percent=body.percent, goods_cost=body.goods_cost,
                            note=body.note)
    result = run(db, lambda s: incident_actions.compensate_all(s, incident_id, principal, spec, settings_of(request),
                                                                idempotency_key=body.idempotency_key))
    return bulk_view(result)


@router.post("/{incident_id}/resolve")
def resolve_all(incident_id: int, body: ResolveIn, principal: CaseWriter, db: DB, request: Request) -> dict[str, Any]:
    """Record the fix, resolve every open case of the incident, and resolve the incident."""
    result = run(db, lambda s: incident_actions.resolve_all(s, incident_id, principal, fix=body.fix, note=body.note))
    return bulk_view(result)


@router.get("/{incident_id}/review")
def review(incident_id: int, principal: Reader, db: DB, request: Request) -> dict[str, Any]:
    """The review report: cause, fix, timeline, response and resolution times, breaches, cost."""
    with db.reading() as session:
        return incident_review(session, incident_id, principal, zone_of(request))
