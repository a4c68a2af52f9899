"""How domain objects are shown over the API: plain dicts, times in the merchant's zone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from omnistock.services.catalogue import SkuFigures
from omnistock.store.tables import Channel, Location, Move, Order, OrderEvent


def when(dt: datetime | None, zone: ZoneInfo) -> str | None:
    return dt.astimezone(zone).isoformat() if dt is not None else None


# Features add fields to a SKU's view (money adds on_order and unit_cost): each is called with the figures
# while their session is still open (sqlalchemy.orm.object_session(fig.sku)) and returns the extra keys.
sku_view_fields: list[Callable[[SkuFigures], dict[str, Any]]] = []


def sku_view(fig: SkuFigures) -> dict[str, Any]:
    sku = fig.sku
    out = {"code": sku.code, "name": sku.name, "unit": sku.unit, "barcode": sku.barcode,
           "safety_stock": sku.safety_stock, "active": sku.active, "bundle": sku.is_bundle,
           "components": [{"sku": c.component.code, "qty": c.qty} for c in sku.components],
           "on_hand": fig.on_hand, "reserved": fig.reserved, "available": fig.available,
           "locations": [{"location": lf.location, "on_hand": lf.on_hand, "reserved": lf.reserved,
                          "available": lf.available} for lf in fig.locations]}
    for extra in sku_view_fields:
        out.update(extra(fig))
    return out


def location_view(loc: Location) -> dict[str, Any]:
    return {"code": loc.code, "name": loc.name, "kind": loc.kind, "sellable": loc.sellable}


def channel_view(ch: Channel, masked_settings: dict[str, Any]) -> dict[str, Any]:
    return {"code": ch.code, "kind": ch.kind, "name": ch.name, "enabled": ch.enabled, "settings": masked_settings}


def move_view(move: Move, sku: str, location: str, zone: ZoneInfo) -> dict[str, Any]:
    return {"id": move.id, "sku": sku, "location": location, "kind": move.kind, "qty": move.qty,
            "reason": move.reason, "reference": move.reference, "actor": move.actor, "at": when(move.at, zone)}


def order_view(order: Order, zone: ZoneInfo, events: list[OrderEvent] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": order.id, "channel": order.channel.code, "external_id": order.external_id, "status": order.status,
        "hold_reason": order.hold_reason, "currency": order.currency,
        "customer": {"name": order.customer_name, "phone": order.customer_phone, "email": order.customer_email},
        "created_at": when(order.created_at, zone), "updated_at": when(order.updated_at, zone),
        "lines": [{"sku": ln.sku.code, "qty": ln.qty, "reserved": ln.reserved, "shipped": ln.shipped,
                   "returned": ln.returned, "unit_price": str(ln.unit_price) if ln.unit_price is not None else None}
                  for ln in order.lines],
    }
    if events is not None:
        out["events"] = [{"kind": e.kind, "at": when(e.at, zone), "actor": e.actor, "detail": e.detail}
                         for e in events]
    return out
