"""Proactive cases: an order held because it could not be reserved opens a case by itself, in the same
transaction as the hold, with the customer's contact, the order, the cause and a first message drafted
from the rule's template — before the customer writes.

Exactly one proactive case per order: the case's dedup key is the order, so a second hold of the same
order (or the same platform event delivered twice) adds a line to the existing case's history instead.
Which hold causes open cases, of what category and priority, with which template, is configurable;
the built-in rules below apply until the merchant changes them."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from omnistock.care import messages
from omnistock.care.cases import CaseSpec, Defaults, open_case, record
from omnistock.care.categories import check_category
from omnistock.care.compensations import standard_proposal
from omnistock.care.flow import check_locale, check_priority
from omnistock.care.tables import CareCase, CareProactiveRule
from omnistock.care.templates import describe_compensation, find_template
from omnistock.config import get_settings
from omnistock.domain.access import Principal, Role
from omnistock.errors import Invalid, OmnistockError
from omnistock.services import hooks
from omnistock.store.tables import Order

log = logging.getLogger("omnistock.care")
CARE_DESK = Principal(name="care:proactive", role=Role.ADMIN)
ANY_CAUSE = "*"


@dataclass(frozen=True)
class ProactiveRule:
    cause: str  # the hold reason's prefix before ":" (insufficient_stock, stock_shortfall), or "*"
    enabled: bool = True
    category: str = "out_of_stock"
    priority: str = "high"
    template: str = "oversell_apology"
    locale: str | None = None  # None: OMNISTOCK_CARE_LOCALE


BUILT_IN_RULES = (ProactiveRule("insufficient_stock"), ProactiveRule("stock_shortfall"))


def cause_of(hold_reason: str | None) -> str:
    return (hold_reason or "").split(":", 1)[0].strip() or "unknown"


def rules(session: Session) -> list[ProactiveRule]:
    """The rules in effect: the merchant's, and the built-in ones for causes they did not set."""
    own = {r.cause: ProactiveRule(r.cause, r.enabled, r.category, r.priority, r.template, r.locale)
           for r in session.scalars(select(CareProactiveRule))}
    merged = dict(own)
    for rule in BUILT_IN_RULES:
        merged.setdefault(rule.cause, rule)
    return sorted(merged.values(), key=lambda r: (r.cause == ANY_CAUSE, r.cause))


def rule_for(session: Session, cause: str) -> ProactiveRule | None:
    by_cause = {r.cause: r for r in rules(session)}
    return by_cause.get(cause) or by_cause.get(ANY_CAUSE)


def save_rule(session: Session, rule: ProactiveRule) -> ProactiveRule:
    if not rule.cause.strip() or ":" in rule.cause:
        raise Invalid("cause is the hold reason's first word, such as insufficient_stock, or *", field="cause")
    check_category(session, rule.category)
    check_priority(rule.priority)
    if rule.locale is not None:
        check_locale(rule.locale)
    for locale in ([rule.locale] if rule.locale else ["zh", "en"]):
        find_template(session, rule.template, locale)  # NotFound names the template field
    row = session.scalar(select(CareProactiveRule).where(CareProactiveRule.cause == rule.cause))
    if row is None:
        row = CareProactiveRule(cause=rule.cause)
        session.add(row)
    row.enabled, row.category, row.priority = rule.enabled, rule.category, rule.priority
    row.template, row.locale = rule.template, rule.locale
    session.flush()
    return rule


def rule_view(rule: ProactiveRule) -> dict[str, Any]:
    return {"cause": rule.cause, "enabled": rule.enabled, "category": rule.category, "priority": rule.priority,
            "template": rule.template, "locale": rule.locale}


def dedup_key(order_id: int) -> str:
    return f"proactive:order:{order_id}"


def on_order_held(session: Session, order: Order) -> None:
    """The hook the core calls inside the transaction that held `order`."""
    rule = rule_for(session, cause_of(order.hold_reason))
    if rule is None or not rule.enabled:
        return
    key = dedup_key(order.id)
    existing = session.scalar(select(CareCase).where(CareCase.dedup_key == key))
    if existing is not None:
        record(session, existing, "order_held_again", CARE_DESK.name, {"reason": order.hold_reason})
        return
    settings = get_settings()
    defaults = Defaults(rule.locale or settings.care_locale, settings.care_currency)
    spec = CaseSpec(category=rule.category, priority=rule.priority, source="proactive", order_id=order.id,
                    subject=_subject(order, defaults.locale), cause=order.hold_reason, dedup_key=key,
                    locale=defaults.locale)
    try:
        with session.begin_nested():  # two holds racing on one order: the loser's case is dropped here
            case = open_case(session, spec, CARE_DESK, defaults)
    except IntegrityError:
        return
    _draft_first_message(session, case, rule)


def _subject(order: Order, locale: str) -> str:
    if locale == "zh":
        return f"订单 {order.external_id} 缺货被挂起"
    return f"Order {order.external_id} held: out of stock"


def _draft_first_message(session: Session, case: CareCase, rule: ProactiveRule) -> None:
    proposal = standard_proposal(session, case)
    offer = describe_compensation(proposal.kind.value, proposal.amount, proposal.currency, case.locale) \
        if proposal else None
    try:
        with session.begin_nested():
            messages.draft(session, case, rule.template, CARE_DESK.name, compensation=offer)
    except OmnistockError as exc:
        # A broken merchant template must not stop the hold: the case is open, the agent writes by hand.
        log.warning("case %s: no first message drafted: %s", case.id, exc.message)
        record(session, case, "draft_failed", CARE_DESK.name, {"template": rule.template, "error": exc.message})


def register() -> None:
    if on_order_held not in hooks.order_held:
        hooks.order_held.append(on_order_held)
