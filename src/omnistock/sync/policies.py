"""Setting a channel's allocation policy, or one SKU's override on a channel: stored, audited, and the
affected listings marked for a push in the same transaction. The API and the console both call this."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from omnistock.domain.access import Principal
from omnistock.domain.allocation import Policy, policy_to_dict
from omnistock.services import audit
from omnistock.services.lookup import channel_by_code, sku_by_code
from omnistock.sync import dirty
from omnistock.sync.pusher import channel_state
from omnistock.sync.tables import Listing


def set_policy(session: Session, code: str, policy: Policy, principal: Principal, *, sku_code: str | None = None,
               reason: str | None = None) -> dict[str, Any]:
    channel = channel_by_code(session, code, principal=principal)
    value = policy_to_dict(policy)
    sku_id = None
    if sku_code:
        sku = sku_by_code(session, sku_code)
        sku_id = sku.id
        listings = list(session.scalars(select(Listing).where(Listing.channel_id == channel.id,
                                                              Listing.sku_id == sku.id)))
        before = listings[0].policy if listings else None
        for lst in listings:
            lst.policy = value
        session.flush()
        dirty.mark_listings(session, (Listing.channel_id == channel.id) & (Listing.sku_id == sku.id))
    else:
        state = channel_state(session, channel.id)
        before, state.policy = state.policy, value
        session.flush()
        dirty.mark_listings(session, Listing.channel_id == channel.id)
    audit.record(session, actor=principal.name, action="channel.policy", entity=f"channel:{code}",
                 sku_id=sku_id, before={"policy": before}, after={"policy": value}, reason=reason)
    return {"channel": code, "sku": sku_code, "policy": value}
