"""Reading reconciliation runs and their differences, and a channel's reconciliation settings."""

from __future__ import annotations

from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from omnistock.api.views import when
from omnistock.domain.access import Principal
from omnistock.domain.reconciliation import DifferenceKind, Mode
from omnistock.errors import Forbidden, Invalid, NotFound
from omnistock.services import audit
from omnistock.services.lookup import channel_by_code
from omnistock.store.paging import Page, page_query
from omnistock.store.tables import Channel, Sku
from omnistock.watch.reconcile import watch_settings
from omnistock.watch.tables import Difference, Reconciliation

MAX_DIFFERENCES = 5000


def get_run(session: Session, run_id: int, principal: Principal) -> tuple[Reconciliation, str]:
    row = session.execute(select(Reconciliation, Channel.code).join(Channel, Channel.id == Reconciliation.channel_id)
                          .where(Reconciliation.id == run_id)).first()
    if row is None:
        raise NotFound(f"no reconciliation {run_id}", field="id")
    if not principal.sees_channel(row[1]):
        raise Forbidden(f"reconciliation {run_id} is outside this token's scope", field="id")
    return row[0], row[1]


def differences(session: Session, run_id: int, *, kind: str | None = None,
                limit: int = 1000) -> tuple[list[dict[str, Any]], int]:
    if limit < 1 or limit > MAX_DIFFERENCES:
        raise Invalid(f"limit must be between 1 and {MAX_DIFFERENCES}", field="limit")
    stmt = select(Difference, Sku.code).outerjoin(Sku, Sku.id == Difference.sku_id).where(Difference.run_id == run_id)
    if kind:
        if kind not in {k.value for k in DifferenceKind}:
            raise Invalid(f"kind must be one of {', '.join(k.value for k in DifferenceKind)}", field="kind")
        stmt = stmt.where(Difference.kind == kind)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.execute(stmt.order_by(Difference.id).limit(limit)).all()
    return [{"sku": code, "external_id": d.external_id, "kind": d.kind, "expected": d.expected,
             "platform": d.platform, "last_pushed": d.last_pushed, "action": d.action, "status": d.status}
            for d, code in rows], int(total)


def run_view(run: Reconciliation, channel: str, zone: ZoneInfo) -> dict[str, Any]:
    return {"id": run.id, "channel": channel, "status": run.status, "mode": run.mode, "trigger": run.trigger,
            "requested_by": run.requested_by, "started_at": when(run.started_at, zone),
            "finished_at": when(run.finished_at, zone), "checked": run.checked, "counts": run.counts,
            "error": run.error}


def list_runs(session: Session, principal: Principal, *, channel: str | None = None, limit: int = 50,
              cursor: str | None = None) -> Page[Any]:
    stmt = select(Reconciliation, Channel.code).join(Channel, Channel.id == Reconciliation.channel_id)
    if channel:
        stmt = stmt.where(Channel.code == channel)
    if principal.channels is not None:
        stmt = stmt.where(Channel.code.in_(principal.channels))
    return page_query(session, cast("Select[Any]", stmt), Reconciliation.id, limit=limit, cursor=cursor)


def settings_view(session: Session, code: str, principal: Principal) -> dict[str, Any]:
    channel = channel_by_code(session, code, principal=principal)
    ws = watch_settings(session, channel.id)
    return {"channel": channel.code, "mode": ws.reconcile_mode, "every_minutes": ws.reconcile_minutes}


def set_settings(session: Session, code: str, principal: Principal, *, mode: str | None,
                 every_minutes: float | None) -> dict[str, Any]:
    channel = channel_by_code(session, code, principal=principal)
    ws = watch_settings(session, channel.id)
    before = {"mode": ws.reconcile_mode, "every_minutes": ws.reconcile_minutes}
    if mode is not None:
        ws.reconcile_mode = Mode(mode).value
    if every_minutes is not None:
        ws.reconcile_minutes = float(every_minutes)
    after = {"mode": ws.reconcile_mode, "every_minutes": ws.reconcile_minutes}
    audit.record(session, actor=principal.name, action="channel.reconciliation", entity=f"channel:{code}",
                 before=before, after=after)
    return {"channel": channel.code, **after}
