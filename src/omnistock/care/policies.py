"""SLA policies by category and priority as the merchant set them; none set means the default
(30 minutes to the first response, 24 hours to resolution)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from omnistock.care.categories import check_category
from omnistock.care.flow import check_priority
from omnistock.care.tables import CareSlaPolicy
from omnistock.domain.sla import DEFAULT_POLICY, SlaPolicy
from omnistock.errors import Invalid


@dataclass(frozen=True)
class PolicySpec:
    category: str | None
    priority: str | None
    first_response_minutes: int
    resolution_minutes: int
    near_breach_at: Decimal = Decimal("0.8")


def sla_policies(session: Session) -> list[SlaPolicy]:
    rows = session.scalars(select(CareSlaPolicy).order_by(CareSlaPolicy.id))
    return [SlaPolicy(r.category, r.priority, timedelta(minutes=r.first_response_minutes),
                      timedelta(minutes=r.resolution_minutes), Decimal(r.near_breach_at)) for r in rows]


def replace_policies(session: Session, specs: Sequence[PolicySpec]) -> list[SlaPolicy]:
    """Replace the whole table: every policy is checked before any is written."""
    checked = []
    seen: set[tuple[str | None, str | None]] = set()
    for i, spec in enumerate(specs):
        if spec.category is not None:
            check_category(session, spec.category, field=f"policies[{i}].category")
        if spec.priority is not None:
            try:
                check_priority(spec.priority)
            except Invalid as exc:
                raise Invalid(exc.message, field=f"policies[{i}].priority") from None
        if (spec.category, spec.priority) in seen:
            raise Invalid("two policies for the same category and priority", field=f"policies[{i}]")
        seen.add((spec.category, spec.priority))
        try:
            checked.append(SlaPolicy(spec.category, spec.priority, timedelta(minutes=spec.first_response_minutes),
                                     timedelta(minutes=spec.resolution_minutes), spec.near_breach_at))
        except Invalid as exc:
            raise Invalid(exc.message, field=f"policies[{i}].{exc.field}") from None
    session.execute(delete(CareSlaPolicy))
    for spec in specs:
        session.add(CareSlaPolicy(category=spec.category, priority=spec.priority,
                                  first_response_minutes=spec.first_response_minutes,
                                  resolution_minutes=spec.resolution_minutes, near_breach_at=spec.near_breach_at))
    session.flush()
    return checked


def policy_view(policy: SlaPolicy) -> dict[str, Any]:
    return {"category": policy.category, "priority": policy.priority,
            "first_response_minutes": int(policy.first_response.total_seconds() // 60),
            "resolution_minutes": int(policy.resolution.total_seconds() // 60),
            "near_breach_at": str(policy.near_breach_at)}


def default_view() -> dict[str, Any]:
    return policy_view(DEFAULT_POLICY)
