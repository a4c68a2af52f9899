"""Shared fixtures for adapter tests: one running simulator for the session, fresh shops per test,
and a loopback receiver for webhook deliveries.

    def test_x(sim, add_shop):
        shop = add_shop("shopify", {"access_token": "t", "webhook_secret": "s"})
        base = f"{sim.url}/shopify/{shop.code}"
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from omnistock.channels.simulator import SimRegistry, SimShop, Simulator
from omnistock.channels.simulator.receiver import WebhookReceiver

AddShop = Callable[..., SimShop]


@pytest.fixture(scope="session")
def sim() -> Iterator[Simulator]:
    """The simulator, started once; tests add their own shops (see `add_shop`) so they never share state."""
    registry = SimRegistry(seed=20261126)
    registry.dispatcher.retry_backoff_s = 0.02  # compress platform retry schedules so tests stay fast
    with Simulator(registry) as simulator:
        yield simulator


@pytest.fixture
def add_shop(sim: Simulator) -> Iterator[AddShop]:
    """`add_shop(platform, credentials, code=None, **add_shop_kwargs)` → a new SimShop with a unique code,
    removed after the test."""
    created: list[str] = []

    def add(platform: str, credentials: dict[str, str] | None = None, code: str | None = None,
            **kwargs: Any) -> SimShop:
        shop_code = code or f"{platform}-{uuid.uuid4().hex[:10]}"
        shop = sim.registry.add_shop(shop_code, platform, credentials or {}, **kwargs)
        created.append(shop_code)
        return shop

    yield add
    for shop_code in created:
        sim.registry.remove_shop(shop_code)


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    """A loopback HTTP endpoint recording what the simulator's webhooks POST (answers 200 by default)."""
    with WebhookReceiver() as rec:
        yield rec
