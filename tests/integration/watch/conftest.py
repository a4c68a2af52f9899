"""The watch's fixtures: a simulator and an in-process sync worker (which also runs the watch's jobs and its
notification sender)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conftest import Backend
from omnistock.channels.simulator import SimRegistry, Simulator
from omnistock.sync.adapters import forget_all
from omnistock.sync.worker import Worker, WorkerOptions


@pytest.fixture(scope="session")
def sim() -> Iterator[Simulator]:
    with Simulator(SimRegistry(seed=11)) as simulator:
        yield simulator


@pytest.fixture
def worker(clean: Backend) -> Iterator[Worker]:
    running = Worker(clean.db, clean.settings,
                     WorkerOptions(idle_wait_s=0.2, refresh_s=0.2, poll=False, full_sync=False)).start()
    yield running
    running.stop()
    forget_all()
