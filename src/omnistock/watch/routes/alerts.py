"""`/api/v1/alerts` (list, read, acknowledge) and `/api/v1/alert-rules` (the built-in rules' settings)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request
from sqlalchemy.orm import Session

from omnistock.api.deps import DB, Reader, require, run
from omnistock.domain.access import Permission, Principal
from omnistock.watch import alerts, rulebook
from omnistock.watch.schemas import AckIn, RuleIn

router = APIRouter(tags=["watch"])
StockWriter = Annotated[Principal, Depends(require(Permission.STOCK_WRITE))]
ConfigWriter = Annotated[Principal, Depends(require(Permission.CONFIG_WRITE))]


@router.get("/api/v1/alerts")
def list_alerts(principal: Reader, db: DB, request: Request, status: str | None = None, kind: str | None = None,
                channel: str | None = None, limit: int = 50, cursor: str | None = None) -> dict[str, Any]:
    zone = request.app.state.settings.zone
    with db.reading() as session:
        page = alerts.list_alerts(session, principal, status=status, kind=kind, channel=channel, limit=limit,
                                  cursor=cursor)
        names = alerts.Names.of(session, page.items)
        return {"items": [alerts.alert_view(a, names, zone) for a in page.items], "total": page.total,
                "next": page.next}


@router.get("/api/v1/alerts/{alert_id}")
def get_alert(alert_id: int, principal: Reader, db: DB, request: Request) -> dict[str, Any]:
    with db.reading() as session:
        alert = alerts.get_alert(session, alert_id, principal)
        return alerts.alert_view(alert, alerts.Names.of(session, [alert]), request.app.state.settings.zone)


@router.post("/api/v1/alerts/{alert_id}/ack")
def ack(alert_id: int, principal: StockWriter, db: DB, request: Request,
        body: Annotated[AckIn | None, Body()] = None) -> dict[str, Any]:
    def action(session: Session) -> dict[str, Any]:
        alert = alerts.acknowledge(session, alert_id, principal, body.note if body else None)
        return alerts.alert_view(alert, alerts.Names.of(session, [alert]), request.app.state.settings.zone)
    return run(db, action)


@router.get("/api/v1/alert-rules")
def list_rules(principal: Reader, db: DB) -> dict[str, Any]:
    with db.reading() as session:
        items = [rulebook.rule_view(r) for r in rulebook.all_rules(session)]
    return {"items": items, "total": len(items), "next": None}


@router.put("/api/v1/alert-rules/{kind}")
def put_rule(kind: str, body: RuleIn, principal: ConfigWriter, db: DB) -> dict[str, Any]:
    return run(db, lambda session: rulebook.rule_view(
        rulebook.save(session, kind, principal, enabled=body.enabled, settings=body.settings)))
