"""The care report as CSV (one long table: period, metric, key, value, currency) and XLSX (a summary
sheet with one row per period, and the same long table), for spreadsheets and BI tools."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from openpyxl import Workbook

HEADER = ("period", "metric", "key", "value", "currency")
SUMMARY = ("period", "cases", "first_response_p50_minutes", "first_response_p90_minutes", "resolution_p50_minutes",
           "resolution_p90_minutes", "breach_rate", "reopen_rate")


def _rows_of(period: str, fig: dict[str, Any]) -> Iterator[tuple[Any, ...]]:
    yield period, "cases", "", fig["cases"], ""
    for metric in ("breach_rate", "reopen_rate"):
        yield period, metric, "", fig[metric], ""
    for group in ("by_source", "by_cause", "by_channel"):
        for key, count in fig[group].items():
            yield period, f"cases_{group}", key, count, ""
    for clock in ("first_response", "resolution"):
        dist = fig[clock]
        yield period, f"{clock}_p50_minutes", "", dist["p50_minutes"], ""
        yield period, f"{clock}_p90_minutes", "", dist["p90_minutes"], ""
        for bucket, count in dist["buckets"].items():
            yield period, f"{clock}_bucket", bucket, count, ""
    for row in fig["compensation_cost_by_cause"]:
        yield period, "compensation_cost_by_cause", row["cause"], row["cost"], row["currency"]
    for row in fig["compensation_cost_by_sku"]:
        yield period, "compensation_cost_by_sku", row["sku"], row["cost"], row["currency"]


def long_rows(report: dict[str, Any]) -> Iterator[tuple[Any, ...]]:
    yield from _rows_of("total", report["totals"])
    for period in report["periods"]:
        yield from _rows_of(period["start"], period)


def to_csv(report: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(("" if v is None else v for v in row) for row in long_rows(report))
    return out.getvalue()


def _summary_row(period: str, fig: dict[str, Any]) -> tuple[Any, ...]:
    return (period, fig["cases"], fig["first_response"]["p50_minutes"], fig["first_response"]["p90_minutes"],
            fig["resolution"]["p50_minutes"], fig["resolution"]["p90_minutes"], fig["breach_rate"],
            fig["reopen_rate"])


def to_xlsx(report: dict[str, Any]) -> bytes:
    book = Workbook()
    summary = book.active
    assert summary is not None
    summary.title = "summary"
    summary.append(SUMMARY)
    for period in report["periods"]:
        summary.append(_summary_row(period["start"], period))
    summary.append(_summary_row("total", report["totals"]))
    figures = book.create_sheet("figures")
    figures.append(HEADER)
    for row in long_rows(report):
        # Costs are decimal strings in JSON; a spreadsheet wants numbers it can add up.
        value = Decimal(row[3]) if row[1].startswith("compensation") else row[3]
        figures.append((row[0], row[1], row[2], value, row[4]))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
