"""Reading and locking many stock levels at once. Levels are read per location in one query each and
filtered here (a 100,000-key IN list costs more to build than the rows cost to read). When locking,
PostgreSQL locks exactly the wanted rows, in (sku, location) order, through one join on arrays; SQLite has
no row locks: the import's transaction already holds the database's write lock (BEGIN IMMEDIATE)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import cast

from sqlalchemy import Table, select, text
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from omnistock.store.tables import Level

LEVELS = cast(Table, Level.__table__)
Key = tuple[int, int]  # (sku id, location id)

_PG_ENSURE = text("INSERT INTO levels (sku_id, location_id, on_hand, reserved) "
                  "SELECT s, l, 0, 0 FROM unnest(CAST(:skus AS bigint[]), CAST(:locs AS bigint[])) AS k(s, l) "
                  "ON CONFLICT DO NOTHING")
_PG_LOCK = text("SELECT v.sku_id, v.location_id, v.on_hand, v.reserved FROM levels v "
                "JOIN unnest(CAST(:skus AS bigint[]), CAST(:locs AS bigint[])) AS k(s, l) "
                "ON v.sku_id = k.s AND v.location_id = k.l "
                "ORDER BY v.sku_id, v.location_id FOR UPDATE OF v")


def read_levels(session: Session, keys: Iterable[Key]) -> dict[Key, tuple[int, int]]:
    """(on hand, reserved) of the existing levels among `keys`, without locking."""
    wanted: dict[int, set[int]] = defaultdict(set)
    for sku_id, location_id in keys:
        wanted[location_id].add(sku_id)
    found: dict[Key, tuple[int, int]] = {}
    for location_id, skus in wanted.items():
        rows = session.execute(select(LEVELS.c.sku_id, LEVELS.c.on_hand, LEVELS.c.reserved)
                               .where(LEVELS.c.location_id == location_id))
        found.update({(sku_id, location_id): (on_hand, reserved) for sku_id, on_hand, reserved in rows
                      if sku_id in skus})
    return found


_PG_CREATE = text("INSERT INTO levels (sku_id, location_id, on_hand, reserved) "
                  "SELECT s, l, q, 0 FROM unnest(CAST(:skus AS bigint[]), CAST(:locs AS bigint[]), "
                  "CAST(:qtys AS integer[])) AS k(s, l, q) ON CONFLICT DO NOTHING RETURNING sku_id, location_id")


def create_levels(session: Session, quantities: dict[Key, int]) -> set[Key]:
    """Insert levels that do not exist yet, with their on hand; returns the keys inserted (on PostgreSQL
    another transaction may have created some meanwhile: those are left to the caller to lock and update)."""
    if not quantities:
        return set()
    ordered = sorted(quantities)
    if session.get_bind().dialect.name == "postgresql":
        rows = session.execute(_PG_CREATE, {"skus": [k[0] for k in ordered], "locs": [k[1] for k in ordered],
                                            "qtys": [quantities[k] for k in ordered]})
        return {(r.sku_id, r.location_id) for r in rows}
    # SQLite: this transaction holds the database's write lock, so no level appeared since it was read.
    connection = session.connection()
    for start in range(0, len(ordered), 5000):
        connection.exec_driver_sql("INSERT INTO levels (sku_id, location_id, on_hand, reserved) VALUES (?, ?, ?, 0)",
                                   [(s, loc, quantities[(s, loc)]) for s, loc in ordered[start:start + 5000]])
    return set(ordered)


def lock_levels(session: Session, keys: Iterable[Key]) -> dict[Key, tuple[int, int]]:
    """(on hand, reserved) of exactly these levels, created (0, 0) when missing, locked for this transaction."""
    ordered = sorted(set(keys))
    if not ordered:
        return {}
    skus, locs = [k[0] for k in ordered], [k[1] for k in ordered]
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_PG_ENSURE, {"skus": skus, "locs": locs})
        rows = session.execute(_PG_LOCK, {"skus": skus, "locs": locs})
        return {(r.sku_id, r.location_id): (r.on_hand, r.reserved) for r in rows}
    session.execute(sqlite_insert(LEVELS).on_conflict_do_nothing(),
                    [{"sku_id": s, "location_id": loc, "on_hand": 0, "reserved": 0} for s, loc in ordered])
    return read_levels(session, ordered)
