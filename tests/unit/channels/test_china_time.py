"""Beijing wire time and polling windows shared by the Chinese router platforms."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from omnistock.channels.china_time import beijing_text, parse_beijing, windows


def test_wire_time_is_beijing_time_without_offset() -> None:
    assert beijing_text(datetime(2024, 1, 1, 4, 0, 0, tzinfo=UTC)) == "2024-01-01 12:00:00"


def test_parsed_wire_time_is_utc() -> None:
    assert parse_beijing("2024-01-01 12:00:00") == datetime(2024, 1, 1, 4, 0, 0, tzinfo=UTC)


def test_a_long_range_splits_into_day_windows_that_touch() -> None:
    since = datetime(2024, 1, 1, tzinfo=UTC)
    found = list(windows(since, since + timedelta(days=2, hours=5), timedelta(days=1)))
    assert [end - start for start, end in found] == [timedelta(days=1), timedelta(days=1), timedelta(hours=5)]
    assert all(a[1] == b[0] for a, b in pairwise(found))


def test_partial_seconds_widen_the_window() -> None:
    since = datetime(2024, 1, 1, 0, 0, 0, 700_000, tzinfo=UTC)
    until = datetime(2024, 1, 1, 0, 0, 5, 200_000, tzinfo=UTC)
    assert list(windows(since, until, timedelta(days=1))) == [
        (datetime(2024, 1, 1, 0, 0, 0, tzinfo=UTC), datetime(2024, 1, 1, 0, 0, 6, tzinfo=UTC))]


@given(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1)),
       st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=5)))
def test_windows_cover_the_range_and_never_exceed_the_longest(start: datetime, length: timedelta) -> None:
    since = start.replace(tzinfo=UTC)
    until = since + length
    found = list(windows(since, until, timedelta(days=1)))
    if found:
        assert found[0][0] <= since and found[-1][1] >= until
    else:
        assert since.replace(microsecond=0) >= until
    assert all(timedelta(0) < end - start <= timedelta(days=1) for start, end in found)
