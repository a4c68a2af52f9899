"""The baseline the benchmark compares omnistock with: a scheduled export that, every N minutes, reads the
available stock and sets every listing on every platform to all of it (what most merchants run today, by a
spreadsheet upload or a vendor's timer). It calls the same adapters within each platform's rate limit, one
thread per platform, and keeps nothing in omnistock's tables: omnistock only takes the orders in."""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from omnistock.channels.base import ChannelAdapter, StockUpdate
from omnistock.config import Settings
from omnistock.domain.allocation import listing_quantity
from omnistock.errors import ChannelError, PlatformThrottled
from omnistock.services.availability import available_by_sku
from omnistock.store.db import Database
from omnistock.store.tables import Channel
from omnistock.sync import poller
from omnistock.sync.adapters import adapter_for
from omnistock.sync.limiter import TokenBucket
from omnistock.sync.tables import Listing

log = logging.getLogger("flash.periodic")
MAX_ATTEMPTS = 20


@dataclass(frozen=True)
class Row:
    channel_id: int
    listing_id: int
    sku_id: int
    external_id: str
    external_sku: str | None
    pack_size: int


class PeriodicExport:
    def __init__(self, db: Database, settings: Settings, period_s: float, phase_s: float) -> None:
        self.db, self.settings = db, settings
        self.period_s, self.phase_s = period_s, phase_s
        self.rounds = 0
        # What a platform told us about a listing once (a Shopify inventory item id), reused on later pushes.
        self._extra: dict[int, dict[str, Any]] = defaultdict(dict)
        self._lock = threading.Lock()

    def push_all(self) -> None:
        """One export: every listing of every channel set to the SKU's whole available stock."""
        with self.db.reading() as session:
            rows = [Row(*r) for r in session.execute(
                select(Listing.channel_id, Listing.id, Listing.sku_id, Listing.external_id, Listing.external_sku,
                       Listing.pack_size).order_by(Listing.channel_id, Listing.id))]
            available = available_by_sku(session, {r.sku_id for r in rows})
            adapters = {ch.id: adapter_for(ch, self.settings)
                        for ch in session.scalars(select(Channel).where(Channel.enabled.is_(True)))}
        per_channel: dict[int, list[Row]] = defaultdict(list)
        for row in rows:
            per_channel[row.channel_id].append(row)
        threads = [threading.Thread(target=self._push_channel, name=f"export-{cid}",
                                    args=(adapters[cid], listed, available))
                   for cid, listed in per_channel.items() if cid in adapters]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.rounds += 1

    def _push_channel(self, adapter: ChannelAdapter, rows: Sequence[Row], available: dict[int, int]) -> None:
        bucket = TokenBucket(adapter.limits)
        size = max(1, int(getattr(adapter, "max_batch", 1)))
        for i in range(0, len(rows), size):
            self._push_chunk(adapter, bucket, rows[i:i + size], available)

    def _push_chunk(self, adapter: ChannelAdapter, bucket: TokenBucket, chunk: Sequence[Row],
                    available: dict[int, int]) -> None:
        """One batch call, repeated for what did not get through (a throttle or an outage mid-batch leaves the
        rest unanswered) until every listing is set or the attempts run out."""
        pending = list(chunk)
        for _ in range(MAX_ATTEMPTS):
            time.sleep(bucket.reserve(1))
            with self._lock:
                updates = [StockUpdate(r.external_id, listing_quantity(available.get(r.sku_id, 0), r.pack_size),
                                       dict(self._extra[r.listing_id]), r.external_sku) for r in pending]
            try:
                results = adapter.set_stock(updates)
            except PlatformThrottled as exc:
                bucket.penalize(exc.retry_after)
                continue
            except ChannelError as exc:
                log.warning("%s: export call failed (%s); retrying", adapter.kind, exc)
                time.sleep(1.0)
                continue
            done = {r.external_id: r for r in results if r.ok}
            with self._lock:
                for row in pending:
                    if row.external_id in done:
                        self._extra[row.listing_id].update(done[row.external_id].extra_updates)
            pending = [r for r in pending if r.external_id not in done]
            if not pending:
                return
        log.warning("%s: export gave up on %d listings, e.g. %s", adapter.kind, len(pending), pending[0].external_id)

    def run(self, sale_at: float, stop: threading.Event) -> None:
        """Export at sale_at + phase, then every period, until stopped (times are unix seconds)."""
        k = 0
        while True:
            due = sale_at + self.phase_s + k * self.period_s
            if stop.wait(max(0.0, due - time.time())):
                return
            self.push_all()
            k += 1


def poll_orders(db: Database, settings: Settings, channel_id: int, every_s: float, stop: threading.Event) -> None:
    """omnistock's own order poll, on the same period the engine's scheduler would use (webhooks still arrive)."""
    while not stop.is_set():
        started = time.monotonic()
        try:
            poller.poll_once(db, settings, channel_id)
        except Exception:  # keep polling: one failed poll is retried next period, as the engine does
            log.exception("order poll failed for channel %s", channel_id)
        stop.wait(max(0.0, every_s - (time.monotonic() - started)))
