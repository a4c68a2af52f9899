"""The onboarding commands as a merchant runs them: real `omnistock` processes on a real SQLite file."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import load_workbook

from omnistock.config import Settings
from omnistock.onboarding.cli_report import BIG_FILE
from omnistock.services import catalogue
from omnistock.store import migrate
from omnistock.store.db import Database

BIN = Path(sys.executable).with_name("omnistock")
Run = Callable[..., subprocess.CompletedProcess[str]]

CATALOGUE = "编码,名称,单位,条码\nTEA-001,龙井茶,个,6901234567892\nTEA-OLD,龙井茶,个,\nCUP-01,Cup,个,\n"


@pytest.fixture
def omni(tmp_path: Path) -> Run:
    """`omnistock ...` on a migrated SQLite file with one warehouse (set up in-process: each command is a
    process start, the slow part of these tests)."""
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    db = Database(Settings(database_url=url))
    migrate.upgrade(db.engine)
    with db.transaction() as session:
        catalogue.create_location(session, code="WH", name="Main warehouse", kind="warehouse", sellable=True,
                                  actor="test")
    db.dispose()
    base_env = {**os.environ, "OMNISTOCK_DATABASE_URL": url, "COLUMNS": "200"}

    def run(*args: str, ok: bool = True, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([str(BIN), *args], env={**base_env, **(env or {})}, cwd=tmp_path,
                                capture_output=True, text=True, timeout=120)
        if ok:
            assert result.returncode == 0, result.stderr + result.stdout
        return result
    return run


def test_spreadsheets_to_verified_stock_from_the_command_line(omni: Run, tmp_path: Path) -> None:
    omni("import", "template", "catalogue", "catalogue.xlsx", "--lang", "zh")
    header = [c.value for c in load_workbook(tmp_path / "catalogue.xlsx").worksheets[0][1]]
    assert header == ["编码", "名称", "单位", "条码", "安全库存", "组件"]
    (tmp_path / "catalogue.csv").write_text(CATALOGUE, encoding="utf-8")
    dry = omni("import", "catalogue", "catalogue.csv", "--dry-run")
    assert "would be 3 created" in dry.stdout
    assert "imported 3 rows" in omni("import", "catalogue", "catalogue.csv").stdout
    omni("unit", "define", "箱", "12", "个")
    (tmp_path / "stock.csv").write_text("商品编码,数量,单位\nTEA-001,2,箱\nTEA-OLD,5,个\n", encoding="utf-8")
    applied = omni("import", "stock", "stock.csv", "--location", "WH")
    assert "imported 2 rows" in applied.stdout and "ok" in applied.stdout  # file total = ledger total
    backups = list((tmp_path / "backups").iterdir())
    assert len(backups) == 2 and all(b.suffix == ".sqlite" for b in backups)
    assert "import-stock" in omni("backup", "list").stdout


def test_a_file_with_problems_exits_non_zero_and_names_row_and_column(omni: Run, tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_text("code,name,unit\nA,Alpha,pcs\nA,Again,pcs\nB,Beta,盒\n", encoding="utf-8")
    result = omni("import", "catalogue", "bad.csv", ok=False)
    assert result.returncode == 1
    assert "duplicate code within the file" in result.stderr and "unknown unit" in result.stderr
    assert "2 problem(s) in 3 rows; nothing was written" in result.stdout
    assert "0 of 0" in omni("sku", "list").stdout


def test_duplicates_merge_and_repair_from_the_command_line(omni: Run, tmp_path: Path) -> None:
    (tmp_path / "catalogue.csv").write_text(CATALOGUE, encoding="utf-8")
    omni("import", "catalogue", "catalogue.csv")
    (tmp_path / "stock.csv").write_text("sku,qty\nTEA-001,4\nTEA-OLD,4\n", encoding="utf-8")
    omni("import", "stock", "stock.csv", "--location", "WH")
    listed = omni("repair", "list").stdout
    assert "duplicate:TEA-001+TEA-OLD" in listed
    merged = omni("sku", "merge", "TEA-001", "TEA-OLD", "--reason", "same tea")
    assert "merged TEA-OLD into TEA-001" in merged.stdout
    assert "on hand 9" in omni("stock", "receive", "TEA-OLD", "1", "--location", "WH").stdout  # an alias now
    assert "ledger ok" in omni("ledger", "verify").stdout


def test_backup_and_restore_into_an_empty_database(omni: Run, tmp_path: Path) -> None:
    (tmp_path / "catalogue.csv").write_text(CATALOGUE + "\n", encoding="utf-8")
    (tmp_path / "stock.csv").write_text("sku,qty\nTEA-001,7\n", encoding="utf-8")
    omni("import", "stock", "stock.csv", "--location", "WH", ok=False)  # unknown SKU: nothing written
    omni("import", "catalogue", "catalogue.csv")
    omni("import", "stock", "stock.csv", "--location", "WH")
    omni("backup", "create", "snap.sqlite")
    refused = omni("backup", "restore", "snap.sqlite", ok=False)
    assert refused.returncode != 0 and "not empty" in refused.stderr
    env = {**os.environ, "OMNISTOCK_DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}"}
    restored = subprocess.run([str(BIN), "backup", "restore", "snap.sqlite"], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=120)
    assert restored.returncode == 0, restored.stderr
    assert "ledger ok" in restored.stdout
    shown = subprocess.run([str(BIN), "sku", "show", "TEA-001"], env=env, cwd=tmp_path, capture_output=True,
                           text=True, timeout=120)
    assert " 7 " in shown.stdout


def test_import_listings_maps_platform_items_after_a_backup(omni: Run, tmp_path: Path) -> None:
    (tmp_path / "catalogue.csv").write_text(CATALOGUE, encoding="utf-8")
    omni("import", "catalogue", "catalogue.csv")
    omni("channel", "add", "tmall-main", "--kind", "manual")
    listings = "商品编码,平台商品ID,每包数量,备注\nTEA-001,600001,,\nCUP-01,600002,6,礼盒\n"
    (tmp_path / "listings.csv").write_text(listings, encoding="utf-8")
    dry = omni("import", "listings", "listings.csv", "--channel", "tmall-main", "--dry-run")
    assert "would create 2" in dry.stdout and "ignored column(s): 备注" in dry.stderr
    assert not list((tmp_path / "backups").glob("*import-listings*"))
    applied = omni("import", "listings", "listings.csv", "--channel", "tmall-main")
    [taken] = (tmp_path / "backups").glob("*import-listings*")
    assert "tmall-main: created 2" in applied.stdout and f"backup taken before applying: {taken}" in applied.stdout
    assert "listings" in omni("import", "runs").stdout
    again = omni("import", "listings", "listings.csv", "--channel", "tmall-main")
    assert "created 0, updated 0, left 2 unchanged" in again.stdout and "backup" not in again.stdout
    (tmp_path / "bad.csv").write_text("sku,external_id\nNOPE,600003\n", encoding="utf-8")
    refused = omni("import", "listings", "bad.csv", "--channel", "tmall-main", ok=False)
    assert refused.returncode == 1 and "unknown SKU 'NOPE'" in refused.stderr
    listed = omni("listing", "list", "--channel", "tmall-main").stdout
    assert "600001" in listed and "600002" in listed and "600003" not in listed


def test_a_large_file_shows_a_progress_bar_while_it_is_checked(omni: Run, tmp_path: Path) -> None:
    rows = BIG_FILE + 1000
    lines = ["code,name", *(f"BULK-{i:05d},Item {i}" for i in range(rows))]
    (tmp_path / "big.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    # As in a terminal (rich draws live bars only there); the bar is transient, so stdout keeps only the report.
    shown = omni("import", "catalogue", "big.csv", "--dry-run", env={"TTY_COMPATIBLE": "1", "TTY_INTERACTIVE": "1"})
    assert "checking" in shown.stderr and f"{rows}/{rows}" in shown.stderr
    assert f"would be {rows} created" in shown.stdout
    (tmp_path / "small.csv").write_text("code,name\nONE,One\n", encoding="utf-8")
    quiet = omni("import", "catalogue", "small.csv", "--dry-run", env={"TTY_COMPATIBLE": "1", "TTY_INTERACTIVE": "1"})
    assert "checking" not in quiet.stderr  # small files are checked without a bar


def test_stock_moves_by_hand_take_a_quantity_in_boxes(omni: Run) -> None:
    omni("location", "add", "SH-01", "Shanghai store", "--kind", "store")
    omni("sku", "add", "TEA-001", "Longjing")
    before = omni("stock", "receive", "TEA-001", "2", "--location", "WH", "--unit", "箱", ok=False)
    assert before.returncode == 1 and "no conversion from box to pcs" in before.stderr  # 1 箱 = ? 个 not said yet
    omni("unit", "define", "箱", "12", "个")
    assert "on hand 24" in omni("stock", "receive", "TEA-001", "2", "--location", "WH", "--unit", "箱").stdout
    adjusted = omni("stock", "adjust", "TEA-001", "-1", "--location", "WH", "--unit", "box", "--reason", "damaged")
    assert "on hand 12" in adjusted.stdout
    assert "on hand 36" in omni("stock", "count", "TEA-001", "3", "--location", "WH", "--unit", "箱").stdout
    omni("stock", "transfer", "TEA-001", "1", "--from", "WH", "--to", "SH-01", "--unit", "箱")
    shown = omni("sku", "show", "TEA-001").stdout
    assert re.search(r"SH-01\s*│\s*12\s*│", shown) and re.search(r"WH\s*│\s*24\s*│", shown), shown
    assert "on hand 37" in omni("stock", "receive", "TEA-001", "1", "--location", "WH").stdout  # pieces by default
    for unit, message in (("包", "unknown unit '包'"), ("kg", "no conversion from kg to pcs")):
        refused = omni("stock", "receive", "TEA-001", "1", "--location", "WH", "--unit", unit, ok=False)
        assert refused.returncode == 1 and message in refused.stderr
    assert re.search(r"WH\s*│\s*25\s*│", omni("sku", "show", "TEA-001").stdout)  # nothing written by those
    assert "ledger ok" in omni("ledger", "verify").stdout
