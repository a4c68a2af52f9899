"""Helpers for the watch tests: run a reconciliation over the API and wait for it, read alerts."""

from __future__ import annotations

import time
from typing import Any

import httpx


def reconcile(api: httpx.Client, channel: str, heal: bool | None = None, timeout: float = 60) -> dict[str, Any]:
    """Start a reconciliation over the API and wait until it is no longer running."""
    body: dict[str, Any] = {"channel": channel}
    if heal is not None:
        body["heal"] = heal
    r = api.post("/api/v1/reconciliations", json=body)
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "running"
    run_id = r.json()["id"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = api.get(f"/api/v1/reconciliations/{run_id}")
        assert got.status_code == 200, got.text
        if got.json()["status"] != "running":
            return dict(got.json())
        time.sleep(0.05)
    raise AssertionError(f"reconciliation {run_id} still running after {timeout}s")


def by_kind(run: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [d for d in run["differences"] if d["kind"] == kind]


def alerts_of(api: httpx.Client, kind: str, status: str = "open") -> list[dict[str, Any]]:
    r = api.get("/api/v1/alerts", params={"status": status, "kind": kind})
    assert r.status_code == 200, r.text
    return list(r.json()["items"])
