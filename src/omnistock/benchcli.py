"""`omnistock bench`: the reproducible benchmarks under bench/ of a source checkout, run with this interpreter.
The benchmarks are scripts beside the package, not part of it: an installed wheel has none."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import typer

bench_app = typer.Typer(help="Reproducible benchmarks (in a source checkout).", no_args_is_help=True)

# The options are the script's own: everything after the command name goes to it unchanged (--help included).
PASS_THROUGH = {"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []}


def bench_dir() -> Path:
    """bench/ of the checkout this package runs from (src layout), else of the working directory."""
    for root in (Path(__file__).resolve().parents[2], Path.cwd()):
        if (root / "bench" / "_common.py").is_file():
            return root / "bench"
    raise typer.BadParameter("bench/ not found: run from a source checkout of omnistock")


@bench_app.command("flash-sale", context_settings=PASS_THROUGH)
def flash_sale(ctx: typer.Context) -> None:
    """Oversell, lost sales and propagation against periodic syncing (bench/flash_sale.py; --help for options)."""
    script = bench_dir() / "flash_sale.py"
    raise typer.Exit(subprocess.call([sys.executable, str(script), *ctx.args], cwd=script.parent.parent))
