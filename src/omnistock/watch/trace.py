"""A SKU's trace, "where did it go wrong?": one timeline of everything that touched it — moves, reservations,
orders and their events, holds, every push (value sent, answer, latency), platform reads and the differences
they found, alerts — and what each platform displayed at any moment."""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select, union
from sqlalchemy.orm import Session

from omnistock.api.views import when
from omnistock.domain.access import Principal
from omnistock.errors import Invalid
from omnistock.services import batches
from omnistock.services.lookup import sku_by_code
from omnistock.store.tables import (
    Batch,
    Channel,
    Location,
    Move,
    MoveBatch,
    Order,
    OrderEvent,
    OrderLine,
    Reservation,
    ReservationBatch,
    Sku,
)
from omnistock.store.types import utcnow
from omnistock.sync.tables import Listing, PlatformCall
from omnistock.watch.tables import AgreedRead, Alert, Difference, Reconciliation

DEFAULT_DAYS = 7
MAX_EVENTS = 10_000
ORDER_KINDS = {"held": "hold", "released": "hold", "cancelled": "release"}


@dataclass(frozen=True)
class Event:
    at: datetime
    kind: str
    fields: dict[str, Any]


def window(since: datetime | None, until: datetime | None) -> tuple[datetime, datetime]:
    until = until or utcnow()
    since = since or until - timedelta(days=DEFAULT_DAYS)
    if since > until:
        raise Invalid("since must be before until", field="since")
    return since, until


def _between(col: Any, since: datetime, until: datetime) -> Any:
    return (col >= since) & (col <= until)


def _moves(session: Session, sku: Sku, since: datetime, until: datetime) -> list[Event]:
    rows = session.execute(select(Move, Location.code).join(Location, Location.id == Move.location_id)
                           .where(Move.sku_id == sku.id, _between(Move.at, since, until)))
    parts = _batch_parts(session, select(MoveBatch.move_id, Batch.code, Batch.expiry, MoveBatch.qty)
                         .join(Batch, Batch.id == MoveBatch.batch_id).join(Move, Move.id == MoveBatch.move_id)
                         .where(Move.sku_id == sku.id, _between(Move.at, since, until)))
    return [Event(m.at, "move", {"move": m.kind, "qty": m.qty, "location": loc, "reference": m.reference,
                                 "reason": m.reason, "actor": m.actor, **_with_batches(parts, m.id)})
            for m, loc in rows]


def _batch_parts(session: Session, stmt: Any) -> dict[int, list[dict[str, Any]]]:
    """The batch parts of moves or reservations: (owner id, batch, expiry, qty) rows -> owner id -> parts."""
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for owner, code, expiry, qty in session.execute(stmt):
        out[owner].append({"batch": code, "expiry": expiry.isoformat() if expiry else None, "qty": qty})
    for found in out.values():
        found.sort(key=lambda p: (p["expiry"] is None, p["expiry"] or "", p["batch"]))
    return out


def _with_batches(parts: dict[int, list[dict[str, Any]]], owner: int) -> dict[str, Any]:
    return {"batches": parts[owner]} if owner in parts else {}


def _order_ids(sku: Sku) -> Any:
    return union(select(OrderLine.order_id).where(OrderLine.sku_id == sku.id),
                 select(Reservation.order_id).where(Reservation.sku_id == sku.id)).subquery()


def _orders(session: Session, sku: Sku, since: datetime, until: datetime) -> list[Event]:
    ids = _order_ids(sku)
    parts = _batch_parts(session, select(ReservationBatch.reservation_id, Batch.code, Batch.expiry,
                                         ReservationBatch.qty)
                         .join(Batch, Batch.id == ReservationBatch.batch_id)
                         .join(Reservation, Reservation.id == ReservationBatch.reservation_id)
                         .where(Reservation.sku_id == sku.id, _between(Reservation.created_at, since, until)))
    out = [Event(r.created_at, "reservation", {"order_id": r.order_id, "external_id": ext, "channel": ch,
                                               "location": loc, "qty": r.qty, "status": r.status,
                                               **_with_batches(parts, r.id)})
           for r, loc, ext, ch in session.execute(
               select(Reservation, Location.code, Order.external_id, Channel.code)
               .join(Location, Location.id == Reservation.location_id).join(Order, Order.id == Reservation.order_id)
               .join(Channel, Channel.id == Order.channel_id)
               .where(Reservation.sku_id == sku.id, _between(Reservation.created_at, since, until)))]
    for e, ext, ch in session.execute(
            select(OrderEvent, Order.external_id, Channel.code).join(Order, Order.id == OrderEvent.order_id)
            .join(Channel, Channel.id == Order.channel_id)
            .where(OrderEvent.order_id.in_(select(ids.c.order_id)), _between(OrderEvent.at, since, until))):
        out.append(Event(e.at, ORDER_KINDS.get(e.kind, "order"), {
            "event": e.kind, "order_id": e.order_id, "external_id": ext, "channel": ch, "actor": e.actor,
            "detail": e.detail}))
    return out


