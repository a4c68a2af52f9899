"""`omnistock import ...` (catalogue, stock, spot counts, templates, samples) and the onboarding command groups
registered beside it: units, SKU aliases/duplicates/merge, repair, backup."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from omnistock import cli as core
from omnistock.onboarding import imports, spotcheck, templates
from omnistock.onboarding.cli_manage import backup_app, repair_app, unit_app
from omnistock.onboarding.cli_report import print_report, progress_bar
from omnistock.onboarding.cli_skus import add_sku_commands
from omnistock.onboarding.report import ImportReport
from omnistock.onboarding.tables import ImportRun

import_app = typer.Typer(help="Bring existing data in from CSV/XLSX: check everything, dry-run, then apply.",
                         no_args_is_help=True)
GROUPS = ((import_app, "import"), (unit_app, "unit"), (repair_app, "repair"), (backup_app, "backup"))
__all__ = ["GROUPS", "add_sku_commands"]

FileArg = Annotated[Path, typer.Argument(help="CSV or XLSX file, English or Chinese headers.")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Check and show what would change; write nothing.")]
Show = Annotated[int, typer.Option(help="How many changes and notes to list.")]
Json = Annotated[bool, typer.Option("--json", help="Print the whole report as JSON.")]


def _file(path: Path) -> imports.ImportFile:
    try:
        return imports.ImportFile(path.read_bytes(), path.name)
    except OSError as exc:
        raise core.fail(f"cannot read {path}: {exc.strerror}") from None


def _finish(report: ImportReport, show: int, as_json: bool) -> None:
    print_report(core.out, core.err, report, show=show, as_json=as_json)
    if report.problems:
        raise typer.Exit(1)


@import_app.command("catalogue")
def import_catalogue(file: FileArg, dry_run: DryRun = False, show: Show = 20, as_json: Json = False) -> None:
    """SKUs and bundles: code,name,unit,barcode,safety_stock,components (编码,名称,单位,条码,安全库存,组件)."""
    data = _file(file)
    db = core.database()
    try:
        with core.handled(), progress_bar(core.err, "checking") as progress:
            report = imports.import_catalogue(db, data, core.operator(), dry_run=dry_run, progress=progress)
    finally:
        db.dispose()
    _finish(report, show, as_json)


def _stock(file: Path, location: str | None, dry_run: bool, show: int, as_json: bool, spot_check: bool) -> None:
    data = _file(file)
    db = core.database()
    try:
        with core.handled(), progress_bar(core.err, "checking") as progress:
            report = imports.import_stock(db, data, core.operator(), location=location, dry_run=dry_run,
                                          progress=progress, spot_check=spot_check)
    finally:
        db.dispose()
    _finish(report, show, as_json)


@import_app.command("stock")
def import_stock(file: FileArg,
                 location: Annotated[str | None, typer.Option("--location", "-l", help="Location the counts are "
                                                              "for (or a location column in the file).")] = None,
                 dry_run: DryRun = False, show: Show = 20, as_json: Json = False) -> None:
    """Opening stock as counts: sku,qty,batch,expiry (商品编码,数量,批次,有效期); importing twice changes nothing."""
    _stock(file, location, dry_run, show, as_json, spot_check=False)


@import_app.command("spotcheck")
def import_spotcheck(file: FileArg, dry_run: DryRun = False, show: Show = 20, as_json: Json = False) -> None:
    """A filled-in spot-count sheet (from `import sample`) as counts; rows left blank are skipped."""
    _stock(file, None, dry_run, show, as_json, spot_check=True)


@import_app.command("listings")
def import_listings(file: FileArg,
                    channel: Annotated[str, typer.Option("--channel", "-c", help="Channel code.")],
                    dry_run: DryRun = False) -> None:
    """Platform listings: sku,external_id,pack_size (商品编码,平台商品ID,每包数量); same as `listing import`."""
    from omnistock.sync.cli import listing_import_cmd

    listing_import_cmd(file, channel, dry_run)


@import_app.command("template")
def import_template(kind: Annotated[str, typer.Argument(help="catalogue, stock or listings.")],
                    file: Annotated[Path, typer.Argument(help="Where to write it: .xlsx or .csv.")],
                    lang: Annotated[str, typer.Option(help="Header language: zh or en.")] = "zh") -> None:
    """Write an empty import template with the headers the import reads."""
    fmt = "csv" if file.suffix.lower() == ".csv" else "xlsx"
    with core.handled():
        data, _, _ = templates.template(kind, lang, fmt)
    file.write_bytes(data)
    core.out.print(f"wrote {file} ({kind}, {lang}, {fmt})")


@import_app.command("sample")
def import_sample(file: Annotated[Path, typer.Argument(help="Where to write the XLSX sheet.")],
                  location: Annotated[str, typer.Option("--location", "-l", help="Location to spot-count.")],
                  size: Annotated[int, typer.Option(help="How many SKUs to sample.")] = 30,
                  lang: Annotated[str, typer.Option(help="Header language: zh or en.")] = "zh",
                  seed: Annotated[int | None, typer.Option(help="Fix the random choice (to redo a sheet).")]
                  = None) -> None:
    """A random sample of a location's SKUs to count by hand (人工抽检); import it back with `import spotcheck`."""
    data, picked = core.in_transaction(lambda s: spotcheck.sample_sheet(s, core.operator(), location=location,
                                                                        size=size, lang=lang, seed=seed))
    if file.suffix.lower() != ".xlsx":
        raise core.fail("the sample sheet is an .xlsx file")
    file.write_bytes(data)
    core.out.print(f"wrote {file}: {picked} SKU(s) of {location} to count")


@import_app.command("runs")
def import_runs(limit: int = 20) -> None:
    """The imports applied so far, newest first, with the backup taken before each."""
    from sqlalchemy import select

    rows = core.in_transaction(lambda s: list(s.scalars(select(ImportRun).order_by(ImportRun.id.desc())
                                                          .limit(limit))))
    table = Table("#", "When (UTC)", "Kind", "File", "Rows", "Created", "Updated", "Unchanged", "Backup")
    for r in rows:
        table.add_row(str(r.id), f"{r.at:%Y-%m-%d %H:%M}", r.kind, r.file_name or "", str(r.rows), str(r.created),
                      str(r.updated), str(r.unchanged), r.backup or "")
    core.out.print(table)
