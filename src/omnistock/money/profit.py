"""Channel profit for a period, per channel or per SKU: revenue when orders ship (less returns), platform fees,
cost of goods sold from the cost book, compensation paid for stock errors, margin; and what oversells cost.

A document's amounts are converted to the base currency at the rate of its day: an order at the rate of the
day it was taken in (so its return reverses exactly what its shipment booked), a compensation at the rate
of the day it was granted."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from omnistock.domain.profit import ProfitLine, platform_fee
from omnistock.errors import Invalid
from omnistock.money.compensation import OVERSELL_CATEGORIES, SOURCE, stock_error_compensation
from omnistock.money.currency import Books, RateTable
from omnistock.money.tables import ChannelTerms, CostEntry
from omnistock.store.tables import Channel, Order, OrderEvent, OrderLine, Sku

GROUPINGS = ("channel", "sku")
UNASSIGNED = "(unassigned)"
# Hold reasons (services.orders, services.ledger) that mean a platform sold what we did not have.
OVERSELL_REASONS = ("insufficient_stock", "stock_shortfall")
MAX_DAYS = 3660


@dataclass(frozen=True)
class ProfitReport:
    currency: str
    start: date
    end: date
    by: str
    rows: dict[str, ProfitLine]
    compensation_source: str | None  # None: no complaint desk installed, compensation shown as 0

    @property
    def total(self) -> ProfitLine:
        return sum(self.rows.values(), ProfitLine())


def period_bounds(books: Books, start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00, the day after end 00:00) in the merchant's zone."""
    if end < start:
        raise Invalid("to must not be before from", field="to")
    if (end - start).days > MAX_DAYS:
        raise Invalid(f"a report covers at most {MAX_DAYS} days", field="to")
    return (datetime.combine(start, time(), books.zone), datetime.combine(end + timedelta(days=1), time(), books.zone))


def profit(session: Session, books: Books, start: date, end: date, by: str = "channel") -> ProfitReport:
    if by not in GROUPINGS:
        raise Invalid(f"by must be one of {', '.join(GROUPINGS)}", field="by")
    lo, hi = period_bounds(books, start, end)
    rates = RateTable(session, books)
    rows: dict[str, ProfitLine] = defaultdict(ProfitLine)

    def add(key: str | None, **amounts: Decimal | int) -> None:
        k = key or UNASSIGNED
        rows[k] = rows[k] + replace(ProfitLine(), **amounts)  # type: ignore[arg-type]

    _revenue_and_fees(session, books, rates, lo, hi, by, add)
    for channel, sku, cogs in session.execute(
            select(Channel.code, Sku.code, CostEntry.cogs)
            .join(Order, Order.id == CostEntry.order_id).join(Channel, Channel.id == Order.channel_id)
            .join(OrderLine, OrderLine.id == CostEntry.order_line_id).join(Sku, Sku.id == OrderLine.sku_id)
            .where(CostEntry.order_id.is_not(None), CostEntry.at >= lo, CostEntry.at < hi)):
        add(channel if by == "channel" else sku, cogs=cogs)
    source = _compensation(session, books, rates, lo, hi, by, add)
    _oversold(session, books, rates, lo, hi, by, add)
    return ProfitReport(books.base, start, end, by, dict(sorted(rows.items())), source)


def _order_lines(session: Session, kinds: Iterable[str], lo: datetime, hi: datetime) -> list[Any]:
    """(event kind, order id, channel, currency, order day time, line qty fields, price, SKU) per line of the
    orders with an event of `kinds` in the period."""
    return list(session.execute(
        select(OrderEvent.kind, Order.id, Order.channel_id, Channel.code, Order.currency, Order.created_at,
               OrderLine.qty, OrderLine.shipped, OrderLine.returned, OrderLine.unit_price, Sku.code)
        .join(Order, Order.id == OrderEvent.order_id).join(Channel, Channel.id == Order.channel_id)
        .join(OrderLine, OrderLine.order_id == Order.id).join(Sku, Sku.id == OrderLine.sku_id)
        .where(OrderEvent.kind.in_(list(kinds)), OrderEvent.at >= lo, OrderEvent.at < hi)
        .order_by(OrderEvent.id, OrderLine.id)).all())