def _pushes(session: Session, sku: Sku, since: datetime, until: datetime) -> list[Event]:
    rows = session.execute(
        select(PlatformCall, Channel.code, Listing.external_id).join(Channel, Channel.id == PlatformCall.channel_id)
        .outerjoin(Listing, Listing.id == PlatformCall.listing_id)
        .where(PlatformCall.sku_id == sku.id, PlatformCall.op.in_(("set_stock", "shadow")),
               _between(PlatformCall.at, since, until)))
    return [Event(c.at, "push", {"channel": ch, "listing": ext, "listing_id": c.listing_id, "value": c.value,
                                 "ok": c.ok, "error": c.error, "response": c.response,
                                 "latency_ms": c.latency_ms, "attempt": c.attempt,
                                 "shadow": c.op == "shadow"}) for c, ch, ext in rows]


def _reads(session: Session, sku: Sku, since: datetime, until: datetime, pushes: list[Event]) -> list[Event]:
    """What each finished run over a channel the SKU is listed on read for each of its listings (a run reads
    every listing of its channel). A difference keeps its read; so does a listing found showing what it should
    although not its last push (`AgreedRead`); any other listing was found showing exactly the value last
    pushed, with no push pending: the value of its last push before the read began."""
    listings = session.execute(select(Listing.id, Listing.channel_id, Listing.external_id, Listing.created_at,
                                      Channel.code).join(Channel, Channel.id == Listing.channel_id)
                               .where(Listing.sku_id == sku.id)).all()
    if not listings:
        return []
    runs = session.execute(select(Reconciliation).where(
        Reconciliation.channel_id.in_({lst.channel_id for lst in listings}), Reconciliation.status == "done",
        _between(Reconciliation.started_at, since, until))).scalars().all()
    diffs = {(d.run_id, d.listing_id): d for d in session.scalars(select(Difference).where(
        Difference.sku_id == sku.id, _between(Difference.found_at, since, until)))}
    agreed = {(a.run_id, a.listing_id): a for a in session.scalars(select(AgreedRead).where(
        AgreedRead.sku_id == sku.id, _between(AgreedRead.found_at, since, until)))}
    pushed: dict[int, list[tuple[datetime, int | None]]] = defaultdict(list)
    for p in sorted(pushes, key=lambda e: e.at):
        if p.fields["ok"] and not p.fields["shadow"]:
            pushed[p.fields["listing_id"]].append((p.at, p.fields["value"]))
    out: list[Event] = []
    for run in runs:
        read_at = run.finished_at or run.started_at
        for lst in (x for x in listings if x.channel_id == run.channel_id and x.created_at <= run.started_at):
            d = diffs.get((run.id, lst.id))
            base = {"channel": lst.code, "listing": lst.external_id, "run": run.id}
            if d is not None:
                out.append(Event(d.found_at, "read", {**base, "value": d.platform, "agrees": False}))
                out.append(Event(d.found_at, "difference", {**base, "difference": d.kind, "expected": d.expected,
                                                             "platform": d.platform, "last_pushed": d.last_pushed,
                                                             "action": d.action, "status": d.status}))
                continue
            a = agreed.get((run.id, lst.id))
            if a is not None:
                out.append(Event(a.found_at, "read", {**base, "value": a.platform, "agrees": True,
                                                      "agrees_with": "expected"}))
                continue
            # Runs from before reads were recorded have no read start: their runs began just before it.
            began = run.read_started_at or run.started_at
            history = pushed.get(lst.id, [])
            i = bisect_left([at for at, _ in history], began)  # pushed before it
            value = history[i - 1][1] if i else _last_push_value(session, lst.id, began)
            if value is None:
                # Older than the kept platform calls (and the agreeing reads kept as long): the run found no
                # difference, but what it read can no longer be told.
                out.append(Event(read_at, "read", {**base, "value": None, "agrees": True, "agrees_with": None}))
                continue
            out.append(Event(read_at, "read", {**base, "value": value, "agrees": True,
                                               "agrees_with": "last_push"}))
    return out


