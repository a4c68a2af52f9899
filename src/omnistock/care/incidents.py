"""Incidents: one root cause (an oversell of a SKU on a channel between two times, a platform outage)
grouping many cases, with the cause and the fix recorded for the review. Bulk actions are in
care.incident_actions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from omnistock.care.cases import get_case, record
from omnistock.care.tables import CareCase, CareIncident
from omnistock.domain.access import Principal
from omnistock.errors import Conflict, Forbidden, Invalid, NotFound
from omnistock.services.lookup import channel_by_code, sku_by_code
from omnistock.store.paging import Page, page_query
from omnistock.store.types import utcnow


@dataclass(frozen=True)
class IncidentSpec:
    title: str
    cause: str | None = None
    channel: str | None = None
    skus: tuple[str, ...] = ()
    started_at: datetime | None = None
    ended_at: datetime | None = None


def open_incident(session: Session, spec: IncidentSpec, principal: Principal,
                  *, now: datetime | None = None) -> CareIncident:
    if not spec.title.strip():
        raise Invalid("title cannot be empty", field="title")
    if spec.channel is not None:
        channel_by_code(session, spec.channel, principal=principal)
    elif principal.scoped:
        raise Forbidden("a scoped token opens incidents about one of its channels", field="channel")
    for i, code in enumerate(spec.skus):
        sku_by_code(session, code, field=f"skus[{i}]")
    if spec.started_at and spec.ended_at and spec.ended_at < spec.started_at:
        raise Invalid("ended_at is before started_at", field="ended_at")
    incident = CareIncident(title=spec.title.strip(), cause=spec.cause, channel=spec.channel, skus=list(spec.skus),
                            started_at=spec.started_at, ended_at=spec.ended_at, created_by=principal.name,
                            created_at=now or utcnow(), status="open")
    session.add(incident)
    session.flush()
    return incident


def visible(principal: Principal, incident: CareIncident) -> bool:
    if not principal.scoped:
        return True
    return principal.channels is not None and incident.channel in principal.channels


def get_incident(session: Session, incident_id: int, principal: Principal, *, lock: bool = False) -> CareIncident:
    stmt = select(CareIncident).where(CareIncident.id == incident_id)
    incident = session.scalar(stmt.with_for_update() if lock else stmt)
    if incident is None:
        raise NotFound(f"no incident {incident_id}", field="id")
    if not visible(principal, incident):
        raise Forbidden(f"incident {incident_id} is outside this token's scope", field="id")
    return incident


def list_incidents(session: Session, principal: Principal, *, status: str | None = None, limit: int = 50,
                   cursor: str | None = None) -> Page[CareIncident]:
    stmt = select(CareIncident)
    if status:
        if status not in ("open", "resolved"):
            raise Invalid("status must be open or resolved", field="status")
        stmt = stmt.where(CareIncident.status == status)
    if principal.scoped:
        stmt = stmt.where(CareIncident.channel.in_(sorted(principal.channels or ())))
    return page_query(session, stmt, CareIncident.id, limit=limit, cursor=cursor)


def update_incident(session: Session, incident_id: int, principal: Principal, *, title: str | None = None,
                    cause: str | None = None, fix: str | None = None, started_at: datetime | None = None,
                    ended_at: datetime | None = None) -> CareIncident:
    incident = get_incident(session, incident_id, principal, lock=True)
    if title is not None:
        if not title.strip():
            raise Invalid("title cannot be empty", field="title")
        incident.title = title.strip()
    incident.cause = cause if cause is not None else incident.cause
    incident.fix = fix if fix is not None else incident.fix
    incident.started_at = started_at or incident.started_at
    incident.ended_at = ended_at or incident.ended_at
    if incident.started_at and incident.ended_at and incident.ended_at < incident.started_at:
        raise Invalid("ended_at is before started_at", field="ended_at")
    return incident


def cases_of(session: Session, incident: CareIncident, principal: Principal) -> list[CareCase]:
    stmt = select(CareCase).where(CareCase.incident_id == incident.id).order_by(CareCase.id)
    if principal.scoped:
        stmt = stmt.where(CareCase.channel.in_(sorted(principal.channels or ())))
    return list(session.scalars(stmt))


def attach_cases(session: Session, incident_id: int, case_ids: Sequence[int], principal: Principal,
                 *, now: datetime | None = None) -> list[CareCase]:
    """Group cases under the incident; a case already in another incident is a conflict (detach it first).
    Every case is checked before any is attached."""
    now = now or utcnow()
    incident = get_incident(session, incident_id, principal, lock=True)
    if not case_ids:
        raise Invalid("give at least one case id", field="case_ids")
    cases = []
    for i, case_id in enumerate(dict.fromkeys(case_ids)):
        case = get_case(session, case_id, principal, lock=True, field=f"case_ids[{i}]")
        if case.incident_id not in (None, incident.id):
            raise Conflict(f"case {case.id} belongs to incident {case.incident_id}", field=f"case_ids[{i}]")
        cases.append(case)
    for case in cases:
        if case.incident_id != incident.id:
            case.incident_id, case.updated_at = incident.id, now
            record(session, case, "incident_linked", principal.name, {"incident_id": incident.id}, at=now)
    return cases


def detach_case(session: Session, incident_id: int, case_id: int, principal: Principal) -> CareCase:
    incident = get_incident(session, incident_id, principal, lock=True)
    case = get_case(session, case_id, principal, lock=True, field="case_id")
    if case.incident_id != incident.id:
        raise Conflict(f"case {case.id} is not in incident {incident.id}", field="case_id")
    case.incident_id = None
    record(session, case, "incident_unlinked", principal.name, {"incident_id": incident.id})
    return case
