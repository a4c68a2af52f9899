"""The weekly sync report as the console shows it: the watch's figures (`watch.report_figures.weekly`) for the
channels the visitor sees, laid out as rows of figures with this week against the week before."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from omnistock.domain.access import Principal
from omnistock.watch import report_figures
from omnistock.watch.report_figures import FIGURES, Week, rows_of, weekly
from omnistock.watch.report_render import BETTER_UP, NEUTRAL
from omnistock.web.i18n import Text

MILLISECONDS = {"latency_p50_ms", "latency_p95_ms", "latency_p99_ms"}


def figure_labels(text: Text) -> dict[str, str]:
    _ = text.gettext
    return {"pushes": _("Pushes"), "failures": _("Failed pushes"), "latency_p50_ms": _("Latency p50"),
            "latency_p95_ms": _("Latency p95"), "latency_p99_ms": _("Latency p99"), "drift_found": _("Drift found"),
            "drift_healed": _("Drift healed"), "oversells": _("Oversells"), "held": _("Orders held"),
            "released": _("Orders released"), "alerts": _("Alerts raised"), "alerts_resolved": _("Alerts resolved"),
            "resolve_minutes_median": _("Median time to resolve (min)"), "complaints": _("Complaints")}


@dataclass(frozen=True)
class Cell:
    now: Any
    before: Any
    trend: str  # better | worse | "" (no change, or a figure that is neither)


@dataclass(frozen=True)
class Row:
    figure: str
    cells: list[Cell]


@dataclass(frozen=True)
class WeeklyView:
    week: Week
    report: dict[str, Any]
    scopes: list[str]  # "overall", then each channel's code
    rows: list[Row]
    scoped: bool  # the figures cover only the visitor's channels


def trend(now: Any, before: Any, figure: str) -> str:
    if now is None or before is None or now == before or figure in NEUTRAL:
        return ""
    return "better" if (now > before) == (figure in BETTER_UP) else "worse"


def weekly_view(session: Session, principal: Principal, week: Week, zone: ZoneInfo) -> WeeklyView:
    report = weekly(session, week, zone, channels=report_figures.visible_channels(session, principal))
    scopes = list(rows_of(report))
    rows = [Row(key, [Cell(s.get(key), s["previous"].get(key), trend(s.get(key), s["previous"].get(key), key))
                      for _name, s in scopes]) for key in FIGURES]
    return WeeklyView(week, report, [name for name, _s in scopes], rows, principal.scoped)
