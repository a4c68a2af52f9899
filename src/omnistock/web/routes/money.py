"""Money reports in the console: what the stock is worth at a date, and what each channel (or SKU) earned in a
period once fees, cost of goods and the compensation paid for stock errors are taken off, each with its Excel
download (the same workbooks as the API's). They cover the whole business: a person limited to some locations
or channels cannot read them, as a scoped token cannot."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from omnistock.errors import Forbidden, OmnistockError
from omnistock.money import currency, profit, stock_value
from omnistock.money.currency import Books
from omnistock.money.xlsx import profit_xlsx, valuation_xlsx
from omnistock.store.types import utcnow
from omnistock.web.context import Seen, Visitor
from omnistock.web.forms import Errors
from omnistock.web.reads.paging import page_number
from omnistock.web.reads.purchasing import page_of
from omnistock.web.render import HEADERS, render
from omnistock.web.routing import console_router

router = console_router()
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _whole_business(who: Visitor) -> None:
    if who.principal.scoped:
        raise Forbidden("money reports cover the whole business; a person limited to some locations or channels "
                        "cannot read them")


def _books(request: Request) -> Books:
    return Books.of(request.app.state.settings)


def _download(data: bytes, name: str) -> Response:
    headers = {**HEADERS, "Content-Disposition": f'attachment; filename="{name}"'}
    return Response(data, media_type=XLSX, headers=headers)


@router.get("/money")
def money_home(who: Seen) -> Response:
    return RedirectResponse("/money/valuation", status_code=303)


# --- valuation -----------------------------------------------------------------------------------


@router.get("/money/valuation")
def valuation_page(request: Request, who: Seen, at: str | None = None, page: str | None = None) -> Response:
    _whole_business(who)
    books, errors = _books(request), Errors("at")
    values: dict[str, Any] = {"at": at or "", "errors": errors, "report": None, "found": None}
    try:
        moment = stock_value.moment(books, at, utcnow())
        with request.app.state.db.reading() as session:
            report = stock_value.valuation(session, books, moment)
        values.update(report=report, found=page_of(report.items, page_number(page)))
    except OmnistockError as exc:
        errors.take(exc, who.language.text)
        return render(request, "money/valuation.html", values, status=exc.status)
    return render(request, "money/valuation.html", values)


@router.get("/money/valuation.xlsx")
def valuation_file(request: Request, who: Seen, at: str | None = None) -> Response:
    _whole_business(who)
    books = _books(request)
    moment = stock_value.moment(books, at, utcnow())
    with request.app.state.db.reading() as session:
        data = valuation_xlsx(stock_value.valuation(session, books, moment))
    return _download(data, f"valuation-{books.day_of(moment).isoformat()}.xlsx")


# --- profit --------------------------------------------------------------------------------------


def _period(books: Books, start: str | None, end: str | None) -> tuple[date, date]:
    """The days asked for; by default this month so far."""
    today = books.day_of(utcnow())
    first = currency.parse_day(start, field="from") if start else today.replace(day=1)
    last = currency.parse_day(end, field="to") if end else today
    return first, last


def _report(request: Request, start: str | None, end: str | None, by: str) -> profit.ProfitReport:
    books = _books(request)
    first, last = _period(books, start, end)
    with request.app.state.db.reading() as session:
        return profit.profit(session, books, first, last, by)


@router.get("/money/profit")
def profit_page(request: Request, who: Seen, by: str = "channel", page: str | None = None) -> Response:
    _whole_business(who)
    # `from` is a Python keyword: the period's query parameters are read by hand.
    start, end = request.query_params.get("from"), request.query_params.get("to")
    errors = Errors("from", "to", "by")
    values: dict[str, Any] = {"start": start or "", "end": end or "", "by": by, "errors": errors, "report": None,
                              "found": None}
    try:
        report = _report(request, start, end, by)
        values.update(report=report, found=page_of(list(report.rows.items()), page_number(page)),
                      start=report.start.isoformat(), end=report.end.isoformat())
    except OmnistockError as exc:
        errors.take(exc, who.language.text)
        return render(request, "money/profit.html", values, status=exc.status)
    return render(request, "money/profit.html", values)


@router.get("/money/profit.xlsx")
def profit_file(request: Request, who: Seen, by: str = "channel") -> Response:
    _whole_business(who)
    report = _report(request, request.query_params.get("from"), request.query_params.get("to"), by)
    return _download(profit_xlsx(report),
                     f"profit-{report.by}-{report.start.isoformat()}-{report.end.isoformat()}.xlsx")
