"""Running the demo: API + in-process workers + simulated shops + shoppers, with a live view."""

from __future__ import annotations

import random
import socket
import threading
import time
from pathlib import Path

import uvicorn
from rich.console import Console
from rich.live import Live
from sqlalchemy import select

from omnistock.api.app import create_app
from omnistock.channels.simulator import SimRegistry, Simulator
from omnistock.demo.seed import DEMO, prepare
from omnistock.demo.shops import DemoShop, connect_all
from omnistock.demo.view import propagation_ms, render
from omnistock.domain.stock import MoveKind
from omnistock.services import ledger
from omnistock.services.availability import available_by_sku
from omnistock.store.db import Database
from omnistock.store.tables import Sku
from omnistock.sync.health import percentile
from omnistock.sync.worker import Worker, WorkerOptions


def _serve(app: object, port: int) -> uvicorn.Server:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))  # type: ignore[arg-type]
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server


def _shoppers(registry: SimRegistry, shops: list[DemoShop], rate: float, stop: threading.Event,
              seed: int) -> None:
    """Shoppers arrive as a Poisson process over all shops and SKUs; a sold-out item refuses the sale."""
    rng = random.Random(seed)
    while not stop.is_set():
        stop.wait(rng.expovariate(rate))
        shop = rng.choice(shops)
        sku = rng.choice(list(shop.items))
        registry.shop(shop.code).buy(shop.items[sku], rng.choice((1, 1, 1, 2, 3)),
                                     {"name": f"顾客{rng.randint(1000, 9999)}", "phone": "13800000000"})


def _replenish(db: Database, stop: threading.Event) -> None:
    """A supplier delivers 500 units of any SKU that runs low, so the demo keeps selling (and syncing)."""
    while not stop.wait(3.0):
        with db.transaction() as session:
            low = [sid for sid, avail in available_by_sku(
                session, session.scalars(select(Sku.id).where(Sku.is_bundle.is_(False)))).items() if avail < 50]
            for sku in session.scalars(select(Sku).where(Sku.id.in_(low))):
                ledger.post_move(session, ledger.MoveSpec(sku.code, "WH-SH", MoveKind.RECEIPT, 500,
                                                          reason="demo delivery"), DEMO)


def run(directory: Path, port: int, rate: float, seconds: float | None, console: Console) -> dict[str, float | None]:
    settings, db, token = prepare(directory)
    api_url = f"http://127.0.0.1:{port}"
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            raise SystemExit(f"port {port} is taken: pass --port")
    registry = SimRegistry(seed=42)
    sim = Simulator(registry)
    sim.start()
    with db.transaction() as session:
        shops = connect_all(session, settings, registry, sim.url, api_url)
    server = _serve(create_app(settings, db), port)
    worker = Worker(db, settings, WorkerOptions(idle_wait_s=0.5)).start()
    stop = threading.Event()
    threading.Thread(target=_shoppers, args=(registry, shops, rate, stop, 7), daemon=True).start()
    threading.Thread(target=_replenish, args=(db, stop), daemon=True).start()
    deadline = time.monotonic() + seconds if seconds else None
    try:
        with Live(render(db, api_url, token), console=console, refresh_per_second=2) as live:
            while deadline is None or time.monotonic() < deadline:
                time.sleep(1)
                live.update(render(db, api_url, token))
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        worker.stop()
        server.should_exit = True
        sim.stop()
    prop = propagation_ms(db)
    return {"p50_ms": percentile(prop, 50), "p95_ms": percentile(prop, 95), "p99_ms": percentile(prop, 99),
            "pushes": float(len(prop))}
