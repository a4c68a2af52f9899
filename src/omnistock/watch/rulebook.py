"""The built-in alert and hold rules and their settings: defaults here, a merchant's changes in `alert_rules`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from omnistock.domain.access import Principal
from omnistock.errors import Invalid, NotFound
from omnistock.services import audit
from omnistock.store.types import utcnow
from omnistock.watch.tables import AlertRule

# kind -> (severity, default settings). Every rule may also set renotify_minutes: the quiet period after which a
# still-open alert is notified again.
RULES: dict[str, tuple[str, dict[str, Any]]] = {
    # available at or below `threshold` (per_sku overrides it), or fewer than `cover_days` days of sales left
    # at the rate of the last `sales_days`; only SKUs that are listed somewhere or sold lately
    "low_stock": ("warning", {"threshold": 0, "per_sku": {}, "cover_days": 0, "sales_days": 7}),
    "oversell": ("critical", {}),  # an order held because it could not be reserved
    "order_held": ("warning", {}),  # an order held for another reason (drift hold, unmapped, unusual quantity)
    "drift": ("warning", {}),  # reconciliation found a platform showing another number, or a listing missing
    "unmapped": ("info", {}),  # reconciliation found platform items with stock that map to no SKU
    # a listing failing longer than failing_minutes, the oldest pending change older than backlog_seconds,
    # or the channel's circuit breaker open
    "sync_failing": ("critical", {"failing_minutes": 15, "backlog_seconds": 300}),
    # webhook deliveries with a bad signature; resolved after quiet_minutes without one
    "webhook_signature": ("warning", {"quiet_minutes": 60}),
    # no order for max(min_minutes, factor x the usual gap between orders) on a channel that took at least
    # min_orders in the last lookback_days
    "intake_silent": ("warning", {"lookback_days": 7, "min_orders": 20, "factor": 4, "min_minutes": 60}),
    # hold an order whose line quantity is over factor x the SKU's average line over `days` (with at least
    # min_lines lines to go by, and only from min_qty units up)
    "unusual_quantity": ("warning", {"factor": 10, "days": 30, "min_lines": 5, "min_qty": 10}),
    # a complaint-desk case near (warning) or past (critical) its first-response or resolution due time, from the
    # SLA watch's escalations (omnistock.care.sla_alerts); resolved once the case is answered or resolved
    "sla_breach": ("critical", {}),
    # a batch past its expiry (less OMNISTOCK_EXPIRY_MARGIN_DAYS) that still holds units anywhere: its units are
    # moved out of sale (omnistock.watch.expiry); resolved once they are written off or sent back
    "batch_expired": ("warning", {}),
}
COMMON = {"renotify_minutes": 60}


@dataclass(frozen=True)
class Rule:
    kind: str
    enabled: bool
    severity: str
    settings: dict[str, Any]


def rule(session: Session, kind: str) -> Rule:
    if kind not in RULES:
        raise NotFound(f"no alert rule {kind!r}; one of: {', '.join(RULES)}", field="kind")
    severity, defaults = RULES[kind]
    row = session.get(AlertRule, kind)
    settings = {**COMMON, **defaults, **(row.settings if row else {})}
    return Rule(kind, row.enabled if row else True, severity, settings)


def all_rules(session: Session) -> list[Rule]:
    return [rule(session, kind) for kind in RULES]


def _check(kind: str, settings: dict[str, Any]) -> dict[str, Any]:
    allowed = {**COMMON, **RULES[kind][1]}
    out: dict[str, Any] = {}
    for key, value in settings.items():
        if key not in allowed:
            raise Invalid(f"{kind} has no setting {key!r}; known: {', '.join(sorted(allowed))}",
                          field=f"settings.{key}")
        if key == "per_sku":
            if not isinstance(value, dict) or not all(
                    isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) and v >= 0
                    for k, v in value.items()):
                raise Invalid("per_sku maps SKU codes to whole thresholds of 0 or more", field="settings.per_sku")
        elif isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise Invalid(f"{key} must be a number of 0 or more", field=f"settings.{key}")
        out[key] = value
    return out


def save(session: Session, kind: str, principal: Principal, *, enabled: bool | None,
         settings: dict[str, Any] | None) -> Rule:
    before = rule(session, kind)
    clean = _check(kind, settings or {})
    row = session.get(AlertRule, kind)
    if row is None:
        row = AlertRule(kind=kind, enabled=True, settings={})
        session.add(row)
    if enabled is not None:
        row.enabled = enabled
    row.settings, row.updated_at = {**(row.settings or {}), **clean}, utcnow()
    session.flush()
    after = rule(session, kind)
    audit.record(session, actor=principal.name, action="alert_rule.update", entity=f"alert_rule:{kind}",
                 before={"enabled": before.enabled, "settings": before.settings},
                 after={"enabled": after.enabled, "settings": after.settings})
    return after


def rule_view(r: Rule) -> dict[str, Any]:
    return {"kind": r.kind, "enabled": r.enabled, "severity": r.severity, "settings": r.settings}


def known(kind: str) -> bool:
    return kind in RULES or kind == "report"


def kinds() -> list[str]:
    return [*RULES, "report"]


def enabled_kinds(session: Session) -> set[str]:
    off = set(session.scalars(select(AlertRule.kind).where(AlertRule.enabled.is_(False))))
    return set(RULES) - off
