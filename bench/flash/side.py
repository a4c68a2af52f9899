"""The omnistock side of a run, in its own process so that its CPU time is its own and the simulator and the
shoppers do not share its interpreter lock: the API (which takes the platforms' webhooks) plus either the sync
engine as `omnistock serve` runs it, or order polls plus the scheduled export of the periodic baselines."""

from __future__ import annotations

import logging
import multiprocessing
import os
import socket
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import uvicorn
from sqlalchemy import select

from flash.periodic import PeriodicExport, poll_orders
from omnistock.api.app import create_app
from omnistock.config import Settings
from omnistock.store.db import Database
from omnistock.store.tables import Channel
from omnistock.sync.worker import Worker

# Forked while the parent has no thread yet (every Side is made before the first stage starts its simulator),
# so the children start at once with omnistock already imported.
FORK = multiprocessing.get_context("fork")


@dataclass(frozen=True)
class SideConfig:
    database_url: str
    secret_key: str
    engine: bool  # True: omnistock's sync worker; False: polls and the scheduled export
    period_s: float = 0.0  # the export's period (periodic only)
    phase_s: float = 0.0  # first export this long after the sale starts
    poll_s: float = 6.0


class Side:
    """Handle on the child process: forked early, then started with its configuration, told when the sale
    starts, read for CPU time, stopped."""

    def __init__(self) -> None:
        self._parent, child = FORK.Pipe()
        self._sale_at: Any = FORK.Value("d", 0.0)
        self._stop: Any = FORK.Event()
        self.process = FORK.Process(target=serve, args=(child, self._sale_at, self._stop),
                                     name="flash-omnistock", daemon=True)
        self.process.start()
        self.url = ""

    def start(self, config: SideConfig, timeout: float = 300.0) -> str:
        self._parent.send(config)
        if not self._parent.poll(timeout):
            self.stop()
            raise RuntimeError("the omnistock side did not start")
        self.url = str(self._parent.recv())
        return self.url

    def sale_started(self, at: float) -> None:
        self._sale_at.value = at

    def cpu_seconds(self) -> float:
        """User + system CPU of the whole process (every thread), from /proc."""
        assert self.process.pid is not None
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self, timeout: float = 30.0) -> None:
        if self._stop.is_set():
            return
        self._stop.set()
        if not self.url and self.process.is_alive():  # never started: it still waits for its configuration
            self._parent.send(None)
        self.process.join(timeout)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(5)


def serve(conn: Connection, sale_at: Any, stop: Any) -> None:
    """The child's main: waits for its configuration, then runs until `stop` is set."""
    config: SideConfig | None = conn.recv()
    if config is None:
        return
    logging.basicConfig(level=logging.WARNING, format="omnistock side: %(levelname)s %(name)s: %(message)s")
    settings = Settings(database_url=config.database_url, secret_key=config.secret_key)
    db = Database(settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(settings, db), log_level="warning", access_log=False,
                                           limit_concurrency=1000, backlog=2048))
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="api", daemon=True).start()
    while not server.started:
        time.sleep(0.02)
    halt = threading.Event()
    worker = None
    threads: list[threading.Thread] = []
    if config.engine:
        worker = Worker(db, settings).start()  # exactly what `omnistock serve` runs beside the API
    else:
        export = PeriodicExport(db, settings, config.period_s, config.phase_s)
        export.push_all()  # the shops start empty: the export that ran before the sale
        with db.reading() as session:
            channel_ids = list(session.scalars(select(Channel.id).where(Channel.enabled.is_(True))))
        threads = [threading.Thread(target=poll_orders, args=(db, settings, cid, config.poll_s, halt),
                                    name=f"poll-{cid}", daemon=True) for cid in channel_ids]

        def export_when_the_sale_starts() -> None:
            while sale_at.value == 0.0 and not halt.wait(0.02):
                pass
            export.run(sale_at.value, halt)
        threads.append(threading.Thread(target=export_when_the_sale_starts, name="export", daemon=True))
        for t in threads:
            t.start()
    conn.send(f"http://127.0.0.1:{port}")
    stop.wait()
    halt.set()
    if worker is not None:
        worker.stop()
    for t in threads:
        t.join(10)
    server.should_exit = True
    time.sleep(0.2)
    db.dispose()
