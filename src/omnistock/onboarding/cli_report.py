"""How an import report reads in a terminal: the summary, the notes, the problems by row and column, the
changes with their fields (before → after), and the per-location totals."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from omnistock.onboarding.report import ImportReport

BIG_FILE = 5000  # rows from which a progress bar is shown


def _shown(value: Any) -> str:
    return "—" if value is None or value == "" else str(value)


def print_report(out: Console, err: Console, report: ImportReport, *, show: int, as_json: bool) -> None:
    if as_json:
        out.print_json(json.dumps(report.as_dict(), ensure_ascii=False, default=str))
        return
    if report.ignored_headers:
        err.print(f"ignored column(s): {', '.join(report.ignored_headers)}", markup=False)
    if report.notes:
        err.print(f"{len(report.notes)} value(s) read differently from how they were written:", markup=False)
        for note in report.notes[:show]:
            err.print(f"  row {note.row}, {note.column}: {note.message}", markup=False, highlight=False)
    if report.problems:
        table = Table("Row", "Column", "Value", "Problem", title="Problems (nothing was written)")
        for p in report.problems[:max(show, 200)]:
            table.add_row(str(p.row), p.column, p.value, p.message)
        err.print(table)
    elif report.changes:
        table = Table("Row", "What", "Action", "Changes")
        for c in report.changes[:show]:
            fields = "; ".join(f"{k}: {_shown(b)} → {_shown(a)}" for k, (b, a) in c.fields.items())
            table.add_row(str(c.row), c.key, c.action, fields)
        out.print(table)
        if len(report.changes) > show:
            out.print(f"… and {len(report.changes) - show} more change(s) (--show N to see more)")
    if report.totals:
        table = Table("Location", "File total", "Ledger total", "Check")
        for t in report.totals:
            check = "" if t.ledger_total is None else ("ok" if t.matches else "DIFFERS")
            table.add_row(t.location, str(t.file_total), _shown(t.ledger_total), check)
        out.print(table)
    if report.backup:
        out.print(f"backup taken before applying: {report.backup}")
    out.print(report.summary(), highlight=False)


@contextmanager
def progress_bar(console: Console, label: str) -> Iterator[Callable[[int, int], None]]:
    """A callback for long checks: draws a bar once a file is big enough to be worth watching."""
    bar = Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console,
                   transient=True)
    task: list[Any] = []

    def update(done: int, total: int) -> None:
        if total < BIG_FILE:
            return
        if not task:
            bar.start()
            task.append(bar.add_task(label, total=total))
        bar.update(task[0], completed=done)
    try:
        yield update
    finally:
        if task:
            bar.stop()
