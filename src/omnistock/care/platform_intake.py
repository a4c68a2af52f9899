"""Cases from platform events: disputes, after-sale and refund requests that a platform sends about an
order. `open_case_from_platform_event` opens one inside the caller's transaction (the same event delivered
twice returns the case it opened the first time); `on_order_event`, registered on the order intake, opens one
for each after-sale request and each refund that arrive by webhook or poll, or notes them on the case the order
already has, and links a case opened before its order came in once the order arrives."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from omnistock.care.cases import CaseSpec, Customer, Defaults, affected_skus, open_case, order_value, record
from omnistock.care.categories import all_categories
from omnistock.care.flow import ACTIVE, PRIORITIES
from omnistock.care.tables import CareCase, CareMessage
from omnistock.channels.base import AfterSale, AfterSaleKind, OrderEvent, OrderEventKind
from omnistock.config import get_settings
from omnistock.domain.access import Principal, Role
from omnistock.errors import Invalid
from omnistock.services.lookup import channel_by_code
from omnistock.store.tables import Channel, Order
from omnistock.store.tables import OrderEvent as OrderHistory
from omnistock.store.types import utcnow
from omnistock.sync import intake

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
    return _open(session, channel, external_order_id, kind, payload, key)


def _open(session: Session, channel: str, external_order_id: str, kind: str, payload: dict[str, Any],
          key: str) -> CareCase:
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


# What the intake's events are about, as a case's cause. A refund that went through comes as REFUNDED from
# every adapter (Shopify refunds/create or financial_status refunded, WooCommerce status refunded, Pinduoduo
# refund_status 4, Douyin push 206 or every SKU refunded, Taobao sub-orders refunded, the webhook channel's
# order.refunded); a request still open on the platform comes as AFTER_SALE (Shopify disputes/* and
# returns/request, Pinduoduo and Taobao after-sale lists, Douyin pushes 200/208/212, the webhook channel's
# after_sale.requested).
REFUND = "refund"
REQUEST_CAUSE = {AfterSaleKind.REFUND: "refund_request", AfterSaleKind.RETURN: "return_request",
                 AfterSaleKind.EXCHANGE: "exchange_request", AfterSaleKind.DISPUTE: "dispute"}
NOTE = {"zh": "平台通知：{channel} 订单 {order} 已{what}（{status}）。",
        "en": "The platform reports a {what} on {channel} order {order} ({status})."}
WHAT = {"zh": {"refund": "退款"}, "en": {"refund": "refund"}}
REQUEST_NOTE = {"zh": "平台通知：{channel} 订单 {order} 的{what}（{status}）{reason}",
                "en": "The platform reports a {what} on {channel} order {order} ({status}){reason}"}
REQUEST_WHAT = {
    "zh": {AfterSaleKind.REFUND: "退款申请", AfterSaleKind.RETURN: "退货退款申请",
           AfterSaleKind.EXCHANGE: "换货/补寄申请", AfterSaleKind.DISPUTE: "争议（平台介入/拒付）"},
    "en": {AfterSaleKind.REFUND: "refund request", AfterSaleKind.RETURN: "return request",
           AfterSaleKind.EXCHANGE: "exchange request", AfterSaleKind.DISPUTE: "dispute"}}
# A buyer's reason that says the goods were not there to send (Douyin reason 14 缺货, PDD 缺货, "out of stock").
STOCK_OUT_WORDS = ("缺货", "无货", "没货", "断货", "超卖", "out of stock", "out_of_stock", "oversold", "sold out")
INSUFFICIENT = "insufficient_stock"  # how the core services begin the hold reason of an order they could not fill


def on_order_event(session: Session, channel: Channel, event: OrderEvent, outcome: intake.Outcome) -> None:
    """`sync.intake.event_taken` hook: an after-sale request opens one platform case about its order, and a
    refund opens one if no request did; whatever comes later about the order is noted on that case.

    The intake calls it once per platform event (a repeated delivery is a duplicate and never gets here). An
    event about an order that has an active case (the proactive case of an oversell, say) is noted on that
    case; a message about a request that already has its case (a later status, the same request polled again),
    and a refund of an order that has a platform case, are noted on it; only the first opens a case."""
    if outcome.waited and outcome.order_id is not None:
        # The order came in after events that waited for it in the inbox: link the cases they opened.
        _link_to_order(session, outcome.order_id)
    request = event.after_sale if event.kind is OrderEventKind.AFTER_SALE else None
    if request is None and event.kind is not OrderEventKind.REFUNDED:
        return
    if outcome.order_id is not None:
        # Two deliveries about one order (webhook and poll) wait for each other here (the id only: the order's
        # eager joins cannot be locked on PostgreSQL).
        session.execute(select(Order.id).where(Order.id == outcome.order_id).with_for_update())
    if request is not None:
        _after_sale(session, channel.code, event, request, outcome)
        return
    known = _case_of(session, channel.code, event.external_order_id, outcome.order_id)
    if known is not None:
        _note(session, known, _refund_note(known, channel.code, event), REFUND, event, outcome.event_key)
        return
    open_case_from_platform_event(session, channel.code, event.external_order_id, REFUND,
                                  _customer_payload(event, {"event_id": outcome.event_key}))


def _after_sale(session: Session, channel: str, event: OrderEvent, request: AfterSale,
                outcome: intake.Outcome) -> None:
    cause = REQUEST_CAUSE[request.kind]
    # The request's own key, whatever it turns into (a refund request escalated to a dispute is one request).
    key = f"platform:{channel}:{event.external_order_id}:after_sale:{request.request_id}"[:300]
    known = _active_case(session, channel, event.external_order_id, outcome.order_id) or session.scalar(
        select(CareCase).where(CareCase.dedup_key == key))
    if known is not None:
        _note(session, known, _request_note(known, channel, event, request), cause, event, outcome.event_key)
        return
    if request.closed:
        return  # over before omnistock heard of it: nothing left to answer
    words = " ".join(t for t in (request.reason, request.note) if t)
    payload = _customer_payload(event, {
        "category": "out_of_stock" if _stock_out(session, outcome.order_id, words) else "other",
        "subject": f"{REQUEST_WHAT['en'][request.kind]} on {channel} order {event.external_order_id}",
        "message": " — ".join(t for t in (request.reason, request.note) if t) or None})
    _open(session, channel, event.external_order_id, cause, payload, key)


def _stock_out(session: Session, order_id: int | None, words: str) -> bool:
    """Whether the request is about goods that were not there: the buyer says so, or the order was held because
    it could not be reserved (even if it was released since)."""
    lowered = words.lower()
    if any(w in lowered for w in STOCK_OUT_WORDS):
        return True
    if order_id is None:
        return False
    holds = session.scalars(select(OrderHistory.detail).where(OrderHistory.order_id == order_id,
                                                              OrderHistory.kind == "held"))
    return any(str((detail or {}).get("reason") or "").startswith(INSUFFICIENT) for detail in holds)


def _customer_payload(event: OrderEvent, payload: dict[str, Any]) -> dict[str, Any]:
    customer = event.customer
    if customer is not None:
        payload["customer"] = {"name": customer.name, "phone": customer.phone, "email": customer.email}
    return payload


def _active_case(session: Session, channel: str, external_order_id: str, order_id: int | None) -> CareCase | None:
    """The order's first active case; for an order not taken in yet, the first active standalone case about it."""
    about = (CareCase.order_id == order_id if order_id is not None else
             (CareCase.channel == channel) & (CareCase.external_order_id == external_order_id))
    return session.scalar(select(CareCase).where(about, CareCase.status.in_([s.value for s in ACTIVE]))
                          .order_by(CareCase.id).limit(1))


