"""The `omnistock` command as a user runs it: a real process on a real SQLite file."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).with_name("omnistock")


@pytest.fixture
def omni(tmp_path: Path):  # type: ignore[no-untyped-def]
    env = {**os.environ, "OMNISTOCK_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}

    def run(*args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([str(BIN), *args], env=env, cwd=tmp_path, capture_output=True, text=True,
                                timeout=60)
        if ok:
            assert result.returncode == 0, result.stderr
        return result
    return run


def test_a_day_of_stock_work_from_the_command_line(omni) -> None:  # type: ignore[no-untyped-def]
    omni("db", "upgrade")
    omni("location", "add", "WH", "Main warehouse")
    omni("location", "add", "S1", "Store", "--kind", "store")
    omni("sku", "add", "A", "Alpha", "--safety-stock", "2")
    omni("sku", "add", "B", "Beta")
    omni("sku", "add", "KIT", "Kit", "--component", "A*2", "--component", "B*1")
    assert "on hand 10" in omni("stock", "receive", "A", "10", "--location", "WH").stdout
    omni("stock", "receive", "B", "4", "--location", "WH")
    omni("stock", "adjust", "A", "-1", "--location", "WH", "--reason", "broken")
    omni("stock", "transfer", "A", "3", "--from", "WH", "--to", "S1")
    assert "on hand 11" in omni("stock", "count", "A", "5", "--location", "S1").stdout  # WH 6 + S1 counted 5
    shown = omni("sku", "show", "A").stdout
    assert "WH" in shown and "S1" in shown
    listed = omni("sku", "list").stdout
    assert "KIT" in listed and "3 of 3" in listed
    assert "ledger ok" in omni("ledger", "verify").stdout


def test_token_is_printed_once_on_stdout(omni) -> None:  # type: ignore[no-untyped-def]
    omni("db", "upgrade")
    result = omni("token", "create", "--name", "ops", "--role", "operator")
    token = result.stdout.strip()
    assert token.startswith("os_") and len(token) > 30
    assert token not in result.stderr


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with location WH and SKU A, made once by the command itself and copied for each case."""
    folder = tmp_path_factory.mktemp("prepared")
    env = {**os.environ, "OMNISTOCK_DATABASE_URL": f"sqlite:///{folder / 'cli.db'}"}
    for args in (("db", "upgrade"), ("location", "add", "WH", "Main"), ("sku", "add", "A", "Alpha")):
        subprocess.run([str(BIN), *args], env=env, cwd=folder, capture_output=True, text=True, timeout=60,
                       check=True)
    return folder / "cli.db"


@pytest.mark.parametrize(("args", "message"), [
    (("stock", "receive", "NOPE", "1", "--location", "WH"), "unknown SKU 'NOPE'"),
    (("stock", "receive", "A", "0", "--location", "WH"), "qty must be greater than 0"),
    (("stock", "receive", "A", "1", "--location", "XX"), "unknown location 'XX'"),
    (("token", "create", "--name", "x", "--role", "king"), "role must be one of"),
    (("sku", "add", "A", "again"), "exists already"),
])
def test_errors_are_one_line_with_a_non_zero_exit(omni, prepared: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                  args: tuple[str, ...], message: str) -> None:
    shutil.copy(prepared, tmp_path / "cli.db")
    result = omni(*args, ok=False)
    assert result.returncode != 0
    assert message in result.stderr and "Traceback" not in result.stderr
    assert "ledger ok" in omni("ledger", "verify").stdout  # the refused command wrote nothing half-way


def test_commands_before_migration_say_what_to_do(omni) -> None:  # type: ignore[no-untyped-def]
    result = omni("sku", "list", ok=False)
    assert result.returncode != 0 and "omnistock db upgrade" in result.stderr


def test_ledger_verify_names_a_level_that_differs_from_its_moves(omni, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    omni("db", "upgrade")
    omni("location", "add", "WH", "Main")
    omni("sku", "add", "A", "Alpha")
    omni("stock", "receive", "A", "10", "--location", "WH")
    with sqlite3.connect(tmp_path / "cli.db") as conn:  # a projection changed behind the ledger's back
        conn.execute("UPDATE levels SET on_hand = 12, reserved = 1")
    result = omni("ledger", "verify", ok=False)
    assert result.returncode != 0
    assert "2 difference(s)" in result.stderr and "Traceback" not in result.stderr
    rows = [line for line in result.stdout.splitlines() if line.strip("│ ").startswith("A")]
    assert any("WH" in r and "on_hand" in r and "12" in r and "10" in r for r in rows), result.stdout
    assert any("WH" in r and "reserved" in r and "1" in r and "0" in r for r in rows), result.stdout
