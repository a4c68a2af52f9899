"""Small rules of the console: confirming large stock changes, sync state words, chart scale, safe
redirects after sign-in."""

from __future__ import annotations

import pytest

from omnistock.domain.stock import MoveKind
from omnistock.sync.health import Health
from omnistock.web.chart import bar_chart, nice_top
from omnistock.web.forms import is_large_change
from omnistock.web.reads.health import SyncState, sync_state
from omnistock.web.routing import safe_next


@pytest.mark.parametrize(("kind", "qty", "on_hand", "large"), [
    (MoveKind.RECEIPT, 99, 0, False),
    (MoveKind.RECEIPT, 100, 0, True),
    (MoveKind.ADJUSTMENT, -3, 10, False),
    (MoveKind.ADJUSTMENT, -6, 10, True),     # more than half of what is there
    (MoveKind.ADJUSTMENT, 50, 10, False),
    (MoveKind.COUNT, 4, 10, True),           # the count removes 6 of 10
    (MoveKind.COUNT, 9, 10, False),
    (MoveKind.COUNT, 150, 10, True),         # finds 140 more
    (MoveKind.TRANSFER, 5, 10, False),
    (MoveKind.TRANSFER, 6, 10, True),
    (MoveKind.ADJUSTMENT, -1, 0, False),     # nothing on hand: the service refuses it anyway
])
def test_large_changes_are_confirmed_first(kind: MoveKind, qty: int, on_hand: int, large: bool) -> None:
    assert is_large_change(kind, qty, on_hand) is large


def _health(**changes: object) -> Health:
    values: dict[str, object] = dict(backlog=0, oldest_pending_s=0.0, calls_5m=3, errors_5m=0, calls_60m=9,
                                     errors_60m=0, latency_p50_ms=40.0, latency_p95_ms=90.0, breaker="closed",
                                     last_error=None, listings=5, failing=0)
    values.update(changes)
    return Health(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(("changes", "state"), [
    ({}, SyncState.IN_SYNC),
    ({"backlog": 3, "oldest_pending_s": 2.0}, SyncState.IN_SYNC),  # the normal second before a push
    ({"backlog": 3, "oldest_pending_s": 45.0}, SyncState.BACKLOG),
    ({"backlog": 3, "oldest_pending_s": 45.0, "errors_5m": 1}, SyncState.FAILING),
    ({"failing": 1}, SyncState.FAILING),
    ({"failing": 1, "breaker": "open"}, SyncState.BREAKER_OPEN),
    ({"breaker": "half_open"}, SyncState.BREAKER_OPEN),
])
def test_sync_state_names_the_worst_thing_that_is_true(changes: dict[str, object], state: SyncState) -> None:
    assert sync_state(_health(**changes)) is state


def test_channels_without_pushes_or_switched_off_say_so() -> None:
    assert sync_state(_health(failing=2), pushed=False) is SyncState.PASSIVE
    assert sync_state(_health(failing=2), enabled=False) is SyncState.DISABLED


@pytest.mark.parametrize(("peak", "top"), [(0, 1), (1, 1), (3, 5), (7, 10), (10, 10), (11, 20), (480, 500)])
def test_chart_scale_ends_on_a_round_number(peak: int, top: int) -> None:
    assert nice_top(peak) == top


def test_bars_are_as_tall_as_their_values() -> None:
    chart = bar_chart(["a", "b"], [[10, 5], [0, 2]])
    heights = {(b.series, round(b.x)): b.height for b in chart.bars}
    tall = [b for b in chart.bars if b.value == 10][0]
    half = [b for b in chart.bars if b.value == 5][0]
    assert abs(half.height * 2 - tall.height) < 1e-6
    assert len(heights) == 4 and all(b.y + b.height <= chart.plot_bottom + 1e-6 for b in chart.bars)


@pytest.mark.parametrize(("target", "safe"), [
    ("/skus/A", "/skus/A"), ("/orders?status=held", "/orders?status=held"), (None, "/"), ("", "/"),
    ("https://evil.example/", "/"), ("//evil.example/x", "/"), ("/\\evil.example", "/"), ("skus", "/"),
])
def test_sign_in_only_returns_to_a_page_of_this_site(target: str | None, safe: str) -> None:
    assert safe_next(target) == safe
