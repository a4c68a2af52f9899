"""Feeds of offline stores and distributors: they send counts and sales, and read their allocations back."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from omnistock.api.deps import DB, Reader, require, run
from omnistock.domain.access import Permission, Principal
from omnistock.errors import Invalid
from omnistock.store.db import Database
from omnistock.store.types import utcnow
from omnistock.sync import feed
from omnistock.sync.feed_format import parse_feed

router = APIRouter(prefix="/api/v1/channels", tags=["feeds"])
StockWriter = Annotated[Principal, Depends(require(Permission.STOCK_WRITE))]


@router.post("/{code}/feed")
async def post_feed(code: str, principal: StockWriter, db: DB, request: Request) -> dict[str, Any]:
    """Counts and sales as CSV (text/csv), .xlsx or JSON; applied whole or refused with every bad row named."""
    data = await request.body()
    if not data.strip():
        raise Invalid("the feed is empty", field="body")
    content_type = request.headers.get("content-type")
    zone = request.app.state.settings.zone
    batch = parse_feed(data, zone, content_type=content_type)
    return await run_in_threadpool(_apply, db, code, batch, principal)


def _apply(db: Database, code: str, batch: Any, principal: Principal) -> dict[str, Any]:
    def action(session: Session) -> dict[str, Any]:
        return report_view(feed.apply_feed(session, code, batch, principal))
    return run(db, action)


def report_view(report: feed.FeedReport) -> dict[str, Any]:
    return {"channel": report.channel, "location": report.location,
            "counts": [c.__dict__ for c in report.counts],
            "sales": [{"sale_id": s.sale_id, "status": s.status, "results": s.results, "order_id": s.order_id,
                       "order_status": s.order_status} for s in report.sales]}


@router.get("/{code}/feed/allocations", response_model=None)
def get_allocations(code: str, principal: Reader, db: DB, request: Request,
                    format: str | None = None) -> Response:  # noqa: A002  (the query parameter's name)
    """What each listing of the feed should show now: CSV (`?format=csv` or Accept: text/csv) or JSON."""
    chosen = (format or ("csv" if "text/csv" in request.headers.get("accept", "") else "json")).lower()
    if chosen not in ("csv", "json"):
        raise Invalid("format must be csv or json", field="format")
    with db.reading() as session:
        items = feed.allocations(session, code, principal)
    if chosen == "csv":
        return Response(feed.allocations_csv(items), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{code}-allocations.csv"'})
    at = utcnow().astimezone(request.app.state.settings.zone).isoformat()
    return JSONResponse({"channel": code, "at": at, "total": len(items),
                         "items": [a.__dict__ for a in items]})
