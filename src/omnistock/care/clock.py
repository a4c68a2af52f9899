"""The SLA clocks of one case, computed by domain.sla from the case's policy, team calendar and pauses,
and stored on the case (due times and states) so lists, reports and the watch can read them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from omnistock.care.calendars import calendar_for
from omnistock.care.flow import Status
from omnistock.care.policies import sla_policies
from omnistock.care.tables import CareCase, CarePause
from omnistock.domain.sla import ClockStatus, Pause, SlaPolicy, evaluate, policy_for


@dataclass(frozen=True)
class CaseClocks:
    policy: SlaPolicy
    first_response: ClockStatus
    resolution: ClockStatus


def pauses_of(session: Session, case_id: int) -> list[Pause]:
    rows = session.scalars(select(CarePause).where(CarePause.case_id == case_id).order_by(CarePause.id))
    return [Pause(r.started_at, r.ended_at) for r in rows]


def refresh(session: Session, case: CareCase, now: datetime) -> CaseClocks:
    """Recompute both clocks as of `now` and store their due times and states on the case.

    Resolving a case also stops a first-response clock that never got a reply. A reopened case runs a
    new resolution clock from the reopen; its first-response clock stays as it was."""
    policy = policy_for(case.category, case.priority, sla_policies(session))
    calendar = calendar_for(session, case.team_id)
    pauses = pauses_of(session, case.id)
    done = Status(case.status) in (Status.RESOLVED, Status.CLOSED)
    resolved_at = case.resolved_at if done else None
    first_done = case.first_response_at or resolved_at
    first = evaluate(case.created_at, now, policy, calendar, pauses,
                     first_response_at=first_done).first_response
    resolution = evaluate(case.resolution_started_at, now, policy, calendar, pauses,
                          resolved_at=resolved_at).resolution
    case.first_response_due, case.first_response_state = first.due, first.state.value
    case.resolution_due, case.resolution_state = resolution.due, resolution.state.value
    return CaseClocks(policy, first, resolution)
