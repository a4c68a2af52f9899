"""Report figures from plain facts."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from omnistock.care.figures import CaseFacts, CompensationFacts, breached, by_period, distribution, percentile

CST = ZoneInfo("Asia/Shanghai")
T = datetime(2026, 11, 11, 23, 30, tzinfo=CST)


def _case(**kw: object) -> CaseFacts:
    base: dict[str, object] = dict(id=1, created_at=T, status="open", category="out_of_stock", channel="jd",
                                   source="proactive", first_response_at=None, resolved_at=None,
                                   first_response_due=T + timedelta(minutes=30), resolution_due=T + timedelta(days=1),
                                   first_response_state="ok", resolution_state="ok", reopen_count=0)
    base.update(kw)
    return CaseFacts(**base)  # type: ignore[arg-type]


def test_distribution_buckets_and_percentiles() -> None:
    d = distribution([3, 10, 12, 45, 300, 2000])
    assert d["buckets"] == {"0-5m": 1, "5-15m": 2, "15-30m": 0, "30-60m": 1, "1-4h": 0, "4-24h": 1, "24h+": 1}
    assert (d["count"], d["p50_minutes"], d["p90_minutes"]) == (6, 12, 2000)
    assert distribution([])["p50_minutes"] is None


@given(st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=1, max_size=50))
def test_percentiles_are_values_of_the_list_in_order(values: list[float]) -> None:
    p50, p90 = percentile(values, 0.5), percentile(values, 0.9)
    assert p50 in values and p90 in values and p50 is not None and p90 is not None and p50 <= p90


def test_a_running_clock_past_due_counts_as_breached_before_the_watch_ran() -> None:
    assert breached(_case(), T + timedelta(hours=1))
    assert not breached(_case(first_response_at=T + timedelta(minutes=5)), T + timedelta(hours=1))
    assert breached(_case(status="resolved", first_response_at=T + timedelta(minutes=5),
                          resolved_at=T + timedelta(days=2)), T + timedelta(days=3))


def test_periods_are_days_in_the_merchant_zone_and_weeks_from_monday() -> None:
    cases = [_case(), _case(id=2, created_at=T + timedelta(hours=1))]  # 23:30 and 00:30 local
    comps = [CompensationFacts(1, T, "out_of_stock", "A", "coupon", "CNY", Decimal("10"))]
    days = by_period(cases, comps, "day", CST, T)
    assert [(d["start"], d["cases"]) for d in days] == [("2026-11-11", 1), ("2026-11-12", 1)]
    assert days[0]["compensation_cost_by_sku"] == [{"sku": "A", "currency": "CNY", "cost": "10.00"}]
    assert [w["start"] for w in by_period(cases, comps, "week", CST, T)] == ["2026-11-09"]
