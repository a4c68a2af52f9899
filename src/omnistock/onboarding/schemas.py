"""Request bodies of the onboarding API (strict: a factor of "12" or 1.5 is refused, not coerced)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints

Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UnitIn(Body):
    code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=16)]
    factor: StrictInt = Field(gt=0)
    base: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=16)]
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)] | None = None


class AliasIn(Body):
    sku: Code
    alias: Code
    source: Annotated[str, StringConstraints(max_length=32)] = "manual"


class MergeIn(Body):
    survivor: Code
    duplicate: Code
    reason: Reason


class RepairIn(Body):
    reason: Reason
    qty: StrictInt | None = Field(default=None, ge=0)
