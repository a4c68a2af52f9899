"""The merchant's units of measure: defining a conversion (1 箱 = 12 个), audited, listing what is known, and
converting a quantity written in another unit into a SKU's own (buy in boxes, count and sell in pieces)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from omnistock.errors import Invalid
from omnistock.onboarding.snapshot import unit_book
from omnistock.onboarding.tables import Unit
from omnistock.onboarding.text import fold
from omnistock.onboarding.unitbook import UnitError
from omnistock.services import audit
from omnistock.services.lookup import sku_by_code


@dataclass(frozen=True)
class UnitView:
    code: str
    names: tuple[str, ...]
    base: str | None
    factor: int | None


def define_unit(session: Session, code: str, factor: int, base: str, *, name: str | None = None,
                actor: str) -> UnitView:
    """`1 code = factor base`. A built-in or known unit may be written by any of its names (箱 is box)."""
    book = unit_book(session)
    code = book.resolve(code) or fold(code).lower()
    if not code or len(code) > 16:
        raise Invalid("a unit code is 1–16 characters", field="code")
    base_code = book.resolve(base)
    if base_code is None:
        raise Invalid(f"unknown base unit {base!r}", field="base")
    try:
        book.check_definition(code, base_code, factor)
    except UnitError as exc:
        raise Invalid(str(exc), field="factor") from None
    row = session.scalar(select(Unit).where(Unit.code == code))
    before = None if row is None else {"name": row.name, "base": row.base, "factor": row.factor}
    if row is None:
        row = Unit(code=code)
        session.add(row)
    row.base, row.factor = base_code, factor
    if name:
        row.name = fold(name)[:32]
    audit.record(session, actor=actor, action="unit.define", entity=f"unit:{code}", before=before,
                 after={"name": row.name, "base": base_code, "factor": factor})
    session.flush()
    unit = unit_book(session).units[code]
    return UnitView(unit.code, unit.names, unit.base, unit.factor)


def list_units(session: Session) -> list[UnitView]:
    return [UnitView(u.code, u.names, u.base, u.factor) for u in unit_book(session).units.values()]


def in_sku_unit(session: Session, sku_code: str, qty: int, unit: str) -> int:
    """`qty` written in `unit` (any of its names: 箱 is box) as a whole number of the SKU's own unit; the sign is
    kept (an adjustment of −1 box is −12 pcs). Refused (Invalid, field `unit`) when the unit is unknown, has no
    conversion to the SKU's, or does not come out whole."""
    book = unit_book(session)
    sku = sku_by_code(session, sku_code)
    code = book.resolve(unit)
    if code is None:
        known = ", ".join("/".join((u.code, *u.names)) for u in book.units.values())
        raise Invalid(f"unknown unit {unit!r} (known: {known})", field="unit")
    own = book.resolve(sku.unit)
    if own is None:
        raise Invalid(f"{sku.code} is counted in {sku.unit!r}, which converts to no other unit", field="unit")
    try:
        converted = book.convert(abs(qty), code, own)
    except UnitError as exc:
        raise Invalid(str(exc), field="unit") from None
    return -converted if qty < 0 else converted
