"""Small helpers to set up the core catalogue over the API."""

from __future__ import annotations

import httpx


def seed(api: httpx.Client, *, stock: int = 0, safety: int = 0) -> None:
    assert api.post("/api/v1/locations", json={"code": "WH", "name": "Main", "kind": "warehouse"}).status_code == 201
    assert api.post("/api/v1/skus", json={"code": "A", "name": "Alpha", "safety_stock": safety}).status_code == 201
    assert api.post("/api/v1/channels", json={"code": "m", "kind": "manual"}).status_code == 201
    if stock:
        assert api.post("/api/v1/moves", json={"sku": "A", "location": "WH", "kind": "receipt",
                                               "qty": stock}).status_code == 201


def sku(api: httpx.Client, code: str = "A") -> dict:
    r = api.get(f"/api/v1/skus/{code}")
    assert r.status_code == 200, r.text
    return r.json()
