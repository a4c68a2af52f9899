"""The base currency and the exchange rates of each day: entered one by one or imported from CSV, and used to
convert a document's amounts at the rate of its day (the latest rate on or before that day)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from omnistock.config import Settings, get_settings
from omnistock.domain.costing import DayRates, convert
from omnistock.domain.money import require_currency
from omnistock.errors import Invalid
from omnistock.money.tables import ExchangeRate
from omnistock.services import audit
from omnistock.store.paging import Page, page_query
from omnistock.store.types import utcnow

RATE_PLACES = 10
MAX_IMPORT_ROWS = 100_000


@dataclass(frozen=True)
class Books:
    """The money settings every report and posting needs: the base currency and the merchant's zone,
    whose calendar decides a document's day."""

    base: str
    zone: ZoneInfo

    @classmethod
    def of(cls, settings: Settings | None = None) -> Books:
        settings = settings or get_settings()
        return cls(require_currency(settings.base_currency, field="base_currency"), settings.zone)

    def day_of(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()


def parse_rate(value: object, *, field: str = "rate") -> Decimal:
    if isinstance(value, (float, bool)):
        raise Invalid("a rate must be a decimal string such as \"7.1063\"", field=field)
    try:
        rate = Decimal(str(value).strip())
    except InvalidOperation:
        raise Invalid(f"{value!r} is not a number", field=field) from None
    if not rate.is_finite() or rate <= 0:
        raise Invalid("a rate must be greater than 0", field=field)
    if -rate.as_tuple().exponent > RATE_PLACES:  # type: ignore[operator]
        raise Invalid(f"a rate has at most {RATE_PLACES} decimals", field=field)
    return rate


def set_rate(session: Session, books: Books, *, day: date, currency: str, rate: Decimal, actor: str) -> ExchangeRate:
    """Enter (or correct) one day's rate: units of the base currency per unit of `currency`."""
    require_currency(currency)
    if currency == books.base:
        raise Invalid(f"{currency} is the base currency; its rate is always 1", field="currency")
    row = session.scalar(select(ExchangeRate).where(ExchangeRate.base == books.base,
                                                    ExchangeRate.currency == currency, ExchangeRate.day == day))
    before = {"rate": str(row.rate)} if row is not None else None
    if row is None:
        row = ExchangeRate(day=day, base=books.base, currency=currency, rate=rate, updated_by=actor)
        session.add(row)
    row.rate, row.updated_by, row.updated_at = rate, actor, utcnow()
    session.flush()
    audit.record(session, actor=actor, action="money.rate", entity=f"rate:{currency}:{day.isoformat()}",
                 before=before, after={"rate": str(rate), "base": books.base})
    return row


def import_rates(session: Session, books: Books, text: str, *, actor: str) -> int:
    """Import `day,currency,rate` rows (a header line is required). Every row is checked before any is
    written; an error names the line and column."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = {"day", "currency", "rate"} - set(reader.fieldnames or [])
    if missing:
        raise Invalid(f"the CSV needs the columns day, currency, rate (missing: {', '.join(sorted(missing))})",
                      field="csv")
    rows: dict[tuple[date, str], Decimal] = {}
    for n, raw in enumerate(reader, start=2):
        if n > MAX_IMPORT_ROWS:
            raise Invalid(f"at most {MAX_IMPORT_ROWS} rows per import", field="csv")
        day = parse_day(raw.get("day") or "", field=f"line {n}: day")
        currency = (raw.get("currency") or "").strip().upper()
        require_currency(currency, field=f"line {n}: currency")
        if currency == books.base:
            raise Invalid(f"{currency} is the base currency; its rate is always 1", field=f"line {n}: currency")
        rows[(day, currency)] = parse_rate(raw.get("rate"), field=f"line {n}: rate")
    for (day, currency), rate in sorted(rows.items()):
        set_rate(session, books, day=day, currency=currency, rate=rate, actor=actor)
    return len(rows)


def parse_day(value: str, *, field: str = "day") -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise Invalid(f"{value!r} is not a date (YYYY-MM-DD)", field=field) from None


def list_rates(session: Session, books: Books, *, currency: str | None = None, limit: int = 50,
               cursor: str | None = None) -> Page[ExchangeRate]:
    stmt = select(ExchangeRate).where(ExchangeRate.base == books.base)
    if currency:
        stmt = stmt.where(ExchangeRate.currency == require_currency(currency))
    return page_query(session, stmt, ExchangeRate.id, limit=limit, cursor=cursor)


class RateTable:
    """Rates looked up once per (currency, day) for a posting or a report."""

    def __init__(self, session: Session, books: Books) -> None:
        self.session, self.books = session, books
        self._cache: dict[tuple[str, date], Decimal] = {}

    def rate(self, currency: str, day: date) -> Decimal:
        if currency == self.books.base:
            return Decimal(1)
        key = (currency, day)
        if key not in self._cache:
            rate = self.session.scalar(
                select(ExchangeRate.rate).where(ExchangeRate.base == self.books.base,
                                                ExchangeRate.currency == currency, ExchangeRate.day <= day)
                .order_by(ExchangeRate.day.desc()).limit(1))
            if rate is None:
                raise Invalid(f"no exchange rate for {currency} on or before {day.isoformat()} "
                              f"(base {self.books.base}); enter one first", field="currency")
            self._cache[key] = rate
        return self._cache[key]

    def to_base(self, amount: Decimal, currency: str, day: date, *, places: int | None = None) -> Decimal:
        """`amount` in the base currency at the day's rate, rounded to the base's minor unit (or `places`)."""
        require_currency(currency)
        rates = DayRates(day, self.books.base, {} if currency == self.books.base else
                         {currency: self.rate(currency, day)})
        return convert(amount, currency, self.books.base, rates, places=places)

    def check(self, currencies: Iterable[str], day: date) -> None:
        """Fail now, before anything is written, when a rate is missing."""
        for currency in currencies:
            self.rate(currency, day)
