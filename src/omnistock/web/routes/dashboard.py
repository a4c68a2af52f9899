"""The dashboard: is every platform in sync, what is held, what runs out, how today goes. Its live parts
are fragments that htmx polls."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from omnistock.services import orders
from omnistock.store.types import utcnow
from omnistock.watch import alerts
from omnistock.web.chart import bar_chart
from omnistock.web.context import Seen, Visitor
from omnistock.web.reads import dashboard, health, skus
from omnistock.web.render import render
from omnistock.web.routing import console_router

router = console_router()


def _sync(session: Session, who: Visitor) -> dict[str, Any]:
    return {"channels": health.channels_health(session, who.principal, utcnow())}


def _summary(session: Session, who: Visitor, request: Request) -> dict[str, Any]:
    held = orders.list_orders(session, who.principal, status="held", limit=10)
    low_count, low = skus.low_stock(session, who.principal, limit=10)
    today = dashboard.today_by_channel(session, who.principal, utcnow(), request.app.state.settings.zone)
    open_alerts = alerts.list_alerts(session, who.principal, status="open", limit=5)
    return {"held": held, "low_count": low_count, "low": low, "today": today, "alerts": open_alerts,
            "names": alerts.Names.of(session, open_alerts.items)}


def _chart(session: Session, who: Visitor) -> dict[str, Any]:
    hours = dashboard.last_day_by_hour(session, who.principal, utcnow())
    labels = [who.language.fmt.hour(h.start) for h in hours]
    return {"hours": hours,
            "orders_chart": bar_chart(labels, [[h.orders for h in hours], [h.oversells for h in hours]]),
            "calls_chart": bar_chart(labels, [[h.calls for h in hours], [h.failed_calls for h in hours]])}


@router.get("/")
def home(request: Request, who: Seen) -> Response:
    with request.app.state.db.reading() as session:
        values = {**_sync(session, who), **_summary(session, who, request), **_chart(session, who)}
        return render(request, "dashboard.html", values)


@router.get("/parts/sync")
def sync_part(request: Request, who: Seen) -> Response:
    with request.app.state.db.reading() as session:
        return render(request, "parts/sync.html", _sync(session, who))


@router.get("/parts/summary")
def summary_part(request: Request, who: Seen) -> Response:
    with request.app.state.db.reading() as session:
        return render(request, "parts/summary.html", _summary(session, who, request))


@router.get("/parts/chart")
def chart_part(request: Request, who: Seen) -> Response:
    with request.app.state.db.reading() as session:
        return render(request, "parts/chart.html", _chart(session, who))