def _revenue_and_fees(session: Session, books: Books, rates: RateTable, lo: datetime, hi: datetime, by: str,
                      add: AddFn) -> None:
    fees = dict(session.execute(select(ChannelTerms.channel_id, ChannelTerms.fee_percent)).all())
    for kind, _oid, channel_id, channel, currency, taken, _qty, shipped, returned, price, sku in _order_lines(
            session, ("shipped", "returned"), lo, hi):
        units = shipped if kind == "shipped" else -returned
        if price is None or units == 0:
            continue
        revenue = rates.to_base(price * units, currency or books.base, books.day_of(taken))
        fee = platform_fee(revenue, fees.get(channel_id, Decimal(0)), books.base)
        add(channel if by == "channel" else sku, revenue=revenue, fees=fee)


def _compensation(session: Session, books: Books, rates: RateTable, lo: datetime, hi: datetime, by: str,
                  add: AddFn) -> str | None:
    paid = stock_error_compensation(session, lo, hi)
    if paid is None:
        return None
    order_ids = {p.order_id for p in paid if p.order_id is not None}
    oversold = _oversold_orders(session, order_ids)
    channels = dict(session.execute(select(Order.id, Channel.code).join(Channel, Channel.id == Order.channel_id)
                                    .where(Order.id.in_(order_ids))).all()) if order_ids else {}
    for p in paid:
        cost = rates.to_base(p.cost, p.currency, books.day_of(p.at))
        is_oversell = p.category in OVERSELL_CATEGORIES or p.order_id in oversold
        order_channel = channels.get(p.order_id) if p.order_id is not None else None
        key = (p.channel or order_channel) if by == "channel" else p.sku
        add(key, compensation=cost, oversell_cost=cost if is_oversell else Decimal(0))
    return SOURCE


def _oversold(session: Session, books: Books, rates: RateTable, lo: datetime, hi: datetime, by: str,
              add: AddFn) -> None:
    """Count orders held for want of stock in the period, and the revenue lost on those cancelled in it."""
    held = session.execute(select(OrderEvent.order_id, OrderEvent.detail).where(
        OrderEvent.kind == "held", OrderEvent.at >= lo, OrderEvent.at < hi)).all()
    counted: set[tuple[int, str]] = set()
    oversold_now = {oid for oid, detail in held if _is_oversell(detail)}
    if oversold_now:
        rows = session.execute(select(Order.id, Channel.code, Sku.code)
                               .join(Channel, Channel.id == Order.channel_id)
                               .join(OrderLine, OrderLine.order_id == Order.id).join(Sku, Sku.id == OrderLine.sku_id)
                               .where(Order.id.in_(oversold_now))).all()
        for oid, channel, sku in rows:
            key = channel if by == "channel" else sku
            if (oid, key) not in counted:
                counted.add((oid, key))
                add(key, oversold_orders=1)
    cancelled = _order_lines(session, ("cancelled",), lo, hi)
    lost_orders = _oversold_orders(session, {row[1] for row in cancelled})
    for _kind, oid, _cid, channel, currency, taken, qty, _s, _r, price, sku in cancelled:
        if oid in lost_orders and price is not None:
            lost = rates.to_base(price * qty, currency or books.base, books.day_of(taken))
            add(channel if by == "channel" else sku, oversell_lost_revenue=lost)


def _oversold_orders(session: Session, order_ids: set[int]) -> set[int]:
    """Which of these orders were ever held because the stock was not there."""
    if not order_ids:
        return set()
    held = session.execute(select(OrderEvent.order_id, OrderEvent.detail).where(
        OrderEvent.kind == "held", OrderEvent.order_id.in_(sorted(order_ids)))).all()
    return {oid for oid, detail in held if _is_oversell(detail)}


def _is_oversell(detail: object) -> bool:
    reason = detail.get("reason") if isinstance(detail, dict) else None
    return isinstance(reason, str) and reason.startswith(OVERSELL_REASONS)


class AddFn(Protocol):
    """Adds amounts to the row of `key` (None: the unassigned row)."""

    def __call__(self, key: str | None, **amounts: Decimal | int) -> None: ...
