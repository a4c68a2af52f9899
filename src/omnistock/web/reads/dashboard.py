"""The dashboard's figures: today's orders and oversells per channel, and the last 24 hours by hour
(orders, oversells, platform calls and failures), each in one grouped query."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from omnistock.domain.access import Principal
from omnistock.money.profit import OVERSELL_REASONS
from omnistock.store.tables import Channel, Order, OrderEvent
from omnistock.sync.tables import PlatformCall
from omnistock.web.reads.orders import visible

HOURS = 24


def start_of_day(now: datetime, zone: ZoneInfo) -> datetime:
    local = now.astimezone(zone)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(timezone.utc)


def is_oversell(detail: object) -> bool:
    """A hold for want of stock (what money's profit report counts as an oversold order)."""
    reason = detail.get("reason") if isinstance(detail, dict) else None
    return isinstance(reason, str) and reason.startswith(OVERSELL_REASONS)


def _scoped(stmt: Any, principal: Principal) -> Any:
    cond = visible(principal)
    return stmt if cond is None else stmt.where(cond)


@dataclass(frozen=True)
class ChannelDay:
    channel: str
    orders: int
    oversells: int


def today_by_channel(session: Session, principal: Principal, now: datetime, zone: ZoneInfo) -> list[ChannelDay]:
    since = start_of_day(now, zone)
    orders = dict(session.execute(_scoped(
        select(Channel.code, func.count(Order.id)).join(Channel, Channel.id == Order.channel_id)
        .where(Order.created_at >= since).group_by(Channel.code), principal)).all())
    oversold: dict[str, set[int]] = defaultdict(set)
    for code, order_id, detail in session.execute(_scoped(
            select(Channel.code, OrderEvent.order_id, OrderEvent.detail)
            .join(Order, Order.id == OrderEvent.order_id).join(Channel, Channel.id == Order.channel_id)
            .where(OrderEvent.kind == "held", OrderEvent.at >= since), principal)):
        if is_oversell(detail):
            oversold[code].add(order_id)
    codes = sorted(set(orders) | set(oversold))
    return [ChannelDay(code, int(orders.get(code, 0)), len(oversold[code])) for code in codes]


def hour_of(column: Any, dialect: str) -> ColumnElement[Any]:
    """The UTC hour of a timestamp column as 'YYYY-MM-DD HH' (times are stored as naive UTC)."""
    if dialect == "postgresql":
        return func.to_char(column, "YYYY-MM-DD HH24")
    return func.strftime("%Y-%m-%d %H", column)


@dataclass(frozen=True)
class Hour:
    start: datetime
    orders: int
    oversells: int
    calls: int
    failed_calls: int


def _hour_key(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%d %H")


def last_day_by_hour(session: Session, principal: Principal, now: datetime) -> list[Hour]:
    """The last 24 hours, oldest first, the current hour included."""
    dialect = session.get_bind().dialect.name
    top = now.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)
    starts = [top - timedelta(hours=HOURS - 1 - i) for i in range(HOURS)]
    since = starts[0]
    bucket = hour_of(Order.created_at, dialect)
    orders = dict(session.execute(_scoped(
        select(bucket, func.count(Order.id)).join(Channel, Channel.id == Order.channel_id)
        .where(Order.created_at >= since).group_by(bucket), principal)).all())
    oversells: Counter[str] = Counter()
    seen: set[tuple[str, int]] = set()
    for at, order_id, detail in session.execute(_scoped(
            select(OrderEvent.at, OrderEvent.order_id, OrderEvent.detail)
            .join(Order, Order.id == OrderEvent.order_id).join(Channel, Channel.id == Order.channel_id)
            .where(OrderEvent.kind == "held", OrderEvent.at >= since), principal)):
        key = _hour_key(at)
        if is_oversell(detail) and (key, order_id) not in seen:
            seen.add((key, order_id))
            oversells[key] += 1
    calls = _calls_by_hour(session, principal, since, dialect)
    return [Hour(s, int(orders.get(_hour_key(s), 0)), oversells[_hour_key(s)], *calls.get(_hour_key(s), (0, 0)))
            for s in starts]


def _calls_by_hour(session: Session, principal: Principal, since: datetime, dialect: str) -> dict[str, tuple[int, int]]:
    bucket = hour_of(PlatformCall.at, dialect)
    stmt = (select(bucket, PlatformCall.ok, func.count(func.distinct(PlatformCall.call_id)))
            .join(Channel, Channel.id == PlatformCall.channel_id)
            .where(PlatformCall.at >= since).group_by(bucket, PlatformCall.ok))
    if principal.channels is not None:
        stmt = stmt.where(Channel.code.in_(sorted(principal.channels)))
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for key, ok, count in session.execute(stmt):
        out[key][0] += int(count)
        if not ok:
            out[key][1] += int(count)
    return {key: (total, failed) for key, (total, failed) in out.items()}
