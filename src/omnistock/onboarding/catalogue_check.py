"""Checking a catalogue file against the rules and the database, and planning what applying it changes.

Pure: it reads a parsed table and a snapshot of the catalogue, and writes nothing. An empty cell means "not
given": a new SKU takes the default (unit pcs, no barcode, safety stock 0, no components), an existing one
keeps what it has, so a blank never erases data."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from omnistock.onboarding import cells
from omnistock.onboarding.barcodes import barcode_problem
from omnistock.onboarding.bundles import ComponentsError, find_cycle, parse_components
from omnistock.onboarding.report import Change, ImportReport
from omnistock.onboarding.snapshot import Catalogue, SkuState
from omnistock.onboarding.tabular import Row, Table
from omnistock.onboarding.text import fold
from omnistock.services.catalogue import CODE_RE

Progress = Callable[[int, int], None]
FIELDS = ("name", "unit", "barcode", "safety_stock", "components")


@dataclass
class SkuPlan:
    """One SKU as the file wants it, complete: existing values filled in where the file is blank."""

    row: int
    code: str
    existing: SkuState | None
    name: str = ""
    unit: str = "pcs"
    barcode: str | None = None
    safety_stock: int = 0
    components: tuple[tuple[str, int], ...] = ()
    components_cell: str = ""  # as written; read once every code of the file is known
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    @property
    def is_bundle(self) -> bool:
        return bool(self.components)


def check_catalogue(table: Table, cat: Catalogue, progress: Progress | None = None) -> tuple[ImportReport,
                                                                                          list[SkuPlan]]:
    report = ImportReport("catalogue", rows=len(table.rows), ignored_headers=table.ignored_headers)
    plans: list[SkuPlan] = []
    seen: dict[str, int] = {}
    for i, row in enumerate(table.rows):
        plan = _read_row(row, cat, report, seen)
        if plan is not None:
            plans.append(plan)
        if progress and (i + 1) % 2000 == 0:
            progress(i + 1, len(table.rows))
    rows_of = {p.code: p.row for p in plans}
    for plan in plans:
        _check_components(plan, cat, rows_of, report)
    _check_bundles(plans, cat, report)
    _check_barcodes(plans, cat, rows_of, report)
    if progress:
        progress(len(table.rows), len(table.rows))
    _diff(plans, report)
    return report, plans


def _read_row(row: Row, cat: Catalogue, report: ImportReport, seen: dict[str, int]) -> SkuPlan | None:
    raw = row.values.get("code", "")
    code = fold(raw)
    if not code:
        report.problem(row.number, "code", raw, "the code is empty")
        return None
    if not CODE_RE.match(code):
        report.problem(row.number, "code", raw, "a code is 1–64 letters, digits, '.', '_', '-' or '/', "
                       "starting with a letter or digit")
        return None
    if code != raw:
        report.note(row.number, "code", f"{raw!r} read as {code!r}")
    existing = cat.resolve(code)
    if existing is not None and existing.code != code:
        report.note(row.number, "code", f"{code!r} is an alias of {existing.code!r}; the row updates it")
        code = existing.code
    if code in seen:
        report.problem(row.number, "code", raw, f"duplicate code within the file: {code} is already on row "
                       f"{seen[code]}")
        return None
    seen[code] = row.number
    plan = SkuPlan(row.number, code, existing)
    if existing is not None:
        plan.name, plan.unit, plan.barcode = existing.name, existing.unit, existing.barcode
        plan.safety_stock, plan.components = existing.safety_stock, existing.components
    _read_fields(row, plan, cat, report)
    return plan


def _read_fields(row: Row, plan: SkuPlan, cat: Catalogue, report: ImportReport) -> None:
    name = row.values.get("name", "").strip()
    if name:
        plan.name = name[:200]
    elif plan.existing is None:
        report.problem(row.number, "name", "", "the name is empty")
    unit_text = row.text("unit")
    if unit_text:
        unit = cat.units.resolve(unit_text)
        if unit is None:
            known = ", ".join(f"{u.code}/{'/'.join(u.names)}" if u.names else u.code for u in cat.units.units.values())
            report.problem(row.number, "unit", unit_text, f"unknown unit (known: {known}; define others with "
                           "`omnistock unit define`)")
        elif plan.existing is not None and plan.existing.has_stock and unit != plan.existing.unit:
            report.problem(row.number, "unit", unit_text, f"{plan.code} holds stock counted in "
                           f"{plan.existing.unit}; changing its unit would change what its quantities mean")
        else:
            plan.unit = unit
    barcode = cells.text(row.text("barcode"))
    if barcode:
        why = barcode_problem(barcode)
        if why:
            report.problem(row.number, "barcode", barcode, why)
        plan.barcode = barcode
    plan.components_cell = row.values.get("components", "").strip()
    safety = row.text("safety_stock")
    if safety:
        try:
            plan.safety_stock = cells.whole(safety)
        except cells.CellError as exc:
            report.problem(row.number, "safety_stock", safety, f"safety stock {exc}")


def _check_components(plan: SkuPlan, cat: Catalogue, rows_of: dict[str, int], report: ImportReport) -> None:
    """Read the components cell now that every code of the file is known (a component may come later)."""
    raw = plan.components_cell
    if not raw:
        return
    try:
        parts = parse_components(raw)
    except ComponentsError as exc:
        report.problem(plan.row, "components", raw, str(exc))
        return
    resolved: list[tuple[str, int]] = []
    for part in parts:
        known = cat.resolve(part.sku)
        target = part.sku if part.sku in rows_of else (known.code if known is not None else None)
        if target is None:
            report.problem(plan.row, "components", raw, f"unknown component {part.sku}: it is neither in the "
                           "catalogue nor in this file")
        elif target == plan.code:
            report.problem(plan.row, "components", raw, f"the bundle {plan.code} cannot contain itself")
        else:
            resolved.append((target, part.qty))
    if plan.existing is not None and plan.existing.has_stock and not plan.existing.is_bundle and resolved:
        report.problem(plan.row, "components", raw, f"{plan.code} holds stock of its own; a bundle's stock is "
                       "kept on its components (count it to 0 or use a new code)")
    plan.components = tuple(sorted(resolved))


def _check_bundles(plans: list[SkuPlan], cat: Catalogue, report: ImportReport) -> None:
    """A bundle made of bundles is refused (as the core does); a loop is named as the loop it is."""
    contents = {code: [c for c, _ in s.components] for code, s in cat.skus.items() if s.components}
    for plan in plans:
        contents[plan.code] = [c for c, _ in plan.components]
    bundles = {code for code, parts in contents.items() if parts}
    for plan in plans:
        if not plan.components:
            continue
        cycle = find_cycle(plan.code, contents)
        if cycle:
            report.problem(plan.row, "components", _shown(plan), "bundle cycle: " + " → ".join(cycle) +
                           " (a bundle cannot contain itself through other bundles)")
            continue
        for code, _ in plan.components:
            if code in bundles:
                report.problem(plan.row, "components", _shown(plan), f"{code} is itself a bundle; list its "
                               "components directly")


def _check_barcodes(plans: list[SkuPlan], cat: Catalogue, rows_of: dict[str, int], report: ImportReport) -> None:
    """Two SKUs may not end up with one barcode, counting both the database and the file."""
    final = {code: s.barcode for code, s in cat.skus.items()}
    final.update({p.code: p.barcode for p in plans})
    holders: dict[str, list[str]] = defaultdict(list)
    for code, barcode in final.items():
        if barcode:
            holders[barcode].append(code)
    for plan in plans:
        if not plan.barcode or len(holders[plan.barcode]) < 2:
            continue
        if plan.existing is not None and plan.barcode == plan.existing.barcode:
            others_in_file = [c for c in holders[plan.barcode] if c != plan.code and c in rows_of]
            if not others_in_file:
                continue  # an old clash the file does not touch: `omnistock repair list` shows it
        others = [c for c in holders[plan.barcode] if c != plan.code]
        where = ", ".join(f"{c} (row {rows_of[c]})" if c in rows_of else c for c in others)
        report.problem(plan.row, "barcode", plan.barcode, f"barcode already used by another SKU: {where}")


def _shown(plan: SkuPlan) -> str:
    return ";".join(f"{c}*{q}" for c, q in plan.components)


def _diff(plans: list[SkuPlan], report: ImportReport) -> None:
    for plan in plans:
        after = _fields(plan)
        if plan.existing is None:
            plan.changes = {k: (None, v) for k, v in after.items() if v is not None}
            report.created += 1
            report.changes.append(Change(plan.row, plan.code, "created", plan.changes))
            continue
        before = _state_fields(plan.existing)
        plan.changes = {k: (before[k], after[k]) for k in FIELDS if before[k] != after[k]}
        if plan.changes:
            report.updated += 1
            report.changes.append(Change(plan.row, plan.code, "updated", plan.changes))
        else:
            report.unchanged += 1


def _fields(plan: SkuPlan) -> dict[str, Any]:
    return {"name": plan.name, "unit": plan.unit, "barcode": plan.barcode, "safety_stock": plan.safety_stock,
            "components": _shown(plan) or None}


def _state_fields(state: SkuState) -> dict[str, Any]:
    return {"name": state.name, "unit": state.unit, "barcode": state.barcode, "safety_stock": state.safety_stock,
            "components": ";".join(f"{c}*{q}" for c, q in state.components) or None}
