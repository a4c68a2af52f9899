"""Units of measure and their conversions, as pure rules: built-in pcs/个, box/箱, kg/千克 and g/克, plus
the merchant's own (1 箱 = 12 个). Stock is kept in a SKU's own unit; quantities in another unit are
converted to it and must come out whole."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from omnistock.onboarding.text import fold


@dataclass(frozen=True)
class UnitDef:
    code: str
    names: tuple[str, ...] = ()
    base: str | None = None  # 1 code = factor base
    factor: int | None = None


BUILT_IN: tuple[UnitDef, ...] = (
    UnitDef("pcs", ("个",)),
    UnitDef("box", ("箱",)),  # how many pieces a box holds is the merchant's to say
    UnitDef("kg", ("千克", "公斤"), base="g", factor=1000),
    UnitDef("g", ("克",)),
)


class UnitError(ValueError):
    """A unit that is unknown or a quantity that does not convert."""


@dataclass
class UnitBook:
    units: dict[str, UnitDef] = field(default_factory=dict)
    _names: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, defined: Iterable[UnitDef] = ()) -> UnitBook:
        """The built-in units with the merchant's definitions laid over them."""
        book = cls()
        for unit in BUILT_IN:
            book.add(unit)
        for unit in defined:
            old = book.units.get(unit.code)
            names = tuple(dict.fromkeys((*(old.names if old else ()), *unit.names)))
            book.add(UnitDef(unit.code, names, unit.base, unit.factor))
        return book

    def add(self, unit: UnitDef) -> None:
        self.units[unit.code] = unit
        for name in (unit.code, *unit.names):
            self._names[fold(name).lower()] = unit.code

    def resolve(self, text: str) -> str | None:
        """The unit code written as `text` (code or any of its names, any width and case), or None."""
        return self._names.get(fold(text).lower())

    def _root(self, code: str) -> tuple[str, int]:
        """The unit at the end of `code`'s chain of definitions and how many of it one `code` is."""
        multiplier, seen = 1, {code}
        unit = self.units[code]
        while unit.base is not None and unit.factor is not None:
            if unit.base in seen or unit.base not in self.units:
                break
            multiplier *= unit.factor
            seen.add(unit.base)
            unit = self.units[unit.base]
        return unit.code, multiplier

    def convert(self, qty: int, from_unit: str, to_unit: str) -> int:
        """`qty` in `from_unit` expressed in `to_unit`, which must be a whole number."""
        if from_unit == to_unit:
            return qty
        root_from, mul_from = self._root(from_unit)
        root_to, mul_to = self._root(to_unit)
        if root_from != root_to:
            raise UnitError(f"no conversion from {from_unit} to {to_unit}: define how many {to_unit} one "
                            f"{from_unit} holds (omnistock unit define {from_unit} N {to_unit})")
        units = qty * mul_from
        if units % mul_to:
            raise UnitError(f"{qty} {from_unit} is not a whole number of {to_unit}")
        return units // mul_to

    def check_definition(self, code: str, base: str, factor: int) -> None:
        """Refuse a definition that is not a positive whole factor or that would make a loop."""
        if factor < 1:
            raise UnitError("a unit holds at least 1 of its base unit")
        if base == code:
            raise UnitError("a unit cannot be defined in itself")
        if base in self.units and self._root(base)[0] == code:
            raise UnitError(f"{base} is already defined in {code}; that would make a loop")
