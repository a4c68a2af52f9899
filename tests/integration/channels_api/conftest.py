"""A simulator for the channel API tests, and direct reads of the database for what the API must not show
(sealed secrets, inbox rows, orders)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conftest import Backend
from omnistock.channels.simulator import SimRegistry, Simulator
from omnistock.sync.adapters import forget_all
from support.channel_db import Stored


@pytest.fixture(scope="session")
def sim() -> Iterator[Simulator]:
    registry = SimRegistry(seed=44)
    registry.dispatcher.retry_backoff_s = 0.02
    with Simulator(registry) as simulator:
        yield simulator


@pytest.fixture(autouse=True)
def _fresh_adapters() -> Iterator[None]:
    # Channel ids restart after each clean-up: no adapter built for an earlier test may be reused.
    forget_all()
    yield
    forget_all()


@pytest.fixture
def stored(clean: Backend) -> Stored:
    return Stored(clean.db, clean.settings)
