"""Money settings and reports: exchange rates, channel terms (fees, pre-sale), valuation and profit (JSON or
XLSX)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from omnistock.api.deps import DB, Reader, require, run
from omnistock.api.routes.money import MoneyBooks
from omnistock.domain.access import Permission, Principal
from omnistock.errors import Forbidden, Invalid
from omnistock.money import currency, profit, stock_value, terms
from omnistock.money.report_views import profit_view, valuation_view
from omnistock.money.schemas import RateIn, TermsIn
from omnistock.money.views import amount_text, rate_view
from omnistock.money.xlsx import profit_xlsx, valuation_xlsx
from omnistock.services.lookup import channel_by_code
from omnistock.store.db import Database
from omnistock.store.types import utcnow

router = APIRouter(prefix="/api/v1", tags=["money"])
ConfigWriter = Annotated[Principal, Depends(require(Permission.CONFIG_WRITE))]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
T = TypeVar("T")
MAX_CSV_BYTES = 5_000_000


# --- exchange rates ------------------------------------------------------------------------------


@router.post("/exchange-rates", status_code=201)
def set_rate(body: RateIn, principal: ConfigWriter, db: DB, bk: MoneyBooks) -> dict[str, Any]:
    return run(db, lambda s: rate_view(currency.set_rate(s, bk, day=body.day, currency=body.currency,
                                                         rate=body.rate, actor=principal.name)))


@router.post("/exchange-rates/import")
async def import_rates(request: Request, principal: ConfigWriter, db: DB, bk: MoneyBooks) -> dict[str, Any]:
    """Body: CSV text with the header `day,currency,rate` (e.g. `2024-05-07,USD,7.1063`)."""
    raw = await request.body()
    if len(raw) > MAX_CSV_BYTES:
        raise Invalid(f"a rate file is at most {MAX_CSV_BYTES} bytes", field="csv")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Invalid("the CSV must be UTF-8 text", field="csv") from None
    count = await run_in_threadpool(run, db, lambda s: currency.import_rates(s, bk, text, actor=principal.name))
    return {"imported": count}


@router.get("/exchange-rates")
def list_rates(principal: Reader, db: DB, bk: MoneyBooks, currency_code: Annotated[str | None, Query(
        alias="currency")] = None, limit: int = 50, cursor: str | None = None) -> dict[str, Any]:
    with db.reading() as session:
        page = currency.list_rates(session, bk, currency=currency_code, limit=limit, cursor=cursor)
        return {"items": [rate_view(r) for r in page.items], "total": page.total, "next": page.next}


# --- channel terms -------------------------------------------------------------------------------


def _terms_view(code: str, row: Any) -> dict[str, Any]:
    return {"channel": code, "fee_percent": amount_text(row.fee_percent), "presale": row.presale}


@router.put("/channels/{code}/terms")
def set_terms(code: str, body: TermsIn, principal: ConfigWriter, db: DB) -> dict[str, Any]:
    def action(session: Session) -> dict[str, Any]:
        channel, row = terms.set_terms(session, code, fee_percent=body.fee_percent, presale=body.presale,
                                       actor=principal.name)
        return _terms_view(channel, row)
    return run(db, action)


@router.get("/channels/{code}/terms")
def get_terms(code: str, principal: Reader, db: DB) -> dict[str, Any]:
    with db.reading() as session:
        channel = channel_by_code(session, code, field="code", principal=principal)
        return _terms_view(channel.code, terms.terms_of(session, channel.id))


# --- reports -------------------------------------------------------------------------------------


def _whole_business(principal: Principal) -> None:
    if principal.scoped:
        raise Forbidden("money reports cover the whole business; a scoped token cannot read them")


def _read(db: Database, action: Callable[[Session], T]) -> T:
    with db.reading() as session:
        return action(session)


@router.get("/reports/valuation")
def valuation(principal: Reader, db: DB, bk: MoneyBooks, at: str | None = None) -> dict[str, Any]:
    _whole_business(principal)
    moment = stock_value.moment(bk, at, utcnow())
    return valuation_view(_read(db, lambda s: stock_value.valuation(s, bk, moment)), bk.zone)


@router.get("/reports/valuation.xlsx")
def valuation_file(principal: Reader, db: DB, bk: MoneyBooks, at: str | None = None) -> Response:
    _whole_business(principal)
    moment = stock_value.moment(bk, at, utcnow())
    data = valuation_xlsx(_read(db, lambda s: stock_value.valuation(s, bk, moment)))
    name = f"valuation-{bk.day_of(moment).isoformat()}.xlsx"
    return Response(data, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}"'})


Since = Annotated[date, Query(alias="from")]
Until = Annotated[date, Query(alias="to")]


@router.get("/reports/profit")
def profit_report(principal: Reader, db: DB, bk: MoneyBooks, start: Since, end: Until,
                  by: str = "channel") -> dict[str, Any]:
    _whole_business(principal)
    return profit_view(_read(db, lambda s: profit.profit(s, bk, start, end, by)))


@router.get("/reports/profit.xlsx")
def profit_file(principal: Reader, db: DB, bk: MoneyBooks, start: Since, end: Until, by: str = "channel") -> Response:
    _whole_business(principal)
    data = profit_xlsx(_read(db, lambda s: profit.profit(s, bk, start, end, by)))
    name = f"profit-{by}-{start.isoformat()}-{end.isoformat()}.xlsx"
    return Response(data, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}"'})
