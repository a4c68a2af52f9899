"""Checking an opening-stock (or spot-count) file and planning the counts it makes.

A stock file is a count: each (SKU, location) ends at the quantity the file gives, summed over its batches,
converted to the SKU's own unit (3 箱 of a SKU kept in 个, with 1 箱 = 12 个, is 36). SKUs the file does not
name are left alone. Pure: it reads a parsed table and snapshots, and writes nothing."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from omnistock.domain.access import Principal
from omnistock.onboarding import cells
from omnistock.onboarding.report import Change, ImportReport, LocationTotal
from omnistock.onboarding.snapshot import Catalogue, SkuState
from omnistock.onboarding.tabular import Row, Table
from omnistock.onboarding.text import fold
from omnistock.onboarding.unitbook import UnitError

Progress = Callable[[int, int], None]
Key = tuple[int, int]  # (sku id, location id)


@dataclass
class CountPlan:
    """The quantity one SKU will have at one location, from the rows that name it."""

    sku: SkuState
    location: str
    location_id: int
    row: int  # the first row naming it
    qty: int = 0
    rows: list[int] = field(default_factory=list)

    @property
    def key(self) -> Key:
        return (self.sku.id, self.location_id)


@dataclass(frozen=True)
class StockOptions:
    location: str | None = None   # for rows without a location column
    skip_blank_qty: bool = False  # spot-count sheets: rows nobody counted are left out


def check_stock(table: Table, cat: Catalogue, locations: Mapping[str, int], principal: Principal,
                options: StockOptions, progress: Progress | None = None) -> tuple[ImportReport, list[CountPlan]]:
    report = ImportReport("stock", rows=len(table.rows), ignored_headers=table.ignored_headers)
    if options.location is None and "location" not in table.columns:
        report.problem(1, "location", "", "say which location the counts are for (--location, or a location "
                       "column)")
        return report, []
    plans: dict[tuple[str, str], CountPlan] = {}
    seen: dict[tuple[str, str, str], int] = {}
    for i, row in enumerate(table.rows):
        _read_row(row, cat, locations, principal, options, report, plans, seen)
        if progress and (i + 1) % 2000 == 0:
            progress(i + 1, len(table.rows))
    if progress:
        progress(len(table.rows), len(table.rows))
    totals: dict[str, int] = defaultdict(int)
    for plan in plans.values():
        totals[plan.location] += plan.qty
    report.totals = [LocationTotal(loc, qty) for loc, qty in sorted(totals.items())]
    return report, list(plans.values())


def _read_row(row: Row, cat: Catalogue, locations: Mapping[str, int], principal: Principal,
              options: StockOptions, report: ImportReport, plans: dict[tuple[str, str], CountPlan],
              seen: dict[tuple[str, str, str], int]) -> None:
    qty_text = row.values.get("qty", "")
    if options.skip_blank_qty and not qty_text.strip():
        return
    sku = _sku(row, cat, report)
    location = _location(row, locations, principal, options, report)
    qty = _qty(row, qty_text, sku, cat, report)
    batch = fold(row.values.get("batch", ""))
    expiry = row.text("expiry")
    if expiry:
        try:
            cells.calendar_date(expiry)
        except cells.CellError as exc:
            report.problem(row.number, "expiry", expiry, f"bad date: {exc}")
    if sku is None or location is None or qty is None:
        return
    key = (sku.code, location, batch)
    if key in seen:
        what = f"{sku.code} at {location}" + (f" in batch {batch}" if batch else "")
        report.problem(row.number, "sku", row.values.get("sku", ""), f"duplicate row within the file: {what} "
                       f"is already on row {seen[key]}")
        return
    seen[key] = row.number
    plan = plans.get((sku.code, location))
    if plan is None:
        plan = plans[(sku.code, location)] = CountPlan(sku, location, locations[location], row.number)
    plan.qty += qty
    plan.rows.append(row.number)


def _sku(row: Row, cat: Catalogue, report: ImportReport) -> SkuState | None:
    raw = row.values.get("sku", "")
    code = fold(raw)
    if not code:
        report.problem(row.number, "sku", raw, "the SKU is empty")
        return None
    sku = cat.resolve(code)
    if sku is None:
        report.problem(row.number, "sku", raw, "unknown SKU: import it in the catalogue first")
        return None
    if sku.code != raw:
        report.note(row.number, "sku", f"{raw!r} read as {sku.code!r}")
    if sku.is_bundle:
        report.problem(row.number, "sku", raw, f"{sku.code} is a bundle; its stock is kept on its components")
        return None
    return sku


def _location(row: Row, locations: Mapping[str, int], principal: Principal, options: StockOptions,
              report: ImportReport) -> str | None:
    raw = row.values.get("location", "") or options.location or ""
    code = fold(raw)
    if code not in locations:
        report.problem(row.number, "location", raw, "unknown location: add it first (omnistock location add)")
        return None
    if not principal.sees_location(code):
        report.problem(row.number, "location", raw, "this location is outside the token's scope")
        return None
    return code


def _qty(row: Row, text: str, sku: SkuState | None, cat: Catalogue, report: ImportReport) -> int | None:
    try:
        qty = cells.whole(text)
    except cells.CellError as exc:
        report.problem(row.number, "qty", text, f"the quantity {exc}")
        return None
    unit_text = row.text("unit")
    if not unit_text or sku is None:
        return qty
    unit = cat.units.resolve(unit_text)
    if unit is None:
        report.problem(row.number, "unit", unit_text, "unknown unit (define it with `omnistock unit define`)")
        return None
    try:
        converted = cat.units.convert(qty, unit, sku.unit)
    except UnitError as exc:
        report.problem(row.number, "unit", unit_text, str(exc))
        return None
    if unit != sku.unit:
        report.note(row.number, "qty", f"{qty} {unit} counted as {converted} {sku.unit}")
    return converted


def plan_counts(plans: list[CountPlan], on_hand: Mapping[Key, int], report: ImportReport) -> list[CountPlan]:
    """Fill the report's created/updated/unchanged against what is on hand; return the plans that change it."""
    changing: list[CountPlan] = []
    for plan in plans:
        before = on_hand.get(plan.key)
        if before == plan.qty or (before is None and plan.qty == 0):
            report.unchanged += 1
            continue
        action = "created" if before is None else "updated"
        if action == "created":
            report.created += 1
        else:
            report.updated += 1
        report.changes.append(Change(plan.row, f"{plan.sku.code}@{plan.location}", action,
                                     {"on_hand": (before, plan.qty)}))
        changing.append(plan)
    return changing
