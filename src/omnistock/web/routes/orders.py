"""Orders: the list by status and channel, held orders with their reason, the order page with every event
and the raw platform deliveries, and release / cancel (cancel confirmed first)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from omnistock.api.deps import run
from omnistock.domain.access import Permission
from omnistock.errors import Invalid, OmnistockError
from omnistock.services import orders
from omnistock.web import labels
from omnistock.web.context import Post, Seen, Visitor, require
from omnistock.web.problems import field_message
from omnistock.web.reads import orders as order_reads
from omnistock.web.render import render
from omnistock.web.routing import console_router, safe_next

router = console_router()
PER_PAGE = 50


@router.get("/orders")
def order_list(request: Request, who: Seen, status: str | None = None, channel: str | None = None,
               cursor: str | None = None) -> Response:
    status = status if status in orders.STATUSES else None
    with request.app.state.db.reading() as session:
        page = orders.list_orders(session, who.principal, status=status, channel=channel or None,
                                  limit=PER_PAGE, cursor=cursor or None)
        return render(request, "orders.html", {
            "page": page, "status": status, "channel": channel or "",
            "statuses": [(s, labels.status_label(who.language.text)(s)) for s in orders.STATUSES],
            "channels": [(c, c) for c in order_reads.channel_codes(session, who.principal)], "cursor": cursor})


def _page(request: Request, who: Visitor, order_id: int, *, error: str | None = None,
          confirm: str | None = None, status: int = 200) -> Response:
    with request.app.state.db.reading() as session:
        order = orders.get_order(session, order_id, who.principal)
        return render(request, "order.html", {
            "order": order, "events": orders.events_of(session, order),
            "deliveries": order_reads.deliveries(session, order), "error": error, "confirm": confirm,
            "done": request.query_params.get("done")}, status=status)


@router.get("/orders/{order_id}")
def order_detail(order_id: int, request: Request, who: Seen) -> Response:
    return _page(request, who, order_id)


@router.post("/orders/{order_id}/{action}")
def order_action(order_id: int, action: str, request: Request, post: Post) -> Response:
    who, form = post.visitor, post.form
    require(who, Permission.ORDERS_WRITE)
    if action not in ("release", "cancel"):
        raise Invalid(f"unknown order action {action!r}", field="action")
    reason = form.get("reason") or None
    if action == "cancel" and not form.get("confirmed"):
        return _page(request, who, order_id, confirm="cancel")
    fn = orders.release if action == "release" else orders.cancel
    try:
        run(request.app.state.db, lambda session: fn(session, order_id, who.principal, reason=reason))
    except OmnistockError as exc:
        if exc.status in (403, 404):
            raise
        return _page(request, who, order_id, error=field_message(exc, who.language.text), status=exc.status)
    back = safe_next(form.get("back")) if form.get("back") else f"/orders/{order_id}"
    joiner = "&" if "?" in back else "?"
    return RedirectResponse(f"{back}{joiner}done={action}", status_code=303)
