"""Where the watch plugs into the core and the sync engine; `install()` registers everything once."""

from __future__ import annotations

from typing import TypeVar

from omnistock.api.routes import webhooks
from omnistock.care import sla_alerts, sla_watch
from omnistock.services import hooks
from omnistock.sync import exposure_events, intake, worker
from omnistock.watch import holds, overrun, rules, scheduler

T = TypeVar("T")


def _add(registry: list[T], hook: T) -> None:
    if hook not in registry:
        registry.append(hook)


def install() -> None:
    """Register (idempotent): alerts for held orders in the holding transaction, audited releases, the intake
    hold checks, the job loop and sender beside every sync worker, the count of bad webhook signatures, and
    drift alerts for platforms that sold beyond what they were shown, and an `sla_breach` alert for every SLA
    escalation of the complaint desk."""
    _add(hooks.order_held, holds.on_order_held)
    _add(hooks.order_changed, holds.on_order_changed)
    _add(intake.hold_checks, holds.drift_hold)
    _add(intake.hold_checks, holds.unusual_quantity)
    _add(worker.on_start, scheduler.start)
    _add(webhooks.signature_rejected, rules.signature_rejected)
    _add(exposure_events.overrun_seen, overrun.on_overrun)
    _add(sla_watch.notifiers, sla_alerts.on_escalation)
