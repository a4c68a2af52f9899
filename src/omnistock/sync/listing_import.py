"""Mapping many platform items to SKUs at once, from a spreadsheet (CSV/XLSX) or JSON rows: a dry run says
what would be created, updated or left unchanged and lists every bad row; applying writes all rows or none."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from omnistock.domain.access import Principal
from omnistock.errors import Invalid, NotFound
from omnistock.onboarding.tabular import Column, RowErrors, read_table, whole_number
from omnistock.services import audit
from omnistock.services.lookup import channel_by_code, sku_by_code
from omnistock.store.tables import Channel, Sku
from omnistock.sync import dirty
from omnistock.sync.listings import ListingSpec, create_listing
from omnistock.sync.tables import Listing

COLUMNS = (
    Column("sku", ("商品编码",)),
    Column("external_id", ("平台商品ID",)),
    Column("pack_size", ("每包数量",), required=False),
    Column("external_sku", ("平台商家编码", "商家编码"), required=False),
)
MAX_PACK = 100_000
Action = Literal["create", "update", "unchanged"]


@dataclass(frozen=True)
class ListingRow:
    row: int | None   # spreadsheet row (header = 1); None for JSON rows, named by `path`
    path: str         # "" for a spreadsheet, "rows[3]" for JSON
    sku: str
    external_id: str
    pack_size: int | None  # None: 1 for a new listing, unchanged for an existing one
    external_sku: str | None

    def field(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name


@dataclass(frozen=True)
class PlannedListing:
    row: int | None
    action: Action
    external_id: str
    sku: str
    pack_size: int
    before: dict[str, Any] | None = None


@dataclass(frozen=True)
class ListingFile:
    rows: list[ListingRow]
    errors: RowErrors
    ignored_headers: tuple[str, ...] = ()  # columns no listing field claims: shown as a warning


@dataclass
class ImportPlan:
    channel: str
    items: list[PlannedListing] = field(default_factory=list)
    errors: RowErrors = field(default_factory=RowErrors)

    def count(self, action: Action) -> int:
        return sum(1 for item in self.items if item.action == action)


# --- reading -----------------------------------------------------------------------------------


def read_rows(data: bytes, *, content_type: str | None = None, filename: str | None = None) -> ListingFile:
    """Rows of a CSV/XLSX file or a JSON body (`{"rows": [...]}` or a bare list), each checked on its own."""
    errors = RowErrors()
    if not data.strip():
        raise Invalid("the file is empty", field="file")
    if _is_json(data, content_type, filename):
        return ListingFile(_json_rows(data, errors), errors)
    table = read_table(data, COLUMNS, filename=filename, content_type=content_type)
    rows = []
    for r in table.rows:
        row = _row(r.number, "", r.text("sku"), r.text("external_id"), r.text("pack_size"), r.text("external_sku"),
                   errors)
        if row is not None:
            rows.append(row)
    return ListingFile(rows, errors, table.ignored_headers)


def _is_json(data: bytes, content_type: str | None, filename: str | None) -> bool:
    if content_type and "json" in content_type.lower():
        return True
    if (filename or "").lower().endswith(".json"):
        return True
    return not content_type and not filename and data.lstrip()[:1] in (b"{", b"[")


def _json_rows(data: bytes, errors: RowErrors) -> list[ListingRow]:
    try:
        body = json.loads(data)
    except ValueError as exc:
        raise Invalid("the body is not valid JSON", field="body") from exc
    items = body.get("rows") if isinstance(body, dict) else body
    if not isinstance(items, list):
        raise Invalid('send {"rows": [{"sku": ..., "external_id": ..., "pack_size": ...}]}', field="rows")
    rows = []
    for i, item in enumerate(items):
        path = f"rows[{i}]"
        if not isinstance(item, dict):
            errors.add(None, path, f"{path} must be an object")
            continue
        unknown = set(item) - {c.name for c in COLUMNS}
        for name in sorted(unknown):
            errors.add(None, f"{path}.{name}", f"{path}.{name} is not a listing field")
        pack = item.get("pack_size")
        if pack is not None and (isinstance(pack, bool) or not isinstance(pack, int)):
            errors.add(None, f"{path}.pack_size", f"{path}.pack_size must be a whole number")
            continue
        row = _row(None, path, _text(item.get("sku")), _text(item.get("external_id")),
                   None if pack is None else str(pack), _text(item.get("external_sku")), errors)
        if row is not None:
            rows.append(row)
    return rows


def _text(value: object) -> str | None:
    if value is None:
        return None
    return str(value).strip() or None


def _row(number: int | None, path: str, sku: str | None, external_id: str | None, pack: str | None,
         external_sku: str | None, errors: RowErrors) -> ListingRow | None:
    def where(name: str) -> str:
        return f"{path}.{name}" if path else name
    ok = True
    if not sku:
        errors.add(number, where("sku"), "sku is empty")
        ok = False
    if not external_id:
        errors.add(number, where("external_id"), "external_id is empty")
        ok = False
    elif len(external_id) > 128:
        errors.add(number, where("external_id"), "external_id is longer than 128 characters")
        ok = False
    pack_size = None
    if pack:
        try:
            pack_size = whole_number(pack)
        except ValueError as exc:
            errors.add(number, where("pack_size"), str(exc))
            return None
        if not 1 <= pack_size <= MAX_PACK:
            errors.add(number, where("pack_size"), f"pack_size must be between 1 and {MAX_PACK}")
            return None
    if external_sku and len(external_sku) > 128:
        errors.add(number, where("external_sku"), "external_sku is longer than 128 characters")
        ok = False
    if not ok or sku is None or external_id is None:
        return None
    return ListingRow(number, path, sku, external_id, pack_size, external_sku)


# --- planning and applying ---------------------------------------------------------------------


def plan_import(session: Session, channel_code: str, rows: list[ListingRow], principal: Principal,
                errors: RowErrors | None = None) -> ImportPlan:
    """What applying the rows would do; bad rows are in `plan.errors` (nothing is written here)."""
    channel = channel_by_code(session, channel_code, principal=principal)
    plan = ImportPlan(channel.code, errors=errors if errors is not None else RowErrors())
    # Whole tables rather than one query per row (or an IN list longer than SQLite allows).
    existing = {lst.external_id: lst for lst in session.scalars(
        select(Listing).where(Listing.channel_id == channel.id))}
    skus = {sku.code: sku for sku in session.scalars(select(Sku))}
    sku_codes = {sku.id: code for code, sku in skus.items()}
    first_row: dict[str, ListingRow] = {}
    for r in rows:
        earlier = first_row.setdefault(r.external_id, r)
        if earlier is not r:
            place = f"row {earlier.row}" if earlier.row is not None else earlier.path
            plan.errors.add(r.row, r.field("external_id"), f"{r.external_id!r} is mapped twice (first {place})")
            continue
        sku = skus.get(r.sku) or _sku(session, r, plan.errors)
        if sku is None:
            continue
        plan.items.append(_planned(r, sku, existing.get(r.external_id), sku_codes))
    return plan


def _sku(session: Session, r: ListingRow, errors: RowErrors) -> Sku | None:
    """A code that is no SKU's may still be another name of one (onboarding's aliases)."""
    try:
        return sku_by_code(session, r.sku)
    except NotFound:
        errors.add(r.row, r.field("sku"), f"unknown SKU {r.sku!r}")
        return None


def _planned(r: ListingRow, sku: Sku, current: Listing | None, sku_codes: dict[int, str]) -> PlannedListing:
    if current is None:
        return PlannedListing(r.row, "create", r.external_id, sku.code, r.pack_size or 1)
    pack = r.pack_size or current.pack_size
    before = {"sku": sku_codes.get(current.sku_id), "pack_size": current.pack_size,
              "external_sku": current.external_sku}
    changed = (current.sku_id != sku.id or pack != current.pack_size
               or (r.external_sku is not None and r.external_sku != current.external_sku))
    return PlannedListing(r.row, "update" if changed else "unchanged", r.external_id, sku.code, pack, before)


def apply_import(session: Session, channel_code: str, rows: list[ListingRow], principal: Principal,
                 errors: RowErrors | None = None) -> ImportPlan:
    """Write every planned row in the caller's transaction, or refuse the whole file (Invalid)."""
    plan = plan_import(session, channel_code, rows, principal, errors)
    plan.errors.raise_if_any("the listings were not imported")
    channel = channel_by_code(session, channel_code, principal=principal)
    by_id = {r.external_id: r for r in rows}
    updated: list[int] = []
    for item in plan.items:
        row = by_id[item.external_id]
        if item.action == "create":
            create_listing(session, channel.code, ListingSpec(item.sku, item.external_id, row.external_sku,
                                                              item.pack_size), principal)
        elif item.action == "update":
            updated.append(_update(session, channel, item, row, principal))
    if updated:
        # A listing that now shows another SKU or pack size must be pushed its new quantity.
        dirty.mark_listings(session, Listing.id.in_(updated))
    return plan


def _update(session: Session, channel: Channel, item: PlannedListing, row: ListingRow, principal: Principal) -> int:
    listing = session.scalar(select(Listing).where(Listing.channel_id == channel.id,
                                                   Listing.external_id == item.external_id))
    assert listing is not None  # planned in this same transaction
    sku = sku_by_code(session, item.sku)
    listing.sku_id, listing.pack_size = sku.id, item.pack_size
    if row.external_sku is not None:
        listing.external_sku = row.external_sku
    session.flush()
    audit.record(session, actor=principal.name, action="listing.update", sku_id=sku.id,
                 entity=f"listing:{channel.code}/{listing.external_id}", before=item.before,
                 after={"sku": sku.code, "pack_size": listing.pack_size, "external_sku": listing.external_sku},
                 reason="listing import")
    return listing.id
