"""Suppliers and which supplier each SKU is bought from."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from omnistock.domain.money import require_currency
from omnistock.errors import Conflict, Invalid, NotFound
from omnistock.money.tables import SkuSupplier, Supplier
from omnistock.money.views import supplier_view
from omnistock.services import audit
from omnistock.services.catalogue import check_code
from omnistock.services.lookup import sku_by_code
from omnistock.store.paging import Page, page_query

MAX_LEAD_TIME_DAYS = 365


@dataclass(frozen=True)
class SupplierSpec:
    code: str
    name: str
    currency: str = "CNY"
    lead_time_days: int = 0
    contact: str | None = None
    over_receipt_percent: Decimal = Decimal(0)


def supplier_by_code(session: Session, code: str, *, field: str = "supplier") -> Supplier:
    supplier = session.scalar(select(Supplier).where(Supplier.code == code))
    if supplier is None:
        raise NotFound(f"unknown supplier {code!r}", field=field)
    return supplier


def _check(spec: SupplierSpec) -> None:
    if not spec.name.strip():
        raise Invalid("name cannot be empty", field="name")
    require_currency(spec.currency)
    if not 0 <= spec.lead_time_days <= MAX_LEAD_TIME_DAYS:
        raise Invalid(f"lead_time_days must be between 0 and {MAX_LEAD_TIME_DAYS}", field="lead_time_days")
    if not spec.over_receipt_percent.is_finite() or not 0 <= spec.over_receipt_percent <= 100:
        raise Invalid("over_receipt_percent must be between 0 and 100", field="over_receipt_percent")


def create_supplier(session: Session, spec: SupplierSpec, *, actor: str) -> Supplier:
    code = check_code(spec.code)
    if session.scalar(select(Supplier.id).where(Supplier.code == code)) is not None:
        raise Conflict(f"supplier {code!r} exists already", field="code")
    _check(spec)
    supplier = Supplier(code=code, name=spec.name.strip(), currency=spec.currency,
                        lead_time_days=spec.lead_time_days, contact=spec.contact,
                        over_receipt_percent=spec.over_receipt_percent)
    session.add(supplier)
    session.flush()
    audit.record(session, actor=actor, action="supplier.create", entity=f"supplier:{code}",
                 after=supplier_view(supplier))
    return supplier


def update_supplier(session: Session, code: str, changes: dict[str, object], *, actor: str) -> Supplier:
    supplier = supplier_by_code(session, code, field="code")
    before = supplier_view(supplier)
    merged = SupplierSpec(code=supplier.code, name=supplier.name, currency=supplier.currency,
                          lead_time_days=supplier.lead_time_days, contact=supplier.contact,
                          over_receipt_percent=supplier.over_receipt_percent)
    merged = SupplierSpec(**{**merged.__dict__, **changes})
    _check(merged)
    for key, value in changes.items():
        setattr(supplier, key, value.strip() if key == "name" and isinstance(value, str) else value)
    after = supplier_view(supplier)
    if after != before:
        audit.record(session, actor=actor, action="supplier.update", entity=f"supplier:{code}",
                     before={k: before[k] for k in changes}, after={k: after[k] for k in changes})
    return supplier


def list_suppliers(session: Session, *, limit: int = 50, cursor: str | None = None) -> Page[Supplier]:
    return page_query(session, select(Supplier), Supplier.id, limit=limit, cursor=cursor)


def set_sku_supplier(session: Session, sku_code: str, supplier_code: str, unit_cost: Decimal | None, *,
                     actor: str) -> SkuSupplier:
    """Name the supplier a SKU is bought from (and its usual price, in the supplier's currency): reorder
    suggestions are drafted per supplier."""
    sku = sku_by_code(session, sku_code)
    if sku.is_bundle:
        raise Invalid(f"{sku.code!r} is a bundle; buy its components", field="sku")
    supplier = supplier_by_code(session, supplier_code)
    if unit_cost is not None and (not unit_cost.is_finite() or unit_cost < 0):
        raise Invalid("unit_cost cannot be negative", field="unit_cost")
    link = session.get(SkuSupplier, sku.id)
    before = {"supplier": link.supplier.code, "unit_cost": str(link.unit_cost)} if link else None
    if link is None:
        link = SkuSupplier(sku_id=sku.id, supplier_id=supplier.id)
        session.add(link)
    link.supplier_id, link.supplier, link.unit_cost = supplier.id, supplier, unit_cost
    session.flush()
    audit.record(session, actor=actor, action="sku.supplier", sku_id=sku.id, entity=f"sku:{sku.code}",
                 before=before, after={"supplier": supplier.code, "unit_cost": str(unit_cost)})
    return link
