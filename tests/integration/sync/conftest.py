"""A simulator and an in-process sync worker beside the real API server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conftest import Backend
from omnistock.channels.simulator import SimRegistry, Simulator
from omnistock.sync.worker import Worker
from support.workers import sync_worker


@pytest.fixture(scope="session")
def sim() -> Iterator[Simulator]:
    with Simulator(SimRegistry(seed=7)) as simulator:
        yield simulator


@pytest.fixture
def worker(clean: Backend) -> Iterator[Worker]:
    with sync_worker(clean) as running:
        yield running
