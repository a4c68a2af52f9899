"""bench/reserve.py runs end to end in --quick mode and writes its table into its own section of the benchmarks
file, leaving other benches' sections alone. No assertion on speed: only that every cell measured something."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"
HEADING = "## Reservations (bench/reserve.py)"
OTHER = "## Sync (bench/sync.py)\n\nNumbers another bench wrote; they must survive.\n"


def _bench_common() -> ModuleType:
    """bench/ is a folder of scripts, not a package: load its helpers from their file."""
    if "bench_common" in sys.modules:
        return sys.modules["bench_common"]
    spec = importlib.util.spec_from_file_location("bench_common", BENCH / "_common.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_common"] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def _main_table(section: str) -> list[list[str]]:
    """The rows of the first table in the section (the one per cell), as lists of cell texts."""
    lines = section.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| database |"))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def _rate(text: str) -> float:
    return float(text.replace(",", ""))


@pytest.mark.slow
def test_quick_sqlite_run_writes_a_row_per_cell_with_a_positive_rate(tmp_path: Path) -> None:
    out = tmp_path / "BENCHMARKS.md"
    out.write_text(f"# Benchmarks\n\nIntro.\n\n{OTHER}")
    proc = subprocess.run([sys.executable, str(BENCH / "reserve.py"), "--quick", "--sqlite-only", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]

    text = out.read_text()
    assert OTHER.strip() in text
    section = text[text.index(HEADING):]
    assert "- Commit: `" in section and "- SQLite: " in section and "- CPU: " in section
    assert "--quick --sqlite-only" in section  # the command line that produced the numbers
    rows = _main_table(section)
    cells = {(row[0], row[1].split()[0], int(row[2])) for row in rows}
    assert cells == {("SQLite", kind, n) for kind in ("hot", "spread") for n in (1, 8, 32)}
    assert len(rows) == 6
    for row in rows:
        assert _rate(row[3]) > 0, f"no omnistock orders in {row}"
        assert _rate(row[4]) > 0, f"no raw orders in {row}"
    assert "### Where the time goes" in section and "BEGIN IMMEDIATE" in section


def test_section_replacement_keeps_the_other_sections() -> None:
    common = _bench_common()
    document = f"# Benchmarks\n\nIntro.\n\n{HEADING}\n\nold numbers\n\n{OTHER}"
    updated = common.replace_section(document, HEADING, "new numbers")
    assert "old numbers" not in updated
    assert f"{HEADING}\n\nnew numbers\n" in updated
    assert updated.endswith(OTHER)
    assert updated.startswith("# Benchmarks\n\nIntro.\n")


def test_section_is_appended_when_the_file_has_none_yet(tmp_path: Path) -> None:
    common = _bench_common()
    target = tmp_path / "docs" / "BENCHMARKS.md"
    common.write_section(target, HEADING, "first numbers")
    common.write_section(target, "## Sync (bench/sync.py)", "sync numbers")
    common.write_section(target, HEADING, "second numbers")
    text = target.read_text()
    assert text.startswith("# Benchmarks\n")  # the intro paragraph of a new file
    assert "first numbers" not in text
    assert text.index("second numbers") < text.index("sync numbers")
    assert text.count(HEADING) == 1
