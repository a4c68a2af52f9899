"""Cases: opening one (about an order, or standalone), reading and listing them, and the history every
change writes. Status changes and edits are in care.handling."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from omnistock.care import clock
from omnistock.care.calendars import team_by_code
from omnistock.care.categories import check_category
from omnistock.care.flow import SOURCES, Status, check_locale, check_priority, parse_status
from omnistock.care.tables import CareCase, CareCaseEvent, CareMessage
from omnistock.config import Settings
from omnistock.domain.access import Principal
from omnistock.domain.money import require_currency
from omnistock.errors import Forbidden, Invalid, NotFound
from omnistock.services.lookup import channel_by_code
from omnistock.services.orders import find_order, get_order
from omnistock.store.paging import Page, page_query
from omnistock.store.tables import Order
from omnistock.store.types import utcnow


@dataclass(frozen=True)
class Defaults:
    """What a case takes from the settings when its order or its author says nothing."""

    locale: str = "zh"
    currency: str = "CNY"

    @classmethod
    def of(cls, settings: Settings) -> Defaults:
        return cls(settings.care_locale, settings.care_currency)


@dataclass(frozen=True)
class Customer:
    name: str | None = None
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class CaseSpec:
    category: str
    subject: str
    priority: str = "normal"
    source: str = "customer"
    order_id: int | None = None
    channel: str | None = None  # with external_order_id: the order as the platform names it
    external_order_id: str | None = None
    customer: Customer = field(default_factory=Customer)
    description: str | None = None  # the customer's words, kept as their first message
    cause: str | None = None
    skus: tuple[str, ...] = ()
    order_value: Decimal | None = None
    currency: str | None = None
    locale: str | None = None
    team: str | None = None
    assignee: str | None = None
    dedup_key: str | None = None


def record(session: Session, case: CareCase, kind: str, actor: str, detail: dict[str, Any] | None = None,
           *, at: datetime | None = None) -> None:
    session.add(CareCaseEvent(case_id=case.id, kind=kind, actor=actor, at=at or utcnow(), detail=detail or {}))


def open_case(session: Session, spec: CaseSpec, principal: Principal, defaults: Defaults,
              *, now: datetime | None = None) -> CareCase:
    """Open a case; every field is checked before anything is written."""
    now = now or utcnow()
    case = _new_case(session, spec, principal, defaults, now)
    session.add(case)
    session.flush()
    _first_entries(session, case, spec, principal, now)
    return case


def _new_case(session: Session, spec: CaseSpec, principal: Principal, defaults: Defaults,
              now: datetime) -> CareCase:
    if spec.source not in SOURCES:
        raise Invalid(f"source must be one of {', '.join(SOURCES)}", field="source")
    check_category(session, spec.category)
    check_priority(spec.priority)
    if not spec.subject.strip():
        raise Invalid("subject cannot be empty", field="subject")
    order = _order_of(session, spec, principal)
    team_id = team_by_code(session, spec.team).id if spec.team else None
    case = CareCase(source=spec.source, category=spec.category, priority=spec.priority, status=Status.NEW.value,
                    subject=spec.subject.strip(), cause=spec.cause, team_id=team_id, assignee=spec.assignee,
                    dedup_key=spec.dedup_key, created_by=principal.name, created_at=now, updated_at=now,
                    resolution_started_at=now, reopen_count=0,
                    locale=check_locale(spec.locale or defaults.locale), skus=list(spec.skus),
                    channel=spec.channel, external_order_id=spec.external_order_id,
                    order_value=spec.order_value, currency=spec.currency or defaults.currency)
    if order is not None:
        _copy_order(case, order)
        if spec.currency is None:
            case.currency = order.currency or defaults.currency
    elif spec.channel is not None:
        channel_by_code(session, spec.channel, principal=principal)
    if spec.channel is None and order is None and principal.channels is not None:
        raise Forbidden("a token limited to channels can only open cases about its channels", field="channel")
    require_currency(case.currency)
    case.customer_name = spec.customer.name or case.customer_name
    case.customer_phone = spec.customer.phone or case.customer_phone
    case.customer_email = spec.customer.email or case.customer_email
    if spec.skus:
        case.skus = list(spec.skus)
    return case


def _first_entries(session: Session, case: CareCase, spec: CaseSpec, principal: Principal, now: datetime) -> None:
    record(session, case, "created", principal.name,
           {"source": case.source, "category": case.category, "priority": case.priority}, at=now)
    if spec.description:
        session.add(CareMessage(case_id=case.id, kind="inbound", channel=None, status="received",
                                body=spec.description, author=case.customer_name or "customer", created_at=now))
    clock.refresh(session, case, now)


def _order_of(session: Session, spec: CaseSpec, principal: Principal) -> Order | None:
    if spec.order_id is not None:
        try:
            return get_order(session, spec.order_id, principal)
        except (NotFound, Forbidden) as exc:
            raise type(exc)(exc.message, field="order_id") from None
    if spec.channel is not None and spec.external_order_id is not None:
        channel = channel_by_code(session, spec.channel, principal=principal)
        return find_order(session, channel.id, spec.external_order_id)
    return None


_SHORT_SKU = re.compile(r"(?:^|[:,]\s*)(\S+) (?:wanted \d+|at \S+ fell below)")


def affected_skus(order: Order) -> list[str]:
    """The SKUs a held order is short of, read from its hold reason; else every SKU of the order."""
    short = _SHORT_SKU.findall(order.hold_reason or "") if order.status == "held" else []
    codes = [ln.sku.code for ln in order.lines]
    return [c for c in dict.fromkeys(short) if c in codes] or list(dict.fromkeys(codes))


def order_value(order: Order) -> Decimal | None:
    """The order's value, when every line has a price."""
    if not order.lines or any(ln.unit_price is None for ln in order.lines):
        return None
    return sum((Decimal(ln.unit_price) * ln.qty for ln in order.lines if ln.unit_price is not None), Decimal(0))


