"""Helpers for the onboarding tests: sending files to the import API and counting what the database holds."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select

from omnistock.onboarding.tables import ImportRun, SkuAlias
from omnistock.services import ledger
from omnistock.store.db import Database
from omnistock.store.tables import AuditEntry, BundleComponent, Level, Move, Sku

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
COUNTED = {"skus": Sku, "components": BundleComponent, "levels": Level, "moves": Move, "audit": AuditEntry,
           "import_runs": ImportRun, "aliases": SkuAlias}


def send(api: httpx.Client, kind: str, body: str | bytes, *, content_type: str = "text/csv",
         **params: Any) -> httpx.Response:
    data = body.encode() if isinstance(body, str) else body
    query = {k: (str(v).lower() if isinstance(v, bool) else v) for k, v in params.items()}
    return api.post(f"/api/v1/imports/{kind}", content=data, params=query, headers={"Content-Type": content_type})


def counts(db: Database) -> dict[str, int]:
    with db.reading() as session:
        return {name: session.scalar(select(func.count()).select_from(model)) or 0 for name, model in COUNTED.items()}


def levels(db: Database) -> dict[tuple[str, int], tuple[int, int]]:
    """(SKU code, location id) → (on hand, reserved)."""
    with db.reading() as session:
        rows = session.execute(select(Sku.code, Level.location_id, Level.on_hand, Level.reserved)
                               .join(Sku, Sku.id == Level.sku_id))
        return {(code, loc): (on_hand, reserved) for code, loc, on_hand, reserved in rows}


def verify(db: Database) -> list[ledger.LevelDifference]:
    with db.reading() as session:
        return ledger.verify(session)[1]


def problems(response: httpx.Response) -> set[tuple[int, str]]:
    """(row, column) of every problem a refused import reported."""
    assert response.status_code == 422, response.text
    return {(p["row"], p["column"]) for p in response.json()["errors"]}
