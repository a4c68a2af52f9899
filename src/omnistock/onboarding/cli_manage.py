"""`omnistock unit`, `omnistock repair` and `omnistock backup`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from omnistock import cli as core
from omnistock.config import get_settings
from omnistock.onboarding import backup, repair, restore, units

unit_app = typer.Typer(help="Units of measure and conversions (1 箱 = 12 个).", no_args_is_help=True)
repair_app = typer.Typer(help="Bad data with a suggested fix, applied only with a reason.", no_args_is_help=True)
backup_app = typer.Typer(help="Consistent backups while running; restore into an empty database.",
                         no_args_is_help=True)


@unit_app.command("define")
def unit_define(code: Annotated[str, typer.Argument(help="The unit, e.g. box or 箱.")],
                factor: Annotated[int, typer.Argument(help="How many base units one holds.")],
                base: Annotated[str, typer.Argument(help="The base unit, e.g. pcs or 个.")],
                name: Annotated[str | None, typer.Option(help="Another name it is written as.")] = None) -> None:
    """Say that 1 CODE = FACTOR BASE, e.g. `omnistock unit define 箱 12 个`."""
    view = core.in_transaction(lambda s: units.define_unit(s, code, factor, base, name=name,
                                                           actor=core.operator().name))
    core.out.print(f"1 {view.code} = {view.factor} {view.base}")


@unit_app.command("list")
def unit_list() -> None:
    """Units known (built in and defined) with their conversions."""
    table = Table("Unit", "Also written", "Conversion")
    for u in core.in_transaction(units.list_units):
        table.add_row(u.code, " ".join(u.names), f"1 {u.code} = {u.factor} {u.base}" if u.base else "")
    core.out.print(table)


@repair_app.command("list")
def repair_list() -> None:
    """Negative stock, orphan reservations and duplicate SKUs, each with its suggested fix."""
    issues = core.in_transaction(repair.find_issues)
    table = Table("ID", "Problem", "Where", "Detail", "Suggested fix")
    for i in issues:
        table.add_row(i.id, i.kind.replace("_", " "), i.subject, i.detail, i.fix)
    core.out.print(table)
    core.out.print(f"{len(issues)} issue(s); apply a fix with `omnistock repair apply ID --reason ...`")


@repair_app.command("apply")
def repair_apply(issue: Annotated[str, typer.Argument(help="The ID shown by `repair list`.")],
                 reason: Annotated[str, typer.Option(help="Why (kept in the audit trail).")],
                 qty: Annotated[int | None, typer.Option(help="For negative stock: what is really there.")]
                 = None) -> None:
    """Apply the suggested fix of one issue."""
    done = core.in_transaction(lambda s: repair.apply_fix(s, issue, core.operator(), reason=reason, qty=qty))
    core.out.print(done)


@backup_app.command("create")
def backup_create(file: Annotated[Path, typer.Argument(help="Where to write the backup.")],
                  method: Annotated[str, typer.Option(help="auto, sqlite, pg_dump or logical (portable "
                                                      "between engines).")] = "auto") -> None:
    """A consistent snapshot of the whole database, safe while the service runs."""
    db = core.database()
    try:
        with core.handled():
            taken = backup.create_backup(db, file, method)
    finally:
        db.dispose()
    core.out.print(f"backup written: {taken.path} ({taken.method}, {taken.size:,} bytes)")


@backup_app.command("list")
def backup_list() -> None:
    """Backups in the backup folder (the automatic ones before imports included)."""
    settings = get_settings()
    table = Table("Taken (UTC)", "Method", "Size", "File")
    for b in backup.list_backups(settings):
        table.add_row(f"{b.taken_at:%Y-%m-%d %H:%M:%S}", b.method, f"{b.size:,}", str(b.path))
    core.out.print(table)
    core.out.print(f"folder: {backup.backup_dir(settings)}")


@backup_app.command("restore")
def backup_restore(file: Annotated[Path, typer.Argument(help="A backup from `backup create`.")],
                   force: Annotated[bool, typer.Option("--force", help="Replace what a non-empty database "
                                                       "holds.")] = False) -> None:
    """Restore into an empty database (migrated or not), then rebuild every level from the ledger."""
    db = core.database()
    try:
        with core.handled():
            result = restore.restore_backup(db, file, force=force)
    finally:
        db.dispose()
    rows = f", {result.rows:,} rows" if result.rows is not None else ""
    core.out.print(f"restored {file} ({result.method}{rows})")
    if result.differences:
        for d in result.differences:
            core.err.print(f"  {d.sku} at {d.location}: {d.field} stored {d.stored}, rebuilt {d.rebuilt}")
        raise core.fail(f"ledger verify found {len(result.differences)} difference(s)")
    core.out.print(f"ledger ok: {result.levels_checked} levels match their moves and reservations")
