"""The SLA clock of complaint cases: business time over a team's calendar, the clock held while the
case waits on the customer, and the first-response and resolution status of a case.

Business hours are wall-clock times in the calendar's time zone; durations are real elapsed time, so
across a DST change a round-the-clock day has 23 or 25 business hours. A wall time skipped by a DST
change is read with the offset before the change (02:30 on Berlin's spring day is 03:30 CEST); an
ambiguous one is its first occurrence.

Every moment returned is in UTC, and every moment taken is converted to UTC first: Python compares and
subtracts two datetimes of the same zone by their wall clocks, which is wrong across a DST change.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from omnistock.errors import Invalid

MIDNIGHT = time(0)
_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Opening:
    """Business hours within one day, from `opens` to `closes`; closes at time(0) means until
    midnight at the end of the day."""

    opens: time
    closes: time

    def __post_init__(self) -> None:
        if self.opens.tzinfo is not None or self.closes.tzinfo is not None:
            raise Invalid("opening hours are wall-clock times without a zone", field="hours")
        if self.closes != MIDNIGHT and self.closes <= self.opens:
            raise Invalid(f"closing time {self.closes} is not after opening time {self.opens}", field="hours")

    @property
    def until_midnight(self) -> bool:
        return self.closes == MIDNIGHT


ALL_DAY: tuple[Opening, ...] = (Opening(MIDNIGHT, MIDNIGHT),)
ROUND_THE_CLOCK: tuple[tuple[Opening, ...], ...] = (ALL_DAY,) * 7


@dataclass(frozen=True)
class Calendar:
    """When a team works. `week[0]` is Monday's hours; `holidays` have none; `extra_working_days`
    (调休, a weekend date that is worked) have `extra_day_hours`, by default Monday's hours."""

    timezone: str = "Asia/Shanghai"
    week: tuple[tuple[Opening, ...], ...] = ROUND_THE_CLOCK
    holidays: frozenset[date] = frozenset()
    extra_working_days: frozenset[date] = frozenset()
    extra_day_hours: tuple[Opening, ...] | None = None

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise Invalid(f"unknown time zone {self.timezone!r}", field="timezone") from None
        if len(self.week) != 7:
            raise Invalid("a week has hours for 7 days, Monday first", field="week")
        object.__setattr__(self, "week", tuple(_day_hours(day) for day in self.week))
        if not any(self.week):
            raise Invalid("a calendar needs business hours on at least one weekday", field="week")
        if self.extra_day_hours is not None:
            object.__setattr__(self, "extra_day_hours", _day_hours(self.extra_day_hours))
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(self, "extra_working_days", frozenset(self.extra_working_days))
        both = self.holidays & self.extra_working_days
        if both:
            raise Invalid(f"{min(both)} is both a holiday and a working day", field="extra_working_days")

    @classmethod
    def office_hours(cls, opens: time, closes: time, weekdays: Iterable[int] = range(5),
                     *, timezone: str = "Asia/Shanghai", holidays: Iterable[date] = (),
                     extra_working_days: Iterable[date] = ()) -> Calendar:
        """The same hours on each of `weekdays` (0 is Monday), none on the others."""
        open_days = set(weekdays)
        hours = (Opening(opens, closes),)
        return cls(timezone, tuple(hours if day in open_days else () for day in range(7)),
                   frozenset(holidays), frozenset(extra_working_days), hours)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def hours_on(self, day: date) -> tuple[Opening, ...]:
        if day in self.holidays:
            return ()
        if day in self.extra_working_days:
            if self.extra_day_hours is not None:
                return self.extra_day_hours
            return self.week[0] or next(hours for hours in self.week if hours)
        return self.week[day.weekday()]


def _day_hours(openings: Iterable[Opening]) -> tuple[Opening, ...]:
    ordered = tuple(sorted(openings, key=lambda opening: opening.opens))
    for earlier, later in pairwise(ordered):
        if earlier.until_midnight or later.opens < earlier.closes:
            raise Invalid(f"opening hours overlap: {earlier} and {later}", field="hours")
    return ordered


# The default: online shops answer round the clock, every day, in China Standard Time.
ROUND_THE_CLOCK_CALENDAR = Calendar()


