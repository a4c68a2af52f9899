"""How long a merchant's 100,000-row files take to import, through the same code `omnistock import` runs.

For SQLite (a temp file, the embedded default) and PostgreSQL (a throwaway database): a catalogue file of N rows
(1 in 50 a bundle of two components) checked as a dry run, applied (the automatic backup included), and imported
again (a no-op); then an opening-stock file of N rows (one per SKU, some in boxes) the same way; and, for
comparison, the core's one-SKU-at-a-time `catalogue.create_sku` on a smaller sample.

It prints the table and writes it into the "Import (bench/import_catalogue.py)" section of docs/BENCHMARKS.md.

    python bench/import_catalogue.py                 # 100,000 rows, both databases
    python bench/import_catalogue.py --rows 20000 --sqlite-only --out /tmp/b.md
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from _common import (
    BENCHMARKS_MD,
    PG_ADMIN_DSN,
    MachineLoad,
    machine_load,
    markdown_table,
    pg_reason_unavailable,
    run_facts,
    throwaway_pg_database,
    write_section,
)
from rich.console import Console
from rich.table import Table

from omnistock.config import Settings
from omnistock.domain.access import Principal, Role
from omnistock.onboarding.imports import ImportFile, import_catalogue, import_stock
from omnistock.onboarding.report import ImportReport
from omnistock.onboarding.units import define_unit
from omnistock.services import catalogue, hooks, ledger
from omnistock.store import migrate
from omnistock.store.db import Database
from omnistock.store.schema import tables as _every_table  # noqa: F401  (as the service runs: every feature loaded)

HEADING = "## Import (bench/import_catalogue.py)"
WHO = Principal(name="bench", role=Role.ADMIN)
console = Console()


@dataclass(frozen=True)
class Step:
    database: str
    what: str
    rows: int
    seconds: float
    outcome: str

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def catalogue_file(rows: int) -> bytes:
    lines = ["编码,名称,单位,条码,安全库存,组件"]
    for i in range(rows):
        if i % 50 == 49:
            lines.append(f"KIT-{i:06d},礼盒 {i},个,,0,SKU-{i - 1:06d}*2;SKU-{i - 2:06d}*1")
        else:
            lines.append(f"SKU-{i:06d},商品 {i} 红色 XL,个,,{i % 7},")
    return ("\n".join(lines) + "\n").encode()


def stock_file(rows: int) -> bytes:
    lines = ["商品编码,数量,批次,有效期,单位"]
    for i in range(rows):
        if i % 50 == 49:
            i -= 3  # bundles hold no stock: count another SKU in another batch instead
            lines.append(f"SKU-{i:06d},5,LOT-B,2027-06-30,个")
        elif i % 10 == 0:
            lines.append(f"SKU-{i:06d},2,LOT-A,2027-01-31,箱")
        else:
            lines.append(f"SKU-{i:06d},{i % 97},,,个")
    return ("\n".join(lines) + "\n").encode()


def timed(action: Callable[[], ImportReport]) -> tuple[float, ImportReport]:
    start = time.perf_counter()
    report = action()
    return time.perf_counter() - start, report


@contextmanager
def move_hooks(keep: bool) -> Iterator[list[str]]:
    """The features' move hooks (money's costing...) as the service installs them, or detached."""
    saved = list(hooks.move_posted)
    if not keep:
        hooks.move_posted.clear()
    try:
        yield [f"{h.__module__}.{h.__name__}" for h in hooks.move_posted]
    finally:
        hooks.move_posted[:] = saved


def run_database(label: str, url: str, rows: int, baseline: int, hooked_rows: int,
                 workdir: Path) -> list[Step]:
    settings = Settings(database_url=url, secret_key="bench", backup_dir=str(workdir / "backups"))
    db = Database(settings)
    migrate.upgrade(db.engine)
    with db.transaction() as session:
        catalogue.create_location(session, code="WH", name="Main", kind="warehouse", sellable=True, actor="bench")
        define_unit(session, "box", 12, "pcs", actor="bench")
    steps: list[Step] = []
    cat = ImportFile(catalogue_file(rows), "catalogue.csv")
    stock = ImportFile(stock_file(rows), "stock.csv")
    plan = (("catalogue: check (dry run)", lambda: import_catalogue(db, cat, WHO, dry_run=True)),
            ("catalogue: apply (backup included)", lambda: import_catalogue(db, cat, WHO, dry_run=False)),
            ("catalogue: same file again (no-op)", lambda: import_catalogue(db, cat, WHO, dry_run=False)),
            ("stock: check (dry run)", lambda: import_stock(db, stock, WHO, location="WH", dry_run=True)),
            ("stock: apply (backup included)", lambda: import_stock(db, stock, WHO, location="WH", dry_run=False)),
            ("stock: same file again (no-op)", lambda: import_stock(db, stock, WHO, location="WH", dry_run=False)))
    with move_hooks(keep=False):
        for what, action in plan:
            steps.append(_step(label, what, rows, action))
    with db.reading() as session:
        _, diffs = ledger.verify(session)
    if diffs:
        raise RuntimeError(f"ledger verify found {len(diffs)} differences after the import")
    steps.append(_one_at_a_time(label, db, baseline))
    steps.append(_with_hooks(label, db, hooked_rows))
    db.dispose()
    return steps


def _step(label: str, what: str, rows: int, action: Callable[[], ImportReport]) -> Step:
    seconds, report = timed(action)
    if report.problems:
        raise RuntimeError(f"{what}: {report.problems[:3]}")
    console.print(f"{label}: {what}: {seconds:.1f} s — {report.summary()}")
    return Step(label, what, rows, seconds, report.summary())


def _with_hooks(label: str, db: Database, rows: int) -> Step:
    """A stock file on a second location with the move hooks the service installs: each feature that follows
    moves sees every count move (one by one unless it registered a batch form in hooks.move_batches)."""
    with db.transaction() as session:
        catalogue.create_location(session, code="WH2", name="Second", kind="warehouse", sellable=True,
                                  actor="bench")
    lines = ["sku,qty", *(f"SKU-{i:06d},{1 + i % 9}" for i in range(rows) if i % 50 != 49)]
    file = ImportFile(("\n".join(lines) + "\n").encode(), "stock-wh2.csv")
    with move_hooks(keep=True) as installed:
        batched = [f"{b.__module__}.{b.__name__}" for h in hooks.move_posted if (b := hooks.move_batches.get(h))]
        what = (f"stock: apply with the service's move hooks ({', '.join(installed) or 'none'}; batch form: "
                f"{', '.join(batched) or 'none'})")
        return _step(label, what, len(lines) - 1,
                     lambda: import_stock(db, file, WHO, location="WH2", dry_run=False))


def _one_at_a_time(label: str, db: Database, rows: int) -> Step:
    """The core's create_sku per row, all in one transaction: what an import built on it would cost."""
    start = time.perf_counter()
    with db.transaction() as session:
        for i in range(rows):
            catalogue.create_sku(session, catalogue.SkuSpec(code=f"ONE-{i:06d}", name=f"one {i}"), actor="bench")
    seconds = time.perf_counter() - start
    step = Step(label, "for comparison: core create_sku, one SKU at a time", rows, seconds,
                f"{rows:,} created (≈ {seconds * 100_000 / rows:,.0f} s per 100,000)")
    console.print(f"{label}: {step.what}: {seconds:.1f} s for {rows:,}")
    return step


