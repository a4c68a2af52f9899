"""The scheduled full sync of the hybrid mode: every listing whose last pushed value differs from what it
should show is marked for a push (catches anything a lost event or a failed push left behind)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from omnistock.store.types import utcnow
from omnistock.sync import dirty
from omnistock.sync.tables import Listing
from omnistock.sync.targets import targets_for

PAGE = 1000


def mark_stale(session: Session, channel_id: int, now: datetime | None = None) -> int:
    """Mark the channel's listings that show (as far as we know) something other than their target."""
    now = now or utcnow()
    marked, after = 0, 0
    while True:
        page = list(session.scalars(select(Listing).where(Listing.channel_id == channel_id, Listing.id > after)
                                    .order_by(Listing.id).limit(PAGE)))
        if not page:
            return marked
        after = page[-1].id
        targets = targets_for(session, page, now)
        stale = [lst.id for lst in page if not lst.dirty and lst.last_pushed_value != targets[lst.id]]
        if stale:
            marked += dirty.mark_listings(session, Listing.id.in_(stale))
