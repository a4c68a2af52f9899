"""The background sender: takes queued notifications, groups alerts for chat robots and e-mail so that a burst
stays within a robot's messages per minute (grouped, never dropped), sends, and retries failures with backoff.
Safe in several processes: rows are claimed with a lease (SKIP LOCKED on PostgreSQL) before anything is sent."""

from __future__ import annotations

import logging
import smtplib
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from omnistock.config import Settings
from omnistock.errors import OmnistockError
from omnistock.services import secrets
from omnistock.store.db import Database
from omnistock.store.types import utcnow
from omnistock.watch import mail, wire
from omnistock.watch.alerts import Names, alert_view
from omnistock.watch.tables import Alert, Notification, Notifier
from omnistock.watch.urlguard import check_url

log = logging.getLogger("omnistock.watch")
MAX_ATTEMPTS = 8
LEASE = timedelta(seconds=60)
GROUP = 20  # alerts in one chat message or e-mail at most
CHAT = ("dingtalk", "wecom", "feishu", "slack")


@dataclass
class Job:
    """One message to send: one or several notifications of one notifier."""

    notifier: str
    kind: str
    settings: dict[str, Any]
    ids: list[int]
    alerts: list[dict[str, Any]] = field(default_factory=list)
    other: dict[str, Any] | None = None  # a report or test payload
    subject: str = ""


@dataclass(frozen=True)
class Outcome:
    ids: list[int]
    ok: bool
    error: str | None = None


def _budget(session: Session, notifier: Notifier, now: datetime) -> int:
    """Messages this notifier may still take in the current minute (chat robots and e-mail)."""
    if notifier.kind not in (*CHAT, "email"):
        return 10_000
    sent = session.scalar(select(func.count(func.distinct(Notification.batch))).where(
        Notification.notifier_id == notifier.id, Notification.sent_at >= now - timedelta(minutes=1))) or 0
    return int(notifier.settings.get("per_minute", 20)) - int(sent)


def claim(session: Session, config: Settings, now: datetime, limit: int = 500) -> list[Job]:
    rows = list(session.scalars(
        select(Notification).where(Notification.status == "pending", Notification.next_attempt_at <= now,
                                   or_(Notification.claimed_until.is_(None), Notification.claimed_until < now))
        .order_by(Notification.id).limit(limit).with_for_update(skip_locked=True)))
    if not rows:
        return []
    by_notifier: dict[int, list[Notification]] = defaultdict(list)
    for row in rows:
        by_notifier[row.notifier_id].append(row)
    notifiers = {n.id: n for n in session.scalars(select(Notifier).where(Notifier.id.in_(by_notifier)))}
    alert_ids = {r.alert_id for r in rows if r.alert_id}
    alerts = {a.id: a for a in session.scalars(select(Alert).where(Alert.id.in_(alert_ids)))} if alert_ids else {}
    names = Names.of(session, alerts.values())
    jobs: list[Job] = []
    for nid, queued in by_notifier.items():
        notifier = notifiers[nid]
        budget = _budget(session, notifier, now)
        if budget <= 0:
            continue  # over the robot's limit this minute: the queue grows and goes out grouped later
        values = secrets.unseal(config, notifier.settings)
        jobs += _jobs(notifier, values, queued, alerts, names, config, budget)
    taken = {i for job in jobs for i in job.ids}
    for row in rows:
        if row.id in taken:
            row.claimed_until = now + LEASE
    return jobs


def _jobs(notifier: Notifier, values: dict[str, Any], queued: Sequence[Notification], alerts: dict[int, Alert],
          names: Names, config: Settings, budget: int) -> list[Job]:
    out: list[Job] = []
    grouped = notifier.kind in (*CHAT, "email")
    pending_alerts: list[tuple[int, dict[str, Any]]] = []
    for row in queued:
        alert = alerts.get(row.alert_id) if row.alert_id else None
        if alert is None:
            out.append(Job(notifier.code, notifier.kind, values, [row.id], other=row.payload, subject=row.subject))
        elif grouped:
            pending_alerts.append((row.id, alert_view(alert, names, config.zone)))
        else:
            out.append(Job(notifier.code, notifier.kind, values, [row.id], [alert_view(alert, names, config.zone)],
                           subject=row.subject))
    for start in range(0, len(pending_alerts), GROUP):
        chunk = pending_alerts[start:start + GROUP]
        out.append(Job(notifier.code, notifier.kind, values, [i for i, _ in chunk], [v for _, v in chunk],
                       subject=f"omnistock: {len(chunk)} alert(s)"))
    return out[:budget]


