"""Alerts: raised by the rules, de-duplicated per condition, acknowledged by a person, resolved when their
condition clears. Raising one queues its notifications in the same transaction (no alert without its message)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from omnistock.api.views import when
from omnistock.domain.access import Principal
from omnistock.errors import Conflict, Forbidden, Invalid, NotFound
from omnistock.services import audit
from omnistock.store.paging import Page, page_query
from omnistock.store.tables import Channel, Location, Sku
from omnistock.store.types import utcnow
from omnistock.watch import notify, rulebook
from omnistock.watch.tables import Alert

STATUSES = ("open", "acknowledged", "resolved")
ACTIVE = ("open", "acknowledged")


@dataclass(frozen=True)
class Condition:
    """Something wrong, named by `key` (one active alert per key), e.g. `oversell:order:17`."""

    kind: str
    key: str
    severity: str
    message: str
    sku_id: int | None = None
    channel_id: int | None = None
    location_id: int | None = None
    order_id: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)


def active(session: Session, key: str) -> Alert | None:
    return session.scalar(select(Alert).where(Alert.active_key == key))


def raise_alert(session: Session, cond: Condition, now: datetime | None = None) -> Alert | None:
    """Open an alert for the condition, or update the active one; None when the rule is switched off.

    A repeat of an open alert is not notified again until the rule's quiet period has passed since the last
    notification; an acknowledged alert is not notified again at all (a person is on it)."""
    rule = rulebook.rule(session, cond.kind)
    if not rule.enabled:
        return None
    now = now or utcnow()
    alert = active(session, cond.key)
    if alert is None:
        alert = _insert(session, cond, now)
        if alert is not None:
            notify.enqueue_alert(session, alert, now)
            return alert
        alert = active(session, cond.key)  # another transaction opened it first: treat this as a repeat
        if alert is None:
            return None
    alert.occurrences += 1
    alert.last_seen_at, alert.message, alert.detail = now, cond.message, dict(cond.detail)
    quiet = timedelta(minutes=float(rule.settings.get("renotify_minutes", 60)))
    if alert.status == "open" and (alert.notified_at is None or now - alert.notified_at >= quiet):
        notify.enqueue_alert(session, alert, now)
    return alert


def _insert(session: Session, cond: Condition, now: datetime) -> Alert | None:
    alert = Alert(kind=cond.kind, severity=cond.severity, condition=cond.key, active_key=cond.key,
                  sku_id=cond.sku_id, channel_id=cond.channel_id, location_id=cond.location_id,
                  order_id=cond.order_id, message=cond.message, detail=dict(cond.detail), status="open",
                  occurrences=1, created_at=now, last_seen_at=now)
    try:
        with session.begin_nested():
            session.add(alert)
            session.flush()
    except IntegrityError:
        return None
    return alert


def resolve(session: Session, keys: Iterable[str], now: datetime | None = None) -> int:
    """Resolve the active alerts of these conditions (their condition cleared)."""
    wanted = sorted(set(keys))
    if not wanted:
        return 0
    now = now or utcnow()
    found = 0
    for start in range(0, len(wanted), 500):
        for alert in session.scalars(select(Alert).where(Alert.active_key.in_(wanted[start:start + 500]))):
            _close(alert, now)
            found += 1
    return found


def resolve_others(session: Session, prefix: str, keep: set[str], now: datetime | None = None) -> int:
    """Resolve every active alert whose condition starts with `prefix` but is not in `keep`."""
    now = now or utcnow()
    stale = [a for a in session.scalars(select(Alert).where(Alert.active_key.like(f"{prefix}%")))
             if a.condition not in keep]
    for alert in stale:
        _close(alert, now)
    return len(stale)


def _close(alert: Alert, now: datetime) -> None:
    alert.status, alert.active_key, alert.resolved_at = "resolved", None, now


def acknowledge(session: Session, alert_id: int, principal: Principal, note: str | None = None) -> Alert:
    alert = get_alert(session, alert_id, principal, lock=True)
    if alert.status == "resolved":
        raise Conflict(f"alert {alert_id} is resolved already", field="id")
    if alert.status == "acknowledged":
        return alert
    alert.status, alert.acknowledged_at, alert.acknowledged_by = "acknowledged", utcnow(), principal.name
    if alert.kind == "oversell":
        # An oversell stays until a person has seen it; once seen, it has done its job.
        _close(alert, alert.acknowledged_at)
    audit.record(session, actor=principal.name, action="alert.ack", sku_id=alert.sku_id, entity=f"alert:{alert.id}",
                 before={"status": "open"}, after={"status": alert.status}, reason=note)
    return alert


def get_alert(session: Session, alert_id: int, principal: Principal, *, lock: bool = False) -> Alert:
    stmt = select(Alert).where(Alert.id == alert_id)
    alert = session.scalar(stmt.with_for_update() if lock else stmt)
    if alert is None:
        raise NotFound(f"no alert {alert_id}", field="id")
    if principal.channels is not None and alert.channel_id is not None:
        code = session.scalar(select(Channel.code).where(Channel.id == alert.channel_id))
        if code is not None and not principal.sees_channel(code):
            raise Forbidden(f"alert {alert_id} is outside this token's scope", field="id")
    return alert


def list_alerts(session: Session, principal: Principal, *, status: str | None = None, kind: str | None = None,
                channel: str | None = None, limit: int = 50, cursor: str | None = None) -> Page[Alert]:
    stmt = select(Alert)
    if status:
        if status not in STATUSES:
            raise Invalid(f"status must be one of {', '.join(STATUSES)}", field="status")
        stmt = stmt.where(Alert.status == status)
    if kind:
        stmt = stmt.where(Alert.kind == kind)
    if channel:
        stmt = stmt.where(Alert.channel_id == select(Channel.id).where(Channel.code == channel).scalar_subquery())
    if principal.channels is not None:
        # A channel-scoped token sees its channels' alerts and those tied to no channel (stock-wide ones).
        mine = select(Channel.id).where(Channel.code.in_(principal.channels))
        stmt = stmt.where(or_(Alert.channel_id.is_(None), Alert.channel_id.in_(mine)))
    return page_query(session, stmt, Alert.id, limit=limit, cursor=cursor)


@dataclass(frozen=True)
class Names:
    """Codes of the SKUs, channels and locations that a set of alerts refer to (one query each)."""

    skus: dict[int, str]
    channels: dict[int, str]
    locations: dict[int, str]

    @classmethod
    def of(cls, session: Session, alerts: Iterable[Alert]) -> Names:
        rows = list(alerts)

        def codes(model: Any, ids: set[int]) -> dict[int, str]:
            if not ids:
                return {}
            return dict(session.execute(select(model.id, model.code).where(model.id.in_(ids))).all())
        return cls(codes(Sku, {a.sku_id for a in rows if a.sku_id}),
                   codes(Channel, {a.channel_id for a in rows if a.channel_id}),
                   codes(Location, {a.location_id for a in rows if a.location_id}))


def alert_view(alert: Alert, names: Names, zone: ZoneInfo) -> dict[str, Any]:
    return {"id": alert.id, "kind": alert.kind, "severity": alert.severity,
            "sku": names.skus.get(alert.sku_id) if alert.sku_id else None,
            "channel": names.channels.get(alert.channel_id) if alert.channel_id else None,
            "location": names.locations.get(alert.location_id) if alert.location_id else None,
            "order_id": alert.order_id, "message": alert.message, "detail": alert.detail,
            "created_at": when(alert.created_at, zone), "status": alert.status,
            "occurrences": alert.occurrences, "last_seen_at": when(alert.last_seen_at, zone),
            "acknowledged_by": alert.acknowledged_by, "resolved_at": when(alert.resolved_at, zone)}
