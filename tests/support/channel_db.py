"""What is really in the database, read around the API: sealed secrets, inbox rows, orders, listings."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from omnistock.config import Settings
from omnistock.store.db import Database
from omnistock.store.tables import Channel, Level, Location, Move, Order, Sku
from omnistock.sync.tables import ChannelSync, InboxEvent, Listing


class Stored:
    """What is really in the database, read around the API."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db, self.settings = db, settings

    def channel(self, code: str) -> Channel:
        with self.db.reading() as session:
            channel = session.scalar(select(Channel).where(Channel.code == code))
            assert channel is not None, code
            return channel

    def has_channel(self, code: str) -> bool:
        with self.db.reading() as session:
            return session.scalar(select(Channel.id).where(Channel.code == code)) is not None

    def inbox(self, code: str) -> list[InboxEvent]:
        with self.db.reading() as session:
            return list(session.scalars(select(InboxEvent).join(Channel, Channel.id == InboxEvent.channel_id)
                                        .where(Channel.code == code).order_by(InboxEvent.id)))

    def orders(self, code: str) -> list[Order]:
        with self.db.reading() as session:
            return list(session.scalars(select(Order).join(Channel, Channel.id == Order.channel_id)
                                        .where(Channel.code == code).order_by(Order.id)))

    def listings(self, code: str) -> list[Listing]:
        with self.db.reading() as session:
            return list(session.scalars(select(Listing).join(Channel, Channel.id == Listing.channel_id)
                                        .where(Channel.code == code).order_by(Listing.external_id)))

    def sync_state(self, code: str) -> ChannelSync | None:
        with self.db.reading() as session:
            return session.scalar(select(ChannelSync).join(Channel, Channel.id == ChannelSync.channel_id)
                                  .where(Channel.code == code))

    def on_hand(self, sku: str, location: str) -> int:
        with self.db.reading() as session:
            value = session.scalar(select(Level.on_hand).join(Sku, Sku.id == Level.sku_id)
                                   .join(Location, Location.id == Level.location_id)
                                   .where(Sku.code == sku, Location.code == location))
            return int(value or 0)

    def moves(self) -> int:
        with self.db.reading() as session:
            return int(session.scalar(select(func.count()).select_from(Move)) or 0)

    def set_listings_clean(self, code: str) -> None:
        """As if every listing had just been pushed."""
        with self.db.transaction() as session:
            channel_id = session.scalar(select(Channel.id).where(Channel.code == code))
            for listing in session.scalars(select(Listing).where(Listing.channel_id == channel_id)):
                listing.dirty, listing.dirty_since = False, None

    def raw(self, code: str) -> dict[str, Any]:
        return dict(self.channel(code).settings)
