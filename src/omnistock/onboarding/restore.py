"""Restoring a backup into an empty database (migrated or not; a non-empty one only when forced), then
bringing the schema up to date and rebuilding every level from the ledger to prove nothing was lost.

- a SQLite backup into SQLite: SQLite's backup API, page for page;
- a pg_dump archive into PostgreSQL: pg_restore (--clean, so a migrated empty database takes it too);
- a logical export, or a SQLite backup into PostgreSQL: rows copied table by table in foreign-key order
  into a schema migrated to the backup's revisions. This is also how data moves between the two engines."""

from __future__ import annotations

import sqlite3
import subprocess
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import Connection, Engine, Table, create_engine, delete, insert, text
from sqlalchemy.pool import NullPool

from omnistock.errors import Conflict, Invalid
from omnistock.onboarding import export
from omnistock.onboarding.backup import detect_method, pg_environment, sqlite_path
from omnistock.onboarding.coerce import decoder
from omnistock.services import ledger
from omnistock.services.ledger import LevelDifference
from omnistock.store import migrate
from omnistock.store.db import Database

BATCH = 2000


@dataclass(frozen=True)
class RestoreResult:
    method: str
    rows: int | None
    levels_checked: int
    differences: list[LevelDifference]


def restore_backup(db: Database, source: Path, *, force: bool = False) -> RestoreResult:
    if not source.is_file():
        raise Invalid(f"{source} does not exist", field="file")
    method = detect_method(source)
    rows_before = user_rows(db.engine)
    if rows_before and not force:
        raise Conflict(f"the database is not empty ({rows_before} rows); restore into an empty one, or pass "
                       "--force to replace what is there", field="database")
    rows: int | None = None
    if method == "sqlite" and db.dialect == "sqlite":
        db.engine.dispose()
        _sqlite_restore(source, sqlite_path(db.engine.url))
    elif method == "pg_dump":
        if db.dialect != "postgresql":
            raise Invalid("a pg_dump archive restores into PostgreSQL only; take a logical backup "
                          "(omnistock backup create --method logical) to move to SQLite", field="file")
        _pg_restore(source, db)
    else:
        with _source_rows(source, method) as (heads, tables):
            rows = _copy(db.engine, heads, tables, replace=bool(rows_before))
    migrate.upgrade(db.engine)
    with db.reading() as session:
        checked, diffs = ledger.verify(session)
    return RestoreResult(method, rows, checked, diffs)


def user_rows(engine: Engine) -> int:
    """How many rows the database's data tables hold (not the schema's version table, not derived tables)."""
    with engine.connect() as conn:
        return sum(conn.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one()
                   for name in export.data_table_names(conn))


def _sqlite_restore(source: Path, target: str) -> None:
    src = sqlite3.connect(str(source))
    dst = sqlite3.connect(target, timeout=30)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _pg_restore(source: Path, db: Database) -> None:
    db.engine.dispose()
    result = subprocess.run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges",
                             "--single-transaction", "--exit-on-error", "--dbname", str(db.engine.url.database),
                             str(source)],
                            env=pg_environment(db.engine.url), capture_output=True, text=True, timeout=3600)
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines()
        raise Invalid(f"pg_restore failed: {lines[-1] if lines else 'error'}", field="file")


Rows = Iterable[tuple[str, Iterator[dict[str, Any]]]]


@contextmanager
def _source_rows(source: Path, method: str) -> Iterator[tuple[list[str], Rows]]:
    """(schema revisions, every table's rows) of a logical export or of a SQLite backup file."""
    if method == "logical":
        with zipfile.ZipFile(source) as archive:
            try:
                manifest = export.read_manifest(archive)
            except ValueError as exc:
                raise Invalid(str(exc), field="file") from exc
            yield manifest.heads, ((name, export.archive_rows(archive, name)) for name in manifest.tables)
        return
    engine = create_engine(f"sqlite:///file:{source.resolve()}?mode=ro&uri=true", poolclass=NullPool)
    try:
        with engine.connect() as conn:
            yield export.schema_heads(conn), ((name, rows) for name, _, rows in export.table_rows(conn))
    finally:
        engine.dispose()


def _copy(engine: Engine, heads: list[str], tables: Rows, *, replace: bool) -> int:
    _migrate_to(engine, heads)
    copied = 0
    with engine.begin() as conn:
        targets = {t.name: t for t in export.data_tables(conn)}
        if replace:
            for table in reversed(list(targets.values())):
                conn.execute(delete(table))
        for name, rows in tables:
            target = targets.get(name)
            if target is None:
                raise Invalid(f"the backup has a table {name!r} this database's schema does not", field="file")
            copied += _insert_rows(conn, export.readable_table(conn, name, target), rows)
        if conn.dialect.name == "postgresql":
            _reset_sequences(conn, targets.values())
    return copied


def _migrate_to(engine: Engine, heads: list[str]) -> None:
    """Give an empty database the schema the backup was taken with (every head of every feature branch)."""
    with engine.connect() as conn:
        current = export.schema_heads(conn)
    if current and heads and set(current) != set(heads):
        raise Conflict(f"the database's schema is at {', '.join(current)} but the backup was taken at "
                       f"{', '.join(heads)}; restore into a new, empty database", field="database")
    cfg = migrate.alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        for head in heads or ["heads"]:
            command.upgrade(cfg, head)


def _insert_rows(conn: Connection, table: Table, rows: Iterator[dict[str, Any]]) -> int:
    decode = {c.name: decoder(c) for c in table.columns}
    batch: list[dict[str, Any]] = []
    count = 0
    for row in rows:
        batch.append({k: decode[k](v) for k, v in row.items() if k in decode})
        if len(batch) >= BATCH:
            conn.execute(insert(table), batch)
            count, batch = count + len(batch), []
    if batch:
        conn.execute(insert(table), batch)
        count += len(batch)
    return count


def _reset_sequences(conn: Connection, tables: Iterable[Table]) -> None:
    """Rows came with their ids: move each id sequence past the largest, or the next insert would clash."""
    for table in tables:
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or not pk[0].autoincrement:
            continue
        conn.execute(text(f"SELECT setval(pg_get_serial_sequence(:t, :c), COALESCE(MAX(\"{pk[0].name}\"), 1), "
                          f"MAX(\"{pk[0].name}\") IS NOT NULL) FROM \"{table.name}\""),
                     {"t": table.name, "c": pk[0].name})
