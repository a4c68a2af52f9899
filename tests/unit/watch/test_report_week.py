"""ISO weeks in the merchant's zone and nearest-rank percentiles from a latency histogram."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from omnistock.errors import Invalid
from omnistock.watch.report_figures import Week, percentile

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_a_week_starts_on_monday_midnight_in_the_merchants_zone() -> None:
    week = Week.parse("2026-W47", SHANGHAI)
    assert week.start == datetime(2026, 11, 15, 16, 0, tzinfo=UTC)  # Monday 16 Nov 00:00 in Shanghai
    assert (week.end - week.start).days == 7
    assert week.previous(SHANGHAI).label == "2026-W46"
    assert Week.of(date(2026, 11, 22), SHANGHAI).label == "2026-W47"  # Sunday belongs to the same week


def test_the_last_complete_week_is_the_one_before_this() -> None:
    assert Week.last_complete(datetime(2026, 11, 25, 3, tzinfo=UTC), SHANGHAI).label == "2026-W47"
    assert Week.parse("2026-W01", SHANGHAI).previous(SHANGHAI).label == "2025-W52"


@pytest.mark.parametrize("label", ["2026-47", "2026-W54", "W47", ""])
def test_bad_weeks_are_refused(label: str) -> None:
    with pytest.raises(Invalid) as caught:
        Week.parse(label, SHANGHAI)
    assert caught.value.field == "week"


def test_percentiles_from_a_histogram_are_nearest_rank() -> None:
    hist = {v: 1 for v in range(10, 101, 10)} | {500: 2}
    assert (percentile(hist, 50), percentile(hist, 95), percentile(hist, 99)) == (60.0, 500.0, 500.0)
    assert percentile({7: 3}, 99) == 7.0
    assert percentile({}, 50) is None
