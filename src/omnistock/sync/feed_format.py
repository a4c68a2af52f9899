"""The feed format: what an offline store or a distributor without an API sends us, as CSV or JSON.

A feed carries stock counts (what is on the shelf now, per item) and sales (one sale id, one or more lines).
This module only reads the format and checks each row on its own; `sync.feed` checks the rows against the
catalogue and applies them. Format and examples: docs/platforms.md, "Feeds".
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints, ValidationError, field_validator

from omnistock.errors import Invalid
from omnistock.onboarding.tabular import Column, Row, RowErrors, decimal_amount, read_table, whole_number


class SaleStatus(StrEnum):
    SOLD = "sold"            # handed over at the feed's location: taken from its stock at once
    OPEN = "open"            # to be fulfilled by the merchant: reserved wherever the stock is, shipped later
    CANCELLED = "cancelled"  # an open sale called off: its reservation is released
    RETURNED = "returned"    # a sold sale brought back: its units return where they left from


CREATING = (SaleStatus.SOLD, SaleStatus.OPEN)
ROW_TYPES = {"count": "count", "盘点": "count", "库存": "count", "sale": "sale", "销售": "sale"}
STATUS_WORDS = {"sold": SaleStatus.SOLD, "已售": SaleStatus.SOLD, "open": SaleStatus.OPEN,
                "待发货": SaleStatus.OPEN, "cancelled": SaleStatus.CANCELLED, "canceled": SaleStatus.CANCELLED,
                "已取消": SaleStatus.CANCELLED, "returned": SaleStatus.RETURNED, "退货": SaleStatus.RETURNED}

COLUMNS = (
    Column("type", ("类型",)),
    Column("sku", ("商品编码", "SKU编码"), required=False),
    Column("external_id", ("平台商品ID", "门店商品编码", "商品ID"), required=False),
    Column("qty", ("quantity", "count", "数量", "盘点数量"), required=False),
    Column("location", ("库位", "仓库", "门店"), required=False),
    Column("sale_id", ("销售单号", "小票号", "单号"), required=False),
    Column("status", ("状态",), required=False),
    Column("sold_at", ("销售时间", "时间"), required=False),
    Column("unit_price", ("单价",), required=False),
    Column("currency", ("币种",), required=False),
)


@dataclass(frozen=True)
class Where:
    """Where a value came from: a spreadsheet row, or a path in the JSON body."""

    row: int | None
    path: str = ""

    def field(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name


@dataclass(frozen=True)
class ItemRef:
    """An item named by our SKU code or by the feed's own item code (a listing's external id)."""

    sku: str | None
    external_id: str | None

    @property
    def label(self) -> str:
        return f"SKU {self.sku!r}" if self.sku else f"item {self.external_id!r}"


@dataclass(frozen=True)
class CountLine:
    where: Where
    item: ItemRef
    qty: int
    location: str | None = None


@dataclass(frozen=True)
class SaleLine:
    where: Where
    item: ItemRef
    qty: int
    unit_price: Decimal | None = None


@dataclass
class Sale:
    where: Where
    sale_id: str
    status: SaleStatus
    sold_at: datetime | None = None
    currency: str | None = None
    lines: list[SaleLine] = field(default_factory=list)


@dataclass(frozen=True)
class FeedBatch:
    """The rows that read well, and the errors of those that did not: applying adds the catalogue's errors
    and refuses the feed when there are any, so that one answer names every row to fix."""

    counts: list[CountLine]
    sales: list[Sale]
    errors: RowErrors = field(default_factory=RowErrors)


def parse_feed(data: bytes, zone: ZoneInfo, *, content_type: str | None = None,
               filename: str | None = None) -> FeedBatch:
    """Read a feed body (JSON when it says so or looks like it, else CSV/XLSX). Bad rows are in `errors`;
    only a body that cannot be read at all (no header, not JSON, wrong shape) raises Invalid here."""
    if _is_json(data, content_type, filename):
        return parse_json(data, zone)
    table = read_table(data, COLUMNS, filename=filename, content_type=content_type)
    return parse_rows(table.rows, zone)


def _is_json(data: bytes, content_type: str | None, filename: str | None) -> bool:
    if content_type and "json" in content_type.lower():
        return True
    if filename and filename.lower().endswith(".json"):
        return True
    return data.lstrip()[:1] in (b"{", b"[")


# --- CSV / XLSX rows ---------------------------------------------------------------------------


def parse_rows(rows: Sequence[Row], zone: ZoneInfo) -> FeedBatch:
    errors = RowErrors()
    counts: list[CountLine] = []
    sales: dict[tuple[str, SaleStatus], Sale] = {}
    for row in rows:
        kind = ROW_TYPES.get((row.text("type") or "").strip().lower())
        if kind is None:
            errors.add(row.number, "type", f"type must be count or sale, not {row.text('type') or 'empty'!r}")
        elif kind == "count":
            line = _count_row(row, errors)
            if line is not None:
                counts.append(line)
        else:
            _sale_row(row, zone, sales, errors)
    batch = FeedBatch(counts, list(sales.values()), errors)
    check_batch(batch, errors)
    return batch


def _item(row: Row, where: Where, errors: RowErrors) -> ItemRef | None:
    return _item_ref(row.text("sku"), row.text("external_id"), where, errors)


def _item_ref(sku: str | None, external_id: str | None, where: Where, errors: RowErrors) -> ItemRef | None:
    if bool(sku) == bool(external_id):
        errors.add(where.row, where.field("sku"), "give either sku or external_id (one of them)")
        return None
    return ItemRef(sku, external_id)


def _quantity(row: Row, errors: RowErrors, *, minimum: int) -> int | None:
    text = row.text("qty")
    if text is None:
        errors.add(row.number, "qty", "qty is required")
        return None
    try:
        value = whole_number(text)
    except ValueError as exc:
        errors.add(row.number, "qty", str(exc))
        return None
    if value < minimum:
        errors.add(row.number, "qty", f"qty must be at least {minimum}")
        return None
    return value


def _count_row(row: Row, errors: RowErrors) -> CountLine | None:
    where = Where(row.number)
    known = len(errors)
    item = _item(row, where, errors)
    qty = _quantity(row, errors, minimum=0)
    for column in ("sale_id", "status", "sold_at", "unit_price"):
        if row.text(column):
            errors.add(row.number, column, f"a count row has no {column}")
    if item is None or qty is None or len(errors) > known:
        return None  # a row with any error is left out whole
    return CountLine(where, item, qty, row.text("location"))


def _sale_row(row: Row, zone: ZoneInfo, sales: dict[tuple[str, SaleStatus], Sale], errors: RowErrors) -> None:
    where = Where(row.number)
    sale_id = row.text("sale_id")
    status = STATUS_WORDS.get((row.text("status") or "sold").strip().lower())
    if sale_id is None:
        errors.add(row.number, "sale_id", "a sale row needs its sale_id")
    if status is None:
        errors.add(row.number, "status", f"status must be one of {', '.join(SaleStatus)}")
    sold_at = _time(row.text("sold_at"), zone, where.field("sold_at"), where, errors)
    if row.text("location"):
        errors.add(row.number, "location", "a sale row has no location (sales are the feed's own)")
    if sale_id is None or status is None:
        return
    sale = sales.get((sale_id, status))
    if sale is None:
        sale = sales[(sale_id, status)] = Sale(where, sale_id, status, sold_at, row.text("currency"))
    elif row.text("currency") and row.text("currency") != sale.currency:
        errors.add(row.number, "currency", f"sale {sale_id!r} has two currencies")
    if status not in CREATING:
        return  # a cancellation or a return names the sale only
    item = _item(row, where, errors)
    qty = _quantity(row, errors, minimum=1)
    price = _price(row.text("unit_price"), where, errors)
    if item is not None and qty is not None:
        sale.lines.append(SaleLine(where, item, qty, price))


def _time(text: str | None, zone: ZoneInfo, field_name: str, where: Where, errors: RowErrors) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("/", "-"))
    except ValueError:
        try:
            moment = datetime.combine(date.fromisoformat(text), time(0))
        except ValueError:
            errors.add(where.row, field_name, f"{text!r} is not a time such as 2026-11-26 14:30 (ISO 8601)")
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def _price(text: str | None, where: Where, errors: RowErrors) -> Decimal | None:
    if not text:
        return None
    try:
        value = decimal_amount(text)
    except ValueError as exc:
        errors.add(where.row, where.field("unit_price"), str(exc))
        return None
    if value < 0:
        errors.add(where.row, where.field("unit_price"), "unit_price cannot be negative")
        return None
    return value


# --- JSON --------------------------------------------------------------------------------------

Text64 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Text128 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _CountIn(_Body):
    sku: Text64 | None = None
    external_id: Text128 | None = None
    qty: StrictInt = Field(ge=0, le=10_000_000)
    location: Text64 | None = None


class _LineIn(_Body):
    sku: Text64 | None = None
    external_id: Text128 | None = None
    qty: StrictInt = Field(gt=0, le=1_000_000)
    unit_price: Decimal | None = Field(default=None, ge=0, max_digits=18, decimal_places=4)

    @field_validator("unit_price", mode="before")
    @classmethod
    def _money_is_text(cls, value: Any) -> Any:
        if isinstance(value, float):
            raise ValueError("unit_price must be a decimal string such as \"19.90\"")
        return value


class _SaleIn(_Body):
    sale_id: Text128
    status: Literal["sold", "open", "cancelled", "returned"] = "sold"
    sold_at: datetime | None = None
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] | None = None
    lines: list[_LineIn] = Field(default_factory=list, max_length=500)


class _FeedIn(_Body):
    counts: list[_CountIn] = Field(default_factory=list, max_length=100_000)
    sales: list[_SaleIn] = Field(default_factory=list, max_length=100_000)


def parse_json(data: bytes, zone: ZoneInfo) -> FeedBatch:
    errors = RowErrors()
    try:
        body = _FeedIn.model_validate(json.loads(data))
    except ValueError as exc:  # ValidationError is a ValueError too
        if not isinstance(exc, ValidationError):
            raise Invalid("the feed is not valid JSON", field="body") from exc
        for err in exc.errors():
            path = _path(err["loc"])
            message = "is required" if err["type"] == "missing" else err["msg"]
            errors.add(None, path, f"{path} {message}")
        errors.raise_if_any("the feed was refused")
        raise AssertionError("unreachable") from exc
    counts = []
    for i, c in enumerate(body.counts):
        where = Where(None, f"counts[{i}]")
        item = _item_ref(c.sku, c.external_id, where, errors)
        if item is not None:
            counts.append(CountLine(where, item, c.qty, c.location))
    sales = []
    for i, s in enumerate(body.sales):
        where = Where(None, f"sales[{i}]")
        sold_at = s.sold_at if s.sold_at is None or s.sold_at.tzinfo else s.sold_at.replace(tzinfo=zone)
        sale = Sale(where, s.sale_id, SaleStatus(s.status), sold_at, s.currency)
        for j, ln in enumerate(s.lines):
            line_where = Where(None, f"sales[{i}].lines[{j}]")
            item = _item_ref(ln.sku, ln.external_id, line_where, errors)
            if item is not None:
                sale.lines.append(SaleLine(line_where, item, ln.qty, ln.unit_price))
        sales.append(sale)
    batch = FeedBatch(counts, sales, errors)
    check_batch(batch, errors)
    return batch


def _path(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "body"


# --- rules across rows -------------------------------------------------------------------------


def check_batch(batch: FeedBatch, errors: RowErrors) -> None:
    """Rules that span rows: an item counted once, a sale sold once, cancellations without lines."""
    seen_items: dict[ItemRef, Where] = {}
    for line in batch.counts:
        first = seen_items.setdefault(line.item, line.where)
        if first is not line.where:
            errors.add(line.where.row, line.where.field("sku" if line.item.sku else "external_id"),
                       f"{line.item.label} is counted twice (first {_place(first)})")
    creating: dict[str, Sale] = {}
    for sale in batch.sales:
        if sale.status in CREATING:
            if not sale.lines:
                errors.add(sale.where.row, sale.where.field("lines"), f"sale {sale.sale_id!r} has no lines")
            other = creating.setdefault(sale.sale_id, sale)
            if other is not sale:
                errors.add(sale.where.row, sale.where.field("sale_id"),
                           f"sale {sale.sale_id!r} is both {other.status.value} and {sale.status.value}")
        elif sale.lines:
            errors.add(sale.where.row, sale.where.field("lines"),
                       f"a {sale.status.value} sale names the sale only, not its lines")


def _place(where: Where) -> str:
    return f"row {where.row}" if where.row is not None else where.path


def sale_events_order(sales: Sequence[Sale]) -> list[Sale]:
    """Creating sales first, then cancellations and returns, each group in the order given: a feed that
    sells and returns the same sale applies the return to the sale it just took in."""
    return [s for s in sales if s.status in CREATING] + [s for s in sales if s.status not in CREATING]
