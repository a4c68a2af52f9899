"""Sending queued messages: claim one (so two workers never send it twice), send it outside any
transaction, then record the attempt and its result. The first message that reaches the customer
stops the first-response clock."""

from __future__ import annotations

import logging

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from omnistock.care import senders
from omnistock.care.cases import record
from omnistock.care.messages import mark_responded
from omnistock.care.outreach import Outbound, SendResult
from omnistock.care.tables import CareCase, CareDelivery, CareMessage
from omnistock.config import Settings
from omnistock.store.db import Database
from omnistock.store.types import utcnow

log = logging.getLogger("omnistock.care")


def _claim(session: Session, message_id: int) -> Outbound | None:
    claimed = session.execute(update(CareMessage).where(CareMessage.id == message_id,
                                                        CareMessage.status == "queued")
                              .values(status="sending"))
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    message = session.get(CareMessage, message_id)
    assert message is not None and message.channel is not None
    case = session.get(CareCase, message.case_id)
    assert case is not None
    return Outbound(message_id=message.id, case_id=case.id, channel=message.channel,
                    subject=message.subject or case.subject, text=message.body, locale=message.locale or case.locale,
                    name=case.customer_name, email=case.customer_email, phone=case.customer_phone,
                    platform=case.channel, order=case.external_order_id)


def deliver(db: Database, settings: Settings, message_id: int) -> SendResult | None:
    """Send one queued message and record the result; None when it was not queued (sent by another)."""
    with db.transaction() as session:
        outbound = _claim(session, message_id)
        sender = senders.sender_for(session, settings, outbound.channel) if outbound else None
    if outbound is None:
        return None
    if sender is None:
        result = SendResult(False, f"no {outbound.channel} sender is set up")
    else:
        result = sender.send(outbound)
    if not result.ok:
        log.warning("message %s to case %s not delivered: %s", message_id, outbound.case_id, result.detail)
    with db.transaction() as session:
        _record(session, outbound, result)
    return result


def _record(session: Session, outbound: Outbound, result: SendResult) -> None:
    now = utcnow()
    session.add(CareDelivery(message_id=outbound.message_id, channel=outbound.channel,
                             recipient=outbound.recipient[:300], at=now, ok=result.ok,
                             status_code=result.status_code, detail=result.detail[:2000]))
    message = session.get(CareMessage, outbound.message_id)
    case = session.get(CareCase, outbound.case_id)
    assert message is not None and case is not None
    message.status = "sent" if result.ok else "failed"
    if result.ok:
        message.sent_at = now
        mark_responded(session, case, now)
    record(session, case, "message_sent" if result.ok else "message_failed", "system",
           {"message_id": message.id, "channel": outbound.channel, "detail": result.detail[:300]}, at=now)


def deliver_queued(db: Database, settings: Settings, *, limit: int = 200) -> int:
    """Send every queued message (after a crash, or when a worker runs the queue); returns how many."""
    with db.reading() as session:
        ids = list(session.scalars(select(CareMessage.id).where(CareMessage.status == "queued")
                                   .order_by(CareMessage.id).limit(limit)))
    return sum(1 for mid in ids if deliver(db, settings, mid) is not None)
