"""Request bodies of purchasing and money. Money is a decimal string (or an integer), never a float: 19.9
as a JSON number may already have lost a cent."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, StrictBool, StrictInt, StringConstraints

from omnistock.api.schemas import Body, Code, Text


def _no_float(value: Any) -> Any:
    if isinstance(value, float):
        raise ValueError("must be a decimal string such as \"12.50\", not a JSON number with a fraction")
    if isinstance(value, bool):
        raise ValueError("must be a decimal string such as \"12.50\"")
    return value


Amount = Annotated[Decimal, BeforeValidator(_no_float), Field(allow_inf_nan=False, max_digits=24, decimal_places=6)]
Percent = Annotated[Decimal, BeforeValidator(_no_float), Field(ge=0, le=100, allow_inf_nan=False, decimal_places=4)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Qty = Annotated[StrictInt, Field(gt=0, le=10_000_000)]


class SupplierIn(Body):
    code: Code
    name: Name
    currency: Currency | None = None
    lead_time_days: StrictInt = Field(default=0, ge=0, le=365)
    contact: Text | None = None
    over_receipt_percent: Percent = Decimal(0)


class SupplierPatch(Body):
    name: Name | None = None
    currency: Currency | None = None
    lead_time_days: StrictInt | None = Field(default=None, ge=0, le=365)
    contact: Text | None = None
    over_receipt_percent: Percent | None = None


class SkuSupplierIn(Body):
    supplier: Code
    unit_cost: Annotated[Amount, Field(ge=0)] | None = None


class PoLineIn(Body):
    sku: Code
    qty: Qty
    unit_cost: Annotated[Amount, Field(ge=0)]
    currency: Currency | None = None  # default: the PO's


class PoIn(Body):
    supplier: Code
    currency: Currency | None = None
    location: Code | None = None
    status: Literal["draft", "ordered"] = "ordered"
    note: Text | None = None
    lines: list[PoLineIn] = Field(min_length=1, max_length=500)


class QtyLineIn(Body):
    sku: Code
    qty: Qty


class DeliveryIn(Body):
    location: Code
    lines: list[QtyLineIn] = Field(min_length=1, max_length=500)
    reason: Text | None = None


class RateIn(Body):
    day: date
    currency: Currency
    rate: Annotated[Decimal, BeforeValidator(_no_float), Field(gt=0, allow_inf_nan=False, decimal_places=10)]


class TermsIn(Body):
    fee_percent: Percent | None = None
    presale: StrictBool | None = None


class DraftIn(Body):
    window_days: StrictInt = Field(default=28, ge=1, le=365)
    cover_days: StrictInt = Field(default=14, ge=0, le=365)