def _business_intervals(calendar: Calendar, since: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Business intervals in UTC, in time order and never overlapping, from the day before `since`'s
    local date on (a DST jump can push the end of one day's hours into the next day)."""
    zone = calendar.zone
    day = since.astimezone(zone).date() - _ONE_DAY
    last_end = datetime.min.replace(tzinfo=UTC)
    while True:
        for opening in calendar.hours_on(day):
            opens = datetime.combine(day, opening.opens, tzinfo=zone).astimezone(UTC)
            closing_day = day + _ONE_DAY if opening.until_midnight else day
            closes = datetime.combine(closing_day, opening.closes, tzinfo=zone).astimezone(UTC)
            # Hours ending inside a DST gap are shifted later and could overlap the next ones.
            opens = max(opens, last_end)
            if closes > opens:
                yield opens, closes
                last_end = closes
        day += _ONE_DAY


def add_business_time(start: datetime, duration: timedelta, calendar: Calendar) -> datetime:
    """The moment at which `duration` of business time has passed since `start`: the earliest such
    moment, so a target reached at closing time is due at closing time."""
    at = _utc(start, "start")
    if duration < timedelta(0):
        raise Invalid(f"a duration cannot be negative, got {duration}", field="duration")
    if duration == timedelta(0):
        return at
    remaining = duration
    for opens, closes in _business_intervals(calendar, at):
        if closes <= at:
            continue
        begin = max(opens, at)
        if remaining <= closes - begin:
            return begin + remaining
        remaining -= closes - begin
    raise AssertionError("unreachable: a calendar always has business hours ahead")


def business_time_between(a: datetime, b: datetime, calendar: Calendar) -> timedelta:
    """Business time from `a` to `b`; negative when `b` is before `a`."""
    a, b = _utc(a, "a"), _utc(b, "b")
    if b < a:
        return -business_time_between(b, a, calendar)
    total = timedelta(0)
    for opens, closes in _business_intervals(calendar, a):
        if opens >= b:
            break
        overlap = min(closes, b) - max(opens, a)
        if overlap > timedelta(0):
            total += overlap
    return total


def _utc(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise Invalid(f"{name} must carry a time zone", field=name)
    return moment.astimezone(UTC)


# --- pauses ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pause:
    """A stretch while the case waits on the customer; `end` None means it still does. Kept in UTC."""

    start: datetime
    end: datetime | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", _utc(self.start, "start"))
        if self.end is not None:
            object.__setattr__(self, "end", _utc(self.end, "end"))
            if self.end < self.start:
                raise Invalid("a pause cannot end before it starts", field="end")


def merge_pauses(pauses: Iterable[Pause]) -> list[Pause]:
    """The pauses in time order with overlapping or touching ones merged; an open pause absorbs
    every pause starting after it."""
    merged: list[Pause] = []
    for pause in sorted(pauses, key=lambda p: p.start):
        if merged and (merged[-1].end is None or pause.start <= merged[-1].end):
            last = merged[-1]
            end = None if last.end is None or pause.end is None else max(last.end, pause.end)
            merged[-1] = Pause(last.start, end)
        else:
            merged.append(pause)
    return merged


def due_at(start: datetime, target: timedelta, calendar: Calendar,
           pauses: Sequence[Pause] = ()) -> datetime | None:
    """When `target` of business time outside the pauses has passed since `start`.

    None while an open pause holds the clock: the due time depends on when the customer answers.
    An open pause that starts after the due time does not hide it."""
    cursor, remaining = _utc(start, "start"), target
    for pause in merge_pauses(pauses):
        if pause.end is not None and pause.end <= cursor:
            continue
        if pause.start > cursor:
            due = add_business_time(cursor, remaining, calendar)
            if due <= pause.start:
                return due
            remaining -= business_time_between(cursor, pause.start, calendar)
        if pause.end is None:
            return None
        cursor = pause.end
    return add_business_time(cursor, remaining, calendar)


def elapsed(start: datetime, now: datetime, calendar: Calendar, pauses: Sequence[Pause] = ()) -> timedelta:
    """Business time outside the pauses from `start` to `now` (zero before `start`)."""
    start, now = _utc(start, "start"), _utc(now, "now")
    if now <= start:
        return timedelta(0)
    total = business_time_between(start, now, calendar)
    for pause in merge_pauses(pauses):
        begin = max(pause.start, start)
        end = now if pause.end is None else min(pause.end, now)
        if end > begin:
            total -= business_time_between(begin, end, calendar)
    return total


# --- policies and status -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SlaPolicy:
    """Targets for cases of `category` and `priority` (None: any). A clock is near breach once
    `near_breach_at` of its target is used."""

    category: str | None = None
    priority: str | None = None
    first_response: timedelta = timedelta(minutes=30)
    resolution: timedelta = timedelta(hours=24)
    near_breach_at: Decimal = Decimal("0.8")

    def __post_init__(self) -> None:
        if self.first_response <= timedelta(0) or self.resolution <= timedelta(0):
            raise Invalid("SLA targets must be positive", field="first_response")
        if not 0 < self.near_breach_at < 1:
            raise Invalid("the near-breach threshold is a share between 0 and 1", field="near_breach_at")


DEFAULT_POLICY = SlaPolicy()


def policy_for(category: str, priority: str, policies: Iterable[SlaPolicy] = ()) -> SlaPolicy:
    """The most specific policy for a case: category and priority, then category alone, then
    priority alone, then a policy for any case, then DEFAULT_POLICY (30 minutes, 24 hours).
    Among equally specific policies the first wins."""
    ranked = {
        (category, priority): 0, (category, None): 1, (None, priority): 2, (None, None): 3,
    }
    best: tuple[int, SlaPolicy] | None = None
    for policy in policies:
        rank = ranked.get((policy.category, policy.priority))
        if rank is not None and (best is None or rank < best[0]):
            best = (rank, policy)
    return DEFAULT_POLICY if best is None else best[1]


class SlaState(StrEnum):
    OK = "ok"
    NEAR_BREACH = "near_breach"
    BREACHED = "breached"
    MET = "met"


@dataclass(frozen=True)
class ClockStatus:
    """One SLA clock. `remaining` is target − elapsed, negative once overdue in business time.
    `paused`: an open pause holds the clock now; `due` is then None, unless the clock was already
    past due when the pause began."""

    target: timedelta
    due: datetime | None
    elapsed: timedelta
    remaining: timedelta
    state: SlaState
    paused: bool


@dataclass(frozen=True)
class SlaStatus:
    first_response: ClockStatus
    resolution: ClockStatus


def evaluate(opened_at: datetime, now: datetime, policy: SlaPolicy,
             calendar: Calendar = ROUND_THE_CLOCK_CALENDAR, pauses: Sequence[Pause] = (), *,
             first_response_at: datetime | None = None, resolved_at: datetime | None = None) -> SlaStatus:
    """Both clocks of a case opened at `opened_at`, as of `now`.

    A clock stops when its event happened (`first_response_at`, `resolved_at`): met if at or before
    the due time, else breached for good. Both clocks are held by the same pauses; a pause starting
    after a clock stopped does not touch it."""
    return SlaStatus(
        _clock(opened_at, now, policy.first_response, policy.near_breach_at, calendar, pauses, first_response_at),
        _clock(opened_at, now, policy.resolution, policy.near_breach_at, calendar, pauses, resolved_at),
    )


def _clock(opened_at: datetime, now: datetime, target: timedelta, near_breach_at: Decimal,
           calendar: Calendar, pauses: Sequence[Pause], done_at: datetime | None) -> ClockStatus:
    opened_at, now = _utc(opened_at, "opened_at"), _utc(now, "now")
    if done_at is not None:
        done_at = _utc(done_at, "done_at")
    until = now if done_at is None else done_at
    held = [_cut(pause, until if done_at is not None else None) for pause in pauses if pause.start <= until]
    due = due_at(opened_at, target, calendar, held)
    used = elapsed(opened_at, until, calendar, held)
    if done_at is not None:
        state = SlaState.MET if due is None or done_at <= due else SlaState.BREACHED
    elif due is not None and now > due:
        state = SlaState.BREACHED
    elif _micros(used) >= near_breach_at * _micros(target):
        state = SlaState.NEAR_BREACH
    else:
        state = SlaState.OK
    paused = done_at is None and any(pause.end is None for pause in held)
    return ClockStatus(target, due, used, target - used, state, paused)


def _cut(pause: Pause, at: datetime | None) -> Pause:
    """`pause` ending no later than `at` (the moment its clock stopped), if any."""
    if at is None or (pause.end is not None and pause.end <= at):
        return pause
    return Pause(pause.start, at)


def _micros(span: timedelta) -> Decimal:
    return Decimal(span // timedelta(microseconds=1))
