"""Compensation paid because of stock errors, read from the complaint desk (omnistock.care) when it is
installed. Read through the table names, not the care modules, so that money works without care: with no
compensation table the report shows 0 and says so (`source` None)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, Numeric, String, column, func, inspect, select, table
from sqlalchemy.orm import Session

from omnistock.store.types import UTCDateTime

SOURCE = "care_compensations"
# Complaint categories that are stock errors; out of stock is an oversell (sold what was not there).
STOCK_ERROR_CATEGORIES = ("out_of_stock", "wrong_quantity")
OVERSELL_CATEGORIES = frozenset({"out_of_stock"})

_COMP = table(SOURCE, column("case_id", BigInteger()), column("cost", Numeric(18, 4)), column("currency", String()),
              column("sku", String()), column("status", String()), column("decided_at", UTCDateTime()),
              column("created_at", UTCDateTime()))
_CASE = table("care_cases", column("id", BigInteger()), column("order_id", BigInteger()),
              column("channel", String()), column("category", String()), column("skus", JSON()))


@dataclass(frozen=True)
class PaidCompensation:
    at: datetime
    cost: Decimal          # what it cost the merchant, in `currency`
    currency: str
    category: str
    channel: str | None
    order_id: int | None
    sku: str | None        # the SKU it was about, when one SKU is named


def _installed(session: Session) -> bool:
    inspector = inspect(session.connection())
    for name, tab in ((SOURCE, _COMP), ("care_cases", _CASE)):
        if not inspector.has_table(name):
            return False
        present = {c["name"] for c in inspector.get_columns(name)}
        if not {c.name for c in tab.columns} <= present:
            return False
    return True


def stock_error_compensation(session: Session, start: datetime, end: datetime) -> list[PaidCompensation] | None:
    """Granted compensation on stock-error cases decided in [start, end); None when there is no
    complaint desk to read from."""
    if not _installed(session):
        return None
    when = func.coalesce(_COMP.c.decided_at, _COMP.c.created_at)
    stmt = (select(when, _COMP.c.cost, _COMP.c.currency, _CASE.c.category, _CASE.c.channel, _CASE.c.order_id,
                   _COMP.c.sku, _CASE.c.skus)
            .join(_CASE, _CASE.c.id == _COMP.c.case_id)
            .where(_COMP.c.status == "granted", _CASE.c.category.in_(STOCK_ERROR_CATEGORIES),
                   when >= start, when < end))
    return [PaidCompensation(at, Decimal(str(cost)), currency, category, channel, order_id, sku or _only(skus))
            for at, cost, currency, category, channel, order_id, sku, skus in session.execute(stmt)]


def _only(skus: Any) -> str | None:
    return str(skus[0]) if isinstance(skus, list) and len(skus) == 1 else None
