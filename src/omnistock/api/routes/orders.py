"""Orders: intake (idempotent by channel + external id), ship, cancel, return, release."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request, Response
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from omnistock.api.deps import DB, Reader, require, run
from omnistock.api.schemas import OrderIn, ReasonIn
from omnistock.api.views import order_view
from omnistock.domain.access import Permission, Principal
from omnistock.services import orders
from omnistock.services.lookup import channel_by_code
from omnistock.store.tables import Order

router = APIRouter(prefix="/api/v1/orders", tags=["orders"])
OrderWriter = Annotated[Principal, Depends(require(Permission.ORDERS_WRITE))]


@router.post("", status_code=201)
def create_order(body: OrderIn, principal: OrderWriter, db: DB, request: Request,
                 response: Response) -> dict[str, Any]:
    zone = request.app.state.settings.zone
    customer = body.customer or None
    spec = orders.OrderSpec(
        channel=body.channel, external_id=body.external_id, currency=body.currency,
        lines=[orders.LineSpec(ln.sku, ln.qty, ln.unit_price) for ln in body.lines],
        customer=orders.CustomerSpec(customer.name, customer.phone, customer.email) if customer else
        orders.CustomerSpec())

    def action(session: Session) -> tuple[dict[str, Any], bool]:
        order, created = orders.create_order(session, spec, principal)
        return order_view(order, zone), created
    try:
        out, created = run(db, action)
    except IntegrityError:
        # Another request took the same channel + external id in first: answer with its order.
        with db.reading() as session:
            channel = channel_by_code(session, spec.channel)
            existing = orders.find_order(session, channel.id, spec.external_id)
            if existing is None:
                raise
            out, created = order_view(existing, zone), False
    if not created:
        response.status_code = 200
    return out


@router.get("")
def list_orders(principal: Reader, db: DB, request: Request, status: str | None = None,
                channel: str | None = None, limit: int = 50, cursor: str | None = None) -> dict[str, Any]:
    zone = request.app.state.settings.zone
    with db.reading() as session:
        page = orders.list_orders(session, principal, status=status, channel=channel, limit=limit, cursor=cursor)
        return {"items": [order_view(o, zone) for o in page.items], "total": page.total, "next": page.next}


@router.get("/{order_id}")
def get_order(order_id: int, principal: Reader, db: DB, request: Request) -> dict[str, Any]:
    with db.reading() as session:
        order = orders.get_order(session, order_id, principal)
        return order_view(order, request.app.state.settings.zone, orders.events_of(session, order))


def _transition(name: str, fn: Callable[..., Order]) -> None:
    def endpoint(order_id: int, principal: OrderWriter, db: DB, request: Request,
                 body: Annotated[ReasonIn | None, Body()] = None) -> dict[str, Any]:
        reason = body.reason if body else None

        def action(session: Session) -> dict[str, Any]:
            kwargs = {"reason": reason} if name != "ship" else {}
            order = fn(session, order_id, principal, **kwargs)
            session.flush()
            return order_view(order, request.app.state.settings.zone, orders.events_of(session, order))
        return run(db, action)
    endpoint.__name__ = f"{name}_order"
    router.add_api_route(f"/{{order_id}}/{name}", endpoint, methods=["POST"], name=f"{name}_order",
                         summary=f"{name.capitalize()} an order")


for _name, _fn in (("ship", orders.ship), ("cancel", orders.cancel), ("return", orders.return_order),
                   ("release", orders.release)):
    _transition(_name, _fn)
