"""The SLA watch: a scheduler calls `scan(session, now)` every minute or so. It refreshes the clocks of
every active case and raises an escalation when a clock is near its due time or past it — once per case,
clock, level and resolution round, however often it runs. Escalations are visible in the API and handed to
the alert notifiers registered in `notifiers` (the alerts feature adds itself there)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from omnistock.care import clock
from omnistock.care.cases import record
from omnistock.care.flow import ACTIVE
from omnistock.care.tables import CareCase, CareEscalation
from omnistock.domain.access import Principal
from omnistock.domain.sla import ClockStatus, SlaState
from omnistock.errors import Invalid
from omnistock.store.paging import Page, page_query

# Called inside the scan's transaction for each new escalation, with the case.
notifiers: list[Callable[[Session, CareEscalation, CareCase], None]] = []
LEVELS = {SlaState.NEAR_BREACH: "near_breach", SlaState.BREACHED: "breached"}


def scan(session: Session, now: datetime) -> list[CareEscalation]:
    """Refresh every active case as of `now`; return the escalations raised by this scan."""
    raised: list[CareEscalation] = []
    active = [s.value for s in ACTIVE]
    cases = session.scalars(select(CareCase).where(CareCase.status.in_(active)).order_by(CareCase.id)
                            .with_for_update(skip_locked=True)).all()
    for case in cases:
        clocks = clock.refresh(session, case, now)
        for name, status in (("first_response", clocks.first_response), ("resolution", clocks.resolution)):
            escalation = _escalate(session, case, name, status, now)
            if escalation is not None:
                raised.append(escalation)
    return raised


def _escalate(session: Session, case: CareCase, name: str, status: ClockStatus,
              now: datetime) -> CareEscalation | None:
    level = LEVELS.get(status.state)
    if level is None:
        return None
    # A reopened case runs a new resolution clock: its escalations are a new round.
    round_ = case.reopen_count if name == "resolution" else 0
    exists = session.scalar(select(CareEscalation.id).where(
        CareEscalation.case_id == case.id, CareEscalation.clock == name, CareEscalation.level == level,
        CareEscalation.round == round_))
    if exists is not None:
        return None
    escalation = CareEscalation(case_id=case.id, clock=name, level=level, round=round_, due=status.due,
                                raised_at=now)
    try:
        with session.begin_nested():  # another scan raced us to it
            session.add(escalation)
            session.flush()
    except IntegrityError:
        return None
    record(session, case, "escalated", "sla-watch", {"clock": name, "level": level, "escalation_id": escalation.id},
           at=now)
    for notify in notifiers:
        notify(session, escalation, case)
    return escalation


def list_escalations(session: Session, principal: Principal, *, case_id: int | None = None,
                     level: str | None = None, limit: int = 50, cursor: str | None = None) -> Page[CareEscalation]:
    stmt = select(CareEscalation)
    if case_id is not None:
        stmt = stmt.where(CareEscalation.case_id == case_id)
    if level:
        if level not in LEVELS.values():
            raise Invalid("level must be near_breach or breached", field="level")
        stmt = stmt.where(CareEscalation.level == level)
    if principal.scoped:
        stmt = stmt.join(CareCase, CareCase.id == CareEscalation.case_id).where(
            CareCase.channel.in_(sorted(principal.channels or ())))
    return page_query(session, stmt, CareEscalation.id, limit=limit, cursor=cursor)


def escalations_of(session: Session, case_id: int) -> list[CareEscalation]:
    return list(session.scalars(select(CareEscalation).where(CareEscalation.case_id == case_id)
                                .order_by(CareEscalation.id)))
