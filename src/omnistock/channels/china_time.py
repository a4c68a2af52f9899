"""Beijing time on the wire and polling windows, as the Chinese router platforms (Taobao, JD...) want them.

Their gateways read and write `yyyy-MM-dd HH:mm:ss` in GMT+8 without an offset, and their order searches
accept only windows of a bounded length.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

BEIJING = timezone(timedelta(hours=8), "GMT+8")
WIRE_FORMAT = "%Y-%m-%d %H:%M:%S"


def beijing_text(moment: datetime) -> str:
    """An aware moment as the gateways write it (naive values are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(BEIJING).strftime(WIRE_FORMAT)


def parse_beijing(text: str) -> datetime:
    """A gateway time string as an aware UTC datetime."""
    return datetime.strptime(text.strip()[:19], WIRE_FORMAT).replace(tzinfo=BEIJING).astimezone(UTC)


def _floor_second(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def _ceil_second(moment: datetime) -> datetime:
    floored = moment.replace(microsecond=0)
    return floored if floored == moment else floored + timedelta(seconds=1)


def windows(since: datetime, until: datetime, longest: timedelta) -> Iterator[tuple[datetime, datetime]]:
    """Consecutive windows of at most `longest` covering [since, until], on whole seconds.

    The wire carries whole seconds, so the start is rounded down and the end up: rounding the other way
    would drop the orders of the first or last partial second.
    """
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    if until.tzinfo is None:
        until = until.replace(tzinfo=UTC)
    start, end = _floor_second(since), _ceil_second(until)
    while start < end:
        stop = min(start + longest, end)
        yield start, stop
        start = stop
