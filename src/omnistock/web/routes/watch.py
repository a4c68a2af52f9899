"""Alerts, reconciliation, the weekly report and a SKU's trace: the watch feature's pages. Acknowledge an
alert; run a reconciliation of a channel (healing the drift it finds, if asked), read its differences and heal
those picked; read the weekly report of the channels one sees."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from omnistock.api.deps import run
from omnistock.domain.access import Permission
from omnistock.errors import OmnistockError
from omnistock.store.types import utcnow
from omnistock.watch import alerts, reconcile, runs, scheduler, trace
from omnistock.watch.report_figures import Week, rows_of
from omnistock.web.chart import bar_chart
from omnistock.web.context import Post, Seen, Visitor, require
from omnistock.web.forms import Errors
from omnistock.web.reads import orders as order_reads
from omnistock.web.reads.weekly import MILLISECONDS, figure_labels, weekly_view
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
        return {"run": found, "channel": channel, "differences": diffs, "total": total, "errors": Errors(),
                "picked": [], "done": request.query_params.get("done")}


@router.get("/reconciliations/{run_id}")
def reconcile_page(run_id: int, request: Request, who: Seen) -> Response:
    return render(request, "reconciliation.html", _run_values(request, who, run_id))


# htmx stops polling an element when the answer is 286: a finished run's page stops refreshing, so the
# differences a person is ticking are not swapped away under them.
STOP_POLLING = 286


@router.get("/reconciliations/{run_id}/part")
def reconcile_part(run_id: int, request: Request, who: Seen) -> Response:
    values = _run_values(request, who, run_id)
    finished = values["run"].status != "running" and request.headers.get("hx-request") == "true"
    return render(request, "parts/reconciliation.html", values, status=STOP_POLLING if finished else 200)


@router.post("/reconciliations/{run_id}/heal")
def reconcile_heal(run_id: int, request: Request, post: Post) -> Response:
    """Heal the differences ticked on the run's page (form field `difference`, repeated)."""
    who, form = post.visitor, post.form
    require(who, Permission.STOCK_WRITE)
    errors, status = Errors("differences"), 422
    picked = form.getlist("difference")
    if not picked:
        errors["differences"] = who.language.text.gettext("Tick at least one difference.")
    elif not all(p.isdigit() for p in picked):
        errors["differences"] = who.language.text.gettext("The form is damaged: reload the page and try again.")
    else:
        try:
            run(request.app.state.db, lambda s: runs.heal(s, run_id, [int(p) for p in picked], who.principal))
            return RedirectResponse(f"/reconciliations/{run_id}?done=heal", status_code=303)
        except OmnistockError as exc:
            if exc.status in (403, 404):
                raise
            errors.take(exc, who.language.text)
            status = exc.status
    values = {**_run_values(request, who, run_id), "errors": errors, "picked": picked}
    return render(request, "reconciliation.html", values, status=status)


@router.get("/reports/weekly")
def weekly_report(request: Request, who: Seen, week: str | None = None) -> Response:
    """The weekly sync report in the console, in the visitor's language, of the channels the visitor sees."""
    zone = request.app.state.settings.zone
    latest = Week.last_complete(utcnow(), zone)
    which = Week.parse(week, zone) if week else latest
    with request.app.state.db.reading() as session:
        view = weekly_view(session, who.principal, which, zone)
    following = Week.of(which.end.astimezone(zone).date(), zone)
    pushes = [[int(s.get("pushes") or 0) for _n, s in rows_of(view.report)][1:],
              [int(s.get("failures") or 0) for _n, s in rows_of(view.report)][1:]]
    return render(request, "weekly.html", {
        "view": view, "labels": figure_labels(who.language.text), "milliseconds": MILLISECONDS,
        "previous": which.previous(zone).label, "next": following.label if following.start <= latest.start else None,
        "chart": bar_chart(view.scopes[1:], pushes, label_every=1) if view.scopes[1:] else None})


@router.get("/skus/{code:path}/trace")
def sku_trace(code: str, request: Request, who: Seen) -> Response:
    """Everything that touched the SKU in the last 7 days: a fragment for the SKU page, or a page of its own."""
    with request.app.state.db.reading() as session:
        timeline = trace.timeline(session, code, who.principal, request.app.state.settings.zone)
    template = "parts/trace.html" if request.headers.get("hx-request") == "true" else "trace.html"
    return render(request, template, {"trace": timeline, "code": code})
