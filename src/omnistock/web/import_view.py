"""What the console shows of an import, whichever service ran it: the counts, the changes with their fields
(before → after), the problems by row and column, the notes and the per-location totals, as the CLI prints them.
A catalogue or stock import answers with an `ImportReport`, a listing import with an `ImportPlan`; both become
one `ImportView`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from omnistock.onboarding.report import ImportReport, LocationTotal, Note
from omnistock.sync.listing_import import ImportPlan

SHOWN = 200  # changes and problems listed on the page (the counts cover the whole file)
KINDS = ("catalogue", "stock", "listings", "spotcheck")


@dataclass(frozen=True)
class ProblemLine:
    row: int | None
    column: str
    value: str
    message: str


@dataclass(frozen=True)
class ChangeLine:
    row: int | None
    key: str
    action: str  # created | updated
    fields: list[tuple[str, Any, Any]]


@dataclass
class ImportView:
    kind: str
    rows: int
    created: int
    updated: int
    unchanged: int
    dry_run: bool
    applied: bool
    problems: list[ProblemLine] = field(default_factory=list)
    problem_count: int = 0
    changes: list[ChangeLine] = field(default_factory=list)
    change_count: int = 0
    notes: list[Note] = field(default_factory=list)
    totals: list[LocationTotal] = field(default_factory=list)
    ignored_headers: tuple[str, ...] = ()
    backup: str | None = None
    run_id: int | None = None
    previous_run: str | None = None

    @property
    def has_changes(self) -> bool:
        return bool(self.created or self.updated)

    @property
    def can_apply(self) -> bool:
        """Offered for confirmation: a clean dry run that would change something."""
        return self.dry_run and not self.problem_count and self.has_changes

    @property
    def checked_totals(self) -> bool:
        return any(t.ledger_total is not None for t in self.totals)


def of_report(report: ImportReport) -> ImportView:
    problems = [ProblemLine(p.row, p.column, p.value, p.message) for p in report.problems[:SHOWN]]
    changes = [ChangeLine(c.row, c.key, c.action, [(k, b, a) for k, (b, a) in c.fields.items()])
               for c in report.changes[:SHOWN]]
    return ImportView(report.kind, report.rows, report.created, report.updated, report.unchanged,
                      dry_run=report.dry_run and not report.applied, applied=report.applied, problems=problems,
                      problem_count=len(report.problems), changes=changes, change_count=len(report.changes),
                      notes=report.notes[:SHOWN], totals=report.totals, ignored_headers=report.ignored_headers,
                      backup=report.backup, run_id=report.run_id, previous_run=report.previous_run)


def of_plan(plan: ImportPlan, *, dry_run: bool) -> ImportView:
    """A listing import: a created listing shows what it maps, an updated one what it changes."""
    errors = plan.errors.in_order()
    changes = []
    for item in plan.items:
        if item.action == "unchanged":
            continue
        after = {"sku": item.sku, "pack_size": item.pack_size, "external_sku": item.external_sku}
        before = item.before or {}
        fields = [(k, before.get(k), v) for k, v in after.items()
                  if item.action == "create" and v is not None or item.action == "update" and before.get(k) != v]
        changes.append(ChangeLine(item.row, item.external_id, "created" if item.action == "create" else "updated",
                                  fields))
    bad_rows = {e.row for e in errors}
    applied = not dry_run and not errors and plan.has_changes
    return ImportView("listings", len(plan.items) + len(bad_rows), plan.count("create"), plan.count("update"),
                      plan.count("unchanged"), dry_run=dry_run, applied=applied,
                      problems=[ProblemLine(e.row, e.field, "", e.message) for e in errors[:SHOWN]],
                      problem_count=len(errors), changes=changes[:SHOWN], change_count=len(changes),
                      ignored_headers=plan.ignored_headers, backup=plan.backup, run_id=plan.run_id)
