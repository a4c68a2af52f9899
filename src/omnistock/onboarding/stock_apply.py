"""Writing planned counts set-based: the levels are locked (levels_io), then every count move,
level update and audit entry goes in as a few multi-row statements. Each move is what `ledger.post_move`
would write for a count (kind count, qty = counted − on hand, same audit action and shape), so levels stay
the sum of their moves. A count below what is reserved at its location goes through `post_move` itself,
which moves or holds the reservations it no longer covers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from omnistock.domain.access import Principal
from omnistock.domain.stock import MoveKind
from omnistock.onboarding.bulk import chunks, insert_rows, set_on_hand
from omnistock.onboarding.catalogue_apply import AUDIT
from omnistock.onboarding.levels_io import create_levels, lock_levels, read_levels
from omnistock.onboarding.stock_check import CountPlan, Key
from omnistock.services import hooks, ledger
from omnistock.store.tables import BundleComponent, Level, Move
from omnistock.store.types import utcnow
from omnistock.sync.dirty import mark_skus
from omnistock.sync.tables import Listing

MOVES = cast(Table, Move.__table__)
LEVELS = cast(Table, Level.__table__)


def on_hand_of(session: Session, keys: Sequence[Key]) -> dict[Key, int]:
    """What is on hand now for these keys (no lock: for planning and dry runs)."""
    return {key: on_hand for key, (on_hand, _) in read_levels(session, keys).items()}


def apply_counts(session: Session, plans: Sequence[CountPlan], principal: Principal, *, reason: str,
                 reference: str) -> int:
    """Set every planned level to its counted quantity; returns the number of moves written.

    Levels that do not exist yet (most of an opening stock) are inserted with their counted quantity; nobody
    else can see them before commit, so they need no lock and no second write. The others are locked."""
    keys = [p.key for p in plans]
    existing = read_levels(session, keys)
    created = create_levels(session, {p.key: p.qty for p in plans if p.key not in existing})
    levels = {key: (0, 0) for key in created}
    levels.update(lock_levels(session, [k for k in keys if k not in created]))
    bulk: list[tuple[CountPlan, int, int]] = []
    one_by_one: list[CountPlan] = []
    for plan in sorted(plans, key=lambda p: p.key):
        on_hand, reserved = levels[plan.key]
        if on_hand == plan.qty and plan.key not in created:
            continue
        if plan.qty < reserved:
            one_by_one.append(plan)
        else:
            bulk.append((plan, on_hand, reserved))
    _write_bulk(session, bulk, created, principal, reason=reason, reference=reference)
    for plan in one_by_one:
        ledger.post_move(session, ledger.MoveSpec(sku=plan.sku.code, location=plan.location, kind=MoveKind.COUNT,
                                                  qty=plan.qty, reason=reason, reference=reference), principal)
    return len(bulk) + len(one_by_one)


def _write_bulk(session: Session, items: Sequence[tuple[CountPlan, int, int]], created: set[Key],
                principal: Principal, *, reason: str, reference: str) -> None:
    if not items:
        return
    now = utcnow()
    # No RETURNING: plain executemany is the drivers' fast path. The new moves are found again by their
    # reference among the ids above the largest one before.
    before = session.scalar(select(func.max(MOVES.c.id))) or 0
    insert_rows(session, MOVES, [{"sku_id": p.sku.id, "location_id": p.location_id, "kind": MoveKind.COUNT.value,
                                  "qty": p.qty - on_hand, "reference": reference, "reason": reason,
                                  "actor": principal.name, "at": now, "idempotency_key": None, "group_id": None}
                                 for p, on_hand, _ in items])
    written = {(sku_id, loc): move_id for move_id, sku_id, loc in session.execute(
        select(MOVES.c.id, MOVES.c.sku_id, MOVES.c.location_id)
        .where(MOVES.c.id > before, MOVES.c.reference == reference))}
    ids = [written[p.key] for p, _, _ in items]
    set_on_hand(session, [(p.sku.id, p.location_id, p.qty) for p, _, _ in items if p.key not in created])
    audit = [_audit_row(p, on_hand, reserved, move_id, principal, reason, now)
             for (p, on_hand, reserved), move_id in zip(items, ids)]
    insert_rows(session, AUDIT, audit)
    for sku_ids in chunks(listed({p.sku.id for p, _, _ in items}, session)):
        mark_skus(session, sku_ids)
    _announce(session, ids)


def listed(sku_ids: set[int], session: Session) -> list[int]:
    """The SKUs among these that some listing shows, itself or through a bundle: only they can need a push
    (a merchant's opening stock usually comes before any listing)."""
    listed_skus = select(Listing.sku_id).distinct()
    shown = set(session.scalars(listed_skus))
    if not shown:
        return []
    # A subquery, not the ids: a catalogue may list more SKUs than a statement may carry parameters (65,535).
    shown.update(session.scalars(select(BundleComponent.component_id)
                                 .where(BundleComponent.bundle_id.in_(listed_skus.scalar_subquery()))))
    return sorted(sku_ids & shown)


def _audit_row(plan: CountPlan, on_hand: int, reserved: int, move_id: int, principal: Principal, reason: str,
               now: Any) -> dict[str, Any]:
    """The entry `ledger.post_move` writes for a count."""
    return {"at": now, "actor": principal.name, "action": f"stock.{MoveKind.COUNT.value}", "sku_id": plan.sku.id,
            "location_id": plan.location_id, "entity": f"move:{move_id}",
            "before": {"on_hand": on_hand, "reserved": reserved},
            "after": {"on_hand": plan.qty, "reserved": reserved}, "reason": reason}


def _announce(session: Session, move_ids: Sequence[int]) -> None:
    """Tell the features that follow moves (costing...) about them, as post_move does: at once to a hook that
    has a batch form (services.hooks.move_batches), one by one to the others."""
    if not hooks.move_posted:
        return
    moves: list[Move] = []
    for part in chunks(move_ids):
        moves.extend(session.scalars(select(Move).where(Move.id.in_(list(part))).order_by(Move.id)))
    hooks.emit_moves_posted(session, moves)


def ledger_totals(session: Session, keys: Mapping[str, Sequence[Key]]) -> dict[str, int]:
    """What the ledger holds now, per location, for the given keys of each location."""
    return {location: sum(on_hand for on_hand, _ in read_levels(session, loc_keys).values())
            for location, loc_keys in keys.items()}
