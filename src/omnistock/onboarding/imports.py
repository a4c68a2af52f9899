"""Running an import (catalogue, stock, platform listings): read the file, check every row against the database,
stop there on any problem or on a dry run, else back up the database and apply everything in one transaction
(all rows or none), then check the ledger's totals per location against the file's. Importing the same file
again changes nothing."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from omnistock.domain.access import Principal
from omnistock.errors import Conflict
from omnistock.onboarding import backup, columns
from omnistock.onboarding.catalogue_apply import apply_catalogue
from omnistock.onboarding.catalogue_check import check_catalogue
from omnistock.onboarding.report import ImportReport, LocationTotal
from omnistock.onboarding.snapshot import load_catalogue, location_ids
from omnistock.onboarding.stock_apply import apply_counts, ledger_totals, on_hand_of
from omnistock.onboarding.stock_check import CountPlan, StockOptions, check_stock, plan_counts
from omnistock.onboarding.tables import ImportRun
from omnistock.onboarding.tabular import Table, read_table
from omnistock.services import audit
from omnistock.store.db import Database
from omnistock.sync import listing_import

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ImportFile:
    data: bytes
    name: str | None = None
    content_type: str | None = None

    @cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def import_catalogue(db: Database, file: ImportFile, principal: Principal, *, dry_run: bool,
                     progress: Progress | None = None) -> ImportReport:
    table = read_table(file.data, columns.CATALOGUE, filename=file.name, content_type=file.content_type)
    with _unit_of_work(db, dry_run) as session:
        report, plans = check_catalogue(table, load_catalogue(session), progress)
        report.previous_run, report.dry_run = _previous_run(session, "catalogue", file.sha256), dry_run
        if dry_run or report.problems or not report.has_changes:
            return report
        taken = backup.automatic_backup(db, "import-catalogue")
        apply_catalogue(session, plans, actor=principal.name, reason=_reason("catalogue", file))
        _record(session, report, file, principal, str(taken.path))
    return report


def import_stock(db: Database, file: ImportFile, principal: Principal, *, location: str | None, dry_run: bool,
                 progress: Progress | None = None, spot_check: bool = False) -> ImportReport:
    """A stock file (or a filled-in spot-count sheet, whose uncounted rows are skipped) as counts."""
    kind = "spotcheck" if spot_check else "stock"
    table = read_table(file.data, columns.STOCK, filename=file.name, content_type=file.content_type)
    options = StockOptions(location=location, skip_blank_qty=spot_check)
    with _unit_of_work(db, dry_run) as session:
        report, every, changing = _plan_stock(session, table, principal, options, progress)
        report.kind, report.dry_run = kind, dry_run
        report.previous_run = _previous_run(session, kind, file.sha256)
        if dry_run or report.problems or not report.has_changes:
            return report
        taken = backup.automatic_backup(db, f"import-{kind}")
        apply_counts(session, changing, principal, reason=_reason(kind, file),
                     reference=f"import:{file.sha256[:12]}")
        _check_totals(session, report, every)
        _record(session, report, file, principal, str(taken.path))
    return report


def import_listings(db: Database, file: ImportFile, principal: Principal, *, channel: str,
                    dry_run: bool) -> listing_import.ImportPlan:
    """A channel's platform items mapped to SKUs (sync.listing_import), with the automatic backup first. A dry
    run returns the plan and its bad rows; applying a file with any bad row refuses it whole (Invalid)."""
    source = listing_import.read_rows(file.data, content_type=file.content_type, filename=file.name)
    with _unit_of_work(db, dry_run) as session:
        plan = listing_import.plan_import(session, channel, source.rows, principal, source.errors)
        plan.ignored_headers = source.ignored_headers
        if dry_run:
            return plan
        plan.errors.raise_if_any("the listings were not imported")
        if not plan.has_changes:
            return plan
        taken = str(backup.automatic_backup(db, "import-listings").path)
        listing_import.write_plan(session, plan, principal)
        run = _record_run(session, "listings", file, principal, taken, rows=len(source.rows),
                          created=plan.count("create"), updated=plan.count("update"),
                          unchanged=plan.count("unchanged"), totals={})
        plan.backup, plan.run_id = taken, run.id
    return plan


@contextmanager
def _unit_of_work(db: Database, dry_run: bool) -> Iterator[Session]:
    """One transaction from the check to the commit, so that what was checked is what gets written (SQLite: the
    write lock is taken first). The backup, taken inside it, reads through its own connection: the database as
    it was before this import."""
    with db.reading() if dry_run else db.transaction() as session:
        yield session


def _plan_stock(session: Session, table: Table, principal: Principal, options: StockOptions,
                progress: Progress | None) -> tuple[ImportReport, list[CountPlan], list[CountPlan]]:
    """(report, every count of the file, the counts that change something)."""
    cat = load_catalogue(session, full=False)
    report, plans = check_stock(table, cat, location_ids(session), principal, options, progress)
    if report.problems:
        return report, plans, []
    return report, plans, plan_counts(plans, on_hand_of(session, [p.key for p in plans]), report)


def _check_totals(session: Session, report: ImportReport, plans: list[CountPlan]) -> None:
    """After applying: for every location, the ledger must hold exactly the file's total for the file's SKUs.
    A difference rolls the whole import back."""
    keys: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for plan in plans:
        keys[plan.location].append(plan.key)
    held = ledger_totals(session, keys)
    checked = []
    for total in report.totals:
        ledger_total = held.get(total.location, 0)
        checked.append(LocationTotal(total.location, total.file_total, ledger_total))
        if ledger_total != total.file_total:
            raise Conflict(f"after the import {total.location} holds {ledger_total} for the file's SKUs, but the "
                           f"file says {total.file_total}; nothing was written", field="qty")
    report.totals = checked


def _reason(kind: str, file: ImportFile) -> str:
    return f"import {kind} {file.name or 'upload'} (sha256 {file.sha256[:12]})"


def _previous_run(session: Session, kind: str, sha256: str) -> str | None:
    run = session.scalar(select(ImportRun).where(ImportRun.kind == kind, ImportRun.file_sha256 == sha256)
                         .order_by(ImportRun.id.desc()).limit(1))
    return f"import #{run.id} on {run.at:%Y-%m-%d %H:%M} UTC" if run is not None else None


def _record(session: Session, report: ImportReport, file: ImportFile, principal: Principal, taken: str) -> None:
    totals = {t.location: {"file": t.file_total, "ledger": t.ledger_total} for t in report.totals}
    run = _record_run(session, report.kind, file, principal, taken, rows=report.rows, created=report.created,
                      updated=report.updated, unchanged=report.unchanged, totals=totals)
    report.dry_run, report.applied, report.run_id, report.backup = False, True, run.id, taken


def _record_run(session: Session, kind: str, file: ImportFile, principal: Principal, taken: str, *, rows: int,
                created: int, updated: int, unchanged: int, totals: dict[str, Any]) -> ImportRun:
    """The import run (what `import runs` lists, with the backup before it) and its audit entry."""
    run = ImportRun(kind=kind, file_name=(file.name or "")[:200] or None, file_sha256=file.sha256, rows=rows,
                    created=created, updated=updated, unchanged=unchanged, backup=taken[:500],
                    actor=principal.name, totals=totals)
    session.add(run)
    session.flush()
    audit.record(session, actor=principal.name, action=f"import.{kind}", entity=f"import:{run.id}",
                 after={"file": file.name, "sha256": file.sha256, "rows": rows, "created": created,
                        "updated": updated, "unchanged": unchanged, "backup": taken},
                 reason=_reason(kind, file))
    return run
