"""The tables of purchasing and money: suppliers, purchase orders, the cost book (current moving-average
state per SKU and the history that values stock at any date), exchange rates and channel terms."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator, TypeEngine

from omnistock.domain.money import round_to_places
from omnistock.store.tables import Base, Id, Location, Sku
from omnistock.store.types import utcnow


class Exact(TypeDecorator[Decimal]):
    """A Decimal stored exactly: NUMERIC on PostgreSQL, text on SQLite (whose NUMERIC is a float and
    would lose digits). Never compared or summed in SQL: sums are made in Python, in Decimal."""

    impl = Numeric
    cache_ok = True

    def __init__(self, scale: int = 6) -> None:
        super().__init__()
        self.scale = scale

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(48))
        return dialect.type_descriptor(Numeric(30, self.scale, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, (Decimal, int)) or isinstance(value, bool):
            raise TypeError(f"an exact amount must be a Decimal, got {type(value).__name__}")
        # Both databases keep the same digits: at most `scale` decimals, rounded half up.
        exact = round_to_places(Decimal(value), self.scale) if isinstance(value, Decimal) else Decimal(value)
        return str(exact) if dialect.name == "sqlite" else exact

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(str(value))


class Supplier(Base):
    __tablename__ = "suppliers"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))
    lead_time_days: Mapped[int] = mapped_column(Integer, default=0)
    contact: Mapped[str | None] = mapped_column(Text)
    over_receipt_percent: Mapped[Decimal] = mapped_column(Exact(4), default=Decimal(0))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SkuSupplier(Base):
    """The supplier a SKU is bought from (one per SKU), and its usual price in the supplier's currency."""

    __tablename__ = "sku_suppliers"
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"), primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"), index=True)
    unit_cost: Mapped[Decimal | None] = mapped_column(Exact(6))
    supplier: Mapped[Supplier] = relationship(lazy="joined")


class PurchaseOrder(Base):
    __tablename__ = "purchase_orders"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"), index=True)
    status: Mapped[str] = mapped_column(String(24), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))  # where the goods are expected
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ordered_at: Mapped[datetime | None] = mapped_column()  # the PO's day for exchange rates
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    supplier: Mapped[Supplier] = relationship(lazy="joined")
    location: Mapped[Location | None] = relationship(lazy="joined")
    lines: Mapped[list[PurchaseOrderLine]] = relationship(cascade="all, delete-orphan", lazy="selectin",
                                                          order_by="PurchaseOrderLine.id")


class PurchaseOrderLine(Base):
    __tablename__ = "purchase_order_lines"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    po_id: Mapped[int] = mapped_column(ForeignKey("purchase_orders.id"), index=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"), index=True)
    qty: Mapped[int] = mapped_column(Integer)
    received: Mapped[int] = mapped_column(Integer, default=0)
    returned: Mapped[int] = mapped_column(Integer, default=0)
    unit_cost: Mapped[Decimal] = mapped_column(Exact(6))  # in `currency`
    currency: Mapped[str | None] = mapped_column(String(3))  # None: the PO's currency
    sku: Mapped[Sku] = relationship(lazy="joined")

    def priced_in(self, po: PurchaseOrder) -> str:
        return self.currency or po.currency


class SkuCost(Base):
    """The moving-average position of one SKU now (all locations), in the base currency. Locked while an
    event changes it, so that concurrent receipts and shipments apply one after the other."""

    __tablename__ = "sku_costs"
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3))
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    value: Mapped[Decimal] = mapped_column(Exact(6))
    last_unit_cost: Mapped[Decimal] = mapped_column(Exact(6))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CostEntry(Base):
    """One change of a SKU's cost position, append-only: what moved where (domain.valuation.CostEffect)
    and the position after it. The latest entry at or before a time values the SKU at that time."""

    __tablename__ = "cost_entries"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    event: Mapped[str] = mapped_column(String(24))
    qty: Mapped[int] = mapped_column(Integer)  # signed: + in, − out
    received: Mapped[Decimal] = mapped_column(Exact(6))
    cogs: Mapped[Decimal] = mapped_column(Exact(6))
    loss: Mapped[Decimal] = mapped_column(Exact(6))
    to_supplier: Mapped[Decimal] = mapped_column(Exact(6))
    on_hand_after: Mapped[int] = mapped_column(Integer)
    value_after: Mapped[Decimal] = mapped_column(Exact(6))
    last_unit_cost: Mapped[Decimal] = mapped_column(Exact(6))
    currency: Mapped[str] = mapped_column(String(3))
    reference: Mapped[str | None] = mapped_column(String(200))
    move_id: Mapped[int | None] = mapped_column(ForeignKey("moves.id"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    order_line_id: Mapped[int | None] = mapped_column(ForeignKey("order_lines.id"))
    __table_args__ = (Index("ix_cost_entries_sku_at", "sku_id", "at"), Index("ix_cost_entries_at", "at"))


class ExchangeRate(Base):
    """How many units of the base currency one unit of `currency` bought on `day`."""

    __tablename__ = "exchange_rates"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    base: Mapped[str] = mapped_column(String(3))
    currency: Mapped[str] = mapped_column(String(3))
    rate: Mapped[Decimal] = mapped_column(Exact(10))
    updated_by: Mapped[str] = mapped_column(String(120))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (UniqueConstraint("base", "currency", "day", name="uq_exchange_rates_base_currency_day"),)


class ChannelTerms(Base):
    """Money settings of a channel: the platform's fee as a percentage of revenue, and whether it may sell
    on-order stock as pre-sale."""

    __tablename__ = "channel_terms"
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"), primary_key=True)
    fee_percent: Mapped[Decimal] = mapped_column(Exact(4), default=Decimal(0))
    presale: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
