"""How long a merchant's 100,000-row files take to import, through the same code `omnistock import` runs, with
every hook the service installs attached (money's costing of each move...), as the service runs.

For SQLite (a temp file, the embedded default) and PostgreSQL (a throwaway database): a catalogue file of N rows
(1 in 50 a bundle of two components), an opening-stock file of N rows (one per SKU, some in boxes) and a
listings file of N rows (one platform item per SKU, some sold in packs of 6), each checked as a dry run,
applied (the automatic backup included) and imported again (a no-op). For comparison: a stock file applied with
the move hooks detached (the import's own cost), and the core's one-SKU-at-a-time `catalogue.create_sku` on a
smaller sample.

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
from omnistock.onboarding.imports import ImportFile, import_catalogue, import_listings, import_stock
from omnistock.onboarding.report import ImportReport
from omnistock.onboarding.units import define_unit
from omnistock.services import catalogue, channels, hooks, ledger
from omnistock.store import migrate
from omnistock.store.db import Database
from omnistock.store.schema import tables as _every_table  # noqa: F401  (as the service runs: every feature loaded)
from omnistock.sync.listing_import import ImportPlan

HEADING = "## Import (bench/import_catalogue.py)"
WHO = Principal(name="bench", role=Role.ADMIN)
CHANNEL = "shop-main"
Outcome = Callable[[], str]
console = Console()


@dataclass(frozen=True)
class Step:
    database: str
    what: str
    rows: int
    seconds: float
    outcome: str

    @property
    def time(self) -> str:
        return f"{self.seconds:.2f} s" if self.seconds < 1 else f"{self.seconds:.1f} s"

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


def listings_file(rows: int) -> bytes:
    """One platform item per SKU (bundles included); every tenth sold in packs of 6."""
    lines = ["商品编码,平台商品ID,每包数量"]
    for i in range(rows):
        code = f"KIT-{i:06d}" if i % 50 == 49 else f"SKU-{i:06d}"
        lines.append(f"{code},{90_000_000 + i},{6 if i % 10 == 0 else 1}")
    return ("\n".join(lines) + "\n").encode()


def imported(action: Callable[[], ImportReport | ImportPlan], *, dry_run: bool = False) -> Outcome:
    """An import call as a step: its one-line outcome, or an error when the file was refused."""
    def run() -> str:
        result = action()
        if isinstance(result, ImportReport):
            if result.problems:
                raise RuntimeError(f"refused: {result.problems[:3]}")
            return result.summary()
        if result.errors:
            raise RuntimeError(f"refused: {result.errors.as_dicts()[:3]}")
        counts = (f"{result.count('create')} created, {result.count('update')} updated, "
                  f"{result.count('unchanged')} unchanged")
        if dry_run:
            return f"dry run, nothing written: would be {counts}"
        return f"imported {len(result.items)} rows: {counts}" if result.run_id else f"nothing to change: {counts}"
    return run


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


def installed_hooks() -> str:
    """Which move hooks are attached and which of them have a batch form (services.hooks.move_batches)."""
    names = []
    for hook in hooks.move_posted:
        batch = hooks.move_batches.get(hook)
        names.append(f"`{hook.__module__}.{hook.__name__}`" + (f" (batch form `{batch.__name__}`)" if batch else
                                                               " (no batch form: called once per move)"))
    return ", ".join(names) or "none"


def run_database(label: str, url: str, rows: int, baseline: int, detached_rows: int,
                 workdir: Path) -> list[Step]:
    settings = Settings(database_url=url, secret_key="bench", backup_dir=str(workdir / "backups"))
    db = Database(settings)
    migrate.upgrade(db.engine)
    with db.transaction() as session:
        catalogue.create_location(session, code="WH", name="Main", kind="warehouse", sellable=True, actor="bench")
        define_unit(session, "box", 12, "pcs", actor="bench")
        channels.create_channel(session, settings, code=CHANNEL, kind="manual", name="Shop", settings=None,
                                actor="bench")
    cat = ImportFile(catalogue_file(rows), "catalogue.csv")
    stock = ImportFile(stock_file(rows), "stock.csv")
    listed = ImportFile(listings_file(rows), "listings.csv")
    plan: list[tuple[str, Outcome]] = []
    for kind, run in (
            ("catalogue", lambda dry: import_catalogue(db, cat, WHO, dry_run=dry)),
            ("stock", lambda dry: import_stock(db, stock, WHO, location="WH", dry_run=dry)),
            ("listings", lambda dry: import_listings(db, listed, WHO, channel=CHANNEL, dry_run=dry))):
        plan += [(f"{kind}: check (dry run)", imported(lambda run=run: run(True), dry_run=True)),
                 (f"{kind}: apply (backup included)", imported(lambda run=run: run(False))),
                 (f"{kind}: same file again (no-op)", imported(lambda run=run: run(False)))]
    steps: list[Step] = []
    with move_hooks(keep=True):  # as the service runs
        for what, action in plan:
            steps.append(_step(label, what, rows, action))
    with db.reading() as session:
        _, diffs = ledger.verify(session)
    if diffs:
        raise RuntimeError(f"ledger verify found {len(diffs)} differences after the import")
    steps.append(_without_hooks(label, db, detached_rows))
    steps.append(_one_at_a_time(label, db, baseline))
    db.dispose()
    return steps


def _step(label: str, what: str, rows: int, action: Outcome) -> Step:
    start = time.perf_counter()
    outcome = action()
    seconds = time.perf_counter() - start
    console.print(f"{label}: {what}: {seconds:.1f} s — {outcome}")
    return Step(label, what, rows, seconds, outcome)


def _without_hooks(label: str, db: Database, rows: int) -> Step:
    """A stock file on a second location with the move hooks detached: what the import itself costs, and by
    difference with the stock step above what the hooks add."""
    with db.transaction() as session:
        catalogue.create_location(session, code="WH2", name="Second", kind="warehouse", sellable=True,
                                  actor="bench")
    lines = ["sku,qty", *(f"SKU-{i:06d},{1 + i % 9}" for i in range(rows) if i % 50 != 49)]
    file = ImportFile(("\n".join(lines) + "\n").encode(), "stock-wh2.csv")
    with move_hooks(keep=False):
        return _step(label, "for comparison: stock apply with the move hooks detached", len(lines) - 1,
                     imported(lambda: import_stock(db, file, WHO, location="WH2", dry_run=False)))


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
    rows = [(s.database, s.what, f"{s.rows:,}", s.time, f"{s.rate:,.0f}", s.outcome) for s in steps]
    return "\n\n".join([
        f"{args.rows:,}-row files imported by `omnistock.onboarding.imports` (what `omnistock import` and "
        "`POST /api/v1/imports/...` run), each step timed from the file's bytes to the committed transaction, "
        f"**with every hook the service installs attached**, as the service runs (move hooks: {installed_hooks()}). "
        "The catalogue has 1 bundle in 50; the stock file converts every tenth row from boxes (1 box = 12 pcs) "
        "and gives a second batch for 1 row in 50; the listings file maps one platform item to every SKU, every "
        "tenth in packs of 6. Applying includes the automatic backup taken first.",
        facts.markdown(),
        markdown_table(("Database", "Step", "Rows", "Time", "Rows/s", "Outcome"), rows),
        "The import checks a file against one set-based snapshot of the catalogue and writes set-based (COPY on "
        "PostgreSQL, the driver's executemany on SQLite; new levels inserted with their counted quantity, existing "
        "ones locked and updated in one statement; listings inserted and updated in a few statements), so its "
        "cost grows with the rows, not with round trips per row. The features that follow stock moves are told "
        "of an import's moves at once through their batch form (`services.hooks.move_batches`); the line \"move "
        "hooks detached\" shows what the import costs without them, so the difference is what they add. Numbers "
        "taken while other work shared the CPUs (see \"Other load\") are slower than a quiet machine's. The last "
        "line of each database shows why the import does not reuse `catalogue.create_sku` (one SKU per call costs "
        "several round trips and an ORM flush each)."])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=100_000, help="Rows per file (at most 100,000).")
    parser.add_argument("--baseline", type=int, default=5_000, help="SKUs created one at a time for comparison.")
    parser.add_argument("--detached-rows", type=int, default=10_000,
                        help="Rows of the stock file imported with the move hooks detached, for comparison.")
    parser.add_argument("--sqlite-only", action="store_true", help="Skip PostgreSQL.")
    parser.add_argument("--pg", default=PG_ADMIN_DSN, help="PostgreSQL admin DSN for the throwaway database.")
    parser.add_argument("--out", type=Path, default=BENCHMARKS_MD, help="Markdown file to write the section to.")
    args = parser.parse_args(argv)
    steps: list[Step] = []
    load = machine_load()
    with tempfile.TemporaryDirectory(prefix="omnistock-bench-import-") as tmp, \
            databases(args, Path(tmp)) as targets:
        for label, url in targets:
            steps += run_database(label, url, args.rows, args.baseline, args.detached_rows, Path(tmp) / label)
    table = Table("Database", "Step", "Rows", "Time", "Rows/s")
    for s in steps:
        table.add_row(s.database, s.what, f"{s.rows:,}", s.time, f"{s.rate:,.0f}")
    console.print(table)
    write_section(args.out, HEADING, section(args, steps, load))
    console.print(f"wrote the {HEADING[3:]} section of {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
