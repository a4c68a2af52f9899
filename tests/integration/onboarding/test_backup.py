"""Backups taken while the service runs restore into a fresh database with identical levels and a clean ledger
verification, on SQLite and PostgreSQL (pg_dump and the logical export), and between the two engines."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from conftest import Backend
from omnistock.config import Settings
from omnistock.domain.access import SYSTEM
from omnistock.errors import Conflict, Invalid
from omnistock.onboarding import backup, restore
from omnistock.onboarding.imports import ImportFile, import_catalogue, import_stock
from omnistock.services import catalogue
from omnistock.store import migrate
from omnistock.store.db import Database
from support import postgres
from support.onboarding import counts, levels, send, verify

pytestmark = pytest.mark.usefixtures("backups_in_tmp")

METHODS = {"sqlite": ("sqlite", "logical"), "postgres": ("pg_dump", "logical")}
CATALOGUE = "code,name,barcode\nA,Alpha,4006381333931\nB,Beta,\nK,Kit,\n"


def _seed_api(api: httpx.Client) -> None:
    assert api.post("/api/v1/locations", json={"code": "WH", "name": "Main", "kind": "warehouse"}).status_code == 201
    assert send(api, "catalogue", "code,name,components\nA,Alpha,\nB,Beta,\nKIT,Kit box,A*2;B*1\n").status_code == 200
    assert send(api, "stock", "sku,qty\nA,40\nB,7\n", location="WH").status_code == 200
    assert api.post("/api/v1/channels", json={"code": "m", "kind": "manual"}).status_code == 201
    order = api.post("/api/v1/orders", json={"channel": "m", "external_id": "o1", "lines": [{"sku": "KIT", "qty": 2}]})
    assert order.status_code == 201, order.text


@contextmanager
def fresh_database(kind: str, tmp_path: Path, *, migrated: bool = False) -> Iterator[Database]:
    name = None
    if kind == "postgres":
        name, url = postgres.create_database()
    else:
        tmp_path.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{tmp_path / 'fresh.db'}"
    db = Database(Settings(database_url=url, secret_key="test-restore", backup_dir=str(tmp_path / "b2")))
    try:
        if migrated:
            migrate.upgrade(db.engine)
        yield db
    finally:
        db.dispose()
        if name:
            postgres.drop_database(name)


def _methods(backend: Backend) -> tuple[str, ...]:
    return METHODS[backend.name]


@pytest.mark.parametrize(("which", "migrated"), [(0, False), (1, True)])
def test_backup_then_restore_gives_identical_levels_and_a_clean_verify(api: httpx.Client, clean: Backend,
                                                                        tmp_path: Path, which: int,
                                                                        migrated: bool) -> None:
    method = _methods(clean)[which]
    _seed_api(api)
    taken = backup.create_backup(clean.db, tmp_path / f"snap-{method}", method)
    assert taken.method == method
    with fresh_database(clean.name, tmp_path, migrated=migrated) as fresh:
        result = restore.restore_backup(fresh, taken.path)
        assert result.differences == [] and result.levels_checked > 0
        assert levels(fresh) == levels(clean.db)
        assert counts(fresh) == counts(clean.db)
        assert verify(fresh) == []


def test_restore_refuses_a_database_that_is_not_empty_unless_forced(api: httpx.Client, clean: Backend,
                                                                     tmp_path: Path) -> None:
    _seed_api(api)
    taken = backup.create_backup(clean.db, tmp_path / "snap", "logical")
    with pytest.raises(Conflict, match="not empty"):
        restore.restore_backup(clean.db, taken.path)
    assert send(api, "stock", "sku,qty\nA,1\n", location="WH").status_code == 200
    assert restore.restore_backup(clean.db, taken.path, force=True).differences == []
    assert [v[0] for k, v in levels(clean.db).items() if k[0] == "A"] == [40]  # the receipt after the backup is gone


def test_a_backup_taken_while_stock_moves_is_a_consistent_snapshot(api: httpx.Client, clean: Backend,
                                                                    tmp_path: Path) -> None:
    _seed_api(api)
    stop = threading.Event()

    def receive() -> None:
        while not stop.is_set():
            api.post("/api/v1/moves", json={"sku": "B", "location": "WH", "kind": "receipt", "qty": 1})
    writer = threading.Thread(target=receive)
    writer.start()
    try:
        taken = [backup.create_backup(clean.db, tmp_path / f"live-{m}", m) for m in _methods(clean)]
    finally:
        stop.set()
        writer.join()
    for i, snap in enumerate(taken):
        with fresh_database(clean.name, tmp_path / str(i)) as fresh:
            assert restore.restore_backup(fresh, snap.path).differences == []


@pytest.fixture
def sqlite_source(tmp_path: Path) -> Iterator[Database]:
    db = Database(Settings(database_url=f"sqlite:///{tmp_path / 'source.db'}", secret_key="s",
                           backup_dir=str(tmp_path / "b1")))
    migrate.upgrade(db.engine)
    with db.transaction() as session:
        catalogue.create_location(session, code="WH", name="Main", kind="warehouse", sellable=True, actor="t")
    import_catalogue(db, ImportFile(CATALOGUE.encode(), "c.csv"), SYSTEM, dry_run=False)
    import_stock(db, ImportFile(b"sku,qty\nA,12\nB,3\n", "s.csv"), SYSTEM, location="WH", dry_run=False)
    yield db
    db.dispose()


def test_backups_move_between_sqlite_and_postgresql(clean: Backend, sqlite_source: Database,
                                                    tmp_path: Path) -> None:
    if clean.name != "postgres":
        pytest.skip("needs PostgreSQL as the other engine")
    sqlite_file = backup.create_backup(sqlite_source, tmp_path / "from-sqlite.sqlite")
    assert restore.restore_backup(clean.db, sqlite_file.path).differences == []
    assert levels(clean.db) == levels(sqlite_source)
    logical = backup.create_backup(clean.db, tmp_path / "from-pg.zip", "logical")
    with fresh_database("sqlite", tmp_path) as back:
        assert restore.restore_backup(back, logical.path).differences == []
        assert levels(back) == levels(sqlite_source) and counts(back) == counts(clean.db)
    dump = backup.create_backup(clean.db, tmp_path / "from-pg.pgdump", "pg_dump")
    with fresh_database("sqlite", tmp_path / "x") as refused, pytest.raises(Invalid, match="PostgreSQL only"):
        restore.restore_backup(refused, dump.path)


def test_imports_take_a_backup_first_and_backups_are_listed(api: httpx.Client, clean: Backend,
                                                            backups_in_tmp: Path) -> None:
    _seed_api(api)
    found = backup.list_backups(clean.settings)
    assert len(found) == 2  # one before each applied import
    assert all(b.path.parent == backups_in_tmp for b in found)
    listed = api.get("/api/v1/backups").json()["items"]
    assert {Path(b["file"]).name for b in listed} == {b.path.name for b in found}
    made = api.post("/api/v1/backups")
    assert made.status_code == 201 and "manual" in made.json()["file"]
