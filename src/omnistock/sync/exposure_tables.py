"""Tables of partition mode: one exposure book per partitioned SKU, and the order polls its pushes wait for."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from omnistock.store.tables import Base, Id
from omnistock.store.types import utcnow


class ExposureBookRow(Base):
    """The exposure book of one SKU while it is partitioned (`omnistock.domain.exposure`), locked FOR UPDATE
    by every transaction that reports an event to it. Keys of the book are listing ids (`exposure_store.key_of`)."""

    __tablename__ = "exposure_books"
    sku_id: Mapped[int] = mapped_column(Id, ForeignKey("skus.id"), primary_key=True)
    # A fresh token each time the book is opened: a push id from an earlier book of the same SKU never
    # matches a push of this one.
    incarnation: Mapped[str] = mapped_column(String(32))
    book: Mapped[dict[str, Any]] = mapped_column()  # ExposureBook.snapshot()
    # Pushes that may still land: push id -> {"listing": id, "dead_at": epoch seconds, "adopted": bool}.
    pending: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # {"alerted": units sold beyond the bound already alerted, "restocked": units of cancelled orders put back},
    # each per book key: a sale of a cancelled order's units told before the cancellation is no overrun.
    alerted: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ExposurePoll(Base):
    """A channel whose confirmed absolute pushes wait for an order poll before their listings move again."""

    __tablename__ = "exposure_polls"
    channel_id: Mapped[int] = mapped_column(Id, ForeignKey("channels.id"), primary_key=True)
    first_wanted_at: Mapped[datetime] = mapped_column()  # the earliest confirmation not yet covered
    last_wanted_at: Mapped[datetime] = mapped_column()  # the latest confirmation to cover
    polling_until: Mapped[datetime | None] = mapped_column()  # a worker is polling it until then
