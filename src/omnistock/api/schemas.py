"""Request bodies. Strict types: a quantity of "3" or 3.5 is refused, not coerced."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StringConstraints, field_validator

Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Text = Annotated[str, StringConstraints(max_length=2000)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ComponentIn(Body):
    sku: Code
    qty: StrictInt = Field(gt=0)


class SkuIn(Body):
    code: Code
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    unit: Annotated[str, StringConstraints(min_length=1, max_length=16)] = "pcs"
    barcode: Annotated[str, StringConstraints(max_length=32)] | None = None
    safety_stock: StrictInt = Field(default=0, ge=0)
    active: StrictBool = True
    components: list[ComponentIn] = Field(default_factory=list, max_length=100)


class SkuPatch(Body):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = None
    unit: Annotated[str, StringConstraints(min_length=1, max_length=16)] | None = None
    barcode: Annotated[str, StringConstraints(max_length=32)] | None = None
    safety_stock: StrictInt | None = Field(default=None, ge=0)
    active: StrictBool | None = None
    reason: Text | None = None


class LocationIn(Body):
    code: Code
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    kind: Literal["warehouse", "store", "distributor"]
    sellable: StrictBool = True


class MoveIn(Body):
    sku: Code
    location: Code
    kind: Literal["receipt", "adjustment", "count", "transfer", "return"]
    qty: StrictInt
    to_location: Code | None = None
    reason: Text | None = None
    reference: Annotated[str, StringConstraints(max_length=200)] | None = None
    idempotency_key: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    # The batch (lot) the units are of; an expiry alone names the batch after that day. A new batch keeps the
    # expiry it is received with.
    batch: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)] | None = None
    expiry: date | None = None


class ChannelIn(Body):
    code: Code
    kind: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    name: Annotated[str, StringConstraints(max_length=200)] | None = None
    settings: dict[str, Any] | None = None


class CustomerIn(Body):
    name: Annotated[str, StringConstraints(max_length=200)] | None = None
    phone: Annotated[str, StringConstraints(max_length=64)] | None = None
    email: Annotated[str, StringConstraints(max_length=200)] | None = None


class OrderLineIn(Body):
    sku: Code
    qty: StrictInt = Field(gt=0, le=1_000_000)
    unit_price: Decimal | None = Field(default=None, ge=0, max_digits=18, decimal_places=4)

    @field_validator("unit_price", mode="before")
    @classmethod
    def _money_is_text(cls, value: Any) -> Any:
        # Money is never a float: 19.9 as a JSON number may already have lost a cent.
        if isinstance(value, float):
            raise ValueError("unit_price must be a decimal string such as \"19.90\"")
        return value


class OrderIn(Body):
    channel: Code
    external_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
    lines: list[OrderLineIn] = Field(min_length=1, max_length=500)
    customer: CustomerIn | None = None
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] | None = None


class ReasonIn(Body):
    reason: Text | None = None


class TokenIn(Body):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    role: Literal["admin", "operator", "agent", "viewer"]
    locations: list[Code] | None = None
    channels: list[Code] | None = None
