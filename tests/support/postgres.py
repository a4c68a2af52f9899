"""PostgreSQL for the tests: start the local cluster when it is down, hand out throwaway databases."""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from pathlib import Path

import psycopg

ADMIN_DSN = os.environ.get("OMNISTOCK_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def _reachable() -> bool:
    try:
        with psycopg.connect(ADMIN_DSN, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def _start_cluster() -> None:
    conf = Path("/etc/postgresql")
    if not conf.is_dir():
        return
    for version in sorted(p.name for p in conf.iterdir()):
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"],
                       capture_output=True, timeout=60)


def ensure_server() -> str | None:
    """None when PostgreSQL answers (starting it if needed), else the reason it is not there."""
    if _reachable():
        return None
    _start_cluster()
    for _ in range(30):
        if _reachable():
            return None
        time.sleep(0.5)
    return f"PostgreSQL is not reachable at {ADMIN_DSN}"


def create_database() -> tuple[str, str]:
    """A fresh database; returns (its name, a SQLAlchemy URL for it)."""
    name = f"omnistock_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    return name, f"{base}/{name}"


def drop_database(name: str) -> None:
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
