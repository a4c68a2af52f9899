"""The weekly sync report's figures against a scenario with known counts, its HTML and XLSX forms, and the
scheduled job that sends it to the notifiers routed for reports (by e-mail: a local SMTP server checks the body,
its inline charts and both attachments)."""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta
from typing import Any

import httpx
from openpyxl import load_workbook
from sqlalchemy import select

from conftest import Backend, client_for, make_token
from omnistock.store.tables import Channel
from omnistock.store.types import utcnow
from omnistock.sync.tables import PlatformCall
from omnistock.watch import delivery, report_job
from omnistock.watch.report_figures import Week
from omnistock.watch.tables import Difference, Reconciliation, WeeklyReport
from support.core_api import seed
from support.notify_receivers import RobotReceiver, SmtpReceiver
from support.server import LiveServer


def scenario(api: httpx.Client, clean: Backend) -> str:
    """shop1: 10 good pushes (10..100 ms) and 2 failed ones (500 ms), 3 pushes the week before, an oversold order
    later released, 2 drifts found of which 1 healed; shop2: 4 pushes of 5 ms."""
    seed(api, stock=1)
    for code in ("shop1", "shop2"):
        assert api.post("/api/v1/channels", json={"code": code, "kind": "manual"}).status_code == 201
    now = utcnow()
    with clean.db.transaction() as session:
        ids = dict(session.execute(select(Channel.code, Channel.id)).all())
        calls = [(ids["shop1"], True, ms, now) for ms in range(10, 101, 10)]
        calls += [(ids["shop1"], False, 500, now)] * 2 + [(ids["shop2"], True, 5, now)] * 4
        calls += [(ids["shop1"], True, 7, now - timedelta(days=7))] * 3
        session.add_all(PlatformCall(channel_id=cid, op="set_stock", ok=ok, latency_ms=ms, at=at, value=1)
                        for cid, ok, ms, at in calls)
        session.add(PlatformCall(channel_id=ids["shop1"], op="fetch_stock", ok=True, latency_ms=999, at=now))
        run = Reconciliation(channel_id=ids["shop1"], status="done", mode="alert", trigger="api", requested_by="t",
                             started_at=now, finished_at=now)
        session.add(run)
        session.flush()
        for n, status in enumerate(("open", "healed")):
            session.add(Difference(run_id=run.id, channel_id=ids["shop1"], external_id=f"x{n}", kind="drift",
                                   expected=1, platform=2, action="alert", status=status, first_found_at=now,
                                   found_at=now, resolved_at=now if status == "healed" else None))
    held = api.post("/api/v1/orders", json={"channel": "shop1", "external_id": "o1", "lines": [{"sku": "A", "qty": 3}]})
    assert held.json()["status"] == "held"
    api.post("/api/v1/moves", json={"sku": "A", "location": "WH", "kind": "receipt", "qty": 5})
    assert api.post(f"/api/v1/orders/{held.json()['id']}/release").json()["status"] == "reserved"
    return Week.of(now.astimezone(clean.settings.zone).date(), clean.settings.zone).label


def test_weekly_report_figures_match_a_known_scenario(api: httpx.Client, clean: Backend) -> None:
    week = scenario(api, clean)
    r = api.get("/api/v1/reports/weekly", params={"week": week})
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["week"] == week and report["previous_week"] != week
    by = {c["channel"]: c for c in report["channels"]}
    shop1, shop2, overall = by["shop1"], by["shop2"], report["overall"]
    assert (shop1["pushes"], shop1["failures"], shop1["previous"]["pushes"]) == (12, 2, 3)
    assert (shop1["latency_p50_ms"], shop1["latency_p95_ms"], shop1["latency_p99_ms"]) == (60.0, 500.0, 500.0)
    assert (shop2["pushes"], shop2["failures"], shop2["latency_p99_ms"]) == (4, 0, 5.0)
    assert (overall["pushes"], overall["latency_p50_ms"], overall["previous"]["latency_p50_ms"]) == (16, 40.0, 7.0)
    assert (shop1["drift_found"], shop1["drift_healed"]) == (2, 1)
    assert (shop1["oversells"], shop1["held"], shop1["released"]) == (1, 1, 1)
    assert (shop1["alerts"], shop1["alerts_resolved"]) == (1, 1) and shop1["resolve_minutes_median"] is not None
    assert shop1["complaints"] == 1  # the complaint desk opened a proactive case for the oversold order
    assert (shop2["oversells"], shop2["drift_found"], shop2["complaints"]) == (0, 0, 0)


def test_a_reader_scoped_to_a_channel_gets_only_its_figures(api: httpx.Client, clean: Backend,
                                                             server: LiveServer) -> None:
    week = scenario(api, clean)
    with client_for(server, make_token(clean, "viewer", channels=["shop2"])) as shop2_only:
        report = shop2_only.get("/api/v1/reports/weekly", params={"week": week}).json()
    assert [c["channel"] for c in report["channels"]] == ["shop2"]
    assert (report["overall"]["pushes"], report["overall"]["oversells"]) == (4, 0)  # shop1's are not counted
    with client_for(server, make_token(clean, "viewer", locations=["WH"])) as store_only:
        report = store_only.get("/api/v1/reports/weekly", params={"week": week}).json()
    assert report["channels"] == [] and report["overall"]["pushes"] == 0


