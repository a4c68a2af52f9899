"""Producing the weekly sync report: figures stored per week, sent to the notifiers routed for reports, and the
scheduled job that does it once after each week ends (in one process only: the stored week is the claim)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from omnistock.config import Settings
from omnistock.store.db import Database
from omnistock.store.types import utcnow
from omnistock.watch import notify
from omnistock.watch.report_figures import Week, has_activity, weekly
from omnistock.watch.report_render import markdown
from omnistock.watch.tables import WeeklyReport


def store(session: Session, week: Week, figures: dict[str, Any]) -> None:
    row = session.get(WeeklyReport, week.label)
    if row is None:
        session.add(WeeklyReport(week=week.label, created_at=utcnow(), figures=figures))
    else:
        row.figures, row.created_at = figures, utcnow()


def send(session: Session, figures: dict[str, Any]) -> int:
    """Queue the report for every notifier routed for reports; returns how many."""
    targets = notify.report_notifiers(session)
    for notifier in targets:
        notify.enqueue_other(session, notifier, f"omnistock weekly sync report {figures['week']}",
                             {"event": "report", "report": figures["week"], "markdown": markdown(figures),
                              "figures": figures})
    return len(targets)


def produce(db: Database, settings: Settings, week: Week, *, deliver: bool = False) -> dict[str, Any]:
    with db.transaction() as session:
        figures = weekly(session, week, settings.zone)
        store(session, week, figures)
        if deliver:
            send(session, figures)
    return figures


def run_due(db: Database, settings: Settings, now: datetime | None = None) -> dict[str, Any] | None:
    """After a week ends, report it once (a week in which nothing happened makes no report)."""
    week = Week.last_complete(now or utcnow(), settings.zone)
    with db.reading() as session:
        if session.get(WeeklyReport, week.label) is not None or not has_activity(session, week):
            return None
    return produce(db, settings, week, deliver=True)
