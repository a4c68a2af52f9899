"""/api/v1/care: reports (JSON, CSV, XLSX) and the desk's settings — categories, teams and calendars,
SLA policies, proactive-case rules, compensation table, approval limits, senders."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session

from omnistock.api.deps import DB, Reader, run
from omnistock.care import calendars, policies, proactive, report_export, reports, rulebook, senders
from omnistock.care.categories import add_category, all_categories
from omnistock.care.routes.common import ConfigWriter, settings_of, zone_of
from omnistock.care.schemas import CategoryIn, LimitsIn, PoliciesIn, ProactiveRuleIn, RulesIn, SenderIn, TeamIn
from omnistock.domain.compensation import CompensationRule
from omnistock.errors import Invalid

router = APIRouter(prefix="/api/v1/care", tags=["care"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _aware(value: datetime | None, name: str, request: Request) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=zone_of(request))  # a bare date or time is the merchant's own
    return value


@router.get("/reports", response_model=None)
def read_report(principal: Reader, db: DB, request: Request, since: datetime | None = None,
                until: datetime | None = None, period: str = "day", format: str = "json") -> Any:
    """Care figures per day or week: first-response and resolution time distributions, breach rate,
    cases by cause and channel, compensation cost by cause and SKU, reopen rate. format=csv|xlsx exports."""
    if format not in ("json", "csv", "xlsx"):
        raise Invalid("format must be json, csv or xlsx", field="format")
    zone = zone_of(request)
    default = reports.default_range(datetime.now(zone), zone, period if period in reports.PERIODS else "day")
    rng = reports.ReportRange(_aware(since, "since", request) or default.since,
                              _aware(until, "until", request) or default.until, period)
    with db.reading() as session:
        data = reports.report(session, principal, rng, zone)
    if format == "csv":
        return Response(report_export.to_csv(data), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": "attachment; filename=care-report.csv"})
    if format == "xlsx":
        return Response(report_export.to_xlsx(data), media_type=XLSX,
                        headers={"Content-Disposition": "attachment; filename=care-report.xlsx"})
    return data


@router.get("/categories")
def categories(principal: Reader, db: DB) -> dict[str, Any]:
    with db.reading() as session:
        items = [c.__dict__ for c in all_categories(session)]
    return {"items": items, "total": len(items), "next": None}


@router.post("/categories", status_code=201)
def create_category(body: CategoryIn, principal: ConfigWriter, db: DB) -> dict[str, Any]:
    return run(db, lambda s: add_category(s, body.code, body.name).__dict__)


@router.get("/teams")
def teams(principal: Reader, db: DB) -> dict[str, Any]:
    with db.reading() as session:
        items = [calendars.team_view(t) for t in calendars.list_teams(session)]
    return {"items": items, "total": len(items), "next": None}


@router.put("/teams/{code}")
def save_team(code: str, body: TeamIn, principal: ConfigWriter, db: DB) -> dict[str, Any]:
    """Create or replace a team's calendar: week is 7 days (Monday first) of ["HH:MM", "HH:MM"] openings
    ("24:00" closes at midnight), holidays and extra working days (调休) are ISO dates."""
    spec = calendars.TeamSpec(code=code, name=body.name, timezone=body.timezone, week=body.week,
                              holidays=tuple(body.holidays), extra_working_days=tuple(body.extra_working_days))
    return run(db, lambda s: calendars.team_view(calendars.save_team(s, spec)))


@router.get("/sla-policies")
def sla_policies(principal: Reader, db: DB) -> dict[str, Any]:
    with db.reading() as session:
        items = [policies.policy_view(p) for p in policies.sla_policies(session)]
    return {"items": items, "total": len(items), "next": None, "default": policies.default_view()}


@router.put("/sla-policies")
def replace_sla_policies(body: PoliciesIn, principal: ConfigWriter, db: DB) -> dict[str, Any]:
    """Replace every policy; the most specific (category and priority) wins; none matching: the default."""
    specs = [policies.PolicySpec(p.category, p.priority, p.first_response_minutes, p.resolution_minutes,
                                 p.near_breach_at) for p in body.policies]
    items = run(db, lambda s: [policies.policy_view(p) for p in policies.replace_policies(s, specs)])
    return {"items": items, "total": len(items), "next": None, "default": policies.default_view()}


@router.get("/proactive-rules")
def proactive_rules(principal: Reader, db: DB) -> dict[str, Any]:
    with db.reading() as session:
        items = [proactive.rule_view(r) for r in proactive.rules(session)]
    return {"items": items, "total": len(items), "next": None}


@router.put("/proactive-rules/{cause}")
def save_proactive_rule(cause: str, body: ProactiveRuleIn, principal: ConfigWriter, db: DB) -> dict[str, Any]:
    """Which hold cause (the hold reason's first word, or * for any) opens a proactive case, of what
    category and priority, drafted from which template."""
    rule = proactive.ProactiveRule(cause=cause, enabled=body.enabled, category=body.category,
                                   priority=body.priority, template=body.template, locale=body.locale)
    return run(db, lambda s: proactive.rule_view(proactive.save_rule(s, rule)))


@router.get("/approval-limits")
def approval_limits(principal: Reader, db: DB, request: Request) -> dict[str, Any]:
    with db.reading() as session:
        return {"currency": settings_of(request).care_currency,
                "limits": rulebook.limits_view(rulebook.approval_limits(session))}


@router.put("/approval-limits")
def save_approval_limits(body: LimitsIn, principal: ConfigWriter, db: DB, request: Request) -> dict[str, Any]:
    """The highest compensation cost each role grants alone (null: no limit), in the base currency."""
    limits = run(db, lambda s: rulebook.save_limits(s, {str(k): v for k, v in body.limits.items()}))
    return {"currency": settings_of(request).care_currency, "limits": rulebook.limits_view(limits)}


@router.get("/compensation-rules")
def compensation_rules(principal: Reader, db: DB) -> dict[str, Any]:
    with db.reading() as session:
        items = [rulebook.rule_view(r) for r in rulebook.compensation_rules(session)]
    return {"items": items, "total": len(items), "next": None}


@router.put("/compensation-rules")
def replace_compensation_rules(body: RulesIn, principal: ConfigWriter, db: DB) -> dict[str, Any]:
    """Replace the compensation table (first matching rule wins; an empty list restores the standard one)."""
    rules = []
    for i, r in enumerate(body.rules):
        try:
            rules.append(CompensationRule(r.id, r.category, r.kind, r.min_order_value,  # type: ignore[arg-type]
                                          r.max_order_value, r.amount, r.percent, r.cap, r.currency))
        except Invalid as exc:
            raise Invalid(exc.message, field=f"rules[{i}].{exc.field}") from None

    def action(session: Session) -> list[dict[str, Any]]:
        return [rulebook.rule_view(x) for x in rulebook.replace_rules(session, rules)]
    items = run(db, action)
    return {"items": items, "total": len(items), "next": None}


@router.get("/senders")
def list_senders(principal: ConfigWriter, db: DB, request: Request) -> dict[str, Any]:
    with db.reading() as session:
        items = senders.senders_view(session, settings_of(request))
    return {"items": items, "total": len(items), "next": None}


@router.put("/senders/{kind}")
def save_sender(kind: str, body: SenderIn, principal: ConfigWriter, db: DB, request: Request) -> dict[str, Any]:
    """Set up e-mail (host, port, from, username, password, starttls) or the SMS / chat webhook (url,
    secret). Passwords and secrets are encrypted at rest and never shown."""
    settings = settings_of(request)

    def action(session: Session) -> dict[str, Any]:
        senders.save_sender(session, settings, kind, enabled=body.enabled, config=body.config)
        return next(v for v in senders.senders_view(session, settings) if v["kind"] == kind)
    return run(db, action)
