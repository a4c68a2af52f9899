"""Reading a merchant's spreadsheet (CSV or XLSX) into rows keyed by our column names, whatever language its
headers are in, with each row numbered as the spreadsheet shows it (the header is row 1) so that every error
can point at the cell to fix.

Every import builds on this: declare the columns (a name and the header texts that mean it), read, then
validate row by row into a `RowErrors`, and refuse the whole file when any row is wrong.
"""

from __future__ import annotations

import csv
import io
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from omnistock.errors import Invalid

XLSX_TYPES = frozenset({"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        "application/vnd.ms-excel.sheet.macroenabled.12"})
MAX_ROWS = 100_000
_ZIP_MAGIC = b"PK\x03\x04"
_SEPARATORS = ",;\t"


@dataclass(frozen=True)
class Column:
    """One column an import understands: our `name` and every header text that means it."""

    name: str
    aliases: tuple[str, ...] = ()
    required: bool = True

    def headers(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class Row:
    """One data row: `number` as the spreadsheet shows it, cell texts keyed by column name ('' when empty)."""

    number: int
    values: Mapping[str, str]

    def text(self, column: str) -> str | None:
        """The cell's text, or None when the cell is empty or the column is absent."""
        value = self.values.get(column, "")
        return value or None


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]        # our names of the columns found, in the file's order
    rows: list[Row]
    ignored_headers: tuple[str, ...] = ()  # headers no column claims (shown as a warning, never an error)
    sheet: str | None = None


@dataclass(frozen=True)
class RowError:
    """What is wrong where: `row` as the spreadsheet shows it (None for a JSON item or the whole file)."""

    row: int | None
    field: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"field": self.field, "message": self.message}
        if self.row is not None:
            out["row"] = self.row
        return out


@dataclass
class RowErrors:
    """Errors collected over a whole file, so that one answer lists every row to fix."""

    items: list[RowError] = field(default_factory=list)

    def add(self, row: int | None, column: str, message: str) -> None:
        where = f"row {row}: " if row is not None else ""
        self.items.append(RowError(row, column, f"{where}{message}"))

    def __bool__(self) -> bool:
        return bool(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def in_order(self) -> list[RowError]:
        """By row as the spreadsheet shows them; JSON items (no row) keep the order they were found in."""
        return sorted(self.items, key=lambda e: (e.row is None, e.row or 0))

    def as_dicts(self) -> list[dict[str, Any]]:
        return [e.as_dict() for e in self.in_order()]

    def raise_if_any(self, what: str) -> None:
        """Refuse the whole file: Invalid naming the first bad field and listing every error."""
        if not self.items:
            return
        first = self.in_order()[0]
        more = f" (and {len(self.items) - 1} more)" if len(self.items) > 1 else ""
        raise Invalid(f"{what}: {first.message}{more}; nothing was written", field=first.field,
                      errors=self.as_dicts())


# --- reading -----------------------------------------------------------------------------------


def header_key(text: str) -> str:
    """Headers match whatever their width, case, spacing or underscores: 'External ID' = 'external_id'."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if not ch.isspace() and ch not in "_-")


def is_xlsx(data: bytes, *, filename: str | None = None, content_type: str | None = None) -> bool:
    if content_type and content_type.split(";")[0].strip().lower() in XLSX_TYPES:
        return True
    if filename and filename.lower().endswith((".xlsx", ".xlsm")):
        return True
    return data.startswith(_ZIP_MAGIC)


def read_table(data: bytes, columns: Sequence[Column], *, filename: str | None = None,
               content_type: str | None = None, sheet: str | None = None, max_rows: int = MAX_ROWS) -> Table:
    """Read CSV (UTF-8, UTF-8 with BOM or GB18030; comma, semicolon or tab) or XLSX (first sheet, or `sheet`).

    Raises Invalid naming the missing columns (row 1) or the unreadable file; row values are left as text
    for the import to validate."""
    if is_xlsx(data, filename=filename, content_type=content_type):
        grid, sheet_name = _xlsx_grid(data, sheet)
    else:
        grid, sheet_name = _csv_grid(data), None
    return _table(grid, columns, sheet_name, max_rows)


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030: Excel on a Chinese Windows saves CSV in GBK."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise Invalid("the file is neither UTF-8 nor GBK text (save it as CSV UTF-8 or as .xlsx)",
                      field="file") from exc


def _csv_grid(data: bytes) -> Iterator[list[str]]:
    text = decode_text(data)
    first_line = text.split("\n", 1)[0]
    try:
        sniffed = csv.Sniffer().sniff(first_line, delimiters=_SEPARATORS) if first_line else csv.excel
        delimiter = sniffed.delimiter
    except csv.Error:
        delimiter = ","  # one column only, or nothing to guess from: plain commas
    try:
        # Only the separator is guessed; quoting stays Excel's ("" inside a quoted cell is one quote), which a
        # dialect sniffed from the header line alone would get wrong.
        yield from csv.reader(io.StringIO(text, newline=""), csv.excel, delimiter=delimiter)
    except csv.Error as exc:
        raise Invalid(f"the CSV cannot be read: {exc}", field="file") from exc


def _xlsx_grid(data: bytes, sheet: str | None) -> tuple[Iterator[list[str]], str]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise Invalid(f"the spreadsheet cannot be read as .xlsx ({exc})", field="file") from exc
    if sheet is not None and sheet not in book.sheetnames:
        raise Invalid(f"the workbook has no sheet {sheet!r}; it has {', '.join(book.sheetnames)}", field="sheet")
    ws = book[sheet] if sheet is not None else book.worksheets[0]

    def rows() -> Iterator[list[str]]:
        try:
            for values in ws.iter_rows(values_only=True):
                yield [cell_text(v) for v in values]
        finally:
            book.close()
    return rows(), ws.title


def cell_text(value: object) -> str:
    """A spreadsheet cell as the text a person sees: 12.0 is '12', a 13-digit barcode keeps every digit."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return format(Decimal(repr(value)).normalize(), "f")
    if isinstance(value, datetime):
        return value.isoformat(sep=" ") if value.time() != time(0) else value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _table(grid: Iterable[list[str]], columns: Sequence[Column], sheet: str | None, max_rows: int) -> Table:
    lines = iter(grid)
    header = next(lines, None)
    if header is None or not any(cell.strip() for cell in header):
        raise Invalid("the file is empty: row 1 must be the header", field="file")
    positions, ignored = _header_positions(header, columns)
    rows: list[Row] = []
    for number, cells in enumerate(lines, start=2):
        if not any(cell.strip() for cell in cells):
            continue  # blank rows are skipped but still counted, so numbers match the spreadsheet
        if len(rows) >= max_rows:
            raise Invalid(f"the file has more than {max_rows} rows; split it", field="file")
        values = {name: (cells[i].strip() if i < len(cells) else "") for name, i in positions.items()}
        rows.append(Row(number, values))
    return Table(tuple(positions), rows, tuple(ignored), sheet)


def _header_positions(header: Sequence[str], columns: Sequence[Column]) -> tuple[dict[str, int], list[str]]:
    wanted = {header_key(text): col for col in columns for text in col.headers()}
    positions: dict[str, int] = {}
    ignored: list[str] = []
    for i, text in enumerate(header):
        col = wanted.get(header_key(text))
        if col is None:
            if text.strip():
                ignored.append(text.strip())
            continue
        if col.name in positions:
            raise Invalid(f"row 1: two headers mean {col.name!r} ({header[positions[col.name]]!r} and "
                          f"{text!r})", field=col.name)
        positions[col.name] = i
    missing = [col for col in columns if col.required and col.name not in positions]
    if missing:
        names = "; ".join(" or ".join(repr(h) for h in col.headers()) for col in missing)
        errors = RowErrors()
        for col in missing:
            errors.add(1, col.name, f"no {col.name!r} column")
        raise Invalid(f"row 1 (the header) lacks the column(s): {names}", field=missing[0].name,
                      errors=errors.as_dicts())
    return positions, ignored


# --- typed cells -------------------------------------------------------------------------------


def whole_number(text: str) -> int:
    """'12', '12.0' (Excel) or '1,200' → int; ValueError for anything else ('1.5', 'ten')."""
    cleaned = text.replace(",", "").replace("_", "").strip()
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a whole number") from None
    if not value.is_finite() or value != value.to_integral_value():
        raise ValueError(f"{text!r} is not a whole number")
    return int(value)


def decimal_amount(text: str) -> Decimal:
    try:
        value = Decimal(text.replace(",", "").strip())
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a number") from None
    if not value.is_finite():
        raise ValueError(f"{text!r} is not a number")
    return value
