"""Reading reconciliation runs and their differences, healing the differences a person picks, and a channel's
reconciliation settings."""

from __future__ import annotations

from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from omnistock.api.views import when
from omnistock.domain.access import Principal
from omnistock.domain.reconciliation import DifferenceKind, Mode
from omnistock.errors import Conflict, Forbidden, Invalid, NotFound
from omnistock.services import audit
from omnistock.services.lookup import channel_by_code
from omnistock.store.paging import Page, page_query
from omnistock.store.tables import Channel, Sku
from omnistock.sync import dirty
from omnistock.sync.tables import ChannelSync, Listing
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
    return [{"id": d.id, "sku": code, "external_id": d.external_id, "kind": d.kind, "expected": d.expected,
             "platform": d.platform, "last_pushed": d.last_pushed, "action": d.action, "status": d.status}
            for d, code in rows], int(total)


def heal(session: Session, run_id: int, difference_ids: list[int], principal: Principal) -> list[int]:
    """Push the right quantity again to the listings of the differences picked from a run, as a run in heal mode
    does for all of them (`reconcile_finish.finish`): they are marked dirty and the differences become `healing`
    until `holds.confirm_healed` sees the push through. Nothing changes unless every picked difference can be
    healed; picking one that is healing already is harmless. Returns the ids now healing."""
    run, channel = get_run(session, run_id, principal)
    wanted = sorted(set(difference_ids))
    if not wanted:
        raise Invalid("pick at least one difference to heal", field="differences")
    if run.status != "done":
        raise Conflict(f"reconciliation {run_id} is {run.status}: only a finished run's differences can be healed",
                       field="id")
    state = session.get(ChannelSync, run.channel_id)
    if state is not None and state.mode == "shadow":
        raise Conflict(f"channel {channel} is in shadow rollout: it pushes nothing to the platform", field="id")
    found = {d.id: d for d in session.scalars(select(Difference).where(
        Difference.run_id == run_id, Difference.id.in_(wanted)).order_by(Difference.id).with_for_update())}
    unknown = [i for i in wanted if i not in found]
    if unknown:
        raise Invalid(f"reconciliation {run_id} has no difference {', '.join(map(str, unknown))}",
                      field="differences")
    problems = [f"{d.id} ({d.external_id}: {d.kind}, {d.status})" for d in found.values()
                if d.status not in ("open", "healing") or d.kind != DifferenceKind.DRIFT.value or d.listing_id is None]
    if problems:
        # Only drift is healed by a push: a missing item needs a person on the platform, a stale one is being
        # pushed already, and a difference found again by a later run is healed from that run.
        raise Invalid(f"only open drift can be pushed again; not: {', '.join(problems)}", field="differences")
    picked = [d for d in found.values() if d.status == "open"]
    if picked:
        dirty.mark_listings(session, Listing.id.in_(sorted({d.listing_id for d in picked if d.listing_id})))
        for diff in picked:
            diff.status, diff.action = "healing", "heal"
        audit.record(session, actor=principal.name, action="reconciliation.heal", entity=f"reconciliation:{run_id}",
                     after={"channel": channel, "differences": [d.id for d in picked]})
    return sorted(found)


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
