"""The logical backup: every table's rows as JSON lines in a zip, read in one consistent snapshot
(REPEATABLE READ, read only, on PostgreSQL; one read transaction on SQLite), with the schema revisions it was
taken at. It restores into PostgreSQL or SQLite alike, which is how data moves between engines."""

from __future__ import annotations

import base64
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, MetaData, Table, inspect, select, text

from omnistock.store.schema import tables as _every_table  # noqa: F401  (metadata knows every feature's tables)
from omnistock.store.tables import metadata

FORMAT = "omnistock-logical"
VERSION = 1
VERSION_TABLE = "alembic_version"


def encode(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode()
    return value


def readable_table(conn: Connection, name: str, reflected: Table) -> Table:
    """The table to read `name` with: omnistock's own definition (exact types: aware UTC times, decimals)
    limited to the columns the database really has, or the reflected one for a table omnistock does not know."""
    known = metadata.tables.get(name)
    if known is None:
        return reflected
    present = {c.name for c in reflected.columns}
    return Table(name, MetaData(), *[c._copy() for c in known.columns if c.name in present])


def schema_heads(conn: Connection) -> list[str]:
    meta = MetaData()
    meta.reflect(conn, only=lambda name, _: name == VERSION_TABLE)
    if VERSION_TABLE not in meta.tables:
        return []
    return sorted(str(v) for v in conn.execute(select(meta.tables[VERSION_TABLE].c.version_num)).scalars())


def derived_tables(conn: Connection) -> set[str]:
    """Tables that are not data but built from it: SQLite's virtual tables (a full-text index) and their
    shadow tables. The migrations create them and their triggers refill them as the rows they index come back."""
    if conn.dialect.name != "sqlite":
        return set()
    virtual = list(conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table' "
                                     "AND sql LIKE 'CREATE VIRTUAL TABLE%'")).scalars())
    every = list(conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'")).scalars())
    return {name for name in every if any(name == v or name.startswith(f"{v}_") for v in virtual)}


def data_table_names(conn: Connection) -> list[str]:
    skip = derived_tables(conn) | {VERSION_TABLE}
    return [name for name in inspect(conn).get_table_names() if name not in skip]


def data_tables(conn: Connection) -> list[Table]:
    """The tables holding data, in foreign-key order (the schema's version table and derived tables left out)."""
    skip = derived_tables(conn) | {VERSION_TABLE}
    meta = MetaData()
    meta.reflect(conn, only=lambda name, _: name not in skip)
    return list(meta.sorted_tables)


def table_rows(conn: Connection) -> Iterator[tuple[str, list[str], Iterator[dict[str, Any]]]]:
    """Every data table (FK order) with its column names and its rows, read through `conn`'s transaction."""
    for reflected in data_tables(conn):
        table = readable_table(conn, reflected.name, reflected)
        columns = [c.name for c in table.columns]
        rows = (dict(r) for r in conn.execute(select(table)).mappings())
        yield reflected.name, columns, rows


def export_database(engine: Engine, target: Path) -> None:
    with _snapshot(engine) as conn, zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        counts: dict[str, int] = {}
        order: list[str] = []
        for name, columns, rows in table_rows(conn):
            order.append(name)
            counts[name] = 0
            with archive.open(f"tables/{name}.jsonl", "w", force_zip64=True) as out:
                for row in rows:
                    out.write(json.dumps({k: encode(row[k]) for k in columns}, ensure_ascii=False).encode() + b"\n")
                    counts[name] += 1
        manifest = {"format": FORMAT, "version": VERSION, "dialect": engine.dialect.name,
                    "taken_at": datetime.now(timezone.utc).isoformat(), "heads": schema_heads(conn),
                    "tables": order, "rows": counts}
        archive.writestr("manifest.json", json.dumps(manifest, indent=2))


class _snapshot:
    """A read-only connection in one snapshot: every table is read as of the same instant."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.conn: Connection | None = None

    def __enter__(self) -> Connection:
        if self.engine.dialect.name == "postgresql":
            self.conn = self.engine.connect().execution_options(isolation_level="REPEATABLE READ")
            self.conn.begin()
            self.conn.exec_driver_sql("SET TRANSACTION READ ONLY")
        else:
            self.conn = self.engine.connect()
            self.conn.begin()
        return self.conn

    def __exit__(self, *exc: object) -> None:
        assert self.conn is not None
        self.conn.rollback()
        self.conn.close()


@dataclass(frozen=True)
class Manifest:
    dialect: str
    taken_at: str
    heads: list[str]
    tables: list[str]
    rows: dict[str, int]


def read_manifest(archive: zipfile.ZipFile) -> Manifest:
    try:
        raw = json.loads(archive.read("manifest.json"))
    except (KeyError, ValueError) as exc:
        raise ValueError("not an omnistock logical backup (no manifest.json)") from exc
    if raw.get("format") != FORMAT or raw.get("version") != VERSION:
        raise ValueError(f"unsupported backup format {raw.get('format')!r} version {raw.get('version')!r}")
    return Manifest(raw["dialect"], raw["taken_at"], list(raw["heads"]), list(raw["tables"]), dict(raw["rows"]))


def archive_rows(archive: zipfile.ZipFile, name: str) -> Iterator[dict[str, Any]]:
    with archive.open(f"tables/{name}.jsonl") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)
