"""Tables of the watch: reconciliation runs, the differences they found and the reads nothing else tells,
alerts and their rules, notifiers and the queue of notifications, the per-channel watch settings, scheduled jobs
and weekly reports."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from omnistock.store.tables import Base, Id
from omnistock.store.types import utcnow


class WatchChannel(Base):
    """How a channel is reconciled, when it last was, and the lock that keeps two runs of it apart."""

    __tablename__ = "watch_channels"
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"), primary_key=True)
    reconcile_mode: Mapped[str] = mapped_column(String(8), default="alert")  # heal | alert | hold
    reconcile_minutes: Mapped[float] = mapped_column(Float, default=60.0)
    last_reconcile_at: Mapped[datetime | None] = mapped_column()
    running_id: Mapped[int | None] = mapped_column(Id)  # the run holding the lock
    running_until: Mapped[datetime | None] = mapped_column()  # lease: a crashed run frees the lock then


class Reconciliation(Base):
    __tablename__ = "reconciliations"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="running")  # running | done | failed
    mode: Mapped[str] = mapped_column(String(8))  # heal | alert | hold, as applied in this run
    trigger: Mapped[str] = mapped_column(String(16))  # schedule | api | cli
    requested_by: Mapped[str] = mapped_column(String(120))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()
    checked: Mapped[int] = mapped_column(Integer, default=0)
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    # When the platform read began. A listing with no push pending then, found showing exactly its last pushed
    # value, has no row of its own: the run read the value of its last push before this moment.
    read_started_at: Mapped[datetime | None] = mapped_column()


class Difference(Base):
    """One listing (or platform item) whose platform quantity is not what it should be.

    `status`: open (found by the latest run), healing (pushed again, waiting for the push), healed (the push went
    through), gone (a later run no longer found it), superseded (a later run found it again: see its row)."""

    __tablename__ = "reconcile_differences"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("reconciliations.id"), index=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"))
    listing_id: Mapped[int | None] = mapped_column(Id)
    sku_id: Mapped[int | None] = mapped_column(Id)
    external_id: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))  # drift | missing | unmapped | stale
    expected: Mapped[int | None] = mapped_column(Integer)
    platform: Mapped[int | None] = mapped_column(Integer)
    last_pushed: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(8))  # heal | alert | hold | none
    status: Mapped[str] = mapped_column(String(16), default="open")
    first_found_at: Mapped[datetime] = mapped_column(default=utcnow)
    found_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column()
    __table_args__ = (Index("ix_reconcile_differences_channel_status", "channel_id", "status"),
                      Index("ix_reconcile_differences_sku_found", "sku_id", "found_at"))


class AgreedRead(Base):
    """What the platform showed for a listing that a run found showing what it should show now, though not the
    value last pushed to it (a push pending, or none yet, or another value pushed): the one agreeing read that
    the run's other records cannot tell. Differences keep their own read (`Difference.platform`)."""

    __tablename__ = "reconcile_reads"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("reconciliations.id"), index=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"))
    listing_id: Mapped[int] = mapped_column(Id)
    sku_id: Mapped[int] = mapped_column(Id)
    platform: Mapped[int] = mapped_column(Integer)
    found_at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (Index("ix_reconcile_reads_sku_found", "sku_id", "found_at"),
                      Index("ix_reconcile_reads_channel_found", "channel_id", "found_at"))


class Alert(Base):
    """One condition worth a person's attention. While it is open or acknowledged, `active_key` holds its
    condition, so that a unique index keeps one active alert per condition (repeats update it)."""

    __tablename__ = "alerts"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))  # critical | warning | info
    condition: Mapped[str] = mapped_column(String(200), index=True)
    active_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    sku_id: Mapped[int | None] = mapped_column(Id, index=True)
    channel_id: Mapped[int | None] = mapped_column(Id)
    location_id: Mapped[int | None] = mapped_column(Id)
    order_id: Mapped[int | None] = mapped_column(Id)
    message: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)  # open | acknowledged | resolved
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    notified_at: Mapped[datetime | None] = mapped_column()
    acknowledged_at: Mapped[datetime | None] = mapped_column()
    acknowledged_by: Mapped[str | None] = mapped_column(String(120))
    resolved_at: Mapped[datetime | None] = mapped_column()


class AlertRule(Base):
    """A merchant's settings for one built-in rule (rules without a row use their defaults)."""

    __tablename__ = "alert_rules"
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Notifier(Base):
    __tablename__ = "notifiers"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # webhook | dingtalk | wecom | feishu | slack | email
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)  # secrets sealed in place
    routes: Mapped[dict[str, Any] | None] = mapped_column()  # {kinds, channels, locations}; None: everything
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Notification(Base):
    """One alert (or report) to deliver to one notifier; sent by the background sender with retries."""

    __tablename__ = "notifications"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    notifier_id: Mapped[int] = mapped_column(ForeignKey("notifiers.id"), index=True)
    alert_id: Mapped[int | None] = mapped_column(Id, index=True)
    subject: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()
    batch: Mapped[str | None] = mapped_column(String(32))  # notifications grouped into one message share it
    last_error: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (Index("ix_notifications_status_next", "status", "next_attempt_at"),)


class WatchJob(Base):
    """When a periodic job last ran: claimed by a conditional update, so it runs once per period in all."""

    __tablename__ = "watch_jobs"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_run_at: Mapped[datetime | None] = mapped_column()


class WeeklyReport(Base):
    __tablename__ = "weekly_reports"
    week: Mapped[str] = mapped_column(String(8), primary_key=True)  # ISO week, 2026-W47
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    figures: Mapped[dict[str, Any]] = mapped_column(default=dict)
