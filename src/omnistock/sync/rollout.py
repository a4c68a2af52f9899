"""Shadow and pilot rollout: run a channel without pushing (shadow) or for a few SKUs only (pilot), compare what
omnistock would show with what the platform shows (on request, and by itself on a schedule while a channel is in
shadow mode), and explain every difference before going live."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from omnistock.channels.base import PlatformItem
from omnistock.config import Settings
from omnistock.domain.access import Principal, Role
from omnistock.errors import Invalid, NotFound, OmnistockError
from omnistock.services import audit
from omnistock.services.lookup import channel_by_code, sku_by_code
from omnistock.store.db import Database
from omnistock.store.tables import Channel, Sku
from omnistock.store.types import utcnow
from omnistock.sync import dirty
from omnistock.sync.adapters import adapter_for, has_adapter
from omnistock.sync.pusher import channel_state
from omnistock.sync.tables import ChannelSync, Listing, RolloutDifference
from omnistock.sync.targets import targets_for

log = logging.getLogger("omnistock.rollout")
MODES = ("live", "shadow", "pilot")
MAX_PAGES = 100_000
SCHEDULE = Principal(name="rollout:schedule", role=Role.ADMIN)


def set_mode(session: Session, channel_code: str, mode: str, pilot_skus: Sequence[str], reason: str | None,
             principal: Principal) -> dict[str, Any]:
    """Switch a channel's rollout mode (audited). Listings that start being pushed are pushed at once."""
    if mode not in MODES:
        raise Invalid(f"mode must be one of {', '.join(MODES)}", field="mode")
    if mode == "pilot" and not pilot_skus:
        raise Invalid("a pilot needs at least one SKU", field="pilot_skus")
    if not (reason or "").strip():
        raise Invalid("say why the mode changes (kept in the audit trail)", field="reason")
    for i, code in enumerate(pilot_skus):
        sku_by_code(session, code, field=f"pilot_skus[{i}]")
    channel = channel_by_code(session, channel_code, principal=principal)
    state = channel_state(session, channel.id)
    before = {"mode": state.mode, "pilot_skus": state.pilot_skus}
    state.mode, state.pilot_skus = mode, sorted(set(pilot_skus)) if mode == "pilot" else None
    state.mode_since = utcnow()
    session.flush()
    if mode != "shadow":
        dirty.mark_listings(session, Listing.channel_id == channel.id)
    after = {"mode": state.mode, "pilot_skus": state.pilot_skus}
    audit.record(session, actor=principal.name, action="channel.mode", entity=f"channel:{channel.code}",
                 before=before, after=after, reason=reason)
    return {"channel": channel.code, **after}


@dataclass(frozen=True)
class Difference:
    id: int
    sku: str | None
    external_id: str
    expected: int | None
    platform: int | None
    explanation: str | None


def _read_platform(db: Database, settings: Settings, channel_code: str) -> dict[str, PlatformItem]:
    with db.reading() as session:
        channel = channel_by_code(session, channel_code)
        if not has_adapter(channel):
            raise Invalid(f"channel {channel_code!r} has no platform to compare with", field="channel")
        adapter = adapter_for(channel, settings)
    items: dict[str, PlatformItem] = {}
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        page = adapter.fetch_stock(cursor)
        items.update({item.external_id: item for item in page.items})
        cursor = page.next_cursor
        if cursor is None:
            break
    return items


def compare(db: Database, settings: Settings, channel_code: str, principal: Principal) -> list[Difference]:
    """Read the platform (outside any transaction), then record every listing whose shown quantity differs
    from what omnistock would show. Returns every difference seen now; one already recorded with the same two
    quantities (by an earlier comparison, or the scheduled one) is returned as it is, not recorded again, so
    that a difference that lasts is explained once."""
    platform = _read_platform(db, settings, channel_code)
    with db.transaction() as session:
        channel = channel_by_code(session, channel_code, principal=principal)
        listings = list(session.scalars(select(Listing).where(Listing.channel_id == channel.id)))
        targets = targets_for(session, listings)
        codes = dict(session.execute(select(Sku.id, Sku.code).where(
            Sku.id.in_({lst.sku_id for lst in listings}))).all())
        latest = _latest_differences(session, channel.id)
        now, out = utcnow(), []
        for lst in listings:
            item = platform.get(lst.external_id)
            shown = item.quantity if item else None
            if shown == targets[lst.id]:
                continue
            row = latest.get(lst.external_id)
            if row is None or (row.expected, row.platform) != (targets[lst.id], shown):
                row = RolloutDifference(channel_id=channel.id, sku_id=lst.sku_id, external_id=lst.external_id,
                                        expected=targets[lst.id], platform=shown, seen_at=now)
                session.add(row)
                session.flush()
            out.append(Difference(row.id, codes.get(lst.sku_id), lst.external_id, row.expected, shown,
                                  row.explanation))
        return out


