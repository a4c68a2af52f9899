"""The figures of the care reports, computed from plain facts (no I/O): first-response and resolution
time distributions, breach rate, cases by cause and channel, compensation cost by cause and SKU, reopen
rate, per day or week in the merchant's time zone."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from omnistock.domain.money import round_money

ACTIVE = ("new", "open", "waiting_on_customer")
# Upper bounds in minutes of the distribution buckets; the last bucket has none.
BUCKETS: tuple[tuple[str, float | None], ...] = (
    ("0-5m", 5), ("5-15m", 15), ("15-30m", 30), ("30-60m", 60), ("1-4h", 240), ("4-24h", 1440), ("24h+", None))


@dataclass(frozen=True)
class CaseFacts:
    id: int
    created_at: datetime
    status: str
    category: str
    channel: str | None
    source: str
    first_response_at: datetime | None
    resolved_at: datetime | None
    first_response_due: datetime | None
    resolution_due: datetime | None
    first_response_state: str
    resolution_state: str
    reopen_count: int


@dataclass(frozen=True)
class CompensationFacts:
    case_id: int
    created_at: datetime
    category: str
    sku: str | None
    kind: str
    currency: str
    cost: Decimal


def percentile(values: Sequence[float], share: float) -> float | None:
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-int(share * 100) * len(ordered) // 100))
    return ordered[min(rank, len(ordered)) - 1]


def distribution(minutes: Sequence[float]) -> dict[str, Any]:
    buckets: Counter[str] = Counter()
    for value in minutes:
        for label, bound in BUCKETS:
            if bound is None or value <= bound:
                buckets[label] += 1
                break
    p50, p90 = percentile(minutes, 0.5), percentile(minutes, 0.9)
    return {"count": len(minutes), "p50_minutes": None if p50 is None else round(p50, 1),
            "p90_minutes": None if p90 is None else round(p90, 1),
            "buckets": {label: buckets[label] for label, _ in BUCKETS}}


def _minutes(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 60


def _late(done: datetime | None, due: datetime | None, state: str, active: bool, now: datetime) -> bool:
    if state == "breached":
        return True
    if due is None:
        return False
    return (done is not None and done > due) or (done is None and active and now > due)


def breached(case: CaseFacts, now: datetime) -> bool:
    """A clock of the case went past its due time (or is past it now while still running)."""
    active = case.status in ACTIVE
    return (_late(case.first_response_at, case.first_response_due, case.first_response_state, active, now)
            or _late(case.resolved_at if not active else None, case.resolution_due, case.resolution_state,
                     active, now))


def _rate(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 4)


def _costs(comps: Iterable[CompensationFacts], key: str) -> list[dict[str, Any]]:
    sums: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for comp in comps:
        sums[(getattr(comp, key) or "none", comp.currency)] += comp.cost
    return [{key: k, "currency": cur, "cost": str(round_money(total, cur))}
            for (k, cur), total in sorted(sums.items())]


def figures(cases: Sequence[CaseFacts], comps: Sequence[CompensationFacts], now: datetime) -> dict[str, Any]:
    """Every figure for one group of cases and the compensations granted on them."""
    first = [_minutes(c.created_at, c.first_response_at) for c in cases if c.first_response_at]
    resolved = [_minutes(c.created_at, c.resolved_at) for c in cases
                if c.resolved_at and c.status not in ACTIVE]
    ever_resolved = [c for c in cases if c.resolved_at is not None or c.reopen_count > 0]
    comp_list = list(comps)
    return {
        "cases": len(cases),
        "by_source": dict(sorted(Counter(c.source for c in cases).items())),
        "by_cause": dict(sorted(Counter(c.category for c in cases).items())),
        "by_channel": dict(sorted(Counter(c.channel or "none" for c in cases).items())),
        "first_response": distribution(first),
        "resolution": distribution(resolved),
        "breach_rate": _rate(sum(1 for c in cases if breached(c, now)), len(cases)),
        "reopen_rate": _rate(sum(1 for c in ever_resolved if c.reopen_count > 0), len(ever_resolved)),
        "compensation_cost_by_cause": [{"cause": r["category"], "currency": r["currency"], "cost": r["cost"]}
                                       for r in _costs(comp_list, "category")],
        "compensation_cost_by_sku": _costs(comp_list, "sku"),
    }


def period_start(moment: datetime, period: str, zone: ZoneInfo) -> date:
    day = moment.astimezone(zone).date()
    return day - timedelta(days=day.weekday()) if period == "week" else day


def by_period(cases: Sequence[CaseFacts], comps: Sequence[CompensationFacts], period: str, zone: ZoneInfo,
              now: datetime) -> list[dict[str, Any]]:
    """The figures per day or week (Monday first): cases by the day they opened, compensations by the day
    they were granted."""
    case_groups: dict[date, list[CaseFacts]] = defaultdict(list)
    comp_groups: dict[date, list[CompensationFacts]] = defaultdict(list)
    for case in cases:
        case_groups[period_start(case.created_at, period, zone)].append(case)
    for comp in comps:
        comp_groups[period_start(comp.created_at, period, zone)].append(comp)
    return [{"start": start.isoformat(), **figures(case_groups[start], comp_groups[start], now)}
            for start in sorted(set(case_groups) | set(comp_groups))]
