"""The complaint desk as the console shows it: the queue of active cases sorted by the SLA clock that runs
out first (waiting-on-customer cases, whose clocks are paused, last), and incident case counts in one query."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case as when_then
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from omnistock.care.flow import ACTIVE, Status
from omnistock.care.tables import CareCase, CareCompensation
from omnistock.domain.access import Principal
from omnistock.web.reads.paging import Numbered, numbered


def due_of(case: CareCase) -> datetime | None:
    """The clock that matters now: the first response until someone answered, then the resolution."""
    return case.first_response_due if case.first_response_at is None else case.resolution_due


@dataclass(frozen=True)
class QueueFilter:
    status: str | None = None  # one active status; None = every active one
    category: str | None = None
    assignee: str | None = None


def queue(session: Session, principal: Principal, f: QueueFilter, *, page: int) -> Numbered[CareCase]:
    due = when_then((CareCase.first_response_at.is_(None), CareCase.first_response_due),
                    else_=CareCase.resolution_due)
    statuses = [f.status] if f.status in {s.value for s in ACTIVE} else sorted(s.value for s in ACTIVE)
    stmt: Any = select(CareCase).where(CareCase.status.in_(statuses))
    if f.category:
        stmt = stmt.where(CareCase.category == f.category)
    if f.assignee:
        stmt = stmt.where(CareCase.assignee == f.assignee)
    if principal.scoped:  # the same rule as care.cases.list_cases
        stmt = stmt.where(CareCase.channel.in_(sorted(principal.channels or ())))
    stmt = stmt.order_by((CareCase.status == Status.WAITING.value).asc(), due.is_(None).asc(), due.asc(),
                         CareCase.id.asc())
    return numbered(session, stmt, page=page)


def case_counts(session: Session, incident_ids: Sequence[int]) -> dict[int, int]:
    if not incident_ids:
        return {}
    rows = session.execute(select(CareCase.incident_id, func.count()).where(CareCase.incident_id.in_(incident_ids))
                           .group_by(CareCase.incident_id))
    return {int(iid): int(n) for iid, n in rows if iid is not None}


def pending_compensations(session: Session, case_id: int) -> list[CareCompensation]:
    return list(session.scalars(select(CareCompensation).where(CareCompensation.case_id == case_id,
                                                               CareCompensation.status == "pending_approval")))


@dataclass(frozen=True)
class History:
    messages: list[Any]  # CareMessage, oldest first (notes, replies, customer messages)
    events: list[Any]    # CareCaseEvent
    compensations: list[CareCompensation]


def history(session: Session, case: CareCase) -> History:
    from omnistock.care.tables import CareCaseEvent, CareMessage

    messages = list(session.scalars(select(CareMessage).where(CareMessage.case_id == case.id)
                                    .order_by(CareMessage.id)))
    events = list(session.scalars(select(CareCaseEvent).where(CareCaseEvent.case_id == case.id)
                                  .order_by(CareCaseEvent.id)))
    comps = list(session.scalars(select(CareCompensation).where(CareCompensation.case_id == case.id)
                                 .order_by(CareCompensation.id)))
    return History(messages, events, comps)
