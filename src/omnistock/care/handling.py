"""Working a case: status changes (with the SLA pause while waiting on the customer, and reopen),
assignment and other edits, internal notes. Every change is written to the case's history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from omnistock.care import clock
from omnistock.care.calendars import team_by_code
from omnistock.care.cases import get_case, record
from omnistock.care.categories import check_category
from omnistock.care.flow import Status, check_priority, check_transition, is_reopen, parse_status
from omnistock.care.tables import CareCase, CareMessage, CarePause
from omnistock.domain.access import Principal
from omnistock.errors import Conflict, Invalid
from omnistock.store.types import utcnow


def change_status(session: Session, case: CareCase, wanted: Status, actor: str, *, note: str | None = None,
                  now: datetime | None = None) -> CareCase:
    """Move a case along the flow. Waiting on the customer opens a pause of the SLA clocks, leaving it
    closes the pause; reopening starts a new resolution clock."""
    now = now or utcnow()
    current = Status(case.status)
    check_transition(current, wanted)
    if current is Status.WAITING:
        _end_pause(session, case, now)
    if wanted is Status.WAITING:
        session.add(CarePause(case_id=case.id, started_at=now))
    if wanted is Status.RESOLVED:
        case.resolved_at = now
    elif wanted is Status.CLOSED:
        case.closed_at = now
    if is_reopen(current, wanted):
        case.reopen_count += 1
        case.resolved_at, case.closed_at = None, None
        case.resolution_started_at = now
    case.status, case.updated_at = wanted.value, now
    session.flush()
    detail: dict[str, object] = {"from": current.value, "to": wanted.value}
    if note:
        detail["note"] = note
    record(session, case, "reopened" if is_reopen(current, wanted) else "status", actor, detail, at=now)
    clock.refresh(session, case, now)
    return case


def _end_pause(session: Session, case: CareCase, now: datetime) -> None:
    for pause in session.scalars(select(CarePause).where(CarePause.case_id == case.id,
                                                         CarePause.ended_at.is_(None))):
        pause.ended_at = now


def set_status(session: Session, case_id: int, principal: Principal, status: str, *, note: str | None = None,
               now: datetime | None = None) -> CareCase:
    wanted = parse_status(status)
    case = get_case(session, case_id, principal, lock=True)
    return change_status(session, case, wanted, principal.name, note=note, now=now)


def reopen(session: Session, case_id: int, principal: Principal, *, note: str | None = None,
           now: datetime | None = None) -> CareCase:
    """Reopen a resolved or closed case (anything else is a conflict: it is not closed)."""
    case = get_case(session, case_id, principal, lock=True)
    if not is_reopen(Status(case.status), Status.OPEN):
        raise Conflict(f"a {case.status} case is not resolved or closed, so it cannot be reopened", field="status")
    return change_status(session, case, Status.OPEN, principal.name, note=note, now=now)


@dataclass(frozen=True)
class CasePatch:
    """Fields to change; None leaves a field as it is (assignee "" unassigns)."""

    category: str | None = None
    priority: str | None = None
    assignee: str | None = None
    team: str | None = None
    subject: str | None = None


def update_case(session: Session, case_id: int, principal: Principal, patch: CasePatch,
                *, now: datetime | None = None) -> CareCase:
    now = now or utcnow()
    case = get_case(session, case_id, principal, lock=True)
    changes: dict[str, object] = {}
    if patch.category is not None and patch.category != case.category:
        changes["category"] = [case.category, check_category(session, patch.category)]
        case.category = patch.category
    if patch.priority is not None and patch.priority != case.priority:
        changes["priority"] = [case.priority, check_priority(patch.priority)]
        case.priority = patch.priority
    if patch.team is not None:
        team_id = team_by_code(session, patch.team).id if patch.team else None
        if team_id != case.team_id:
            changes["team"] = patch.team or None
            case.team_id = team_id
    if patch.subject is not None and patch.subject.strip() != case.subject:
        if not patch.subject.strip():
            raise Invalid("subject cannot be empty", field="subject")
        changes["subject"] = [case.subject, patch.subject.strip()]
        case.subject = patch.subject.strip()
    if patch.assignee is not None and (patch.assignee or None) != case.assignee:
        record(session, case, "assigned", principal.name, {"from": case.assignee, "to": patch.assignee or None},
               at=now)
        case.assignee = patch.assignee or None
        if Status(case.status) is Status.NEW and case.assignee:
            change_status(session, case, Status.OPEN, principal.name, now=now)
    if changes:
        record(session, case, "updated", principal.name, changes, at=now)
    case.updated_at = now
    clock.refresh(session, case, now)  # category, priority and team choose the policy and calendar
    return case


def add_note(session: Session, case_id: int, principal: Principal, body: str,
             *, now: datetime | None = None) -> CareMessage:
    """An internal note: never shown to the customer, does not stop the first-response clock."""
    if not body.strip():
        raise Invalid("a note cannot be empty", field="body")
    now = now or utcnow()
    case = get_case(session, case_id, principal, lock=True)
    note = CareMessage(case_id=case.id, kind="note", status="recorded", body=body.strip(), author=principal.name,
                       created_at=now)
    session.add(note)
    session.flush()
    record(session, case, "note_added", principal.name, {"message_id": note.id}, at=now)
    case.updated_at = now
    return note
