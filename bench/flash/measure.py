"""What a run measured, computed from plain records: the shoppers' outcomes (the simulator's truth), each
platform's displayed-quantity history, and omnistock's ledger changes. No I/O here, so the rules can be tested.

Definitions (also printed in docs/BENCHMARKS.md):
- oversold units: units of orders a platform accepted that omnistock could not reserve (held for insufficient
  stock); `true_oversold` is the simulator's own count (units accepted beyond the stock) to check it against.
- lost sales: units of stock left unsold at the end of the sale although, while they were still unsold, a
  platform refused a shopper who wanted them: per SKU min(units refused while stock remained, units unsold).
- sell-through: units of hot stock sold (and deliverable) over the hot stock.
- propagation: for each ledger change (available of a SKU falls to a), the time until every platform other than
  the one that sold shows at most a units; a change still not visible when observation ends counts as the time
  to the end of observation and is flagged (the figure is then a lower bound).
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Outcome:
    """One shopper's visit as the platform answered it (`at`: unix time)."""

    at: float
    platform: str
    sku: str
    qty: int
    accepted: bool


@dataclass(frozen=True)
class Change:
    """A ledger change: at `at` (unix time) the available of `sku` fell to `available` by an order of `origin`."""

    at: float
    sku: str
    available: int
    origin: str


@dataclass(frozen=True)
class Delay:
    seconds: float
    censored: bool  # not visible everywhere by the end of observation: a lower bound


History = Sequence[tuple[float, int]]  # (unix time, displayed quantity), in time order


@dataclass(frozen=True)
class SkuSales:
    stock: int
    accepted: int  # units the platforms sold
    refused_while_left: int  # units refused while some of the stock was still unsold

    @property
    def sold(self) -> int:
        return min(self.accepted, self.stock)

    @property
    def oversold(self) -> int:
        return max(0, self.accepted - self.stock)

    @property
    def lost(self) -> int:
        return min(self.refused_while_left, self.stock - self.sold)


def sales(stock: Mapping[str, int], outcomes: Iterable[Outcome]) -> dict[str, SkuSales]:
    """Per SKU, from the outcomes in the order the shoppers came."""
    accepted: dict[str, int] = defaultdict(int)
    refused: dict[str, int] = defaultdict(int)
    for o in outcomes:
        if o.accepted:
            accepted[o.sku] += o.qty
        else:
            left = stock[o.sku] - accepted[o.sku]
            refused[o.sku] += max(0, min(o.qty, left))
    return {sku: SkuSales(units, accepted[sku], refused[sku]) for sku, units in stock.items()}


def sell_through(per_sku: Mapping[str, SkuSales], skus: Iterable[str]) -> float:
    chosen = [per_sku[s] for s in skus]
    stock = sum(s.stock for s in chosen)
    return sum(s.sold for s in chosen) / stock if stock else 0.0


def propagation(changes: Sequence[Change], displays: Mapping[str, Mapping[str, History]],
                until: float) -> list[Delay]:
    """One delay per change: until every other platform shows at most the new available (see module doc).
    `displays` is platform -> SKU -> history. Changes must be in time order."""
    out = []
    for per_platform in propagation_by_platform(changes, displays, until):
        slowest = max(per_platform.values(), key=lambda d: d.seconds, default=Delay(0.0, False))
        out.append(Delay(slowest.seconds, any(d.censored for d in per_platform.values())))
    return out


def propagation_by_platform(changes: Sequence[Change], displays: Mapping[str, Mapping[str, History]],
                            until: float) -> list[dict[str, Delay]]:
    """For each change, the delay until each platform other than the one that sold shows at most the new
    available."""
    # Per (platform, SKU) the visible moment can only move forward, because changes come in time order and the
    # available only falls: a cursor per history keeps this linear.
    cursors: dict[tuple[str, str], int] = defaultdict(int)
    times = {(p, s): [t for t, _ in h] for p, by_sku in displays.items() for s, h in by_sku.items()}
    out = []
    for change in changes:
        delays = {}
        for platform, by_sku in displays.items():
            history = by_sku.get(change.sku)
            if platform == change.origin or history is None:
                continue
            key = (platform, change.sku)
            seen = _visible_at(history, times[key], change, cursors, key)
            delays[platform] = (Delay(until - change.at, True) if seen is None
                                else Delay(max(0.0, seen - change.at), False))
        out.append(delays)
    return out


def _visible_at(history: History, times: list[float], change: Change, cursors: dict[tuple[str, str], int],
                key: tuple[str, str]) -> float | None:
    shown_then = bisect.bisect_right(times, change.at) - 1
    if shown_then >= 0 and history[shown_then][1] <= change.available:
        return change.at
    j = max(cursors[key], shown_then + 1)
    while j < len(history) and history[j][1] > change.available:
        j += 1
    cursors[key] = j
    return history[j][0] if j < len(history) else None


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), -(-int(q * len(ordered)) // 100)))
    return float(ordered[rank - 1])


def stock_series(stock: int, events: Iterable[tuple[float, int]], start: float) -> list[tuple[float, int]]:
    """A step series of what is left: `stock` at `start`, then minus each (time, units) in time order."""
    left, series = stock, [(start, stock)]
    for at, units in sorted(events):
        left -= units
        series.append((at, left))
    return series
