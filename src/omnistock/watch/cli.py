"""The watch's commands: `omnistock reconcile` and `omnistock trace`; `add_commands` also adds `alert`,
`notifier` and `report weekly` (see `cli_alerts`)."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from openpyxl import Workbook
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import select

from omnistock import cli as core
from omnistock.config import get_settings
from omnistock.errors import Invalid
from omnistock.store.tables import Channel
from omnistock.sync.adapters import has_adapter
from omnistock.watch import reconcile, runs, trace
from omnistock.watch.cli_alerts import alert_app, notifier_app, report_weekly

COLUMNS = ("channel", "sku", "external_id", "kind", "expected", "platform", "last_pushed", "action")
SHOWN = 50


def add_commands(app: typer.Typer, report_app: typer.Typer) -> None:
    app.command("reconcile")(reconcile_command)
    app.command("trace")(trace_command)
    app.add_typer(alert_app, name="alert")
    app.add_typer(notifier_app, name="notifier")
    report_app.command("weekly")(report_weekly)


def _channels(code: str | None) -> list[str]:
    if code:
        return [code]
    with core.handled():
        db = core.database()
        try:
            with db.reading() as session:
                return [c.code for c in session.scalars(select(Channel).where(Channel.enabled.is_(True))
                                                        .order_by(Channel.code)) if has_adapter(c)]
        finally:
            db.dispose()


def _run_one(code: str, heal: bool, bar: Progress) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    settings = get_settings()
    db = core.database()
    try:
        with core.handled():
            with db.transaction() as session:
                run_id = reconcile.start(session, code, core.operator(), trigger="cli", heal=heal or None).id
            task = bar.add_task(f"{code}: reading", total=None)

            def read(n: int) -> None:
                bar.update(task, description=f"{code}: reading", completed=n)

            def compared(n: int, total: int) -> None:
                bar.update(task, description=f"{code}: comparing", completed=n, total=total)
            done = reconcile.execute(db, settings, run_id, progress=reconcile.Progress(read, compared))
            with db.reading() as session:
                diffs, _ = runs.differences(session, run_id, limit=runs.MAX_DIFFERENCES)
        return {"channel": code, "status": done.status, "checked": done.checked, "error": done.error}, \
            [{"channel": code, **d} for d in diffs]
    finally:
        db.dispose()


def reconcile_command(
        channel: Annotated[str | None, typer.Option(help="Only this channel (default: every channel with a platform).")]
        = None,
        heal: Annotated[bool, typer.Option("--heal", help="Push the right value to every drifted listing now.")]
        = False,
        xlsx: Annotated[Path | None, typer.Option(help="Write the differences to this XLSX file.")] = None,
        csv_file: Annotated[Path | None, typer.Option("--csv", help="Write the differences to this CSV file.")]
        = None) -> None:
    """Read every listing's stock back from the platforms and show what differs."""
    results, found = [], []
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=core.err) as bar:
        for code in _channels(channel):
            result, diffs = _run_one(code, heal, bar)
            results.append(result)
            found += diffs
    table = Table(*(c.replace("_", " ").capitalize() for c in COLUMNS))
    for d in found[:SHOWN]:
        table.add_row(*("" if d.get(c) is None else str(d[c]) for c in COLUMNS))
    if found:
        core.out.print(table)
    for r in results:
        tail = f" ({r['error']})" if r["error"] else ""
        core.out.print(f"{r['channel']}: {r['status']}, {r['checked']} listing(s) checked{tail}")
    core.out.print(f"{len(found)} difference(s)" + (f", the first {SHOWN} shown" if len(found) > SHOWN else ""))
    if csv_file:
        with csv_file.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, COLUMNS, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(found)
    if xlsx:
        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.title = "Differences"
        sheet.append(list(COLUMNS))
        for d in found:
            sheet.append([d.get(c) for c in COLUMNS])
        book.save(xlsx)
    if any(r["status"] != "done" for r in results):
        raise core.fail("a reconciliation failed")


def _time(text: str | None, name: str) -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise core.fail(f"--{name} must be a time such as 2026-11-20T10:00+08:00") from None
    return value if value.tzinfo else value.replace(tzinfo=get_settings().zone)


def _describe(event: dict[str, Any]) -> str:
    skip = {"at", "kind", "channel"}
    return ", ".join(f"{k}={v}" for k, v in event.items() if k not in skip and v not in (None, {}, ""))


def trace_command(sku: str,
                  since: Annotated[str | None, typer.Option(help="From (ISO time; default 7 days ago).")] = None,
                  until: Annotated[str | None, typer.Option(help="Until (ISO time; default now).")] = None,
                  at: Annotated[str | None, typer.Option(help="Also show what each platform displayed then.")]
                  = None) -> None:
    """Everything that touched a SKU, as one timeline."""
    zone = get_settings().zone
    start, end, moment = _time(since, "since"), _time(until, "until"), _time(at, "at")

    def action(session: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        out = trace.timeline(session, sku, core.operator(), zone, since=start, until=end)
        shown = trace.displayed_at(session, sku, core.operator(), moment, zone) if moment else []
        return out, shown
    try:
        timeline, shown = core.in_transaction(action)
    except Invalid as exc:
        raise core.fail(exc.message) from None
    table = Table("At", "Kind", "Channel", "What")
    for e in timeline["events"]:
        table.add_row(str(e["at"]), e["kind"], e.get("channel") or "", _describe(e))
    core.out.print(table)
    core.out.print(f"{len(timeline['events'])} event(s) for {timeline['sku']} from {timeline['since']} "
                   f"until {timeline['until']}")
    if timeline.get("batches"):
        held = Table("Batch", "Expiry", "Location", "On hand", "Reserved", "Expired")
        for b in timeline["batches"]:
            held.add_row(b["batch"], b["expiry"] or "", b["location"], str(b["on_hand"]), str(b["reserved"]),
                         "yes" if b["expired"] else "")
        core.out.print("Batches now:")
        core.out.print(held)
    if moment:
        shows = Table("Channel", "Listing", "Shown", "Known from", "Since")
        for row in shown:
            shows.add_row(row["channel"], row["listing"], "" if row["shown"] is None else str(row["shown"]),
                          row["source"] or "", row["since"] or "")
        core.out.print(f"What each platform showed at {moment.isoformat()}:")
        core.out.print(shows)
