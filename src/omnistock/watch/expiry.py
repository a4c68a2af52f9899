"""The expiry watch, run by the scheduler with the alert rules: takes expired batches out of sale
(`omnistock.services.quarantine`) and keeps one `batch_expired` alert per expired batch that still holds units
anywhere — open until they are written off (an adjustment of the batch at its -EXPIRED location) or sent back."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from omnistock.errors import OmnistockError
from omnistock.services import batches, quarantine
from omnistock.store.db import Database
from omnistock.store.tables import Batch, BatchLevel, Location, Sku
from omnistock.store.types import utcnow
from omnistock.watch import alerts, rulebook

KIND = "batch_expired"
log = logging.getLogger("omnistock.watch")


def run(db: Database, now: datetime | None = None) -> list[quarantine.Quarantined]:
    """Quarantine what expired (one transaction per SKU), then raise and resolve the alerts."""
    now = now or utcnow()
    with db.reading() as session:
        cutoff = batches.sell_from(session, now)
        due = quarantine.due(session, cutoff)
    done: list[quarantine.Quarantined] = []
    for sku_id in due:
        try:
            with db.transaction() as session:
                done += quarantine.quarantine_sku(session, sku_id, cutoff)
        except OmnistockError as exc:
            # The alert below still names the units left at the sellable location; the next run tries again.
            log.warning("expired batches of SKU %s stay in place: %s", sku_id, exc.message)
    with db.transaction() as session:
        alert_expired(session, cutoff, now)
    return done


def alert_expired(session: Session, cutoff: date, now: datetime) -> None:
    rule = rulebook.rule(session, KIND)
    raised: set[str] = set()
    held: dict[int, dict[str, int]] = defaultdict(dict)
    sellable_units: dict[int, int] = defaultdict(int)
    lots: dict[int, tuple[int, str, str, date]] = {}
    for batch_id, sku_id, sku_code, code, expiry, loc, sellable, on_hand in session.execute(
            select(Batch.id, Batch.sku_id, Sku.code, Batch.code, Batch.expiry, Location.code, Location.sellable,
                   BatchLevel.on_hand)
            .join(BatchLevel, BatchLevel.batch_id == Batch.id).join(Sku, Sku.id == Batch.sku_id)
            .join(Location, Location.id == BatchLevel.location_id)
            .where(Batch.expiry < cutoff, BatchLevel.on_hand > 0)):
        assert expiry is not None  # the query keeps only batches that expire
        lots[batch_id] = (sku_id, sku_code, code, expiry)
        held[batch_id][loc] = int(on_hand)
        if sellable:
            sellable_units[batch_id] += int(on_hand)
    if rule.enabled:
        for batch_id, (sku_id, sku_code, code, expiry) in sorted(lots.items()):
            units = sum(held[batch_id].values())
            where = ", ".join(f"{n} at {loc}" for loc, n in sorted(held[batch_id].items()))
            still = (f"; {sellable_units[batch_id]} still at a sellable location" if sellable_units[batch_id]
                     else ", out of sale")
            key = f"{KIND}:{batch_id}"
            raised.add(key)
            alerts.raise_alert(session, alerts.Condition(
                kind=KIND, key=key, severity=rule.severity, sku_id=sku_id,
                message=f"{sku_code} batch {code} expired on {expiry}: {units} unit(s) ({where}){still}",
                detail={"sku": sku_code, "batch": code, "expiry": expiry.isoformat(), "units": units,
                        "locations": dict(sorted(held[batch_id].items())),
                        "sellable_units": sellable_units[batch_id]}), now)
    alerts.resolve_others(session, f"{KIND}:", raised, now)
