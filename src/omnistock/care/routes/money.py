"""Compensation on cases (proposal, grant, approval) and the SLA escalations."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response
from sqlalchemy.orm import Session

from omnistock.api.deps import DB, Reader, run
from omnistock.care import compensations
from omnistock.care.cases import get_case
from omnistock.care.compensations import CompensationSpec
from omnistock.care.routes.common import CaseWriter, settings_of, zone_of
from omnistock.care.schemas import CompensationIn, DecisionIn
from omnistock.care.sla_watch import list_escalations
from omnistock.care.views import compensation_view, escalation_view, money
from omnistock.domain.compensation import cost_of

router = APIRouter(prefix="/api/v1", tags=["care"])


@router.get("/cases/{case_id}/compensation-proposal")
def proposal(case_id: int, principal: Reader, db: DB) -> dict[str, Any]:
    """The standard compensation for the case from the compensation table (null when none applies)."""
    with db.reading() as session:
        case = get_case(session, case_id, principal)
        found = compensations.standard_proposal(session, case)
        if found is None:
            return {"proposal": None, "order_value": money(case.order_value, case.currency)}
        # A proposal exists only when the order value is known; a reship's cost needs the goods' cost.
        cost = None if found.kind.value == "reship" else cost_of(found, Decimal(case.order_value or 0))
        return {"proposal": {"kind": found.kind.value, "amount": money(found.amount, found.currency),
                             "currency": found.currency, "rule_id": found.rule_id,
                             "cost": money(cost, found.currency)},
                "order_value": money(case.order_value, case.currency)}


@router.post("/cases/{case_id}/compensations", status_code=201)
def grant(case_id: int, body: CompensationIn, principal: CaseWriter, db: DB, request: Request,
          response: Response) -> dict[str, Any]:
    """Grant a compensation within the caller's approval limit; above it, it waits for approval
    (status pending_approval). With an idempotency_key, a retry returns the first one (200)."""
    spec = CompensationSpec(kind=body.kind, amount=body.amount, percent=body.percent, goods_cost=body.goods_cost,
                            note=body.note)

    def action(session: Session) -> tuple[dict[str, Any], bool]:
        row, created = compensations.grant_on_case(session, case_id, principal, spec, settings_of(request),
                                                   idempotency_key=body.idempotency_key)
        session.flush()
        return compensation_view(row, zone_of(request)), created
    out, created = run(db, action)
    if not created:
        response.status_code = 200
    return out


@router.get("/compensations")
def list_all(principal: Reader, db: DB, request: Request, status: str | None = None, case_id: int | None = None,
             incident_id: int | None = None, limit: int = 50, cursor: str | None = None) -> dict[str, Any]:
    with db.reading() as session:
        page = compensations.list_compensations(session, principal, status=status, case_id=case_id,
                                                incident_id=incident_id, limit=limit, cursor=cursor)
    zone = zone_of(request)
    return {"items": [compensation_view(c, zone) for c in page.items], "total": page.total, "next": page.next}


def _decide(compensation_id: int, approve: bool, body: DecisionIn | None, principal: Any, db: Any,
            request: Request) -> dict[str, Any]:
    def action(session: Session) -> dict[str, Any]:
        row = compensations.decide(session, compensation_id, principal, settings_of(request), approve=approve,
                                   note=body.note if body else None)
        return compensation_view(row, zone_of(request))
    return run(db, action)


@router.post("/compensations/{compensation_id}/approve")
def approve(compensation_id: int, principal: CaseWriter, db: DB, request: Request,
            body: Annotated[DecisionIn | None, Body()] = None) -> dict[str, Any]:
    """Approve a compensation awaiting approval: only a role whose limit covers its cost may (403 else)."""
    return _decide(compensation_id, True, body, principal, db, request)


@router.post("/compensations/{compensation_id}/reject")
def reject(compensation_id: int, principal: CaseWriter, db: DB, request: Request,
           body: Annotated[DecisionIn | None, Body()] = None) -> dict[str, Any]:
    return _decide(compensation_id, False, body, principal, db, request)


@router.get("/escalations")
def escalations(principal: Reader, db: DB, request: Request, case_id: int | None = None, level: str | None = None,
                limit: int = 50, cursor: str | None = None) -> dict[str, Any]:
    """SLA clocks near or past their due time, newest first (raised by the SLA watch)."""
    with db.reading() as session:
        page = list_escalations(session, principal, case_id=case_id, level=level, limit=limit, cursor=cursor)
    zone = zone_of(request)
    return {"items": [escalation_view(e, zone) for e in page.items], "total": page.total, "next": page.next}
