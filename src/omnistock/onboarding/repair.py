"""Bad data found in imported or existing records, each with a suggested fix that is applied only on request,
with a reason, and audited:

- negative stock: a level below zero → count what is really there (0 unless told otherwise);
- orphan reservation: an active reservation whose order is no longer reserved (shipped, cancelled, held...)
  → release it, so its units can be sold again;
- duplicate SKUs: the same barcode or the same normalized name → merge the duplicate into the survivor."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from omnistock.domain.access import Principal
from omnistock.domain.stock import MoveKind
from omnistock.errors import Invalid, NotFound
from omnistock.onboarding.duplicates import find_duplicates
from omnistock.onboarding.merge import merge_skus
from omnistock.services import audit, batches, ledger
from omnistock.store.levels import lock_levels
from omnistock.store.tables import Level, Location, Order, Reservation, Sku


@dataclass(frozen=True)
class Issue:
    id: str     # stable while the problem lasts: negative:SKU@LOC, orphan:RESERVATION, duplicate:SURVIVOR+DUP
    kind: str   # negative_stock | orphan_reservation | duplicate_sku
    subject: str
    detail: str
    fix: str


def find_issues(session: Session) -> list[Issue]:
    return [*_negative(session), *_orphans(session), *_duplicates(session)]


def _negative(session: Session) -> list[Issue]:
    rows = session.execute(select(Sku.code, Location.code, Level.on_hand)
                           .join(Sku, Sku.id == Level.sku_id).join(Location, Location.id == Level.location_id)
                           .where(Level.on_hand < 0).order_by(Sku.code, Location.code))
    return [Issue(f"negative:{sku}@{loc}", "negative_stock", f"{sku} at {loc}", f"on hand is {qty}",
                  f"count {sku} at {loc}: 0 unless --qty says what is really there (a count move of {-qty:+d})")
            for sku, loc, qty in rows]


def _orphans(session: Session) -> list[Issue]:
    rows = session.execute(select(Reservation.id, Reservation.qty, Order.id, Order.status, Sku.code, Location.code)
                           .join(Order, Order.id == Reservation.order_id).join(Sku, Sku.id == Reservation.sku_id)
                           .join(Location, Location.id == Reservation.location_id)
                           .where(Reservation.status == "active", Order.status != "reserved")
                           .order_by(Reservation.id))
    return [Issue(f"orphan:{rid}", "orphan_reservation", f"{sku} at {loc}",
                  f"reservation {rid} holds {qty} for order {oid}, which is {status}",
                  f"release it: {qty} reserved at {loc} become sellable again")
            for rid, qty, oid, status, sku, loc in rows]


def _duplicates(session: Session) -> list[Issue]:
    return [Issue(f"duplicate:{g.survivor}+{dup}", "duplicate_sku", f"{g.survivor} and {dup}", g.reason,
                  f"merge {dup} into {g.survivor} (moves, stock, reservations, order lines, listings, aliases)")
            for g in find_duplicates(session) for dup in g.duplicates]


def apply_fix(session: Session, issue_id: str, principal: Principal, *, reason: str,
              qty: int | None = None) -> str:
    """Apply the suggested fix of one issue that still exists; returns what was done."""
    if not reason or not reason.strip():
        raise Invalid("a repair needs a reason (it is kept in the audit trail)", field="reason")
    issue = next((i for i in find_issues(session) if i.id == issue_id), None)
    if issue is None:
        raise NotFound(f"no open issue {issue_id!r} (run `omnistock repair list`)", field="id")
    if issue.kind == "negative_stock":
        sku, _, loc = issue_id.removeprefix("negative:").partition("@")
        counted = 0 if qty is None else qty
        ledger.post_move(session, ledger.MoveSpec(sku=sku, location=loc, kind=MoveKind.COUNT, qty=counted,
                                                  reason=f"repair: {reason}", reference=issue_id), principal)
        return f"counted {sku} at {loc}: {counted}"
    if issue.kind == "orphan_reservation":
        return _release(session, int(issue_id.removeprefix("orphan:")), principal, reason)
    survivor, _, duplicate = issue_id.removeprefix("duplicate:").partition("+")
    merge_skus(session, survivor, duplicate, reason=f"repair: {reason}", actor=principal.name)
    return f"merged {duplicate} into {survivor}"


def _release(session: Session, reservation_id: int, principal: Principal, reason: str) -> str:
    res = session.get(Reservation, reservation_id)
    assert res is not None
    levels = lock_levels(session, [(res.sku_id, res.location_id)])
    level = levels[(res.sku_id, res.location_id)]
    before = {"on_hand": level.on_hand, "reserved": level.reserved}
    batches.release(session, [res], levels)
    level.reserved -= res.qty
    res.status = "released"
    audit.record(session, actor=principal.name, action="repair.release_reservation", sku_id=res.sku_id,
                 location_id=res.location_id, entity=f"reservation:{res.id}", before=before,
                 after={"on_hand": level.on_hand, "reserved": level.reserved}, reason=f"repair: {reason}")
    return f"released reservation {res.id} ({res.qty} units)"
