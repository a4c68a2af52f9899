"""The tables of the complaint desk: cases and their history, incidents, SLA settings, compensation,
outreach and the knowledge base. Settings tables hold only what a merchant changed; built-in defaults
live in code, so an empty table means "the defaults"."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from omnistock.store.tables import Base, Id
from omnistock.store.types import utcnow

Money = Numeric(18, 4)


class CareCategory(Base):
    """A category a merchant added to the built-in ones (out_of_stock, late_shipment, ...)."""

    __tablename__ = "care_categories"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CareTeam(Base):
    """A team and its calendar. `week` is 7 lists (Monday first) of ["HH:MM", "HH:MM"] openings."""

    __tablename__ = "care_teams"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    week: Mapped[list[Any]] = mapped_column()
    holidays: Mapped[list[Any]] = mapped_column(default=list)
    extra_working_days: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CareSlaPolicy(Base):
    __tablename__ = "care_sla_policies"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    category: Mapped[str | None] = mapped_column(String(64))
    priority: Mapped[str | None] = mapped_column(String(16))
    first_response_minutes: Mapped[int] = mapped_column(Integer)
    resolution_minutes: Mapped[int] = mapped_column(Integer)
    near_breach_at: Mapped[Decimal] = mapped_column(Numeric(4, 3))


class CareIncident(Base):
    """One root cause behind many cases, with what was done about it (for the review)."""

    __tablename__ = "care_incidents"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    cause: Mapped[str | None] = mapped_column(Text)
    fix: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    channel: Mapped[str | None] = mapped_column(String(64))
    skus: Mapped[list[Any]] = mapped_column(default=list)
    started_at: Mapped[datetime | None] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column()
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column()
    resolved_by: Mapped[str | None] = mapped_column(String(120))


class CareCase(Base):
    """A complaint: about an order (channel, SKUs and customer copied from it) or standalone.

    `dedup_key` makes automatic intake idempotent: one proactive case per held order, one case per
    platform event. Due times and clock states are refreshed on every change and by the SLA watch."""

    __tablename__ = "care_cases"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    channel: Mapped[str | None] = mapped_column(String(64), index=True)
    external_order_id: Mapped[str | None] = mapped_column(String(128))
    source: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(64), index=True)
    priority: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(24), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    cause: Mapped[str | None] = mapped_column(Text)
    customer_name: Mapped[str | None] = mapped_column(String(200))
    customer_phone: Mapped[str | None] = mapped_column(String(64))
    customer_email: Mapped[str | None] = mapped_column(String(200))
    skus: Mapped[list[Any]] = mapped_column(default=list)
    order_value: Mapped[Decimal | None] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    locale: Mapped[str] = mapped_column(String(8))
    assignee: Mapped[str | None] = mapped_column(String(120), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("care_teams.id"))
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("care_incidents.id"), index=True)
    dedup_key: Mapped[str | None] = mapped_column(String(300), unique=True)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    first_response_at: Mapped[datetime | None] = mapped_column()
    resolved_at: Mapped[datetime | None] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column()
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    resolution_started_at: Mapped[datetime] = mapped_column(default=utcnow)  # a reopen starts a new clock
    first_response_due: Mapped[datetime | None] = mapped_column()
    resolution_due: Mapped[datetime | None] = mapped_column()
    first_response_state: Mapped[str] = mapped_column(String(16), default="ok")
    resolution_state: Mapped[str] = mapped_column(String(16), default="ok")


class CareCaseEvent(Base):
    """The history of a case: every change, who made it, when, and the detail."""

    __tablename__ = "care_case_events"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("care_cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class CarePause(Base):
    """A stretch while the case waited on the customer; the SLA clocks do not run during it."""

    __tablename__ = "care_pauses"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("care_cases.id"), index=True)
    started_at: Mapped[datetime] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column()


class CareMessage(Base):
    """An internal note, a message to the customer (draft, queued, sent, failed, or recorded when the
    agent answered elsewhere), or a message from the customer."""

    __tablename__ = "care_messages"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("care_cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # note | outbound | inbound
    channel: Mapped[str | None] = mapped_column(String(16))  # email | sms | chat | manual
    status: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str | None] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    locale: Mapped[str | None] = mapped_column(String(8))
    template: Mapped[str | None] = mapped_column(String(64))
    author: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()
    dedup_key: Mapped[str | None] = mapped_column(String(300), unique=True)


class CareDelivery(Base):
    """One attempt to send a message, with its result."""

    __tablename__ = "care_deliveries"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("care_messages.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(300))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    ok: Mapped[bool] = mapped_column(Boolean)
    status_code: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[str | None] = mapped_column(Text)


class CareCompensation(Base):
    """A compensation granted, awaiting approval, or rejected; `cost` is what it costs the merchant."""

    __tablename__ = "care_compensations"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("care_cases.id"), index=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("care_incidents.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    cost: Mapped[Decimal] = mapped_column(Money)
    rule_id: Mapped[str | None] = mapped_column(String(64))
    sku: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(24), index=True)  # granted | pending_approval | rejected
    proposed_by: Mapped[str] = mapped_column(String(120))
    proposed_role: Mapped[str] = mapped_column(String(16))
    decided_by: Mapped[str | None] = mapped_column(String(120))
    decided_at: Mapped[datetime | None] = mapped_column()
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    dedup_key: Mapped[str | None] = mapped_column(String(300), unique=True)


class CareEscalation(Base):
    """A clock near or past its due time. One per case, clock, level and resolution round."""

    __tablename__ = "care_escalations"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("care_cases.id"), index=True)
    clock: Mapped[str] = mapped_column(String(16))  # first_response | resolution
    level: Mapped[str] = mapped_column(String(16))  # near_breach | breached
    round: Mapped[int] = mapped_column(Integer, default=0)
    due: Mapped[datetime | None] = mapped_column()
    raised_at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (UniqueConstraint("case_id", "clock", "level", "round", name="uq_care_escalations_once"),)


class CareProactiveRule(Base):
    """Which hold cause opens a proactive case, of what category and priority, drafted from which template."""

    __tablename__ = "care_proactive_rules"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    cause: Mapped[str] = mapped_column(String(64), unique=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    category: Mapped[str] = mapped_column(String(64))
    priority: Mapped[str] = mapped_column(String(16))
    template: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str | None] = mapped_column(String(8))


class CareApprovalLimit(Base):
    """The highest compensation cost a role may grant alone; NULL means no limit."""

    __tablename__ = "care_approval_limits"
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    max_cost: Mapped[Decimal | None] = mapped_column(Money)


class CareCompensationRule(Base):
    """A merchant's own compensation table; when empty, the standard table of domain.compensation applies."""

    __tablename__ = "care_compensation_rules"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    position: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(24))
    min_order_value: Mapped[Decimal] = mapped_column(Money)
    max_order_value: Mapped[Decimal | None] = mapped_column(Money)
    amount: Mapped[Decimal | None] = mapped_column(Money)
    percent: Mapped[Decimal | None] = mapped_column(Money)
    cap: Mapped[Decimal | None] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))


class CareSender(Base):
    """Sender settings set through the API; they win over the OMNISTOCK_SMTP_* / *_WEBHOOK_URL settings.
    Passwords and secrets are encrypted at rest."""

    __tablename__ = "care_senders"
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # email | sms | chat
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CareArticle(Base):
    """A knowledge-base entry: an SOP article or a reply template (templates have a key and a locale).
    `search_text` is what the full-text index sees: the text plus CJK character bigrams."""

    __tablename__ = "care_kb_articles"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # sop | template
    key: Mapped[str | None] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(8))
    category: Mapped[str | None] = mapped_column(String(64), index=True)
    title: Mapped[str] = mapped_column(String(300))
    subject: Mapped[str | None] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    tags: Mapped[list[Any]] = mapped_column(default=list)
    search_text: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (UniqueConstraint("key", "locale", name="uq_care_kb_articles_key_locale"),
                      Index("ix_care_kb_articles_kind", "kind"))
