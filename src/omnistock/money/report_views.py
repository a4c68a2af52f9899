"""The valuation and profit reports as plain dicts for the API and the CLI."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from omnistock.api.views import when
from omnistock.domain.profit import ProfitLine
from omnistock.money.profit import ProfitReport
from omnistock.money.stock_value import Valuation
from omnistock.money.views import amount_text


def valuation_view(v: Valuation, zone: ZoneInfo) -> dict[str, Any]:
    return {"at": when(v.at, zone), "currency": v.currency, "total": amount_text(v.total),
            "items": [{"sku": i.sku, "name": i.name, "on_hand": i.on_hand, "unit_cost": amount_text(i.unit_cost),
                       "value": amount_text(i.value)} for i in v.items]}


def profit_line_view(line: ProfitLine) -> dict[str, Any]:
    return {"revenue": amount_text(line.revenue), "fees": amount_text(line.fees), "cogs": amount_text(line.cogs),
            "compensation": amount_text(line.compensation), "margin": amount_text(line.margin),
            "margin_percent": amount_text(line.margin_percent), "oversell_cost": amount_text(line.oversell_cost),
            "oversold_orders": line.oversold_orders,
            "oversell_lost_revenue": amount_text(line.oversell_lost_revenue)}


def profit_view(r: ProfitReport) -> dict[str, Any]:
    return {"currency": r.currency, "from": r.start.isoformat(), "to": r.end.isoformat(), "by": r.by,
            "compensation_source": r.compensation_source,
            "rows": [{r.by: key, **profit_line_view(line)} for key, line in r.rows.items()],
            "total": profit_line_view(r.total)}
