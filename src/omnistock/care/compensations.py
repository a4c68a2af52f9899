"""Compensation on a case: the standard proposal, a grant within the agent's limit or a request for
approval above it, and the approval or rejection. Every compensation is stored with what it costs.

Approval limits are in the base currency (OMNISTOCK_CARE_CURRENCY). omnistock converts no currencies,
so a compensation in another currency needs a role without a limit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from omnistock.care.cases import get_case, record
from omnistock.care.rulebook import approval_limits, compensation_rules
from omnistock.care.tables import CareCase, CareCompensation
from omnistock.config import Settings
from omnistock.domain.access import Principal
from omnistock.domain.compensation import (
    ANY_CATEGORY,
    CompensationKind,
    CompensationRule,
    Proposal,
    cost_of,
    may_grant,
    propose,
)
from omnistock.errors import Conflict, Forbidden, Invalid, NotFound
from omnistock.store.paging import Page, page_query
from omnistock.store.types import utcnow

STANDARD = "standard"


@dataclass(frozen=True)
class CompensationSpec:
    """kind "standard" takes the proposal of the compensation table; otherwise the gesture given."""

    kind: str = STANDARD
    amount: Decimal | None = None
    percent: Decimal | None = None
    goods_cost: Decimal | None = None  # what the goods sent again cost (reship)
    note: str | None = None


def standard_proposal(session: Session, case: CareCase) -> Proposal | None:
    """The table's proposal for the case; None when no rule covers it or the order value is unknown."""
    if case.order_value is None:
        return None
    return propose(case.category, Decimal(case.order_value), case.currency, compensation_rules(session))


def proposal_for(session: Session, case: CareCase, spec: CompensationSpec) -> Proposal:
    if spec.kind == STANDARD:
        if case.order_value is None:
            raise Invalid("the order value is unknown, so no standard compensation applies: give a kind",
                          field="kind")
        proposal = standard_proposal(session, case)
        if proposal is None:
            raise Invalid(f"no standard compensation covers a {case.category} case of this value: give a kind",
                          field="kind")
        return proposal
    try:
        kind = CompensationKind(spec.kind)
    except ValueError:
        kinds = ", ".join([STANDARD, *(k.value for k in CompensationKind)])
        raise Invalid(f"kind must be one of {kinds}", field="kind") from None
    by_value = kind is CompensationKind.FULL_REFUND or (kind is CompensationKind.PARTIAL_REFUND
                                                       and spec.percent is not None)
    if by_value and case.order_value is None:
        raise Invalid(f"a {kind.value} by share of the order needs the order value, unknown for this case",
                      field="kind")
    # The constructor checks that amount, percent and cap fit the kind, naming the field.
    rule = CompensationRule(f"manual-{kind.value}", ANY_CATEGORY, kind, amount=spec.amount, percent=spec.percent,
                            currency=case.currency)
    # A refund never exceeds the order; with the order value unknown, the amount given is trusted.
    value = Decimal(case.order_value) if case.order_value is not None else (spec.amount or Decimal(0))
    return Proposal(kind, rule.amount_for(value), case.currency, rule.id)


def _may_grant(settings: Settings, limits: dict[str, Decimal | None], role: str, cost: Decimal,
               currency: str) -> bool:
    if currency != settings.care_currency:
        return limits.get(role, Decimal(0)) is None
    return may_grant(cost, role, limits)


