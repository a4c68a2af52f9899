"""Purchasing and money reads for the console: numbered pages of suppliers and purchase orders, the choices
their forms offer, and a page of a report's rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from omnistock.domain.purchasing import PoStatus
from omnistock.money.tables import PurchaseOrder, Supplier
from omnistock.web.reads.paging import PER_PAGE, Numbered, numbered

T = TypeVar("T")
STATUSES = tuple(s.value for s in PoStatus)


def suppliers(session: Session, *, page: int) -> Numbered[Supplier]:
    return numbered(session, select(Supplier).order_by(Supplier.code), page=page)


def purchase_orders(session: Session, *, status: str | None, supplier: str | None, page: int
                    ) -> Numbered[PurchaseOrder]:
    """Newest first; an unknown status or supplier filters everything out rather than failing (a bad link)."""
    stmt = select(PurchaseOrder).order_by(PurchaseOrder.id.desc())
    if status:
        stmt = stmt.where(PurchaseOrder.status == status)
    if supplier:
        stmt = stmt.join(Supplier, Supplier.id == PurchaseOrder.supplier_id).where(Supplier.code == supplier)
    return numbered(session, stmt, page=page)


def supplier_choices(session: Session) -> list[tuple[str, str]]:
    return [(code, f"{code} · {name}") for code, name in session.execute(
        select(Supplier.code, Supplier.name).order_by(Supplier.code))]


def page_of(rows: Sequence[T], page: int, per_page: int = PER_PAGE) -> Numbered[T]:
    """One page of rows already in memory (a report's lines)."""
    pages = max(1, -(-len(rows) // per_page))
    page = min(page, pages)
    return Numbered(list(rows[(page - 1) * per_page: page * per_page]), len(rows), page, per_page)
