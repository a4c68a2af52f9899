"""Simulated shoppers: each buys one listing at random (Poisson) moments, as real demand arrives."""

from __future__ import annotations

import itertools
import random
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from omnistock.channels.simulator.state import SimRegistry


@dataclass
class Shopper:
    id: int
    shop: str
    external_id: str
    rate_per_s: float
    qty: int = 1
    stop_after_s: float | None = None
    seed: int | None = None
    bought: int = 0  # orders placed
    refused: int = 0  # attempts the shop refused (displayed stock too low)
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def summary(self) -> dict[str, object]:
        return {"id": self.id, "shop": self.shop, "external_id": self.external_id,
                "rate_per_s": self.rate_per_s, "bought": self.bought, "refused": self.refused,
                "running": self.thread is not None and self.thread.is_alive()}


class ShopperPool:
    """Starts and stops shopper threads against the shops of one registry."""

    def __init__(self, registry: SimRegistry) -> None:
        self._registry = registry
        self._ids = itertools.count(1)
        self._shoppers: list[Shopper] = []
        self._lock = threading.Lock()

    def start(self, shop: str, external_id: str, rate_per_s: float, qty: int = 1,
              stop_after_s: float | None = None, seed: int | None = None) -> Shopper:
        if rate_per_s <= 0 or qty <= 0:
            raise ValueError("rate_per_s and qty must be positive")
        sim_shop = self._registry.shop(shop)
        if external_id not in sim_shop.listings:
            raise KeyError(external_id)
        shopper = Shopper(next(self._ids), shop, external_id, rate_per_s, qty, stop_after_s, seed)
        shopper.thread = threading.Thread(target=self._run, args=(shopper,), name=f"sim-shopper-{shopper.id}",
                                          daemon=True)
        with self._lock:
            self._shoppers.append(shopper)
        shopper.thread.start()
        return shopper

    def stop_all(self, timeout: float = 5.0) -> list[Shopper]:
        with self._lock:
            shoppers, self._shoppers = self._shoppers, []
        for shopper in shoppers:
            shopper.stop.set()
        for shopper in shoppers:
            if shopper.thread is not None:
                shopper.thread.join(timeout)
        return shoppers

    def running(self) -> list[Shopper]:
        with self._lock:
            return list(self._shoppers)

    def _run(self, shopper: Shopper) -> None:
        rng = random.Random(shopper.seed)
        deadline = None if shopper.stop_after_s is None else time.monotonic() + shopper.stop_after_s
        while True:
            wait = rng.expovariate(shopper.rate_per_s)  # exponential gaps make a Poisson arrival process
            if deadline is not None:
                wait = min(wait, max(0.0, deadline - time.monotonic()))
            if shopper.stop.wait(wait):
                return
            if deadline is not None and time.monotonic() >= deadline:
                return
            try:
                order = self._registry.shop(shopper.shop).buy(shopper.external_id, shopper.qty)
            except KeyError:
                return  # the shop or listing was removed: this shopper leaves
            if order is None:
                shopper.refused += 1
            else:
                shopper.bought += 1
