"""The demo's live view: per channel pushes, latency, backlog and errors; held orders; propagation."""

from __future__ import annotations

from datetime import timedelta

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from sqlalchemy import func, select

from omnistock.store.db import Database
from omnistock.store.tables import Channel, Order
from omnistock.store.types import utcnow
from omnistock.sync.health import channel_health, percentile
from omnistock.sync.tables import PlatformCall


def propagation_ms(db: Database, since_minutes: float = 60) -> list[int]:
    with db.reading() as s:
        return list(s.scalars(select(PlatformCall.propagation_ms).where(
            PlatformCall.propagation_ms.is_not(None),
            PlatformCall.at >= utcnow() - timedelta(minutes=since_minutes))))


def render(db: Database, api_url: str, token: str) -> Group:
    now = utcnow()
    table = Table("Channel", "Pushes 5m", "Errors 5m", "p50 ms", "p95 ms", "Backlog", "Breaker", "Orders",
                  title="Sync per channel")
    with db.reading() as s:
        for ch in s.scalars(select(Channel).order_by(Channel.code)):
            h = channel_health(s, ch, now)
            orders = s.scalar(select(func.count()).where(Order.channel_id == ch.id)) or 0
            table.add_row(ch.code, str(h.calls_5m), str(h.errors_5m), _ms(h.latency_p50_ms), _ms(h.latency_p95_ms),
                          str(h.backlog), h.breaker, str(orders))
        held = s.scalar(select(func.count()).where(Order.status == "held")) or 0
        reserved = s.scalar(select(func.count()).where(Order.status == "reserved")) or 0
    prop = propagation_ms(db, 5)
    summary = (f"orders reserved {reserved}, held (oversold) {held}   propagation p50/p95/p99: "
               f"{_ms(percentile(prop, 50))} / {_ms(percentile(prop, 95))} / {_ms(percentile(prop, 99))} ms")
    hint = f"API {api_url}  token {token}  (docs: {api_url}/docs)  — stop with Ctrl+C"
    return Group(table, Panel(summary), hint)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"
