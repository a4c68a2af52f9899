"""What an import found and did: problems by row and column, the changes it plans (or made), notes about
values read differently from how they were written, and the per-location totals it checked."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from omnistock.errors import Invalid


@dataclass(frozen=True)
class Problem:
    """One reason the file cannot be imported: `row` as the spreadsheet shows it (the header is row 1)."""

    row: int
    column: str
    value: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "value": self.value, "message": self.message}

    def line(self) -> str:
        return f"row {self.row}, {self.column} = {self.value!r}: {self.message}"


@dataclass(frozen=True)
class Note:
    """A value read differently from how it was written (a full-width code, an alias, boxes as pieces)."""

    row: int
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass(frozen=True)
class Change:
    """One thing the import creates or updates: `key` names it (a SKU code, or SKU@location), `fields` maps
    each changed field to (before, after); before is None for a creation."""

    row: int
    key: str
    action: str  # created | updated
    fields: dict[str, tuple[Any, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "key": self.key, "action": self.action,
                "fields": {k: {"before": b, "after": a} for k, (b, a) in self.fields.items()}}


@dataclass(frozen=True)
class LocationTotal:
    location: str
    file_total: int
    ledger_total: int | None = None  # after applying: what the ledger holds for the file's SKUs

    @property
    def matches(self) -> bool:
        return self.ledger_total is None or self.ledger_total == self.file_total


@dataclass
class ImportReport:
    kind: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    changes: list[Change] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    totals: list[LocationTotal] = field(default_factory=list)
    ignored_headers: tuple[str, ...] = ()
    dry_run: bool = True
    applied: bool = False
    run_id: int | None = None
    backup: str | None = None
    previous_run: str | None = None  # "import #3 on 2026-11-26" when this very file was applied before

    def problem(self, row: int, column: str, value: str, message: str) -> None:
        self.problems.append(Problem(row, column, value, message))

    def note(self, row: int, column: str, message: str) -> None:
        self.notes.append(Note(row, column, message))

    @property
    def has_changes(self) -> bool:
        return bool(self.created or self.updated)

    def summary(self) -> str:
        if self.problems:
            return f"{len(self.problems)} problem(s) in {self.rows} rows; nothing was written"
        counts = f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"
        if not self.has_changes:
            again = f" (this file was applied as {self.previous_run})" if self.previous_run else ""
            return f"nothing to change: all {self.rows} rows match the database{again}; {counts}"
        if self.applied:
            return f"imported {self.rows} rows: {counts}"
        return f"dry run, nothing written: would be {counts}"

    def raise_if_problems(self) -> None:
        if self.problems:
            first = self.problems[0]
            raise Invalid(f"{self.summary()}; first: {first.line()}", field=first.column,
                          errors=[{k: str(v) for k, v in p.as_dict().items()} for p in self.problems])

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "rows": self.rows, "created": self.created, "updated": self.updated,
                "unchanged": self.unchanged, "dry_run": self.dry_run, "applied": self.applied,
                "summary": self.summary(), "changes": [c.as_dict() for c in self.changes],
                "problems": [p.as_dict() for p in self.problems], "notes": [n.as_dict() for n in self.notes],
                "totals": [{"location": t.location, "file_total": t.file_total, "ledger_total": t.ledger_total,
                            "matches": t.matches} for t in self.totals],
                "ignored_headers": list(self.ignored_headers), "run_id": self.run_id, "backup": self.backup,
                "previous_run": self.previous_run}
