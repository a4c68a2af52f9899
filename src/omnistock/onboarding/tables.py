"""Tables of onboarding: the merchant's own units of measure, other names of SKUs, and the imports applied."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from omnistock.store.tables import Base, Id
from omnistock.store.types import utcnow


class Unit(Base):
    """A unit the merchant defined or redefined: `1 code = factor base` (1 box = 12 pcs). Built-in units
    (pcs, box, kg, g) live in code; a row here with a built-in code gives it a conversion."""

    __tablename__ = "units"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str | None] = mapped_column(String(32))  # another name it is written as (箱)
    base: Mapped[str | None] = mapped_column(String(16))
    factor: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SkuAlias(Base):
    """Another code that means this SKU: an old ERP code, a platform's code, the code of a merged duplicate."""

    __tablename__ = "sku_aliases"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"), index=True)
    alias: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(String(32), default="manual")  # manual | erp | platform | merge | import
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ImportRun(Base):
    """One applied import: what file (by its hash), what it changed, and where the backup before it went."""

    __tablename__ = "import_runs"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # catalogue | stock | spotcheck | listings
    file_name: Mapped[str | None] = mapped_column(String(200))
    file_sha256: Mapped[str] = mapped_column(String(64), index=True)
    rows: Mapped[int] = mapped_column(Integer)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    backup: Mapped[str | None] = mapped_column(String(500))
    actor: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    totals: Mapped[dict[str, Any]] = mapped_column(default=dict)  # per location: file total and ledger total
