"""bench/import_catalogue.py runs end to end on tiny files and writes its table into its own section of the
benchmarks file, leaving other benches' sections alone. No assertion on speed: only that every step measured
something, with the service's hooks attached for the headline steps."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"
HEADING = "## Import (bench/import_catalogue.py)"
OTHER = "## Sync (bench/sync.py)\n\nNumbers another bench wrote; they must survive.\n"
STEPS = [f"{kind}: {what}" for kind in ("catalogue", "stock", "listings")
         for what in ("check (dry run)", "apply (backup included)", "same file again (no-op)")]


def _table(section: str) -> list[list[str]]:
    """The rows of the section's table, as lists of cell texts."""
    lines = section.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| Database |"))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


@pytest.mark.slow
def test_tiny_sqlite_run_writes_every_step_with_the_hooks_attached(tmp_path: Path) -> None:
    out = tmp_path / "BENCHMARKS.md"
    out.write_text(f"# Benchmarks\n\nIntro.\n\n{OTHER}")
    proc = subprocess.run([sys.executable, str(BENCH / "import_catalogue.py"), "--rows", "300", "--baseline", "20",
                           "--detached-rows", "100", "--sqlite-only", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]

    text = out.read_text()
    assert OTHER.strip() in text
    section = text[text.index(HEADING):]
    assert "- Commit: `" in section and "- SQLite: " in section and "--rows 300" in section
    assert "with every hook the service installs attached" in section
    assert "omnistock.money.hooks.on_move_posted" in section  # the hooks named, as the service installs them
    rows = _table(section)
    assert [row[1] for row in rows] == [*STEPS, "for comparison: stock apply with the move hooks detached",
                                        "for comparison: core create_sku, one SKU at a time"]
    assert all(row[0] == "SQLite" for row in rows)
    for row in rows:
        assert float(row[3].removesuffix(" s")) >= 0 and float(row[4].replace(",", "")) > 0, row
    outcomes = {row[1]: row[5] for row in rows}
    assert outcomes["listings: apply (backup included)"] == "imported 300 rows: 300 created, 0 updated, 0 unchanged"
    assert outcomes["listings: same file again (no-op)"].startswith("nothing to change")
    assert outcomes["stock: apply (backup included)"].startswith("imported 300 rows")
