"""The figure of the benchmark: for the hottest SKU, each platform's displayed quantity against the stock truly
left and omnistock's available, one panel per strategy, on the same time axis."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402

from flash.measure import stock_series  # noqa: E402
from flash.run import RunResult  # noqa: E402
from flash.scenario import PLATFORMS, Catalogue  # noqa: E402


def draw(results: Sequence[RunResult], cat: Catalogue, sku: str, path: Path) -> None:
    cols = min(2, len(results))
    rows = -(-len(results) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(12, 4 * rows), sharex=True, sharey=True, squeeze=False)
    stock = cat.stock[sku]
    for ax, result in zip(axes.flat, results):
        start = result.sale_at
        for platform in PLATFORMS:
            history = [(t, q) for t, q in result.displays[platform][sku] if t <= result.until]
            xs, ys = _steps(history, start, result.until)
            ax.step(xs, ys, where="post", linewidth=1.0, label=platform)
        sold = [(o.at, o.qty) for o in result.outcomes if o.sku == sku and o.accepted]
        xs, ys = _steps(stock_series(stock, sold, start - 1), start, result.until)
        ax.step(xs, ys, where="post", color="black", linewidth=2.2, label="truly left")
        known = [(c.at, c.available) for c in result.changes if c.sku == sku]
        xs, ys = _steps([(start - 1, stock), *known], start, result.until)
        ax.step(xs, ys, where="post", color="grey", linestyle="--", linewidth=1.2, label="omnistock available")
        ax.axhline(0, color="red", linewidth=0.6)
        ax.set_title(result.strategy.name)
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(results):]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("seconds since the sale started")
    for ax in axes[:, 0]:
        ax.set_ylabel(f"{sku} units")
    axes.flat[0].legend(loc="upper right", fontsize=8)
    fig.suptitle(f"{sku}: shown on each platform vs truly left ({stock} units, demand 5× within the sale)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _steps(points: Sequence[tuple[float, int]], start: float, until: float) -> tuple[list[float], list[int]]:
    """Times relative to the sale's start, clipped to before-start and the end of observation."""
    points = sorted(points)
    if not points:
        return [], []
    before = [p for p in points if p[0] <= start]
    after = [p for p in points if p[0] > start]
    first = before[-1][1] if before else points[0][1]
    xs = [-1.0] + [t - start for t, _ in after]
    ys = [first] + [q for _, q in after]
    xs.append(until - start)
    ys.append(ys[-1])
    return xs, ys
