"""The weekly sync report's figures, per channel and overall, for an ISO week in the merchant's time zone and the
week before it: pushes, failures, latency percentiles, drift found and healed, oversells, held and released
orders, alerts and their time to resolve, complaints caused. Grouped queries only (latencies as a histogram)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from statistics import median
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, inspect, select, text
from sqlalchemy.orm import Session

from omnistock.domain.access import Principal
from omnistock.errors import Invalid
from omnistock.store.tables import Channel, Order, OrderEvent
from omnistock.sync.tables import PlatformCall
from omnistock.watch.tables import Alert, Difference

WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
OVERALL = "overall"
FIGURES = ("pushes", "failures", "latency_p50_ms", "latency_p95_ms", "latency_p99_ms", "drift_found",
           "drift_healed", "oversells", "held", "released", "alerts", "alerts_resolved", "resolve_minutes_median",
           "complaints")
OVERSELL_CAUSES = ("insufficient_stock", "stock_shortfall")


@dataclass(frozen=True)
class Week:
    label: str
    start: datetime  # UTC
    end: datetime

    @classmethod
    def parse(cls, label: str, zone: ZoneInfo) -> Week:
        found = WEEK.match(label.strip())
        if not found:
            raise Invalid("week must look like 2026-W47", field="week")
        try:
            monday = date.fromisocalendar(int(found[1]), int(found[2]), 1)
        except ValueError as exc:
            raise Invalid(f"there is no week {label}", field="week") from exc
        return cls.of(monday, zone)

    @classmethod
    def of(cls, day: date, zone: ZoneInfo) -> Week:
        monday = day - timedelta(days=day.isoweekday() - 1)
        year, week, _ = monday.isocalendar()
        start = datetime.combine(monday, time(), zone).astimezone(timezone.utc)
        end = datetime.combine(monday + timedelta(days=7), time(), zone).astimezone(timezone.utc)
        return cls(f"{year}-W{week:02d}", start, end)

    @classmethod
    def last_complete(cls, now: datetime, zone: ZoneInfo) -> Week:
        return cls.of(now.astimezone(zone).date() - timedelta(days=7), zone)

    def previous(self, zone: ZoneInfo) -> Week:
        return Week.of(self.start.astimezone(zone).date() - timedelta(days=7), zone)


def percentile(histogram: dict[int, int], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100) of values given as {value: count}."""
    total = sum(histogram.values())
    if not total:
        return None
    rank = max(1, -(-int(q * total) // 100))
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return float(value)
    return float(max(histogram))


class _Tally:
    """Figures being counted for every channel id and overall (key None). With `channels`, only what happened on
    those channels counts, overall too (a reader scoped to some channels sees their report, nothing else)."""

    def __init__(self, channels: Collection[int] | None = None) -> None:
        self.counts: dict[int | None, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        self.latency: dict[int | None, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        self.resolve_minutes: dict[int | None, list[float]] = defaultdict(list)
        self.channels = None if channels is None else frozenset(channels)

    def counts_in(self, channel_id: int | None) -> bool:
        return self.channels is None or channel_id in self.channels

    def add(self, channel_id: int | None, figure: str, n: float = 1) -> None:
        if not self.counts_in(channel_id):
            return
        if channel_id is not None:  # what belongs to no channel (a low-stock alert) counts once, overall
            self.counts[channel_id][figure] += n
        self.counts[None][figure] += n


def _window(col: Any, week: Week) -> Any:
    return (col >= week.start) & (col < week.end)


def _calls(session: Session, tally: _Tally, week: Week) -> None:
    rows = session.execute(
        select(PlatformCall.channel_id, PlatformCall.ok, PlatformCall.latency_ms, func.count())
        .where(PlatformCall.op == "set_stock", _window(PlatformCall.at, week))
        .group_by(PlatformCall.channel_id, PlatformCall.ok, PlatformCall.latency_ms))
    for cid, ok, latency, n in rows:
        if not tally.counts_in(cid):
            continue
        tally.add(cid, "pushes", n)
        if not ok:
            tally.add(cid, "failures", n)
        tally.latency[cid][int(latency)] += n
        tally.latency[None][int(latency)] += n


def _drift(session: Session, tally: _Tally, week: Week) -> None:
    faults = Difference.kind.in_(("drift", "missing"))
    for cid, n in session.execute(select(Difference.channel_id, func.count()).where(
            faults, _window(Difference.first_found_at, week), Difference.found_at == Difference.first_found_at)
            .group_by(Difference.channel_id)):
        tally.add(cid, "drift_found", n)
    for cid, n in session.execute(select(Difference.channel_id, func.count()).where(
            faults, Difference.status.in_(("healed", "gone")), _window(Difference.resolved_at, week))
            .group_by(Difference.channel_id)):
        tally.add(cid, "drift_healed", n)


def _orders(session: Session, tally: _Tally, week: Week) -> None:
    held: set[tuple[int, int]] = set()
    for cid, order_id, kind, detail in session.execute(
            select(Order.channel_id, OrderEvent.order_id, OrderEvent.kind, OrderEvent.detail)
            .join(Order, Order.id == OrderEvent.order_id)
            .where(OrderEvent.kind.in_(("held", "released")), _window(OrderEvent.at, week))):
        if kind == "released":
            tally.add(cid, "released")
            continue
        if (cid, order_id) not in held:
            held.add((cid, order_id))
            tally.add(cid, "held")
        cause = str((detail or {}).get("reason") or "").split(":", 1)[0].strip()
        if cause in OVERSELL_CAUSES:
            tally.add(cid, "oversells")


def _alerts(session: Session, tally: _Tally, week: Week) -> None:
    for cid, n in session.execute(select(Alert.channel_id, func.count()).where(_window(Alert.created_at, week))
                                  .group_by(Alert.channel_id)):
        tally.add(cid, "alerts", n)
    for cid, created, resolved in session.execute(select(Alert.channel_id, Alert.created_at, Alert.resolved_at)
                                                  .where(_window(Alert.resolved_at, week))):
        tally.add(cid, "alerts_resolved")
        if resolved is None or not tally.counts_in(cid):
            continue
        minutes = (resolved - created).total_seconds() / 60
        if cid is not None:
            tally.resolve_minutes[cid].append(minutes)
        tally.resolve_minutes[None].append(minutes)


def _complaints(session: Session, tally: _Tally, week: Week) -> None:
    """Cases of the complaint desk opened in the week, by the channel of their order (when care is installed)."""
    if not inspect(session.connection()).has_table("care_cases"):
        return
    rows = session.execute(text(
        "SELECT o.channel_id, count(*) FROM care_cases c LEFT JOIN orders o ON o.id = c.order_id "
        "WHERE c.created_at >= :start AND c.created_at < :end GROUP BY o.channel_id"),
        {"start": week.start.replace(tzinfo=None), "end": week.end.replace(tzinfo=None)})
    for cid, n in rows:
        tally.add(cid, "complaints", n)


def _scope(tally: _Tally, key: int | None) -> dict[str, Any]:
    counts = tally.counts.get(key, {})
    out: dict[str, Any] = {name: int(counts.get(name, 0)) for name in FIGURES}
    hist = tally.latency.get(key, {})
    for q in (50, 95, 99):
        out[f"latency_p{q}_ms"] = percentile(hist, q)
    minutes = tally.resolve_minutes.get(key)
    out["resolve_minutes_median"] = round(median(minutes), 1) if minutes else None
    return out


def tally_week(session: Session, week: Week, channels: Collection[int] | None = None) -> _Tally:
    tally = _Tally(channels)
    for part in (_calls, _drift, _orders, _alerts, _complaints):
        part(session, tally, week)
    return tally


def weekly(session: Session, week: Week, zone: ZoneInfo, channels: Collection[int] | None = None) -> dict[str, Any]:
    """The report: every figure this week and the week before, overall and for each channel (of `channels` only,
    when given: the report of a reader scoped to them)."""
    before = week.previous(zone)
    now, then = tally_week(session, week, channels), tally_week(session, before, channels)
    codes = dict(session.execute(select(Channel.id, Channel.code)).all())
    ids = sorted({k for k in (*now.counts, *then.counts) if k is not None and k in codes}, key=lambda c: codes[c])
    return {"week": week.label, "from": week.start.astimezone(zone).isoformat(),
            "until": week.end.astimezone(zone).isoformat(), "previous_week": before.label,
            OVERALL: {**_scope(now, None), "previous": _scope(then, None)},
            "channels": [{"channel": codes[cid], **_scope(now, cid), "previous": _scope(then, cid)} for cid in ids]}


def has_activity(session: Session, week: Week) -> bool:
    """Whether anything happened in the week (an empty week makes no report)."""
    calls = session.scalar(select(func.count()).where(_window(PlatformCall.at, week)).limit(1))
    orders = session.scalar(select(func.count()).where(_window(Order.created_at, week)).limit(1))
    return bool(calls or orders)


def rows_of(report: dict[str, Any]) -> Iterable[tuple[str, dict[str, Any]]]:
    yield OVERALL, report[OVERALL]
    for ch in report["channels"]:
        yield ch["channel"], ch


def visible_channels(session: Session, principal: Principal) -> list[int] | None:
    """The channels whose figures the caller may read; None for all. A caller scoped to locations only sees
    no channel's figures: the report is about platforms, and a store's stock is not one platform's."""
    if not principal.scoped:
        return None
    if principal.channels is None:
        return []
    return list(session.scalars(select(Channel.id).where(Channel.code.in_(sorted(principal.channels)))))
