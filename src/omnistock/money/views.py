"""How money objects are shown over the API and the CLI: plain dicts, amounts as decimal strings."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from omnistock.api.views import when
from omnistock.money.tables import ExchangeRate, PurchaseOrder, Supplier


def amount_text(value: Decimal | None) -> str | None:
    """A decimal string without float noise or padding: 6.500000 → "6.50", 0.012300 → "0.0123"."""
    if value is None:
        return None
    text = f"{value.normalize():f}"
    whole, _, frac = text.partition(".")
    return f"{whole}.{frac.ljust(2, '0')}"


def supplier_view(s: Supplier) -> dict[str, Any]:
    return {"code": s.code, "name": s.name, "currency": s.currency, "lead_time_days": s.lead_time_days,
            "contact": s.contact, "over_receipt_percent": amount_text(s.over_receipt_percent)}


def po_view(po: PurchaseOrder, zone: ZoneInfo) -> dict[str, Any]:
    return {"id": po.id, "supplier": po.supplier.code, "status": po.status, "currency": po.currency,
            "location": po.location.code if po.location else None, "note": po.note, "created_by": po.created_by,
            "created_at": when(po.created_at, zone), "ordered_at": when(po.ordered_at, zone),
            "lines": [{"sku": ln.sku.code, "qty": ln.qty, "received": ln.received, "returned": ln.returned,
                       "outstanding": max(0, ln.qty - ln.received), "unit_cost": amount_text(ln.unit_cost),
                       "currency": ln.priced_in(po)} for ln in po.lines]}


def rate_view(r: ExchangeRate) -> dict[str, Any]:
    return {"day": r.day.isoformat(), "currency": r.currency, "base": r.base, "rate": amount_text(r.rate)}
