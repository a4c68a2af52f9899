"""How the complaint desk is shown over the API: plain dicts, times in the merchant's zone, money as
decimal strings rounded to the currency."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from omnistock.care.incident_actions import BulkResult
from omnistock.care.sla_watch import escalations_of
from omnistock.care.tables import (
    CareCase,
    CareCaseEvent,
    CareCompensation,
    CareDelivery,
    CareEscalation,
    CareIncident,
    CareMessage,
    CarePause,
    CareTeam,
)
from omnistock.domain.money import round_money


def when(dt: datetime | None, zone: ZoneInfo) -> str | None:
    return dt.astimezone(zone).isoformat() if dt is not None else None


def money(amount: Decimal | None, currency: str) -> str | None:
    return str(round_money(Decimal(amount), currency)) if amount is not None else None


def case_view(case: CareCase, zone: ZoneInfo, team: str | None = None) -> dict[str, Any]:
    return {
        "id": case.id, "order_id": case.order_id, "category": case.category, "priority": case.priority,
        "status": case.status, "source": case.source, "created_at": when(case.created_at, zone),
        "first_response_due": when(case.first_response_due, zone), "resolution_due": when(case.resolution_due, zone),
        "incident_id": case.incident_id, "subject": case.subject, "cause": case.cause, "channel": case.channel,
        "external_order_id": case.external_order_id, "skus": case.skus,
        "customer": {"name": case.customer_name, "phone": case.customer_phone, "email": case.customer_email},
        "order_value": money(case.order_value, case.currency), "currency": case.currency, "locale": case.locale,
        "assignee": case.assignee, "team": team, "updated_at": when(case.updated_at, zone),
        "first_response_at": when(case.first_response_at, zone), "resolved_at": when(case.resolved_at, zone),
        "closed_at": when(case.closed_at, zone), "reopen_count": case.reopen_count,
        "sla": {"first_response": case.first_response_state, "resolution": case.resolution_state,
                "paused": case.status == "waiting_on_customer"},
    }


def message_view(message: CareMessage, zone: ZoneInfo, deliveries: list[CareDelivery] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": message.id, "kind": message.kind, "channel": message.channel, "status": message.status,
        "subject": message.subject, "body": message.body, "locale": message.locale, "template": message.template,
        "author": message.author, "created_at": when(message.created_at, zone), "sent_at": when(message.sent_at, zone)}
    if deliveries is not None:
        out["deliveries"] = [{"at": when(d.at, zone), "channel": d.channel, "recipient": d.recipient, "ok": d.ok,
                              "status_code": d.status_code, "detail": d.detail} for d in deliveries]
    return out


def compensation_view(row: CareCompensation, zone: ZoneInfo) -> dict[str, Any]:
    return {"id": row.id, "case_id": row.case_id, "incident_id": row.incident_id, "kind": row.kind,
            "amount": money(row.amount, row.currency), "cost": money(row.cost, row.currency),
            "currency": row.currency, "rule_id": row.rule_id, "sku": row.sku, "status": row.status,
            "proposed_by": row.proposed_by, "proposed_role": row.proposed_role, "decided_by": row.decided_by,
            "decided_at": when(row.decided_at, zone), "note": row.note, "created_at": when(row.created_at, zone)}


def escalation_view(row: CareEscalation, zone: ZoneInfo) -> dict[str, Any]:
    return {"id": row.id, "case_id": row.case_id, "clock": row.clock, "level": row.level, "round": row.round,
            "due": when(row.due, zone), "raised_at": when(row.raised_at, zone)}


def incident_view(incident: CareIncident, zone: ZoneInfo, case_count: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": incident.id, "title": incident.title, "status": incident.status, "cause": incident.cause,
        "fix": incident.fix, "channel": incident.channel, "skus": incident.skus,
        "started_at": when(incident.started_at, zone), "ended_at": when(incident.ended_at, zone),
        "created_by": incident.created_by, "created_at": when(incident.created_at, zone),
        "resolved_at": when(incident.resolved_at, zone), "resolved_by": incident.resolved_by}
    if case_count is not None:
        out["cases"] = case_count
    return out


def bulk_view(result: BulkResult) -> dict[str, Any]:
    return {"cases": result.cases, "done": result.done, "already": result.already, "skipped": result.skipped}


def team_code(session: Session, case: CareCase) -> str | None:
    return session.scalar(select(CareTeam.code).where(CareTeam.id == case.team_id)) if case.team_id else None


def case_detail(session: Session, case: CareCase, zone: ZoneInfo) -> dict[str, Any]:
    """The case with its whole history: events, notes, messages with their deliveries, pauses,
    compensations and escalations."""
    out = case_view(case, zone, team_code(session, case))
    msgs = list(session.scalars(select(CareMessage).where(CareMessage.case_id == case.id).order_by(CareMessage.id)))
    deliveries: dict[int, list[CareDelivery]] = {}
    for d in session.scalars(select(CareDelivery).where(CareDelivery.message_id.in_([m.id for m in msgs]))
                             .order_by(CareDelivery.id)):
        deliveries.setdefault(d.message_id, []).append(d)
    out["notes"] = [message_view(m, zone) for m in msgs if m.kind == "note"]
    out["messages"] = [message_view(m, zone, deliveries.get(m.id, [])) for m in msgs if m.kind != "note"]
    out["events"] = [{"kind": e.kind, "actor": e.actor, "at": when(e.at, zone), "detail": e.detail}
                     for e in session.scalars(select(CareCaseEvent).where(CareCaseEvent.case_id == case.id)
                                              .order_by(CareCaseEvent.id))]
    out["pauses"] = [{"started_at": when(p.started_at, zone), "ended_at": when(p.ended_at, zone)}
                     for p in session.scalars(select(CarePause).where(CarePause.case_id == case.id)
                                              .order_by(CarePause.id))]
    out["compensations"] = [compensation_view(c, zone) for c in session.scalars(
        select(CareCompensation).where(CareCompensation.case_id == case.id).order_by(CareCompensation.id))]
    out["escalations"] = [escalation_view(e, zone) for e in escalations_of(session, case.id)]
    return out
