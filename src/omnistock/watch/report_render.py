"""The weekly sync report as people read it: an HTML page with charts (matplotlib PNGs, embedded so the page
travels alone), an XLSX workbook, the two as an e-mail, and a short markdown summary for chat robots."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment
from openpyxl import Workbook
from openpyxl.styles import Font

from omnistock.watch.report_figures import FIGURES, OVERALL, rows_of

LABELS = {
    "pushes": "Pushes", "failures": "Failed pushes", "latency_p50_ms": "Latency p50 (ms)",
    "latency_p95_ms": "Latency p95 (ms)", "latency_p99_ms": "Latency p99 (ms)", "drift_found": "Drift found",
    "drift_healed": "Drift healed", "oversells": "Oversells", "held": "Orders held", "released": "Orders released",
    "alerts": "Alerts", "alerts_resolved": "Alerts resolved", "resolve_minutes_median": "Median time to resolve (min)",
    "complaints": "Complaints",
}

PAGE = Environment(autoescape=True).from_string("""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>omnistock weekly sync report {{ r.week }}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; color: #1d2733; }
table { border-collapse: collapse; margin: 1rem 0; } th, td { border: 1px solid #ccd; padding: .3rem .6rem; }
th { background: #eef2f7; text-align: left; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
.worse { color: #b42318; } .better { color: #067647; } .charts img { max-width: 48%; margin: .5rem 1%; }
</style></head><body>
<h1>Weekly sync report {{ r.week }}</h1>
<p>From {{ r['from'] }} until {{ r.until }}; compared with {{ r.previous_week }}.</p>
<table><tr><th>Figure</th>{% for name, _ in scopes %}<th>{{ name }}</th>{% endfor %}</tr>
{% for key in figures %}<tr><th>{{ labels[key] }}</th>
{% for _, s in scopes %}<td class="n">{{ fmt(s[key]) }} <small class="{{ trend(s, key) }}">({{ fmt(s.previous[key]) }})
</small></td>{% endfor %}</tr>{% endfor %}
</table>
<p><small>Each cell: this week (the week before).</small></p>
<div class="charts">{% for title, src in charts %}<img alt="{{ title }}" src="{{ src }}">
{% endfor %}</div>
</body></html>""")


def _fmt(value: Any) -> str:
    return "–" if value is None else (f"{value:g}" if isinstance(value, float) else str(value))


# Figures that are better when they rise; pushes follow sales and are neither; all others are better lower.
BETTER_UP = {"drift_healed", "released", "alerts_resolved"}
NEUTRAL = {"pushes"}


def _trend(scope: dict[str, Any], key: str) -> str:
    """The class that colours a change: `worse` (red) or `better` (green) than the week before."""
    now, before = scope.get(key), scope["previous"].get(key)
    if now is None or before is None or now == before or key in NEUTRAL:
        return ""
    return "better" if (now > before) == (key in BETTER_UP) else "worse"


def charts(report: dict[str, Any]) -> list[tuple[str, bytes]]:
    """PNG charts: pushes and failures per channel, latency percentiles per channel, this week against the last."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    scopes = list(rows_of(report))
    names = [name for name, _ in scopes]
    out: list[tuple[str, bytes]] = []
    specs = [("Pushes and failures", ("pushes", "failures")),
             ("Push latency (ms)", ("latency_p50_ms", "latency_p95_ms", "latency_p99_ms")),
             ("Drift, oversells and holds", ("drift_found", "drift_healed", "oversells", "held", "released"))]
    for title, keys in specs:
        fig, ax = plt.subplots(figsize=(7, 3.2), dpi=100)
        width = 0.8 / (len(keys) * 2)
        for i, key in enumerate(keys):
            for j, (suffix, pick) in enumerate((("this week", lambda s: s), ("previous", lambda s: s["previous"]))):
                xs = [n + (i * 2 + j) * width - 0.4 + width / 2 for n in range(len(names))]
                ys = [float(pick(s).get(key) or 0) for _, s in scopes]
                ax.bar(xs, ys, width, label=f"{LABELS[key]} ({suffix})", alpha=1.0 if j == 0 else 0.45)
        ax.set_xticks(range(len(names)), names, fontsize=8)
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=6, ncols=2)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        plt.close(fig)
        out.append((title, buf.getvalue()))
    return out


def html(report: dict[str, Any]) -> str:
    """The page on its own: charts embedded as data URIs, so that the file travels and opens anywhere."""
    return _page(report, [(title, "data:image/png;base64," + base64.b64encode(png).decode())
                          for title, png in charts(report)])


def _page(report: dict[str, Any], images: list[tuple[str, str]]) -> str:
    return PAGE.render(r=report, scopes=list(rows_of(report)), figures=FIGURES, labels=LABELS, fmt=_fmt,
                       trend=_trend, charts=images)


def xlsx(report: dict[str, Any]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = f"Sync {report['week']}"
    sheet.append(["Scope", "Figure", report["week"], report["previous_week"]])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for name, scope in rows_of(report):
        for key in FIGURES:
            sheet.append([name, LABELS[key], scope.get(key), scope["previous"].get(key)])
    sheet.column_dimensions["A"].width = 18
    sheet.column_dimensions["B"].width = 30
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def markdown(report: dict[str, Any]) -> str:
    o = report[OVERALL]
    p = o["previous"]
    lines = [f"### omnistock weekly sync report {report['week']}",
             f"- Pushes: {o['pushes']} ({p['pushes']} the week before), failed {o['failures']}",
             f"- Latency p50/p95/p99: {_fmt(o['latency_p50_ms'])}/{_fmt(o['latency_p95_ms'])}/"
             f"{_fmt(o['latency_p99_ms'])} ms",
             f"- Drift found {o['drift_found']}, healed {o['drift_healed']}; oversells {o['oversells']}",
             f"- Orders held {o['held']}, released {o['released']}; alerts {o['alerts']}, complaints {o['complaints']}"]
    return "\n".join(lines)


@dataclass(frozen=True)
class EmailParts:
    """The report as an e-mail: an HTML body whose charts are inline images (`cid:`, since mail clients such as
    Gmail and Outlook show no data-URI images), those images as (content id, PNG), and the attachments as
    (file name, MIME type, bytes): the whole page (charts embedded, opens in any browser) and the workbook."""

    html: str
    inline: list[tuple[str, bytes]]
    attachments: list[tuple[str, str, bytes]]


def email_parts(report: dict[str, Any]) -> EmailParts:
    pngs = charts(report)
    ids = [f"chart{n}.{report['week']}@omnistock" for n in range(len(pngs))]
    body = _page(report, [(title, f"cid:{cid}") for (title, _), cid in zip(pngs, ids)])
    page = _page(report, [(title, "data:image/png;base64," + base64.b64encode(png).decode()) for title, png in pngs])
    name = f"omnistock-sync-{report['week']}"
    return EmailParts(body, [(cid, png) for cid, (_, png) in zip(ids, pngs)], [
        (f"{name}.html", "text/html", page.encode("utf-8")),
        (f"{name}.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", xlsx(report))])