@contextmanager
def databases(args: argparse.Namespace, workdir: Path) -> Iterator[list[tuple[str, str]]]:
    found = [("SQLite", f"sqlite:///{workdir / 'bench.db'}")]
    if args.sqlite_only:
        yield found
        return
    reason = pg_reason_unavailable(args.pg)
    if reason:
        console.print(f"[yellow]PostgreSQL skipped: {reason}[/yellow]")
        yield found
        return
    with throwaway_pg_database("omnistock_bench_import", args.pg) as pg:
        yield [*found, ("PostgreSQL", pg.url)]


def section(args: argparse.Namespace, steps: list[Step], load: MachineLoad) -> str:
    facts = run_facts(args.pg if any(s.database == "PostgreSQL" for s in steps) else None, load)
    rows = [(s.database, s.what, f"{s.rows:,}", f"{s.seconds:.1f} s", f"{s.rate:,.0f}", s.outcome) for s in steps]
    return "\n\n".join([
        f"{args.rows:,}-row files imported by `omnistock.onboarding.imports` (what `omnistock import` and "
        "`POST /api/v1/imports/...` run), each step timed from the file's bytes to the committed transaction. "
        "The catalogue has 1 bundle in 50; the stock file converts every tenth row from boxes (1 box = 12 pcs) "
        "and gives a second batch for 1 row in 50. Applying includes the automatic backup taken first. "
        "These steps run with the other features' move hooks detached, to measure the import itself; the line "
        "\"with the service's move hooks\" imports a smaller stock file with them attached, as the service runs.",
        facts.markdown(),
        markdown_table(("Database", "Step", "Rows", "Time", "Rows/s", "Outcome"), rows),
        "The import checks a file against one set-based snapshot of the catalogue and writes set-based (COPY on "
        "PostgreSQL, the driver's executemany on SQLite; new levels inserted with their counted quantity, existing "
        "ones locked and updated in one statement), so its cost grows with the rows, not with round trips per "
        "row. Numbers taken while other work shared the CPUs (see \"Other load\") are slower than a quiet "
        "machine's. The last lines of each database show why it does not reuse `catalogue.create_sku` (one SKU "
        "per call costs several round trips and an ORM flush each), and what a feature's per-move hook adds when "
        "it has no batch form (`services.hooks.move_batches`)."])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=100_000, help="Rows per file (at most 100,000).")
    parser.add_argument("--baseline", type=int, default=5_000, help="SKUs created one at a time for comparison.")
    parser.add_argument("--hooked-rows", type=int, default=10_000,
                        help="Rows of the stock file imported with the service's move hooks attached.")
    parser.add_argument("--sqlite-only", action="store_true", help="Skip PostgreSQL.")
    parser.add_argument("--pg", default=PG_ADMIN_DSN, help="PostgreSQL admin DSN for the throwaway database.")
    parser.add_argument("--out", type=Path, default=BENCHMARKS_MD, help="Markdown file to write the section to.")
    args = parser.parse_args(argv)
    steps: list[Step] = []
    load = machine_load()
    with tempfile.TemporaryDirectory(prefix="omnistock-bench-import-") as tmp, \
            databases(args, Path(tmp)) as targets:
        for label, url in targets:
            steps += run_database(label, url, args.rows, args.baseline, args.hooked_rows, Path(tmp) / label)
    table = Table("Database", "Step", "Rows", "Time", "Rows/s")
    for s in steps:
        table.add_row(s.database, s.what, f"{s.rows:,}", f"{s.seconds:.1f} s", f"{s.rate:,.0f}")
    console.print(table)
    write_section(args.out, HEADING, section(args, steps, load))
    console.print(f"wrote the {HEADING[3:]} section of {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
