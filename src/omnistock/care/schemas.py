"""Request bodies of the complaint desk API. Strict: unknown fields are refused, money is a decimal string."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, Field, StrictBool, StrictInt, StringConstraints, field_validator

from omnistock.api.schemas import Body, Code, CustomerIn

Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(max_length=20_000)]
Key = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9_.:-]{1,64}$")]
IdemKey = Annotated[str, StringConstraints(min_length=1, max_length=120)]
Locale = Literal["zh", "en"]
Priority = Literal["low", "normal", "high", "urgent"]
Channel = Literal["auto", "email", "sms", "chat", "manual"]
MoneyIn = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=4)]


def _no_float(value: Any) -> Any:
    # 19.9 as a JSON number may already have lost a cent: money travels as text.
    if isinstance(value, float):
        raise ValueError("money must be a decimal string such as \"19.90\"")
    return value


class CaseIn(Body):
    category: Code
    subject: Short
    priority: Priority = "normal"
    order_id: StrictInt | None = Field(default=None, gt=0)
    channel: Code | None = None
    external_order_id: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = None
    customer: CustomerIn | None = None
    description: LongText | None = None
    skus: list[Code] = Field(default_factory=list, max_length=100)
    order_value: MoneyIn | None = None
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] | None = None
    locale: Locale | None = None
    team: Code | None = None
    assignee: Short | None = None

    _money = field_validator("order_value", mode="before")(_no_float)


class CasePatchIn(Body):
    category: Code | None = None
    priority: Priority | None = None
    assignee: Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)] | None = None
    team: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)] | None = None
    subject: Short | None = None


class StatusIn(Body):
    status: Literal["new", "open", "waiting_on_customer", "resolved", "closed"]
    note: LongText | None = None


class NoteIn(Body):
    body: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)]


class ReplyIn(Body):
    direction: Literal["outbound", "inbound"] = "outbound"
    body: LongText | None = None
    template: Key | None = None
    subject: Annotated[str, StringConstraints(max_length=300)] | None = None
    channel: Channel = "auto"
    wait: StrictBool = False
    compensation: Annotated[str, StringConstraints(max_length=300)] | None = None


class SendIn(Body):
    channel: Channel = "auto"
    body: LongText | None = None
    subject: Annotated[str, StringConstraints(max_length=300)] | None = None


class CompensationIn(Body):
    kind: Literal["standard", "coupon", "partial_refund", "full_refund", "reship", "gift"] = "standard"
    amount: MoneyIn | None = None
    percent: Annotated[Decimal, Field(gt=0, le=100, max_digits=7, decimal_places=4)] | None = None
    goods_cost: MoneyIn | None = None
    note: LongText | None = None
    idempotency_key: IdemKey | None = None

    _money = field_validator("amount", "percent", "goods_cost", mode="before")(_no_float)


class DecisionIn(Body):
    note: LongText | None = None


class IncidentIn(Body):
    title: Short
    cause: LongText | None = None
    channel: Code | None = None
    skus: list[Code] = Field(default_factory=list, max_length=100)
    started_at: AwareDatetime | None = None
    ended_at: AwareDatetime | None = None
    case_ids: list[StrictInt] = Field(default_factory=list, max_length=5000)


class IncidentPatchIn(Body):
    title: Short | None = None
    cause: LongText | None = None
    fix: LongText | None = None
    started_at: AwareDatetime | None = None
    ended_at: AwareDatetime | None = None


class CaseIdsIn(Body):
    case_ids: list[StrictInt] = Field(min_length=1, max_length=5000)


class BulkMessageIn(Body):
    body: LongText | None = None
    template: Key | None = None
    subject: Annotated[str, StringConstraints(max_length=300)] | None = None
    channel: Channel = "auto"
    idempotency_key: IdemKey | None = None


class ResolveIn(Body):
    fix: LongText | None = None
    note: LongText | None = None


class ArticleIn(Body):
    kind: Literal["sop", "template"]
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
    body: Annotated[str, StringConstraints(min_length=1, max_length=100_000)]
    locale: Locale = "zh"
    category: Code | None = None
    key: Key | None = None
    subject: Annotated[str, StringConstraints(max_length=300)] | None = None
    tags: list[Annotated[str, StringConstraints(min_length=1, max_length=64)]] = Field(default_factory=list,
                                                                                     max_length=50)


class CategoryIn(Body):
    code: Code
    name: Short


Hhmm = Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-4]):[0-5]\d$")]
IsoDate = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$")]


class TeamIn(Body):
    name: Short
    timezone: Annotated[str, StringConstraints(min_length=1, max_length=64)] = "Asia/Shanghai"
    week: list[list[Annotated[list[Hhmm], Field(min_length=2, max_length=2)]]] = Field(min_length=7, max_length=7)
    holidays: list[IsoDate] = Field(default_factory=list, max_length=1000)
    extra_working_days: list[IsoDate] = Field(default_factory=list, max_length=1000)


class PolicyIn(Body):
    category: Code | None = None
    priority: Priority | None = None
    first_response_minutes: StrictInt = Field(gt=0, le=525_600)
    resolution_minutes: StrictInt = Field(gt=0, le=525_600)
    near_breach_at: Annotated[Decimal, Field(gt=0, lt=1, max_digits=4, decimal_places=3)] = Decimal("0.8")

    _share = field_validator("near_breach_at", mode="before")(_no_float)


class PoliciesIn(Body):
    policies: list[PolicyIn] = Field(max_length=500)


class ProactiveRuleIn(Body):
    enabled: StrictBool = True
    category: Code = "out_of_stock"
    priority: Priority = "high"
    template: Key = "oversell_apology"
    locale: Locale | None = None


class LimitsIn(Body):
    limits: dict[Literal["admin", "operator", "agent"], MoneyIn | None]

    @field_validator("limits", mode="before")
    @classmethod
    def _no_floats(cls, value: Any) -> Any:
        if isinstance(value, dict) and any(isinstance(v, float) for v in value.values()):
            raise ValueError("limits are decimal strings such as \"50\" (or null for no limit)")
        return value


class RuleIn(Body):
    id: Code
    category: Code
    kind: Literal["coupon", "partial_refund", "full_refund", "reship", "gift"]
    min_order_value: MoneyIn = Decimal(0)
    max_order_value: MoneyIn | None = None
    amount: MoneyIn | None = None
    percent: Annotated[Decimal, Field(gt=0, le=100, max_digits=7, decimal_places=4)] | None = None
    cap: MoneyIn | None = None
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = "CNY"

    _money = field_validator("min_order_value", "max_order_value", "amount", "percent", "cap",
                             mode="before")(_no_float)


class RulesIn(Body):
    rules: list[RuleIn] = Field(max_length=500)


class SenderIn(Body):
    enabled: StrictBool = True
    config: dict[str, Any] = Field(default_factory=dict)
