"""Automatic holds and their alerts: a new platform order is held when its SKU is under an open drift on a
channel in `hold` mode, or its quantity is far above the usual; every held order raises an alert in the
transaction that held it (an oversell: critical, at once); releases are audited; and held orders are released
by themselves once their cause has cleared and their stock can be reserved — an order held for an item that
mapped to no SKU once the item is mapped (its lines read again from the delivery the inbox kept)."""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from omnistock.channels.base import PlatformOrderLine
from omnistock.channels.stored_orders import platform_lines
from omnistock.domain.access import Principal, Role
from omnistock.domain.stock import expand_line
from omnistock.errors import Conflict
from omnistock.services import audit, orders
from omnistock.services.availability import available_by_sku
from omnistock.store.db import Database
from omnistock.store.tables import Channel, Order, OrderEvent, OrderLine, Sku
from omnistock.store.types import utcnow
from omnistock.sync import intake
from omnistock.sync.intake import RELEASING
from omnistock.sync.listings import resolve
from omnistock.sync.tables import InboxEvent
from omnistock.watch import alerts, rulebook
from omnistock.watch.tables import Difference, WatchChannel

log = logging.getLogger("omnistock.watch")
AUTO = Principal(name="watch:auto-release", role=Role.ADMIN)
OVERSELL_CAUSES = ("insufficient_stock", "stock_shortfall")
RELEASABLE = (*OVERSELL_CAUSES, "drift")
OPEN = ("open", "healing")
FAULTS = ("drift", "missing")


def cause_of(reason: str | None) -> str:
    return (reason or "").split(":", 1)[0].strip() or "unknown"


# --- hold checks at intake (sync.intake.hold_checks) ------------------------------------------------------------


def _sku_ids(session: Session, lines: Sequence[orders.LineSpec]) -> dict[str, int]:
    codes = sorted({ln.sku for ln in lines})
    return dict(session.execute(select(Sku.code, Sku.id).where(Sku.code.in_(codes))).all())


def open_drift(session: Session, channel_id: int, sku_ids: Sequence[int]) -> Difference | None:
    """An open drift (or missing listing) of one of these SKUs on a channel set to hold, if there is one."""
    if not sku_ids:
        return None
    return session.scalar(
        select(Difference).join(WatchChannel, WatchChannel.channel_id == Difference.channel_id)
        .where(Difference.channel_id == channel_id, Difference.sku_id.in_(sorted(set(sku_ids))),
               Difference.status.in_(OPEN), Difference.kind.in_(FAULTS), WatchChannel.reconcile_mode == "hold")
        .order_by(Difference.id).limit(1))


def drift_hold(session: Session, channel: Channel, lines: Sequence[orders.LineSpec]) -> str | None:
    codes = sorted({ln.sku for ln in lines})
    # One query (it runs for every platform order): an open fault of one of the lines' SKUs on this channel
    # when it is set to hold.
    found = session.execute(
        select(Difference, Sku.code).join(Sku, Sku.id == Difference.sku_id)
        .join(WatchChannel, WatchChannel.channel_id == Difference.channel_id)
        .where(Difference.channel_id == channel.id, Sku.code.in_(codes), Difference.status.in_(OPEN),
               Difference.kind.in_(FAULTS), WatchChannel.reconcile_mode == "hold")
        .order_by(Difference.id).limit(1)).first()
    if found is None:
        return None
    diff, code = found
    return (f"drift: {code} shows {diff.platform if diff.platform is not None else 'nothing'} on {channel.code}, "
            f"should show {diff.expected} (reconciliation #{diff.run_id}); held until the difference is gone")


def unusual_quantity(session: Session, channel: Channel, lines: Sequence[orders.LineSpec]) -> str | None:
    rule = rulebook.rule(session, "unusual_quantity")
    if not rule.enabled:
        return None
    s = rule.settings
    big = [ln for ln in lines if ln.qty >= float(s["min_qty"])]
    if not big:
        return None
    ids = _sku_ids(session, big)
    since = utcnow() - timedelta(days=float(s["days"]))
    usual = {sid: (float(avg or 0), int(n)) for sid, avg, n in session.execute(
        select(OrderLine.sku_id, func.avg(OrderLine.qty), func.count())
        .join(Order, Order.id == OrderLine.order_id)
        .where(OrderLine.sku_id.in_(ids.values()), Order.created_at >= since)
        .group_by(OrderLine.sku_id))}
    for ln in big:
        avg, n = usual.get(ids.get(ln.sku, -1), (0.0, 0))
        if n >= int(s["min_lines"]) and avg > 0 and ln.qty > float(s["factor"]) * avg:
            return (f"unusual_quantity: {ln.sku} qty {ln.qty} is over {s['factor']}x the usual {avg:.1f} "
                    f"(last {s['days']} days); released by hand once checked")
    return None


