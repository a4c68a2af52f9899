"""Mapping many platform items to SKUs at once, from a spreadsheet (CSV/XLSX) or JSON rows: a dry run says
what would be created, updated or left unchanged and lists every bad row; applying writes all rows or none,
set-based. `onboarding.imports.import_listings` runs it with the automatic backup first."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, cast

from sqlalchemy import Row, Table, bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from omnistock.domain.access import Principal
from omnistock.errors import Invalid, NotFound
from omnistock.onboarding.bulk import chunks, insert_rows
from omnistock.onboarding.tabular import Column, RowErrors, read_table, whole_number
from omnistock.services.lookup import channel_by_code, sku_by_code
from omnistock.store.tables import AuditEntry, Sku
from omnistock.store.types import utcnow
from omnistock.sync import dirty
from omnistock.sync.tables import Listing, UnmappedItem

COLUMNS = (
    Column("sku", ("商品编码",)),
    Column("external_id", ("平台商品ID",)),
    Column("pack_size", ("每包数量",), required=False),
    Column("external_sku", ("平台商家编码", "商家编码"), required=False),
)
MAX_PACK = 100_000
LISTINGS = cast(Table, Listing.__table__)
AUDIT = cast(Table, AuditEntry.__table__)
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
    sku_id: int = 0
    listing_id: int | None = None     # the listing an update changes
    external_sku: str | None = None   # what the listing will hold (an update keeps it unless the row gives one)


@dataclass(frozen=True)
class ListingFile:
    rows: list[ListingRow]
    errors: RowErrors
    ignored_headers: tuple[str, ...] = ()  # columns no listing field claims: shown as a warning


@dataclass
class ImportPlan:
    channel: str
    channel_id: int = 0
    items: list[PlannedListing] = field(default_factory=list)
    errors: RowErrors = field(default_factory=RowErrors)
    backup: str | None = None   # the automatic backup taken before applying (onboarding.imports)
    run_id: int | None = None   # the import run recorded when applied
    ignored_headers: tuple[str, ...] = ()  # columns of the file no listing field claims

    @property
    def has_changes(self) -> bool:
        return any(item.action != "unchanged" for item in self.items)

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
    plan = ImportPlan(channel.code, channel.id, errors=errors if errors is not None else RowErrors())
    # Whole tables in one query each rather than one query per row (or an IN list longer than SQLite allows).
    existing = {row.external_id: row for row in session.execute(
        select(Listing.id, Listing.external_id, Listing.sku_id, Listing.pack_size, Listing.external_sku)
        .where(Listing.channel_id == channel.id))}
    sku_ids: dict[str, int | None] = {code: sku_id for code, sku_id in session.execute(select(Sku.code, Sku.id))}
    sku_codes: dict[int, str] = {sku_id: code for code, sku_id in sku_ids.items() if sku_id is not None}
    first_row: dict[str, ListingRow] = {}
    for r in rows:
        earlier = first_row.setdefault(r.external_id, r)
        if earlier is not r:
            place = f"row {earlier.row}" if earlier.row is not None else earlier.path
            plan.errors.add(r.row, r.field("external_id"), f"{r.external_id!r} is mapped twice (first {place})")
            continue
        if r.sku not in sku_ids:
            sku_ids[r.sku] = _other_name(session, r.sku, sku_codes)
        sku_id = sku_ids[r.sku]
        if sku_id is None:
            plan.errors.add(r.row, r.field("sku"), f"unknown SKU {r.sku!r}")
            continue
        plan.items.append(_planned(r, sku_id, sku_codes[sku_id], existing.get(r.external_id), sku_codes))
    return plan


def _other_name(session: Session, code: str, sku_codes: dict[int, str]) -> int | None:
    """A code that is no SKU's may still be another name of one (onboarding's aliases); looked up once per
    code, however many rows use it."""
    try:
        sku = sku_by_code(session, code)
    except NotFound:
        return None
    sku_codes[sku.id] = sku.code
    return sku.id


def _planned(r: ListingRow, sku_id: int, sku_code: str, current: Row[int, str, int, int, str | None] | None,
             sku_codes: dict[int, str]) -> PlannedListing:
    if current is None:
        return PlannedListing(r.row, "create", r.external_id, sku_code, r.pack_size or 1, sku_id=sku_id,
                              external_sku=r.external_sku)
    pack = r.pack_size or current.pack_size
    external_sku = r.external_sku if r.external_sku is not None else current.external_sku
    before = {"sku": sku_codes.get(current.sku_id), "pack_size": current.pack_size,
              "external_sku": current.external_sku}
    changed = current.sku_id != sku_id or pack != current.pack_size or external_sku != current.external_sku
    return PlannedListing(r.row, "update" if changed else "unchanged", r.external_id, sku_code, pack, before,
                          sku_id=sku_id, listing_id=current.id, external_sku=external_sku)


def apply_import(session: Session, channel_code: str, rows: list[ListingRow], principal: Principal,
                 errors: RowErrors | None = None) -> ImportPlan:
    """Write every planned row in the caller's transaction, or refuse the whole file (Invalid)."""
    plan = plan_import(session, channel_code, rows, principal, errors)
    plan.errors.raise_if_any("the listings were not imported")
    write_plan(session, plan, principal)
    return plan


