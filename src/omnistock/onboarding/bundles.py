"""Bundle components as written in a spreadsheet (`SKU*qty;SKU*qty`) and the bundle rules that span rows:
a bundle may not contain itself, directly or through other bundles."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from omnistock.onboarding.text import fold


@dataclass(frozen=True)
class Part:
    sku: str
    qty: int


class ComponentsError(ValueError):
    """A components cell that does not read as `SKU*qty;SKU*qty`."""


def parse_components(cell: str) -> list[Part]:
    """`A*2;B*1` (also `A×2；B`, with full-width marks): a missing quantity is 1."""
    parts: list[Part] = []
    normalized = fold(cell).replace("×", "*")
    for piece in (p.strip() for p in normalized.replace(",", ";").split(";")):
        if not piece:
            continue
        code, star, qty = piece.partition("*")
        code, qty = code.strip(), qty.strip()
        if not code:
            raise ComponentsError(f"{piece!r} has no SKU before '*'")
        if star and not qty.isdigit():
            raise ComponentsError(f"the quantity of {code} must be a whole number above 0, as in {code}*2")
        amount = int(qty) if star else 1
        if amount < 1:
            raise ComponentsError(f"the quantity of {code} must be above 0")
        if any(p.sku == code for p in parts):
            raise ComponentsError(f"{code} is listed twice")
        parts.append(Part(code, amount))
    return parts


def find_cycle(start: str, contents: Mapping[str, Sequence[str]]) -> list[str] | None:
    """The path by which bundle `start` contains itself (start → ... → start), or None."""
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    seen: set[str] = set()
    while stack:
        node, path = stack.pop()
        for child in contents.get(node, ()):
            if child == start:
                return [*path, start]
            if child not in seen:
                seen.add(child)
                stack.append((child, [*path, child]))
    return None
