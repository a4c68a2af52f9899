"""Request bodies of the watch API (strict: unknown fields are refused)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, StrictBool

from omnistock.api.schemas import Body, Code, Text


class ReconcileIn(Body):
    channel: Code
    heal: StrictBool | None = None  # overrides the channel's setting for this run


class HealIn(Body):
    differences: list[int] = Field(min_length=1, max_length=5000)  # ids from GET /api/v1/reconciliations/{id}


class ReconcileSettingsIn(Body):
    mode: Literal["heal", "alert", "hold"] | None = None
    every_minutes: float | None = Field(default=None, ge=0, le=10_080)  # 0: only on demand


class AckIn(Body):
    note: Text | None = None


class RuleIn(Body):
    enabled: StrictBool | None = None
    settings: dict[str, Any] | None = None


class RoutesIn(Body):
    kinds: list[Code] | None = Field(default=None, max_length=50)
    channels: list[Code] | None = Field(default=None, max_length=500)
    locations: list[Code] | None = Field(default=None, max_length=500)


class NotifierIn(Body):
    code: Code
    kind: Literal["webhook", "dingtalk", "wecom", "feishu", "slack", "email"]
    settings: dict[str, Any]
    routes: RoutesIn | None = None
