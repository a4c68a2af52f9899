"""An in-process sync worker for tests: quick to wake, scheduled polls and full syncs off unless asked for."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from conftest import Backend
from omnistock.sync.adapters import forget_all
from omnistock.sync.worker import Worker, WorkerOptions


@contextmanager
def sync_worker(backend: Backend, **options: Any) -> Iterator[Worker]:
    chosen = {"idle_wait_s": 0.2, "refresh_s": 0.2, "poll": False, "full_sync": False, **options}
    running = Worker(backend.db, backend.settings, WorkerOptions(**chosen)).start()
    try:
        yield running
    finally:
        running.stop()
        forget_all()  # adapters are cached per channel id, and ids restart with every test's empty tables
