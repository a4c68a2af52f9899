"""The reports as Excel workbooks (openpyxl): one sheet, a header row, amounts as numbers with two
decimals, and a total row."""

from __future__ import annotations

import io
from collections.abc import Sequence
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Font

from omnistock.domain.profit import ProfitLine
from omnistock.money.profit import ProfitReport
from omnistock.money.stock_value import Valuation

MONEY_FORMAT = "#,##0.00"
COST_FORMAT = "#,##0.00####"


def _book(title: str, header: Sequence[str], rows: Sequence[Sequence[object]], total: Sequence[object],
          formats: dict[int, str]) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = title
    ws.append(list(header))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in [*rows, total]:
        ws.append(list(row))
    for col, fmt in formats.items():
        for (cell,) in ws.iter_rows(min_row=2, min_col=col, max_col=col):
            cell.number_format = fmt
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    for letter, width in zip("ABCDEFGHIJK", (18, 30, 12, 14, 14, 14, 14, 14, 14, 16, 14)):
        ws.column_dimensions[letter].width = width
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def valuation_xlsx(v: Valuation) -> bytes:
    rows = [(i.sku, i.name, i.on_hand, i.unit_cost, i.value) for i in v.items]
    header = ("SKU", "Name", "On hand", f"Unit cost ({v.currency})", f"Value ({v.currency})")
    total = ("Total", v.at.isoformat(), sum(i.on_hand for i in v.items), None, v.total)
    return _book("Valuation", header, rows, total, {4: COST_FORMAT, 5: MONEY_FORMAT})


def _profit_row(key: str, line: ProfitLine) -> tuple[object, ...]:
    pct: Decimal | None = line.margin_percent
    return (key, line.revenue, line.fees, line.cogs, line.compensation, line.margin, pct, line.oversell_cost,
            line.oversold_orders, line.oversell_lost_revenue)


def profit_xlsx(r: ProfitReport) -> bytes:
    c = r.currency
    header = (r.by.capitalize(), f"Revenue ({c})", f"Platform fees ({c})", f"Cost of goods ({c})",
              f"Compensation ({c})", f"Margin ({c})", "Margin %", f"of which oversells ({c})", "Oversold orders",
              f"Lost to oversells ({c})")
    rows = [_profit_row(key, line) for key, line in r.rows.items()]
    formats = {i: MONEY_FORMAT for i in (2, 3, 4, 5, 6, 8, 10)}
    return _book("Profit", header, rows, _profit_row(f"Total {r.start} – {r.end}", r.total), formats)