def grant(session: Session, case: CareCase, principal: Principal, spec: CompensationSpec, settings: Settings,
          *, incident_id: int | None = None, dedup_key: str | None = None,
          now: datetime | None = None) -> tuple[CareCompensation, bool]:
    """Grant (or ask approval for) a compensation. Returns (compensation, created); with a `dedup_key`
    already used, the earlier compensation and False: a retried action grants nothing twice."""
    now = now or utcnow()
    if dedup_key is not None:
        earlier = session.scalar(select(CareCompensation).where(CareCompensation.dedup_key == dedup_key))
        if earlier is not None:
            return earlier, False
    proposal = proposal_for(session, case, spec)
    order_value = Decimal(case.order_value) if case.order_value is not None else Decimal(0)
    cost = cost_of(proposal, order_value, spec.goods_cost)
    allowed = _may_grant(settings, approval_limits(session), principal.role.value, cost, proposal.currency)
    row = CareCompensation(case_id=case.id, incident_id=incident_id, kind=proposal.kind.value,
                           amount=proposal.amount, currency=proposal.currency, cost=cost, rule_id=proposal.rule_id,
                           sku=case.skus[0] if case.skus else None,
                           status="granted" if allowed else "pending_approval", proposed_by=principal.name,
                           proposed_role=principal.role.value, decided_by=principal.name if allowed else None,
                           decided_at=now if allowed else None, note=spec.note, created_at=now, dedup_key=dedup_key)
    try:
        with session.begin_nested():  # a concurrent retry of the same action loses here, harmlessly
            session.add(row)
            session.flush()
    except IntegrityError:
        earlier = session.scalar(select(CareCompensation).where(CareCompensation.dedup_key == dedup_key))
        if earlier is None:
            raise
        return earlier, False
    record(session, case, "compensation_granted" if allowed else "compensation_pending", principal.name,
           {"compensation_id": row.id, "kind": row.kind, "amount": str(row.amount), "cost": str(row.cost),
            "currency": row.currency}, at=now)
    return row, True


def grant_on_case(session: Session, case_id: int, principal: Principal, spec: CompensationSpec,
                  settings: Settings, *, idempotency_key: str | None = None) -> tuple[CareCompensation, bool]:
    case = get_case(session, case_id, principal, lock=True)
    key = f"case:{case.id}:{idempotency_key}" if idempotency_key else None
    return grant(session, case, principal, spec, settings, dedup_key=key)


def get_compensation(session: Session, compensation_id: int, principal: Principal) -> CareCompensation:
    row = session.get(CareCompensation, compensation_id)
    if row is None:
        raise NotFound(f"no compensation {compensation_id}", field="id")
    get_case(session, row.case_id, principal, field="id")
    return row


def decide(session: Session, compensation_id: int, principal: Principal, settings: Settings, *, approve: bool,
           note: str | None = None, now: datetime | None = None) -> CareCompensation:
    """Approve or reject a compensation awaiting approval: only a role whose limit covers its cost may."""
    now = now or utcnow()
    row = get_compensation(session, compensation_id, principal)
    if row.status != "pending_approval":
        raise Conflict(f"compensation {row.id} is {row.status}, not awaiting approval", field="status")
    if not _may_grant(settings, approval_limits(session), principal.role.value, Decimal(row.cost), row.currency):
        raise Forbidden(f"role {principal.role.value} may not approve a compensation costing {row.cost} "
                        f"{row.currency}", field="cost")
    row.status = "granted" if approve else "rejected"
    row.decided_by, row.decided_at = principal.name, now
    if note:
        row.note = f"{row.note}\n{note}" if row.note else note
    case = session.get(CareCase, row.case_id)
    assert case is not None
    record(session, case, "compensation_approved" if approve else "compensation_rejected", principal.name,
           {"compensation_id": row.id, "note": note}, at=now)
    return row


def list_compensations(session: Session, principal: Principal, *, status: str | None = None,
                       case_id: int | None = None, incident_id: int | None = None, limit: int = 50,
                       cursor: str | None = None) -> Page[CareCompensation]:
    stmt = select(CareCompensation)
    if status:
        if status not in ("granted", "pending_approval", "rejected"):
            raise Invalid("status must be one of granted, pending_approval, rejected", field="status")
        stmt = stmt.where(CareCompensation.status == status)
    if case_id is not None:
        stmt = stmt.where(CareCompensation.case_id == case_id)
    if incident_id is not None:
        stmt = stmt.where(CareCompensation.incident_id == incident_id)
    if principal.scoped:
        stmt = stmt.join(CareCase, CareCase.id == CareCompensation.case_id).where(
            CareCase.channel.in_(sorted(principal.channels or ())))
    return page_query(session, stmt, CareCompensation.id, limit=limit, cursor=cursor)
