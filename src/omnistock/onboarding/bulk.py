"""Writing many rows in few round trips: PostgreSQL's COPY (the fastest way in), the driver's executemany on
SQLite (its C loop needs no more). Values are converted here once per column, in the form the tables' types
store them, instead of through SQLAlchemy's per-row bind processing. Rows are dicts by column name; times are
aware UTC datetimes and JSON columns hold Python objects, as for the ORM."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, TypeVar

from sqlalchemy import JSON, Table, text
from sqlalchemy.orm import Session

from omnistock.store.types import UTCDateTime

T = TypeVar("T")
CHUNK = 5000  # rows per statement: far below SQLite's 32,766 and PostgreSQL's 65,535 bound parameters


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def insert_rows(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        _copy(session, table, rows)
        return
    names = list(rows[0])
    convert = [_stored(table.c[n].type, sqlite=True) for n in names]
    columns = ", ".join(f'"{n}"' for n in names)
    sql = f'INSERT INTO "{table.name}" ({columns}) VALUES ({", ".join("?" for _ in names)})'
    connection = session.connection()
    for part in chunks(rows):
        connection.exec_driver_sql(sql, [tuple(fn(row[n]) for fn, n in zip(convert, names)) for row in part])


def _stored(column_type: Any, *, sqlite: bool) -> Callable[[Any], Any]:
    """How a value of a column of this type is handed to the driver."""
    if isinstance(column_type, JSON):
        return lambda v: None if v is None else json.dumps(v, ensure_ascii=False)
    if isinstance(column_type, UTCDateTime):
        def naive_utc(v: datetime | None) -> Any:
            if v is None:
                return None
            plain = v.astimezone(timezone.utc).replace(tzinfo=None)
            # SQLAlchemy's SQLite DATETIME text, so that the ORM reads these rows back like its own.
            return plain.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else plain
        return naive_utc
    return lambda v: v


def _copy(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """COPY in PostgreSQL's text format, written here in large pieces (per-row calls into the driver cost
    more than the server's work)."""
    names = list(rows[0])
    convert = [_stored(table.c[n].type, sqlite=False) for n in names]
    columns = ", ".join(f'"{n}"' for n in names)
    raw = session.connection().connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
        for part in chunks(rows, 10_000):
            copy.write("".join("\t".join(_copy_text(fn(row[n])) for fn, n in zip(convert, names)) + "\n"
                               for row in part))


_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return str(value).translate(_ESCAPES)


_PG_SET_ON_HAND = text("UPDATE levels AS v SET on_hand = k.q "
                       "FROM unnest(CAST(:skus AS bigint[]), CAST(:locs AS bigint[]), CAST(:qtys AS integer[])) "
                       "AS k(s, l, q) WHERE v.sku_id = k.s AND v.location_id = k.l")
_SET_ON_HAND = "UPDATE levels SET on_hand = ? WHERE sku_id = ? AND location_id = ?"


def set_on_hand(session: Session, values: Sequence[tuple[int, int, int]]) -> None:
    """Set on hand of many levels: (sku id, location id, quantity)."""
    if not values:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_PG_SET_ON_HAND, {"skus": [v[0] for v in values], "locs": [v[1] for v in values],
                                          "qtys": [v[2] for v in values]})
        return
    connection = session.connection()
    for part in chunks(values):
        connection.exec_driver_sql(_SET_ON_HAND, [(q, s, loc) for s, loc, q in part])


def now_utc() -> datetime:
    return datetime.now(timezone.utc)
