"""Geometry of the dashboard's bar charts, drawn as inline SVG by the template (no chart library, no
JavaScript): bars of up to two series per hour, a y scale with round steps, and hour labels."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH, HEIGHT = 720, 180
LEFT, BOTTOM, TOP = 52, 28, 10


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: int
    value: int


@dataclass(frozen=True)
class Tick:
    y: float
    value: int


@dataclass(frozen=True)
class Label:
    x: float
    text: str


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    left: int
    plot_bottom: float
    bars: list[Bar]
    ticks: list[Tick]
    labels: list[Label]


def nice_top(peak: int) -> int:
    """The smallest 1, 2 or 5 × 10ⁿ at or above the peak (at least 1), so grid lines fall on round numbers."""
    top = 1
    while True:
        for step in (1, 2, 5):
            if step * top >= peak:
                return max(1, step * top)
        top *= 10


def bar_chart(labels: Sequence[str], series: Sequence[Sequence[int]], *, label_every: int = 3) -> BarChart:
    """Bars grouped per slot: series[s][i] is the value of series s in slot i."""
    slots = len(labels)
    plot_w, plot_h = WIDTH - LEFT - 4, HEIGHT - BOTTOM - TOP
    top = nice_top(max((v for s in series for v in s), default=0))
    slot_w = plot_w / max(slots, 1)
    bar_w = slot_w * 0.8 / max(len(series), 1)
    bars = []
    for s, values in enumerate(series):
        for i, value in enumerate(values):
            h = plot_h * value / top
            bars.append(Bar(LEFT + i * slot_w + slot_w * 0.1 + s * bar_w, TOP + plot_h - h, bar_w, h, s, value))
    ticks = [Tick(TOP + plot_h - plot_h * k / 4, round(top * k / 4)) for k in range(5) if top * k % 4 == 0]
    marks = [Label(LEFT + i * slot_w + slot_w / 2, text) for i, text in enumerate(labels) if i % label_every == 0]
    return BarChart(WIDTH, HEIGHT, LEFT, TOP + plot_h, bars, ticks, marks)
