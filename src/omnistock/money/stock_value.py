"""Inventory valuation at any moment: each SKU's latest cost-book entry at or before it. The book is
append-only, so a past valuation never changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from omnistock.domain.costing import UNIT_COST_PLACES, CostState
from omnistock.domain.money import round_money, round_to_places
from omnistock.errors import Invalid
from omnistock.money.currency import Books
from omnistock.money.tables import CostEntry
from omnistock.store.tables import Sku


@dataclass(frozen=True)
class ValuedSku:
    sku: str
    name: str
    on_hand: int
    unit_cost: Decimal
    value: Decimal  # rounded to the minor unit of the currency


@dataclass(frozen=True)
class Valuation:
    at: datetime
    currency: str
    items: list[ValuedSku]

    @property
    def total(self) -> Decimal:
        """The sum of the rounded item values, so that the report adds up."""
        return sum((i.value for i in self.items), Decimal(0))


def moment(books: Books, value: str | None, now: datetime) -> datetime:
    """`at` as given: a date means the end of that day in the merchant's zone; a time without an offset
    is in the merchant's zone; nothing means now."""
    if not value:
        return now
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime.combine(day + timedelta(days=1), time(), books.zone) - timedelta(microseconds=1)
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise Invalid(f"{value!r} is not a date (YYYY-MM-DD) or an ISO 8601 time", field="at") from None
    return at if at.tzinfo is not None else at.replace(tzinfo=books.zone)


def valuation(session: Session, books: Books, at: datetime) -> Valuation:
    latest = (select(func.max(CostEntry.id).label("id")).where(CostEntry.at <= at)
              .group_by(CostEntry.sku_id).subquery())
    stmt = (select(CostEntry, Sku.code, Sku.name).join(latest, latest.c.id == CostEntry.id)
            .join(Sku, Sku.id == CostEntry.sku_id).order_by(Sku.code))
    items = []
    currency = books.base
    for entry, code, name in session.execute(stmt):
        if entry.on_hand_after == 0:
            continue
        state = CostState(entry.on_hand_after, entry.value_after, entry.currency, entry.last_unit_cost)
        currency = entry.currency
        items.append(ValuedSku(code, name, state.on_hand, round_to_places(state.unit_cost, UNIT_COST_PLACES),
                               round_money(state.value, entry.currency)))
    return Valuation(at, currency, items)
