"""The complaint desk's commands: `omnistock case ...`, `omnistock incident ...` and `omnistock care ...`
(the SLA watch, the message queue, reports)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session

from omnistock import cli as core
from omnistock.care import delivery, report_export, reports, sla_alerts, sla_watch
from omnistock.care.cli_cases import case_app
from omnistock.care.cli_incidents import incident_app
from omnistock.config import get_settings
from omnistock.store.types import utcnow

__all__ = ["care_app", "case_app", "incident_app"]

care_app = typer.Typer(help="The complaint desk's SLA watch, message queue and reports.", no_args_is_help=True)


@care_app.command("scan")
def care_scan(at: Annotated[str | None, typer.Option(help="Scan as of this time (ISO); default now.")] = None) -> None:
    """Refresh SLA clocks and raise escalations now (`serve` and `worker` run this every minute by themselves)."""
    now = utcnow()
    if at is not None:
        try:
            now = datetime.fromisoformat(at)
        except ValueError:
            raise core.fail("--at must be a time such as 2026-11-11T20:00+08:00") from None
        if now.tzinfo is None:
            now = now.replace(tzinfo=get_settings().zone)
    def action(session: Session) -> list[tuple[int, str, str]]:
        found = [(e.case_id, e.clock, e.level) for e in sla_watch.scan(session, now)]
        sla_alerts.settle(session)
        return found
    raised = core.in_transaction(action)
    for case_id, clock, level in raised:
        core.out.print(f"case {case_id}: {clock} {level}")
    core.out.print(f"{len(raised)} escalation(s) raised")


@care_app.command("deliver")
def care_deliver() -> None:
    """Send every queued message (those left by a crash between queueing and sending)."""
    db = core.database()
    try:
        with core.handled():
            sent = delivery.deliver_queued(db, get_settings())
    finally:
        db.dispose()
    core.out.print(f"{sent} message(s) attempted")


@care_app.command("report")
def care_report(period: Annotated[str, typer.Option(help="day or week.")] = "day",
                fmt: Annotated[str, typer.Option("--format", help="json, csv or xlsx.")] = "json",
                out: Annotated[Path | None, typer.Option(help="Write to this file (required for xlsx).")] = None,
                since: Annotated[str | None, typer.Option(help="From (ISO date or time).")] = None,
                until: Annotated[str | None, typer.Option(help="Until, excluded (ISO date or time).")] = None) -> None:
    """Care figures per day or week: response and resolution times, breaches, causes, channels, cost."""
    if fmt not in ("json", "csv", "xlsx"):
        raise core.fail("--format must be json, csv or xlsx")
    zone = get_settings().zone
    default = reports.default_range(utcnow(), zone, period if period in reports.PERIODS else "day")

    def moment(text: str | None, fallback: datetime) -> datetime:
        if text is None:
            return fallback
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise core.fail(f"{text!r} is not a date or time such as 2026-11-01") from None
        return value if value.tzinfo else value.replace(tzinfo=zone)

    def action(session: Session) -> dict[str, Any]:
        rng = reports.ReportRange(moment(since, default.since), moment(until, default.until), period)
        return reports.report(session, core.operator(), rng, zone)
    data = core.in_transaction(action)
    if fmt == "xlsx":
        if out is None:
            raise core.fail("--out FILE is required for xlsx")
        out.write_bytes(report_export.to_xlsx(data))
    else:
        text = report_export.to_csv(data) if fmt == "csv" else json.dumps(data, ensure_ascii=False, indent=2)
        if out is None:
            print(text)
        else:
            out.write_text(text, encoding="utf-8")
    if out is not None:
        core.out.print(f"report written to {out}")
