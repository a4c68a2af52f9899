"""Importing platform listings as an onboarding import, on SQLite and PostgreSQL: a backup is taken automatically
before the file is applied (not for a dry run, a refused file or a file that changes nothing), the run is listed
with its backup, and the set-based write keeps the rules of a listing added by hand."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from conftest import Backend
from omnistock.config import Settings
from omnistock.onboarding import restore
from omnistock.services.lookup import channel_by_code
from omnistock.store.db import Database
from omnistock.store.tables import AuditEntry
from omnistock.sync.listings import note_unmapped
from omnistock.sync.tables import Listing, UnmappedItem
from support import postgres
from support.onboarding import send

pytestmark = pytest.mark.usefixtures("backups_in_tmp")

LISTINGS = "商品编码,平台商品ID,每包数量\nTEA-001,9001,\nCUP-01,9002,6\n"


@pytest.fixture
def shop(api: httpx.Client) -> httpx.Client:
    assert api.post("/api/v1/locations", json={"code": "WH", "name": "Main", "kind": "warehouse"}).status_code == 201
    assert send(api, "catalogue", "code,name\nTEA-001,Longjing\nCUP-01,Cup\n").status_code == 200
    assert api.post("/api/v1/channels", json={"code": "shop", "kind": "manual"}).status_code == 201
    return api


def import_listings(api: httpx.Client, body: str, *, dry_run: bool = False) -> httpx.Response:
    return api.post("/api/v1/channels/shop/listings/import", params={"dry_run": str(dry_run).lower()},
                    content=body.encode(), headers={"Content-Type": "text/csv"})


@contextmanager
def fresh_database(kind: str, tmp_path: Path) -> Iterator[Database]:
    """An empty database of the backend's kind (a pg_dump backup restores into PostgreSQL only)."""
    name, url = postgres.create_database() if kind == "postgres" else (None, f"sqlite:///{tmp_path / 'fresh.db'}")
    db = Database(Settings(database_url=url, secret_key="test-restore", backup_dir=str(tmp_path / "b2")))
    try:
        yield db
    finally:
        db.dispose()
        if name:
            postgres.drop_database(name)


def listing_backups(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if "import-listings" in p.name) if folder.is_dir() else []


def listings_in(clean: Backend) -> int:
    with clean.db.reading() as session:
        return session.scalar(select(func.count()).select_from(Listing)) or 0


def test_a_listing_import_takes_a_backup_first_and_is_listed_with_it(shop: httpx.Client, clean: Backend,
                                                                     backups_in_tmp: Path, tmp_path: Path) -> None:
    assert import_listings(shop, LISTINGS, dry_run=True).status_code == 200
    assert import_listings(shop, LISTINGS + "NOPE,9003,1\n").status_code == 422
    assert listing_backups(backups_in_tmp) == [] and listings_in(clean) == 0

    applied = import_listings(shop, LISTINGS)
    assert applied.status_code == 200, applied.text
    body = applied.json()
    [taken] = listing_backups(backups_in_tmp)
    assert body["backup"] == str(taken) and body["created"] == 2
    runs = shop.get("/api/v1/imports").json()["items"]
    assert [(r["id"], r["kind"], r["created"], r["backup"]) for r in runs if r["kind"] == "listings"] == [
        (body["import_run"], "listings", 2, str(taken))]
    assert any(a["action"] == "import.listings" for a in shop.get("/api/v1/audit").json()["items"])
    # The backup is the database as it was just before: the catalogue and the channel are in it, no listing.
    assert listings_in(clean) == 2
    with fresh_database(clean.name, tmp_path) as fresh:
        assert restore.restore_backup(fresh, taken).differences == []
        with fresh.reading() as session:
            assert session.scalar(select(func.count()).select_from(Listing)) == 0
            assert channel_by_code(session, "shop").kind == "manual"

    again = import_listings(shop, LISTINGS)
    assert again.status_code == 200 and (again.json()["created"], again.json()["unchanged"]) == (0, 2)
    assert again.json()["backup"] is None and len(listing_backups(backups_in_tmp)) == 1  # nothing to change


def test_the_set_based_write_keeps_the_rules_of_a_listing_added_by_hand(shop: httpx.Client, clean: Backend) -> None:
    with clean.db.transaction() as session:
        note_unmapped(session, channel_by_code(session, "shop"), "9001", None, "order")
    assert shop.post("/api/v1/aliases", json={"sku": "CUP-01", "alias": "ERP-CUP", "source": "erp"}).status_code == 201
    r = import_listings(shop, "sku,external_id,pack_size,external_sku\nTEA-001,9001,,T1\nERP-CUP,9002,6,\n")
    assert r.status_code == 200, r.text
    listed = {lst["external_id"]: lst for lst in shop.get("/api/v1/channels/shop/listings").json()["items"]}
    assert {k: (v["sku"], v["pack_size"]) for k, v in listed.items()} == {"9001": ("TEA-001", 1),
                                                                          "9002": ("CUP-01", 6)}
    with clean.db.reading() as session:
        assert all(lst.dirty and lst.dirty_since for lst in session.scalars(select(Listing)))
        assert session.scalar(select(func.count()).select_from(UnmappedItem)) == 0  # mapped now
        created = session.scalars(select(AuditEntry).where(AuditEntry.action == "listing.create")
                                  .order_by(AuditEntry.entity)).all()
    assert [(a.entity, a.after) for a in created] == [
        ("listing:shop/9001", {"channel": "shop", "external_id": "9001", "sku": "TEA-001", "pack_size": 1}),
        ("listing:shop/9002", {"channel": "shop", "external_id": "9002", "sku": "CUP-01", "pack_size": 6})]
    assert all(a.actor and a.sku_id for a in created)
    r = import_listings(shop, "sku,external_id,pack_size\nCUP-01,9001,2\n")
    assert (r.json()["updated"], r.json()["items"][0]["before"]) == (1, {"sku": "TEA-001", "pack_size": 1,
                                                                         "external_sku": "T1"})
    with clean.db.reading() as session:
        updated = session.scalar(select(AuditEntry).where(AuditEntry.action == "listing.update"))
        assert updated is not None
        assert updated.after == {"sku": "CUP-01", "pack_size": 2, "external_sku": "T1"}  # a blank keeps it