def write_plan(session: Session, plan: ImportPlan, principal: Principal) -> None:
    """Write a checked plan set-based: new listings, changed listings and their audit entries go in as a few
    multi-row statements (a 100,000-row file is not 100,000 round trips), with the same rules and audit trail
    as `sync.listings.create_listing` and a listing changed by hand."""
    now = utcnow()
    new = [i for i in plan.items if i.action == "create"]
    changed = [i for i in plan.items if i.action == "update"]
    created = _insert_listings(session, plan.channel_id, new, now)
    _update_listings(session, changed)
    audit_rows = [_audit_row(plan.channel, "listing.create", i, principal, now,
                             after={"channel": plan.channel, "external_id": i.external_id, "sku": i.sku,
                                    "pack_size": i.pack_size}) for i in new]
    audit_rows += [_audit_row(plan.channel, "listing.update", i, principal, now, before=i.before,
                              after={"sku": i.sku, "pack_size": i.pack_size, "external_sku": i.external_sku},
                              reason="listing import") for i in changed]
    insert_rows(session, AUDIT, audit_rows)
    # A new mapping, or one that now shows another SKU or pack size, must be pushed its quantity at once
    # (new listings are inserted dirty; marking them too wakes the workers).
    touched = [i.listing_id for i in changed if i.listing_id is not None] + created
    for part in chunks(touched):
        dirty.mark_listings(session, Listing.id.in_(list(part)))


def _insert_listings(session: Session, channel_id: int, items: Sequence[PlannedListing], now: datetime) -> list[int]:
    """Insert new listings (the drivers' fast path, no RETURNING) and find their ids again: the channel's ids above
    the largest one before, for the file's items (unique per channel, so a listing someone adds meanwhile is not
    taken for one of ours). A platform item that now has a listing is no longer unmapped."""
    if not items:
        return []
    before = session.scalar(select(func.max(LISTINGS.c.id))) or 0
    insert_rows(session, LISTINGS, [
        {"channel_id": channel_id, "sku_id": i.sku_id, "external_id": i.external_id, "external_sku": i.external_sku,
         "pack_size": i.pack_size, "extra": {}, "created_at": now, "dirty": True, "dirty_since": now,
         "attempts": 0} for i in items])
    for part in chunks([i.external_id for i in items]):
        session.execute(delete(UnmappedItem).where(UnmappedItem.channel_id == channel_id,
                                                   UnmappedItem.external_id.in_(list(part))))
    ours = {i.external_id for i in items}
    return [listing_id for listing_id, external_id in session.execute(
        select(LISTINGS.c.id, LISTINGS.c.external_id).where(LISTINGS.c.channel_id == channel_id,
                                                            LISTINGS.c.id > before)) if external_id in ours]


def _update_listings(session: Session, items: Sequence[PlannedListing]) -> None:
    stmt = (update(LISTINGS).where(LISTINGS.c.id == bindparam("b_id"))
            .values(sku_id=bindparam("b_sku"), pack_size=bindparam("b_pack"), external_sku=bindparam("b_ext")))
    for part in chunks(items):
        session.execute(stmt, [{"b_id": i.listing_id, "b_sku": i.sku_id, "b_pack": i.pack_size,
                                "b_ext": i.external_sku} for i in part])


def _audit_row(channel: str, action: str, item: PlannedListing, principal: Principal, now: datetime, *,
               after: dict[str, Any], before: dict[str, Any] | None = None,
               reason: str | None = None) -> dict[str, Any]:
    return {"at": now, "actor": principal.name, "action": action, "sku_id": item.sku_id, "location_id": None,
            "entity": f"listing:{channel}/{item.external_id}", "before": before, "after": after, "reason": reason}
