"""Crashes and outages: a worker killed mid-push, two workers sharing a channel, a platform down."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from conftest import Backend
from omnistock.sync.worker import Worker
from support.core_api import seed
from support.platforms import connect, list_item, wait_until
from support.push_log import overlapping_pushes
from support.server import LiveServer

BIN = Path(sys.executable).with_name("omnistock")


def start_worker(backend: Backend, lease_s: float = 2.0) -> subprocess.Popen[bytes]:
    env = {**os.environ, "OMNISTOCK_DATABASE_URL": backend.settings.database_url,
           "OMNISTOCK_SECRET_KEY": backend.settings.secret_key or "", "OMNISTOCK_SYNC_LEASE_SECONDS": str(lease_s),
           "OMNISTOCK_SYNC_BATCH": "3"}
    return subprocess.Popen([str(BIN), "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, sig)
        proc.wait(20)


def test_worker_killed_mid_push_converges_after_restart(api: httpx.Client, clean: Backend, sim,  # type: ignore[no-untyped-def]
                                                       server: LiveServer) -> None:
    seed(api)
    jd = connect(api, sim, "jd")
    jd.shop.faults.latency_ms = (250, 400)
    skus = [f"K{i}" for i in range(8)]
    items = {}
    for i, code in enumerate(skus):
        api.post("/api/v1/skus", json={"code": code, "name": code})
        items[code] = list_item(api, jd, code, 100 + i, shown=77)
    workers = [start_worker(clean), start_worker(clean)]
    try:
        for code in skus:
            api.post("/api/v1/moves", json={"sku": code, "location": "WH", "kind": "receipt", "qty": 5})
        wait_until(lambda: jd.shop.calls["set_stock"] >= 3, timeout=90, what="pushes under way")
        stop(workers[0], signal.SIGKILL)  # in the middle of pushing
        for code in skus:
            api.post("/api/v1/moves", json={"sku": code, "location": "WH", "kind": "receipt", "qty": 2})
        workers[0] = start_worker(clean)
        for code in skus:
            wait_until(lambda code=code: jd.shows(items[code]) == 7, timeout=120, what=f"{code} shows 7")
    finally:
        for w in workers:
            stop(w)
    assert overlapping_pushes(clean) == []


def test_platform_down_opens_the_breaker_and_recovers_with_one_push_per_listing(  # type: ignore[no-untyped-def]
        api: httpx.Client, clean: Backend, sim, server: LiveServer, worker: Worker) -> None:
    seed(api, stock=10)
    down, up = connect(api, sim, "jd"), connect(api, sim, "pinduoduo")
    skus = [f"P{i}" for i in range(4)]
    d_items, u_items = {}, {}
    for i, code in enumerate(skus):
        api.post("/api/v1/skus", json={"code": code, "name": code})
        api.post("/api/v1/moves", json={"sku": code, "location": "WH", "kind": "receipt", "qty": 10})
        d_items[code], u_items[code] = list_item(api, down, code, 200 + i), list_item(api, up, code, 200 + i)
    wait_until(lambda: all(down.shows(d_items[c]) == 10 and up.shows(u_items[c]) == 10 for c in skus),
               what="all show 10")
    outage_s = 30.0
    down.shop.faults.down_until = time.time() + outage_s
    for step in range(6):  # several changes during the outage: only the latest must be pushed afterwards
        for code in skus:
            api.post("/api/v1/moves", json={"sku": code, "location": "WH", "kind": "adjustment", "qty": -1,
                                            "reason": f"step {step}"})
        for code in skus:
            wait_until(lambda code=code, step=step: up.shows(u_items[code]) == 9 - step,
                       what="the healthy platform keeps up")
        time.sleep(0.5)
    wait_until(lambda: api.get(f"/api/v1/channels/{down.code}/health").json()["breaker"] == "open",
               what="the breaker opens")
    health = api.get(f"/api/v1/channels/{down.code}/health").json()
    assert health["backlog"] == len(skus) and health["errors_5m"] >= 1 and health["last_error"]
    calls_before = down.shop.calls["set_stock"]
    time.sleep(max(0.0, down.shop.faults.down_until - time.time()))
    for code in skus:
        wait_until(lambda code=code: down.shows(d_items[code]) == 4, timeout=60, what=f"{code} recovers to 4")
    history_after = {code: [h for h in down.shop.listings[d_items[code]].history
                            if h[0] >= down.shop.faults.down_until and h[2] == "api"] for code in skus}
    assert all(len(h) == 1 for h in history_after.values()), history_after
    assert down.shop.calls["set_stock"] - calls_before < 40  # the breaker stopped the hammering
    wait_until(lambda: api.get(f"/api/v1/channels/{down.code}/health").json()["breaker"] == "closed",
               what="the breaker closes")
