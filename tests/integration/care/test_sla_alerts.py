"""SLA escalations reach the alert notifiers as `sla_breach` alerts, and the embedded scheduler runs the SLA watch:
a real webhook receiver on loopback, the real job loop's tick and the real notification sender."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import httpx

from conftest import SYSTEM, Backend
from omnistock.care import messages
from omnistock.care.cases import CaseSpec, Defaults, open_case
from omnistock.config import Settings
from omnistock.store.types import utcnow
from omnistock.watch import delivery, scheduler
from support.notify_receivers import RobotReceiver
from support.watch_api import alerts_of


def _open(backend: Backend, at: datetime, **spec: Any) -> int:
    fields: dict[str, Any] = {"category": "out_of_stock", "subject": "TEA-001 oversold on JD", **spec}
    with backend.db.transaction() as session:
        return open_case(session, CaseSpec(**fields), SYSTEM, Defaults(), now=at).id


def _notifier(api: httpx.Client, code: str, url: str, kinds: list[str] | None = None) -> None:
    body: dict[str, Any] = {"code": code, "kind": "webhook", "settings": {"url": url}}
    if kinds:
        body["routes"] = {"kinds": kinds}
    r = api.post("/api/v1/notifiers", json=body)
    assert r.status_code == 201, r.text


def _send(backend: Backend) -> int:
    with httpx.Client(timeout=10) as client:
        return delivery.send_due(backend.db, backend.settings, client)


def _escalations(api: httpx.Client, case_id: int) -> list[tuple[str, str]]:
    r = api.get("/api/v1/escalations", params={"case_id": case_id})
    assert r.status_code == 200, r.text
    return [(e["clock"], e["level"]) for e in sorted(r.json()["items"], key=lambda e: e["id"])]


def test_a_breach_found_by_the_scheduler_reaches_a_webhook_notifier(api: httpx.Client, clean: Backend) -> None:
    with RobotReceiver(answer=b"", status=204) as hook:
        _notifier(api, "desk", hook.url("/desk"), kinds=["sla_breach"])
        _notifier(api, "warehouse", hook.url("/warehouse"), kinds=["oversell"])  # not routed for SLA alerts
        cid = _open(clean, utcnow() - timedelta(minutes=40))  # nobody answered for 40 minutes
        scheduler.tick(clean.db, clean.settings)
        assert _send(clean) == 1
        [hit] = hook.hits
    assert hit.path == "/desk" and hit.headers["x-omnistock-event"] == "alert"
    alert = json.loads(hit.body)
    assert (alert["kind"], alert["severity"], alert["status"]) == ("sla_breach", "critical", "open")
    assert alert["detail"]["case_id"] == cid and alert["detail"]["clock"] == "first_response"
    assert f"case {cid} first response breached" in alert["message"]
    assert _escalations(api, cid) == [("first_response", "breached")]


def test_a_near_breach_is_a_warning_that_the_breach_replaces(api: httpx.Client, clean: Backend) -> None:
    t0 = utcnow() - timedelta(hours=2)
    cid = _open(clean, t0)
    assert scheduler.care_sla_scan(clean.db, t0 + timedelta(minutes=25)) == 1  # 80 % of 30 minutes used
    [near] = alerts_of(api, "sla_breach")
    assert near["severity"] == "warning" and "near breach" in near["message"]
    assert scheduler.care_sla_scan(clean.db, t0 + timedelta(minutes=26)) == 0  # raised once
    assert scheduler.care_sla_scan(clean.db, t0 + timedelta(minutes=31)) == 1
    [breach] = alerts_of(api, "sla_breach")
    assert breach["severity"] == "critical" and breach["id"] != near["id"]
    assert [a["id"] for a in alerts_of(api, "sla_breach", status="resolved")] == [near["id"]]
    assert _escalations(api, cid) == [("first_response", "near_breach"), ("first_response", "breached")]


def test_answering_the_customer_resolves_the_alert(api: httpx.Client, clean: Backend) -> None:
    t0 = utcnow() - timedelta(hours=2)
    cid = _open(clean, t0)
    scheduler.care_sla_scan(clean.db, t0 + timedelta(minutes=31))
    assert len(alerts_of(api, "sla_breach")) == 1
    with clean.db.transaction() as session:
        messages.reply(session, cid, SYSTEM, messages.ReplySpec(body="非常抱歉，我们正在处理", channel="manual"),
                       Settings(), now=t0 + timedelta(minutes=40))
    scheduler.care_sla_scan(clean.db, t0 + timedelta(minutes=41))
    assert alerts_of(api, "sla_breach") == []
    assert len(alerts_of(api, "sla_breach", status="resolved")) == 1


def test_a_switched_off_rule_keeps_the_escalation_but_raises_no_alert(api: httpx.Client, clean: Backend) -> None:
    r = api.put("/api/v1/alert-rules/sla_breach", json={"enabled": False})
    assert r.status_code == 200 and r.json()["enabled"] is False, r.text
    t0 = utcnow() - timedelta(hours=2)
    cid = _open(clean, t0)
    assert scheduler.care_sla_scan(clean.db, t0 + timedelta(minutes=31)) == 1
    assert _escalations(api, cid) == [("first_response", "breached")]
    assert alerts_of(api, "sla_breach") == []


def test_the_scheduler_runs_the_sla_scan_once_per_period(api: httpx.Client, clean: Backend) -> None:
    now = utcnow()
    first = _open(clean, now - timedelta(minutes=40))
    scheduler.tick(clean.db, clean.settings, lambda: now)
    assert _escalations(api, first) == [("first_response", "breached")]
    second = _open(clean, now - timedelta(minutes=40))
    scheduler.tick(clean.db, clean.settings, lambda: now + timedelta(seconds=30))  # within the 60 s period
    assert _escalations(api, second) == []
    scheduler.tick(clean.db, clean.settings, lambda: now + timedelta(seconds=61))
    assert _escalations(api, second) == [("first_response", "breached")]


def test_the_scan_interval_is_a_setting(api: httpx.Client, clean: Backend) -> None:
    often = clean.settings.model_copy(update={"care_sla_scan_seconds": 5.0})
    now = utcnow()
    scheduler.tick(clean.db, often, lambda: now)
    cid = _open(clean, now - timedelta(minutes=40))
    scheduler.tick(clean.db, often, lambda: now + timedelta(seconds=6))
    assert _escalations(api, cid) == [("first_response", "breached")]
    assert Settings().care_sla_scan_seconds == 60.0
