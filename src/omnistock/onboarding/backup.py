"""Consistent backups while the service runs: SQLite's online backup API, PostgreSQL through `pg_dump` when it
is on PATH, else a logical export of every table in one REPEATABLE READ snapshot (see `export.py`).
Automatic backups (before every import) go to `backup_dir`."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from omnistock.config import Settings
from omnistock.errors import Conflict, Invalid
from omnistock.onboarding import export
from omnistock.store.db import Database

METHODS = ("auto", "sqlite", "pg_dump", "logical")
SUFFIX = {"sqlite": ".sqlite", "pg_dump": ".pgdump", "logical": ".zip"}
SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"
ZIP_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class BackupFile:
    path: Path
    method: str
    size: int
    taken_at: datetime


def backup_dir(settings: Settings) -> Path:
    if settings.backup_dir:
        return Path(settings.backup_dir)
    if settings.is_sqlite:
        database = make_url(settings.database_url).database
        if database and database != ":memory:":
            return Path(database).resolve().parent / "backups"
    return Path("backups")


def choose_method(db: Database, method: str = "auto") -> str:
    if method not in METHODS:
        raise Invalid(f"method must be one of {', '.join(METHODS)}", field="method")
    if method == "auto":
        if db.dialect == "sqlite":
            return "sqlite"
        return "pg_dump" if shutil.which("pg_dump") else "logical"
    if method == "sqlite" and db.dialect != "sqlite":
        raise Invalid("the sqlite method backs up SQLite databases only", field="method")
    if method == "pg_dump" and db.dialect != "postgresql":
        raise Invalid("pg_dump backs up PostgreSQL databases only", field="method")
    if method == "pg_dump" and not shutil.which("pg_dump"):
        raise Invalid("pg_dump is not on PATH; use --method logical", field="method")
    return method


def create_backup(db: Database, target: Path, method: str = "auto") -> BackupFile:
    """Write a snapshot of the whole database to `target` (which must not exist yet)."""
    chosen = choose_method(db, method)
    if target.exists():
        raise Conflict(f"{target} exists already; choose another file name", field="file")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    try:
        if chosen == "sqlite":
            _sqlite_backup(db.engine.url, partial)
        elif chosen == "pg_dump":
            _pg_dump(db.engine.url, partial)
        else:
            export.export_database(db.engine, partial)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return describe(target)


def automatic_backup(db: Database, why: str) -> BackupFile:
    """A backup into backup_dir named by time and reason, e.g. omnistock-20261126-153000-import-stock.sqlite."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-%f")
    method = choose_method(db)
    folder = backup_dir(db.settings)
    return create_backup(db, folder / f"omnistock-{stamp}-{why}{SUFFIX[method]}", method)


def list_backups(settings: Settings) -> list[BackupFile]:
    folder = backup_dir(settings)
    if not folder.is_dir():
        return []
    found = [describe(p) for p in folder.iterdir() if p.is_file() and p.suffix in SUFFIX.values()]
    return sorted(found, key=lambda b: b.taken_at, reverse=True)


def describe(path: Path) -> BackupFile:
    stat = path.stat()
    return BackupFile(path, detect_method(path), stat.st_size, datetime.fromtimestamp(stat.st_mtime, timezone.utc))


def detect_method(path: Path) -> str:
    with path.open("rb") as fh:
        head = fh.read(16)
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PGDUMP_MAGIC):
        return "pg_dump"
    if head.startswith(ZIP_MAGIC):
        return "logical"
    raise Invalid(f"{path} is not an omnistock backup (SQLite file, pg_dump archive or logical export)",
                  field="file")


def sqlite_path(url: URL) -> str:
    if not url.database or url.database == ":memory:":
        raise Invalid("an in-memory SQLite database cannot be backed up", field="database_url")
    return url.database


def _sqlite_backup(url: URL, target: Path) -> None:
    """SQLite's online backup: a consistent copy while writers go on (WAL); one step, so it never restarts."""
    source = sqlite3.connect(sqlite_path(url), timeout=30)
    dest = sqlite3.connect(str(target))
    try:
        source.backup(dest)
    finally:
        dest.close()
        source.close()


def pg_environment(url: URL) -> dict[str, str]:
    """libpq's variables for a SQLAlchemy URL (the password never goes on a command line)."""
    env = dict(os.environ)
    for key, value in (("PGHOST", url.host), ("PGPORT", url.port), ("PGUSER", url.username),
                       ("PGPASSWORD", url.password), ("PGDATABASE", url.database)):
        if value is not None:
            env[key] = str(value)
    return env


def _pg_dump(url: URL, target: Path) -> None:
    """pg_dump takes its own consistent snapshot of the database; the custom format restores with pg_restore."""
    result = subprocess.run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", "--file", str(target)],
                            env=pg_environment(url), capture_output=True, text=True, timeout=3600)
    if result.returncode != 0:
        raise Invalid(f"pg_dump failed: {result.stderr.strip().splitlines()[-1] if result.stderr else 'error'}",
                      field="file")
