"""Shared fixtures: each integration test runs against SQLite and PostgreSQL through a real HTTP server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from omnistock.config import Settings
from omnistock.domain.access import Principal, Role
from omnistock.services import tokens
from omnistock.store import migrate
from omnistock.store.db import Database
from omnistock.store.schema import tables as _schema  # noqa: F401  (every table module)
from omnistock.store.tables import metadata
from support import postgres
from support.server import LiveServer

IN_CI = os.environ.get("CI", "").lower() == "true"
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@dataclass
class Backend:
    name: str
    settings: Settings
    db: Database

    def reset(self) -> None:
        """Empty every table (faster than a new schema per test)."""
        names = [t.name for t in reversed(metadata.sorted_tables)]
        with self.db.engine.begin() as conn:
            if self.name == "postgres":
                # DELETE, not TRUNCATE: TRUNCATE makes new files and syncs each of them to disk, seconds per
                # test with some sixty tables; the tables here are small, so DELETE is fast.
                conn.execute(text("; ".join(f'DELETE FROM "{n}"' for n in names)))
                conn.execute(text(
                    "DO $$ DECLARE s record; BEGIN FOR s IN SELECT schemaname, sequencename FROM pg_sequences "
                    "WHERE schemaname = current_schema() LOOP EXECUTE format('ALTER SEQUENCE %I.%I RESTART', "
                    "s.schemaname, s.sequencename); END LOOP; END $$"))
            else:
                for n in names:
                    conn.execute(text(f'DELETE FROM "{n}"'))


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    name = request.param
    dbname = None
    if name == "postgres":
        reason = postgres.ensure_server()
        if reason:
            if IN_CI:
                pytest.fail(f"{reason} (CI=true: PostgreSQL tests may not be skipped)")
            pytest.skip(reason)
        dbname, url = postgres.create_database()
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'omnistock.db'}"
    key_dir = Path(tmp_path_factory.mktemp("key"))
    # Automatic backups (before every import) stay in the test run's own folder, never in the working directory.
    settings = Settings(database_url=url, secret_key=f"test-secret-{key_dir.name}",
                        backup_dir=str(tmp_path_factory.mktemp("backups")))
    db = Database(settings)
    migrate.upgrade(db.engine)
    yield Backend(name, settings, db)
    db.dispose()
    if dbname:
        postgres.drop_database(dbname)


@pytest.fixture(scope="session")
def server(backend: Backend) -> Iterator[LiveServer]:
    srv = LiveServer(backend.settings, backend.db).start()
    yield srv
    srv.stop()


def make_token(backend: Backend, role: str = "admin", *, locations: list[str] | None = None,
               channels: list[str] | None = None, name: str | None = None) -> str:
    with backend.db.transaction() as session:
        _, token = tokens.create_token(session, name=name or f"test-{role}", role=role, locations=locations,
                                       channels=channels, actor="test")
    return token


def client_for(server: LiveServer, token: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=server.url, headers=headers, timeout=60)


@pytest.fixture
def clean(backend: Backend) -> Backend:
    backend.reset()
    return backend


@pytest.fixture
def api(clean: Backend, server: LiveServer) -> Iterator[httpx.Client]:
    """An admin client on an empty database."""
    with client_for(server, make_token(clean)) as client:
        yield client


SYSTEM = Principal(name="test", role=Role.ADMIN)
