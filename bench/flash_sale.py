"""Flash sale: oversold units, lost sales, propagation and API calls of omnistock against the usual ways of syncing,
on the same seeded demand, in one run.

Five simulated platforms (real HTTP on loopback, 30–120 ms per call, late and lost webhooks, each platform's rate
limit), 200 ordinary SKUs and 3 hot SKUs of 500 units whose demand is 5× their stock within 60 s. Strategies:
periodic-5min and periodic-1min (a scheduled export of all available stock to every platform), realtime-shared and
realtime-partition (omnistock's sync engine without and with the partition policy). Each gets a fresh database,
fresh shops and a fresh omnistock process, and the same pre-generated shoppers.

It prints the table, checks the issue's goals (PASS/FAIL lines, never an exit code), writes the section
"Flash sale" of docs/BENCHMARKS.md with a figure under docs/img/, and with --json the results as JSON.

    python bench/flash_sale.py                      # the full scenario (about 8 minutes)
    python bench/flash_sale.py --quick              # same shape, 20 SKUs and a 12 s sale: under 2 minutes
    python bench/flash_sale.py --smoke --json r.json --out /tmp/b.md   # seconds: a check that it all works
    omnistock bench flash-sale --quick              # the same, from the omnistock command
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
if str(BENCH) not in sys.path:  # also when loaded from elsewhere (`omnistock bench flash-sale`)
    sys.path.insert(0, str(BENCH))

from _common import (  # noqa: E402
    BENCHMARKS_MD,
    PG_ADMIN_DSN,
    machine_load,
    markdown_table,
    pg_reason_unavailable,
    run_facts,
    write_section,
)
from flash import plot, report  # noqa: E402
from flash.run import STRATEGIES, RunResult, Setup, run  # noqa: E402
from flash.scenario import SHAPES, catalogue, demand  # noqa: E402
from flash.side import Side  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

HEADING = "## Flash sale (bench/flash_sale.py)"
IMAGE = "img/flash_sale.png"  # relative to the Markdown file


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    size = parser.add_mutually_exclusive_group()
    quick, smoke = SHAPES["quick"], SHAPES["smoke"]
    size.add_argument("--quick", action="store_true", help=f"{quick.ordinary_skus} ordinary SKUs, hot stock "
                      f"{quick.hot_stock}, a {quick.sale_s:g} s sale: the same shape in under 2 minutes")
    size.add_argument("--smoke", action="store_true", help=f"{smoke.ordinary_skus} ordinary SKUs, hot stock "
                      f"{smoke.hot_stock}, a {smoke.sale_s:g} s sale: checks that it all works")
    parser.add_argument("--seed", type=int, default=20261111, help="the seed of catalogue, demand and timers")
    parser.add_argument("--threshold", type=int, default=None,
                        help="realtime-partition's threshold (default: the hot stock, so the hot SKUs are "
                        "partitioned from the start; lower values leave a shared phase whose unreported sales the "
                        "threshold must cover)")
    parser.add_argument("--strategies", default=",".join(s.name for s in STRATEGIES),
                        help="comma-separated subset of the strategies, in the order to run them")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite",
                        help="omnistock's database: a SQLite file (the embedded default) or a throwaway PostgreSQL "
                        "database per strategy")
    parser.add_argument("--pg", default=PG_ADMIN_DSN, help="PostgreSQL admin DSN (creates the databases)")
    parser.add_argument("--json", type=Path, default=None, help="also write the results as JSON to this file")
    parser.add_argument("--out", type=Path, default=BENCHMARKS_MD,
                        help="Markdown file to write the section to (the figure goes to img/ beside it)")
    parser.add_argument("--workdir", type=Path, default=None, help="where the databases go (default: a temp dir)")
    args = parser.parse_args(argv)
    known = {s.name for s in STRATEGIES}
    args.strategies = [name.strip() for name in str(args.strategies).split(",") if name.strip()]
    unknown = sorted(set(args.strategies) - known)
    if unknown or not args.strategies:
        parser.error(f"unknown strategy {', '.join(unknown)} (choose from {', '.join(sorted(known))})")
    return args


def print_table(console: Console, summaries: list[report.Summary]) -> None:
    table = Table(*report.COLUMNS, title="Flash sale")
    for s in summaries:
        table.add_row(*report.row(s))
    console.print(table)
    for ok, text in report.goals(summaries):
        console.print(f"{'PASS' if ok else 'FAIL'}: {text}", highlight=False)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console(soft_wrap=True)
    shape = SHAPES["smoke" if args.smoke else "quick" if args.quick else "full"]
    threshold = args.threshold if args.threshold is not None else shape.hot_stock
    cat = catalogue(shape, args.seed)
    script = demand(shape, cat, args.seed)
    strategies = [s for name in args.strategies for s in STRATEGIES if s.name == name]
    if args.database == "postgres" and (reason := pg_reason_unavailable(args.pg)):
        console.print(f"error: {reason}", highlight=False)
        return 2
    before = machine_load(0.5 if shape.name != "full" else 2.0)
    console.print(f"flash sale `{shape.name}`, seed {args.seed}: {len(cat.stock)} SKUs, {len(script.arrivals):,} "
                  f"shoppers over {shape.sale_s:g} s; {before.describe()}", highlight=False)
    started = time.monotonic()

    def say(line: str) -> None:
        console.print(f"[{time.monotonic() - started:5.0f} s] {line}", highlight=False)
    results: list[RunResult] = []
    closing: list[threading.Thread] = []
    sides = [Side() for _ in strategies]  # forked now, before any thread exists in this process
    try:
        with tempfile.TemporaryDirectory(prefix="flash-sale-") as tmp:
            workdir = args.workdir or Path(tmp)
            for strategy, side in zip(strategies, sides):
                setup = Setup(shape, cat, script, args.seed, threshold, args.database, args.pg, workdir)
                result, closer = run(strategy, setup, side, say)
                results.append(result)
                closing.append(closer)
            for closer in closing:
                closer.join()
    finally:
        for side in sides:
            side.stop()
    after = machine_load(0.5 if shape.name != "full" else 2.0)
    summaries = [report.summarize(r, cat) for r in results]
    print_table(console, summaries)
    image = args.out.parent / IMAGE
    plot.draw(results, cat, cat.hot[0], image)
    table_md = markdown_table(report.COLUMNS, [report.row(s) for s in summaries])
    facts = run_facts(args.pg if args.database == "postgres" else None, before, after).markdown()
    write_section(args.out, HEADING, report.section(facts, shape, cat, script, args.seed, threshold, args.database,
                                                    summaries, IMAGE, table_md))
    console.print(f"wrote {HEADING[3:]} to {args.out} and the figure to {image}", highlight=False)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report.as_json(summaries), indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