# --- alerts for held orders (services.hooks.order_held / order_changed) ------------------------------------------


def on_order_held(session: Session, order: Order) -> None:
    cause = cause_of(order.hold_reason)
    oversell = cause in OVERSELL_CAUSES
    kind = "oversell" if oversell else "order_held"
    first = order.lines[0].sku_id if order.lines else None
    what = "oversold: could not be reserved" if oversell else "held"
    alerts.raise_alert(session, alerts.Condition(
        kind=kind, key=f"{kind}:order:{order.id}", severity="critical" if oversell else "warning",
        sku_id=first, channel_id=order.channel_id, order_id=order.id,
        message=f"order {order.external_id} on {order.channel.code} {what} ({order.hold_reason})",
        detail={"order_id": order.id, "external_id": order.external_id, "reason": order.hold_reason,
                "cause": cause, "skus": [ln.sku.code for ln in order.lines]}))


def on_order_changed(session: Session, order: Order, event: str) -> None:
    if event == "released":
        # The event row was just added: read who released and why before any query flushes it.
        new = [e for e in session.new if isinstance(e, OrderEvent) and e.order_id == order.id and e.kind == event]
        actor = new[-1].actor if new else None
        reason = (new[-1].detail or {}).get("reason") if new else None
        audit.record(session, actor=actor or "unknown", action="order.release", entity=f"order:{order.id}",
                     sku_id=order.lines[0].sku_id if order.lines else None,
                     before={"status": "held"}, after={"status": order.status}, reason=reason)
    if event == "released" or (event == "cancelled" and order.hold_reason):
        # The hold is over: its alert has done its job (an oversell stays open until this, or until acked).
        # A held order becomes reserved only through a release, and only a held one keeps its hold reason
        # when cancelled: other orders cost no query here.
        alerts.resolve(session, [f"oversell:order:{order.id}", f"order_held:order:{order.id}"])


# --- jobs: confirm heals, release what has cleared -----------------------------------------------------------------


def confirm_healed(session: Session, now: datetime | None = None) -> int:
    """Differences pushed again whose push has gone through since: healed. Their SKUs' drift alerts resolve
    when no difference of the SKU is left open on the channel."""
    from omnistock.sync.tables import Listing

    now = now or utcnow()
    rows = session.execute(
        select(Difference, Listing.last_pushed_at).join(Listing, Listing.id == Difference.listing_id)
        .where(Difference.status == "healing", Listing.dirty.is_(False), Listing.claimed_until.is_(None),
               Listing.failing_since.is_(None), Listing.last_pushed_at >= Difference.found_at)).all()
    touched: set[tuple[int, int]] = set()
    for diff, pushed_at in rows:
        diff.status, diff.resolved_at = "healed", pushed_at or now
        if diff.sku_id is not None:
            touched.add((diff.channel_id, diff.sku_id))
    session.flush()
    for channel_id, sku_id in touched:
        left = session.scalar(select(func.count()).where(
            Difference.channel_id == channel_id, Difference.sku_id == sku_id, Difference.status.in_(OPEN),
            Difference.kind.in_(FAULTS)))
        if not left:
            alerts.resolve(session, [f"drift:{channel_id}:sku:{sku_id}"], now)
    return len(rows)


def _reservable(session: Session, held: Sequence[Order]) -> list[Order]:
    """Held orders whose whole need is available now (a cheap look before trying to reserve)."""
    needs: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for order in held:
        for line in order.lines:
            units = expand_line(line.sku_id, line.qty, {c.component_id: c.qty for c in line.sku.components})
            for sid, q in units.items():
                needs[order.id][sid] += q
    available = available_by_sku(session, {sid for per in needs.values() for sid in per})
    return [o for o in held if o.lines and all(available.get(sid, 0) >= q for sid, q in needs[o.id].items())]


def release_cleared(db: Database, limit: int = 200) -> int:
    """Release held orders whose cause has cleared: no open drift left on a hold channel, every item mapped, and
    stock enough."""
    released = complete_mapped(db, limit)
    with db.reading() as session:
        held = list(session.scalars(select(Order).where(Order.status == "held").order_by(Order.id).limit(limit)))
        held = [o for o in held if cause_of(o.hold_reason) in RELEASABLE]
        drift_free = [o for o in held if cause_of(o.hold_reason) != "drift" or open_drift(
            session, o.channel_id, [ln.sku_id for ln in o.lines]) is None]
        candidates = [(o.id, cause_of(o.hold_reason)) for o in _reservable(session, drift_free)]
    for order_id, cause in candidates:
        try:
            with db.transaction() as session:
                orders.release(session, order_id, AUTO, reason=f"{cause} cleared: stock can be reserved")
            released += 1
        except Conflict:
            continue  # taken by someone else meanwhile, or still short after all: it stays held
    return released


# --- orders held for an unmapped item -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Mapped:
    external_id: str
    sku: Sku
    qty: int
    unit_price: Decimal | None


def _kept_lines(session: Session, order: Order) -> list[PlatformOrderLine] | None:
    """The order's platform lines from the delivery that created it: the order itself has no line for an item
    that mapped to no SKU, the inbox kept the platform's payload whole."""
    payload = session.scalar(select(InboxEvent.payload).where(
        InboxEvent.order_id == order.id, InboxEvent.kind.not_in(RELEASING)).order_by(InboxEvent.id).limit(1))
    return platform_lines(order.channel.kind, payload)


def _mapped(session: Session, order: Order) -> list[_Mapped] | None:
    """Every platform line with its SKU as intake would map it now; None while some item still maps to none
    (or the lines cannot be read back)."""
    lines = _kept_lines(session, order)
    if lines is None:
        return None
    out = []
    for pl in lines:
        found = resolve(session, order.channel, pl.external_id, pl.external_sku)
        if found is None:
            return None
        sku, pack = found
        price = pl.unit_price if pl.unit_price is None or pack == 1 else pl.unit_price / pack
        out.append(_Mapped(pl.external_id, sku, pl.qty * pack, price))
    return out


def _missing_lines(order: Order, mapped: Sequence[_Mapped]) -> list[_Mapped] | None:
    """The mapped lines the order lacks (intake made lines of the items that mapped then); None when the order's
    lines are not a part of them (changed since): a person must look."""
    have = Counter((ln.sku_id, ln.qty) for ln in order.lines)
    missing = []
    for m in mapped:
        if have[(m.sku.id, m.qty)] > 0:
            have[(m.sku.id, m.qty)] -= 1
        else:
            missing.append(m)
    return None if +have else missing


def complete_mapped(db: Database, limit: int = 200) -> int:
    """Orders held because an item mapped to no SKU whose items all map now: their lines are completed from
    the kept delivery and they are released, or kept held for stock (then released like any short order).
    Returns the orders released."""
    with db.reading() as session:
        held = list(session.scalars(select(Order).where(Order.status == "held", Order.hold_reason.like("unmapped:%"))
                                    .order_by(Order.id).limit(limit)))
        ready = [o.id for o in held if _mapped(session, o) is not None]
    released = 0
    for order_id in ready:
        with db.transaction() as session:
            released += _complete(session, order_id)
    return released


def _complete(session: Session, order_id: int) -> int:
    order = orders.get_order(session, order_id, AUTO, lock=True)
    if order.status != "held" or cause_of(order.hold_reason) != "unmapped":
        return 0  # released or cancelled meanwhile
    mapped = _mapped(session, order)
    missing = _missing_lines(order, mapped) if mapped is not None else None
    if missing is None:
        if mapped is not None:
            log.warning("order %s: its lines no longer match its delivery; left held for a person", order.id)
        return 0
    before = [{"sku": ln.sku.code, "qty": ln.qty} for ln in order.lines]
    # The checks intake runs on an order whose lines all map (drift hold, unusual quantity), on the whole
    # order, before its new lines count among the SKUs' usual ones.
    specs = [orders.LineSpec(m.sku.code, m.qty, m.unit_price) for m in mapped or ()]
    held_for = next((r for r in (check(session, order.channel, specs) for check in intake.hold_checks) if r), None)
    for m in missing:
        order.lines.append(OrderLine(order_id=order.id, sku=m.sku, sku_id=m.sku.id, qty=m.qty, reserved=0,
                                     shipped=0, returned=0, unit_price=m.unit_price))
    session.flush()
    items = ", ".join(sorted({m.external_id for m in missing}))
    audit.record(session, actor=AUTO.name, action="order.lines_mapped", entity=f"order:{order.id}",
                 sku_id=missing[0].sku.id if missing else None, before={"lines": before},
                 after={"lines": [{"sku": ln.sku.code, "qty": ln.qty} for ln in order.lines]},
                 reason=f"platform item(s) {items} mapped to a SKU")
    session.add(OrderEvent(order_id=order.id, kind="lines_mapped", actor=AUTO.name, at=utcnow(),
                           detail={"lines": [{"external_id": m.external_id, "sku": m.sku.code, "qty": m.qty}
                                             for m in missing]}))
    # Its cause is gone whatever the stock says: a shortfall from here on is an oversell, alerted as one.
    alerts.resolve(session, [f"order_held:order:{order.id}"])
    if held_for:
        orders.hold(session, order, held_for, AUTO.name)  # held on for the new cause, with its own alert
        return 0
    try:
        orders.release(session, order.id, AUTO, reason=f"unmapped cleared: {items} mapped; stock can be reserved")
    except Conflict:
        # Short of stock: the release held it again with the shortfall in the same transaction; the lines
        # completed above stay, and it is released like any short order once stock arrives.
        return 0
    return 1
