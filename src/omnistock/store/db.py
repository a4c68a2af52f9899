"""Engines and units of work. SQLite gets WAL and writer transactions that take the lock up front
(BEGIN IMMEDIATE), so that concurrent writers queue instead of failing half-way; PostgreSQL gets row locks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from omnistock.config import Settings

_WRITE = {"omnistock_write": True}
SETTINGS = "omnistock_settings"  # Session.info key of the Settings the session's database was made with


def make_engine(settings: Settings) -> Engine:
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(settings)
    # No pre-ping (a round trip per transaction); stale connections are recycled instead, and a failed
    # one surfaces as an error the caller retries.
    return create_engine(url, pool_size=settings.db_pool_size, max_overflow=settings.db_pool_size,
                         pool_recycle=300)


def _sqlite_engine(settings: Settings) -> Engine:
    engine = create_engine(settings.database_url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Hand transaction control to us (pysqlite otherwise BEGINs lazily and deferred).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(settings.sqlite_busy_timeout_ms)}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        write = conn.get_execution_options().get("omnistock_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


class Database:
    """One engine and its session factories for the process."""

    def __init__(self, settings: Settings, engine: Engine | None = None) -> None:
        self.settings = settings
        self.engine = engine or make_engine(settings)
        self.dialect = self.engine.dialect.name
        # Services that need a setting inside a transaction (the merchant's calendar day for batch expiry) read
        # it from the session: the settings of this database, not the process environment's.
        info = {SETTINGS: settings}
        self._read = sessionmaker(self.engine, expire_on_commit=False, info=info)
        self._write = sessionmaker(self.engine.execution_options(**_WRITE), expire_on_commit=False, info=info)
        # Every write marks the listings it made wrong, inside the same transaction.
        from omnistock.sync.dirty import watch

        watch(self._write)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A unit of work that changes data: commits on success, rolls back on any error."""
        with self._write() as session, session.begin():
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        with self._read() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
