"""Team calendars as stored (JSON of "HH:MM" pairs) become the SLA domain's calendars."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from omnistock.care.calendars import TeamSpec, calendar_of
from omnistock.domain.sla import add_business_time
from omnistock.errors import Invalid

CST = ZoneInfo("Asia/Shanghai")
OFFICE = [["09:00", "12:00"], ["13:00", "18:00"]]


def test_stored_hours_become_the_calendar_with_holidays_and_working_weekends() -> None:
    cal = calendar_of(TeamSpec("t", "T", "Asia/Shanghai", [OFFICE] * 5 + [[], []], holidays=["2026-10-01"],
                               extra_working_days=["2026-10-10"]))
    assert cal.hours_on(date(2026, 10, 1)) == ()
    assert cal.hours_on(date(2026, 10, 10))[0].opens == time(9)  # a Saturday worked (调休)
    friday_noon = datetime(2026, 11, 13, 11, 30, tzinfo=CST)
    # 30 minutes before lunch, lunch is not counted
    assert add_business_time(friday_noon, timedelta(hours=1), cal) == datetime(2026, 11, 13, 13, 30, tzinfo=CST)


def test_24_00_means_until_midnight() -> None:
    cal = calendar_of(TeamSpec("t", "T", "Asia/Shanghai", [[["18:00", "24:00"]]] * 7))
    start = datetime(2026, 11, 13, 23, 0, tzinfo=CST)
    assert add_business_time(start, timedelta(hours=2), cal) == datetime(2026, 11, 14, 19, 0, tzinfo=CST)


@pytest.mark.parametrize(("week", "field"), [
    ([OFFICE] * 6, "week"),
    ([[["9am", "18:00"]]] + [[]] * 6, "week[0][0]"),
    ([[["18:00", "09:00"]]] + [[]] * 6, "hours"),
    ([[]] * 7, "week"),
])
def test_broken_calendars_name_the_field(week: list, field: str) -> None:
    with pytest.raises(Invalid) as refused:
        calendar_of(TeamSpec("t", "T", "Asia/Shanghai", week))
    assert refused.value.field == field
