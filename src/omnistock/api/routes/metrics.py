"""`GET /metrics`: the channels' sync health in the Prometheus text format. It needs a token of any role, like
every route but /healthz (Prometheus sends it with `authorization: {credentials: ...}` in the scrape config);
`OMNISTOCK_METRICS_PUBLIC=true` serves it without one, for a scraper on a trusted network."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse
from sqlalchemy import func, select

from omnistock.api.deps import current_principal
from omnistock.domain.access import Permission
from omnistock.errors import Forbidden
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
    settings = request.app.state.settings
    if not settings.metrics_public:
        principal = current_principal(request, request.app.state.db)
        if not principal.can(Permission.READ):
            raise Forbidden(f"role {principal.role.value} may not read metrics")
    now = utcnow()
    lines: list[str] = []
    with request.app.state.db.reading() as session:
        channels = session.scalars(select(Channel).order_by(Channel.code))
        health = [(ch, channel_health(session, ch, now)) for ch in channels]
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
