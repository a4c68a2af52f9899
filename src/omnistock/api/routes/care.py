"""The complaint desk: /api/v1/cases, /api/v1/incidents, /api/v1/kb, /api/v1/care (reports and settings),
/api/v1/compensations and /api/v1/escalations. Importing omnistock.care registers the proactive-case hook."""

from __future__ import annotations

from fastapi import APIRouter

import omnistock.care  # noqa: F401  (registers the hook on held orders)
from omnistock.care.routes import cases, desk, incidents, kb, money

router = APIRouter()
for _module in (cases, money, incidents, kb, desk):
    router.include_router(_module.router)