def _latest_differences(session: Session, channel_id: int) -> dict[str, RolloutDifference]:
    """The last difference recorded for each platform item of the channel."""
    last = (select(func.max(RolloutDifference.id)).where(RolloutDifference.channel_id == channel_id)
            .group_by(RolloutDifference.external_id))
    return {row.external_id: row for row in session.scalars(
        select(RolloutDifference).where(RolloutDifference.id.in_(last)))}


def compare_shadowed(db: Database, settings: Settings, now: datetime) -> int:
    """The scheduled comparison (watch.scheduler, every `rollout_compare_minutes`): every enabled channel that
    has been in shadow mode for at least a period is compared, so that the pilot report holds what was seen
    during shadow mode without anyone running `rollout compare`. One channel's platform failing does not stop
    the others (logged; the next period tries again). Returns the differences seen."""
    period = timedelta(minutes=settings.rollout_compare_minutes)
    with db.reading() as session:
        rows = session.execute(select(Channel, ChannelSync.mode_since).join(
            ChannelSync, ChannelSync.channel_id == Channel.id).where(
            Channel.enabled.is_(True), ChannelSync.mode == "shadow")).all()
        due = [ch.code for ch, since in rows if has_adapter(ch) and (since is None or since <= now - period)]
    seen = 0
    for code in due:
        try:
            seen += len(compare(db, settings, code, SCHEDULE))
        except OmnistockError as exc:
            log.warning("shadow comparison of %s: %s", code, exc.message)
        except Exception:  # a platform answering nonsense must not stop the other channels' comparison
            log.exception("shadow comparison of %s failed", code)
    return seen


def explain(session: Session, channel_code: str, difference_id: int, reason: str,
            principal: Principal) -> Difference:
    """Explain a difference of this channel (one of another channel is not found here: ids are guessable)."""
    channel = channel_by_code(session, channel_code, principal=principal)
    row = session.get(RolloutDifference, difference_id)
    if row is None or row.channel_id != channel.id:
        raise NotFound(f"no rollout difference {difference_id} on channel {channel.code}", field="id")
    if not reason.strip():
        raise Invalid("an explanation cannot be empty", field="reason")
    row.explanation, row.explained_by = reason.strip(), principal.name
    sku = session.get(Sku, row.sku_id) if row.sku_id else None
    audit.record(session, actor=principal.name, action="rollout.explain", sku_id=row.sku_id,
                 entity=f"rollout_difference:{row.id}", after={"explanation": row.explanation}, reason=reason)
    return Difference(row.id, sku.code if sku else None, row.external_id, row.expected, row.platform,
                      row.explanation)


def report(session: Session, channel_code: str, principal: Principal) -> dict[str, Any]:
    """Per SKU: differences seen during shadow/pilot (by `compare` or the scheduled comparison), how many are
    still unexplained and their ids (to explain them)."""
    channel = channel_by_code(session, channel_code, principal=principal)
    state = channel_state(session, channel.id)
    rows = session.execute(select(RolloutDifference, Sku.code).outerjoin(Sku, Sku.id == RolloutDifference.sku_id)
                           .where(RolloutDifference.channel_id == channel.id).order_by(RolloutDifference.id)).all()
    per_sku: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"differences": 0, "unexplained": 0, "unexplained_ids": []})
    for diff, code in rows:
        entry = per_sku[code or diff.external_id]
        entry["differences"] += 1
        if not diff.explanation:
            entry["unexplained"] += 1
            entry["unexplained_ids"].append(diff.id)
        entry.update(external_id=diff.external_id, last_expected=diff.expected, last_platform=diff.platform,
                     last_seen_at=diff.seen_at)
    items = [{"sku": k, **v} for k, v in sorted(per_sku.items())]
    return {"channel": channel.code, "mode": state.mode, "mode_since": state.mode_since,
            "pilot_skus": state.pilot_skus, "items": items, "unexplained": sum(i["unexplained"] for i in items),
            "ready_for_live": all(i["unexplained"] == 0 for i in items)}
