"""What the SKU page shows besides the figures: each platform listing with what it shows now and what it
should show, and the latest stock moves within the caller's scope."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from omnistock.domain.access import Principal
from omnistock.store.tables import Channel, Location, Move, Sku
from omnistock.sync.tables import Listing
from omnistock.sync.targets import targets_for


@dataclass(frozen=True)
class ListingLine:
    listing: Listing
    channel: Channel
    should_show: int

    @property
    def differs(self) -> bool:
        return self.listing.last_pushed_value != self.should_show


def listings_of(session: Session, sku: Sku, principal: Principal) -> list[ListingLine]:
    rows = session.execute(select(Listing, Channel).join(Channel, Channel.id == Listing.channel_id)
                           .where(Listing.sku_id == sku.id).order_by(Channel.code, Listing.external_id)).all()
    seen = [(listing, channel) for listing, channel in rows if principal.sees_channel(channel.code)]
    targets = targets_for(session, [listing for listing, _ in seen])
    return [ListingLine(listing, channel, targets.get(listing.id, 0)) for listing, channel in seen]


@dataclass(frozen=True)
class MoveLine:
    move: Move
    location: str


def recent_moves(session: Session, sku: Sku, principal: Principal, *, limit: int = 20) -> list[MoveLine]:
    stmt = (select(Move, Location.code).join(Location, Location.id == Move.location_id)
            .where(Move.sku_id == sku.id).order_by(Move.id.desc()).limit(limit))
    if principal.locations is not None:
        stmt = stmt.where(Location.code.in_(sorted(principal.locations)))
    return [MoveLine(move, code) for move, code in session.execute(stmt)]
