"""The merchant's compensation table and approval limits per role, stored; when none are set the
standard ones apply (domain.compensation). omnistock has no "supervisor" role: the operator role plays it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from omnistock.care.categories import check_category
from omnistock.care.tables import CareApprovalLimit, CareCompensationRule
from omnistock.domain.access import Role
from omnistock.domain.compensation import ANY_CATEGORY, DEFAULT_RULES, CompensationRule
from omnistock.errors import Invalid

DEFAULT_LIMITS: Mapping[str, Decimal | None] = {"agent": Decimal(50), "operator": Decimal(500), "admin": None}


def approval_limits(session: Session) -> dict[str, Decimal | None]:
    limits: dict[str, Decimal | None] = dict(DEFAULT_LIMITS)
    for row in session.scalars(select(CareApprovalLimit)):
        limits[row.role] = Decimal(row.max_cost) if row.max_cost is not None else None
    return limits


def save_limits(session: Session, limits: Mapping[str, Decimal | None]) -> dict[str, Decimal | None]:
    roles = {r.value for r in Role} - {Role.VIEWER.value}
    for role, value in limits.items():
        if role not in roles:
            raise Invalid(f"role must be one of {', '.join(sorted(roles))}", field=f"limits.{role}")
        if value is not None and value < 0:
            raise Invalid("a limit cannot be negative", field=f"limits.{role}")
    for role, value in limits.items():
        row = session.get(CareApprovalLimit, role)
        if row is None:
            session.add(CareApprovalLimit(role=role, max_cost=value))
        else:
            row.max_cost = value
    session.flush()
    return approval_limits(session)


def compensation_rules(session: Session) -> tuple[CompensationRule, ...]:
    rows = list(session.scalars(select(CareCompensationRule).order_by(CareCompensationRule.position)))
    if not rows:
        return DEFAULT_RULES
    return tuple(CompensationRule(r.code, r.category, r.kind, Decimal(r.min_order_value),  # type: ignore[arg-type]
                                  _dec(r.max_order_value), _dec(r.amount), _dec(r.percent), _dec(r.cap), r.currency)
                 for r in rows)


def _dec(value: Decimal | None) -> Decimal | None:
    return Decimal(value) if value is not None else None


def replace_rules(session: Session, rules: Sequence[CompensationRule]) -> tuple[CompensationRule, ...]:
    """Replace the table (an empty list brings back the standard one). Rules are already checked by
    their constructor; categories and unique ids are checked here."""
    seen: set[str] = set()
    for i, rule in enumerate(rules):
        if rule.category != ANY_CATEGORY:
            check_category(session, rule.category, field=f"rules[{i}].category")
        if rule.id in seen:
            raise Invalid(f"rule id {rule.id!r} is used twice", field=f"rules[{i}].id")
        seen.add(rule.id)
    session.execute(delete(CareCompensationRule))
    for i, rule in enumerate(rules):
        session.add(CareCompensationRule(code=rule.id, position=i, category=rule.category, kind=rule.kind.value,
                                         min_order_value=rule.min_order_value, max_order_value=rule.max_order_value,
                                         amount=rule.amount, percent=rule.percent, cap=rule.cap,
                                         currency=rule.currency))
    session.flush()
    return compensation_rules(session)


def _money(value: Decimal | None) -> str | None:
    # Stored with 4 decimals; shown as written ("50", "12.5"), never in exponent form.
    return f"{Decimal(value).normalize():f}" if value is not None else None


def rule_view(rule: CompensationRule) -> dict[str, Any]:
    return {"id": rule.id, "category": rule.category, "kind": rule.kind.value,
            "min_order_value": _money(rule.min_order_value), "max_order_value": _money(rule.max_order_value),
            "amount": _money(rule.amount), "percent": _money(rule.percent), "cap": _money(rule.cap),
            "currency": rule.currency}


def limits_view(limits: Mapping[str, Decimal | None]) -> dict[str, str | None]:
    return {role: _money(value) for role, value in sorted(limits.items())}
