"""The spot count (人工抽检) after an import: a random sample of a location's SKUs as an XLSX sheet with what
the ledger says, to be counted by hand; the filled-in sheet imports back as counts (rows left blank are
skipped), through the same checks as a stock file."""

from __future__ import annotations

import io
import random

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import select
from sqlalchemy.orm import Session

from omnistock.domain.access import Principal
from omnistock.errors import Invalid
from omnistock.services.lookup import location_by_code
from omnistock.store.tables import Level, Sku

HEADERS = {"en": ("sku", "name", "location", "expected", "counted"),
           "zh": ("商品编码", "名称", "库位", "账面数量", "实盘数量")}


def sample_sheet(session: Session, principal: Principal, *, location: str, size: int = 30, lang: str = "zh",
                 seed: int | None = None) -> tuple[bytes, int]:
    """(XLSX bytes, SKUs sampled): `size` SKUs with a level at `location`, chosen at random."""
    if size < 1 or size > 10_000:
        raise Invalid("size must be between 1 and 10000", field="size")
    if lang not in HEADERS:
        raise Invalid("lang must be zh or en", field="lang")
    loc = location_by_code(session, location, principal=principal)
    rows = session.execute(select(Sku.code, Sku.name, Level.on_hand).join(Level, Level.sku_id == Sku.id)
                           .where(Level.location_id == loc.id, Sku.is_bundle.is_(False), Sku.active.is_(True))
                           .order_by(Sku.code)).all()
    picked = sorted(random.Random(seed).sample(rows, min(size, len(rows))))
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "抽检" if lang == "zh" else "spot count"
    sheet.append(list(HEADERS[lang]))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for code, name, on_hand in picked:
        sheet.append([code, name, loc.code, on_hand, None])
    for letter, width in zip("ABCDE", (18, 30, 12, 12, 12)):
        sheet.column_dimensions[letter].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), len(picked)
