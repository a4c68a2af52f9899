"""Downloadable import templates: the header row in English or Chinese, as CSV (UTF-8 with a BOM, so Excel
shows the Chinese right) or XLSX (with a second sheet explaining each column; only the first sheet is read)."""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook
from openpyxl.styles import Font

from omnistock.errors import Invalid
from omnistock.onboarding.columns import KINDS

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"

# The template columns; the optional unit and location columns of a stock file are explained only.
TEMPLATE_COLUMNS = {
    "catalogue": ("code", "name", "unit", "barcode", "safety_stock", "components"),
    "stock": ("sku", "qty", "batch", "expiry"),
    "listings": ("sku", "external_id", "pack_size"),
}

HELP = {
    "en": {
        "code": "Your SKU code (letters, digits, . _ - /). An existing code (or alias) is updated.",
        "name": "Product name, required for a new SKU.",
        "unit": "pcs, box, kg, g or a unit you defined; blank: pcs for a new SKU, unchanged for an existing one.",
        "barcode": "EAN-8, UPC-A, EAN-13 or GTIN-14 with its check digit; one SKU per barcode.",
        "safety_stock": "Units never shown to platforms (whole number, 0 or more).",
        "components": "Only for bundles: SKU*qty;SKU*qty, e.g. TEA-001*2;CUP-01*1.",
        "sku": "Our SKU code or one of its aliases.",
        "qty": "Counted quantity (whole, 0 or more). Optional extra column unit converts it (3 box = 36 pcs).",
        "batch": "Batch / lot number, if you track them.",
        "expiry": "Expiry date, as 2025-01-31.",
        "external_id": "The platform's product (or SKU) id.",
        "pack_size": "Units of our SKU one platform item sells (default 1).",
        "location": "Optional extra column: the location code, instead of --location.",
    },
    "zh": {
        "code": "商品编码（字母、数字、. _ - /）。已有编码（或别名）将被更新。",
        "name": "商品名称，新商品必填。",
        "unit": "个、箱、千克、克或自定义单位；留空：新商品为“个”，已有商品不变。",
        "barcode": "EAN-8、UPC-A、EAN-13 或 GTIN-14（含校验位）；一个条码只属于一个商品。",
        "safety_stock": "不向平台展示的安全库存（0 或正整数）。",
        "components": "仅组合商品填写：编码*数量;编码*数量，例如 TEA-001*2;CUP-01*1。",
        "sku": "商品编码或其别名。",
        "qty": "盘点数量（0 或正整数）。可加“单位”列按单位换算（3 箱 = 36 个）。",
        "batch": "批次号（如有）。",
        "expiry": "有效期，例如 2025-01-31。",
        "external_id": "平台商品 ID（或 SKU ID）。",
        "pack_size": "每个平台商品包含的本商品数量（默认 1）。",
        "location": "可选列：库位编码，代替 --location。",
    },
}


def headers(kind: str, lang: str) -> list[str]:
    columns = {c.name: c for c in KINDS[kind]}
    return [name if lang == "en" else columns[name].aliases[0] for name in TEMPLATE_COLUMNS[kind]]


def template(kind: str, lang: str = "zh", fmt: str = "xlsx") -> tuple[bytes, str, str]:
    """(file bytes, media type, file name) of the template."""
    if kind not in TEMPLATE_COLUMNS:
        raise Invalid(f"kind must be one of {', '.join(TEMPLATE_COLUMNS)}", field="kind")
    if lang not in HELP:
        raise Invalid("lang must be zh or en", field="lang")
    if fmt not in ("csv", "xlsx"):
        raise Invalid("format must be csv or xlsx", field="format")
    name = f"omnistock-{kind}-{lang}.{fmt}"
    if fmt == "csv":
        out = io.StringIO()
        csv.writer(out).writerow(headers(kind, lang))
        return out.getvalue().encode("utf-8-sig"), CSV, name
    return _xlsx(kind, lang), XLSX, name


def _xlsx(kind: str, lang: str) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = kind
    sheet.append(headers(kind, lang))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        # Codes and barcodes stay text: Excel would otherwise turn 6901234567892 into 6.90123E+12.
        sheet.column_dimensions[cell.column_letter].number_format = "@"
        sheet.column_dimensions[cell.column_letter].width = 18
    notes = book.create_sheet("说明" if lang == "zh" else "help")
    shown = [*TEMPLATE_COLUMNS[kind], *(("location",) if kind == "stock" else ())]
    for name, header in zip(shown, [*headers(kind, lang), "库位" if lang == "zh" else "location"]):
        notes.append([header, HELP[lang][name]])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
