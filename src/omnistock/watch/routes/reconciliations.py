"""`/api/v1/reconciliations`: start a reconciliation (it runs in a background thread of this process), read its
differences and heal those picked; `/api/v1/channels/{code}/reconciliation`: the channel's setting (heal, alert or
hold)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session

from omnistock.api.deps import DB, Reader, require, run
from omnistock.domain.access import Permission, Principal
from omnistock.watch import reconcile, runs, scheduler
from omnistock.watch.schemas import HealIn, ReconcileIn, ReconcileSettingsIn

router = APIRouter(tags=["watch"])
StockWriter = Annotated[Principal, Depends(require(Permission.STOCK_WRITE))]
ConfigWriter = Annotated[Principal, Depends(require(Permission.CONFIG_WRITE))]


@router.post("/api/v1/reconciliations", status_code=202)
def start(body: ReconcileIn, principal: StockWriter, db: DB, request: Request) -> dict[str, Any]:
    """Read the channel's platform stock back and compare; answers at once, the run goes on in the background."""
    def action(session: Session) -> tuple[int, str]:
        started = reconcile.start(session, body.channel, principal, trigger="api", heal=body.heal)
        return started.id, started.status
    run_id, status = run(db, action)
    scheduler.run_in_background(db, request.app.state.settings, run_id)
    return {"id": run_id, "status": status}


@router.get("/api/v1/reconciliations")
def list_runs(principal: Reader, db: DB, request: Request, channel: str | None = None, limit: int = 50,
              cursor: str | None = None) -> dict[str, Any]:
    zone = request.app.state.settings.zone
    with db.reading() as session:
        page = runs.list_runs(session, principal, channel=channel, limit=limit, cursor=cursor)
        return {"items": [runs.run_view(r, code, zone) for r, code in page.items], "total": page.total,
                "next": page.next}


@router.get("/api/v1/reconciliations/{run_id}")
def get_run(run_id: int, principal: Reader, db: DB, request: Request, kind: str | None = None,
            limit: int = 1000) -> dict[str, Any]:
    with db.reading() as session:
        found, channel = runs.get_run(session, run_id, principal)
        diffs, total = runs.differences(session, run_id, kind=kind, limit=limit)
        return {**runs.run_view(found, channel, request.app.state.settings.zone), "differences": diffs,
                "differences_total": total}


@router.post("/api/v1/reconciliations/{run_id}/heal", status_code=202)
def heal(run_id: int, body: HealIn, principal: StockWriter, db: DB) -> dict[str, Any]:
    """Push the right quantity again to the listings of these differences (open drift only); answers once they
    are marked, the sync workers push them, and each difference turns `healed` when its push has gone through."""
    healing = run(db, lambda session: runs.heal(session, run_id, body.differences, principal))
    return {"id": run_id, "healing": healing}


@router.get("/api/v1/channels/{code}/reconciliation")
def get_settings(code: str, principal: Reader, db: DB) -> dict[str, Any]:
    return run(db, lambda session: runs.settings_view(session, code, principal))


@router.put("/api/v1/channels/{code}/reconciliation")
def put_settings(code: str, body: ReconcileSettingsIn, principal: ConfigWriter, db: DB) -> dict[str, Any]:
    return run(db, lambda session: runs.set_settings(session, code, principal, mode=body.mode,
                                                     every_minutes=body.every_minutes))
