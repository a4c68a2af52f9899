"""Migrations: `pending` tells a migrated database from one that is behind, on both engines (worker processes
refuse to start on a database that is behind, so a wrong answer stops every worker)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, text

from conftest import Backend
from omnistock.store import migrate


def test_a_migrated_database_has_nothing_pending(backend: Backend) -> None:
    assert migrate.pending(backend.db.engine) is False


def test_a_database_behind_has_migrations_pending(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'behind.db'}")
    try:
        assert migrate.pending(engine) is True  # never migrated
        migrate.upgrade(engine)
        assert migrate.pending(engine) is False
        with engine.begin() as conn:  # one feature branch rolled back to the core: behind again
            conn.execute(text("DELETE FROM alembic_version WHERE version_num LIKE '%_watch%'"))  # the watch's head
        assert migrate.pending(engine) is True
    finally:
        engine.dispose()
