"""bench/reconcile.py runs end to end on a small channel and writes its table into its own section of the
benchmarks file, leaving the other sections alone. No assertion on speed: only on what was found."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEADING = "## Reconciliation (bench/reconcile.py)"
OTHER = "## Reservations (bench/reserve.py)\n\nNumbers another bench wrote; they must survive.\n"


@pytest.mark.slow
def test_small_sqlite_run_writes_its_section_with_the_differences_found(tmp_path: Path) -> None:
    out = tmp_path / "BENCHMARKS.md"
    out.write_text(f"# Benchmarks\n\nIntro.\n\n{OTHER}")
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "reconcile.py"), "--listings", "3000",
                           "--sqlite-only", "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    text = out.read_text()
    assert OTHER.strip() in text
    section = text[text.index(HEADING):]
    assert "in-process fake page source" in section and "- SQLite: " in section
    [row] = [line for line in section.splitlines() if line.startswith("| SQLite |")]
    cells = [c.strip() for c in row.strip().strip("|").split("|")]
    assert cells[1] == "3,000"
    assert cells[7] == "drift 30, missing 3, unmapped 3"  # 1% drifted, 0.1% missing, 0.1% extra items
    assert float(cells[5]) > 0