def deliver(job: Job, config: Settings, client: httpx.Client) -> Outcome:
    """Send one message; never raises for a failed delivery (the outcome says why)."""
    try:
        if job.kind == "email":
            _email(job, config)
        else:
            request = _request(job, config)
            check_url(request.url, config.notify_allow_private)
            response = client.post(request.url, content=request.body, headers=request.headers)
            ok, why = (200 <= response.status_code < 300, f"HTTP {response.status_code}") if job.kind == "webhook" \
                else wire.robot_answer_ok(job.kind, response.status_code, response.text)
            if not ok:
                return Outcome(job.ids, False, why)
        return Outcome(job.ids, True)
    except (httpx.HTTPError, OSError, smtplib.SMTPException, OmnistockError) as exc:
        return Outcome(job.ids, False, f"{type(exc).__name__}: {exc}")


def _text(job: Job) -> tuple[str, str]:
    if job.alerts:
        return wire.alerts_markdown(job.alerts)
    other = job.other or {}
    return job.subject, str(other.get("markdown") or other.get("message") or job.subject)


def _request(job: Job, config: Settings) -> wire.Request:
    s = job.settings
    if job.kind == "webhook":
        payload = job.alerts[0] if job.alerts else (job.other or {})
        event = "alert" if job.alerts else str((job.other or {}).get("event", "message"))
        return wire.webhook(s["url"], payload, s.get("secret"), event)
    title, text = _text(job)
    if job.kind == "dingtalk":
        return wire.dingtalk(s["url"], title, text, s.get("secret"), int(time.time() * 1000))
    if job.kind == "wecom":
        return wire.wecom(s["url"], text)
    if job.kind == "feishu":
        return wire.feishu(s["url"], wire.plain(text), s.get("secret"), int(time.time()))
    return wire.slack(s["url"], text.replace("**", "*"))


def _email(job: Job, config: Settings) -> None:
    title, text = _text(job)
    figures = (job.other or {}).get("figures")
    if not figures:
        mail.send(job.settings, config, mail.compose(job.settings, config, title, wire.plain(text)))
        return
    from omnistock.watch.report_render import email_parts  # matplotlib: loaded only to send a report

    parts = email_parts(figures)
    mail.send(job.settings, config, mail.compose(job.settings, config, title, wire.plain(text), parts.html,
                                                 parts.attachments, parts.inline))


def record(session: Session, outcomes: Sequence[Outcome], now: datetime) -> None:
    for outcome in outcomes:
        batch = uuid.uuid4().hex
        for row in session.scalars(select(Notification).where(Notification.id.in_(outcome.ids))):
            row.claimed_until = None
            row.attempts += 1
            if outcome.ok:
                row.status, row.sent_at, row.batch, row.last_error = "sent", now, batch, None
                continue
            row.last_error = (outcome.error or "failed")[:2000]
            if row.attempts >= MAX_ATTEMPTS:
                row.status = "failed"
                log.warning("notification %s to notifier %s given up: %s", row.id, row.notifier_id, row.last_error)
            else:
                row.next_attempt_at = now + timedelta(seconds=min(600.0, 2.0 ** row.attempts))


def send_due(db: Database, config: Settings, client: httpx.Client,
             clock: Callable[[], datetime] = utcnow) -> int:
    """One round: claim, send outside any transaction, record. Returns messages sent."""
    with db.reading() as session:
        # Look before taking the write lock: the queue is empty most of the time.
        if session.scalar(select(Notification.id).where(Notification.status == "pending",
                                                        Notification.next_attempt_at <= clock()).limit(1)) is None:
            return 0
    with db.transaction() as session:
        jobs = claim(session, config, clock())
    if not jobs:
        return 0
    outcomes = [deliver(job, config, client) for job in jobs]
    with db.transaction() as session:
        record(session, outcomes, clock())
    return sum(1 for o in outcomes if o.ok)
