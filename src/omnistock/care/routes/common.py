"""What every care route needs: the callers allowed to change cases or settings, and the zone and
settings of the app."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends, Request

from omnistock.api.deps import require
from omnistock.config import Settings
from omnistock.domain.access import Permission, Principal

CaseWriter = Annotated[Principal, Depends(require(Permission.CASES_WRITE))]
ConfigWriter = Annotated[Principal, Depends(require(Permission.CONFIG_WRITE))]


def zone_of(request: Request) -> ZoneInfo:
    settings: Settings = request.app.state.settings
    return settings.zone


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings
