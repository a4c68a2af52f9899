"""Pre-sale (预售) of on-order stock, for the channels whose terms allow it.

Such a channel is shown, on top of its share of the available stock, the units on order (ordered or partly
received POs, expected at a sellable location or at none) that no pre-sale order has claimed yet. An order
there that the stock on hand cannot cover but stock on hand and on order together can is held with reason
`presale: …` instead of `insufficient_stock` (no oversell alert, no complaint case), and claims its units of
what is on order. A delivery against a PO releases the waiting pre-sale orders of its SKUs, oldest first, as
soon as each can be reserved in full; an order whose cover is gone (a PO cancelled) becomes the oversell it
now is. See docs/money.md, "Pre-sale"."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from omnistock.domain.access import Principal, Role
from omnistock.domain.purchasing import OPEN, bundle_overdrawn, incoming_pool, presale_covers
from omnistock.domain.stock import bundle_buildable, expand_line
from omnistock.errors import Conflict
from omnistock.money.tables import ChannelTerms, PurchaseOrder, PurchaseOrderLine
from omnistock.services import hooks, orders
from omnistock.services.availability import available_by_sku
from omnistock.store.tables import BundleComponent, Location, Order, OrderEvent, OrderLine
from omnistock.sync import dirty, targets

PRESALE = "presale"
SHORT = "insufficient_stock"
DESK = Principal(name="money:presale", role=Role.ADMIN)
# Set while `settle` decides about pre-sale orders itself: the hold hook must not decide again.
_SETTLING = "omnistock.money.presale.settling"


def cause_of(reason: str | None) -> str:
    return (reason or "").split(":", 1)[0].strip()


def presale_channels(session: Session) -> frozenset[int]:
    return frozenset(session.scalars(select(ChannelTerms.channel_id).where(ChannelTerms.presale.is_(True))))


def sellable_on_order(session: Session, sku_ids: Iterable[int]) -> dict[int, int]:
    """Units on open POs not yet received, per stocked SKU, expected at a sellable location or at none (goods
    bound for a quarantine or a returns room will not be sold when they arrive)."""
    ids = sorted(set(sku_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(PurchaseOrderLine.sku_id, func.sum(PurchaseOrderLine.qty - PurchaseOrderLine.received))
        .join(PurchaseOrder, PurchaseOrder.id == PurchaseOrderLine.po_id)
        .outerjoin(Location, Location.id == PurchaseOrder.location_id)
        .where(PurchaseOrderLine.sku_id.in_(ids), PurchaseOrder.status.in_([s.value for s in OPEN]),
               PurchaseOrderLine.qty > PurchaseOrderLine.received,
               or_(PurchaseOrder.location_id.is_(None), Location.sellable.is_(True)))
        .group_by(PurchaseOrderLine.sku_id))
    return {sid: int(qty or 0) for sid, qty in rows}


def _waiting_lines(session: Session) -> dict[int, int]:
    """Units per line SKU (a bundle as itself) of the orders held waiting for pre-sale goods."""
    rows = session.execute(
        select(OrderLine.sku_id, func.sum(OrderLine.qty)).join(Order, Order.id == OrderLine.order_id)
        .where(Order.status == "held", Order.hold_reason.like(f"{PRESALE}:%")).group_by(OrderLine.sku_id))
    return {sid: int(qty or 0) for sid, qty in rows}


def _components(session: Session, sku_ids: Iterable[int]) -> dict[int, dict[int, int]]:
    ids = sorted(set(sku_ids))
    out: dict[int, dict[int, int]] = defaultdict(dict)
    if ids:
        for bid, cid, qty in session.execute(select(BundleComponent.bundle_id, BundleComponent.component_id,
                                                    BundleComponent.qty).where(BundleComponent.bundle_id.in_(ids))):
            out[bid][cid] = qty
    return out


def _expanded(lines: Mapping[int, int], comps: Mapping[int, Mapping[int, int]]) -> dict[int, int]:
    units: dict[int, int] = defaultdict(int)
    for sid, qty in lines.items():
        for stocked, n in expand_line(sid, qty, comps.get(sid, {})).items():
            units[stocked] += n
    return units


def claims(session: Session) -> dict[int, int]:
    """Units per stocked SKU that pre-sale orders waiting for goods have claimed."""
    waiting = _waiting_lines(session)
    return _expanded(waiting, _components(session, waiting)) if waiting else {}


def incoming(session: Session, sku_ids: set[int]) -> dict[int, targets.Incoming]:
    """The sync engine's provider (`targets.incoming_providers`): what pre-sale channels may still sell of
    these SKUs beyond their available stock. Nothing, in one query, while no channel sells pre-sale."""
    channels = presale_channels(session)
    if not channels:
        return {}
    waiting = _waiting_lines(session)
    comps = _components(session, sku_ids | set(waiting))
    claimed = _expanded(waiting, comps)
    stocked = {c for sid in sku_ids for c in (comps[sid] if sid in comps else {sid: 1})}
    ordered = sellable_on_order(session, stocked)
    pools = {sid: incoming_pool(ordered.get(sid, 0), claimed.get(sid, 0)) for sid in stocked}
    out = {}
    for sid in sku_ids:
        if sid in comps:
            parts = comps[sid]
            units = bundle_buildable({c: pools[c].units for c in parts}, parts)
            over = bundle_overdrawn({c: pools[c].overdrawn for c in parts}, parts)
        else:
            units, over = pools[sid].units, pools[sid].overdrawn
        if units or over or waiting.get(sid):
            out[sid] = targets.Incoming(units, channels, over, waiting.get(sid, 0))
    return out


def _need(order: Order) -> dict[int, int]:
    units: dict[int, int] = defaultdict(int)
    for line in order.lines:
        for sid, qty in expand_line(line.sku_id, line.qty, {c.component_id: c.qty for c in line.sku.components}
                                    ).items():
            units[sid] += qty
    return units


def _codes(order: Order) -> dict[int, str]:
    codes = {line.sku_id: line.sku.code for line in order.lines}
    for line in order.lines:
        codes.update({c.component_id: c.component.code for c in line.sku.components})
    return codes


def on_order_held(session: Session, order: Order) -> None:
    """`services.hooks.order_held`, first of all hooks: an order short of stock on a pre-sale channel whose
    need the stock on order covers waits for the goods instead of being an oversell."""
    if session.info.get(_SETTLING) or cause_of(order.hold_reason) != SHORT:
        return
    if order.channel_id not in presale_channels(session):
        return
    need = _need(order)
    ordered = sellable_on_order(session, need)
    claimed, available = claims(session), available_by_sku(session, need)
    if not need or not presale_covers(need, available, ordered, claimed):
        return
    codes = _codes(order)
    detail = "; ".join(f"{codes[sid]} wanted {qty}, available {available.get(sid, 0)}, on order "
                       f"{ordered.get(sid, 0)} ({claimed.get(sid, 0)} promised to earlier pre-sale orders)"
                       for sid, qty in sorted(need.items(), key=lambda kv: codes[kv[0]]))
    reason = f"{PRESALE}: {detail}; held until the goods arrive"
    order.hold_reason = reason
    # The hold's event was written moments ago in this same transaction: it carries the reason decided here,
    # so that nothing (the profit report's oversell count) ever reads this order as an oversell.
    event = session.scalar(select(OrderEvent).where(OrderEvent.order_id == order.id, OrderEvent.kind == "held")
                           .order_by(OrderEvent.id.desc()).limit(1))
    if event is not None:
        event.detail = {**(event.detail or {}), "reason": reason}
    dirty.mark_skus(session, need)  # what is left on order to pre-sell just shrank


def _release(session: Session, order_id: int, why: str) -> bool:
    try:
        with session.begin_nested():  # a failed release holds the order again: undone with the savepoint
            orders.release(session, order_id, DESK, reason=why)
        return True
    except Conflict:
        return False


def settle(session: Session, sku_ids: Iterable[int], why: str) -> int:
    """After goods arrived or what is on order changed for these SKUs: their pre-sale orders, oldest first,
    are released when they can be reserved in full, keep waiting while on order still covers them, and
    otherwise become what they now are, orders short of stock (alerted and followed up as oversells).
    Returns the orders released."""
    ids = set(sku_ids)
    bundles = select(BundleComponent.bundle_id).where(BundleComponent.component_id.in_(sorted(ids)))
    waiting = list(session.scalars(
        select(Order.id).join(OrderLine, OrderLine.order_id == Order.id)
        .where(Order.status == "held", Order.hold_reason.like(f"{PRESALE}:%"),
               or_(OrderLine.sku_id.in_(sorted(ids)), OrderLine.sku_id.in_(bundles)))
        .group_by(Order.id).order_by(Order.id)))
    if not waiting:
        return 0
    released, touched = 0, set(ids)
    claimed: dict[int, int] = defaultdict(int)
    session.info[_SETTLING] = True
    try:
        for order_id in waiting:
            order = orders.get_order(session, order_id, DESK, lock=True)
            if order.status != "held" or cause_of(order.hold_reason) != PRESALE:
                continue  # released or cancelled meanwhile
            need = _need(order)
            touched |= set(need)
            available = available_by_sku(session, need)
            if all(available.get(sid, 0) >= qty for sid, qty in need.items()) and _release(session, order_id, why):
                released += 1
                continue
            ordered = sellable_on_order(session, need)
            if presale_covers(need, available, ordered, claimed):
                for sid, qty in need.items():
                    claimed[sid] += qty
                continue
            codes = _codes(order)
            short = ", ".join(f"{codes[sid]} wanted {qty}, reservable {available.get(sid, 0)}"
                              for sid, qty in sorted(need.items(), key=lambda kv: codes[kv[0]]))
            orders.hold(session, order, f"{SHORT}: {short}; its pre-sale cover is gone ({why})", DESK.name)
    finally:
        session.info.pop(_SETTLING, None)
    dirty.mark_skus(session, touched)
    return released


def on_order_changed(session: Session, sku_ids: Iterable[int]) -> None:
    """What is on order of these SKUs changed (a PO placed, created as ordered, or cancelled): pre-sale
    channels must be pushed again."""
    if presale_channels(session):
        dirty.mark_skus(session, sku_ids)


def install() -> None:
    """Register the sync engine's provider and the hold hook (idempotent). The hook goes first: the alert and
    the proactive case of a held order read the hold reason it may change."""
    if incoming not in targets.incoming_providers:
        targets.incoming_providers.append(incoming)
    if on_order_held not in hooks.order_held:
        hooks.order_held.insert(0, on_order_held)
