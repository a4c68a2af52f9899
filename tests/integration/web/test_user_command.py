"""`omnistock user create` as a person runs it: a real process on a real SQLite file."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

BIN = Path(sys.executable).with_name("omnistock")
Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def omni(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """One migrated database for the module (each command is a new process, as a person runs it)."""
    where = tmp_path_factory.mktemp("users")
    env = {**os.environ, "OMNISTOCK_DATABASE_URL": f"sqlite:///{where / 'users.db'}"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(BIN), *args], env=env, cwd=where, capture_output=True, text=True, timeout=120)
    assert run("db", "upgrade").returncode == 0
    assert run("location", "add", "S1", "Store 1", "--kind", "store").returncode == 0
    assert run("channel", "add", "jd", "--kind", "manual").returncode == 0
    return run


def test_creating_a_store_manager_from_the_command_line(omni: Run) -> None:
    made = omni("user", "create", "--username", "li.na", "--password", "s3cret-pass", "--role", "operator",
                "--location", "S1")
    assert made.returncode == 0, made.stderr
    assert "li.na" in made.stdout and "S1" in made.stdout
    listed = omni("user", "list").stdout
    assert "li.na" in listed and "operator" in listed and "S1" in listed
    again = omni("user", "create", "--username", "li.na", "--password", "long-enough")
    assert again.returncode != 0 and "exists already" in again.stderr


def test_scope_names_a_store_by_its_code_and_a_channel_with_its_prefix(omni: Run) -> None:
    made = omni("user", "create", "--username", "jingan", "--password", "s3cret-pass", "--role", "operator",
                "--scope", "S1", "--scope", "channel:jd")
    assert made.returncode == 0, made.stderr
    assert "sees S1, channel:jd" in made.stdout
    both = omni("user", "create", "--username", "mixed", "--password", "s3cret-pass", "--scope", "location:S1",
                "--channel", "jd")
    assert both.returncode == 0, both.stderr
    rows = {line.split("│")[1].strip(): line for line in omni("user", "list").stdout.splitlines() if "│" in line}
    for name in ("jingan", "mixed"):
        cells = [c.strip() for c in rows[name].split("│")]
        assert cells[3:5] == ["S1", "jd"], rows[name]


@pytest.mark.parametrize(("args", "message"), [
    (("--username", "x", "--password", "short", "--role", "viewer"), "at least 8 characters"),
    (("--username", "x", "--password", "long-enough", "--role", "king"), "role must be one of"),
    (("--username", "x", "--password", "long-enough", "--location", "NOWHERE"), "unknown location: NOWHERE"),
    (("--username", "bad name", "--password", "long-enough"), "a username is"),
    (("--username", "x", "--password", "long-enough", "--scope", "channel:nope"), "unknown channel: nope"),
    (("--username", "x", "--password", "long-enough", "--scope", "NOWHERE"), "unknown location: NOWHERE"),
    (("--username", "x", "--password", "long-enough", "--scope", "channel:"), "names no code"),
])
def test_bad_users_are_refused_with_one_line(omni: Run, args: tuple[str, ...], message: str) -> None:
    result = omni("user", "create", *args)
    assert result.returncode != 0 and message in result.stderr
    assert "Traceback" not in result.stderr
