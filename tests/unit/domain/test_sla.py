"""The SLA clock: business time over calendars (hours, weekends, holidays, 调休, DST), pauses, policies."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from omnistock.domain.sla import (
    DEFAULT_POLICY,
    Calendar,
    Opening,
    Pause,
    SlaPolicy,
    SlaState,
    add_business_time,
    business_time_between,
    due_at,
    elapsed,
    evaluate,
    merge_pauses,
    policy_for,
)
from omnistock.errors import Invalid

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")

# 2024 National Day: 1–7 October off, Sunday 29 September and Saturday 12 October worked (调休).
NATIONAL_DAY = [date(2024, 10, d) for d in range(1, 8)]
NATIONAL_DAY_WORKED = [date(2024, 9, 29), date(2024, 10, 12)]
OFFICE = Calendar.office_hours(time(9), time(18), holidays=NATIONAL_DAY, extra_working_days=NATIONAL_DAY_WORKED)
ROUND_THE_CLOCK = Calendar()


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def berlin(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


H = timedelta(hours=1)
MIN = timedelta(minutes=1)


# --- calendar ---------------------------------------------------------------------------------------


def test_default_calendar_is_round_the_clock_in_china_standard_time() -> None:
    assert ROUND_THE_CLOCK.timezone == "Asia/Shanghai"
    assert all(day == (Opening(time(0), time(0)),) for day in ROUND_THE_CLOCK.week)


def test_round_the_clock_counts_the_night() -> None:
    assert add_business_time(sh(2024, 5, 4, 23, 50), 30 * MIN, ROUND_THE_CLOCK) == sh(2024, 5, 5, 0, 20)


def test_office_hours_carry_friday_evening_over_the_weekend() -> None:
    assert add_business_time(sh(2024, 5, 10, 17), 2 * H, OFFICE) == sh(2024, 5, 13, 10)


def test_start_before_opening_counts_from_opening() -> None:
    assert add_business_time(sh(2024, 5, 7, 6, 15), 30 * MIN, OFFICE) == sh(2024, 5, 7, 9, 30)


def test_start_on_a_sunday_counts_from_monday_opening() -> None:
    assert add_business_time(sh(2024, 5, 12, 11), 90 * MIN, OFFICE) == sh(2024, 5, 13, 10, 30)


def test_target_reached_at_closing_is_due_at_closing_not_next_opening() -> None:
    assert add_business_time(sh(2024, 5, 7, 17), H, OFFICE) == sh(2024, 5, 7, 18)


def test_lunch_break_is_not_business_time() -> None:
    with_lunch = (Opening(time(9), time(12)), Opening(time(13), time(18)))
    calendar = Calendar(week=(with_lunch,) * 5 + ((), ()))
    assert add_business_time(sh(2024, 5, 7, 11, 30), H, calendar) == sh(2024, 5, 7, 13, 30)
    assert business_time_between(sh(2024, 5, 7, 0), sh(2024, 5, 8, 0), calendar) == 8 * H


def test_holiday_has_no_business_time() -> None:
    # Monday 30 September 17:00 + 2 h: the whole Golden Week is off, Tuesday 8 October is next.
    assert add_business_time(sh(2024, 9, 30, 17), 2 * H, OFFICE) == sh(2024, 10, 8, 10)
    assert business_time_between(sh(2024, 10, 1), sh(2024, 10, 8), OFFICE) == timedelta(0)


def test_extra_working_day_on_a_weekend_is_worked() -> None:
    # Friday 27 September 17:00 + 2 h ends on Sunday 29 September, a 调休 working day.
    assert add_business_time(sh(2024, 9, 27, 17), 2 * H, OFFICE) == sh(2024, 9, 29, 10)
    assert business_time_between(sh(2024, 10, 12), sh(2024, 10, 13), OFFICE) == 9 * H


def test_extra_working_day_uses_its_own_hours_when_given() -> None:
    calendar = Calendar(week=Calendar.office_hours(time(9), time(18)).week,
                        extra_working_days=frozenset({date(2024, 9, 29)}),
                        extra_day_hours=(Opening(time(10), time(16)),))
    assert business_time_between(sh(2024, 9, 29), sh(2024, 9, 30), calendar) == 6 * H


def test_extra_working_day_without_monday_hours_takes_the_first_worked_weekday() -> None:
    calendar = Calendar(week=((), (Opening(time(8), time(12)),), (), (), (), (), ()),
                        extra_working_days=frozenset({date(2024, 9, 29)}))
    assert business_time_between(sh(2024, 9, 29), sh(2024, 9, 30), calendar) == 4 * H


def test_business_time_between_counts_only_open_hours_across_a_weekend() -> None:
    assert business_time_between(sh(2024, 5, 10, 16), sh(2024, 5, 13, 11), OFFICE) == 4 * H


def test_business_time_between_is_negative_when_reversed() -> None:
    assert business_time_between(sh(2024, 5, 13, 11), sh(2024, 5, 10, 16), OFFICE) == -4 * H


def test_zero_duration_is_due_at_start_even_outside_hours() -> None:
    assert add_business_time(sh(2024, 5, 11, 3), timedelta(0), OFFICE) == sh(2024, 5, 11, 3)


def test_result_is_given_in_utc_whatever_the_zones_of_start_and_calendar() -> None:
    due = add_business_time(sh(2024, 5, 7, 9), H, OFFICE)
    assert due == sh(2024, 5, 7, 10)
    assert due.tzinfo is UTC


def test_negative_duration_is_refused() -> None:
    with pytest.raises(Invalid):
        add_business_time(sh(2024, 5, 7, 9), -MIN, OFFICE)


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(Invalid) as caught:
        add_business_time(datetime(2024, 5, 7, 9), MIN, OFFICE)
    assert caught.value.field == "start"
    with pytest.raises(Invalid):
        business_time_between(sh(2024, 5, 7, 9), datetime(2024, 5, 7, 10), OFFICE)


@pytest.mark.parametrize("make", [
    lambda: Calendar(timezone="Mars/Olympus"),
    lambda: Calendar(week=((),) * 7),
    lambda: Calendar(week=((),) * 6),
    lambda: Calendar(week=((Opening(time(9), time(12)), Opening(time(11), time(14))),) * 7),
    lambda: Calendar(week=((Opening(time(9), time(0)), Opening(time(20), time(22))),) * 7),
    lambda: Calendar(holidays=frozenset({date(2024, 9, 29)}), extra_working_days=frozenset({date(2024, 9, 29)})),
    lambda: Opening(time(18), time(9)),
    lambda: Opening(time(9), time(9)),
    lambda: Opening(time(9, tzinfo=UTC), time(18)),
], ids=["zone", "no-hours", "six-days", "overlap", "overlap-midnight", "holiday-and-worked",
        "backwards", "empty", "zoned-time"])
def test_broken_calendar_is_refused(make: object) -> None:
    with pytest.raises(Invalid):
        make()  # type: ignore[operator]


def test_openings_are_kept_in_time_order() -> None:
    afternoon, morning = Opening(time(13), time(18)), Opening(time(9), time(12))
    calendar = Calendar(week=((afternoon, morning),) * 7)
    assert calendar.week[0] == (morning, afternoon)


# --- time zones -------------------------------------------------------------------------------------


def test_china_has_no_dst_so_a_day_is_always_24_hours() -> None:
    for month in range(1, 13):
        start = sh(2024, month, 15, 12)
        assert add_business_time(start, 24 * H, ROUND_THE_CLOCK) == sh(2024, month, 16, 12)


def test_berlin_spring_forward_day_has_23_business_hours() -> None:
    calendar = Calendar("Europe/Berlin")
    assert business_time_between(berlin(2024, 3, 31), berlin(2024, 4, 1), calendar) == 23 * H
    # 24 real hours from Saturday noon (CET) read 13:00 on Sunday (CEST).
    assert add_business_time(berlin(2024, 3, 30, 12), 24 * H, calendar) == berlin(2024, 3, 31, 13)


def test_berlin_fall_back_day_has_25_business_hours() -> None:
    calendar = Calendar("Europe/Berlin")
    assert business_time_between(berlin(2024, 10, 27), berlin(2024, 10, 28), calendar) == 25 * H


def test_berlin_office_hours_are_wall_clock_across_the_march_change() -> None:
    calendar = Calendar.office_hours(time(9), time(18), timezone="Europe/Berlin")
    assert add_business_time(berlin(2024, 3, 29, 17), 2 * H, calendar) == berlin(2024, 4, 1, 10)
    assert business_time_between(berlin(2024, 3, 29, 9), berlin(2024, 4, 1, 18), calendar) == 18 * H


def test_moments_in_the_repeated_autumn_hour_are_told_apart() -> None:
    # 02:30 CEST and then 02:10 CET, forty minutes later: same zone, wall clocks going backwards.
    calendar = Calendar("Europe/Berlin")
    opened = datetime(2024, 10, 27, 2, 30, tzinfo=BERLIN)
    now = datetime(2024, 10, 27, 2, 10, tzinfo=BERLIN, fold=1)
    assert business_time_between(opened, now, calendar) == 40 * MIN
    status = evaluate(opened, now, DEFAULT_POLICY, calendar)
    assert status.first_response.elapsed == 40 * MIN
    assert status.first_response.state is SlaState.BREACHED
    assert status.first_response.due == datetime(2024, 10, 27, 1, 0, tzinfo=UTC)


def test_hours_inside_a_dst_gap_are_not_counted_twice() -> None:
    # 01:00–02:30 ends in the skipped hour (read as 03:30 CEST), overlapping 03:00–04:00: the
    # real time from 01:00 CET to 04:00 CEST is 2 hours, and that is all the business time there is.
    hours = (Opening(time(1), time(2, 30)), Opening(time(3), time(4)))
    calendar = Calendar("Europe/Berlin", week=(hours,) * 7)
    assert business_time_between(berlin(2024, 3, 31), berlin(2024, 4, 1), calendar) == 2 * H
    assert business_time_between(berlin(2024, 3, 30), berlin(2024, 3, 31), calendar) == 2 * H + 30 * MIN


# --- pauses -----------------------------------------------------------------------------------------


def test_pause_while_waiting_on_the_customer_pushes_the_due_time_by_its_length() -> None:
    start = sh(2024, 5, 7, 10)
    pause = Pause(sh(2024, 5, 7, 10, 10), sh(2024, 5, 7, 10, 25))
    assert due_at(start, 30 * MIN, ROUND_THE_CLOCK, [pause]) == sh(2024, 5, 7, 10, 45)


def test_pause_outside_business_hours_changes_nothing() -> None:
    start = sh(2024, 5, 7, 17)
    overnight = Pause(sh(2024, 5, 7, 19), sh(2024, 5, 8, 8))
    assert due_at(start, 2 * H, OFFICE, [overnight]) == due_at(start, 2 * H, OFFICE) == sh(2024, 5, 8, 10)


def test_pause_spanning_the_night_only_pushes_by_its_business_hours() -> None:
    start = sh(2024, 5, 7, 16)
    pause = Pause(sh(2024, 5, 7, 17), sh(2024, 5, 8, 10))  # 1 h on Tuesday + 1 h on Wednesday
    assert due_at(start, 2 * H, OFFICE, [pause]) == sh(2024, 5, 8, 11)


def test_open_pause_leaves_the_due_time_unknown() -> None:
    start = sh(2024, 5, 7, 10)
    assert due_at(start, 30 * MIN, ROUND_THE_CLOCK, [Pause(sh(2024, 5, 7, 10, 5))]) is None


def test_open_pause_starting_after_the_due_time_does_not_hide_it() -> None:
    start = sh(2024, 5, 7, 10)
    late = Pause(sh(2024, 5, 7, 11))
    assert due_at(start, 30 * MIN, ROUND_THE_CLOCK, [late]) == sh(2024, 5, 7, 10, 30)


def test_pause_before_the_case_opened_is_ignored_and_one_straddling_it_holds_the_clock() -> None:
    start = sh(2024, 5, 7, 10)
    before = Pause(sh(2024, 5, 7, 8), sh(2024, 5, 7, 9))
    straddling = Pause(sh(2024, 5, 7, 9, 30), sh(2024, 5, 7, 10, 20))
    assert due_at(start, 30 * MIN, ROUND_THE_CLOCK, [before]) == sh(2024, 5, 7, 10, 30)
    assert due_at(start, 30 * MIN, ROUND_THE_CLOCK, [straddling]) == sh(2024, 5, 7, 10, 50)


def test_overlapping_pauses_count_once() -> None:
    start = sh(2024, 5, 7, 10)
    pauses = [Pause(sh(2024, 5, 7, 10, 5), sh(2024, 5, 7, 10, 15)),
              Pause(sh(2024, 5, 7, 10, 10), sh(2024, 5, 7, 10, 20))]
    assert due_at(start, 30 * MIN, ROUND_THE_CLOCK, pauses) == sh(2024, 5, 7, 10, 45)
    assert elapsed(start, sh(2024, 5, 7, 10, 30), ROUND_THE_CLOCK, pauses) == 15 * MIN


def test_merge_pauses_joins_overlapping_and_touching_and_open_ones() -> None:
    a = Pause(sh(2024, 5, 7, 10), sh(2024, 5, 7, 11))
    b = Pause(sh(2024, 5, 7, 11), sh(2024, 5, 7, 12))
    c = Pause(sh(2024, 5, 7, 13))
    d = Pause(sh(2024, 5, 7, 14), sh(2024, 5, 7, 15))
    assert merge_pauses([d, c, b, a]) == [Pause(sh(2024, 5, 7, 10), sh(2024, 5, 7, 12)), Pause(sh(2024, 5, 7, 13))]


def test_elapsed_stops_while_paused_and_is_zero_before_start() -> None:
    start = sh(2024, 5, 7, 10)
    open_pause = Pause(sh(2024, 5, 7, 10, 10))
    assert elapsed(start, sh(2024, 5, 9), ROUND_THE_CLOCK, [open_pause]) == 10 * MIN
    assert elapsed(start, sh(2024, 5, 7, 9), ROUND_THE_CLOCK) == timedelta(0)


def test_pause_ending_before_it_starts_is_refused() -> None:
    with pytest.raises(Invalid):
        Pause(sh(2024, 5, 7, 10), sh(2024, 5, 7, 9))
    with pytest.raises(Invalid):
        Pause(datetime(2024, 5, 7, 10))


# --- policies and status ----------------------------------------------------------------------------


def test_default_policy_is_thirty_minutes_and_a_day() -> None:
    assert DEFAULT_POLICY.first_response == 30 * MIN
    assert DEFAULT_POLICY.resolution == 24 * H
    assert DEFAULT_POLICY.near_breach_at == Decimal("0.8")


def test_policy_for_takes_the_most_specific_and_falls_back_to_the_default() -> None:
    any_case = SlaPolicy(first_response=60 * MIN)
    urgent = SlaPolicy(priority="urgent", first_response=10 * MIN)
    oos = SlaPolicy(category="out_of_stock", first_response=20 * MIN)
    oos_urgent = SlaPolicy(category="out_of_stock", priority="urgent", first_response=5 * MIN)
    policies = [any_case, urgent, oos, oos_urgent]
    assert policy_for("out_of_stock", "urgent", policies) is oos_urgent
    assert policy_for("out_of_stock", "low", policies) is oos
    assert policy_for("late_shipment", "urgent", policies) is urgent
    assert policy_for("late_shipment", "low", policies) is any_case
    assert policy_for("late_shipment", "low", [oos, urgent]) is DEFAULT_POLICY
    assert policy_for("other", "normal") is DEFAULT_POLICY


def test_first_of_equally_specific_policies_wins() -> None:
    first, second = SlaPolicy(category="other", first_response=MIN), SlaPolicy(category="other")
    assert policy_for("other", "low", [first, second]) is first


@pytest.mark.parametrize("kwargs", [
    {"first_response": timedelta(0)}, {"resolution": -H}, {"near_breach_at": Decimal(1)},
    {"near_breach_at": Decimal(0)},
])
def test_broken_policy_is_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(Invalid):
        SlaPolicy(**kwargs)  # type: ignore[arg-type]


OPENED = sh(2024, 5, 7, 10)


def test_fresh_case_is_ok_with_due_times_from_the_policy() -> None:
    status = evaluate(OPENED, OPENED + 5 * MIN, DEFAULT_POLICY)
    assert status.first_response.state is SlaState.OK
    assert status.first_response.due == sh(2024, 5, 7, 10, 30)
    assert status.first_response.remaining == 25 * MIN
    assert status.resolution.due == sh(2024, 5, 8, 10)


def test_case_is_near_breach_once_eighty_percent_of_the_target_is_used() -> None:
    assert evaluate(OPENED, OPENED + 23 * MIN, DEFAULT_POLICY).first_response.state is SlaState.OK
    assert evaluate(OPENED, OPENED + 24 * MIN, DEFAULT_POLICY).first_response.state is SlaState.NEAR_BREACH


def test_unanswered_case_past_the_due_time_is_breached_with_negative_remaining() -> None:
    status = evaluate(OPENED, OPENED + 40 * MIN, DEFAULT_POLICY)
    assert status.first_response.state is SlaState.BREACHED
    assert status.first_response.remaining == -10 * MIN
    assert status.resolution.state is SlaState.OK


def test_unanswered_case_exactly_at_the_due_time_is_not_yet_breached() -> None:
    status = evaluate(OPENED, OPENED + 30 * MIN, DEFAULT_POLICY)
    assert status.first_response.state is SlaState.NEAR_BREACH
    assert status.first_response.remaining == timedelta(0)


def test_reply_before_the_due_time_is_met_and_stops_the_clock() -> None:
    status = evaluate(OPENED, OPENED + 3 * H, DEFAULT_POLICY, first_response_at=OPENED + 30 * MIN)
    assert status.first_response.state is SlaState.MET
    assert status.first_response.elapsed == 30 * MIN
    assert status.first_response.remaining == timedelta(0)


def test_late_reply_stays_breached() -> None:
    status = evaluate(OPENED, OPENED + 3 * H, DEFAULT_POLICY, first_response_at=OPENED + 31 * MIN)
    assert status.first_response.state is SlaState.BREACHED
    assert status.first_response.elapsed == 31 * MIN


def test_reply_after_closing_is_late_though_no_business_time_passed() -> None:
    opened = sh(2024, 5, 7, 17, 30)
    status = evaluate(opened, sh(2024, 5, 7, 20), DEFAULT_POLICY, OFFICE, first_response_at=sh(2024, 5, 7, 19))
    assert status.first_response.due == sh(2024, 5, 7, 18)
    assert status.first_response.elapsed == 30 * MIN
    assert status.first_response.state is SlaState.BREACHED


def test_waiting_on_the_customer_pauses_the_resolution_clock() -> None:
    waiting = Pause(OPENED + H)
    status = evaluate(OPENED, OPENED + 30 * H, DEFAULT_POLICY, pauses=[waiting], first_response_at=OPENED + 10 * MIN)
    assert status.resolution.paused
    assert status.resolution.due is None
    assert status.resolution.elapsed == H
    assert status.resolution.state is SlaState.OK
    # The first response came before the pause: its clock is stopped, met, with its due time.
    assert status.first_response.due == OPENED + 30 * MIN
    assert status.first_response.state is SlaState.MET
    assert not status.first_response.paused


def test_resolved_while_waiting_on_the_customer_is_met_with_a_due_time() -> None:
    waiting = Pause(OPENED + H)
    status = evaluate(OPENED, OPENED + 50 * H, DEFAULT_POLICY, pauses=[waiting],
                      first_response_at=OPENED + 10 * MIN, resolved_at=OPENED + 48 * H)
    assert status.resolution.state is SlaState.MET
    assert status.resolution.elapsed == H
    assert status.resolution.due == OPENED + 48 * H + 23 * H
    assert not status.resolution.paused


def test_answered_pause_pushes_the_resolution_due_time() -> None:
    waiting = Pause(OPENED + H, OPENED + 5 * H)
    status = evaluate(OPENED, OPENED + 6 * H, DEFAULT_POLICY, pauses=[waiting])
    assert status.resolution.due == OPENED + 28 * H
    assert status.resolution.elapsed == 2 * H
    assert not status.resolution.paused


def test_pause_starting_after_now_is_not_counted() -> None:
    future = Pause(OPENED + 2 * H)
    status = evaluate(OPENED, OPENED + H, DEFAULT_POLICY, pauses=[future])
    assert status.resolution.due == OPENED + 24 * H
    assert not status.resolution.paused


# --- properties -------------------------------------------------------------------------------------

CALENDARS = st.sampled_from([
    ROUND_THE_CLOCK,
    OFFICE,
    Calendar("Europe/Berlin"),
    Calendar("Europe/Berlin", week=((Opening(time(9), time(12)), Opening(time(13), time(18))),) * 5 + ((), ())),
    Calendar.office_hours(time(8), time(20), weekdays=range(6), timezone="America/New_York",
                          holidays=[date(2024, 11, 28), date(2024, 12, 25)]),
])
STARTS = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2025, 12, 31),
                      timezones=st.sampled_from([UTC, SHANGHAI, BERLIN, NEW_YORK]), allow_imaginary=False)
DURATIONS = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=4))
# Arithmetic on a zoned datetime is wall-clock arithmetic: properties that add to a start use UTC.
UTC_STARTS = STARTS.map(lambda moment: moment.astimezone(UTC))
POSITIVE = st.timedeltas(min_value=timedelta(microseconds=1), max_value=timedelta(days=3))


BERLIN_ALL_DAY = Calendar("Europe/Berlin")


@given(CALENDARS, STARTS, DURATIONS)
@example(BERLIN_ALL_DAY, datetime(2024, 3, 31, 1, 0, tzinfo=BERLIN), H)  # found by hypothesis: same-zone
@example(BERLIN_ALL_DAY, datetime(2024, 10, 27, 2, 30, tzinfo=BERLIN), H)  # subtraction across DST
def test_business_time_up_to_the_due_time_is_the_duration(calendar: Calendar, start: datetime,
                                                          duration: timedelta) -> None:
    assert business_time_between(start, add_business_time(start, duration, calendar), calendar) == duration


@given(CALENDARS, STARTS, DURATIONS, DURATIONS)
def test_adding_business_time_in_two_steps_equals_one_step(calendar: Calendar, start: datetime,
                                                           first: timedelta, second: timedelta) -> None:
    in_two = add_business_time(add_business_time(start, first, calendar), second, calendar)
    assert in_two == add_business_time(start, first + second, calendar)


@given(CALENDARS, STARTS, POSITIVE)
@example(BERLIN_ALL_DAY, datetime(2024, 3, 31, 1, 59, tzinfo=BERLIN), MIN)
@example(BERLIN_ALL_DAY, datetime(2024, 10, 27, 2, 59, tzinfo=BERLIN, fold=1), MIN)
def test_due_time_is_the_earliest_moment_the_target_is_reached(calendar: Calendar, start: datetime,
                                                               duration: timedelta) -> None:
    due = add_business_time(start, duration, calendar)
    just_before = due - timedelta(microseconds=1)
    assert due > start
    assert business_time_between(start, just_before, calendar) < duration


@given(CALENDARS, UTC_STARTS, POSITIVE, st.floats(min_value=0, max_value=0.999), POSITIVE,
       st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=2)))
def test_pause_of_business_length_p_pushes_the_due_time_by_exactly_p(
        calendar: Calendar, start: datetime, target: timedelta, share_before: float, p: timedelta,
        lag: timedelta) -> None:
    # The pause starts once some business time (less than the target) has passed, plus a lag that
    # may put it outside business hours; it lasts p of business time.
    pause_start = add_business_time(start, target * share_before, calendar) + lag
    assume(business_time_between(start, pause_start, calendar) < target)
    pause = Pause(pause_start, add_business_time(pause_start, p, calendar))
    without = due_at(start, target, calendar)
    with_pause = due_at(start, target, calendar, [pause])
    assert without is not None and with_pause is not None
    assert business_time_between(without, with_pause, calendar) == p
    assert with_pause == add_business_time(without, p, calendar)


@given(CALENDARS, UTC_STARTS, POSITIVE, st.lists(st.tuples(DURATIONS, DURATIONS), max_size=4))
def test_elapsed_at_the_due_time_is_the_target(calendar: Calendar, start: datetime, target: timedelta,
                                               spans: list[tuple[timedelta, timedelta]]) -> None:
    pauses = [Pause(start + offset, start + offset + length) for offset, length in spans]
    due = due_at(start, target, calendar, pauses)
    assert due is not None
    assert elapsed(start, due, calendar, pauses) == target


@given(CALENDARS, UTC_STARTS, POSITIVE, DURATIONS, POSITIVE, st.floats(min_value=0.01, max_value=0.99),
       st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=5)))
def test_overlapping_pieces_of_a_pause_count_as_the_pause(
        calendar: Calendar, start: datetime, target: timedelta, offset: timedelta, length: timedelta,
        cut: float, overlap: timedelta) -> None:
    whole = Pause(start + offset, start + offset + length)
    middle = whole.start + length * cut
    assert whole.end is not None
    pieces = [Pause(middle, whole.end), Pause(whole.start, min(middle + overlap, whole.end)), whole]
    assert due_at(start, target, calendar, pieces) == due_at(start, target, calendar, [whole])
    now = start + offset + length * 2
    assert elapsed(start, now, calendar, pieces) == elapsed(start, now, calendar, [whole])


@given(CALENDARS, UTC_STARTS, POSITIVE, DURATIONS, DURATIONS)
def test_open_pause_freezes_elapsed_and_hides_the_due_time_only_if_it_starts_before_it(
        calendar: Calendar, start: datetime, target: timedelta, offset: timedelta, later: timedelta) -> None:
    pause = Pause(start + offset)
    due = due_at(start, target, calendar, [pause])
    plain_due = add_business_time(start, target, calendar)
    assert (due is None) == (pause.start < plain_due)
    if due is not None:
        assert due == plain_due
    frozen = elapsed(start, pause.start, calendar)
    assert elapsed(start, pause.start + later, calendar, [pause]) == frozen


@given(CALENDARS, UTC_STARTS, st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3)),
       st.lists(st.tuples(DURATIONS, DURATIONS), max_size=3), st.sampled_from([DEFAULT_POLICY,
       SlaPolicy(first_response=2 * H, resolution=8 * H, near_breach_at=Decimal("0.5"))]))
def test_elapsed_plus_remaining_is_the_target_and_remaining_leads_to_the_due_time(
        calendar: Calendar, opened: datetime, age: timedelta, spans: list[tuple[timedelta, timedelta]],
        policy: SlaPolicy) -> None:
    now = opened + age
    pauses = [Pause(opened + o, min(opened + o + length, now)) for o, length in spans if opened + o <= now]
    status = evaluate(opened, now, policy, calendar, pauses)
    for clock in (status.first_response, status.resolution):
        assert clock.elapsed + clock.remaining == clock.target
        assert clock.due is not None
        if clock.remaining > timedelta(0):
            assert add_business_time(now, clock.remaining, calendar) == clock.due
            assert clock.state in (SlaState.OK, SlaState.NEAR_BREACH)
        if clock.state is SlaState.BREACHED:
            assert now > clock.due
