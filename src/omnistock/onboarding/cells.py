"""Reading one spreadsheet cell as a business value: whole quantities and dates, as people and Excel write
them. Each reader returns the value or raises CellError with a plain message."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from omnistock.onboarding.text import fold


class CellError(ValueError):
    """A cell whose value cannot be read as what its column holds."""


def text(value: object) -> str:
    """A cell as trimmed half-width text ('' when empty); Excel's 12.0 for a code typed as 12 reads '12'."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return fold(str(value))


def whole(value: object, *, negative_ok: bool = False) -> int:
    """A whole number: 12, '12', '１２', 12.0 and '1,200' are fine; 1.5, -3 (unless allowed) and 'abc' are not."""
    if isinstance(value, bool):
        raise CellError("is not a number")
    raw = text(value).replace(",", "")
    try:
        number = Decimal(raw)
    except InvalidOperation:
        raise CellError("is not a number") from None
    if not number.is_finite():
        raise CellError("is not a number")
    if number != number.to_integral_value():
        raise CellError("must be a whole number")
    if number < 0 and not negative_ok:
        raise CellError("cannot be negative")
    return int(number)


_DATE_FORMS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


def calendar_date(value: object) -> date:
    """A date: an Excel date cell, 2025-01-31, 2025/1/31, 2025.01.31, 20250131 or 2025年1月31日."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raw = text(value)
    for form in _DATE_FORMS:
        match = form.match(raw)
        if match:
            year, month, day = (int(g) for g in match.groups())
            try:
                return date(year, month, day)
            except ValueError:
                raise CellError(f"{raw} is not a day of the calendar") from None
    raise CellError("is not a date (write it as 2025-01-31)")