def test_weekly_report_as_html_with_charts_and_as_a_workbook(api: httpx.Client, clean: Backend) -> None:
    week = scenario(api, clean)
    page = api.get("/api/v1/reports/weekly", params={"week": week, "format": "html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.text.count("data:image/png;base64,") == 3 and f"Weekly sync report {week}" in page.text
    book = api.get("/api/v1/reports/weekly", params={"week": week, "format": "xlsx"})
    sheet = load_workbook(io.BytesIO(book.content)).active
    rows = {(r[0], r[1]): (r[2], r[3]) for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows[("overall", "Pushes")] == (16, 3) and rows[("shop1", "Failed pushes")] == (2, 0)


def test_the_scheduled_job_reports_last_week_once_to_report_notifiers(api: httpx.Client, clean: Backend) -> None:
    week = scenario(api, clean)
    with RobotReceiver(answer=b"", status=200) as reports, RobotReceiver(answer=b"", status=200) as oversells:
        for code, url, kinds in (("boss", reports.url(), ["report"]), ("ops", oversells.url(), ["oversell"])):
            api.post("/api/v1/notifiers", json={"code": code, "kind": "webhook", "settings": {"url": url},
                                                "routes": {"kinds": kinds}})
        next_week = utcnow() + timedelta(days=7)
        assert report_job.run_due(clean.db, clean.settings, next_week) is not None
        assert report_job.run_due(clean.db, clean.settings, next_week) is None  # once per week
        with httpx.Client() as client:
            delivery.send_due(clean.db, clean.settings, client)
        [hit] = reports.hits
        assert oversells.hits == []
    payload: dict[str, Any] = json.loads(hit.body)
    assert hit.headers["x-omnistock-event"] == "report" and payload["report"] == week
    assert payload["figures"]["overall"]["pushes"] == 16 and "Pushes: 16" in payload["markdown"]
    with clean.db.reading() as session:
        assert session.get(WeeklyReport, week) is not None


def test_bad_report_requests_name_the_field(api: httpx.Client) -> None:
    for params, field in (({"week": "2026-47"}, "week"), ({"week": "2026-W60"}, "week"),
                          ({"format": "pdf"}, "format")):
        r = api.get("/api/v1/reports/weekly", params=params)
        assert r.status_code == 422 and r.json()["field"] == field, r.text
    empty = api.get("/api/v1/reports/weekly").json()
    assert empty["overall"]["pushes"] == 0 and empty["channels"] == []


def test_the_weekly_report_reaches_an_email_notifier_with_its_page_and_workbook(api: httpx.Client,
                                                                               clean: Backend) -> None:
    week = scenario(api, clean)
    with SmtpReceiver() as smtp:
        r = api.post("/api/v1/notifiers", json={
            "code": "owner", "kind": "email", "routes": {"kinds": ["report"]},
            "settings": {"to": ["owner@example.com"], "host": "127.0.0.1", "port": smtp.port,
                         "sender": "omnistock@example.com"}})
        assert r.status_code == 201, r.text
        assert report_job.run_due(clean.db, clean.settings, utcnow() + timedelta(days=7)) is not None
        with httpx.Client() as client:
            assert delivery.send_due(clean.db, clean.settings, client) == 1
        [msg] = smtp.wait_for(1)
    assert msg["Subject"] == f"omnistock weekly sync report {week}" and msg["To"] == "owner@example.com"
    assert msg.get_content_type() == "multipart/mixed"
    text = next(p for p in msg.walk() if p.get_content_type() == "text/plain")
    assert "Pushes: 16 (3 the week before), failed 2" in text.get_payload(decode=True).decode()

    # The body shows its charts as inline images: mail clients show no data-URI image.
    body = next(p for p in msg.walk() if p.get_content_type() == "text/html" and not p.get_filename())
    html = body.get_payload(decode=True).decode()
    cids = re.findall(r'src="cid:([^"]+)"', html)
    inline = {p["Content-ID"].strip("<>"): p.get_payload(decode=True) for p in msg.walk()
              if p.get_content_type() == "image/png"}
    assert len(cids) == 3 and set(cids) == set(inline) and "data:image" not in html
    assert all(png.startswith(b"\x89PNG\r\n\x1a\n") for png in inline.values())

    files = {p.get_filename(): p for p in msg.walk() if p.get_content_disposition() == "attachment"}
    assert set(files) == {f"omnistock-sync-{week}.html", f"omnistock-sync-{week}.xlsx"}
    page = files[f"omnistock-sync-{week}.html"]
    assert page.get_content_type() == "text/html"
    page_text = page.get_payload(decode=True).decode()
    assert f"Weekly sync report {week}" in page_text and page_text.count("data:image/png;base64,") == 3
    book = files[f"omnistock-sync-{week}.xlsx"]
    assert book.get_content_type() == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(book.get_payload(decode=True))).active
    rows = {(r[0], r[1]): (r[2], r[3]) for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows[("overall", "Pushes")] == (16, 3) and rows[("shop1", "Failed pushes")] == (2, 0)
    assert rows[("shop1", "Drift found")] == (2, 0) and rows[("shop1", "Oversells")] == (1, 0)
