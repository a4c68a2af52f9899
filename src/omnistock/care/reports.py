"""Care reports over a time range (cases by the day they opened), and the review of one incident."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from omnistock.care.figures import CaseFacts, CompensationFacts, by_period, figures
from omnistock.care.incidents import cases_of, get_incident
from omnistock.care.tables import CareCase, CareCompensation, CareMessage
from omnistock.domain.access import Principal
from omnistock.errors import Invalid
from omnistock.store.types import utcnow

PERIODS = ("day", "week")
S = TypeVar("S", bound=Select)
MAX_RANGE = timedelta(days=400)


@dataclass(frozen=True)
class ReportRange:
    since: datetime
    until: datetime
    period: str = "day"

    def __post_init__(self) -> None:
        if self.period not in PERIODS:
            raise Invalid("period must be day or week", field="period")
        if self.until <= self.since:
            raise Invalid("until must be after since", field="until")
        if self.until - self.since > MAX_RANGE:
            raise Invalid("a report covers at most 400 days", field="since")


def default_range(now: datetime, zone: ZoneInfo, period: str = "day") -> ReportRange:
    """The last 30 days, up to the end of today in the merchant's zone."""
    today = now.astimezone(zone).date()
    until = datetime.combine(today + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    return ReportRange(until - timedelta(days=30), until, period)


def _case_facts(case: CareCase) -> CaseFacts:
    return CaseFacts(case.id, case.created_at, case.status, case.category, case.channel, case.source,
                     case.first_response_at, case.resolved_at, case.first_response_due, case.resolution_due,
                     case.first_response_state, case.resolution_state, case.reopen_count)


def _comp_facts(session: Session, stmt: Select) -> list[CompensationFacts]:
    rows = session.execute(stmt.where(CareCompensation.status == "granted"))
    return [CompensationFacts(c.case_id, c.created_at, category, c.sku, c.kind, c.currency, Decimal(c.cost))
            for c, category in rows]


def _scoped(stmt: S, principal: Principal) -> S:
    if principal.scoped:
        stmt = stmt.where(CareCase.channel.in_(sorted(principal.channels or ())))
    return stmt


def report(session: Session, principal: Principal, rng: ReportRange, zone: ZoneInfo,
           *, now: datetime | None = None) -> dict[str, Any]:
    now = now or utcnow()
    cases = [_case_facts(c) for c in session.scalars(_scoped(
        select(CareCase).where(CareCase.created_at >= rng.since, CareCase.created_at < rng.until), principal))]
    comp_stmt = _scoped(select(CareCompensation, CareCase.category)
                        .join(CareCase, CareCase.id == CareCompensation.case_id)
                        .where(CareCompensation.created_at >= rng.since, CareCompensation.created_at < rng.until),
                        principal)
    comps = _comp_facts(session, comp_stmt)
    return {"since": rng.since.astimezone(zone).isoformat(), "until": rng.until.astimezone(zone).isoformat(),
            "period": rng.period, "timezone": str(zone), "totals": figures(cases, comps, now),
            "periods": by_period(cases, comps, rng.period, zone, now)}


def incident_review(session: Session, incident_id: int, principal: Principal, zone: ZoneInfo,
                    *, now: datetime | None = None) -> dict[str, Any]:
    """What the review meeting needs: the cause and fix, the timeline, how fast customers were answered,
    what it cost, and how many messages reached customers."""
    now = now or utcnow()
    incident = get_incident(session, incident_id, principal)
    cases = cases_of(session, incident, principal)
    ids = [c.id for c in cases]
    comps = _comp_facts(session, select(CareCompensation, CareCase.category)
                        .join(CareCase, CareCase.id == CareCompensation.case_id)
                        .where(CareCompensation.case_id.in_(ids)))
    sent = dict(session.execute(select(CareMessage.status, func.count()).where(
        CareMessage.case_id.in_(ids), CareMessage.kind == "outbound").group_by(CareMessage.status)).all())
    pending = session.scalar(select(func.count()).select_from(CareCompensation).where(
        CareCompensation.case_id.in_(ids), CareCompensation.status == "pending_approval")) or 0

    def when(dt: datetime | None) -> str | None:
        return dt.astimezone(zone).isoformat() if dt else None
    first_case = min((c.created_at for c in cases), default=None)
    return {
        "incident": {"id": incident.id, "title": incident.title, "status": incident.status, "cause": incident.cause,
                     "fix": incident.fix, "channel": incident.channel, "skus": incident.skus},
        "timeline": {"started_at": when(incident.started_at), "ended_at": when(incident.ended_at),
                     "first_case_at": when(first_case), "opened_at": when(incident.created_at),
                     "resolved_at": when(incident.resolved_at)},
        "cases_by_status": dict(sorted({s: sum(1 for c in cases if c.status == s) for s in
                                        {c.status for c in cases}}.items())),
        "messages": {k: int(v) for k, v in sorted(sent.items())},
        "compensations_pending_approval": int(pending),
        "figures": figures([_case_facts(c) for c in cases], comps, now),
    }
