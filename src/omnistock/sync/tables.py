"""Tables of the sync engine: listings and their push state, channel sync state, the webhook inbox,
every platform call, and platform items that map to no SKU."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from omnistock.store.tables import Base, Id
from omnistock.store.types import utcnow


class Listing(Base):
    """One platform item mapped to one of our SKUs. A pack of `pack_size` sells that many units."""

    __tablename__ = "listings"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"))
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"), index=True)
    external_id: Mapped[str] = mapped_column(String(128))
    external_sku: Mapped[str | None] = mapped_column(String(128))
    pack_size: Mapped[int] = mapped_column(Integer, default=1)
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)
    policy: Mapped[dict[str, Any] | None] = mapped_column()  # per-SKU override of the channel's policy
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # push state
    dirty: Mapped[bool] = mapped_column(Boolean, default=True)
    dirty_since: Mapped[datetime | None] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[datetime | None] = mapped_column()
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_until: Mapped[datetime | None] = mapped_column()  # a worker is pushing it until then
    pushing_value: Mapped[int | None] = mapped_column(Integer)
    last_pushed_value: Mapped[int | None] = mapped_column(Integer)
    last_pushed_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    failing_since: Mapped[datetime | None] = mapped_column()
    __table_args__ = (UniqueConstraint("channel_id", "external_id", name="uq_listings_channel_external"),
                      Index("ix_listings_channel_dirty", "channel_id", "dirty"))


class ChannelSync(Base):
    """Per-channel sync settings and state kept apart from the channel's connection settings."""

    __tablename__ = "channel_sync"
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"), primary_key=True)
    policy: Mapped[dict[str, Any]] = mapped_column(default=dict)  # allocation policy (default: shared)
    poll_cursor: Mapped[datetime | None] = mapped_column()
    last_poll_at: Mapped[datetime | None] = mapped_column()
    last_full_sync_at: Mapped[datetime | None] = mapped_column()
    full_sync_minutes: Mapped[float] = mapped_column(Float, default=15.0)
    poll_minutes: Mapped[float] = mapped_column(Float, default=5.0)
    # rollout: live pushes everything; shadow pushes nothing (records what it would push); pilot pushes only
    # the SKUs in pilot_skus (and shadows the rest)
    mode: Mapped[str] = mapped_column(String(8), default="live")
    pilot_skus: Mapped[list[Any] | None] = mapped_column()
    # when the mode was last set: the scheduled shadow comparison (sync.rollout) starts a period after it
    mode_since: Mapped[datetime | None] = mapped_column()
    # circuit breaker, shared by every worker process through the database
    breaker: Mapped[str] = mapped_column(String(16), default="closed")  # closed | open | half_open
    breaker_until: Mapped[datetime | None] = mapped_column()
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)


class InboxEvent(Base):
    """A raw platform delivery (webhook or poll), kept so any order can be traced to its exact delivery."""

    __tablename__ = "inbox"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"))
    event_key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    external_order_id: Mapped[str] = mapped_column(String(128))
    source: Mapped[str] = mapped_column(String(16))  # webhook | poll | feed
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="done")  # done | waiting | ignored | failed
    note: Mapped[str | None] = mapped_column(Text)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    payload: Mapped[dict[str, Any] | None] = mapped_column()
    __table_args__ = (UniqueConstraint("channel_id", "event_key", name="uq_inbox_channel_event"),
                      Index("ix_inbox_channel_order", "channel_id", "external_order_id"))


class PlatformCall(Base):
    """Evidence of every platform call: what was sent, what came back, how long it took."""

    __tablename__ = "platform_calls"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"))
    listing_id: Mapped[int | None] = mapped_column(Id)
    sku_id: Mapped[int | None] = mapped_column(Id)
    op: Mapped[str] = mapped_column(String(16))  # set_stock | fetch_stock | fetch_orders
    value: Mapped[int | None] = mapped_column(Integer)
    ok: Mapped[bool] = mapped_column(Boolean)
    error: Mapped[str | None] = mapped_column(Text)
    response: Mapped[str | None] = mapped_column(Text)  # what the platform answered (status, start of the body)
    latency_ms: Mapped[int] = mapped_column(Integer)
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    # from the first stock change this push carries to the platform's answer (pushes only)
    propagation_ms: Mapped[int | None] = mapped_column(Integer)
    call_id: Mapped[str | None] = mapped_column(String(32))  # rows of one batch call share it
    at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (Index("ix_platform_calls_channel_at", "channel_id", "at"),
                      Index("ix_platform_calls_sku_at", "sku_id", "at"))


class UnmappedItem(Base):
    """A platform item seen in an order or a stock read that maps to none of our SKUs."""

    __tablename__ = "unmapped_items"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"))
    external_id: Mapped[str] = mapped_column(String(128))
    external_sku: Mapped[str | None] = mapped_column(String(128))
    seen_in: Mapped[str] = mapped_column(String(16))  # order | stock
    times_seen: Mapped[int] = mapped_column(Integer, default=1)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (UniqueConstraint("channel_id", "external_id", name="uq_unmapped_channel_external"),)


class RolloutDifference(Base):
    """A difference between what omnistock would show and what the platform shows, seen while a channel is in
    shadow or pilot mode; an operator explains it before going live."""

    __tablename__ = "rollout_differences"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"), index=True)
    sku_id: Mapped[int | None] = mapped_column(ForeignKey("skus.id"))
    external_id: Mapped[str] = mapped_column(String(128))
    expected: Mapped[int | None] = mapped_column(Integer)
    platform: Mapped[int | None] = mapped_column(Integer)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    explanation: Mapped[str | None] = mapped_column(Text)
    explained_by: Mapped[str | None] = mapped_column(String(120))
