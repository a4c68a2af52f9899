"""`omnistock alert list|ack`, `omnistock notifier add|list|test` and `omnistock report weekly`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from omnistock import cli as core
from omnistock.config import get_settings
from omnistock.store.types import utcnow
from omnistock.watch import alerts, notify, report_job, report_render
from omnistock.watch.report_figures import FIGURES, Week, rows_of
from omnistock.watch.tables import Notifier

alert_app = typer.Typer(help="Alerts: what needs a person's attention.", no_args_is_help=True)
notifier_app = typer.Typer(help="Where alerts and reports are sent (webhook, DingTalk, WeCom, Feishu, Slack, "
                                "e-mail).", no_args_is_help=True)


@alert_app.command("list")
def alert_list(status: Annotated[str | None, typer.Option(help="open, acknowledged or resolved.")] = "open",
               kind: Annotated[str | None, typer.Option(help="Only this kind.")] = None,
               limit: int = 100) -> None:
    """List alerts, newest first."""
    zone = get_settings().zone

    def action(session: Session) -> tuple[list[dict[str, Any]], int]:
        page = alerts.list_alerts(session, core.operator(), status=status, kind=kind, limit=limit)
        names = alerts.Names.of(session, page.items)
        return [alerts.alert_view(a, names, zone) for a in page.items], page.total
    items, total = core.in_transaction(action)
    table = Table("Id", "Kind", "Severity", "Channel", "SKU", "Message", "Status", "Since")
    for a in items:
        table.add_row(str(a["id"]), a["kind"], a["severity"], a["channel"] or "", a["sku"] or "", a["message"],
                      a["status"], str(a["created_at"]))
    core.out.print(table)
    core.out.print(f"{len(items)} of {total}")


@alert_app.command("ack")
def alert_ack(alert_id: int, note: Annotated[str | None, typer.Option(help="What is being done.")] = None) -> None:
    """Acknowledge an alert: someone is on it (an oversell alert is closed by this)."""
    status = core.in_transaction(lambda s: alerts.acknowledge(s, alert_id, core.operator(), note).status)
    core.out.print(f"alert {alert_id} {status}")


def _pairs(values: list[str] | None, what: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for value in values or []:
        key, sep, raw = value.partition("=")
        if not sep:
            raise core.fail(f"{what} {value!r} must look like key=value")
        try:
            out[key.strip()] = json.loads(raw)
        except ValueError:
            out[key.strip()] = raw
    return out


@notifier_app.command("add")
def notifier_add(code: str, kind: str,
                 setting: Annotated[list[str] | None, typer.Option(help="key=value, e.g. url=https://... "
                                                                   "(repeatable; JSON values allowed).")] = None,
                 alert_kind: Annotated[list[str] | None, typer.Option(help="Only these alert kinds (repeatable; "
                                                                      "`report` for the weekly report).")] = None,
                 channel: Annotated[list[str] | None, typer.Option(help="Only these channels (repeatable).")] = None,
                 location: Annotated[list[str] | None, typer.Option(help="Only these locations (repeatable).")]
                 = None) -> None:
    """Add a notifier."""
    routes = {k: v for k, v in (("kinds", alert_kind), ("channels", channel), ("locations", location)) if v}
    config = get_settings()
    core.in_transaction(lambda s: notify.create_notifier(s, config, core.operator(), code=code, kind=kind,
                                                         settings=_pairs(setting, "--setting"), routes=routes or None))
    core.out.print(f"added notifier {code} ({kind})")


@notifier_app.command("list")
def notifier_list() -> None:
    """List notifiers (secrets masked)."""
    rows = core.in_transaction(lambda s: [notify.notifier_view(n) for n in s.scalars(select(Notifier)
                                                                                     .order_by(Notifier.code))])
    table = Table("Code", "Kind", "Enabled", "Routes", "Settings")
    for n in rows:
        table.add_row(n["code"], n["kind"], str(n["enabled"]), json.dumps(n["routes"] or {}, ensure_ascii=False),
                      json.dumps(n["settings"], ensure_ascii=False))
    core.out.print(table)


@notifier_app.command("test")
def notifier_test(code: str) -> None:
    """Queue a test message (sent by the running `serve` or `worker`)."""
    core.in_transaction(lambda s: notify.enqueue_other(s, notify.notifier_by_code(s, code), "omnistock test message",
                                                       {"event": "test", "message": f"omnistock: test to {code}"}))
    core.out.print(f"test message queued for {code}")


def report_weekly(week: Annotated[str | None, typer.Option(help="ISO week, e.g. 2026-W47 (default: last week).")]
                  = None,
                  out: Annotated[Path, typer.Option(help="Directory for the HTML page and the XLSX workbook.")]
                  = Path("."),
                  send: Annotated[bool, typer.Option("--send", help="Also send it to the notifiers routed for "
                                                     "reports.")] = False) -> None:
    """The weekly sync report: figures per channel against the week before, as HTML (with charts) and XLSX."""
    settings = get_settings()
    with core.handled():
        which = Week.parse(week, settings.zone) if week else Week.last_complete(utcnow(), settings.zone)
        db = core.database()
        try:
            figures = report_job.produce(db, settings, which, deliver=send)
        finally:
            db.dispose()
    out.mkdir(parents=True, exist_ok=True)
    page, book = out / f"omnistock-sync-{which.label}.html", out / f"omnistock-sync-{which.label}.xlsx"
    page.write_text(report_render.html(figures), encoding="utf-8")
    book.write_bytes(report_render.xlsx(figures))
    scopes = list(rows_of(figures))
    table = Table("Figure", *(name for name, _ in scopes))
    for key in FIGURES:
        table.add_row(report_render.LABELS[key], *(f"{_fmt(s[key])} ({_fmt(s['previous'][key])})" for _, s in scopes))
    core.out.print(f"Weekly sync report {which.label} (the week before in brackets)")
    core.out.print(table)
    core.out.print(f"wrote {page} and {book}")


def _fmt(value: Any) -> str:
    return "–" if value is None else f"{value:g}" if isinstance(value, float) else str(value)
