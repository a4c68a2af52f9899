"""A platform sold more than omnistock let it show (the sync engine's exposure books see it: the copy on the
platform was changed by hand): a `drift` alert for the SKU on that channel at once, without waiting for the
next reconciliation, which resolves it when it finds the platform right again."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from omnistock.store.tables import Channel, Sku
from omnistock.sync.tables import Listing
from omnistock.watch import alerts


def on_overrun(session: Session, sku_id: int, listing_id: int, units: int) -> None:
    """`sync.exposure_events.overrun_seen` hook, inside the transaction that took the sale in."""
    row = session.execute(select(Listing.external_id, Listing.channel_id, Channel.code, Sku.code)
                          .join(Channel, Channel.id == Listing.channel_id).join(Sku, Sku.id == Listing.sku_id)
                          .where(Listing.id == listing_id)).first()
    if row is None:
        return
    external_id, channel_id, channel, sku = row
    alerts.raise_alert(session, alerts.Condition(
        kind="drift", key=f"drift:{channel_id}:sku:{sku_id}", severity="warning", sku_id=sku_id,
        channel_id=channel_id,
        message=f"{channel}: {sku} ({external_id}) sold {units} unit(s) beyond what omnistock let it show: "
                "its stock was changed on the platform",
        detail={"listings": [{"external_id": external_id, "kind": "overrun", "units": units}], "count": 1}))
