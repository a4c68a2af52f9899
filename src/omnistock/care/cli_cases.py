"""`omnistock case ...`: intake, reading and working cases from the command line (as an admin)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from omnistock import cli as core  # the core CLI's error handling and output (read at call time)
from omnistock.care import compensations, delivery, handling, messages
from omnistock.care.cases import CaseFilter, CaseSpec, Customer, Defaults, get_case, list_cases, open_case
from omnistock.care.tables import CareMessage
from omnistock.care.views import case_detail, case_view
from omnistock.config import get_settings

case_app = typer.Typer(help="Complaint cases: intake, replies, resolution.", no_args_is_help=True)
IdArg = Annotated[int, typer.Argument(help="Case id.")]
NoteOpt = Annotated[str | None, typer.Option(help="Why (kept in the case history).")]


def _render(case: dict[str, Any]) -> None:
    core.out.print(f"[bold]case {case['id']}[/bold] {case['subject']}")
    for label, key in (("status", "status"), ("category", "category"), ("priority", "priority"),
                       ("source", "source"), ("order", "external_order_id"), ("channel", "channel"),
                       ("assignee", "assignee"), ("incident", "incident_id"), ("created", "created_at"),
                       ("first response due", "first_response_due"), ("resolution due", "resolution_due")):
        core.out.print(f"  {label}: {case.get(key)}", highlight=False)
    who = case["customer"]
    core.out.print(f"  customer: {who['name']} {who['phone'] or ''} {who['email'] or ''}", highlight=False)
    core.out.print(f"  sla: first response {case['sla']['first_response']}, resolution {case['sla']['resolution']}")
    for m in case.get("messages", []):
        core.out.print(f"  [{m['kind']} {m['status']} #{m['id']}] {m['subject'] or ''}: {m['body'][:200]}",
                       highlight=False)
    for n in case.get("notes", []):
        core.out.print(f"  [note] {n['author']}: {n['body'][:200]}", highlight=False)
    for e in case.get("escalations", []):
        core.out.print(f"  [escalation] {e['clock']} {e['level']} (due {e['due']})")


def _show(session: Session, case_id: int) -> dict[str, Any]:
    session.flush()
    return case_detail(session, get_case(session, case_id, core.operator()), get_settings().zone)


@case_app.command("list")
def case_list(status: Annotated[str | None, typer.Option(help="new, open, waiting_on_customer, resolved, closed.")]
              = None, category: str | None = None, order_id: int | None = None,
              incident: Annotated[int | None, typer.Option(help="Incident id.")] = None,
              assignee: str | None = None, limit: int = 50) -> None:
    """List cases, newest first."""
    filters = CaseFilter(order_id=order_id, status=status, category=category, incident_id=incident, assignee=assignee)
    zone = get_settings().zone

    def action(session: Session) -> tuple[list[dict[str, Any]], int]:
        page = list_cases(session, core.operator(), filters, limit=limit)
        return [case_view(c, zone) for c in page.items], page.total
    items, total = core.in_transaction(action)
    table = Table("Id", "Status", "Priority", "Category", "Source", "Order", "Subject", "First response due")
    for c in items:
        table.add_row(str(c["id"]), c["status"], c["priority"], c["category"], c["source"],
                      c["external_order_id"] or "", c["subject"], c["first_response_due"] or "")
    core.out.print(table)
    core.out.print(f"{len(items)} of {total}")


@case_app.command("show")
def case_show(case_id: IdArg) -> None:
    """A case with its messages, notes and escalations."""
    _render(core.in_transaction(lambda s: _show(s, case_id)))


@case_app.command("open")
def case_open(category: Annotated[str, typer.Option(help="out_of_stock, late_shipment, wrong_quantity, other...")],
              subject: Annotated[str, typer.Option(help="One line saying what is wrong.")],
              priority: str = "normal",
              order_id: Annotated[int | None, typer.Option(help="omnistock order id.")] = None,
              channel: Annotated[str | None, typer.Option(help="Channel code (with --order).")] = None,
              order: Annotated[str | None, typer.Option(help="The platform's order id.")] = None,
              description: Annotated[str | None, typer.Option(help="What the customer said.")] = None,
              customer_name: str | None = None, customer_phone: str | None = None,
              customer_email: str | None = None) -> None:
    """Open a case (a customer called or wrote)."""
    spec = CaseSpec(category=category, subject=subject, priority=priority, order_id=order_id, channel=channel,
                    external_order_id=order, description=description,
                    customer=Customer(customer_name, customer_phone, customer_email))
    case = core.in_transaction(lambda s: _show(s, open_case(s, spec, core.operator(),
                                                            Defaults.of(get_settings())).id))
    core.out.print(f"opened case {case['id']}")


def _deliver(message: CareMessage) -> None:
    if message.status == "queued":
        db = core.database()
        try:
            result = delivery.deliver(db, get_settings(), message.id)
        finally:
            db.dispose()
        if result is not None and not result.ok:
            raise core.fail(f"message {message.id} not delivered: {result.detail}")
        core.out.print(f"message {message.id} sent")
    else:
        core.out.print(f"message {message.id} recorded")


@case_app.command("reply")
def case_reply(case_id: IdArg,
               body: Annotated[str | None, typer.Option(help="The text ({{ customer_name }} etc. are filled).")]
               = None, template: Annotated[str | None, typer.Option(help="A template key instead of a body.")]
               = None, channel: Annotated[str, typer.Option(help="auto, email, sms, chat or manual.")] = "auto",
               wait: Annotated[bool, typer.Option(help="Then wait on the customer (pauses the SLA).")] = False) -> None:
    """Write to the customer (sent through the channel's sender, or recorded with --channel manual)."""
    settings = get_settings()
    spec = messages.ReplySpec(body=body, template=template, channel=channel, wait=wait)
    message = core.in_transaction(lambda s: messages.reply(s, case_id, core.operator(), spec, settings))
    _deliver(message)


@case_app.command("send")
def case_send(case_id: IdArg, message_id: int,
              channel: Annotated[str, typer.Option(help="auto, email, sms, chat or manual.")] = "auto") -> None:
    """Send a draft (e.g. the proactive first message) or retry a failed one."""
    settings = get_settings()
    message = core.in_transaction(lambda s: messages.send_draft(s, case_id, message_id, core.operator(), settings,
                                                                channel=channel))
    _deliver(message)


@case_app.command("note")
def case_note(case_id: IdArg, body: str) -> None:
    """Add an internal note (never shown to the customer)."""
    core.in_transaction(lambda s: handling.add_note(s, case_id, core.operator(), body))
    core.out.print("note added")


@case_app.command("assign")
def case_assign(case_id: IdArg, assignee: Annotated[str, typer.Argument(help="Who handles it (\"\" unassigns).")]) \
        -> None:
    """Assign the case (a new case becomes open)."""
    core.in_transaction(lambda s: handling.update_case(s, case_id, core.operator(), handling.CasePatch(
        assignee=assignee)))
    core.out.print(f"case {case_id} assigned to {assignee or 'nobody'}")


def _set(case_id: int, status: str, note: str | None) -> None:
    def action(session: Session) -> str:
        if status == "reopen":
            return handling.reopen(session, case_id, core.operator(), note=note).status
        return handling.set_status(session, case_id, core.operator(), status, note=note).status
    case = core.in_transaction(action)
    core.out.print(f"case {case_id} is {case}")


@case_app.command("status")
def case_status(case_id: IdArg, status: str, note: NoteOpt = None) -> None:
    """Move the case: open, waiting_on_customer, resolved, closed."""
    _set(case_id, status, note)


@case_app.command("resolve")
def case_resolve(case_id: IdArg, note: NoteOpt = None) -> None:
    """Resolve the case (it can be reopened)."""
    _set(case_id, "resolved", note)


@case_app.command("reopen")
def case_reopen(case_id: IdArg, note: NoteOpt = None) -> None:
    """Reopen a resolved or closed case (a new resolution clock starts)."""
    _set(case_id, "reopen", note)


@case_app.command("compensate")
def case_compensate(case_id: IdArg,
                    kind: Annotated[str, typer.Option(help="standard (from the table), coupon, partial_refund, "
                                                           "full_refund, reship or gift.")] = "standard",
                    amount: Annotated[str | None, typer.Option(help="Amount, e.g. 20 or 12.50.")] = None,
                    percent: Annotated[str | None, typer.Option(help="Share of the order, e.g. 10.")] = None,
                    goods_cost: Annotated[str | None, typer.Option(help="Cost of goods sent again (reship).")]
                    = None, note: NoteOpt = None) -> None:
    """Grant a compensation (above your limit it waits for approval)."""
    spec = compensations.CompensationSpec(kind=kind, amount=money_option(amount, "amount"),
                                          percent=money_option(percent, "percent"),
                                          goods_cost=money_option(goods_cost, "goods_cost"), note=note)
    row, _ = core.in_transaction(lambda s: compensations.grant_on_case(s, case_id, core.operator(), spec,
                                                                       get_settings()))
    core.out.print(f"compensation {row.id}: {row.kind} {row.amount} {row.currency}, cost {row.cost} ({row.status})")


def money_option(text: str | None, name: str) -> Decimal | None:
    if text is None:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        raise core.fail(f"{name} must be a number such as 12.50") from None
