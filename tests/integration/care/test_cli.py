"""`omnistock case ...`, `omnistock incident ...` and `omnistock care ...` as a user runs them, on a real
SQLite file. The commands run in-process (the same Typer app the `omnistock` script runs) because a
process start costs seconds; one real process proves the script wiring."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from omnistock.cli import app
from omnistock.config import get_settings

BIN = Path(sys.executable).with_name("omnistock")
Run = Callable[..., SimpleNamespace]


@pytest.fixture
def omni(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Run]:
    monkeypatch.setenv("OMNISTOCK_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    runner = CliRunner()

    def run(*args: str, ok: bool = True) -> SimpleNamespace:
        result = runner.invoke(app, list(args), catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.stderr
        return SimpleNamespace(returncode=result.exit_code, stdout=result.stdout, stderr=result.stderr)
    yield run
    get_settings.cache_clear()


def test_the_omnistock_script_has_the_care_commands(omni: Run, tmp_path: Path) -> None:
    omni("db", "upgrade")
    env = {**os.environ, "OMNISTOCK_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
    result = subprocess.run([str(BIN), "case", "open", "--category", "other", "--subject", "by script"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "opened case 1" in result.stdout


def test_a_complaint_handled_from_the_command_line(omni: Run, tmp_path: Path) -> None:
    omni("db", "upgrade")
    assert "opened case 1" in omni("case", "open", "--category", "wrong_quantity", "--subject", "2 cups missing",
                                   "--customer-name", "Ann", "--description", "Only 4 of 6 arrived").stdout
    listed = omni("case", "list").stdout
    assert "2 cups missing" in listed and "1 of 1" in listed
    assert "message 2 recorded" in omni("case", "reply", "1", "--body", "Sorry {{ customer_name }}!",
                                        "--channel", "manual").stdout
    omni("case", "note", "1", "packing error at station 3")
    shown = omni("case", "show", "1").stdout
    assert "Sorry Ann!" in shown and "packing error" in shown and "status: open" in shown
    assert "compensation 1: gift 5.00 CNY" in omni("case", "compensate", "1", "--kind", "gift", "--amount", "5").stdout
    assert "is resolved" in omni("case", "resolve", "1", "--note", "reshipped").stdout
    assert "is open" in omni("case", "reopen", "1").stdout
    assert "opened incident 1" in omni("incident", "open", "--title", "Packing station 3", "--case", "1").stdout
    assert "compensated 1 of 1" in omni("incident", "compensate", "1", "--kind", "coupon", "--amount", "3").stdout
    assert "already done: 1" in omni("incident", "compensate", "1", "--kind", "coupon", "--amount", "3").stdout
    assert "resolved 1 of 1" in omni("incident", "resolve", "1", "--fix", "retrained station 3").stdout
    review = json.loads(omni("incident", "review", "1").stdout)
    assert review["incident"]["fix"] == "retrained station 3" and review["cases_by_status"] == {"resolved": 1}
    assert "0 escalation(s)" in omni("care", "scan").stdout
    assert "escalation" in omni("care", "scan", "--at", "2099-01-01T00:00+08:00").stdout
    csv_text = omni("care", "report", "--format", "csv").stdout
    assert csv_text.startswith("period,metric,key,value,currency") and "wrong_quantity" in csv_text
    omni("care", "report", "--format", "xlsx", "--out", str(tmp_path / "care.xlsx"))
    assert (tmp_path / "care.xlsx").stat().st_size > 0


ERRORS = [
    (("case", "show", "99"), "no case 99"),
    (("case", "open", "--category", "nope", "--subject", "x"), "unknown category 'nope'"),
    (("case", "status", "1", "closed"), "cannot become closed"),
    (("case", "reopen", "1"), "cannot be reopened"),
    (("case", "reply", "1", "--body", "hi", "--channel", "email"), "no email sender is set up"),
    (("case", "compensate", "1", "--kind", "coupon", "--amount", "ten"), "amount must be a number"),
    (("incident", "resolve", "5", "--fix", "x"), "no incident 5"),
    (("care", "report", "--format", "pdf"), "--format must be json, csv or xlsx"),
]


def test_errors_are_one_line_with_a_non_zero_exit_and_change_nothing(omni: Run) -> None:
    omni("db", "upgrade")
    omni("case", "open", "--category", "other", "--subject", "first")
    before = omni("case", "show", "1").stdout
    for args, message in ERRORS:
        result = omni(*args, ok=False)
        assert result.returncode != 0, args
        assert message in result.stderr and "Traceback" not in result.stderr, (args, result.stderr)
    assert omni("case", "show", "1").stdout == before
