"""Messages on a case: replies and drafts to the customer (written from a template or by hand), and what
the customer wrote. A reply through a sender is queued here and sent by care.delivery after the commit,
so no network call ever runs inside a database transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from omnistock.care import clock, senders
from omnistock.care.cases import get_case, record
from omnistock.care.flow import Status
from omnistock.care.handling import change_status
from omnistock.care.tables import CareCase, CareMessage
from omnistock.care.templates import check_syntax, find_template, render, variables_for
from omnistock.config import Settings
from omnistock.domain.access import Principal
from omnistock.errors import Conflict, Invalid, NotFound
from omnistock.store.types import utcnow

CHANNELS = ("auto", "email", "sms", "chat", "manual")


@dataclass(frozen=True)
class ReplySpec:
    """A message to the customer: `body` by hand, or `template` filled with the case's variables.
    channel "manual" records a reply the agent made elsewhere (phone, the platform's own chat)."""

    body: str | None = None
    template: str | None = None
    subject: str | None = None
    channel: str = "auto"
    wait: bool = False  # then wait on the customer (the SLA clocks pause)
    compensation: str | None = None  # text for the {{ compensation }} variable


@dataclass(frozen=True)
class Written:
    subject: str
    body: str
    template: str | None


def write(session: Session, case: CareCase, spec: ReplySpec, *, incident: str | None = None) -> Written:
    """The subject and text of a message, from the template or the body given."""
    if spec.template:
        tpl = find_template(session, spec.template, case.locale)
        variables = variables_for(case, compensation=spec.compensation, incident=incident)
        body = render(spec.body or tpl.body, variables, field="body" if spec.body else "template")
        subject = render(spec.subject or tpl.subject, variables, field="subject")
        return Written(subject, body, spec.template)
    if not spec.body or not spec.body.strip():
        raise Invalid("give a body or a template", field="body")
    check_syntax(spec.body, field="body")
    variables = variables_for(case, compensation=spec.compensation, incident=incident)
    body = render(spec.body, variables, field="body")
    subject = render(spec.subject, variables, field="subject") if spec.subject else case.subject
    return Written(subject, body, None)


def pick_channel(session: Session, settings: Settings, case: CareCase, wanted: str) -> str:
    """The channel to send on: `wanted`, checked against the case's contact and the senders set up;
    "auto" takes e-mail, then SMS, then platform chat, whichever can reach the customer."""
    if wanted not in CHANNELS:
        raise Invalid(f"channel must be one of {', '.join(CHANNELS)}", field="channel")
    if wanted == "manual":
        return wanted
    ready = senders.configured(session, settings)
    reach = {"email": bool(case.customer_email), "sms": bool(case.customer_phone),
             "chat": bool(case.channel and case.external_order_id)}
    if wanted == "auto":
        for channel in ("email", "sms", "chat"):
            if channel in ready and reach[channel]:
                return channel
        raise Invalid("no sender set up can reach this customer (set up e-mail, SMS or chat, or use manual)",
                      field="channel")
    if wanted not in ready:
        raise Invalid(f"no {wanted} sender is set up (see /api/v1/care/senders)", field="channel")
    if not reach[wanted]:
        raise Invalid(f"the customer has no contact for {wanted}", field="channel")
    return wanted


def mark_responded(session: Session, case: CareCase, at: datetime) -> None:
    """The customer got an answer: the first one stops the first-response clock."""
    if case.first_response_at is None:
        case.first_response_at = at
        clock.refresh(session, case, at)


def reply(session: Session, case_id: int, principal: Principal, spec: ReplySpec, settings: Settings,
          *, now: datetime | None = None, dedup_key: str | None = None, case: CareCase | None = None) -> CareMessage:
    """Write to the customer. Returns the message: queued for a sender, or recorded for "manual"."""
    now = now or utcnow()
    case = case or get_case(session, case_id, principal, lock=True)
    written = write(session, case, spec)
    channel = pick_channel(session, settings, case, spec.channel)
    manual = channel == "manual"
    message = CareMessage(case_id=case.id, kind="outbound", channel=channel,
                          status="recorded" if manual else "queued", subject=written.subject, body=written.body,
                          locale=case.locale, template=written.template, author=principal.name, created_at=now,
                          sent_at=now if manual else None, dedup_key=dedup_key)
    session.add(message)
    session.flush()
    record(session, case, "message_recorded" if manual else "message_queued", principal.name,
           {"message_id": message.id, "channel": channel}, at=now)
    if manual:
        mark_responded(session, case, now)
    _after_reply(session, case, principal.name, spec.wait, now)
    return message


def _after_reply(session: Session, case: CareCase, actor: str, wait: bool, now: datetime) -> None:
    status = Status(case.status)
    if wait and status is not Status.WAITING and status in (Status.NEW, Status.OPEN):
        change_status(session, case, Status.WAITING, actor, now=now)
    elif status is Status.NEW:
        change_status(session, case, Status.OPEN, actor, now=now)


def draft(session: Session, case: CareCase, template: str, actor: str, *, compensation: str | None = None,
          now: datetime | None = None) -> CareMessage:
    """A message written from a template for an agent to check and send."""
    now = now or utcnow()
    written = write(session, case, ReplySpec(template=template, compensation=compensation))
    message = CareMessage(case_id=case.id, kind="outbound", channel=None, status="draft", subject=written.subject,
                          body=written.body, locale=case.locale, template=template, author=actor, created_at=now)
    session.add(message)
    session.flush()
    record(session, case, "message_drafted", actor, {"message_id": message.id, "template": template}, at=now)
    return message


def _own_message(session: Session, case: CareCase, message_id: int) -> CareMessage:
    message = session.get(CareMessage, message_id)
    if message is None or message.case_id != case.id:
        raise NotFound(f"case {case.id} has no message {message_id}", field="message_id")
    return message


def send_draft(session: Session, case_id: int, message_id: int, principal: Principal, settings: Settings,
               *, channel: str = "auto", body: str | None = None, subject: str | None = None,
               now: datetime | None = None) -> CareMessage:
    """Send a draft (optionally edited), or retry a message that failed."""
    now = now or utcnow()
    case = get_case(session, case_id, principal, lock=True)
    message = _own_message(session, case, message_id)
    if message.kind != "outbound" or message.status not in ("draft", "failed"):
        raise Conflict(f"message {message_id} is {message.status}; only a draft or a failed message is sent",
                       field="message_id")
    picked = pick_channel(session, settings, case, channel)
    if body is not None:
        if not body.strip():
            raise Invalid("body cannot be empty", field="body")
        message.body = body.strip()
    if subject is not None:
        message.subject = subject
    message.channel, message.author = picked, principal.name
    if picked == "manual":
        message.status, message.sent_at = "recorded", now
        mark_responded(session, case, now)
    else:
        message.status = "queued"
    record(session, case, "message_recorded" if picked == "manual" else "message_queued", principal.name,
           {"message_id": message.id, "channel": picked}, at=now)
    _after_reply(session, case, principal.name, False, now)
    return message


def customer_wrote(session: Session, case_id: int, principal: Principal, body: str, *,
                   channel: str | None = None, now: datetime | None = None) -> CareMessage:
    """Record what the customer wrote; a case waiting on the customer is theirs to answer again."""
    if not body.strip():
        raise Invalid("a message cannot be empty", field="body")
    now = now or utcnow()
    case = get_case(session, case_id, principal, lock=True)
    message = CareMessage(case_id=case.id, kind="inbound", channel=channel, status="received", body=body.strip(),
                          author=case.customer_name or "customer", created_at=now)
    session.add(message)
    session.flush()
    record(session, case, "customer_wrote", principal.name, {"message_id": message.id}, at=now)
    if Status(case.status) is Status.WAITING:
        change_status(session, case, Status.OPEN, principal.name, note="the customer answered", now=now)
    case.updated_at = now
    return message
