"""Marking listings dirty in the same transaction as the stock change that made them wrong.

Any change of a level's on hand or reserved, or of a SKU's safety stock, marks every listing of that SKU and
of every bundle containing it. The mark is one UPDATE per transaction, issued just before commit, so it
commits or rolls back with the change itself (no dual write). On PostgreSQL a NOTIFY wakes the workers.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, event, func, inspect, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from omnistock.services import hooks
from omnistock.store.levels import CHANGED_SKUS
from omnistock.store.tables import BundleComponent, Level, Order, Sku
from omnistock.store.types import utcnow
from omnistock.sync.tables import Listing
from omnistock.sync.wakeup import WAKEUP

CHANNEL = "omnistock_sync"
_KEY = CHANGED_SKUS  # SKUs changed in this transaction: by Core statements (noted) or ORM flushes (collected)
_WOKE = "omnistock_woke"


def affected_skus(session: Session, sku_ids: Iterable[int]) -> set[int]:
    """The SKUs whose shown quantity depends on these: themselves and the bundles made of them."""
    ids = set(sku_ids)
    if not ids:
        return ids
    bundles = session.scalars(select(BundleComponent.bundle_id).where(BundleComponent.component_id.in_(ids)))
    return ids | set(bundles)


_BUNDLES_OF = select(BundleComponent.bundle_id).where(
    BundleComponent.component_id.in_(bindparam("k_ids", expanding=True)))
_MARK_SKUS = (update(Listing)
              .where(Listing.sku_id.in_(bindparam("k_ids", expanding=True)) | Listing.sku_id.in_(_BUNDLES_OF))
              .values(dirty=True, dirty_since=func.coalesce(Listing.dirty_since, bindparam("k_now")))
              .execution_options(synchronize_session=False))
# PostgreSQL: the NOTIFY rides on the UPDATE (one round trip; identical notifications in one transaction are
# delivered once).
_MARK_SKUS_NOTIFY = _MARK_SKUS.returning(func.pg_notify(CHANNEL, ""))


def mark_skus(session: Session, sku_ids: Iterable[int], now: datetime | None = None) -> int:
    """Mark every listing of these SKUs (and their bundles) as needing a push. Returns listings marked.
    One statement: this runs in every stock-changing transaction."""
    ids = sorted(set(sku_ids))
    if not ids:
        return 0
    params = {"k_ids": ids, "k_now": now or utcnow()}
    if session.get_bind().dialect.name == "postgresql":
        return len(session.connection().execute(_MARK_SKUS_NOTIFY, params).all())
    return int(session.connection().execute(_MARK_SKUS, params).rowcount or 0)


def mark_listings(session: Session, where: Any) -> int:
    """Mark the listings matching a condition (a channel re-enabled, a policy changed)."""
    stmt = (update(Listing).where(where)
            .values(dirty=True, dirty_since=func.coalesce(Listing.dirty_since, utcnow()), next_attempt_at=None)
            .execution_options(synchronize_session=False))
    marked = int(session.connection().execute(stmt).rowcount or 0)
    if marked:
        session.info[_WOKE] = True
        if session.get_bind().dialect.name == "postgresql":
            session.connection().execute(text("SELECT pg_notify(:c, '')"), {"c": CHANNEL})
    return marked


def _changed(obj: Any, *names: str) -> bool:
    state = inspect(obj)
    return any(state.attrs[n].history.has_changes() for n in names)


def _collect(session: Session, _ctx: Any) -> None:
    ids: set[int] = session.info.setdefault(_KEY, set())
    for obj in session.dirty:
        if isinstance(obj, Level) and _changed(obj, "on_hand", "reserved"):
            ids.add(obj.sku_id)
        elif isinstance(obj, Sku) and _changed(obj, "safety_stock", "active"):
            ids.add(obj.id)


def _mark_before_commit(session: Session) -> None:
    session.flush()
    ids = session.info.pop(_KEY, set())
    if ids and mark_skus(session, ids):
        session.info[_WOKE] = True


def _after_commit(session: Session) -> None:
    if session.info.pop(_WOKE, False):
        WAKEUP.notify()


def on_order_held(session: Session, order: Order) -> None:
    """An order that could not be reserved is the sign that some platform shows more than there is: every
    listing of its SKUs (bundle lines: the bundle and its components) is pushed at once, though no level
    changed. Marked with the transaction's other changes, before it commits."""
    ids = session.info.setdefault(_KEY, set())
    for line in order.lines:
        ids.add(line.sku_id)
        ids.update(c.component_id for c in line.sku.components)


def _forget(session: Session, *_: Any) -> None:
    session.info.pop(_KEY, None)
    session.info.pop(_WOKE, None)


def watch(factory: sessionmaker[Session]) -> None:
    """Attach the dirty marking to the sessions of a unit-of-work factory."""
    event.listen(factory, "after_flush", _collect)
    event.listen(factory, "before_commit", _mark_before_commit)
    event.listen(factory, "after_commit", _after_commit)
    event.listen(factory, "after_rollback", _forget)


if on_order_held not in hooks.order_held:
    hooks.order_held.append(on_order_held)
