"""`GET /metrics`: the channels' sync health in the Prometheus text format (aggregates only, no token needed,
like /healthz, so that a scraper needs no credentials)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse
from sqlalchemy import func, select

from omnistock.store.tables import Channel, Order
from omnistock.store.types import utcnow
from omnistock.sync.health import channel_health

router = APIRouter(tags=["health"])

GAUGES = [
    ("backlog", "Listings waiting to be pushed"),
    ("oldest_pending_s", "Age of the oldest pending change in seconds"),
    ("calls_5m", "Platform calls in the last 5 minutes"),
    ("errors_5m", "Failed platform calls in the last 5 minutes"),
    ("calls_60m", "Platform calls in the last 60 minutes"),
    ("errors_60m", "Failed platform calls in the last 60 minutes"),
    ("latency_p50_ms", "Median push latency over the last hour"),
    ("latency_p95_ms", "95th percentile push latency over the last hour"),
    ("failing", "Listings whose last push failed"),
]


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(request: Request) -> str:
    now = utcnow()
    lines: list[str] = []
    with request.app.state.db.reading() as session:
        health = [(ch, channel_health(session, ch, now)) for ch in session.scalars(select(Channel).order_by(Channel.code))]
        held = session.scalar(select(func.count()).where(Order.status == "held")) or 0
    for name, help_text in GAUGES:
        lines += [f"# HELP omnistock_sync_{name} {help_text}", f"# TYPE omnistock_sync_{name} gauge"]
        for ch, h in health:
            value = getattr(h, name)
            if value is not None:
                lines.append(f'omnistock_sync_{name}{{channel="{_label(ch.code)}"}} {float(value):g}')
    lines += ["# HELP omnistock_sync_breaker_open 1 when the channel's circuit breaker is open",
              "# TYPE omnistock_sync_breaker_open gauge"]
    lines += [f'omnistock_sync_breaker_open{{channel="{_label(ch.code)}"}} {1 if h.breaker == "open" else 0}'
              for ch, h in health]
    lines += ["# HELP omnistock_orders_held Orders held", "# TYPE omnistock_orders_held gauge",
              f"omnistock_orders_held {held}"]
    return "\n".join(lines) + "\n"
