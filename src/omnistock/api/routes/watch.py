"""The watch: reconciliations, alerts and rules, notifiers, a SKU's trace, the weekly sync report.
Importing omnistock.watch registers its hooks (held orders, intake holds, the worker's jobs)."""

from __future__ import annotations

from fastapi import APIRouter

import omnistock.watch  # noqa: F401  (registers the hooks)
from omnistock.watch.routes import alerts, insight, notifiers, reconciliations

router = APIRouter()
for _module in (reconciliations, alerts, notifiers, insight):
    router.include_router(_module.router)
