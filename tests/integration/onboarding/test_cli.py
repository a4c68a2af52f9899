"""The onboarding commands as a merchant runs them: real `omnistock` processes on a real SQLite file."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import load_workbook

from omnistock.config import Settings
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
    env = {**os.environ, "OMNISTOCK_DATABASE_URL": url, "COLUMNS": "200"}

    def run(*args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([str(BIN), *args], env=env, cwd=tmp_path, capture_output=True, text=True,
                                timeout=120)
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
