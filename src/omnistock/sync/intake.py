"""Order intake from platforms (webhooks, polls, feeds): de-duplicate, map to SKUs, then reserve, cancel,
ship or return through the core order services — every delivery kept in the inbox for tracing.

Rules: a delivery seen before (same event key) has no effect; an order seen before is never created twice;
a cancellation that arrives before its order waits in the inbox and is applied when the order arrives; an
order with a line that maps to no SKU is taken in held, with the unmapped item reported. An after-sale request
(a refund, return or exchange the buyer asks for, a dispute) changes no order and no stock: it is kept and passed
to the hooks only."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from omnistock.channels.base import OrderEvent, OrderEventKind
from omnistock.domain.access import Principal, Role
from omnistock.services import orders
from omnistock.store.tables import Channel, Order
from omnistock.sync.listings import note_unmapped, resolve
from omnistock.sync.tables import InboxEvent

RELEASING = (OrderEventKind.CANCELLED, OrderEventKind.REFUNDED)
# Deliveries that tell of an order without changing it: kept in the inbox and passed to the hooks only.
NOTICES = (OrderEventKind.AFTER_SALE,)

# Reasons to take a new platform order in held although every line maps (omnistock.watch: the SKU is under an
# open drift on a channel in `hold` mode; a quantity far above the usual). Each check gets the channel and the
# mapped lines and returns a hold reason ("cause: detail") or None; the first reason wins.
hold_checks: list[Callable[[Session, Channel, Sequence[orders.LineSpec]], str | None]] = []


@dataclass(frozen=True)
class Outcome:
    event_key: str
    result: str  # created | cancelled | returned | shipped | unchanged | noted | duplicate | waiting | ignored
    order_id: int | None = None
    waited: bool = False  # the order was created now and deliveries that came before it were waiting for it


# Called for each event that is not a duplicate, once applied, in the same transaction, with the channel, the
# event and its outcome (omnistock.care opens or updates a case for a platform refund / after-sale request).
event_taken: list[Callable[[Session, Channel, OrderEvent, Outcome], None]] = []


def event_key(ev: OrderEvent) -> str:
    if ev.event_id:
        return f"id:{ev.event_id}"[:200]
    stamp = ev.occurred_at.isoformat() if ev.occurred_at else ""
    return f"{ev.kind.value}:{ev.external_order_id}:{ev.platform_status or ''}:{stamp}"[:200]


def _payload(ev: OrderEvent) -> dict[str, object]:
    raw = ev.raw if ev.raw is not None else {}
    try:
        return json.loads(json.dumps(raw, default=str))
    except (TypeError, ValueError):
        return {"unserialisable": str(raw)[:2000]}


def ingest(session: Session, channel: Channel, events: Sequence[OrderEvent], source: str, *,
           reserve_at: str | None = None) -> list[Outcome]:
    """Apply platform order events in order, inside the caller's transaction. `reserve_at` (a location code)
    takes new orders' stock from that location only: a store's counter sale left its own shelf."""
    scope = frozenset({reserve_at}) if reserve_at else None
    actor = Principal(name=f"channel:{channel.code}", role=Role.ADMIN, locations=scope,
                      channels=frozenset({channel.code}) if scope else None)
    outcomes = []
    for ev in events:
        outcome = _one(session, channel, ev, source, actor)
        if outcome.result != "duplicate":
            for hook in event_taken:
                hook(session, channel, ev, outcome)
        outcomes.append(outcome)
    return outcomes


def _one(session: Session, channel: Channel, ev: OrderEvent, source: str, actor: Principal) -> Outcome:
    key = event_key(ev)
    seen, order_id, waiting = _look_up(session, channel.id, key, ev.external_order_id)
    if seen:
        return Outcome(key, "duplicate")
    row = InboxEvent(channel_id=channel.id, event_key=key, kind=ev.kind.value, source=source,
                     external_order_id=ev.external_order_id, payload=_payload(ev))
    session.add(row)
    if ev.kind in NOTICES:
        row.order_id = order_id
        if order_id is None:
            # Waiting only so that the order's arrival tells the hooks (a case opened from it is linked then).
            row.status, row.note = "waiting", "about an order not taken in yet; nothing to apply"
        return Outcome(key, "noted", order_id)
    if order_id is None and ev.kind in RELEASING:
        row.status, row.note = "waiting", "arrived before its order; applied when the order arrives"
        return Outcome(key, "waiting")
    created = order_id is None
    order = _create(session, channel, ev, actor) if created else session.get(Order, order_id)
    assert order is not None
    row.order_id = order.id
    result = _apply(session, order, ev, actor)
    if created:
        result = "created" if result == "unchanged" else result
        if waiting:
            result = _apply_waiting(session, channel, order, actor) or result
    return Outcome(key, result, order.id, waited=created and waiting)


def _look_up(session: Session, channel_id: int, key: str, external_order_id: str) -> tuple[bool, int | None, bool]:
    """In one round trip (every platform order passes here): whether this delivery was taken in already, the
    id of its order if omnistock has it, and whether deliveries of that order wait for it."""
    seen = select(InboxEvent.id).where(InboxEvent.channel_id == channel_id, InboxEvent.event_key == key)
    order = select(Order.id).where(Order.channel_id == channel_id, Order.external_id == external_order_id)
    waiting = select(InboxEvent.id).where(InboxEvent.channel_id == channel_id,
                                          InboxEvent.external_order_id == external_order_id,
                                          InboxEvent.status == "waiting")
    row = session.execute(select(seen.exists(), order.scalar_subquery(), waiting.exists())).one()
    return bool(row[0]), row[1], bool(row[2])


def _create(session: Session, channel: Channel, ev: OrderEvent, actor: Principal) -> Order:
    lines: list[orders.LineSpec] = []
    unmapped: list[str] = []
    for pl in ev.lines:
        found = resolve(session, channel, pl.external_id, pl.external_sku)
        if found is None:
            note_unmapped(session, channel, pl.external_id, pl.external_sku, "order")
            unmapped.append(pl.external_id)
            continue
        sku, pack = found
        lines.append(orders.LineSpec(sku.code, pl.qty * pack, _unit_price(pl.unit_price, pack)))
    customer = ev.customer
    reason = f"unmapped: platform item(s) {', '.join(unmapped)} map to no SKU" if unmapped else None
    for check in hold_checks if reason is None and lines else ():
        reason = check(session, channel, lines)
        if reason:
            break
    spec = orders.OrderSpec(
        channel=channel.code, external_id=ev.external_order_id, lines=lines, currency=ev.currency,
        customer=orders.CustomerSpec(customer.name, customer.phone, customer.email) if customer else
        orders.CustomerSpec(),
        hold_reason=reason)
    if not lines:
        # Nothing maps: keep an order row all the same so that it is visible and can be fixed and released.
        spec = orders.OrderSpec(channel=channel.code, external_id=ev.external_order_id, lines=[],
                                currency=ev.currency, customer=spec.customer, hold_reason=spec.hold_reason)
    order, _ = orders.create_order(session, spec, actor)
    return order


def _unit_price(price: Decimal | None, pack: int) -> Decimal | None:
    return price if price is None or pack == 1 else price / pack


def _apply(session: Session, order: Order, ev: OrderEvent, actor: Principal) -> str:
    status = order.status
    if ev.kind in RELEASING:
        if status in ("reserved", "held"):
            orders.cancel(session, order.id, actor, reason=f"platform: {ev.kind.value}")
            return "cancelled"
        if status == "shipped" and ev.kind is OrderEventKind.REFUNDED:
            orders.return_order(session, order.id, actor, reason="platform: refunded after shipping")
            return "returned"
        return "unchanged"
    if ev.kind is OrderEventKind.SHIPPED and status == "reserved":
        orders.ship(session, order.id, actor)
        return "shipped"
    return "unchanged"


def _apply_waiting(session: Session, channel: Channel, order: Order, actor: Principal) -> str | None:
    waiting = session.scalars(select(InboxEvent).where(
        InboxEvent.channel_id == channel.id, InboxEvent.external_order_id == order.external_id,
        InboxEvent.status == "waiting").order_by(InboxEvent.id)).all()
    result = None
    for row in waiting:
        if row.kind in NOTICES:
            # No order id: the order's kept payload (omnistock.watch reads its first delivery) stays its own.
            row.status, row.note = "done", "its order arrived; nothing to apply"
            continue
        ev = OrderEvent(kind=OrderEventKind(row.kind), external_order_id=order.external_id, lines=[])
        result = _apply(session, order, ev, actor)
        row.status, row.order_id = "done", order.id
        row.note = "applied when its order arrived"
    return result
