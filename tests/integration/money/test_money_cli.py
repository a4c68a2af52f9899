"""Purchasing and money from the command line, on a real SQLite file (the main scenario on PostgreSQL too): the
commands in-process (fast), and the installed `omnistock` entry point once as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner, Result

from conftest import IN_CI
from omnistock.cli import app
from omnistock.config import get_settings
from support import postgres

BIN = Path(sys.executable).with_name("omnistock")
Omni = Callable[..., Result]


def _commands(url: str, monkeypatch: pytest.MonkeyPatch) -> Omni:
    """`omnistock …` in-process against the database at `url`, upgraded first."""
    monkeypatch.setenv("OMNISTOCK_DATABASE_URL", url)
    get_settings.cache_clear()
    runner = CliRunner()

    def run(*args: str, ok: bool = True) -> Result:
        result = runner.invoke(app, list(args))
        if ok:
            assert result.exit_code == 0, result.stderr or result.output
        return result
    run("db", "upgrade")
    return run


@pytest.fixture
def omni(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Omni]:
    yield _commands(f"sqlite:///{tmp_path / 'cli.db'}", monkeypatch)
    get_settings.cache_clear()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def omni_on(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Omni]:
    """The commands on a fresh SQLite file, then on a throwaway PostgreSQL database."""
    if request.param == "sqlite":
        yield _commands(f"sqlite:///{tmp_path / 'cli.db'}", monkeypatch)
        get_settings.cache_clear()
        return
    reason = postgres.ensure_server()
    if reason:
        if IN_CI:
            pytest.fail(f"{reason} (CI=true: PostgreSQL tests may not be skipped)")
        pytest.skip(reason)
    name, url = postgres.create_database()
    try:
        yield _commands(url, monkeypatch)
    finally:
        get_settings.cache_clear()
        postgres.drop_database(name)


def test_buy_receive_value_and_report(omni_on: Omni, tmp_path: Path) -> None:
    omni = omni_on
    omni("location", "add", "WH", "Main warehouse")
    omni("sku", "add", "A", "Alpha", "--safety-stock", "3")
    omni("supplier", "add", "SUP", "Tea farm", "--lead-time", "5", "--tolerance", "10")
    omni("supplier", "add", "US", "Importer", "--currency", "USD")
    omni("supplier", "link", "A", "SUP", "--unit-cost", "4.00")
    assert "Tea farm" in omni("supplier", "list").stdout
    omni("rate", "set", "USD", "7.00")
    created = omni("po", "create", "SUP", "--line", "A*10@5.00", "--location", "WH").stdout
    assert "PO 1" in created and "ordered" in created
    omni("po", "create", "US", "--line", "A*10@1.00")
    assert "partially_received" in omni("po", "receive", "1", "--location", "WH", "--line", "A*4").stdout
    assert "received" in omni("po", "receive", "1", "-l", "WH", "--line", "A*6").stdout
    omni("po", "receive", "2", "-l", "WH", "--line", "A*10")
    again = omni("po", "receive", "2", "-l", "WH", "--line", "A*1", ok=False)
    assert again.exit_code == 1 and "only an ordered one can be received" in again.stderr
    listed = omni("po", "list").stdout
    assert "SUP" in listed and "US" in listed
    priced = omni("po", "create", "SUP", "--line", "A*1@1.50:usd", "--draft").stdout  # one line in its own currency
    assert "1.50 USD" in priced and "draft" in priced
    sheet = tmp_path / "valuation.xlsx"
    valued = omni("report", "valuation", "--xlsx", str(sheet)).stdout
    assert "total 120.00 CNY" in valued and "6.00" in valued
    assert list(load_workbook(sheet).active.iter_rows(values_only=True))[1][0] == "A"
    profit = omni("report", "profit", "--from", "2020-01-01", "--to", "2029-12-31", "--by", "sku").stdout
    assert "Total" in profit
    assert "A" in omni("reorder", "suggest", "--all").stdout


def test_reorder_drafts_one_po_per_supplier(omni: Omni) -> None:
    omni("location", "add", "WH", "Main warehouse")
    omni("sku", "add", "A", "Alpha", "--safety-stock", "4")
    omni("sku", "add", "B", "Beta", "--safety-stock", "1")
    omni("supplier", "add", "SUP", "Tea farm")
    omni("supplier", "link", "A", "SUP", "--unit-cost", "2.5")
    drafted = omni("reorder", "suggest", "--draft").stdout
    assert "drafted PO 1 for SUP" in drafted and "no supplier for: B" in drafted
    shown = omni("po", "show", "1").stdout
    assert "draft" in shown and "2.50" in shown
    assert "ordered" in omni("po", "place", "1").stdout


@pytest.mark.parametrize(("args", "message"), [
    (("po", "create", "NOPE", "--line", "A*1@1"), "unknown supplier 'NOPE'"),
    (("po", "create", "SUP", "--line", "A*1@-1"), "unit_cost cannot be negative"),
    (("po", "create", "SUP", "--line", "A*1"), "must look like SKU*QTY@UNIT_COST"),
    (("po", "create", "SUP", "--line", "A*1@1", "--currency", "XXX"), "unknown currency"),
    (("rate", "set", "USD", "abc"), "not a number"),
    (("channel-terms", "set", "nope", "--fee-percent", "5"), "unknown channel 'nope'"),
    (("report", "profit", "--from", "2024-02-01", "--to", "2024-01-01"), "to must not be before from"),
])
def test_bad_input_is_a_one_line_error(omni: Omni, args: tuple[str, ...], message: str) -> None:
    omni("sku", "add", "A", "Alpha")
    omni("supplier", "add", "SUP", "Tea farm")
    result = omni(*args, ok=False)
    assert result.exit_code == 1 and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert "ordered" not in omni("po", "list").stdout


def test_the_installed_command_runs_the_money_commands(tmp_path: Path) -> None:
    env = {**os.environ, "OMNISTOCK_DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}"}

    def run(*args: str) -> str:
        done = subprocess.run([str(BIN), *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout
    run("db", "upgrade")
    run("supplier", "add", "SUP", "Tea farm")
    assert "Tea farm" in run("supplier", "list")