def _copy_order(case: CareCase, order: Order) -> None:
    case.order_id = order.id
    case.channel = order.channel.code
    case.external_order_id = order.external_id
    case.customer_name, case.customer_phone = order.customer_name, order.customer_phone
    case.customer_email = order.customer_email
    case.skus = affected_skus(order)
    if case.order_value is None:
        case.order_value = order_value(order)


def visible(principal: Principal, case: CareCase) -> bool:
    """A channel-scoped token sees the cases of its channels; a store (location) token sees none:
    complaints belong to the shop, not to a store's stock."""
    if not principal.scoped:
        return True
    return principal.channels is not None and case.channel is not None and case.channel in principal.channels


def get_case(session: Session, case_id: int, principal: Principal, *, lock: bool = False,
             field: str = "id") -> CareCase:
    stmt = select(CareCase).where(CareCase.id == case_id)
    if lock:
        stmt = stmt.with_for_update()
    case = session.scalar(stmt)
    if case is None:
        raise NotFound(f"no case {case_id}", field=field)
    if not visible(principal, case):
        raise Forbidden(f"case {case_id} is outside this token's scope", field=field)
    return case


@dataclass(frozen=True)
class CaseFilter:
    order_id: int | None = None
    status: str | None = None
    category: str | None = None
    priority: str | None = None
    source: str | None = None
    assignee: str | None = None
    incident_id: int | None = None
    channel: str | None = None


def _filtered(stmt: Select[Any], f: CaseFilter) -> Select[Any]:
    if f.status:
        stmt = stmt.where(CareCase.status == parse_status(f.status).value)
    if f.priority:
        stmt = stmt.where(CareCase.priority == check_priority(f.priority))
    if f.source:
        if f.source not in SOURCES:
            raise Invalid(f"source must be one of {', '.join(SOURCES)}", field="source")
        stmt = stmt.where(CareCase.source == f.source)
    for column, value in ((CareCase.order_id, f.order_id), (CareCase.category, f.category),
                          (CareCase.assignee, f.assignee), (CareCase.incident_id, f.incident_id),
                          (CareCase.channel, f.channel)):
        if value is not None and value != "":
            stmt = stmt.where(column == value)
    return stmt


def list_cases(session: Session, principal: Principal, filters: CaseFilter, *, limit: int = 50,
               cursor: str | None = None) -> Page[CareCase]:
    stmt = _filtered(select(CareCase), filters)
    if principal.scoped:
        stmt = stmt.where(CareCase.channel.in_(sorted(principal.channels or ())))
    return page_query(session, stmt, CareCase.id, limit=limit, cursor=cursor)
