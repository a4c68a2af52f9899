"""SLA on stored cases: due times from policies and team calendars (business hours, holidays), the clock
paused while waiting on the customer, and the watch raising escalations once, with explicit `now` values
(time is passed in, the logic is the real one)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx

from conftest import SYSTEM, Backend
from omnistock.care import handling, messages, sla_watch
from omnistock.care.cases import CaseSpec, Defaults, open_case
from omnistock.config import Settings
from support.care_api import assert_problem, case, new_case

CST = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 11, 20, 0, tzinfo=CST)  # 双十一 evening


def _open(backend: Backend, at: datetime, **spec: object) -> int:
    fields: dict[str, object] = {"category": "out_of_stock", "subject": "oversold", **spec}
    with backend.db.transaction() as session:
        return open_case(session, CaseSpec(**fields), SYSTEM, Defaults(), now=at).id  # type: ignore[arg-type]


def _scan(backend: Backend, at: datetime) -> list[tuple[int, str, str]]:
    with backend.db.transaction() as session:
        return [(e.case_id, e.clock, e.level) for e in sla_watch.scan(session, at)]


def _at(text: str | None) -> datetime:
    assert text is not None
    return datetime.fromisoformat(text)


def test_new_case_is_due_in_30_minutes_and_a_day_round_the_clock(api: httpx.Client) -> None:
    c = new_case(api)
    created = _at(c["created_at"])
    assert _at(c["first_response_due"]) == created + timedelta(minutes=30)
    assert _at(c["resolution_due"]) == created + timedelta(hours=24)


def test_policy_by_category_and_priority_sets_the_due_times(api: httpx.Client) -> None:
    r = api.put("/api/v1/care/sla-policies", json={"policies": [
        {"category": "out_of_stock", "priority": "urgent", "first_response_minutes": 10, "resolution_minutes": 240},
        {"category": "out_of_stock", "first_response_minutes": 20, "resolution_minutes": 600}]})
    assert r.status_code == 200 and r.json()["default"]["first_response_minutes"] == 30
    urgent = new_case(api, category="out_of_stock", priority="urgent")
    normal = new_case(api, category="out_of_stock")
    other = new_case(api, category="late_shipment")
    for c, minutes in ((urgent, 10), (normal, 20), (other, 30)):
        assert _at(c["first_response_due"]) == _at(c["created_at"]) + timedelta(minutes=minutes)
    # raising the priority moves the due time to the stricter policy
    raised = api.patch(f"/api/v1/cases/{normal['id']}", json={"priority": "urgent"}).json()
    assert _at(raised["first_response_due"]) == _at(raised["created_at"]) + timedelta(minutes=10)


def test_bad_policies_are_refused_and_the_old_ones_stay(api: httpx.Client) -> None:
    good = {"category": "out_of_stock", "first_response_minutes": 20, "resolution_minutes": 600}
    api.put("/api/v1/care/sla-policies", json={"policies": [good]})
    for bad, field in (({**good, "category": "nope"}, "policies[0].category"),
                       ({**good, "first_response_minutes": 0}, "policies[0].first_response_minutes"),
                       ({**good, "near_breach_at": "1.5"}, "policies[0].near_breach_at")):
        assert_problem(api.put("/api/v1/care/sla-policies", json={"policies": [bad]}), 422, field)
    assert api.get("/api/v1/care/sla-policies").json()["items"][0]["first_response_minutes"] == 20


def test_team_business_hours_and_holidays_move_the_due_time(api: httpx.Client, clean: Backend) -> None:
    office = [["09:00", "18:00"]]
    week = [office] * 5 + [[], []]
    r = api.put("/api/v1/care/teams/day-shift", json={"name": "Day shift", "week": week,
                                                       "holidays": ["2026-11-16"]})
    assert r.status_code == 200, r.text
    friday_late = datetime(2026, 11, 13, 17, 50, tzinfo=CST)
    cid = _open(clean, friday_late, team="day-shift")
    c = case(api, cid)
    # 10 minutes on Friday, Monday is a holiday, the other 20 minutes on Tuesday morning
    assert _at(c["first_response_due"]) == datetime(2026, 11, 17, 9, 20, tzinfo=CST)
    assert c["team"] == "day-shift"
    assert_problem(api.put("/api/v1/care/teams/bad", json={"name": "x", "week": [[["18:00", "09:00"]]] + [[]] * 6}),
                   422, "hours")
    assert_problem(api.put("/api/v1/care/teams/bad", json={"name": "x", "week": week, "timezone": "Mars/Base"}),
                   422, "timezone")
    assert [t["code"] for t in api.get("/api/v1/care/teams").json()["items"]] == ["day-shift"]


def test_waiting_on_the_customer_pauses_the_clock(api: httpx.Client, clean: Backend) -> None:
    cid = _open(clean, T0)
    with clean.db.transaction() as session:
        handling.set_status(session, cid, SYSTEM, "waiting_on_customer", now=T0 + timedelta(minutes=10))
    assert _scan(clean, T0 + timedelta(hours=2)) == []  # two hours waiting: no breach
    paused = case(api, cid)
    assert paused["first_response_due"] is None and paused["sla"]["paused"]
    with clean.db.transaction() as session:
        handling.set_status(session, cid, SYSTEM, "open", now=T0 + timedelta(hours=3))
    resumed = case(api, cid)
    # 10 minutes ran before the pause; the other 20 run from 23:00
    assert _at(resumed["first_response_due"]) == T0 + timedelta(hours=3, minutes=20)
    assert _at(resumed["resolution_due"]) == T0 + timedelta(hours=24 + 2, minutes=50)


def test_watch_raises_near_breach_then_breach_once_each(api: httpx.Client, clean: Backend) -> None:
    cid = _open(clean, T0)
    assert _scan(clean, T0 + timedelta(minutes=20)) == []
    assert _scan(clean, T0 + timedelta(minutes=25)) == [(cid, "first_response", "near_breach")]  # 80% used
    assert _scan(clean, T0 + timedelta(minutes=26)) == []
    assert _scan(clean, T0 + timedelta(minutes=31)) == [(cid, "first_response", "breached")]
    assert _scan(clean, T0 + timedelta(minutes=45)) == []
    listed = api.get("/api/v1/escalations").json()
    assert listed["total"] == 2 and {e["level"] for e in listed["items"]} == {"near_breach", "breached"}
    assert api.get("/api/v1/escalations", params={"level": "breached"}).json()["total"] == 1
    c = case(api, cid)
    assert [e["level"] for e in c["escalations"]] == ["near_breach", "breached"]
    assert c["sla"]["first_response"] == "breached"
    assert_problem(api.get("/api/v1/escalations", params={"level": "late"}), 422, "level")


def test_answered_case_does_not_escalate_its_first_response(api: httpx.Client, clean: Backend) -> None:
    cid = _open(clean, T0)
    with clean.db.transaction() as session:
        messages.reply(session, cid, SYSTEM, messages.ReplySpec(body="We are on it", channel="manual"),
                       Settings(), now=T0 + timedelta(minutes=5))
    assert _scan(clean, T0 + timedelta(hours=1)) == []
    assert case(api, cid)["sla"]["first_response"] == "met"
    # the resolution clock still runs: 80% of 24 hours
    assert _scan(clean, T0 + timedelta(hours=20)) == [(cid, "resolution", "near_breach")]


def test_reopened_case_gets_a_new_resolution_round(api: httpx.Client, clean: Backend) -> None:
    cid = _open(clean, T0)
    with clean.db.transaction() as session:
        messages.reply(session, cid, SYSTEM, messages.ReplySpec(body="Sorry", channel="manual"), Settings(),
                       now=T0 + timedelta(minutes=1))
    assert _scan(clean, T0 + timedelta(hours=25)) == [(cid, "resolution", "breached")]
    with clean.db.transaction() as session:
        handling.set_status(session, cid, SYSTEM, "resolved", now=T0 + timedelta(hours=26))
        handling.set_status(session, cid, SYSTEM, "open", now=T0 + timedelta(hours=30))
    reopened = case(api, cid)
    assert _at(reopened["resolution_due"]) == T0 + timedelta(hours=54)
    assert _scan(clean, T0 + timedelta(hours=55)) == [(cid, "resolution", "breached")]
    assert [e["round"] for e in case(api, cid)["escalations"]] == [0, 1]


def test_resolved_case_is_not_watched(api: httpx.Client, clean: Backend) -> None:
    cid = _open(clean, T0)
    with clean.db.transaction() as session:
        handling.set_status(session, cid, SYSTEM, "resolved", now=T0 + timedelta(minutes=5))
    assert _scan(clean, T0 + timedelta(days=3)) == []
    assert case(api, cid)["sla"] == {"first_response": "met", "resolution": "met", "paused": False}
