"""`omnistock incident ...`: group cases under one cause, act on all of them, and read the review."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from omnistock import cli as core
from omnistock.care import delivery, incident_actions, incidents
from omnistock.care.cli_cases import money_option
from omnistock.care.compensations import CompensationSpec
from omnistock.care.incident_actions import BulkResult
from omnistock.care.messages import ReplySpec
from omnistock.care.reports import incident_review
from omnistock.care.views import bulk_view, incident_view
from omnistock.config import get_settings

incident_app = typer.Typer(help="Incidents: one cause, many cases; bulk actions and the review.",
                           no_args_is_help=True)
IdArg = Annotated[int, typer.Argument(help="Incident id.")]


def _when(text: str | None, name: str) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise core.fail(f"{name} must be a time such as 2026-11-11T20:00") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=get_settings().zone)


def _summary(result: BulkResult, verb: str) -> None:
    view = bulk_view(result)
    core.out.print(f"{verb} {len(view['done'])} of {view['cases']} case(s); already done: {len(view['already'])}; "
                   f"skipped: {len(view['skipped'])}")
    for skipped in view["skipped"]:
        core.out.print(f"  case {skipped['case_id']}: {skipped['reason']}", highlight=False)


@incident_app.command("open")
def incident_open(title: Annotated[str, typer.Option(help="e.g. \"JD oversell of TEA-001, 11.11 evening\".")],
                  cause: Annotated[str | None, typer.Option(help="The root cause, as known so far.")] = None,
                  channel: Annotated[str | None, typer.Option(help="Channel code.")] = None,
                  sku: Annotated[list[str] | None, typer.Option(help="SKU concerned (repeatable).")] = None,
                  started_at: Annotated[str | None, typer.Option(help="When it started (ISO time).")] = None,
                  ended_at: Annotated[str | None, typer.Option(help="When it ended (ISO time).")] = None,
                  case: Annotated[list[int] | None, typer.Option(help="Case id to group (repeatable).")] = None,
                  ) -> None:
    """Open an incident, optionally grouping cases at once."""
    spec = incidents.IncidentSpec(title=title, cause=cause, channel=channel, skus=tuple(sku or ()),
                                  started_at=_when(started_at, "started_at"), ended_at=_when(ended_at, "ended_at"))

    def action(session: Session) -> int:
        incident = incidents.open_incident(session, spec, core.operator())
        if case:
            incidents.attach_cases(session, incident.id, case, core.operator())
        return incident.id
    core.out.print(f"opened incident {core.in_transaction(action)}")


@incident_app.command("list")
def incident_list(status: Annotated[str | None, typer.Option(help="open or resolved.")] = None) -> None:
    """List incidents, newest first."""
    zone = get_settings().zone

    def action(session: Session) -> list[dict[str, Any]]:
        page = incidents.list_incidents(session, core.operator(), status=status, limit=200)
        return [incident_view(i, zone, len(incidents.cases_of(session, i, core.operator()))) for i in page.items]
    table = Table("Id", "Status", "Title", "Channel", "Cases", "Opened")
    for i in core.in_transaction(action):
        table.add_row(str(i["id"]), i["status"], i["title"], i["channel"] or "", str(i["cases"]), i["created_at"])
    core.out.print(table)


@incident_app.command("attach")
def incident_attach(incident_id: IdArg, case_ids: Annotated[list[int], typer.Argument(help="Case ids.")]) -> None:
    """Group cases under the incident."""
    core.in_transaction(lambda s: incidents.attach_cases(s, incident_id, case_ids, core.operator()))
    core.out.print(f"incident {incident_id}: {len(case_ids)} case(s) attached")


@incident_app.command("message")
def incident_message(incident_id: IdArg,
                     template: Annotated[str | None, typer.Option(help="Template key, e.g. incident_update.")]
                     = None, body: Annotated[str | None, typer.Option(help="Text instead of a template.")] = None,
                     channel: Annotated[str, typer.Option(help="auto, email, sms, chat or manual.")] = "auto") -> None:
    """Write to the customer of every case (safe to run again: reached cases are skipped)."""
    settings = get_settings()
    spec = ReplySpec(body=body, template=template, channel=channel)
    result = core.in_transaction(lambda s: incident_actions.message_all(s, incident_id, core.operator(), spec,
                                                                         settings))
    db = core.database()
    try:
        outcomes = [delivery.deliver(db, settings, mid) for mid in result.message_ids]
    finally:
        db.dispose()
    _summary(result, "wrote to")
    failed = sum(1 for r in outcomes if r is not None and not r.ok)
    if failed:
        raise core.fail(f"{failed} message(s) not delivered; see `omnistock case show`")


@incident_app.command("compensate")
def incident_compensate(incident_id: IdArg,
                        kind: Annotated[str, typer.Option(help="standard, coupon, partial_refund, full_refund, "
                                                               "reship or gift.")] = "standard",
                        amount: Annotated[str | None, typer.Option(help="Amount, e.g. 20.")] = None,
                        percent: Annotated[str | None, typer.Option(help="Share of each order, e.g. 10.")] = None,
                        note: Annotated[str | None, typer.Option(help="Why.")] = None) -> None:
    """One compensation on every case (applied once per case, however often it is run)."""
    spec = CompensationSpec(kind=kind, amount=money_option(amount, "amount"), percent=money_option(percent, "percent"),
                            note=note)
    result = core.in_transaction(lambda s: incident_actions.compensate_all(s, incident_id, core.operator(), spec,
                                                                            get_settings()))
    _summary(result, "compensated")


@incident_app.command("resolve")
def incident_resolve(incident_id: IdArg,
                     fix: Annotated[str | None, typer.Option(help="What fixed it (required once).")] = None) -> None:
    """Record the fix and resolve every open case of the incident."""
    result = core.in_transaction(lambda s: incident_actions.resolve_all(s, incident_id, core.operator(), fix=fix))
    _summary(result, "resolved")


@incident_app.command("show")
def incident_show(incident_id: IdArg) -> None:
    """The incident's review: cause, fix, timeline, times, breaches and cost (as JSON)."""
    review = core.in_transaction(lambda s: incident_review(s, incident_id, core.operator(), get_settings().zone))
    core.out.print_json(json.dumps(review, ensure_ascii=False))


incident_app.command("review", help="Same as show: the review report as JSON.")(incident_show)
