"""Stock moves, the audit trail."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from omnistock.api.deps import DB, Reader, get_settings, require, run
from omnistock.api.schemas import MoveIn
from omnistock.api.views import move_view, when
from omnistock.config import Settings
from omnistock.domain.access import Permission, Principal
from omnistock.domain.stock import MoveKind
from omnistock.services import audit, batches, ledger
from omnistock.services.lookup import sku_by_code

router = APIRouter(prefix="/api/v1", tags=["stock"])
StockWriter = Annotated[Principal, Depends(require(Permission.STOCK_WRITE))]


@router.post("/moves", status_code=201)
def post_move(body: MoveIn, principal: StockWriter, db: DB, response: Response,
              settings: Annotated[Settings, Depends(get_settings)]) -> dict[str, Any]:
    spec = ledger.MoveSpec(sku=body.sku, location=body.location, kind=MoveKind(body.kind), qty=body.qty,
                           to_location=body.to_location, reason=body.reason, reference=body.reference,
                           idempotency_key=body.idempotency_key, batch=body.batch, expiry=body.expiry)

    def action(session: Any) -> dict[str, Any]:
        result = ledger.post_move(session, spec, principal)
        first = result.moves[0]
        out = move_view(first, result.sku, result.location, settings.zone)
        out.update(kind=spec.kind.value, to_location=result.to_location, replayed=result.replayed)
        sign = -1 if spec.kind is MoveKind.TRANSFER else 1  # a transfer shows the units moved, as posted
        out["qty"] = sign * first.qty
        out["batches"] = [{"batch": p.batch, "expiry": p.expiry.isoformat() if p.expiry else None,
                           "qty": sign * p.qty} for p in batches.move_parts(session, [first.id])[first.id]]
        if result.counted is not None:
            out["counted"] = result.counted
        return out
    out = run(db, action)
    if out["replayed"]:
        response.status_code = 200
    return out


@router.get("/skus/{code}/batches")
def read_batches(code: str, principal: Reader, db: DB) -> dict[str, Any]:
    """The SKU's stock per batch and location, earliest expiry first (locations outside a scoped token left out)."""
    with db.reading() as session:
        sku = sku_by_code(session, code, field="code")
        found = batches.figures(session, sku, locations=principal.sees_location)
    return {"sku": sku.code, "items": [{"batch": f.batch, "expiry": f.expiry.isoformat() if f.expiry else None,
                                    "location": f.location, "sellable_location": f.sellable_location,
                                    "on_hand": f.on_hand, "reserved": f.reserved, "expired": f.expired}
                                   for f in found]}


@router.get("/audit")
def read_audit(principal: Reader, db: DB, request: Request, sku: str | None = None, actor: str | None = None,
               limit: int = 50, cursor: str | None = None) -> dict[str, Any]:
    zone = request.app.state.settings.zone
    with db.reading() as session:
        page = audit.list_entries(session, principal, sku=sku or None, actor=actor or None, limit=limit,
                                  cursor=cursor)
    return {"items": [{**e.__dict__, "at": when(e.at, zone)} for e in page.items], "total": page.total,
            "next": page.next}
