"""The periodic alert rules: low stock, sync failing (failing listings, backlog, breaker), order intake gone
silent, and the quiet end of webhook signature failures. Each rule raises its conditions and resolves those of
its earlier alerts that no longer hold. Set-based: a handful of grouped queries per rule, none per SKU."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from urllib.parse import urlencode

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from omnistock.services.availability import available_by_sku
from omnistock.store.db import Database
from omnistock.store.tables import BundleComponent, Channel, Order, OrderLine, Sku
from omnistock.store.types import utcnow
from omnistock.sync.tables import ChannelSync, Listing
from omnistock.watch import alerts, rulebook
from omnistock.watch.tables import Alert

BATCH = 5000
REORDER = "/api/v1/reorder/suggestions"  # omnistock.api.routes.money: ?sku=<code>
log = logging.getLogger("omnistock.watch")


def evaluate(db: Database, now: datetime | None = None) -> None:
    now = now or utcnow()
    for rule in (low_stock, sync_failing, intake_silent, signature_quiet):
        with db.transaction() as session:
            rule(session, now)


def low_stock(session: Session, now: datetime) -> None:
    rule = rulebook.rule(session, "low_stock")
    raised: set[str] = set()
    if rule.enabled:
        s = rule.settings
        days = max(1.0, float(s["sales_days"]))
        demand = _recent_demand(session, now - timedelta(days=days))
        listed = set(session.scalars(select(Listing.sku_id).distinct()))
        watched = sorted(listed | set(demand))
        per_sku = {str(k): int(v) for k, v in (s.get("per_sku") or {}).items()}
        for start in range(0, len(watched), BATCH):
            chunk = watched[start:start + BATCH]
            codes = dict(session.execute(select(Sku.id, Sku.code).where(Sku.id.in_(chunk), Sku.active.is_(True)))
                         .all())
            available = available_by_sku(session, codes)
            for sid, code in codes.items():
                have, rate = available.get(sid, 0), float(demand.get(sid) or 0) / days
                threshold = per_sku.get(code, int(s["threshold"]))
                cover = have / rate if rate > 0 else None
                short_cover = cover is not None and float(s["cover_days"]) > 0 and cover < float(s["cover_days"])
                if have > threshold and not short_cover:
                    continue
                key = f"low_stock:sku:{sid}"
                raised.add(key)
                why = f"{have} available (threshold {threshold})" if have <= threshold else \
                    f"{have} available, {cover:.1f} days of cover at {rate:.1f}/day"
                alerts.raise_alert(session, alerts.Condition(
                    kind="low_stock", key=key, severity=rule.severity, sku_id=sid, message=f"{code} is low: {why}",
                    detail={"available": have, "threshold": threshold, "daily_sales": round(rate, 2),
                            "cover_days": None if cover is None else round(cover, 1),
                            # what to buy, and how much: the purchasing side's suggestion for this SKU
                            "reorder": f"{REORDER}?{urlencode({'sku': code})}"}), now)
    alerts.resolve_others(session, "low_stock:", raised, now)


def _recent_demand(session: Session, since: datetime) -> dict[int, int]:
    """Units ordered per SKU since then (cancelled orders aside). A bundle's sales count for it and, times the
    units it holds, for each of its components: a component sold only inside bundles runs out all the same."""
    sold = {int(sid): int(q) for sid, q in session.execute(
        select(OrderLine.sku_id, func.sum(OrderLine.qty)).join(Order, Order.id == OrderLine.order_id)
        .where(Order.created_at >= since, Order.status != "cancelled").group_by(OrderLine.sku_id))}
    demand = dict(sold)
    bundles = sorted(sold)
    for start in range(0, len(bundles), BATCH):
        for bid, cid, qty in session.execute(
                select(BundleComponent.bundle_id, BundleComponent.component_id, BundleComponent.qty)
                .where(BundleComponent.bundle_id.in_(bundles[start:start + BATCH]))):
            demand[cid] = demand.get(cid, 0) + sold[bid] * int(qty)
    return demand


def sync_failing(session: Session, now: datetime) -> None:
    rule = rulebook.rule(session, "sync_failing")
    raised: set[str] = set()
    if rule.enabled:
        s = rule.settings
        # Only channels that are switched on: a disabled channel is pushed nothing, so its changes wait by design.
        codes = dict(session.execute(select(Channel.id, Channel.code).where(Channel.enabled.is_(True)))
                     .all())
        failing = session.execute(
            select(Listing.channel_id, func.count(), func.min(Listing.failing_since))
            .where(Listing.channel_id.in_(list(codes)),
                   Listing.failing_since <= now - timedelta(minutes=float(s["failing_minutes"])))
            .group_by(Listing.channel_id)).all()
        for cid, count, since in failing:
            assert since is not None  # the filter compares it
            _raise(session, raised, rule.severity, f"sync_failing:failing:{cid}", cid, now,
                   f"{codes[cid]}: {count} listing(s) failing to push since {since:%H:%M} UTC",
                   {"failing": int(count), "failing_since": since.isoformat()})
        backlog = session.execute(
            select(Listing.channel_id, func.count(), func.min(Listing.dirty_since))
            .where(Listing.channel_id.in_(list(codes)), Listing.dirty.is_(True),
                   Listing.dirty_since <= now - timedelta(seconds=float(s["backlog_seconds"])))
            .group_by(Listing.channel_id)).all()
        for cid, count, oldest in backlog:
            age = int((now - oldest).total_seconds()) if oldest else 0
            _raise(session, raised, rule.severity, f"sync_failing:backlog:{cid}", cid, now,
                   f"{codes[cid]}: {count} change(s) waiting, the oldest for {age} s",
                   {"backlog": int(count), "oldest_seconds": age})
        for cid in session.scalars(select(ChannelSync.channel_id).where(ChannelSync.channel_id.in_(list(codes)),
                                                                         ChannelSync.breaker == "open")):
            _raise(session, raised, rule.severity, f"sync_failing:breaker:{cid}", cid, now,
                   f"{codes[cid]}: circuit breaker open, the platform keeps failing", {"breaker": "open"})
    alerts.resolve_others(session, "sync_failing:", raised, now)


def _raise(session: Session, raised: set[str], severity: str, key: str, channel_id: int, now: datetime,
           message: str, detail: dict[str, object]) -> None:
    raised.add(key)
    alerts.raise_alert(session, alerts.Condition(kind=key.split(":", 1)[0], key=key, severity=severity,
                                                 channel_id=channel_id, message=message, detail=dict(detail)), now)


def intake_silent(session: Session, now: datetime) -> None:
    """The usual pace of a channel is judged over the `lookback_days` up to its last order, not up to now: a
    window ending now would empty itself as the silence goes on, and the alert would resolve while no order
    comes in at all."""
    rule = rulebook.rule(session, "intake_silent")
    raised: set[str] = set()
    if rule.enabled:
        s = rule.settings
        window = timedelta(days=float(s["lookback_days"]))
        floor = timedelta(minutes=float(s["min_minutes"]))
        codes = dict(session.execute(select(Channel.id, Channel.code).where(Channel.enabled.is_(True)))
                     .all())
        lasts = session.execute(select(Order.channel_id, func.max(Order.created_at))
                                .where(Order.channel_id.in_(list(codes))).group_by(Order.channel_id)).all()
        for cid, last in lasts:
            if now - last <= floor:
                continue  # silent for less than the shortest gap that ever alerts: no need to count
            count, first = session.execute(select(func.count(), func.min(Order.created_at)).where(
                Order.channel_id == cid, Order.created_at >= last - window)).one()
            if int(count) < int(s["min_orders"]):
                continue
            usual_gap = (last - first) / max(1, int(count) - 1)
            if now - last <= max(floor, usual_gap * float(s["factor"])):
                continue
            _raise(session, raised, rule.severity, f"intake_silent:{cid}", cid, now,
                   f"{codes[cid]}: no order for {int((now - last).total_seconds() // 60)} min; it usually takes "
                   f"one every {max(1, int(usual_gap.total_seconds() // 60))} min",
                   {"last_order_at": last.isoformat(), "usual_gap_minutes": round(usual_gap.total_seconds() / 60, 1)})
    alerts.resolve_others(session, "intake_silent:", raised, now)


def signature_quiet(session: Session, now: datetime) -> None:
    """Signature failures are raised as they happen (see `signature_rejected`); they resolve after a quiet spell."""
    quiet = timedelta(minutes=float(rulebook.rule(session, "webhook_signature").settings["quiet_minutes"]))
    keys = session.scalars(select(Alert.condition).where(Alert.kind == "webhook_signature",
                                                         Alert.active_key.is_not(None),
                                                         Alert.last_seen_at <= now - quiet)).all()
    alerts.resolve(session, keys, now)


def signature_rejected(db: Database, channel_code: str, client: str) -> None:
    """The webhook route's hook: each delivery with a bad signature counts into the channel's alert."""
    try:
        with db.transaction() as session:
            cid = session.scalar(select(Channel.id).where(Channel.code == channel_code))
            alerts.raise_alert(session, alerts.Condition(
                kind="webhook_signature", key=f"webhook_signature:{cid}", severity="warning", channel_id=cid,
                message=f"{channel_code}: webhook deliveries with a bad signature (last from {client})",
                detail={"last_client": client}))
    except Exception:  # the platform still gets its 401; the failure to count is logged, not hidden
        log.exception("could not record a webhook signature failure on %s", channel_code)
