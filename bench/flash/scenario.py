"""The flash sale's shape and its demand script: which SKUs exist with how much stock, and when which shopper on
which platform asks for how many units. Everything comes from one seed, so every strategy replays the same sale."""

from __future__ import annotations

import random
from dataclasses import dataclass

PLATFORMS = ("shopify", "woocommerce", "taobao", "jd", "douyin")
# Each hot SKU has one platform that brings half of its demand (a live stream, a front-page slot); the other
# half is spread unevenly over the other four.
HALF_ON = ("taobao", "douyin", "shopify")
OTHER_SHARES = (0.2, 0.15, 0.1, 0.05)
# Ordinary demand: the usual mix of the merchant's channels.
ORDINARY_SHARES = {"shopify": 0.15, "woocommerce": 0.1, "taobao": 0.35, "jd": 0.2, "douyin": 0.2}
REAL_SALE_S = 60.0  # the sale the issue describes; shorter runs compress the periodic strategies' timers by as much


@dataclass(frozen=True)
class Shape:
    """How big the run is. `full` is the scenario of the issue; `quick` and `smoke` keep its shape, smaller."""

    name: str
    ordinary_skus: int
    hot_stock: int  # units of each hot SKU
    sale_s: float  # how long shoppers arrive
    tail_s: float  # observation after the last shopper: late webhooks, polls and pushes land
    ordinary_rate: float  # ordinary orders per second over all ordinary SKUs and platforms
    ordinary_stock: tuple[int, int]
    webhook_delay_s: tuple[float, float]
    poll_s: float  # order polls of every channel (the only intake of Taobao and JD here)
    hot_skus: int = 3
    demand_factor: float = 5.0  # hot demand within the sale, as a multiple of the hot stock
    latency_ms: tuple[int, int] = (30, 120)  # every platform API call's round trip
    webhook_loss: float = 0.03  # deliveries never sent: the polls must find those orders
    webhook_duplicates: float = 0.02
    intake_timeout_s: float = 30.0  # after observation, how long omnistock may take to have every platform order

    @property
    def time_scale(self) -> float:
        """Periodic timers are multiplied by this, so that a shorter sale sees as many of their pushes."""
        return self.sale_s / REAL_SALE_S


SHAPES = {
    "full": Shape("full", ordinary_skus=200, hot_stock=500, sale_s=60.0, tail_s=15.0, ordinary_rate=2.0,
                  ordinary_stock=(50, 800), webhook_delay_s=(0.2, 5.0), poll_s=6.0, intake_timeout_s=300.0),
    "quick": Shape("quick", ordinary_skus=20, hot_stock=60, sale_s=12.0, tail_s=9.0, ordinary_rate=1.0,
                   ordinary_stock=(20, 160), webhook_delay_s=(0.2, 5.0), poll_s=6.0, intake_timeout_s=60.0),
    "smoke": Shape("smoke", ordinary_skus=4, hot_stock=12, sale_s=4.0, tail_s=4.0, ordinary_rate=1.0,
                   ordinary_stock=(10, 40), webhook_delay_s=(0.1, 1.0), poll_s=2.0),
}


@dataclass(frozen=True)
class Arrival:
    """One shopper: `at` seconds after the sale starts, asks `platform` for `qty` units of `sku`."""

    at: float
    platform: str
    sku: str
    qty: int


@dataclass(frozen=True)
class Catalogue:
    stock: dict[str, int]  # SKU code -> opening stock, in listing order (hot SKUs first)
    hot: tuple[str, ...]

    def index(self, sku: str) -> int:
        return list(self.stock).index(sku)


@dataclass(frozen=True)
class Demand:
    arrivals: tuple[Arrival, ...]  # sorted by time
    hot_split: dict[str, dict[str, float]]  # hot SKU -> platform -> share of its demand


def catalogue(shape: Shape, seed: int) -> Catalogue:
    rng = random.Random(f"{seed}:catalogue")
    hot = tuple(f"HOT-{i + 1}" for i in range(shape.hot_skus))
    stock = dict.fromkeys(hot, shape.hot_stock)
    low, high = shape.ordinary_stock
    for i in range(shape.ordinary_skus):
        stock[f"SKU-{i + 1:03d}"] = rng.randint(low, high)
    return Catalogue(stock, hot)


def hot_split(shape: Shape, seed: int) -> dict[str, dict[str, float]]:
    rng = random.Random(f"{seed}:split")
    split = {}
    for i in range(shape.hot_skus):
        lead = HALF_ON[i % len(HALF_ON)]
        others = [p for p in PLATFORMS if p != lead]
        rng.shuffle(others)
        split[f"HOT-{i + 1}"] = {lead: 0.5, **dict(zip(others, OTHER_SHARES))}
    return split


def demand(shape: Shape, cat: Catalogue, seed: int) -> Demand:
    """Poisson arrivals per (hot SKU, platform) adding up to `demand_factor` × the hot stock within the sale, plus
    ordinary demand spread over the other SKUs with a long tail (a few sell often, most rarely)."""
    rng = random.Random(f"{seed}:demand")
    split = hot_split(shape, seed)
    arrivals: list[Arrival] = []
    for sku, shares in split.items():
        for platform, share in shares.items():
            rate = shape.demand_factor * cat.stock[sku] * share / shape.sale_s
            arrivals += [Arrival(t, platform, sku, 1) for t in _poisson(rng, rate, shape.sale_s)]
    ordinary = [sku for sku in cat.stock if sku not in cat.hot]
    if ordinary and shape.ordinary_rate > 0:
        weights = [1 / (rank + 1) ** 0.8 for rank in range(len(ordinary))]
        platforms, mix = list(ORDINARY_SHARES), list(ORDINARY_SHARES.values())
        for t in _poisson(rng, shape.ordinary_rate, shape.sale_s):
            sku = rng.choices(ordinary, weights)[0]
            qty = rng.choices((1, 2, 3), (0.8, 0.15, 0.05))[0]
            arrivals.append(Arrival(t, rng.choices(platforms, mix)[0], sku, qty))
    arrivals.sort(key=lambda a: (a.at, a.platform, a.sku))
    return Demand(tuple(arrivals), split)


def _poisson(rng: random.Random, rate: float, until: float) -> list[float]:
    times: list[float] = []
    t = 0.0
    while rate > 0:
        t += rng.expovariate(rate)
        if t >= until:
            return times
        times.append(t)
    return times
