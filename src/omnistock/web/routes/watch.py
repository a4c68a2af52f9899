"""Alerts, reconciliation, the weekly report and a SKU's trace: the watch feature's pages. Acknowledge an
alert; run a reconciliation of a channel (healing the drift it finds, if asked) and read its differences."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from omnistock.api.deps import run
from omnistock.domain.access import Permission
from omnistock.errors import OmnistockError
from omnistock.store.types import utcnow
from omnistock.watch import alerts, reconcile, runs, scheduler, trace
from omnistock.watch.report_figures import Week, weekly
from omnistock.web.context import Post, Seen, Visitor, require
from omnistock.web.forms import Errors
from omnistock.web.reads import orders as order_reads
from omnistock.web.render import render
from omnistock.web.routing import console_router

router = console_router()


def _hub(request: Request, who: Visitor, *, errors: Errors | None = None, status: int = 200) -> Response:
    q = request.query_params
    shown = q.get("alerts") if q.get("alerts") in alerts.STATUSES else "open"
    with request.app.state.db.reading() as session:
        page = alerts.list_alerts(session, who.principal, status=shown, limit=50, cursor=q.get("cursor") or None)
        names = alerts.Names.of(session, page.items)
        recent = runs.list_runs(session, who.principal, limit=20)
        values: dict[str, Any] = {
            "alerts": page, "names": names, "alert_status": shown, "statuses": alerts.STATUSES,
            "runs": recent.items, "channels": [(c, c) for c in order_reads.channel_codes(session, who.principal)],
            "errors": errors or Errors(), "week": Week.last_complete(utcnow(), request.app.state.settings.zone).label}
        return render(request, "reports.html", values, status=status)


@router.get("/reports")
def reports(request: Request, who: Seen) -> Response:
    return _hub(request, who)


@router.post("/alerts/{alert_id}/ack")
def acknowledge(alert_id: int, request: Request, post: Post) -> Response:
    who = post.visitor
    require(who, Permission.STOCK_WRITE)
    run(request.app.state.db, lambda s: alerts.acknowledge(s, alert_id, who.principal, post.form.get("note") or None))
    return RedirectResponse("/reports?done=ack", status_code=303)


@router.post("/reconciliations")
def reconcile_start(request: Request, post: Post) -> Response:
    who, form = post.visitor, post.form
    require(who, Permission.STOCK_WRITE)
    errors = Errors("channel")
    try:
        run_id = run(request.app.state.db, lambda s: reconcile.start(
            s, form.get("channel"), who.principal, trigger="console", heal=True if form.get("heal") else None).id)
    except OmnistockError as exc:
        if exc.status == 403:
            raise
        errors.take(exc, who.language.text)
        return _hub(request, who, errors=errors, status=exc.status)
    scheduler.run_in_background(request.app.state.db, request.app.state.settings, run_id)
    return RedirectResponse(f"/reconciliations/{run_id}", status_code=303)


def _run_values(request: Request, who: Visitor, run_id: int) -> dict[str, Any]:
    with request.app.state.db.reading() as session:
        found, channel = runs.get_run(session, run_id, who.principal)
        diffs, total = runs.differences(session, run_id, limit=1000)
        return {"run": found, "channel": channel, "differences": diffs, "total": total}


@router.get("/reconciliations/{run_id}")
def reconcile_page(run_id: int, request: Request, who: Seen) -> Response:
    return render(request, "reconciliation.html", _run_values(request, who, run_id))


@router.get("/reconciliations/{run_id}/part")
def reconcile_part(run_id: int, request: Request, who: Seen) -> Response:
    return render(request, "parts/reconciliation.html", _run_values(request, who, run_id))


@router.get("/reports/weekly")
def weekly_report(request: Request, who: Seen, week: str | None = None) -> Response:
    """The weekly sync report as the watch renders it (its own page and styles)."""
    from omnistock.watch import report_render

    zone = request.app.state.settings.zone
    which = Week.parse(week, zone) if week else Week.last_complete(utcnow(), zone)
    with request.app.state.db.reading() as session:
        figures = weekly(session, which, zone)
    return HTMLResponse(report_render.html(figures), headers={"Cache-Control": "no-store"})


@router.get("/skus/{code:path}/trace")
def sku_trace(code: str, request: Request, who: Seen) -> Response:
    """Everything that touched the SKU in the last 7 days: a fragment for the SKU page, or a page of its own."""
    with request.app.state.db.reading() as session:
        timeline = trace.timeline(session, code, who.principal, request.app.state.settings.zone)
    template = "parts/trace.html" if request.headers.get("hx-request") == "true" else "trace.html"
    return render(request, template, {"trace": timeline, "code": code})
