"""Mapping many listings at once from a file the browser reads (CSV, or tab-separated pasted from a
spreadsheet): a dry run reports every row, an apply writes all rows or none. Each row goes through
`sync.listings.create_listing`, the same rule as a listing added one by one."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from omnistock.domain.access import Principal
from omnistock.errors import Invalid, OmnistockError
from omnistock.store.db import Database
from omnistock.sync.listings import ListingSpec, create_listing

COLUMNS = ("sku", "external_id", "external_sku", "pack_size")
MAX_ROWS = 5000


@dataclass(frozen=True)
class RowResult:
    line: int
    sku: str
    external_id: str
    error: str | None


@dataclass(frozen=True)
class ImportReport:
    rows: list[RowResult]
    applied: bool

    @property
    def errors(self) -> int:
        return sum(1 for r in self.rows if r.error)


def _dialect(text: str) -> str:
    first = text.splitlines()[0] if text.strip() else ""
    return "\t" if "\t" in first else ","


def read_rows(text: str) -> list[tuple[int, ListingSpec | str, str, str]]:
    """(line, spec or the reason the row cannot be read, sku, external id) for each data row."""
    reader = csv.DictReader(io.StringIO(text.strip()), delimiter=_dialect(text))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    if "sku" not in header or "external_id" not in header:
        raise Invalid(f"the first line must name the columns: {', '.join(COLUMNS)} (sku and external_id required)",
                      field="file")
    out: list[tuple[int, ListingSpec | str, str, str]] = []
    for number, raw in enumerate(reader, start=2):
        row = {k.strip().lower(): (v or "").strip() for k, v in raw.items() if k}
        sku, external_id = row.get("sku", ""), row.get("external_id", "")
        if not any(row.values()):
            continue
        pack = row.get("pack_size") or "1"
        if not pack.isdigit() or int(pack) < 1:
            out.append((number, "pack_size must be a whole number of at least 1", sku, external_id))
            continue
        spec = ListingSpec(sku, external_id, row.get("external_sku") or None, int(pack))
        out.append((number, spec, sku, external_id))
        if len(out) > MAX_ROWS:
            raise Invalid(f"at most {MAX_ROWS} rows per file", field="file")
    if not out:
        raise Invalid("the file has no rows", field="file")
    return out


class _DryRun(Exception):
    pass


def import_listings(db: Database, channel: str, text: str, principal: Principal, *, apply: bool) -> ImportReport:
    rows = read_rows(text)
    results: list[RowResult] = []
    try:
        with db.transaction() as session:
            for line, spec, sku, external_id in rows:
                if isinstance(spec, str):
                    results.append(RowResult(line, sku, external_id, spec))
                    continue
                try:
                    with session.begin_nested():
                        create_listing(session, channel, spec, principal)
                    results.append(RowResult(line, sku, external_id, None))
                except OmnistockError as exc:
                    if exc.status == 403:
                        raise
                    results.append(RowResult(line, sku, external_id, exc.message))
            if not apply or any(r.error for r in results):
                raise _DryRun()
    except _DryRun:
        return ImportReport(results, False)
    return ImportReport(results, True)
