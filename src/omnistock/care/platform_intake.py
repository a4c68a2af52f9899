"""Cases from platform events: disputes, after-sale and refund requests that a platform sends about an
order. The platform-intake code calls `open_case_from_platform_event` inside its own transaction; the same
event delivered twice returns the case it opened the first time."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from omnistock.care.cases import CaseSpec, Customer, Defaults, open_case
from omnistock.care.categories import all_categories
from omnistock.care.flow import PRIORITIES
from omnistock.care.tables import CareCase
from omnistock.config import get_settings
from omnistock.domain.access import Principal, Role
from omnistock.errors import Invalid
from omnistock.services.lookup import channel_by_code

PLATFORM = Principal(name="care:platform", role=Role.ADMIN)

# What each kind of platform event is about, when the payload does not say.
KIND_CATEGORY = {
    "out_of_stock": "out_of_stock", "oversold": "out_of_stock", "no_stock": "out_of_stock",
    "not_shipped": "late_shipment", "late_shipment": "late_shipment", "delivery_delay": "late_shipment",
    "wrong_quantity": "wrong_quantity", "missing_item": "wrong_quantity",
}
URGENT_KINDS = {"dispute", "chargeback", "arbitration"}


def _event_id(kind: str, payload: dict[str, Any]) -> str:
    for name in ("event_id", "id", "dispute_id", "refund_id", "after_sale_id"):
        if payload.get(name) not in (None, ""):
            return str(payload[name])
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(f"{kind}|{canonical}".encode()).hexdigest()[:32]


def _text(payload: dict[str, Any], *names: str) -> str | None:
    for name in names:
        value = payload.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def open_case_from_platform_event(session: Session, channel: str, external_order_id: str, kind: str,
                                  payload: dict[str, Any]) -> CareCase:
    """Open (or find again) the case for one platform event about an order.

    payload keys read, all optional: event_id (or id, dispute_id, refund_id, after_sale_id) to recognise a
    repeat; category; priority; subject or title; message, description or reason (the customer's words);
    customer {name, phone, email}. The order is linked when omnistock knows it, else the case is
    standalone with the platform's order id."""
    if not kind.strip():
        raise Invalid("the event kind cannot be empty", field="kind")
    if not external_order_id.strip():
        raise Invalid("the order id cannot be empty", field="external_order_id")
    channel_by_code(session, channel)
    key = f"platform:{channel}:{external_order_id}:{kind}:{_event_id(kind, payload)}"
    existing = session.scalar(select(CareCase).where(CareCase.dedup_key == key))
    if existing is not None:
        return existing
    known = {c.code for c in all_categories(session)}
    category = payload.get("category") if payload.get("category") in known else KIND_CATEGORY.get(kind, "other")
    priority = payload.get("priority") if payload.get("priority") in PRIORITIES else (
        "urgent" if kind in URGENT_KINDS else "high")
    who_given = payload.get("customer")
    who: dict[str, Any] = who_given if isinstance(who_given, dict) else {}
    settings = get_settings()
    spec = CaseSpec(category=str(category), priority=str(priority), source="platform", channel=channel,
                    external_order_id=external_order_id,
                    subject=_text(payload, "subject", "title") or f"{kind} on {channel} order {external_order_id}",
                    description=_text(payload, "message", "description", "reason"), cause=kind,
                    customer=Customer(who.get("name"), who.get("phone"), who.get("email")), dedup_key=key)
    try:
        with session.begin_nested():
            return open_case(session, spec, PLATFORM, Defaults.of(settings))
    except IntegrityError:
        found = session.scalar(select(CareCase).where(CareCase.dedup_key == key))
        if found is None:
            raise
        return found
