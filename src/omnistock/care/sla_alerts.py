"""SLA escalations as alerts of the watch (kind `sla_breach`), so that the notifiers routed for them — a
DingTalk group, the generic webhook — hear of a case running late: a near breach as a warning, a breach as
critical. omnistock.watch registers `on_escalation` in `sla_watch.notifiers` and runs `settle` after each
scan, which resolves the alerts of cases that were answered or resolved since."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from omnistock.care.flow import ACTIVE
from omnistock.care.tables import CareCase, CareEscalation
from omnistock.config import get_settings
from omnistock.store.tables import Channel
from omnistock.store.types import utcnow

KIND = "sla_breach"
SEVERITY = {"near_breach": "warning", "breached": "critical"}
CLOCK_NAMES = {"first_response": "first response", "resolution": "resolution"}
LEVEL_NAMES = {"near_breach": "near breach", "breached": "breached"}
LATE = ("near_breach", "breached")

# omnistock.watch imports the complaint desk to register these hooks, so the watch is imported where it is
# used, never when this module loads (a module-level import would be circular).


def alert_key(case_id: int, clock: str, round_: int, level: str) -> str:
    return f"{KIND}:case:{case_id}:{clock}:{round_}:{level}"


def on_escalation(session: Session, escalation: CareEscalation, case: CareCase) -> None:
    """`sla_watch.notifiers` hook, inside the scan's transaction: raise the escalation's alert. A breach
    supersedes the clock's near-breach alert, which is resolved (one alert per late clock)."""
    from omnistock.watch import alerts

    now = escalation.raised_at or utcnow()
    due = escalation.due.astimezone(get_settings().zone).strftime("%Y-%m-%d %H:%M %z") if escalation.due else "-"
    order = f", order {case.external_order_id}" if case.external_order_id else ""
    message = (f"case {case.id} {CLOCK_NAMES.get(escalation.clock, escalation.clock)} "
               f"{LEVEL_NAMES.get(escalation.level, escalation.level)} (due {due}): {case.category}, "
               f"{case.priority}{order} — {case.subject}")[:1000]
    channel_id = session.scalar(select(Channel.id).where(Channel.code == case.channel)) if case.channel else None
    detail = {"case_id": case.id, "clock": escalation.clock, "level": escalation.level, "round": escalation.round,
              "escalation_id": escalation.id, "due": escalation.due.isoformat() if escalation.due else None,
              "assignee": case.assignee}
    alerts.raise_alert(session, alerts.Condition(
        kind=KIND, key=alert_key(case.id, escalation.clock, escalation.round, escalation.level),
        severity=SEVERITY.get(escalation.level, "warning"), message=message, channel_id=channel_id,
        order_id=case.order_id, detail=detail), now)
    if escalation.level == "breached":
        alerts.resolve(session, [alert_key(case.id, escalation.clock, escalation.round, "near_breach")], now)


def settle(session: Session) -> int:
    """Resolve the `sla_breach` alerts whose case is no longer late on that clock (answered, resolved, closed,
    or reopened into a new round); returns how many."""
    from omnistock.watch import alerts
    from omnistock.watch.tables import Alert

    active = [s.value for s in ACTIVE]
    cleared = []
    for alert in session.scalars(select(Alert).where(Alert.kind == KIND, Alert.active_key.is_not(None))):
        detail = alert.detail or {}
        case = session.get(CareCase, detail.get("case_id")) if detail.get("case_id") is not None else None
        clock = str(detail.get("clock"))
        if case is None or case.status not in active or not _late(case, clock, detail.get("round")):
            cleared.append(alert.condition)
    return alerts.resolve(session, cleared) if cleared else 0


def _late(case: CareCase, clock: str, round_: object) -> bool:
    if clock == "first_response":
        # A late answer stays a breach in the figures, but the alert has done its job once someone answered.
        return case.first_response_at is None and case.first_response_state in LATE
    return case.resolution_state in LATE and round_ == case.reopen_count
