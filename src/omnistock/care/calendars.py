"""Teams and their calendars (business hours, holidays, 调休 working days) for the SLA clock. A case with
no team runs on the round-the-clock default: online shops answer at night."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from omnistock.care.tables import CareTeam
from omnistock.domain.sla import ROUND_THE_CLOCK_CALENDAR, Calendar, Opening
from omnistock.errors import Invalid, NotFound


@dataclass(frozen=True)
class TeamSpec:
    code: str
    name: str
    timezone: str
    week: Sequence[Sequence[Sequence[str]]]  # 7 days, Monday first, each a list of ["09:00", "18:00"]
    holidays: Sequence[str] = ()
    extra_working_days: Sequence[str] = ()


def _clock_time(text: str, field: str) -> time:
    if text in ("24:00", "00:00"):
        return time(0)
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise Invalid(f"{text!r} is not a time of day like 09:00", field=field) from None


def _day(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Invalid(f"{text!r} is not a date like 2026-10-01", field=field) from None


def calendar_of(team: CareTeam | TeamSpec) -> Calendar:
    """The domain calendar of a team; Invalid names the broken field."""
    if len(team.week) != 7:
        raise Invalid("week has 7 days of hours, Monday first", field="week")
    days = []
    for i, hours in enumerate(team.week):
        openings = []
        for j, pair in enumerate(hours):
            if len(pair) != 2:
                raise Invalid("each opening is [opens, closes]", field=f"week[{i}][{j}]")
            where = f"week[{i}][{j}]"
            openings.append(Opening(_clock_time(pair[0], where), _clock_time(pair[1], where)))
        days.append(tuple(openings))
    return Calendar(team.timezone, tuple(days),
                    frozenset(_day(d, "holidays") for d in team.holidays),
                    frozenset(_day(d, "extra_working_days") for d in team.extra_working_days))


def calendar_for(session: Session, team_id: int | None) -> Calendar:
    if team_id is None:
        return ROUND_THE_CLOCK_CALENDAR
    team = session.get(CareTeam, team_id)
    return ROUND_THE_CLOCK_CALENDAR if team is None else calendar_of(team)


def team_by_code(session: Session, code: str, *, field: str = "team") -> CareTeam:
    team = session.scalar(select(CareTeam).where(CareTeam.code == code))
    if team is None:
        raise NotFound(f"unknown team {code!r}", field=field)
    return team


def save_team(session: Session, spec: TeamSpec) -> CareTeam:
    """Create or replace a team's calendar (the calendar is checked before anything is written)."""
    calendar_of(spec)
    team = session.scalar(select(CareTeam).where(CareTeam.code == spec.code))
    if team is None:
        team = CareTeam(code=spec.code)
        session.add(team)
    team.name, team.timezone = spec.name, spec.timezone
    team.week = [[list(p) for p in day] for day in spec.week]
    team.holidays, team.extra_working_days = sorted(spec.holidays), sorted(spec.extra_working_days)
    session.flush()
    return team


def list_teams(session: Session) -> list[CareTeam]:
    return list(session.scalars(select(CareTeam).order_by(CareTeam.code)))


def team_view(team: CareTeam) -> dict[str, Any]:
    return {"code": team.code, "name": team.name, "timezone": team.timezone, "week": team.week,
            "holidays": team.holidays, "extra_working_days": team.extra_working_days}
