"""Bulk actions on an incident's cases: one message to every customer, one compensation to every case,
resolve them all. Each action is keyed (by the caller's idempotency key, else by its content), so a
retried action skips the cases it already reached and reaches only those added since."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from omnistock.care import compensations, messages
from omnistock.care.compensations import CompensationSpec
from omnistock.care.flow import ACTIVE, Status
from omnistock.care.handling import change_status
from omnistock.care.incidents import cases_of, get_incident
from omnistock.care.messages import CHANNELS, ReplySpec
from omnistock.care.tables import CareMessage
from omnistock.config import Settings
from omnistock.domain.access import Principal
from omnistock.domain.compensation import CompensationKind
from omnistock.errors import Invalid, OmnistockError
from omnistock.store.types import utcnow


@dataclass
class BulkResult:
    cases: int = 0
    done: list[int] = field(default_factory=list)  # case ids reached now
    already: list[int] = field(default_factory=list)  # reached by an earlier run of the same action
    skipped: list[dict[str, object]] = field(default_factory=list)  # {case_id, reason}
    message_ids: list[int] = field(default_factory=list)  # queued now, to send after the commit


def action_key(given: str | None, *content: object) -> str:
    if given:
        return given
    return hashlib.sha256(json.dumps([str(c) for c in content]).encode()).hexdigest()[:32]


def message_all(session: Session, incident_id: int, principal: Principal, spec: ReplySpec, settings: Settings,
                *, idempotency_key: str | None = None, now: datetime | None = None) -> BulkResult:
    """Write one message to the customer of every case of the incident (template variables are filled
    per case). Cases whose customer cannot be reached are skipped with the reason."""
    now = now or utcnow()
    if spec.channel not in CHANNELS:
        raise Invalid(f"channel must be one of {', '.join(CHANNELS)}", field="channel")
    if not spec.template and not (spec.body and spec.body.strip()):
        raise Invalid("give a body or a template", field="body")
    incident = get_incident(session, incident_id, principal, lock=True)
    key = action_key(idempotency_key, spec.template, spec.subject, spec.body, spec.channel)
    result = BulkResult()
    for case in cases_of(session, incident, principal):
        result.cases += 1
        dedup = f"incident:{incident.id}:message:{key}:case:{case.id}"
        if session.scalar(select(CareMessage.id).where(CareMessage.dedup_key == dedup)) is not None:
            result.already.append(case.id)
            continue
        try:
            with session.begin_nested():
                message = messages.reply(session, case.id, principal, spec, settings, now=now, dedup_key=dedup,
                                         case=case)
        except OmnistockError as exc:  # this customer cannot be written to; the others still are
            result.skipped.append({"case_id": case.id, "reason": exc.message})
            continue
        result.done.append(case.id)
        if message.status == "queued":
            result.message_ids.append(message.id)
    return result


def compensate_all(session: Session, incident_id: int, principal: Principal, spec: CompensationSpec,
                   settings: Settings, *, idempotency_key: str | None = None,
                   now: datetime | None = None) -> BulkResult:
    """One compensation on every case of the incident, once per case however often the action is sent."""
    now = now or utcnow()
    if spec.kind != compensations.STANDARD and spec.kind not in {k.value for k in CompensationKind}:
        kinds = ", ".join([compensations.STANDARD, *(k.value for k in CompensationKind)])
        raise Invalid(f"kind must be one of {kinds}", field="kind")
    incident = get_incident(session, incident_id, principal, lock=True)
    key = action_key(idempotency_key, spec.kind, spec.amount, spec.percent, spec.goods_cost)
    result = BulkResult()
    for case in cases_of(session, incident, principal):
        result.cases += 1
        dedup = f"incident:{incident.id}:compensation:{key}:case:{case.id}"
        try:
            with session.begin_nested():
                _, created = compensations.grant(session, case, principal, spec, settings, incident_id=incident.id,
                                                 dedup_key=dedup, now=now)
        except OmnistockError as exc:
            result.skipped.append({"case_id": case.id, "reason": exc.message})
            continue
        (result.done if created else result.already).append(case.id)
    return result


def resolve_all(session: Session, incident_id: int, principal: Principal, *, fix: str | None,
                note: str | None = None, now: datetime | None = None) -> BulkResult:
    """Record the fix, resolve every active case of the incident, and close the incident."""
    now = now or utcnow()
    incident = get_incident(session, incident_id, principal, lock=True)
    if fix is not None and fix.strip():
        incident.fix = fix.strip()
    if not incident.fix:
        raise Invalid("say what fixed it: the review needs the fix", field="fix")
    result = BulkResult()
    for case in cases_of(session, incident, principal):
        result.cases += 1
        if Status(case.status) not in ACTIVE:
            result.already.append(case.id)
            continue
        change_status(session, case, Status.RESOLVED, principal.name,
                      note=note or f"incident {incident.id} resolved: {incident.fix}", now=now)
        result.done.append(case.id)
    incident.status, incident.resolved_at, incident.resolved_by = "resolved", now, principal.name
    return result