def _last_push_value(session: Session, listing_id: int, at: datetime) -> int | None:
    return session.scalar(select(PlatformCall.value).where(
        PlatformCall.listing_id == listing_id, PlatformCall.op == "set_stock", PlatformCall.ok.is_(True),
        PlatformCall.at < at).order_by(PlatformCall.at.desc(), PlatformCall.id.desc()).limit(1))


def _alerts(session: Session, sku: Sku, since: datetime, until: datetime) -> list[Event]:
    ids = _order_ids(sku)
    rows = session.execute(select(Alert, Channel.code).outerjoin(Channel, Channel.id == Alert.channel_id).where(
        or_(Alert.sku_id == sku.id, Alert.order_id.in_(select(ids.c.order_id))),
        _between(Alert.created_at, since, until)))
    return [Event(a.created_at, "alert", {"alert_id": a.id, "alert": a.kind, "severity": a.severity,
                                          "channel": ch, "message": a.message, "status": a.status})
            for a, ch in rows]


def timeline(session: Session, code: str, principal: Principal, zone: ZoneInfo, *, since: datetime | None = None,
             until: datetime | None = None) -> dict[str, Any]:
    sku = sku_by_code(session, code, field="code")
    since, until = window(since, until)
    pushes = _pushes(session, sku, since, until)
    events = [*_moves(session, sku, since, until), *_orders(session, sku, since, until), *pushes,
              *_reads(session, sku, since, until, pushes), *_alerts(session, sku, since, until)]
    visible = [e for e in events if _visible(e, principal)]
    visible.sort(key=lambda e: (e.at, e.kind))
    truncated = len(visible) > MAX_EVENTS
    shown = visible[-MAX_EVENTS:]
    out = {"sku": sku.code, "since": when(since, zone), "until": when(until, zone), "truncated": truncated,
           "events": [{"at": when(e.at, zone), "kind": e.kind, **_clean(e.fields)} for e in shown]}
    held = batches.figures(session, sku, locations=principal.sees_location)
    if held:  # what each batch holds now, earliest expiry first: where the timeline's batch parts ended up
        out["batches"] = [{"batch": f.batch, "expiry": f.expiry.isoformat() if f.expiry else None,
                           "location": f.location, "on_hand": f.on_hand, "reserved": f.reserved,
                           "expired": f.expired} for f in held]
    return out


def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if k not in ("listing_id",) and not (k == "shadow" and not v)}


def _visible(event: Event, principal: Principal) -> bool:
    channel, location = event.fields.get("channel"), event.fields.get("location")
    if channel is not None and not principal.sees_channel(channel):
        return False
    return location is None or principal.sees_location(location)


def displayed_at(session: Session, code: str, principal: Principal, at: datetime,
                 zone: ZoneInfo) -> list[dict[str, Any]]:
    """What each platform showed for the SKU at `at`: the last successful push at or before it, or the last
    recorded read of it by a reconciliation (a difference, or an agreeing read) when that came later."""
    sku = sku_by_code(session, code, field="code")
    out = []
    for lst, channel in session.execute(select(Listing, Channel.code).join(Channel, Channel.id == Listing.channel_id)
                                        .where(Listing.sku_id == sku.id).order_by(Channel.code, Listing.external_id)):
        if not principal.sees_channel(channel):
            continue
        push = session.execute(select(PlatformCall.at, PlatformCall.value).where(
            PlatformCall.listing_id == lst.id, PlatformCall.op == "set_stock", PlatformCall.ok.is_(True),
            PlatformCall.at <= at).order_by(PlatformCall.at.desc(), PlatformCall.id.desc()).limit(1)).first()
        reads = [r for r in (
            session.execute(select(Difference.found_at, Difference.platform).where(
                Difference.listing_id == lst.id, Difference.found_at <= at)
                .order_by(Difference.found_at.desc(), Difference.id.desc()).limit(1)).first(),
            session.execute(select(AgreedRead.found_at, AgreedRead.platform).where(
                AgreedRead.listing_id == lst.id, AgreedRead.found_at <= at)
                .order_by(AgreedRead.found_at.desc(), AgreedRead.id.desc()).limit(1)).first()) if r is not None]
        read = max(reads, key=lambda r: r[0]) if reads else None
        source, seen = ("read", read) if read and (push is None or read[0] > push[0]) else ("push", push)
        out.append({"channel": channel, "listing": lst.external_id, "shown": seen[1] if seen else None,
                    "source": source if seen else None, "since": when(seen[0], zone) if seen else None})
    return out
