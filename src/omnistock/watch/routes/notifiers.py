"""`/api/v1/notifiers`: where alerts and reports go, and what each one was sent."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from omnistock.api.deps import DB, require, run
from omnistock.api.views import when
from omnistock.domain.access import Permission, Principal
from omnistock.store.paging import page_query
from omnistock.watch import notify
from omnistock.watch.schemas import NotifierIn
from omnistock.watch.tables import Notification, Notifier

router = APIRouter(prefix="/api/v1/notifiers", tags=["watch"])
ConfigWriter = Annotated[Principal, Depends(require(Permission.CONFIG_WRITE))]


@router.post("", status_code=201)
def create(body: NotifierIn, principal: ConfigWriter, db: DB, request: Request) -> dict[str, Any]:
    config = request.app.state.settings
    routes = body.routes.model_dump(exclude_none=True) if body.routes else None
    return run(db, lambda session: notify.notifier_view(notify.create_notifier(
        session, config, principal, code=body.code, kind=body.kind, settings=body.settings, routes=routes)))


@router.get("")
def list_notifiers(principal: ConfigWriter, db: DB, limit: int = 50, cursor: str | None = None) -> dict[str, Any]:
    with db.reading() as session:
        page = page_query(session, select(Notifier), Notifier.id, limit=limit, cursor=cursor)
        return {"items": [notify.notifier_view(n) for n in page.items], "total": page.total, "next": page.next}


@router.delete("/{code}", status_code=204)
def disable(code: str, principal: ConfigWriter, db: DB) -> Response:
    run(db, lambda session: notify.delete_notifier(session, code, principal))
    return Response(status_code=204)


@router.post("/{code}/test", status_code=202)
def test_message(code: str, principal: ConfigWriter, db: DB) -> dict[str, Any]:
    """Queue a test message, to check the robot's URL and secret before an alert needs them."""
    def action(session: Session) -> dict[str, Any]:
        notifier = notify.notifier_by_code(session, code)
        text = f"omnistock: test message to {code} by {principal.name}"
        row = notify.enqueue_other(session, notifier, "omnistock test message", {"event": "test", "message": text})
        session.flush()
        return {"id": row.id, "status": row.status}
    return run(db, action)


@router.get("/{code}/deliveries")
def deliveries(code: str, principal: ConfigWriter, db: DB, request: Request, limit: int = 50,
               cursor: str | None = None) -> dict[str, Any]:
    zone = request.app.state.settings.zone
    with db.reading() as session:
        notifier = notify.notifier_by_code(session, code)
        page = page_query(session, select(Notification).where(Notification.notifier_id == notifier.id),
                          Notification.id, limit=limit, cursor=cursor)
        return {"items": [{"id": n.id, "alert_id": n.alert_id, "subject": n.subject, "status": n.status,
                           "attempts": n.attempts, "sent_at": when(n.sent_at, zone), "last_error": n.last_error}
                          for n in page.items], "total": page.total, "next": page.next}
