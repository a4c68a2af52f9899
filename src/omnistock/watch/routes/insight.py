"""`GET /api/v1/skus/{code}/trace` (a SKU's timeline) and `GET /api/v1/reports/weekly` (the weekly sync report)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from omnistock.api.deps import DB, Reader
from omnistock.errors import Invalid
from omnistock.store.types import utcnow
from omnistock.watch import trace
from omnistock.watch.report_figures import Week, visible_channels, weekly

router = APIRouter(tags=["watch"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _aware(value: datetime | None, name: str) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise Invalid(f"{name} needs a time zone offset, e.g. 2026-11-20T10:00:00+08:00", field=name)
    return value.astimezone(timezone.utc)


@router.get("/api/v1/skus/{code}/trace")
def sku_trace(code: str, principal: Reader, db: DB, request: Request, since: datetime | None = None,
              until: datetime | None = None, at: datetime | None = None) -> dict[str, Any]:
    """Everything that touched the SKU (default: the last 7 days); `at` adds what each platform showed then."""
    zone = request.app.state.settings.zone
    with db.reading() as session:
        out = trace.timeline(session, code, principal, zone, since=_aware(since, "since"),
                             until=_aware(until, "until"))
        if at is not None:
            out["displayed"] = trace.displayed_at(session, code, principal, _aware(at, "at") or utcnow(), zone)
        return out


@router.get("/api/v1/reports/weekly", response_model=None)
def weekly_report(principal: Reader, db: DB, request: Request, week: str | None = None,
                  format: str = "json") -> dict[str, Any] | Response:
    """The weekly sync report (default: the last complete week) as JSON, an HTML page or an XLSX workbook, with
    the figures of the caller's channels."""
    if format not in ("json", "html", "xlsx"):
        raise Invalid("format must be json, html or xlsx", field="format")
    zone = request.app.state.settings.zone
    which = Week.parse(week, zone) if week else Week.last_complete(utcnow(), zone)
    with db.reading() as session:
        # A reader scoped to some channels gets their figures only (to stores only: no channel's).
        figures = weekly(session, which, zone, channels=visible_channels(session, principal))
    if format == "json":
        return figures
    from omnistock.watch import report_render

    if format == "html":
        return HTMLResponse(report_render.html(figures))
    return Response(report_render.xlsx(figures), media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="omnistock-sync-{which.label}.xlsx"'})