def _case_of(session: Session, channel: str, external_order_id: str, order_id: int | None) -> CareCase | None:
    """The case a refund belongs to: the order's active case, else the latest platform case about the order
    (the request it settles, or an earlier refund of the same order)."""
    return _active_case(session, channel, external_order_id, order_id) or session.scalar(select(CareCase).where(
        CareCase.channel == channel, CareCase.external_order_id == external_order_id,
        CareCase.source == "platform").order_by(CareCase.id.desc()).limit(1))


def _locale(case: CareCase) -> str:
    return case.locale if case.locale in NOTE else "en"


def _refund_note(case: CareCase, channel: str, event: OrderEvent) -> str:
    locale = _locale(case)
    return NOTE[locale].format(channel=channel, order=event.external_order_id, what=WHAT[locale][REFUND],
                               status=event.platform_status or REFUND)


def _request_note(case: CareCase, channel: str, event: OrderEvent, request: AfterSale) -> str:
    locale = _locale(case)
    words = " — ".join(t for t in (request.reason, request.note) if t)
    reason = (f"：{words}" if locale == "zh" else f": {words}") if words else ("。" if locale == "zh" else ".")
    return REQUEST_NOTE[locale].format(channel=channel, order=event.external_order_id,
                                       what=REQUEST_WHAT[locale][request.kind],
                                       status=event.platform_status or request.kind.value, reason=reason)


def _note(session: Session, case: CareCase, body: str, kind: str, event: OrderEvent, key: str) -> None:
    now = utcnow()
    note = CareMessage(case_id=case.id, kind="note", status="recorded", body=body, author=PLATFORM.name,
                       created_at=now)
    session.add(note)
    session.flush()
    detail: dict[str, Any] = {"kind": kind, "event_key": key, "platform_status": event.platform_status,
                              "message_id": note.id}
    if event.after_sale is not None:
        detail["request_id"] = event.after_sale.request_id
    record(session, case, "platform_event", PLATFORM.name, detail, at=now)
    case.updated_at = now


def _link_to_order(session: Session, order_id: int) -> None:
    """Cases opened from a platform event that came before its order (a refund delivered ahead of the order)
    are linked to the order once it is taken in. Only then: a query on every new order would tax the hot path."""
    order = session.get(Order, order_id)
    if order is None:
        return
    waiting = session.scalars(select(CareCase).where(
        CareCase.order_id.is_(None), CareCase.channel == order.channel.code,
        CareCase.external_order_id == order.external_id).order_by(CareCase.id)).all()
    for case in waiting:
        case.order_id = order.id
        case.skus = affected_skus(order)
        case.order_value = case.order_value if case.order_value is not None else order_value(order)
        case.customer_name = case.customer_name or order.customer_name
        case.customer_phone = case.customer_phone or order.customer_phone
        case.customer_email = case.customer_email or order.customer_email
        record(session, case, "order_linked", PLATFORM.name, {"order_id": order.id})


def register() -> None:
    if on_order_event not in intake.event_taken:
        intake.event_taken.append(on_order_event)
