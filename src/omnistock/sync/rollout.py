"""Shadow and pilot rollout: run a channel without pushing (shadow) or for a few SKUs only (pilot), compare what
omnistock would show with what the platform shows, and explain every difference before going live."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from omnistock.channels.base import PlatformItem
from omnistock.config import Settings
from omnistock.domain.access import Principal
from omnistock.errors import Invalid, NotFound
from omnistock.services import audit
from omnistock.services.lookup import channel_by_code, sku_by_code
from omnistock.store.db import Database
from omnistock.store.tables import Sku
from omnistock.store.types import utcnow
from omnistock.sync import dirty
from omnistock.sync.adapters import adapter_for, has_adapter
from omnistock.sync.pusher import channel_state
from omnistock.sync.tables import Listing, RolloutDifference
from omnistock.sync.targets import targets_for

MODES = ("live", "shadow", "pilot")
MAX_PAGES = 100_000


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
    from what omnistock would show."""
    platform = _read_platform(db, settings, channel_code)
    with db.transaction() as session:
        channel = channel_by_code(session, channel_code, principal=principal)
        listings = list(session.scalars(select(Listing).where(Listing.channel_id == channel.id)))
        targets = targets_for(session, listings)
        codes = dict(session.execute(select(Sku.id, Sku.code).where(
            Sku.id.in_({lst.sku_id for lst in listings}))).all())
        now, out = utcnow(), []
        for lst in listings:
            item = platform.get(lst.external_id)
            shown = item.quantity if item else None
            if shown == targets[lst.id]:
                continue
            row = RolloutDifference(channel_id=channel.id, sku_id=lst.sku_id, external_id=lst.external_id,
                                    expected=targets[lst.id], platform=shown, seen_at=now)
            session.add(row)
            session.flush()
            out.append(Difference(row.id, codes.get(lst.sku_id), lst.external_id, row.expected, shown, None))
        return out


def explain(session: Session, difference_id: int, reason: str, principal: Principal) -> Difference:
    row = session.get(RolloutDifference, difference_id)
    if row is None:
        raise NotFound(f"no rollout difference {difference_id}", field="id")
    if not reason.strip():
        raise Invalid("an explanation cannot be empty", field="reason")
    row.explanation, row.explained_by = reason.strip(), principal.name
    sku = session.get(Sku, row.sku_id) if row.sku_id else None
    audit.record(session, actor=principal.name, action="rollout.explain", sku_id=row.sku_id,
                 entity=f"rollout_difference:{row.id}", after={"explanation": row.explanation}, reason=reason)
    return Difference(row.id, sku.code if sku else None, row.external_id, row.expected, row.platform,
                      row.explanation)


def report(session: Session, channel_code: str, principal: Principal) -> dict[str, Any]:
    """Per SKU: differences seen during shadow/pilot and how many are still unexplained."""
    channel = channel_by_code(session, channel_code, principal=principal)
    state = channel_state(session, channel.id)
    rows = session.execute(select(RolloutDifference, Sku.code).outerjoin(Sku, Sku.id == RolloutDifference.sku_id)
                           .where(RolloutDifference.channel_id == channel.id).order_by(RolloutDifference.id)).all()
    per_sku: dict[str, dict[str, Any]] = defaultdict(lambda: {"differences": 0, "unexplained": 0})
    for diff, code in rows:
        entry = per_sku[code or diff.external_id]
        entry["differences"] += 1
        entry["unexplained"] += 0 if diff.explanation else 1
        entry.update(external_id=diff.external_id, last_expected=diff.expected, last_platform=diff.platform)
    items = [{"sku": k, **v} for k, v in sorted(per_sku.items())]
    return {"channel": channel.code, "mode": state.mode, "pilot_skus": state.pilot_skus, "items": items,
            "unexplained": sum(i["unexplained"] for i in items),
            "ready_for_live": all(i["unexplained"] == 0 for i in items)}
